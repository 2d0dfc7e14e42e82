"""`ticketing-cron status` over twenty every-minute jobs' day (28,800 summary records) in a
real journal, in a booted container of its own: every job's records counted for that job
alone, another user's records with the same fields not counted. The time of the whole
command is reported as a figure (dev/bench measures it against its bar), never asserted.
"""

import json
import os
import time

import pytest

from harness import boot_with_package, report
from status_scale_support import FAILED_EVERY, JOBS, RUNS_A_DAY, timed_status, write_days

pytestmark = pytest.mark.system

# A local user's process writing what a run writes, as the wrong user.
FORGE = """\
from systemd import journal
for i in range(3000):
    journal.send("job-01 auth: forged", SYSLOG_IDENTIFIER="ticketing-cron", JOB="job-01",
                 OUTCOME="auth", EXIT_STATUS="77", DURATION_MS="1")
"""


@pytest.fixture(scope="module")
def days(workdir, base_rootfs, deb):
    """A container with the package, the twenty jobs and a day of records for each,
    and 3,000 forged ones; yields the machine."""
    started = time.monotonic()
    machine, _ = boot_with_package(base_rootfs, deb, workdir / "status-scale",
                                   f"tc-status-scale-{os.getpid()}", hold_services=True)
    try:
        seconds = write_days(machine)
        machine.run(["runuser", "-u", "nobody", "--", "python3", "-c", FORGE], timeout=120)
        machine.run(["journalctl", "--sync"])
        report(f"status scale: {len(JOBS) * RUNS_A_DAY} records written in {seconds:.1f} s")
        yield machine
    finally:
        machine.discard()
        report(f"status scale tests: {time.monotonic() - started:.0f} s in their container")


def test_twenty_jobs_day_is_summarized_each_job_for_itself(days):
    seconds, status, document = timed_status(days)
    jobs = {job["job"]: job for job in json.loads(document)["jobs"]}
    assert sorted(jobs) == sorted(JOBS)
    failed = len(range(0, RUNS_A_DAY, FAILED_EVERY))
    for name, job in jobs.items():
        day = job["last_24h"]
        assert (day["runs"], day["failures"]) == (RUNS_A_DAY, {"unavailable": failed}), name
        assert 40 <= day["median_duration_ms"] <= 400, name
        assert day["unassigned"] == RUNS_A_DAY - failed, name
        last = job["last_run"]
        assert (last["outcome"], last["message"], last["http_status"]) == (
            "ok", f"{name} ok: day record {RUNS_A_DAY - 1}", 200), name
        assert len(last["request_id"]) == 32 and job["last_success"] == last["at"]
    # The timers were never started: every scheduled job is overdue, so status says 1.
    assert status == 1
    report(f"status over twenty jobs' day ({len(JOBS) * RUNS_A_DAY} records): "
           f"{seconds * 1000:.0f} ms for the whole command")


def test_one_job_alone_reads_the_same(days):
    _, _, document = timed_status(days, "job-01")
    (job,) = json.loads(document)["jobs"]
    assert job["last_24h"]["runs"] == RUNS_A_DAY
    assert "auth" not in job["last_24h"]["failures"]
