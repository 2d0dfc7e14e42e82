"""`notify-failure UNIT` and `notify-recovery UNIT`: tell people, without flooding them.

systemd starts ticketing-cron-failure@UNIT.service through OnFailure= with the
failed unit's $MONITOR_* variables (systemd >= 251), and
ticketing-cron-recovery@UNIT.service through OnSuccess=, but only while a failure
streak is on record (a ConditionPathExists= on the state file), so that the
every-minute success path costs no extra process.
"""

import socket
import time

from ticketing_cron.alerts import policy as alert_policy
from ticketing_cron.alerts.delivery import deadline, deliver
from ticketing_cron.alerts.message import compose, runs, span, when
from ticketing_cron.alerts.marks import (LOCK_WAIT_S, interrupted, marked, save, settle,
                                         warn_unlocked)
from ticketing_cron.alerts.state import clear_state, load_state, locked, state_dir, state_path
from ticketing_cron.config.load import read_toml
from ticketing_cron.config.keys import DEFAULT_JOB
from ticketing_cron.config.url_secrets import webhook_url_of
from ticketing_cron.config.validate import AlertsConfig, is_job_name, table, validate_alerts
from ticketing_cron.base.errors import EXIT_STATUS, CronError, Interrupted
from ticketing_cron.base.catalog import for_alert

OUTCOME_BY_STATUS = {str(status): outcome for outcome, status in EXIT_STATUS.items()}
# The handler units' TimeoutStartSec= is 55 s: the deadline leaves time to log, and
# to take back an undelivered alert's mark (LOCK_WAIT_S at most).
HANDLER_DEADLINE_S = 44
# Channels are given until this much before the alarm, which stops only what
# ignores its own time limit (a webhook that trickles its reply).
ALARM_MARGIN_S = 2


def failure_from_environ(unit, environ):
    """What systemd says about the failed run.

    Args:
        unit: the failed unit's name.
        environ: a mapping holding MONITOR_SERVICE_RESULT, MONITOR_EXIT_CODE,
            MONITOR_EXIT_STATUS and MONITOR_INVOCATION_ID (any may be missing).
    Returns:
        dict with unit, result, exit_code, exit_status, invocation_id and outcome
        (a name from the exit-status table, "killed" for a signal, or "unknown").
    """
    result = environ.get("MONITOR_SERVICE_RESULT") or "unknown"
    exit_code = environ.get("MONITOR_EXIT_CODE") or "unknown"
    exit_status = environ.get("MONITOR_EXIT_STATUS") or ""
    if result == "timeout":
        outcome = "timeout"
    elif exit_code == "exited":
        outcome = OUTCOME_BY_STATUS.get(exit_status, "unknown")
    elif exit_code in ("killed", "dumped"):
        outcome = "killed"
    else:
        outcome = "unknown"
    return {"unit": unit, "result": result, "exit_code": exit_code,
            "exit_status": exit_status, "invocation_id":
            environ.get("MONITOR_INVOCATION_ID") or "", "outcome": outcome}


def describe_failure(failure):
    """One line: what failed, why in systemd's words, and how to look."""
    how = failure["exit_code"]
    if failure["exit_status"]:
        how += f" {failure['exit_status']}"
    unit = failure["unit"]
    return (f"{unit} failed: {failure['outcome']} (result {failure['result']}, {how}); "
            f"look with: journalctl -u {unit} -n 20; systemctl status {unit}")


def job_of_unit(unit):
    """The job a packaged unit runs (sla-check for ticketing-cron.service, NAME for
    ticketing-cron@NAME.service), or None for another unit."""
    if unit == "ticketing-cron.service":
        return DEFAULT_JOB
    name = unit[len("ticketing-cron@"):-len(".service")]
    if unit.startswith("ticketing-cron@") and unit.endswith(".service") and is_job_name(name):
        return name
    return None


def failure_event(failure, record):
    """The streak's view of one failed run: from its record (run_record's validated
    fields), else from systemd's words (the journal lost the record, or never had it:
    journald stopped, its disk full)."""
    if record is None:
        return {"outcome": failure["outcome"], "message": describe_failure(failure),
                "http_status": None, "job": job_of_unit(failure["unit"])}
    prefix = f"{record['JOB']} {record['OUTCOME']}: "
    message = record["MESSAGE"]
    status = int(record["HTTP_STATUS"])
    return {"outcome": record["OUTCOME"], "job": record["JOB"],
            "message": message[len(prefix):] if message.startswith(prefix) else message,
            "http_status": status or None}


def load_alert_settings(config_path):
    """The [alerts] table alone, so that a broken [api] table does not silence alerts,
    with the webhook URL from its own file (config.url_secrets) when there is one.

    Returns:
        (AlertsConfig, problem text or None).
    """
    problems = []
    try:
        data = read_toml(config_path)
    except CronError as e:
        settings = AlertsConfig()
        problems.append(e.message)
    else:
        settings = validate_alerts(table(data, "alerts", problems, default={}), problems)
    # The webhook's own file still works when the config is broken.
    url, more = webhook_url_of(settings, config_path)
    problems.extend(more)
    return settings._replace(webhook_url=url), "; ".join(problems) or None


def notify_failure(unit, log, environ, config_path):
    """Count a failed run of ``unit`` and alert if the rules say so.

    The streak is saved before any channel is tried (a handler killed while
    delivering has still counted the run, and its alert is sent again by the next
    one: alerts.marks), under the lock shared with the recovery handler, and the
    whole run is bounded by HANDLER_DEADLINE_S.

    Returns:
        0; 78 if the [alerts] settings are invalid; 69 if a configured channel failed,
        the state could not be saved or the deadline passed.
    """
    deadline_at = time.monotonic() + HANDLER_DEADLINE_S - ALARM_MARGIN_S
    try:
        with deadline(HANDLER_DEADLINE_S):
            status, delivered = failure_handler(unit, log, environ, config_path,
                                                deadline_at)
    except Interrupted as e:
        log.record(f"{unit}: {e.message} before the alert handler finished", "err", {})
        return EXIT_STATUS["unavailable"]
    if delivered:  # after the deadline's alarm: this must not be cut short
        status = settle(*delivered, log) or status
    return status


def failure_handler(unit, log, environ, config_path, deadline_at):
    """notify_failure's work, inside its deadline.

    Returns:
        (exit status, None or the (path, state, kind, now, reached) of an alert sent,
        for marks.settle).
    """
    from ticketing_cron.alerts.run_record import find_run_record

    failure = failure_from_environ(unit, environ)
    event = failure_event(failure, find_run_record(unit, failure))
    settings, settings_problem = load_alert_settings(config_path)
    if settings_problem:
        log.record(f"alerts: {settings_problem}; alerting through the journal only until it "
                   f"is fixed", "err", {})
    path = state_path(state_dir(environ), unit)
    now = time.time()
    with locked(path, LOCK_WAIT_S) as held:
        warn_unlocked(held, path, log)
        state, state_problem = load_state(path)
        if state_problem:
            log.record(state_problem, "warning", {})
        if state and state.get("delivering") == alert_policy.RECOVERY:
            state = None  # a good run ended that streak; this failure begins a new one
        state = alert_policy.record_failure(state, event, now)
        kind = alert_policy.alert_due(state, now, settings.alert_after,
                                      settings.repeat_interval_s) or \
            interrupted(state, unit, log)
        unsaved = save(path, marked(state, kind, now) if kind else state, log)
    words = (kind or alert_policy.REMINDER, state, unit, socket.gethostname(), now,
             settings.repeat_interval_s)
    (subject, text, fields), chat = compose(*words), compose(*words, chat=True)[:2]
    fields.update(FAILED_INVOCATION_ID=failure["invocation_id"],
                  SERVICE_RESULT=failure["result"], EXIT_STATUS=failure["exit_status"])
    if unsaved:
        note = (f"\nThe alert state could not be saved ({unsaved}): until it can, "
                f"alerts may repeat.\n")
        text, chat = text + note, (chat[0], chat[1] + note)
        fields.update(STATE_PROBLEM=unsaved)
    failed, delivered = [], None
    if kind:
        failed, reached = deliver((subject, text, fields), chat, settings, log, deadline_at)
        delivered = None if unsaved else (path, state, kind, now, reached)
    else:
        log.record(quiet_line(state, unit, settings, now), "warning",
                   dict(fields, ALERT="suppressed", MESSAGE_ID=for_alert("suppressed")))
    if settings_problem:
        return EXIT_STATUS["config"], delivered
    return (EXIT_STATUS["unavailable"] if failed or unsaved else 0), delivered


def quiet_line(state, unit, settings, now):
    """Why a failure did not alert: below alert_after, or reminded recently."""
    count = state["consecutive_failures"]
    head = (f"{unit} failed: {state['last_outcome']} ({runs(count)} in a row since "
            f"{when(state['first_failure_at'])})")
    if state["last_alert_at"] is None:
        return f"{head}; no alert until {settings.alert_after} in a row (alerts.alert_after)"
    next_at = state["last_alert_at"] + settings.repeat_interval_s
    return f"{head}; already alerted, next reminder in {span(next_at - now)}"


def notify_recovery(unit, log, environ, config_path):
    """After a success: announce the end of an alerted streak once, and forget it.

    The streak is kept, marked "delivering" a recovery, until the notice has reached
    a channel (under the lock shared with the failure handler): a notice that reaches
    no channel, or whose handler dies, is sent again after the next good run, unless a
    failed run has begun a new streak meanwhile.

    Returns:
        0; 69 if a configured channel failed or the deadline passed.
    """
    deadline_at = time.monotonic() + HANDLER_DEADLINE_S - ALARM_MARGIN_S
    try:
        with deadline(HANDLER_DEADLINE_S):
            status, delivered = recovery_handler(unit, log, environ, config_path,
                                                 deadline_at)
    except Interrupted as e:
        log.record(f"{unit}: {e.message} before the recovery handler finished", "err", {})
        return EXIT_STATUS["unavailable"]
    if delivered:  # after the deadline's alarm: this must not be cut short
        path, state = delivered
        with locked(path, LOCK_WAIT_S) as held:
            warn_unlocked(held, path, log)
            current, _ = load_state(path)
            if current and current.get("delivering") == alert_policy.RECOVERY and \
                    current["first_failure_at"] == state["first_failure_at"]:
                clear_state(path)
    return status


def recovery_handler(unit, log, environ, config_path, deadline_at):
    """notify_recovery's work, inside its deadline.

    Returns:
        (exit status, None or the (path, state) of a notice that reached a channel,
        whose streak is to be forgotten).
    """
    path = state_path(state_dir(environ), unit)
    with locked(path, LOCK_WAIT_S) as held:
        warn_unlocked(held, path, log)
        state, problem = load_state(path)
        if not alert_policy.recovery_due(state) or \
                save(path, dict(state, delivering=alert_policy.RECOVERY), log):
            clear_state(path)  # nothing to announce, or no room to mark it: forget now
    if not alert_policy.recovery_due(state):
        if state or problem:
            log.record(f"{unit} succeeded; its failure streak ended before any alert",
                       "info", {})
        return 0, None
    settings, _ = load_alert_settings(config_path)
    now = time.time()
    words = (alert_policy.RECOVERY, state, unit, socket.gethostname(), now,
             settings.repeat_interval_s)
    failed, reached = deliver(compose(*words), compose(*words, chat=True)[:2], settings, log,
                              deadline_at, priority="notice")
    if not reached:
        log.record("the recovery notice reached no configured channel; it is sent again "
                   "after the next good run", "err", {})
        return EXIT_STATUS["unavailable"], None
    return (EXIT_STATUS["unavailable"] if failed else 0), (path, state)
