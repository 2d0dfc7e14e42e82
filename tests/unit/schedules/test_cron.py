"""Cron lines to OnCalendar=, checked against systemd's own calendar parser.

Every translation is compared with `systemd-analyze calendar --iterations`: its next
elapses must be exactly those of a brute-force cron evaluator (cron_oracle.py).
"""

import datetime

import pytest

from .cron_oracle import next_times
from ticketing_cron.base.errors import CronError
from ticketing_cron.schedules import calendar
from ticketing_cron.schedules.ahead import bounded_forms
from ticketing_cron.schedules.cron import HOUR, MINUTE, is_cron_line, numbers, translate
from ticketing_cron.schedules.plan import oncalendar_lines

BASE = datetime.datetime(2026, 3, 27, 22, 58, 30, tzinfo=datetime.timezone.utc)

# (cron line, the OnCalendar= values it becomes)
TABLE = [
    ("* * * * *", ["*-*-* *:*:00"]),
    ("*/5 * * * *", ["*-*-* *:00..55/5:00"]),
    # systemd 252 carries an open-ended "00/7" wrongly past 23:56 (to 00:07) and past the
    # 29th of a long month (to the 8th): every repetition is bounded.
    ("*/7 * * * *", ["*-*-* *:00..56/7:00"]),
    ("0 */7 * * *", ["*-*-* 00..21/7:00:00"]),
    ("0 0 */7 * *", ["*-*-01..29/7 00:00:00"]),
    ("0 0 1 */5 *", ["*-01..11/5-01 00:00:00"]),
    ("0 * * * *", ["*-*-* *:00:00"]),
    ("0 9 * * 1-5", ["Mon..Fri *-*-* 09:00:00"]),
    ("30 9 * * mon-fri", ["Mon..Fri *-*-* 09:30:00"]),
    ("0 7 * * MON,WED,FRI", ["Mon,Wed,Fri *-*-* 07:00:00"]),
    ("10-30/5 * * * *", ["*-*-* *:10..30/5:00"]),
    ("0 8-18/2 * * *", ["*-*-* 08..18/2:00:00"]),
    ("0 0 * * 0", ["Sun *-*-* 00:00:00"]),
    ("0 0 * * 7", ["Sun *-*-* 00:00:00"]),
    ("0 0 * * 5-7", ["Fri..Sun *-*-* 00:00:00"]),
    ("0 0 * * sat,sun", ["Sat,Sun *-*-* 00:00:00"]),
    ("0 0 1,15 * 5", ["Fri *-*-* 00:00:00", "*-*-01,15 00:00:00"]),
    ("30 4 1-7 * mon", ["Mon *-*-* 04:30:00", "*-*-01..07 04:30:00"]),
    ("0 12 */2 * mon", ["Mon *-*-01..31/2 12:00:00"]),
    ("0 0 13 * */3", ["Wed,Sat,Sun *-*-13 00:00:00"]),
    ("15 3 * jan,jul *", ["*-01,07-* 03:15:00"]),
    ("0 0 1 jan-mar,oct *", ["*-01..03,10-01 00:00:00"]),
    ("0 6 * * 1-5/2", ["Mon,Wed,Fri *-*-* 06:00:00"]),
    ("5,10,45 1,13 * * *", ["*-*-* 01,13:05,10,45:00"]),
    ("59 23 31 12 *", ["*-12-31 23:59:00"]),
    ("0 0 29 2 *", ["*-02-29 00:00:00"]),
    ("30 * * * * *", ["*-*-* *:*:30"]),
    ("*/15 * * * * *", ["*-*-* *:*:00..45/15"]),
    ("0 */10 9-17 * * 1-5", ["Mon..Fri *-*-* 09..17:00..50/10:00"]),
    ("@hourly", ["*-*-* *:00:00"]),
    ("@daily", ["*-*-* 00:00:00"]),
    ("@midnight", ["*-*-* 00:00:00"]),
    ("@weekly", ["Sun *-*-* 00:00:00"]),
    ("@monthly", ["*-*-01 00:00:00"]),
    ("@yearly", ["*-01-01 00:00:00"]),
    ("@annually", ["*-01-01 00:00:00"]),
]
AT_LINES = {"@hourly": "0 * * * *", "@daily": "0 0 * * *", "@midnight": "0 0 * * *",
            "@weekly": "0 0 * * 0", "@monthly": "0 0 1 * *", "@yearly": "0 0 1 1 *",
            "@annually": "0 0 1 1 *"}


@pytest.fixture(scope="module")
def systemd_elapses():
    """Every table entry's OnCalendar= values as systemd computes them: 50 elapses each."""
    expressions = sorted({e + " UTC" for _, lines in TABLE for e in lines})
    return calendar.analyze(expressions, 50, BASE)


@pytest.mark.parametrize("line,expected", TABLE, ids=[t[0] for t in TABLE])
def test_translation(line, expected):
    assert list(translate(line)) == expected


@pytest.mark.parametrize("line,expected", TABLE, ids=[t[0] for t in TABLE])
def test_systemd_runs_the_translation_when_cron_would(line, expected, systemd_elapses):
    results = [systemd_elapses[e + " UTC"] for e in expected]
    assert [r.error for r in results] == [None] * len(results)
    # systemd's own normal form: the translation is already in it, give or take spelling.
    assert all(r.normalized for r in results)
    merged = list(calendar.merged_elapses(results))[:50]
    oracle = next_times(AT_LINES.get(line, line), BASE, 50)
    # Two expressions: their union is complete only up to the earlier one's last elapse.
    assert merged == oracle[:len(merged)]
    assert len(merged) >= 25


@pytest.mark.parametrize("values,spec,text", [
    (range(60), MINUTE, "*"),
    (range(24), HOUR, "*"),
    ([5], MINUTE, "05"),
    ([4, 34], MINUTE, "04,34"),
    ([1, 2], HOUR, "01,02"),
    ([8, 9, 10, 11], HOUR, "08..11"),
    ([1, 2, 3, 7, 9, 10], MINUTE, "01..03,07,09,10"),
    (range(4, 60, 5), MINUTE, "04..59/5"),
    (range(1, 24, 2), HOUR, "01..23/2"),
    (range(0, 24, 2), HOUR, "00..22/2"),
    (range(3, 60, 20), MINUTE, "03..43/20"),
    ([4, 9, 14], MINUTE, "04..14/5"),
    ([59, 14, 29, 44], MINUTE, "14..59/15"),
    # Not one step apart: a list.
    ([4, 9, 15], MINUTE, "04,09,15"),
])
def test_sets_are_written_as_systemd_reads_them(values, spec, text):
    assert numbers(values, spec) == text


def test_dom_dow_or_really_differs_from_and():
    """The case the two OnCalendar= lines exist for: either day field is enough."""
    merged = calendar.merged_elapses(calendar.analyze(
        [e + " UTC" for e in translate("0 0 13 * 5")], 20, BASE).values())
    assert any(t.day != 13 for t in merged) and any(t.weekday() != 4 for t in merged)
    assert all(t.day == 13 or t.weekday() == 4 for t in merged)


@pytest.mark.parametrize("line,words", [
    ("@reboot", "@reboot has no calendar equivalent"),
    ("@every 5m", "unknown; known @names"),
    ("0 0 L * *", "L (last day)"),
    ("0 0 * * 5L", "L (last day)"),
    ("0 0 LW * *", "L (last day)"),
    ("0 0 15W * *", "W (nearest weekday)"),
    ("0 0 * * 1#2", "# (the Nth weekday"),
    ("0 0 ? * 1", "? is not standard cron syntax"),
    ("60 * * * *", "minute field '60': 60 is out of range; allowed 0-59"),
    ("0 24 * * *", "hour field '24': 24 is out of range"),
    ("0 0 0 * *", "day-of-month field '0': 0 is out of range; allowed 1-31"),
    ("0 0 * 13 *", "month field '13': 13 is out of range"),
    ("0 0 * * 8", "day-of-week field '8': 8 is out of range; allowed 0-7"),
    ("*/0 * * * *", "the step after / must be a whole number from 1 to 60"),
    ("*/61 * * * *", "the step after / must be"),
    ("*/x * * * *", "the step after / must be"),
    ("5/15 * * * *", "a step needs a range or *, as in 5-59/15"),
    ("30-10 * * * *", "range 30-10 runs backwards"),
    ("0 0 * * fri-mon", "range fri-mon runs backwards"),
    ("0 0 * jan-foo *", "'foo' is not a number or a name"),
    ("0 0 * * jan", "'jan' is not a number or a name"),
    ("0 0 1 * * * *", "a cron line has 5 fields"),
    ("1,,2 * * * *", "'' is not a number"),
    ("61 * * * * *", "second field '61': 61 is out of range"),
])
def test_refused_forms_say_why(line, words):
    with pytest.raises(CronError) as e:
        translate(line)
    assert e.value.outcome == "config" and words in e.value.message
    assert "\n" not in e.value.message


@pytest.mark.parametrize("text,cron", [
    ("*/5 * * * *", True), ("0 9 * * 1-5", True), ("30 * * * * *", True), ("@daily", True),
    ("@reboot", True), ("*:*:00", False), ("hourly", False), ("Mon..Fri 07:00", False),
    ("Mon..Fri *-*-* 07:00:00 Europe/Berlin", False), ("*-*-* *:*:00", False)])
def test_cron_lines_are_told_from_calendar_syntax(text, cron):
    assert is_cron_line(text) is cron


def test_time_zone_is_appended_to_every_line():
    assert oncalendar_lines("0 7 1 * mon", "Europe/Berlin") == (
        "Mon *-*-* 07:00:00 Europe/Berlin", "*-*-01 07:00:00 Europe/Berlin")
    assert oncalendar_lines("Mon..Fri 07:00", "UTC") == ("Mon..Fri 07:00 UTC",)


def test_a_long_line_is_refused_before_any_work():
    with pytest.raises(CronError, match="longer than 200"):
        translate("1," * 150 + "2 * * * *")


@pytest.mark.parametrize("open_ended,cron_line", [
    ("*-*-* *:00/7:00", "*/7 * * * *"),
    ("*-*-* 02/5:30:00", "30 2-23/5 * * *"),
    ("*-*-01/7 03:00:00", "0 3 */7 * *"),
    ("*-*-* *:*:00/7", "*/7 * * * * *"),
])
def test_systemd_misreads_what_check_warns_about_and_reads_its_bounded_form(open_ended,
                                                                            cron_line):
    """The forms ahead.bounded_forms names (and `check` warns about): systemd 252 skips
    runs of the open-ended one past a field's end, and runs the bounded one as cron."""
    (written, bounded), = bounded_forms(open_ended + " UTC")
    fixed = open_ended.replace(written, bounded, 1)
    base = datetime.datetime(2026, 12, 31, 23, 55, 30, tzinfo=datetime.timezone.utc)
    results = calendar.analyze([open_ended + " UTC", fixed + " UTC"], 60, base)
    theirs, ours = (list(calendar.merged_elapses([results[e + " UTC"]]))
                    for e in (open_ended, fixed))
    assert ours == next_times(cron_line, base, 60)
    assert theirs != ours
