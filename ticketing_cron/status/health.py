"""Is a job healthy? The judgement behind `ticketing-cron status`'s exit status (pure).

States: "ok" (the last run succeeded), "failing" (it did not), "overdue" (its timer is
stopped or disabled, or a run that was due left no record), "running" (a run is under
way, judged by the one before), "waiting" (scheduled, never due yet), "manual" (no
schedule: run by hand only, never unhealthy).
"""

from ticketing_cron.base.timefmt import when

# Seconds after a run's deadline by which its record must be in the journal: Python's
# start, the record's way through journald, and a timer's AccuracySec=.
RECORD_SLACK_S = 15
# A timer whose next elapse is this far in the past has stopped firing.
ELAPSE_SLACK_S = 60
ENABLED_STATES = ("enabled", "enabled-runtime", "static", "generated", "linked",
                  "linked-runtime", "alias", "indirect")
STATES = ("ok", "failing", "overdue", "running", "waiting", "manual")
UNHEALTHY = ("failing", "overdue")


def judge(timer, last_run, now, deadline_s, service_active="inactive", service_run=None):
    """The state of one job and, when unhealthy, why.

    Args:
        timer: None for a job without a schedule; else a dict with unit, load_state,
            unit_file_state, active_state (systemctl's words), last_trigger and
            next_elapse (epoch seconds or None).
        last_run: the last summary record as a dict with at (epoch seconds) and
            outcome, or None when the job left none.
        now: epoch seconds.
        deadline_s: the job's run deadline in seconds.
        service_active: the service's ActiveState.
        service_run: systemd's view of the service's last run (units.service_run()),
            or None.
    Returns:
        (state, problem): problem is one line for "failing" and "overdue", else None.
    """
    if timer is None:
        return "manual", None
    name = timer.get("unit", "the timer")
    if timer.get("load_state") not in (None, "loaded"):
        return "overdue", (f"{name} is not installed (LoadState={timer['load_state']}); "
                           f"run `systemctl daemon-reload` after changing the schedule")
    if timer.get("unit_file_state") not in ENABLED_STATES:
        return "overdue", (f"{name} is {timer.get('unit_file_state') or 'not enabled'}; "
                           f"nothing runs it (systemctl enable --now {name})")
    if timer.get("active_state") != "active":
        return "overdue", (f"{name} is stopped ({timer.get('active_state')}); "
                           f"nothing runs it (systemctl start {name})")
    if service_active in ("activating", "deactivating", "reloading"):
        return "running", None
    lost = lost_record(service_run, last_run, now)
    if lost:
        return lost
    trigger = timer.get("last_trigger")
    next_elapse = timer.get("next_elapse")
    if next_elapse is not None and next_elapse < now - ELAPSE_SLACK_S:
        return "overdue", (f"its timer should have fired at {when(next_elapse)} and "
                           f"did not")
    if trigger is not None and now > trigger + deadline_s + RECORD_SLACK_S \
            and (last_run is None or last_run["at"] < trigger - 1):
        return "overdue", (f"the run due at {when(trigger)} left no record in the "
                           f"journal (killed, never started, or journald lost it: "
                           f"systemctl status {timer.get('service', 'the service')})")
    if last_run is None:
        return "waiting", None
    if last_run["outcome"] != "ok":
        return "failing", f"the last run failed: {last_run['outcome']}"
    return "ok", None


def lost_record(service_run, last_run, now):
    """When the service's last run (systemd's view) ended RECORD_SLACK_S ago or more
    and the journal has no record of it (journald stopped with its sockets, or its disk
    full): ("failing", why) if systemd saw it fail, else ("overdue", why), since
    nothing says what it did; None otherwise."""
    if not service_run:
        return None
    started, exited = service_run.get("started"), service_run.get("exited")
    if started is None or exited is None or exited < started or now <= exited + RECORD_SLACK_S:
        return None
    # systemctl shows the start to the second, rounded down: a record of this run
    # is never older than that.
    if last_run is not None and last_run["at"] >= started:
        return None
    result = service_run.get("result") or "unknown"
    return ("overdue" if result == "success" else "failing",
            f"the run of {when(started)} left no record in the journal (journald stopped, "
            f"or its disk full?); systemd says: {result}, exit status "
            f"{service_run.get('status') or 'unknown'}")


def exit_status(states):
    """0 when no job is failing or overdue, else 1."""
    return 1 if any(state in UNHEALTHY for state in states) else 0
