"""`ticketing-cron notify-failure UNIT`: tell people that a run failed.

Run by ticketing-cron-failure@.service, which systemd starts through OnFailure=
with the failed unit's $MONITOR_* variables (systemd >= 251).
"""

from ticketing_cron.errors import EXIT_STATUS

OUTCOME_BY_STATUS = {str(status): outcome for outcome, status in EXIT_STATUS.items()}


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


def notify_failure(unit, log, environ):
    """Write the alert record at PRIORITY crit.

    Returns:
        0.
    """
    failure = failure_from_environ(unit, environ)
    log.record(describe_failure(failure), "crit", {
        "FAILED_UNIT": unit, "FAILED_OUTCOME": failure["outcome"],
        "SERVICE_RESULT": failure["result"], "EXIT_CODE": failure["exit_code"],
        "EXIT_STATUS": failure["exit_status"],
        "FAILED_INVOCATION_ID": failure["invocation_id"]})
    return 0
