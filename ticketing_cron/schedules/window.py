"""The generator's plans for many jobs: systemd parses each schedule once, Python counts runs.

plan.plan_jobs asks systemd-analyze for every expression in its job's time zone (systemd
computes each such elapse in a child process, about 1 ms) and for 500 wall-clock elapses
of each, which zoneinfo then turns into instants: seconds at every boot for thousands of
jobs. Here systemd-analyze parses every expression once, read in UTC, where it needs no
child process (systemd splits a valid zone off before parsing, so the verdict is the
same), with its first CHECKED elapses. Python counts the same 500 elapses from match's
reading of the expression, compares its first ones with systemd's, and converts them with
the zone's table of changes (zonetable). When the schedule's shape already keeps runs
further apart than the unit's timeout plus any change of offset, nothing is counted.

A job Python does not read (years, "~", fractions of seconds, a zone in the schedule),
whose zone's table cannot be read, or on which systemd disagrees, is planned by
plan.plan_jobs as before. Either way the plans and problems are the same; the generator
writes only what they hold (tests/unit/schedules/test_window.py compares the two paths).
"""

import datetime

from ticketing_cron.base.errors import CronError
from ticketing_cron.schedules import calendar, match, plan, zonetable

DAY_S = 86400
EPOCH_DAY = datetime.date(1970, 1, 1).toordinal()
MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
# systemd-analyze's elapses per expression that Python's must match.
CHECKED = 2
# systemd's calendar stops at the end of this year (MAX_YEAR in calendarspec.c).
SYSTEMD_MAX_YEAR = 2199
UTC_TABLE = zonetable.Table([], 0, None, {0})


def plan_jobs(config, jobs, base_time):
    """Plans for the generator: plan.plan_jobs's, without what it alone shows (next_runs
    is None, and shortest_s None where the runs are surely far enough apart).

    Args:
        config: the Config (for api.deadline); jobs: JobConfigs that have a schedule;
        base_time: an aware datetime to count elapses from.
    Returns:
        (plans, problems) as plan.plan_jobs returns them, in the same order.
    Raises:
        ConfigError when systemd-analyze cannot be run.
    """
    after = int(base_time.timestamp())
    translated, candidates, others, tables, read = {}, {}, [], {}, {}
    for job in jobs:
        if job.schedule not in read:
            read[job.schedule] = readable(job.schedule)
        expressions, specs = read[job.schedule]
        if expressions is None:
            others.append(job)  # plan.plan_jobs words the problem
            continue
        translated[job.name] = (tuple(f"{e} {job.timezone}" for e in expressions),
                                tuple(f"{e} UTC" for e in expressions))
        zone = zone_table(job.timezone, after, tables)
        if specs is None or zone is None:
            others.append(job)
        else:
            candidates[job.name] = (job, specs, zone)
    expressions = sorted({e for job in candidates.values() for e in translated[job[0].name][1]})
    process = calendar.start(expressions, CHECKED, base_time) if expressions else None
    try:  # while systemd-analyze works
        counted = {name: count(config, job, specs, zone, after)
                   for name, (job, specs, zone) in candidates.items()}
    except BaseException:
        if process:
            process.kill()
            process.wait()
        raise
    systemd = calendar.finish(process, expressions) if process else {}
    plans, late = {}, {}
    for name, (job, _specs, _zone) in candidates.items():
        lines, walls = translated[name]
        results = [systemd[e] for e in walls]
        first, shortest = counted[name]
        if any(r.error for r in results) or \
                [tuple(int(t.timestamp()) for t in r.elapses) for r in results] != first:
            others.append(job)
            continue
        try:
            timeout = plan.fitting_timeout(config, job, shortest)
        except CronError as e:
            late[name] = e.message
            continue
        normalized = tuple(r.normalized[:-len(" UTC")] + " " + job.timezone
                           if job.timezone != "UTC" else r.normalized for r in results)
        plans[name] = plan.Plan(job=job, oncalendar=lines, normalized=normalized,
                                next_runs=None, shortest_s=shortest, timeout_s=timeout)
    names = {job.name for job in others}
    slow_plans, slow = plan.plan_jobs(config, [j for j in jobs if j.name in names],
                                      base_time) if others else ({}, {})
    plans.update(slow_plans)
    # plan.plan_jobs's order: untranslatable schedules first, then the rest, job by job.
    first_pass = {name: p for name, p in slow.items() if name not in translated}
    rest = {job.name: late.get(job.name) or slow.get(job.name) for job in jobs
            if job.name in late or (job.name in slow and job.name in translated)}
    return plans, {**first_pass, **rest}


def readable(schedule):
    """(the calendar expressions of ``schedule`` as plan.oncalendar_lines makes them,
    without zone, or None when it cannot translate them; match's Specs of them, or None
    when Python does not count their elapses)."""
    try:
        expressions = tuple(e.rsplit(" ", 1)[0] for e in plan.oncalendar_lines(schedule, "UTC"))
    except CronError:
        return None, None
    try:
        specs = tuple(match.parse_calendar(e) for e in expressions)
    except match.Unsupported:
        return expressions, None
    return expressions, None if any(spec.years is not None for spec in specs) else specs


def zone_table(name, after, tables):
    """The zonetable.Table of ``name`` from two days before ``after`` (cached in
    ``tables``), or None when it cannot be read here."""
    if name == "UTC":
        return UTC_TABLE
    if name not in tables:
        try:
            tables[name] = zonetable.table(name, after - 2 * DAY_S)
        except (zonetable.Unknown, ValueError, OSError):
            tables[name] = None
    return tables[name]


def count(config, job, specs, zone, after):
    """(each Spec's first CHECKED wall elapses after ``after``, as plan.plan_jobs's
    shortest interval between the job's runs, or None when they are surely further
    apart than its unit's timeout)."""
    first = [tuple(wall_elapses(spec, after, CHECKED)) for spec in specs]
    bound = lower_bound(specs)
    if bound is not None:
        days = window_days(specs)
        spread = zonetable.spread(zone, after - 2 * DAY_S,
                                  None if days is None else after + (days + 2) * DAY_S)
        if bound - spread > plan.unit_timeout(config, job):
            return first, None
    return first, shortest(specs, zone, job.timezone, after)


def window_days(specs):
    """At most how many days INTERVAL_ITERATIONS elapses of ``specs`` span, for a single
    Spec on every day of every month (weekdays may be restricted); None for the others."""
    if len(specs) != 1:
        return None
    (spec,) = specs
    if len(spec.months) != 12 or len(spec.days) != 31:
        return None
    per_day = len(spec.hours) * len(spec.minutes) * len(spec.seconds)
    days = -(-plan.INTERVAL_ITERATIONS // per_day) + 1
    return days if spec.weekdays is None else (days // len(spec.weekdays) + 2) * 7


def shortest(specs, zone, zone_name, after):
    """plan.plan_jobs's shortest interval: over the first INTERVAL_ITERATIONS wall elapses
    of each Spec (merged up to where every list still counts), as instants in the zone."""
    lists = [w for w in (wall_elapses(spec, after, plan.INTERVAL_ITERATIONS) for spec in specs)
             if w]
    if not lists:
        return None
    horizon = min(w[-1] for w in lists)
    walls = sorted({t for w in lists for t in w if t <= horizon}) if len(lists) > 1 else lists[0]
    instants = walls if zone is UTC_TABLE else zonetable.to_instants(walls, zone)
    if instants is None:  # beyond the zone's table: zoneinfo, time by time
        utc = datetime.timezone.utc
        instants = [int(t.timestamp()) for t in plan.instants(
            tuple(datetime.datetime.fromtimestamp(w, utc) for w in walls), zone_name)]
    gaps = [b - a for a, b in zip(instants, instants[1:])]
    return float(min(gaps)) if gaps else None


def lower_bound(specs):
    """The least time in seconds between two wall elapses of ``specs`` that the shape of
    their days allows, or None when the Specs have different times of day."""
    shapes = {(tuple(sorted(s.hours)), tuple(sorted(s.minutes)), tuple(sorted(s.seconds)))
              for s in specs}
    if len(shapes) != 1:
        return None
    hours, minutes, seconds = shapes.pop()
    # To the next matching day: at least a day, less the span of one day's times.
    bounds = [DAY_S - (hours[-1] * 3600 + minutes[-1] * 60 + seconds[-1]
                       - hours[0] * 3600 - minutes[0] * 60 - seconds[0])]
    if len(seconds) > 1:
        bounds.append(min(b - a for a, b in zip(seconds, seconds[1:])))
    if len(minutes) > 1:
        bounds.append(60 * min(b - a for a, b in zip(minutes, minutes[1:]))
                      - (seconds[-1] - seconds[0]))
    if len(hours) > 1:
        bounds.append(3600 * min(b - a for a, b in zip(hours, hours[1:]))
                      - (minutes[-1] * 60 + seconds[-1] - minutes[0] * 60 - seconds[0]))
    return min(bounds)


def wall_elapses(spec, after, limit):
    """The first ``limit`` wall-clock elapses of ``spec`` after epoch second ``after``
    (read as UTC), as systemd counts them: nothing after SYSTEMD_MAX_YEAR.

    Returns:
        A list of epoch seconds, ascending.
    """
    hours, minutes, seconds = sorted(spec.hours), sorted(spec.minutes), sorted(spec.seconds)
    days, months, weekdays = sorted(spec.days), spec.months, spec.weekdays
    today, start = divmod(after + 1, DAY_S)
    date = datetime.date.fromordinal(EPOCH_DAY + today)
    year, month, from_day = date.year, date.month, date.day
    whole_day = times_of_day(hours, minutes, seconds, 0, limit)
    found = []
    while len(found) < limit and year <= SYSTEMD_MAX_YEAR:
        if month in months:
            length = MONTH_DAYS[month - 1] + (month == 2 and is_leap(year))
            first = datetime.date(year, month, 1).toordinal() - EPOCH_DAY
            for day in days:
                if day < from_day:
                    continue
                if day > length:
                    break
                epoch_day = first + day - 1
                if weekdays is not None and (epoch_day + 3) % 7 not in weekdays:
                    continue  # 1970-01-01 was a Thursday (3, Monday being 0)
                times = whole_day if epoch_day != today else \
                    times_of_day(hours, minutes, seconds, start, limit)
                midnight = epoch_day * DAY_S
                found.extend([midnight + t for t in times[:limit - len(found)]])
                if len(found) >= limit:
                    break
        year, month, from_day = (year + 1, 1, 1) if month == 12 else (year, month + 1, 1)
    return found


def times_of_day(hours, minutes, seconds, start, limit):
    """The first ``limit`` seconds of a day at or after ``start`` that the sorted hours,
    minutes and seconds make."""
    first_hour, rest = divmod(start, 3600)
    first_minute, first_second = divmod(rest, 60)
    found = []
    for h in hours:
        if h < first_hour:
            continue
        for m in minutes:
            if h == first_hour and m < first_minute:
                continue
            for s in seconds:
                if h == first_hour and m == first_minute and s < first_second:
                    continue
                found.append(h * 3600 + m * 60 + s)
                if len(found) >= limit:
                    return found
    return found


def is_leap(year):
    """True for a Gregorian leap year."""
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
