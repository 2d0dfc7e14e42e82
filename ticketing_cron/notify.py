"""`notify-failure UNIT` and `notify-recovery UNIT`: tell people, without flooding them.

systemd starts ticketing-cron-failure@UNIT.service through OnFailure= with the
failed unit's $MONITOR_* variables (systemd >= 251), and
ticketing-cron-recovery@UNIT.service through OnSuccess=, but only while a failure
streak is on record (a ConditionPathExists= on the state file), so that the
every-minute success path costs no extra process.
"""

import os
import socket
import time

from ticketing_cron import alert_policy
from ticketing_cron.alert_message import compose, runs, span, when
from ticketing_cron.alert_state import clear_state, load_state, save_state, state_dir, state_path
from ticketing_cron.config import AlertsConfig, read_toml, table, validate_alerts
from ticketing_cron.errors import EXIT_STATUS, CronError

OUTCOME_BY_STATUS = {str(status): outcome for outcome, status in EXIT_STATUS.items()}
RECORD_LOOKUP_TRIES = 5
JOURNAL_SOCKET = "/run/systemd/journal/socket"


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


def find_run_record(invocation_id, sleep=time.sleep):
    """The failed run's summary record (the one with OUTCOME=), from the journal.

    Args:
        invocation_id: $MONITOR_INVOCATION_ID.
    Returns:
        dict of the record's fields, or None when there is no journal or no record.
    """
    if not invocation_id or not os.path.exists(JOURNAL_SOCKET):
        return None
    try:
        from systemd import journal
    except ImportError:
        return None
    for _ in range(RECORD_LOOKUP_TRIES):  # journald may still be writing it
        reader = journal.Reader()
        try:
            reader.add_match(_SYSTEMD_INVOCATION_ID=invocation_id)
            for entry in reader:
                if "OUTCOME" in entry:
                    return {k: str(v) for k, v in entry.items()}
        finally:
            reader.close()
        sleep(0.2)
    return None


def failure_event(failure, record):
    """The streak's view of one failed run: from its record, else from systemd's words."""
    if record is None:
        return {"outcome": failure["outcome"], "message": describe_failure(failure),
                "http_status": None, "job": None}
    prefix = f"{record.get('JOB')} {record.get('OUTCOME')}: "
    message = record.get("MESSAGE", "")
    status = record.get("HTTP_STATUS")
    return {"outcome": record["OUTCOME"], "job": record.get("JOB"),
            "message": message[len(prefix):] if message.startswith(prefix) else message,
            "http_status": int(status) if status and status.isdigit() and status != "0"
            else None}


def load_alert_settings(config_path):
    """The [alerts] table alone, so that a broken [api] table does not silence alerts.

    Returns:
        (AlertsConfig, problem text or None).
    """
    try:
        data = read_toml(config_path)
    except CronError as e:
        return AlertsConfig(), e.message
    problems = []
    settings = validate_alerts(table(data, "alerts", problems, default={}), problems)
    return settings, "; ".join(problems) or None


def deliver(subject, text, fields, settings, log, priority="crit"):
    """Send an alert to the journal and every configured channel.

    Returns:
        (failed, reached): the channel failures (CronError messages), and whether the
        alert reached anyone: True when a configured channel worked, or when only
        the journal is configured.
    """
    from ticketing_cron import channels

    host = socket.gethostname()
    unit = fields["FAILED_UNIT"]
    log.record(f"{subject} (unit {unit}; look with: journalctl -u {unit} -n 20)", priority,
               dict(fields, ALERT_TEXT=text))
    failed = []
    if settings.email_to:
        try:
            channels.send_email(settings.email_to, subject, text, host)
        except CronError as e:
            failed.append(e.message)
    if settings.webhook_url:
        payload = {"text": f"{subject}\n{text}", "host": host,
                   **{k.lower(): v for k, v in fields.items()}}
        try:
            channels.send_webhook(settings.webhook_url, payload)
        except CronError as e:
            failed.append(e.message)
    for problem in failed:
        log.record(f"alert channel failed: {problem}", "err", {"ALERT_CHANNEL_ERROR": problem})
    configured = bool(settings.email_to) + bool(settings.webhook_url)
    return failed, len(failed) < configured or configured == 0


def notify_failure(unit, log, environ, config_path):
    """Count a failed run of ``unit`` and alert if the rules say so.

    Returns:
        0; 78 if the [alerts] settings are invalid; 69 if a configured channel failed
        or the state could not be saved.
    """
    failure = failure_from_environ(unit, environ)
    event = failure_event(failure, find_run_record(failure["invocation_id"]))
    settings, settings_problem = load_alert_settings(config_path)
    if settings_problem:
        log.record(f"alerts: {settings_problem}; alerting through the journal only until it "
                   f"is fixed", "err", {})
    path = state_path(state_dir(environ), unit)
    state, state_problem = load_state(path)
    if state_problem:
        log.record(state_problem, "warning", {})
    now = time.time()
    state = alert_policy.record_failure(state, event, now)
    kind = alert_policy.alert_due(state, now, settings.alert_after, settings.repeat_interval_s)
    failed = []
    subject, text, fields = compose(kind or alert_policy.REMINDER, state, unit,
                                    socket.gethostname(), now, settings.repeat_interval_s)
    fields.update(FAILED_INVOCATION_ID=failure["invocation_id"],
                  SERVICE_RESULT=failure["result"], EXIT_STATUS=failure["exit_status"])
    if kind:
        failed, reached = deliver(subject, text, fields, settings, log)
        if reached:
            state = alert_policy.mark_alerted(state, now)
        else:
            log.record("the alert reached no configured channel; it is sent again at the "
                       "next failed run", "err", {})
    else:
        log.record(quiet_line(state, unit, settings, now), "warning",
                   dict(fields, ALERT="suppressed"))
    status = save(path, state, log)
    if settings_problem:
        return EXIT_STATUS["config"]
    return EXIT_STATUS["unavailable"] if failed else status


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

    Returns:
        0; 69 if a configured channel failed.
    """
    path = state_path(state_dir(environ), unit)
    state, problem = load_state(path)
    failed = []
    if alert_policy.recovery_due(state):
        settings, _ = load_alert_settings(config_path)
        now = time.time()
        subject, text, fields = compose(alert_policy.RECOVERY, state, unit,
                                        socket.gethostname(), now, settings.repeat_interval_s)
        failed, reached = deliver(subject, text, fields, settings, log, priority="notice")
        if not reached:
            log.record("the recovery notice reached no configured channel; it is sent again "
                       "after the next good run", "err", {})
            return EXIT_STATUS["unavailable"]
    elif state or problem:
        log.record(f"{unit} succeeded; its failure streak ended before any alert", "info", {})
    clear_state(path)
    return EXIT_STATUS["unavailable"] if failed else 0


def save(path, state, log):
    """Save the state; on failure say so and return 69, else 0."""
    try:
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        save_state(path, state)
    except OSError as e:
        log.record(f"alert state {path}: cannot save ({e.strerror}); reminders may repeat",
                   "err", {})
        return EXIT_STATUS["unavailable"]
    return 0
