"""From validated jobs to what their timers will do: OnCalendar= lines, elapses, timeouts.

Shared by `ticketing-cron check` and the generator, so both judge a schedule the same way.
"""

import datetime
import math
from collections import namedtuple

from ticketing_cron.base.errors import ConfigError, CronError
from ticketing_cron.schedules import calendar, cron

# The unit's TimeoutStartSec= is the run's deadline plus this: time for Python to start
# and to write the summary record before systemd ends the run (58 s for the 55 s
# maximum of api.deadline, as ticketing-cron.service ships).
TIMEOUT_MARGIN_S = 3
# Elapses looked at for the shortest interval between runs: years for a daily job,
# hours for one every ten seconds.
INTERVAL_ITERATIONS = 500

Plan = namedtuple("Plan", "job oncalendar normalized next_runs shortest_s timeout_s")
Plan.__doc__ = ("A job's schedule as systemd will run it: OnCalendar= values (with time "
                "zone), their normal forms, the next elapses (UTC), the shortest interval "
                "between runs and the unit's TimeoutStartSec= in seconds.")


def oncalendar_lines(schedule, timezone):
    """The OnCalendar= values for a schedule and time zone.

    Args:
        schedule: a cron line or systemd calendar syntax.
        timezone: an IANA name, appended as systemd's calendar syntax allows.
    Returns:
        A tuple of calendar expressions.
    Raises:
        ConfigError when a cron line cannot be translated.
    """
    expressions = cron.translate(schedule) if cron.is_cron_line(schedule) else (schedule,)
    return tuple(f"{e} {timezone}" for e in expressions)


def plan_jobs(config, jobs, base_time=None):
    """Check the schedules of ``jobs`` with systemd's parser.

    Two systemd-analyze runs in all: one for the expressions as the timers will use
    them (validity, normal form, next runs), one for many elapses of the same
    expressions read in UTC, i.e. in wall-clock time, which zoneinfo then turns into
    instants. (systemd computes each elapse in another zone in a child process, about
    1 ms each: too slow for hundreds of elapses in a generator.)

    Args:
        config: the Config (for api.deadline).
        jobs: JobConfigs that have a schedule.
        base_time: an aware datetime to count elapses from (default now).
    Returns:
        (plans, problems): a dict name -> Plan for the good jobs, and a dict
        name -> one-line problem (with its key path) for the others.
    Raises:
        ConfigError when systemd-analyze cannot be run.
    """
    lines, problems = {}, {}
    for job in jobs:
        try:
            lines[job.name] = oncalendar_lines(job.schedule, job.timezone)
        except CronError as e:
            problems[job.name] = f"jobs.{job.name}.schedule: {e.message}"
    if not lines:
        return {}, problems
    real = calendar.analyze(sorted({e for v in lines.values() for e in v}), 3, base_time)
    # Wall-clock elapses counted from now read as UTC: within a day of each zone's now,
    # which does not change the intervals between runs.
    walls = {job.name: oncalendar_lines(job.schedule, "UTC") for job in jobs
             if job.name in lines and not any(real[e].error for e in lines[job.name])}
    wall_results = calendar.analyze(sorted({e for v in walls.values() for e in v}),
                                    INTERVAL_ITERATIONS, base_time) if walls else {}
    plans = {}
    for job in jobs:
        if job.name not in lines:
            continue
        wall = [wall_results[e] for e in walls.get(job.name, ())]
        try:
            plans[job.name] = make_plan(config, job, lines[job.name],
                                        [real[e] for e in lines[job.name]], wall)
        except CronError as e:
            problems[job.name] = e.message
    return plans, problems


def zone(name):
    """A tzinfo for an IANA name (UTC without zoneinfo's import)."""
    if name == "UTC":
        return datetime.timezone.utc
    import zoneinfo

    return zoneinfo.ZoneInfo(name)


def instants(wall_elapses, name):
    """Wall-clock elapses (naive values carried as UTC) as the instants systemd fires at
    in zone ``name``, sorted.

    As systemd does: a wall time that does not exist (skipped by the clock going
    forward) is not run that day, and one that occurs twice is run the first time.
    """
    if name == "UTC":
        return wall_elapses
    tz = zone(name)
    found = set()
    for wall in wall_elapses:
        local = wall.replace(tzinfo=tz)  # fold=0: the first of two
        instant = local.astimezone(datetime.timezone.utc)
        if instant.astimezone(tz).replace(tzinfo=None) == local.replace(tzinfo=None):
            found.add(instant)
    return tuple(sorted(found))


def unit_timeout(config, job):
    """The TimeoutStartSec= of ``job``'s unit in whole seconds: its deadline and a margin."""
    deadline = job.deadline if job.deadline is not None else config.api.deadline
    return math.ceil(deadline) + TIMEOUT_MARGIN_S


def fitting_timeout(config, job, shortest):
    """unit_timeout(), checked against the shortest time between runs (None: unknown).

    Raises:
        ConfigError, naming the key to change, when the unit could still be running at
        the next elapse.
    """
    timeout = unit_timeout(config, job)
    if shortest is not None and timeout >= shortest:
        prefix = f"jobs.{job.name}."
        deadline = job.deadline if job.deadline is not None else config.api.deadline
        key = f"{prefix}deadline" if job.deadline is not None else \
            f"api.deadline (no {prefix}deadline)"
        raise ConfigError(f"{key}: {deadline:g} s, plus {TIMEOUT_MARGIN_S} s for "
                        f"the unit to end the run, must be shorter than the {shortest:g} s "
                        f"between runs of {job.schedule!r}; set a shorter {prefix}deadline")
    return timeout


def make_plan(config, job, oncalendar, calendars, wall):
    """One job's Plan from systemd's verdict on its expressions; CronError if unusable.

    Args:
        calendars: the Calendars of ``oncalendar``, as the timer will see them.
        wall: the Calendars of the same expressions in wall-clock time, with many elapses.
    """
    prefix = f"jobs.{job.name}."
    for result in calendars:
        if result.error:
            hint = ""
            last = job.schedule.split()[-1] if job.schedule.split() else ""
            if "/" in last or last.upper() == "UTC":
                hint = f"; give the time zone as {prefix}timezone, not in the schedule"
            raise ConfigError(f"{prefix}schedule: {job.schedule!r} as "
                            f"OnCalendar={result.original}: {result.error}{hint}")
    elapses = calendar.merged_elapses(calendars)
    shortest = calendar.shortest_interval(instants(calendar.merged_elapses(wall),
                                                   job.timezone))
    timeout = fitting_timeout(config, job, shortest)
    return Plan(job=job, oncalendar=oncalendar,
                normalized=tuple(c.normalized for c in calendars),
                next_runs=elapses[:3], shortest_s=shortest, timeout_s=timeout)
