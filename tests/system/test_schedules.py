"""Jobs on their own schedules, in a booted container: the generator at daemon-reload,
a second job's timer elapsing a second ahead of the minute with sla-check's and its
request sent on the minute, its own records and alerts, an hourly job in another time
zone (not shifted), a bad schedule, verify and security of the generated units, and
removal and purge leaving nothing behind.

The tests run in this order and share one container (schedule_support.JobsBox).
"""

import re
import time

import pytest

from harness import TICK_LEAD_S, next_boundary, parse_timestamp, report, sleep_until, wait_for
from schedule_support import GENERATED, TIMER_STAMPS
from ticketing_cron.schedules.unit_dir import system_unit_dir

pytestmark = pytest.mark.system

MINUTELY = '[jobs.minutely]\npath = "/api/cron/minutely"\nschedule = "* * * * *"\n'
# Minute 0 in Kolkata (UTC+05:30) is minute 30 in UTC; Kolkata keeps its offset, so the
# timer is a second ahead. Berlin changes its clocks: minute 0 there is not shifted.
HOURLY = ('[jobs.hourly]\npath = "/api/cron/hourly"\nschedule = "0 * * * *"\n'
          'timezone = "Asia/Kolkata"\ndeadline = 600\n\n'
          '[jobs.berlin]\npath = "/api/cron/hourly"\nschedule = "0 * * * *"\n'
          'timezone = "Europe/Berlin"\ndeadline = 600\n')
BROKEN = '[jobs.month-end]\npath = "/api/cron/month-end"\nschedule = "0 23 L * *"\n'
MINUTELY_UNIT = "ticketing-cron@minutely.service"
MINUTELY_TIMER = "ticketing-cron@minutely.timer"
FAILURE = f"ticketing-cron-failure@{MINUTELY_UNIT}.service"
APPLY = "ticketing-cron-apply.service"


def trigger(box, timer):
    props = box.machine.show(timer, "LastTriggerUSec", "LastTriggerUSecMonotonic")
    return parse_timestamp(props["LastTriggerUSec"], props["LastTriggerUSecMonotonic"])


def next_elapse(box, timer):
    """The timer's next elapse (unix seconds), as systemd computed it."""
    return parse_timestamp(box.machine.show(timer, "NextElapseUSecRealtime")
                           ["NextElapseUSecRealtime"])


def test_a_new_job_is_generated_enabled_and_fires_with_sla_check(jobs_box, jobs_api):
    box = jobs_box
    # Saving the config is all it takes: ticketing-cron-apply.path sees the change and
    # its service reloads systemd and starts the new timer (which a plain daemon-reload
    # of systemd 252 would leave inactive).
    box.configure(jobs_api.url, MINUTELY)
    wait_for(lambda: box.state(MINUTELY_TIMER)["ActiveState"] == "active", 30,
             f"{MINUTELY_TIMER} to start by itself")
    dropin = box.read(f"{GENERATED}/{MINUTELY_TIMER}.d/ticketing-cron-generator.conf")
    # The job's schedule is every minute; its timer elapses a second before each.
    assert "# The job's schedule: *-*-* *:*:00 UTC.\n" in dropin, dropin
    assert "\nOnCalendar=\nOnCalendar=*-*-* *:*:59 UTC\n" in dropin, dropin
    assert box.exists(f"{GENERATED}/timers.target.wants/{MINUTELY_TIMER}", "-L")
    assert box.state(MINUTELY_TIMER)["UnitFileState"] == "enabled-runtime"
    calendar = box.machine.show(MINUTELY_TIMER, "TimersCalendar")["TimersCalendar"]
    assert "OnCalendar=*-*-* *:*:59 UTC" in calendar, calendar

    boundary = next_boundary(time.time() + 2)
    tick = boundary - TICK_LEAD_S
    assert next_elapse(box, MINUTELY_TIMER) == tick
    sleep_until(boundary + 1)
    for timer in ("ticketing-cron.timer", MINUTELY_TIMER):
        fired = wait_for(lambda timer=timer: (t := trigger(box, timer)) and t >= tick - 0.01
                         and t, 20, f"{timer} to elapse at {tick}")
        report(f"{timer} elapsed +{(fired - tick) * 1000:.0f} ms after second 59")
        assert fired - tick < 1, f"{timer} elapsed {fired - tick:.3f} s late"
        assert next_elapse(box, timer) == tick + 60, timer
    record = box.wait_summary("minutely", boundary - 1)
    assert record["OUTCOME"] == "ok" and record["_SYSTEMD_UNIT"] == MINUTELY_UNIT
    assert record["MESSAGE"].startswith("minutely ok: ")
    assert box.wait_summary("sla-check", boundary - 1)["_SYSTEMD_UNIT"] == \
        "ticketing-cron.service"
    for path in ("/api/cron/minutely", "/api/cron/sla-check"):
        calls = jobs_api.calls(path)
        assert [t for t in calls if t >= boundary], path
        # Sent on the minute, not when the timer elapsed.
        assert not [t for t in calls if tick - 0.5 <= t < boundary], (path, calls, boundary)


def test_the_job_alerts_through_its_own_failure_handler(jobs_box, jobs_api):
    box = jobs_box
    jobs_api.refuse.add("/api/cron/minutely")
    try:
        started = time.time()
        proc = box.machine.run(["systemctl", "start", MINUTELY_UNIT], check=False, timeout=120)
        assert proc.returncode != 0
        assert box.wait_summary("minutely", started)["OUTCOME"] == "auth"
        alert = wait_for(lambda: [r for r in box.machine.journal(f"_SYSTEMD_UNIT={FAILURE}")
                                  if r.get("FAILED_UNIT") == MINUTELY_UNIT], 30,
                         f"an alert record from {FAILURE}")[0]
        assert alert["JOB"] == "minutely" and alert["FAILED_OUTCOME"] == "auth"
        # The SLA check's own handler and streak were not involved.
        assert not box.machine.journal(
            "_SYSTEMD_UNIT=ticketing-cron-failure@ticketing-cron.service.service")
        assert box.machine.path("/var/lib/ticketing-cron/ticketing-cron@minutely.service.json") \
            .exists()
    finally:
        jobs_api.refuse.discard("/api/cron/minutely")
    box.machine.run(["systemctl", "reset-failed", MINUTELY_UNIT], check=False)


def test_an_hourly_job_in_another_zone_shows_its_next_elapse(jobs_box, jobs_api):
    box = jobs_box
    half_past = (int(time.time() - 1800) // 3600 + 1) * 3600 + 1800
    if half_past - time.time() < 15:  # keep the elapses out of the few seconds below
        sleep_until(half_past + 1)
    full_hour = (int(time.time()) // 3600 + 1) * 3600
    if full_hour - time.time() < 15:
        sleep_until(full_hour + 1)
    box.configure(jobs_api.url, MINUTELY + "\n" + HOURLY)
    box.reload()
    listing = box.machine.run(["systemctl", "list-timers", "--all", "ticketing-cron*"]).stdout
    print(listing)
    line = next(x for x in listing.splitlines() if "ticketing-cron@hourly.timer" in x)
    shown = re.search(r"\w{3} (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC", line).group(1)
    now = time.time()
    expected = (int(now - 1800) // 3600 + 1) * 3600 + 1800  # the next hh:30:00 UTC
    # A second before the job's elapse.
    assert shown == time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(expected - 1)), line
    assert next_elapse(box, "ticketing-cron@hourly.timer") == expected - TICK_LEAD_S
    dropin = box.read(f"{GENERATED}/ticketing-cron@hourly.timer.d/ticketing-cron-generator.conf")
    assert dropin.endswith("# The job's schedule: *-*-* *:00:00 Asia/Kolkata.\n# The timer "
                           "elapses 1 s ahead of it: the run gets ready and sends on the "
                           "second\n# (see ticketing-cron(8)).\n[Timer]\nOnCalendar=\n"
                           "OnCalendar=*-*-* *:59:59 Asia/Kolkata\n"), dropin
    # Not shifted: the job's own elapse, the next full hour.
    assert next_elapse(box, "ticketing-cron@berlin.timer") == (int(now) // 3600 + 1) * 3600
    dropin = box.read(f"{GENERATED}/ticketing-cron@berlin.timer.d/ticketing-cron-generator.conf")
    assert dropin.endswith("[Timer]\nOnCalendar=\nOnCalendar=*-*-* *:00:00 Europe/Berlin\n")
    assert "The job's schedule" not in dropin
    assert "ticketing-cron@minutely.timer" in listing and "ticketing-cron.timer" in listing
    timeout = box.machine.show("ticketing-cron@hourly.service", "TimeoutStartUSec")
    assert timeout["TimeoutStartUSec"] == "10min 3s"


def test_a_bad_schedule_is_named_and_the_other_jobs_keep_running(jobs_box, jobs_api):
    box = jobs_box
    box.provide_kmsg()
    box.configure(jobs_api.url, MINUTELY + "\n" + HOURLY + "\n" + BROKEN)
    # The path unit's service refuses a config with a problem and changes nothing.
    try:
        wait_for(lambda: box.state(APPLY)["ActiveState"] == "failed", 60,
                 f"{APPLY} to refuse the config")
    except AssertionError as error:
        shown = box.machine.run(["systemctl", "status", "--no-pager", "-n", "30", APPLY,
                                 "ticketing-cron-apply.path"], check=False).stdout
        raise AssertionError(f"{error}\n{shown}") from None
    refused = box.machine.journal("-u", APPLY, "-t", "ticketing-cron")
    assert any("jobs left as they were" in r["MESSAGE"] and "jobs.month-end.schedule" in
               r["MESSAGE"] for r in refused), refused
    assert box.state("ticketing-cron@month-end.timer")["ActiveState"] == "inactive"
    # The manual procedure (docs/jobs-and-schedules.md) applies it anyway: the generator
    # skips the bad job.
    box.reload()
    kmsg = box.kmsg()
    assert ("ticketing-cron-generator: [jobs.month-end] skipped: jobs.month-end.schedule: "
            "day-of-month field 'L': L (last day) has no faithful translation") in kmsg, kmsg
    check = box.machine.run(["ticketing-cron", "check"], check=False)
    assert check.returncode == 78
    assert "ticketing-cron: jobs.month-end.schedule: day-of-month field 'L'" in check.stderr
    assert "schedule minutely: '* * * * *' -> *-*-* *:*:00 UTC" in check.stdout
    assert "daemon-reload" not in check.stderr  # what runs is what the config says
    for timer in (MINUTELY_TIMER, "ticketing-cron@hourly.timer", "ticketing-cron.timer"):
        assert box.state(timer)["ActiveState"] == "active", timer
    assert box.state("ticketing-cron@month-end.timer")["ActiveState"] == "inactive"
    assert [line.split()[0] for line in box.failed_units().splitlines()] == [APPLY]

    # Edited but not reloaded (the path unit stopped, as by an administrator who
    # applies by hand): check says so.
    box.machine.run(["systemctl", "stop", "ticketing-cron-apply.path"])
    box.configure(jobs_api.url, MINUTELY + "\n" + HOURLY.replace("0 * * * *", "5 * * * *", 1))
    check = box.machine.run(["ticketing-cron", "check"], check=False)
    assert check.returncode == 0, check.stderr
    assert "(ticketing-cron@hourly.timer); run systemctl daemon-reload" in check.stderr
    proc = box.machine.run(["systemctl", "status", "--no-pager", "ticketing-cron@hourly.timer"],
                           check=False)
    # SourcePath= the config: systemd itself knows the unit is stale, and says so.
    assert "changed on disk. Run 'systemctl daemon-reload'" in proc.stderr, proc.stderr
    assert box.machine.show("ticketing-cron@hourly.service", "NeedDaemonReload") == \
        {"NeedDaemonReload": "yes"}
    box.machine.run(["systemctl", "start", "ticketing-cron-apply.path"])
    box.configure(jobs_api.url, MINUTELY + "\n" + HOURLY)
    wait_for(lambda: box.state(APPLY)["ActiveState"] == "inactive", 30,
             f"{APPLY} to apply the good config")
    assert box.machine.show("ticketing-cron@hourly.service", "NeedDaemonReload") == \
        {"NeedDaemonReload": "no"}
    assert "ticketing-cron" not in box.failed_units()


def test_generated_units_verify_and_are_sandboxed(jobs_box):
    m = jobs_box.machine
    units = system_unit_dir()  # where the build put the package's units
    env = ["env", f"SYSTEMD_UNIT_PATH={GENERATED}:/etc/systemd/system:{units}:"]
    proc = m.run([*env, "systemd-analyze", "verify", MINUTELY_TIMER, MINUTELY_UNIT,
                  "ticketing-cron@hourly.timer", "ticketing-cron@hourly.service",
                  "ticketing-cron.timer", "ticketing-cron.service"], check=False)
    assert proc.returncode == 0 and not proc.stderr.strip(), proc.stdout + proc.stderr
    shown = m.show(MINUTELY_UNIT, "DropInPaths", "DynamicUser", "ProtectSystem",
                   "TimeoutStartUSec", "OnFailure", "OnSuccess", "LoadCredential")
    assert f"{units}/ticketing-cron@.service.d/50-run.conf" in shown["DropInPaths"]
    assert shown["DynamicUser"] == "yes" and shown["ProtectSystem"] == "strict"
    assert shown["TimeoutStartUSec"] == "23s"  # deadline 20 s + 3 s
    assert shown["OnFailure"] == FAILURE
    assert shown["OnSuccess"] == f"ticketing-cron-recovery@{MINUTELY_UNIT}.service"
    for unit in ("ticketing-cron.service", MINUTELY_UNIT):
        out = m.run(["systemd-analyze", "security", "--no-pager", unit], check=False).stdout
        exposure = float(re.search(r"Overall exposure level for \S+: ([0-9.]+)", out).group(1))
        report(f"systemd-analyze security {unit}: exposure {exposure}")
        assert exposure <= 1.5, out


def test_a_removed_job_disappears_cleanly_even_while_failing(jobs_box, jobs_api):
    """Its last run failed; its table removed and nothing else done: no failed unit,
    no timer, no stamp, no generated file."""
    box = jobs_box
    jobs_api.refuse.add("/api/cron/minutely")
    try:
        box.machine.run(["systemctl", "start", MINUTELY_UNIT], check=False)
        assert box.state(MINUTELY_UNIT)["ActiveState"] == "failed"
        assert box.exists(f"{TIMER_STAMPS}/stamp-{MINUTELY_TIMER}")
        box.configure(jobs_api.url, HOURLY)
        wait_for(lambda: "ticketing-cron" not in box.failed_units(), 30,
                 "the removed job's failed unit to be cleared")
    finally:
        jobs_api.refuse.discard("/api/cron/minutely")
    wait_for(lambda: box.state(APPLY)["ActiveState"] == "inactive", 30, f"{APPLY} to finish")
    assert not box.exists(f"{GENERATED}/{MINUTELY_TIMER}.d")
    assert box.state(MINUTELY_TIMER)["ActiveState"] == "inactive"
    assert not box.exists(f"{TIMER_STAMPS}/stamp-{MINUTELY_TIMER}")
    listing = box.machine.run(["systemctl", "list-timers", "--all", "ticketing-cron*"]).stdout
    assert "minutely" not in listing, listing
    assert box.state("ticketing-cron@hourly.timer")["ActiveState"] == "active"


def test_purge_leaves_no_timer_stamp_and_no_failed_unit(jobs_box):
    m = jobs_box.machine
    stamps = m.run(["ls", TIMER_STAMPS]).stdout.split()
    assert "stamp-ticketing-cron@hourly.timer" in stamps or \
        "stamp-ticketing-cron.timer" in stamps, stamps
    m.run(["apt-get", "purge", "-y", "-q", "ticketing-cron"], timeout=300)
    stamps = m.run(["ls", TIMER_STAMPS]).stdout.split()
    assert not [s for s in stamps if "ticketing-cron" in s], stamps
    assert "ticketing-cron" not in jobs_box.failed_units()
    listing = m.run(["systemctl", "list-timers", "--all"]).stdout
    assert "ticketing-cron" not in listing, listing
    assert not jobs_box.exists(f"{GENERATED}/timers.target.wants/ticketing-cron@hourly.timer",
                               "-L")
