"""Timers one second ahead, against systemd's own calendar (`systemd-analyze calendar`).

For typical schedules in UTC and in zones with daylight saving time (whole hours in New
York and Berlin, half an hour in Lord Howe, at :45 in Chatham), counted from just before
each change of offset and around month and year ends: the elapses of the ahead values
(merged, as a timer merges its OnCalendar= lines) are exactly the job's elapses minus
one second. And for each kind of schedule schedules.ahead refuses, systemd shows that the
naive shift would be wrong, so the refusals are needed.
"""

import datetime

import pytest

from ticketing_cron.schedules import calendar, plan, zonetable
from ticketing_cron.schedules.ahead import LEAD_S, ahead_lines
from ticketing_cron.schedules.generator import fixed_offset

UTC = datetime.timezone.utc
LEAD = datetime.timedelta(seconds=LEAD_S)
SCHEDULES = ["* * * * *", "*/5 * * * *", "0 * * * *", "15 * * * *", "0 3 * * *",
             "30 2 * * *", "0 0 * * *", "0 0 1 * *", "0 9 * * 1-5", "0,30 * * * *",
             "5,35 8-18 * * *", "@hourly", "@daily", "@weekly", "@monthly", "@yearly",
             "minutely", "hourly", "daily", "0 */2 * * *", "17 2 * * *", "59 1 * * *",
             "10 2 * * *", "0 23 28-31 * *", "30 4 1,15 * fri", "Mon..Fri 18:00",
             "*:0/15", "0 0,12 * * *", "*-*~01 03:20", "*/7 * * * *", "0 */7 * * *",
             "*/25 * * * *", "*:00..56/7", "3-59/20 * * * *", "*-*-01/10 03:15"]
ZONES = ["UTC", "America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Pacific/Chatham",
         "Asia/Kolkata"]
# Zones without changes of offset, shifted as UTC is.
FIXED = ["Asia/Kolkata"]
ITERATIONS = 60
# Month and year ends (and a leap day), in UTC and where most zones are a day ahead.
ENDS = [datetime.datetime(*t, tzinfo=UTC) for t in (
    (2026, 4, 30, 23, 30), (2026, 12, 31, 9, 30), (2026, 12, 31, 23, 30),
    (2027, 2, 28, 22, 0), (2028, 2, 28, 22, 0), (2028, 2, 29, 10, 30))]


def base_times(zone):
    """Instants to count from: before each of the zone's changes in 2026 and 2027 (ten
    minutes, two hours and two days before), and the month and year ends."""
    if zone == "UTC" or zone in FIXED:
        return ENDS
    start = int(datetime.datetime(2026, 1, 1, tzinfo=UTC).timestamp())
    end = int(datetime.datetime(2028, 1, 1, tzinfo=UTC).timestamp())
    changes = [t for t, _, _ in zonetable.table(zone, start).changes if t < end]
    assert len(changes) == 4, (zone, changes)
    return ENDS + [datetime.datetime.fromtimestamp(t, UTC) - datetime.timedelta(seconds=s)
                   for t in changes for s in (600, 7200, 2 * 86400)]


def differences(original, ahead, bases):
    """Where the merged elapses of ``ahead`` counted from each base time minus a second
    differ from those of ``original`` minus a second; and how many were compared."""
    found, compared = [], 0
    for base in bases:
        theirs = calendar.analyze(list(original), ITERATIONS, base).values()
        ours = calendar.analyze(list(ahead), ITERATIONS, base - LEAD).values()
        due = [t - LEAD for t in calendar.merged_elapses(theirs)]
        early = calendar.merged_elapses(ours)
        assert due and early, (original, ahead, base)
        horizon = min(due[-1], early[-1])
        due, early = [t for t in due if t <= horizon], [t for t in early if t <= horizon]
        compared += len(due)
        if due != early:
            missing, extra = sorted(set(due) - set(early)), sorted(set(early) - set(due))
            found.append(f"from {base}: missing {missing[:3]}, extra {extra[:3]}")
    return found, compared


def normalized(lines):
    """systemd's normal forms of calendar expressions (each must be valid)."""
    results = calendar.analyze(list(lines), 1)
    assert not any(results[e].error for e in lines), results
    return [results[e].normalized for e in lines]


@pytest.mark.parametrize("zone", ZONES)
def test_ahead_values_elapse_exactly_one_second_before_the_schedule(zone):
    bases = base_times(zone)
    shifted = []
    for schedule in SCHEDULES:
        lines = plan.oncalendar_lines(schedule, zone)
        ahead = [ahead_lines(n, fixed_offset(zone)) for n in normalized(lines)]
        if any(values is None for values in ahead):
            continue
        values = [v for vs in ahead for v in vs]
        found, compared = differences(lines, values, bases)
        assert found == [], (schedule, zone, values, found)
        assert compared >= ITERATIONS * len(bases) // 2, (schedule, zone, compared)
        shifted.append(schedule)
    # What is shifted in each zone (what is not is refused on purpose: see below).
    # Cron steps that do not divide the hour or day ("*/7") are translated to bounded
    # repetitions ("00..56/7") and shift; systemd syntax's open-ended ones do not.
    refused = ("0 0 1 * *", "@weekly", "@monthly", "@yearly", "*-*-01/10 03:15")
    assert shifted == {
        "UTC": [s for s in SCHEDULES if s not in refused],
        "Asia/Kolkata": [s for s in SCHEDULES if s not in refused],
    }.get(zone, ["5,35 8-18 * * *", "17 2 * * *", "59 1 * * *", "10 2 * * *",
                 "*-*~01 03:20", "3-59/20 * * * *"])


@pytest.mark.parametrize("original,naive", [
    # Minute 0 in a zone with daylight saving time: the hour before the change back is
    # run the first time only, so the second before the next hour came an hour early.
    ("*-*-* *:00:00 America/New_York", "*-*-* *:59:59 America/New_York"),
    ("*-*-* *:*:00 Europe/Berlin", "*-*-* *:*:59 Europe/Berlin"),
    ("*-*-* 03:00:00 Europe/Berlin", "*-*-* 02:59:59 Europe/Berlin"),
    # Lord Howe moves by half an hour: the second before a skipped hour is there.
    ("*-*-* *:00:00 Australia/Lord_Howe", "*-*-* *:59:59 Australia/Lord_Howe"),
    ("*-*-* 02:30:00 Australia/Lord_Howe", "*-*-* 02:29:59 Australia/Lord_Howe"),
    # Chatham changes at :45.
    ("*-*-* 03:45:00 Pacific/Chatham", "*-*-* 03:44:59 Pacific/Chatham"),
    # Minute 0 of hour 0 on some days only: the second before is on another day.
    ("*-*-01 00:00:00 UTC", "*-*-01 23:59:59 UTC"),
    ("Mon *-*-* 00:00:00 UTC", "Mon *-*-* 23:59:59 UTC"),
    ("Mon..Fri *-*-* *:00:00 UTC", "Mon..Fri *-*-* *:59:59 UTC"),
    # systemd 252 skips 00:00 of an open-ended repetition that overshoots its start
    # (23:56 -> 00:07, and 21:00 -> 07:00 on the first of the month).
    ("*-*-* *:00/7:00 UTC", "*-*-* *:06,13,20,27,34,41,48,55,59:59 UTC"),
    ("*-*-* 00/7:00:00 UTC", "*-*-* 06,13,20,23:59:59 UTC"),
])
def test_what_is_refused_could_not_be_shifted_naively(original, naive):
    assert ahead_lines(normalized([original])[0]) is None
    zone = original.split()[-1]
    found, _ = differences([original], [naive], base_times(zone))
    assert found, (original, naive)


def test_only_zones_without_coming_changes_count_as_fixed():
    assert [z for z in ZONES if fixed_offset(z)] == ["UTC", *FIXED]
    assert fixed_offset("Asia/Tokyo") and fixed_offset("Etc/GMT+5")
    assert not fixed_offset("Nowhere/Else") and not fixed_offset("America/Santiago")


def test_every_coming_change_of_offset_is_at_a_quarter_of_an_hour_of_local_time():
    """What the zone rule stands on, for every zone on this machine: before and after
    each change until 2037, local time is a whole quarter of an hour."""
    import zoneinfo

    start = int(datetime.datetime(2026, 1, 1, tzinfo=UTC).timestamp())
    odd, zones, changes = [], 0, 0
    for name in sorted(zoneinfo.available_timezones()):
        try:
            table = zonetable.table(name, start)
        except (zonetable.Unknown, ValueError, OSError):
            continue
        zones += 1
        changes += len(table.changes)
        for t, before, after in table.changes:
            if any((t + offset) % 900 for offset in (before, after)):
                odd.append((name, t, before, after))
    assert odd == []
    assert zones > 300 and changes > 1000, (zones, changes)
