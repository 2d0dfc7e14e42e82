"""Which scheduled run is this? The slot, the Idempotency-Key and X-Cron-Scheduled-At.

Two servers whose timers fire for the same elapse must send the same key, so the key
is derived from the schedule and the clock, never from the process: the slot is the
latest time the job's schedule elapsed, if that was at most WINDOW_S ago. A run that
the timer started later than that (Persistent= catching up after downtime), a run by
hand and a run whose schedule is not evaluated here get keys no slot can have:

    ahead        <job>:2026-11-29T17:48:00Z           sent at the slot, not before
    on time      <job>:2026-11-29T17:48:00Z           X-Cron-Scheduled-At: the slot
    catch-up     <job>:catchup:2026-11-29T17:48:00Z   X-Cron-Scheduled-At: the missed elapse
    by hand      <job>:manual:<request id>            X-Cron-Scheduled-At: the start, to the s
    unknown      <job>:unscheduled:<request id>       X-Cron-Scheduled-At: the start, to the s

The timers elapse TIMER_LEAD_S ahead of their job's elapses (where the calendar can say
so exactly): a run that finds its schedule's next elapse at most that far ahead claims
it, gets ready, and sends its request at that elapse (send_at), so that eleven jobs
due on one minute reach the app within milliseconds of it rather than after eleven
cold starts. A run started at or after its elapse (a timer line without the lead, a
slow start) claims it as before, within WINDOW_S.

Only the units' `run --scheduled JOB` claims a slot ($TRIGGER_TIMER_REALTIME_USEC
would say which timer fired, but systemd 252 keeps its first firing's value).
The packaged every-minute schedule is computed here without any import; other
schedules need schedules.match (and zoneinfo outside UTC).
"""

import time
from collections import namedtuple

from ticketing_cron.base.timefmt import iso
from ticketing_cron.config.keys import EVERY_MINUTE, TIMER_LEAD_S

# A timer with AccuracySec=1ms starts the run within milliseconds of its elapse and the
# run reaches this point some 0.1-0.3 s later; 10 s also covers a machine under heavy
# load, and is far below the shortest period a job may have (its deadline + 3 s, and
# a minute for the SLA check), so an older elapse is never taken for this one.
WINDOW_S = 10

Slot = namedtuple("Slot", "kind key scheduled_at send_at", defaults=(None,))
Slot.__doc__ = ("kind: 'scheduled', 'catchup', 'manual' or 'unscheduled'; key: the "
                "Idempotency-Key's value without quotes; scheduled_at: X-Cron-Scheduled-At; "
                "send_at: the slot (epoch seconds) when the run started ahead of it and "
                "must not send before it, else None.")


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
    due = latest_due(job.schedule, job.timezone, now + TIMER_LEAD_S)
    if due is None:
        return Slot("unscheduled", f"{job.name}:unscheduled:{request_id}", started)
    if due > now:  # the timer elapsed ahead of this elapse: send at it
        return Slot("scheduled", f"{job.name}:{iso(due)}", iso(due), due)
    if now - due <= WINDOW_S:
        return Slot("scheduled", f"{job.name}:{iso(due)}", iso(due))
    return Slot("catchup", f"{job.name}:catchup:{iso(due)}", iso(due))


def wait_for_slot(slot, wall_clock=time.time, sleep=time.sleep):
    """Sleep until slot.send_at, if the run started ahead of its slot.

    Never longer than TIMER_LEAD_S, whatever the realtime clock does meanwhile (the
    sleep itself runs on the monotonic clock).

    Args:
        slot: a Slot.
        wall_clock, sleep: time, replaceable in tests.
    Returns:
        The seconds slept (0.0 when there was nothing to wait for).
    """
    if slot.send_at is None:
        return 0.0
    delay = min(slot.send_at - wall_clock(), TIMER_LEAD_S)
    if delay <= 0:
        return 0.0
    sleep(delay)
    return delay


def elapse_served(job, timer_elapse):
    """The elapse of ``job``'s schedule that a timer firing at ``timer_elapse`` (epoch
    seconds) runs for: the one at most TIMER_LEAD_S ahead, else the firing itself (a
    line without the lead, or a schedule not evaluated here)."""
    due = latest_due(job.schedule, job.timezone, timer_elapse + TIMER_LEAD_S)
    return due if due is not None and due > timer_elapse else timer_elapse


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
