"""Which scheduled run is this? The slot, the Idempotency-Key and X-Cron-Scheduled-At.

Two servers whose timers fire for the same elapse must send the same key, so the key
is derived from the schedule and the clock, never from the process: the slot is the
latest time the job's schedule elapsed, if that was at most WINDOW_S ago. A run that
the timer started later than that (Persistent= catching up after downtime), a run by
hand and a run whose schedule is not evaluated here get keys no slot can have:

    on time      <job>:2026-11-29T17:48:00Z           X-Cron-Scheduled-At: the slot
    catch-up     <job>:catchup:2026-11-29T17:48:00Z   X-Cron-Scheduled-At: the missed elapse
    by hand      <job>:manual:<request id>            X-Cron-Scheduled-At: the start, to the s
    unknown      <job>:unscheduled:<request id>       X-Cron-Scheduled-At: the start, to the s

Only the units' `run --scheduled JOB` claims a slot ($TRIGGER_TIMER_REALTIME_USEC
would say which timer fired, but systemd 252 keeps its first firing's value).
The packaged every-minute schedule is computed here without any import; other
schedules need schedules.match (and zoneinfo outside UTC).
"""

import time
from collections import namedtuple

from ticketing_cron.base.timefmt import iso
from ticketing_cron.config.keys import EVERY_MINUTE

# A timer with AccuracySec=1ms starts the run within milliseconds of its elapse and the
# run reaches this point some 0.1-0.3 s later; 10 s also covers a machine under heavy
# load, and is far below the shortest period a job may have (its deadline + 3 s, and
# a minute for the SLA check), so an older elapse is never taken for this one.
WINDOW_S = 10

Slot = namedtuple("Slot", "kind key scheduled_at")
Slot.__doc__ = ("kind: 'scheduled', 'catchup', 'manual' or 'unscheduled'; key: the "
                "Idempotency-Key's value without quotes; scheduled_at: X-Cron-Scheduled-At.")


def slot_for(job, request_id, scheduled, now=None):
    """The slot of one run of ``job``.

    Args:
        job: config.JobConfig (name, schedule, timezone).
        request_id: the run's random id (hex), used in keys that are not a slot.
        scheduled: True when the timer's unit started the run (`run --scheduled`).
        now: seconds since the epoch (default: time.time()).
    Returns:
        Slot.
    """
    now = time.time() if now is None else now
    started = iso(int(now))
    if not scheduled:
        return Slot("manual", f"{job.name}:manual:{request_id}", started)
    due = latest_due(job.schedule, job.timezone, now)
    if due is None:
        return Slot("unscheduled", f"{job.name}:unscheduled:{request_id}", started)
    if now - due <= WINDOW_S:
        return Slot("scheduled", f"{job.name}:{iso(due)}", iso(due))
    return Slot("catchup", f"{job.name}:catchup:{iso(due)}", iso(due))


def latest_due(schedule, timezone, now):
    """The latest elapse of ``schedule`` in ``timezone`` at or before ``now`` (epoch
    seconds), as whole epoch seconds; None when there is no schedule, it is not
    evaluated here, or it did not elapse within schedules.match.HORIZON_DAYS."""
    if schedule is None:
        return None
    if schedule.strip() in EVERY_MINUTE:
        return int(now) - int(now) % 60
    import datetime

    from ticketing_cron.schedules import match

    try:
        specs = match.specs_for(schedule)
    except match.Unsupported:
        return None
    if timezone == "UTC":
        tz = match.UTC
    else:
        import zoneinfo

        try:
            tz = zoneinfo.ZoneInfo(timezone)
        except (ValueError, OSError):  # the config checked it; it may have gone since
            return None
    due = match.latest_due(specs, tz, datetime.datetime.fromtimestamp(now, match.UTC))
    return None if due is None else int(due.timestamp())
