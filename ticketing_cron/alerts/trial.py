"""`ticketing-cron test-alert [JOB]`: a marked test notice through every alert channel.

The command starts ticketing-cron-test-alert@UNIT.service, which runs the hidden
`notify-test UNIT` with the failure handler's sandbox, user, timeouts and ceilings:
both units get them from the same drop-in (ticketing-cron-.service.d/, by name), so
a notice that gets through here gets through from a real failure. The handler never
reads or writes a failure streak; it leaves what each channel did in
/var/lib/ticketing-cron/test-alerts/UNIT.json, which the command prints.
"""

import json
import os
import socket
import subprocess
import time

from ticketing_cron.alerts.delivery import deadline, deliver_each
from ticketing_cron.alerts.notify import (ALARM_MARGIN_S, HANDLER_DEADLINE_S, job_of_unit,
                                         load_alert_settings)
from ticketing_cron.alerts.state import DEFAULT_STATE_DIR, state_dir, state_path
from ticketing_cron.base.errors import EXIT_STATUS, Interrupted, UnavailableError
from ticketing_cron.base.text import printable
from ticketing_cron.base.timefmt import when

TEST = "test"
CHANNELS = ("journal", "email", "webhook")
REPORTS = "test-alerts"
MAX_REPORT_BYTES = 16 * 1024
SYSTEMCTL = "/usr/bin/systemctl"
# The handler's TimeoutStartSec= (55 s) and a margin for systemd's own work.
START_TIMEOUT_S = 75


def handler_unit(unit):
    """The test handler's unit for the watched ``unit``."""
    return f"ticketing-cron-test-alert@{unit}"


def compose_test(unit, host, now):
    """The test notice: (subject, text, fields), clearly marked as a test."""
    job = job_of_unit(unit) or unit.rsplit(".", 1)[0]
    subject = f"[ticketing-cron] TEST: alerts for {job} on {host} reach you"
    text = (f"This is a test notice, sent at {when(now)} by `ticketing-cron test-alert "
            f"{job}` on {host}.\nNothing failed. A real alert about {unit} comes the same "
            f"way, from the same sandbox.\n")
    fields = {"ALERT": TEST, "FAILED_UNIT": unit, "JOB": job, "TEST_ALERT": "1"}
    return subject, text, fields


def notify_test(unit, log, environ, config_path):
    """The handler: send the test notice and write the report of each channel.

    Returns:
        0 when every configured channel took it; 69 when one did not (or the
        report could not be written); 78 when the [alerts] settings are invalid.
    """
    report_path = state_path(os.path.join(state_dir(environ), REPORTS), unit)
    settings, problem = load_alert_settings(config_path)
    now = time.time()
    subject, text, fields = compose_test(unit, socket.gethostname(), now)
    results = [("journal", None)]
    cut_short = None
    try:
        with deadline(HANDLER_DEADLINE_S):
            results += deliver_each((subject, text, fields), (subject, text), settings, log,
                                    time.monotonic() + HANDLER_DEADLINE_S - ALARM_MARGIN_S,
                                    priority="notice")
    except Interrupted as e:
        cut_short = e.message
    configured = {"journal": True, "email": bool(settings.email_to),
                  "webhook": bool(settings.webhook_url)}
    report = {"at": now, "invocation_id": environ.get("INVOCATION_ID", ""),
              "settings_problem": problem,
              "channels": [channel_entry(name, problem_of(results, name, configured[name],
                                                          cut_short), settings)
                           for name in CHANNELS]}
    try:
        write_report(report_path, report)
    except OSError as e:
        log.record(f"test alert: cannot write {report_path}: {e.strerror}", "err", {})
        return EXIT_STATUS["unavailable"]
    if problem:
        return EXIT_STATUS["config"]
    failed = any(entry["state"] == "failed" for entry in report["channels"])
    return EXIT_STATUS["unavailable"] if failed else 0


def problem_of(results, name, configured, cut_short):
    """(configured, problem) of channel ``name``: its problem in deliver_each's results,
    or, for a configured channel that has none there, that the deadline cut it off."""
    for channel, problem in results:
        if channel == name:
            return True, problem
    return configured, (f"{name}: not reached: {cut_short}" if configured else None)


def channel_entry(name, outcome, settings):
    """One channel's line of the report: state ("ok", "failed", "off") and detail."""
    tried, problem = outcome
    if not tried:
        key = {"email": "alerts.email_to", "webhook": "alerts.webhook_url"}[name]
        return {"channel": name, "state": "off", "detail": f"not configured ({key})"}
    if problem:
        return {"channel": name, "state": "failed", "detail": problem}
    detail = {"journal": "recorded (ALERT=test)",
              "email": f"handed to sendmail for {', '.join(settings.email_to or ())}",
              "webhook": "accepted (HTTP 2xx)"}[name]
    return {"channel": name, "state": "ok", "detail": detail}


def write_report(path, report):
    """Replace the report file (root-only directory)."""
    from ticketing_cron.base import atomic

    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    atomic.stage(path, json.dumps(report).encode(), 0o600).commit()


def read_report(path):
    """The report the handler left, checked.

    Returns:
        (at, settings_problem or None, [(channel, state, detail)]) for CHANNELS.
    Raises:
        UnavailableError when it is missing, too big or malformed.
    """
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_REPORT_BYTES + 1)
        report = json.loads(data.decode("utf-8")) if len(data) <= MAX_REPORT_BYTES else None
        entries = [(e["channel"], e["state"], e["detail"]) for e in report["channels"]]
        at, problem = float(report["at"]), report["settings_problem"]
    except FileNotFoundError:
        raise UnavailableError(f"the handler left no report ({path})") from None
    except (OSError, ValueError, TypeError, KeyError) as e:
        raise UnavailableError(f"the handler's report {path} is unusable "
                               f"({type(e).__name__})") from None
    ok = [c for c, s, d in entries if isinstance(d, str) and s in ("ok", "failed", "off")]
    if ok != list(CHANNELS) or not (problem is None or isinstance(problem, str)):
        raise UnavailableError(f"the handler's report {path} is unusable")
    return at, problem, entries


def test_alert(unit, out, log, run=subprocess.run, directory=DEFAULT_STATE_DIR):
    """The command: start the test handler for ``unit``, print its report.

    Args:
        unit: the watched unit (from the job's name).
        out: where the per-channel lines go.
        run: subprocess.run, replaceable in tests.
        directory: the handlers' state directory.
    Returns:
        0 when every configured channel took the notice, else 69 (78 for invalid
        [alerts] settings).
    Raises:
        UnavailableError when the handler could not be started or left no report.
    """
    handler = handler_unit(unit) + ".service"
    path = state_path(os.path.join(directory, REPORTS), unit)
    try:
        os.unlink(path)  # a report from an earlier test never passes for this one's
    except FileNotFoundError:
        pass
    except OSError as e:
        raise UnavailableError(f"cannot clear {path}: {e.strerror}; test-alert needs root "
                               f"(sudo ticketing-cron test-alert)") from None
    started = systemctl(run, "start", handler)
    try:
        at, problem, entries = read_report(path)
    except UnavailableError as e:
        why = started or "it ran"
        raise UnavailableError(f"{handler}: {why}; {e.message}; look with: journalctl -u "
                               f"{handler} -n 20") from None
    systemctl(run, "reset-failed", handler)  # its failure is reported here, not kept
    out.write(f"test alert for {unit}, sent by {handler} at {when(at)}:\n")
    for channel, state, detail in entries:
        out.write(f"  {channel:<8} {state.upper() if state == 'failed' else state:<7} "
                  f"{printable(detail)[:300]}\n")
    if problem:
        log.record(f"alerts: {printable(problem)[:300]}; only the journal was tried", "err", {})
        return EXIT_STATUS["config"]
    if any(state == "failed" for _, state, _ in entries):
        log.record("test alert: a channel did not take the notice (see above)", "err", {})
        return EXIT_STATUS["unavailable"]
    return 0


def systemctl(run, verb, unit):
    """Run `systemctl --no-ask-password VERB UNIT`; None when it worked, else why not."""
    try:
        proc = run([SYSTEMCTL, "--no-ask-password", verb, unit], capture_output=True,
                   text=True, timeout=START_TIMEOUT_S, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"systemctl {verb} did not work ({type(e).__name__})"
    if proc.returncode == 0:
        return None
    first = (proc.stderr.strip().splitlines() or ["no message"])[0]
    return f"systemctl {verb} exited {proc.returncode} ({printable(first)[:200]})"
