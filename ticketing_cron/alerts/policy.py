"""When to alert: the rules that keep a day-long outage from sending 1,440 messages.

Pure functions over a state dict, so that the rules are tested with a fake clock.
State keys: first_failure_at, last_failure_at (epoch seconds), consecutive_failures,
last_outcome, last_message, last_http_status, job, alerts_sent, last_alert_at and
alerted_outcome (None until the first alert of the streak).

The clock may be stepped back (NTP correcting a fast clock) while a streak goes on:
a time in the streak later than ``now`` is then taken as ``now``, so that no duration
is negative and a reminder is put off by no more than repeat_interval from the step.
A step forward counts as time passed: at most one reminder comes early.
"""

FIRST, REMINDER, CHANGED, RECOVERY = "failure", "reminder", "changed", "recovery"
# Runs start a few milliseconds later or earlier each minute; without slack an hourly
# reminder would slip to the 61st minute whenever the first alert's run was slower.
REMINDER_SLACK_S = 5


def record_failure(state, failure, now):
    """Add one failed run to the streak.

    Args:
        state: the streak so far, or None when the last run succeeded.
        failure: dict with outcome, message, http_status and job of the failed run.
        now: epoch seconds.
    Returns:
        The new state (a new dict).
    """
    state = dict(state or {"first_failure_at": now, "consecutive_failures": 0,
                           "alerts_sent": 0, "last_alert_at": None, "alerted_outcome": None})
    for key in ("first_failure_at", "last_alert_at"):
        if state[key] is not None and state[key] > now:  # the clock was stepped back
            state[key] = now
    state.update(consecutive_failures=state["consecutive_failures"] + 1, last_failure_at=now,
                 last_outcome=failure["outcome"], last_message=failure["message"],
                 last_http_status=failure.get("http_status"), job=failure.get("job"))
    return state


def alert_due(state, now, alert_after, repeat_interval_s):
    """Which alert, if any, the streak in ``state`` calls for now.

    Returns:
        FIRST when the streak just reached alert_after failures; CHANGED when the kind
        of failure differs from the one last alerted; REMINDER when repeat_interval_s
        has passed since the last alert; None otherwise.
    """
    if state["consecutive_failures"] < alert_after:
        return None
    if state["last_alert_at"] is None:
        return FIRST
    if state["last_outcome"] != state["alerted_outcome"]:
        return CHANGED
    if now - state["last_alert_at"] >= repeat_interval_s - REMINDER_SLACK_S:
        return REMINDER
    return None


def mark_alerted(state, now):
    """The state after an alert went out: remember when and for which outcome."""
    return dict(state, last_alert_at=now, alerted_outcome=state["last_outcome"],
                alerts_sent=state["alerts_sent"] + 1)


def recovery_due(state):
    """True if a success ends a streak that people were told about."""
    return bool(state) and state.get("last_alert_at") is not None
