"""schedules.match agrees with systemd's own calendar (`systemd-analyze calendar`): for each
elapse systemd computes, the slot code finds that elapse a moment later, and the one
before it a second earlier; in UTC and in zones with daylight saving time."""

import datetime

import pytest

from ticketing_cron.schedules import calendar, match, plan

UTC = datetime.timezone.utc
# Counted from just before the spring and autumn changes in Europe and the US.
BASES = [datetime.datetime(2026, month, day, 12, tzinfo=UTC)
         for month, day in ((3, 7), (3, 28), (10, 24), (10, 31))]
SCHEDULES = ["*:*:00", "hourly", "*:0/15", "30 2 * * *", "0 7 * * 1-5", "0 9 1 * mon",
             "Mon..Fri *-*-* 07:30", "*-*-* 01,02,03:30:00", "@weekly", "*/10 * * * * *",
             "0 0 1,15 * *", "quarterly", "Sat,Sun 12:00"]
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe"]


@pytest.mark.parametrize("zone", ZONES)
def test_latest_due_finds_every_elapse_systemd_computes(zone):
    expressions = {s: plan.oncalendar_lines(s, zone) for s in SCHEDULES}
    tz = match.UTC if zone == "UTC" else plan.zone(zone)
    checked = 0
    for base in BASES:
        results = calendar.analyze(sorted({e for v in expressions.values() for e in v}), 12,
                                   base)
        for schedule, lines in expressions.items():
            elapses = calendar.merged_elapses([results[e] for e in lines])
            assert elapses, (schedule, zone, [results[e].error for e in lines])
            specs = match.specs_for(schedule)
            for earlier, elapse in zip(elapses, elapses[1:]):
                at = match.latest_due(specs, tz, elapse + datetime.timedelta(seconds=0.3))
                assert at == elapse, (schedule, zone, elapse, at)
                before = match.latest_due(specs, tz, elapse - datetime.timedelta(seconds=1))
                assert before == earlier, (schedule, zone, elapse, before)
                checked += 1
    assert checked > 300
