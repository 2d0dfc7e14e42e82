"""schedules.ahead: which schedules get a timer one second ahead, and its values.

Exactness against systemd's own calendar is tests/integration/test_ahead_exact.py.
"""

import pytest

from ticketing_cron.schedules.ahead import LEAD_S, ahead_lines, bounded_forms


def test_the_lead_is_one_second():
    assert LEAD_S == 1


@pytest.mark.parametrize("normalized,ahead", [
    # No run at minute 0: the same hours, each minute's previous second.
    ("*-*-* *:15:00 UTC", ("*-*-* *:14:59 UTC",)),
    ("*-*-* 02:30:00 UTC", ("*-*-* 02:29:59 UTC",)),
    ("*-*-* 08..18:05,35:00 UTC", ("*-*-* 08..18:04,34:59 UTC",)),
    ("Fri *-*-* 04:30:00 UTC", ("Fri *-*-* 04:29:59 UTC",)),
    ("*-*-01,15 04:30:00 UTC", ("*-*-01,15 04:29:59 UTC",)),
    ("*-*~01 03:15:00 UTC", ("*-*~01 03:14:59 UTC",)),
    ("2027-*-* 10:52:00 UTC", ("2027-*-* 10:51:59 UTC",)),
    ("*-*-* 01/2:05:00 UTC", ("*-*-* 01..23/2:04:59 UTC",)),
    ("*-*-* *:05..10/5:00 UTC", ("*-*-* *:04,09:59 UTC",)),
    ("*-*-* *:03/20:00 UTC", ("*-*-* *:02..42/20:59 UTC",)),
    ("*-*-* *:00..56/7:00 UTC", ("*-*-* *:06,13,20,27,34,41,48,55,59:59 UTC",)),
    # ... also in another zone when no run is at a quarter of an hour.
    ("*-*-* 08..18:05,35:00 Europe/Berlin", ("*-*-* 08..18:04,34:59 Europe/Berlin",)),
    ("*-*-* 02:17:00 America/New_York", ("*-*-* 02:16:59 America/New_York",)),
    ("Sun *-*-* 03:16:00 Pacific/Chatham", ("Sun *-*-* 03:15:59 Pacific/Chatham",)),
    ("*-*-* 23:59:00 Australia/Lord_Howe", ("*-*-* 23:58:59 Australia/Lord_Howe",)),
    # Minute 0, every hour, every day: the previous hour's last second.
    ("*-*-* *:00:00 UTC", ("*-*-* *:59:59 UTC",)),
    ("*-*-* *:*:00 UTC", ("*-*-* *:*:59 UTC",)),
    ("*-*-* *:00/5:00 UTC", ("*-*-* *:04..59/5:59 UTC",)),
    ("*-*-* *:00,30:00 UTC", ("*-*-* *:29,59:59 UTC",)),
    # Minute 0 at named hours: the other minutes, and the previous hours' last second.
    ("*-*-* 00:00:00 UTC", ("*-*-* 23:59:59 UTC",)),
    ("*-*-* 03:00:00 UTC", ("*-*-* 02:59:59 UTC",)),
    ("Mon..Fri *-*-* 09:00:00 UTC", ("Mon..Fri *-*-* 08:59:59 UTC",)),
    ("*-*-01 09:00:00 UTC", ("*-*-01 08:59:59 UTC",)),
    ("*-*-* 00,12:00,30:00 UTC", ("*-*-* 00,12:29:59 UTC", "*-*-* 11,23:59:59 UTC")),
    ("*-*-* 01/2:00:00 UTC", ("*-*-* 00..22/2:59:59 UTC",)),
    ("*-*-* 08..18:00/15:00 UTC",
     ("*-*-* 08..18:14..44/15:59 UTC", "*-*-* 07..17:59:59 UTC")),
])
def test_a_shiftable_schedule_gets_the_values_one_second_ahead(normalized, ahead):
    assert ahead_lines(normalized) == ahead


@pytest.mark.parametrize("normalized", [
    # Seconds other than 00, fractions, "~" in the time.
    "*-*-* *:*:30 UTC",
    "*-*-* *:*:00/10 UTC",
    "*-*-* *:*:00.500000 UTC",
    "*-*-* *:05.5:00 UTC",
    "*-*-* 03~02:00:00 UTC",
    # Minute 0 on hour 0 of a restricted date: the previous second is another day's.
    "*-*-01 00:00:00 UTC",
    "Mon *-*-* 00:00:00 UTC",
    "*-02-* 00,12:00:00 UTC",
    # Minute 0 every hour with any date or weekday restriction.
    "Mon..Fri *-*-* *:00:00 UTC",
    "*-*-01 *:00/5:00 UTC",
    # Minute 0 in a zone with changes of offset (the hour before may be skipped or
    # repeated): never shifted outside UTC.
    "*-*-* *:00:00 America/New_York",
    "*-*-* *:*:00 Europe/Berlin",
    "*-*-* 03:00:00 Europe/Berlin",
    "Mon..Fri *-*-* 07:00:00 Europe/Berlin",
    "*-*-* 00:00:00 Australia/Lord_Howe",
    # A quarter of an hour in a zone: Lord Howe changes by 30 minutes, Chatham at :45.
    "*-*-* 02:30:00 America/New_York",
    "*-*-* *:30:00 Australia/Lord_Howe",
    "*-*-* 02:45:00 Pacific/Chatham",
    "*-*-* *:15:00 Europe/Berlin",
    # An open-ended repetition that systemd 252 evaluates wrongly at midnight (it skips
    # 00:00 of "*:00/7": 23:56 -> 00:07) and a repetition of days.
    "*-*-* *:00/7:00 UTC",
    "*-*-* *:00/25:00 UTC",
    "*-*-* 00/7:00:00 UTC",
    "*-*-* 00/5:30:00 UTC",
    "*-*-01/10 03:15:00 UTC",
    # Not systemd's normal form.
    "*:00 UTC",
    "hourly UTC",
    "*-*-* *:00:00",
    "Mon *-*-* *:00:00 UTC extra",
    "*-*-* *:60:00 UTC",
    "*-*-* 24:05:00 UTC",
    "*-*-* x:05:00 UTC",
    "",
])
def test_what_cannot_be_shifted_exactly_gets_none(normalized):
    assert ahead_lines(normalized) is None


@pytest.mark.parametrize("normalized,ahead", [
    ("*-*-* *:00:00 Asia/Kolkata", ("*-*-* *:59:59 Asia/Kolkata",)),
    ("*-*-* 00:00:00 Asia/Tokyo", ("*-*-* 23:59:59 Asia/Tokyo",)),
    ("*-*-* 02:30:00 Asia/Kolkata", ("*-*-* 02:29:59 Asia/Kolkata",)),
    ("Mon..Fri *-*-* 09:00:00 Asia/Tokyo", ("Mon..Fri *-*-* 08:59:59 Asia/Tokyo",)),
])
def test_a_zone_that_keeps_its_offset_is_shifted_as_utc_is(normalized, ahead):
    assert ahead_lines(normalized, fixed=True) == ahead
    assert ahead_lines(normalized) is None


def test_a_fixed_zone_still_needs_seconds_00_and_every_day_for_hour_0():
    assert ahead_lines("*-*-01 00:00:00 Asia/Kolkata", fixed=True) is None
    assert ahead_lines("*-*-* *:*:30 Asia/Kolkata", fixed=True) is None


@pytest.mark.parametrize("normalized,forms", [
    ("*-*-* *:00/7:00 UTC", [("00/7", "00..56/7")]),
    ("*-*-* 02/5:30:00 Europe/Berlin", [("02/5", "02..22/5")]),
    ("*-*-01/7 03:00:00 UTC", [("01/7", "01..29/7")]),
    ("*-*-* *:*:00/7 UTC", [("00/7", "00..56/7")]),
    ("*-*-* 00/7:00/7:00 UTC", [("00/7", "00..21/7"), ("00/7", "00..56/7")]),
    # Wrapping onto its start, or bounded already: read right.
    ("*-*-* *:00/5:00 UTC", []),
    ("*-*-* *:05/7:00 UTC", []),
    ("*-*-* *:00..56/7:00 UTC", []),
    ("*-*-01/2 00:00:00 UTC", []),
    ("*-*~01/7 00:00:00 UTC", []),
    ("not a calendar", []),
])
def test_open_ended_repetitions_systemd_misreads_get_their_bounded_form(normalized, forms):
    assert bounded_forms(normalized) == forms


@pytest.mark.parametrize("hostile", [
    "*-*-* *:²/7:00 UTC", "*-*-* *:00/²:00 UTC", "*-*-* *:00/0:00 UTC",
    "*-*-* *:00/99999999999999999999:00 UTC", "*-*-* *:/7:00 UTC", "*-*-* *:00/:00 UTC",
    "*-*-* *:99/7:00 UTC", "*-*-0x1/7 00:00:00 UTC",
])
def test_text_systemd_would_not_print_is_no_repetition_and_raises_nothing(hostile):
    assert bounded_forms(hostile) == []
    assert ahead_lines(hostile) is None
