"""Ten jobs and the SLA check due on the same minute, in a container of their own: each
is called exactly once for that minute, with its own slot's Idempotency-Key, and each
run's summary record is its own unit's; the timers elapse a second ahead and no
request reaches the app before its minute. (How late the requests arrive is measured by
dev/bench, never asserted here.)
"""

import calendar
import os
import time

import pytest

from harness import (boot_with_package, next_boundary, own_standin, parse_timestamp, sleep_until,
                     wait_for)

pytestmark = pytest.mark.system

JOBS = ["sla-check"] + [f"job-{i:02d}" for i in range(1, 11)]
CONFIG = "/etc/ticketing-cron/config.toml"
SECRET = "/etc/ticketing-cron/cron-secret"


def unit_of(job):
    return "ticketing-cron.service" if job == "sla-check" else f"ticketing-cron@{job}.service"


def config_text(base_url):
    jobs = "".join(f'\n[jobs.{job}]\npath = "/api/cron/sla-check"\nschedule = "* * * * *"\n'
                   for job in JOBS)
    return f'[api]\nbase_url = "{base_url}"\ndeadline = 20\n{jobs}'


@pytest.fixture(scope="module")
def ten_jobs(workdir, base_rootfs, deb, secret):
    """The container with the eleven jobs configured, and its own stand-in; returns
    (machine, stand-in, the minute boundary watched) once that minute's runs are over."""
    standin = own_standin(workdir, "ten-jobs-standin", secret)
    machine, _ = boot_with_package(base_rootfs, deb, workdir / "ten-jobs",
                                   f"tc-ten-{os.getpid()}")
    try:
        machine.run(["install", "-m", "0600", "/dev/stdin", SECRET], input=secret + "\n")
        machine.write(CONFIG, config_text(standin.url))
        timers = [unit_of(job).replace(".service", ".timer") for job in JOBS]
        # ticketing-cron-apply.path sees the new config: daemon-reload, timers started.
        wait_for(lambda: all(s == "active" for s in machine.run(
            ["systemctl", "is-active", *timers], check=False).stdout.split()), 60,
            "the eleven timers to be active")
        # The timers elapse a second ahead of the minute: one that is still 2 s away.
        boundary = next_boundary(time.time() + 2)
        sleep_until(boundary + 1)
        wait_for(lambda: len([c for c in standin.calls()
                              if c["received_at"] >= boundary]) >= len(JOBS), 60,
                 f"the eleven calls of the minute {boundary}")
        wait_for(lambda: machine.run(["systemctl", "is-active", *[unit_of(j) for j in JOBS]],
                                     check=False).stdout.split() == ["inactive"] * len(JOBS),
                 60, "the eleven runs to end")
        yield machine, standin, boundary
    finally:
        machine.discard()
        standin.stop()


def iso(moment):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(moment))


def test_each_job_is_called_once_with_its_own_slot(ten_jobs):
    _, standin, boundary = ten_jobs
    calls = [c for c in standin.calls() if boundary <= c["received_at"] < boundary + 60]
    keys = sorted((c.get("idempotency_key") or "").strip('"') for c in calls)
    assert keys == sorted(f"{job}:{iso(boundary)}" for job in JOBS), calls
    assert {c["scheduled_at"] for c in calls} == {iso(boundary)}
    assert all(c["secret_ok"] and c["status"] == 200 for c in calls), calls


def test_the_timers_elapse_ahead_and_no_request_comes_before_its_minute(ten_jobs):
    machine, standin, boundary = ten_jobs
    calls = [c for c in standin.calls() if c.get("scheduled_at")]
    assert any(c["scheduled_at"] == iso(boundary) for c in calls)
    early = [c for c in calls if c["received_at"] < calendar.timegm(
        time.strptime(c["scheduled_at"], "%Y-%m-%dT%H:%M:%SZ"))]
    assert early == [], early
    timers = [unit_of(job).replace(".service", ".timer") for job in JOBS]
    for timer in timers:
        elapse = parse_timestamp(machine.show(timer, "NextElapseUSecRealtime")
                                 ["NextElapseUSecRealtime"])
        assert elapse % 60 == 59 and elapse >= boundary + 59, (timer, elapse)


def test_each_run_writes_its_own_units_summary(ten_jobs):
    machine, _, boundary = ten_jobs

    def summaries():
        found = {}
        for record in machine.journal("-t", "ticketing-cron", f"--since=@{boundary}"):
            if "OUTCOME" in record and record.get("SCHEDULED_AT") == iso(boundary):
                found.setdefault(record["JOB"], []).append(record)
        return found if len(found) == len(JOBS) else None

    found = wait_for(summaries, 30, "the eleven summary records")
    for job in JOBS:
        assert len(found[job]) == 1, found[job]
        record = found[job][0]
        assert record["OUTCOME"] == "ok" and record["_SYSTEMD_UNIT"] == unit_of(job), record
