"""An alert's mark in the streak, around its delivery: at least once.

The failure handler saves the streak marked as alerted, with "delivering" naming the
alert, before it tries any channel; afterwards settle() drops "delivering" (the alert
reached someone) or takes the mark back (it reached no channel). A handler that dies
in between (a power cut, SIGKILL) leaves "delivering" on disk, and the next failed run
sends that alert again (interrupted()): no alert is lost, and the interrupted one goes
out at most twice. A lost alert is a silent outage; a repeated one is a nuisance.
"""

import os

from ticketing_cron.alerts.policy import CHANGED, FIRST, REMINDER
from ticketing_cron.alerts.state import load_state, locked, save_state
from ticketing_cron.base.errors import EXIT_STATUS
from ticketing_cron.base.timefmt import when

LOCK_WAIT_S = 5
ALERT_MARKS = ("last_alert_at", "alerted_outcome", "alerts_sent", "delivering")


def marked(state, kind, now):
    """The streak once alert ``kind`` is about to go out (policy.mark_alerted's marks
    and "delivering")."""
    return dict(state, last_alert_at=now, alerted_outcome=state["last_outcome"],
                alerts_sent=state["alerts_sent"] + 1, delivering=kind)


def interrupted(state, unit, log):
    """The kind of alert whose handler died while delivering it (None if none), said
    in the journal."""
    kind = (state or {}).get("delivering")
    if kind not in (FIRST, REMINDER, CHANGED):  # None, or not ours
        return None
    log.record(f"{unit}: the {kind} alert of {when(state.get('last_alert_at'))} was cut "
               f"short (its handler died while delivering it); sending it again",
               "warning", {})
    return kind


def settle(path, state, kind, now, reached, log):
    """After delivering alert ``kind``, marked at ``now`` over ``state`` (the streak
    before the mark): drop "delivering" if it reached someone, else take the mark back
    so that the next failed run sends it again; unless the streak has moved on
    meanwhile (a recovery notice is going out, or a recovery ended it).

    Returns:
        0, or 69 if the state could not be saved.
    """
    if not reached:
        log.record("the alert reached no configured channel; it is sent again at the "
                   "next failed run", "err", {})
    with locked(path, LOCK_WAIT_S) as held:
        warn_unlocked(held, path, log)
        current, _ = load_state(path)
        if not current or current.get("first_failure_at") != state["first_failure_at"] \
                or current.get("last_alert_at") != now or current.get("delivering") != kind:
            return 0
        if reached:
            return 0 if save(path, dict(current, delivering=None), log) is None \
                else EXIT_STATUS["unavailable"]
        return 0 if save(path, dict(current, **{k: state.get(k) for k in ALERT_MARKS}),
                         log) is None else EXIT_STATUS["unavailable"]


def warn_unlocked(held, path, log):
    if not held:
        log.record(f"alert state {path}: not locked within {LOCK_WAIT_S} s (another "
                   f"handler holds it); going on without the lock", "warning", {})


def save(path, state, log):
    """Save the state; on failure say so in the journal.

    Returns:
        None, or why it could not be saved (e.g. "No space left on device").
    """
    try:
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        save_state(path, state)
    except OSError as e:
        problem = e.strerror or str(e)
        log.record(f"alert state {path}: cannot save ({problem}); alerts may repeat until "
                   f"it can", "err", {"STATE_PROBLEM": problem})
        return problem
    return None
