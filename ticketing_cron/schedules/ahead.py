"""A job's timer one second ahead of its schedule, where that can be said exactly.

The timer elapses LEAD_S before each run is due, so that the run has started Python,
read its config and secret and built its request when the second comes, and sends then.
A shifted OnCalendar= value must elapse at exactly the job's elapses minus LEAD_S, never
more, never fewer; where the rules below cannot show that, there is no shift and the
job's own line is kept (its run then starts on the second, as without the lead).

The rules take systemd's normal form of one expression and work on its minute and hour
fields (the elapses' seconds must be 00):

- no run at minute 0: each run's previous second is in the same hour, on the same day;
- a run at minute 0: its previous second is in the previous hour, which for hour 0 is on
  the previous day, so the date must be every day (or hour 0 must not be run).

In a zone other than UTC, wall-clock arithmetic fails where the clock changes. At a
change from local time a to local time b, the second before a is there while a is
skipped (going forward); going back, the second before a first comes before the repeated
time and a only after it (systemd runs a repeated time the first time only).
systemd-analyze shows both for hourly and every-minute schedules in New York and Berlin.
Every coming change in the zone database happens at a quarter of an hour of local time,
before and after it (Pacific/Chatham changes at :45, Australia/Lord_Howe by half an
hour), so in another zone only schedules with no run at a quarter of an hour are shifted.
A zone whose offset never changes again (Asia/Kolkata, Asia/Tokyo) is like UTC; the
caller, who can read the zone database, says so.

Pure: no I/O.
"""

from ticketing_cron.config.keys import TIMER_LEAD_S
from ticketing_cron.schedules import match
from ticketing_cron.schedules.cron import HOUR, MINUTE, numbers

LEAD_S = TIMER_LEAD_S  # the run's side of the lead is run/slot.py
# Minutes of the hour at which a zone's clock may change; 0 is refused by the rules.
QUARTERS = frozenset({15, 30, 45})
EVERY_DAY = "*-*-*"


def ahead_lines(normalized, fixed=False):
    """The OnCalendar= values that elapse exactly LEAD_S before ``normalized`` does.

    Args:
        normalized: one calendar expression in systemd's normal form, with its zone, as
            `systemd-analyze calendar` prints it ("Mon..Fri *-*-* 03:00:00 UTC").
        fixed: True when the expression's zone keeps one offset from UTC from now on
            (UTC itself always does).
    Returns:
        A tuple of one or two calendar expressions (with the same zone) whose elapses,
        merged, are the expression's elapses minus one second; None when the rules
        cannot say so (seconds other than 00, "~" or fractions in the time, minute 0
        with a date restriction on hour 0, minute 0 or a quarter hour in a zone whose
        offset changes, text not in normal form).
    Raises:
        Nothing.
    """
    words = normalized.split()
    if len(words) not in (3, 4):
        return None
    *weekdays, date, clock, zone = words
    fields = clock.split(":")
    if len(fields) != 3 or fields[2] != "00":
        return None
    if "/" in date or skips_its_start(fields[0], 23) or skips_its_start(fields[1], 59):
        return None
    try:
        hours = match.values(fields[0], 0, 23)
        minutes = match.values(fields[1], 0, 59)
    except match.Unsupported:
        return None
    day = " ".join(weekdays + [date])
    every_day = date == EVERY_DAY and not weekdays
    fixed = fixed or zone == "UTC"
    if 0 not in minutes:
        if not fixed and minutes & QUARTERS:
            return None
        return (f"{day} {hour_list(hours)}:{minute_list(m - 1 for m in minutes)}:59 {zone}",)
    if not fixed:
        return None
    if len(hours) == 24:
        if not every_day:
            return None
        return (f"{day} *:{minute_list((m - 1) % 60 for m in minutes)}:59 {zone}",)
    if 0 in hours and not every_day:
        return None
    values = []
    if minutes - {0}:
        values.append(f"{day} {hour_list(hours)}:"
                      f"{minute_list(m - 1 for m in minutes - {0})}:59 {zone}")
    values.append(f"{day} {hour_list((h - 1) % 24 for h in hours)}:59:59 {zone}")
    return tuple(values)


def skips_its_start(text, high):
    """True when a component has an open-ended repetition ("00/7") that systemd 252
    evaluates wrongly: past its last value it carries into the next hour (day) at
    last + step, beyond the start value, and at local midnight (the first of the month)
    the start is skipped (23:56 -> 00:07 for "*:00/7"). The job's own elapses are then
    not the schedule's, and a shift would not match them. Unparsable text: False."""
    return any(bounded_form(item, 0, high) for item in text.split(","))


def bounded_form(item, low, high):
    """The bounded form ("00..56/7") of one open-ended repetition ("00/7") of a component
    from ``low`` to ``high`` that systemd 252 misreads (see skips_its_start); None when
    ``item`` is no such repetition, or is not plain numbers."""
    start, slash, step = item.partition("/")
    if not slash or ".." in start or not match.decimal(step) or int(step) == 0:
        return None
    first = low if start == "*" else int(start) if match.decimal(start) else None
    if first is None or first > high:
        return None
    last = first + (high - first) // int(step) * int(step)
    if last + int(step) - (high + 1) <= first:
        return None
    return f"{first:02d}..{last:02d}/{step}"


def bounded_forms(normalized):
    """The open-ended repetitions of an expression that systemd 252 evaluates wrongly
    (skips_its_start), each with the bounded form that names the same values.

    Args:
        normalized: one calendar expression in systemd's normal form, with its zone
            ("*-*-* *:00/7:00 UTC").
    Returns:
        A list of (written, bounded) pairs, such as [("00/7", "00..56/7")]; [] when there
        is none or the text is not in normal form.
    Raises:
        Nothing.
    """
    words = normalized.split()
    if len(words) not in (3, 4):
        return []
    date, clock = words[-3], words[-2]
    fields = clock.split(":")
    parts = [] if "~" in date else [(date.rpartition("-")[2], 1, 31)]
    if len(fields) == 3:
        parts += [(fields[0], 0, 23), (fields[1], 0, 59), (fields[2], 0, 59)]
    return [(item, bounded) for text, low, high in parts for item in text.split(",")
            if (bounded := bounded_form(item, low, high))]


def hour_list(hours):
    """A set of hours in systemd's syntax (see cron.numbers)."""
    return numbers(hours, HOUR)


def minute_list(minutes):
    """A set of minutes in systemd's syntax (see cron.numbers)."""
    return numbers(minutes, MINUTE)
