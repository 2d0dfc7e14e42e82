"""When did a schedule last elapse? Pure Python, for the run's slot (see ticketing_cron.run.slot).

`systemd-analyze calendar` answers the same question but costs a process and some
10 ms, too much for a run every minute. This module evaluates cron lines (through
their OnCalendar= translation) and the common part of systemd's calendar syntax:
the @names and shortcuts (minutely, hourly, daily, ...), weekday lists and ranges,
and date and time components made of *, numbers, a..b ranges and /step repetitions.
What it cannot evaluate (~ last-day counting, fractional seconds, a time zone inside
the expression) raises Unsupported, and the run then treats itself as unscheduled.

Wall times are matched in the job's time zone as systemd's timers do: a wall time
skipped by a DST change does not elapse that day, and one that occurs twice elapses
the first time only.
"""

import datetime
from collections import namedtuple

from ticketing_cron.config.keys import EVERY_MINUTE
from ticketing_cron.schedules import cron
from ticketing_cron.schedules.names import FULL_NAMES, WEEKDAYS

UTC = datetime.timezone.utc
# How far back latest_due looks: four years and a day, so that a Feb 29 schedule is found.
HORIZON_DAYS = 4 * 366 + 1
MAX_YEAR = 2200
SHORTCUTS = {"minutely": "*-*-* *:*:00", "hourly": "*-*-* *:00:00",
             "daily": "*-*-* 00:00:00", "weekly": "Mon *-*-* 00:00:00",
             "monthly": "*-*-01 00:00:00", "yearly": "*-01-01 00:00:00",
             "annually": "*-01-01 00:00:00", "quarterly": "*-01,04,07,10-01 00:00:00",
             "semiannually": "*-01,07-01 00:00:00"}

Spec = namedtuple("Spec", "weekdays years months days hours minutes seconds")
Spec.__doc__ = ("One calendar expression as sets of values (weekdays Monday=0; None for "
                "years and weekdays: any).")


class Unsupported(ValueError):
    """The expression is valid for systemd, maybe, but not evaluated here."""


def specs_for(schedule):
    """The Specs of a schedule: a cron line or systemd calendar syntax (without zone).

    Returns:
        A tuple of Spec; the schedule elapses when any of them matches.
    Raises:
        Unsupported for what this module does not evaluate (and for invalid text:
        `ticketing-cron check` is where schedules are judged).
    """
    if cron.is_cron_line(schedule):
        try:
            expressions = cron.translate(schedule)
        except Exception as e:  # CronError: check reports it; here it is just unknown
            raise Unsupported(str(e)) from None
    else:
        expressions = (schedule,)
    return tuple(parse_calendar(e) for e in expressions)


def parse_calendar(text):
    """One systemd calendar expression as a Spec; Unsupported if not evaluated here."""
    words = text.strip().split()
    if len(words) == 1 and words[0].lower() in SHORTCUTS:
        words = SHORTCUTS[words[0].lower()].split()
    if not 1 <= len(words) <= 3:
        raise Unsupported(f"{text!r}: expected [WEEKDAYS] [DATE] [TIME]")
    weekdays = None
    if words[0][:1].isalpha():
        weekdays = parse_weekdays(words.pop(0))
    date, time_ = "*-*-*", "00:00:00"
    if len(words) == 2:
        date, time_ = words
    elif words and ":" in words[0]:
        time_ = words[0]
    elif words:
        date = words[0]
    if ":" in date or "-" in time_ or len(words) > 2:
        raise Unsupported(f"{text!r}: expected [WEEKDAYS] [DATE] [TIME], without a time zone")
    parts = date.split("-")
    if len(parts) == 2:
        parts.insert(0, "*")
    clock = time_.split(":")
    if len(clock) == 2:
        clock.append("00")
    if len(parts) != 3 or len(clock) != 3:
        raise Unsupported(f"{text!r}: expected YYYY-MM-DD and HH:MM[:SS]")
    years = None if parts[0] == "*" else values(parts[0], 1970, MAX_YEAR)
    return Spec(weekdays, years, values(parts[1], 1, 12), values(parts[2], 1, 31),
                values(clock[0], 0, 23), values(clock[1], 0, 59), values(clock[2], 0, 59))


def parse_weekdays(text):
    """'Mon..Fri,Sun' -> frozenset of weekday numbers (Monday = 0)."""
    days = set()
    for item in text.lower().split(","):
        first, sep, last = item.replace("-", "..").partition("..")
        a, b = weekday(first), weekday(last) if sep else weekday(first)
        if a > b:
            raise Unsupported(f"weekday range {item!r} runs backwards")
        days.update(range(a, b + 1))
    return frozenset(days)


def weekday(name):
    """A weekday name (three letters or full) as its number, Monday = 0."""
    short = FULL_NAMES.get(name, name)
    if short not in WEEKDAYS:
        raise Unsupported(f"{name!r} is not a weekday")
    return WEEKDAYS[short]


def values(text, low, high):
    """The set of numbers one date or time component matches.

    Args:
        text: '*', '5', '1..5', '00/15', '*/10', '1..20/5', or a comma list of them.
        low, high: the component's bounds.
    Raises:
        Unsupported for ~, fractions and anything else.
    """
    result = set()
    for item in text.split(","):
        base, slash, step_text = item.partition("/")
        if base == "*":
            first, last = low, high
        elif ".." in base:
            a, _, b = base.partition("..")
            first, last = number(a, low, high), number(b, low, high)
        else:
            first = number(base, low, high)
            last = high if slash else first
        step = number(step_text, 1, high) if slash else 1
        if first > last:
            raise Unsupported(f"{item!r} runs backwards")
        result.update(range(first, last + 1, step))
    return frozenset(result)


def number(text, low, high):
    """A plain decimal number within [low, high]; Unsupported otherwise."""
    if not decimal(text):
        raise Unsupported(f"{text!r} is not a whole number")
    value = int(text)
    if not low <= value <= high:
        raise Unsupported(f"{value} is out of range {low}..{high}")
    return value


def decimal(text):
    """True for a plain ASCII decimal number of at most four digits ("²" is a digit to
    str.isdigit but not to int)."""
    return text.isascii() and text.isdigit() and len(text) <= 4


def latest_due(specs, tz, now):
    """The latest instant, at or before ``now``, at which the schedule elapses.

    Args:
        specs: from specs_for.
        tz: a tzinfo (datetime.timezone.utc or a zoneinfo.ZoneInfo).
        now: an aware datetime.
    Returns:
        An aware UTC datetime, whole seconds; None if it did not elapse within
        HORIZON_DAYS.
    """
    now = now.astimezone(UTC)
    limit = wall_limit(now, tz)
    day = limit.date()
    for _ in range(HORIZON_DAYS):
        found = [t for t in (latest_on(spec, day, limit, tz, now) for spec in specs) if t]
        if found:
            return max(found)
        day -= datetime.timedelta(days=1)
    return None


def wall_limit(now, tz):
    """The latest wall time (naive) whose first occurrence is not after ``now``.

    In the second pass through a repeated hour (DST ending), wall times up to the
    end of that hour first occurred before now.
    """
    local = now.astimezone(tz)
    wall = local.replace(tzinfo=None)
    if local.fold:
        wall += local.replace(fold=0).utcoffset() - local.utcoffset()
    return wall


def latest_on(spec, day, limit, tz, now):
    """The latest elapse of ``spec`` on local date ``day`` not after ``now``, or None."""
    if (spec.years is not None and day.year not in spec.years) or \
            day.month not in spec.months or day.day not in spec.days or \
            (spec.weekdays is not None and day.weekday() not in spec.weekdays):
        return None
    midnight = datetime.datetime(day.year, day.month, day.day)
    hour_s, minute_s = datetime.timedelta(hours=1), datetime.timedelta(minutes=1)
    for hour in sorted(spec.hours, reverse=True):
        at_hour = midnight + hour * hour_s
        if at_hour > limit:
            continue
        for minute in sorted(spec.minutes, reverse=True):
            at_minute = at_hour + minute * minute_s
            if at_minute > limit:
                continue
            for second in sorted(spec.seconds, reverse=True):
                wall = at_minute + datetime.timedelta(seconds=second)
                if wall > limit:
                    continue
                instant = first_instant(wall, tz)
                if instant is not None and instant <= now:
                    return instant
    return None


def first_instant(wall, tz):
    """The UTC instant at which naive ``wall`` first occurs in ``tz``; None if skipped."""
    if tz is UTC:
        return wall.replace(tzinfo=UTC)
    instant = wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if instant.astimezone(tz).replace(tzinfo=None) != wall:
        return None  # the clock jumped over it
    return instant


def unevaluated(schedule):
    """Why the slot of ``schedule`` cannot be computed here (one line), or None if it can.

    For `ticketing-cron check`: such a job's timer runs are sent as unscheduled.
    """
    if schedule is None or schedule.strip() in EVERY_MINUTE:
        return None
    try:
        specs_for(schedule)
    except Unsupported as e:
        return str(e)
    return None
