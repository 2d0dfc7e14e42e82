"""Issue 9 in a booted container of its own: `ticketing-cron status` over a real
journal and real units (a job that never ran, healthy, failing with an alert sent,
overdue, config errors, a day of records), the Healthchecks ping from the sandboxed
service, and the journal catalog (`journalctl -x`) from install to purge.

The tests share the container. What a test needs to have happened before it (the
config, the first tick, a failed run) comes from a module fixture, so that any test
also runs alone.
"""

import json
import re
import time

import pytest

from harness import TICK_LEAD_S, TIMER, UNIT, next_boundary, report, sleep_until, wait_for
from healthchecks_standin import Healthchecks
from status_support import (CATALOG, CONFIG, SECRET, SPEED_DROPIN, SPEED_SCRIPT, WRITE_DAY,
                            StatusBox, config_text)
from ticketing_cron.base import catalog as message_ids
from ticketing_cron.base.timefmt import from_iso

pytestmark = pytest.mark.system

WRONG_SECRET = "tc-wrong-5b2d8f10e4c36a79"
ALL_IDS = set(message_ids.OUTCOME.values()) | set(message_ids.ALERT.values()) | \
    {message_ids.PING_FAILED}
@pytest.fixture(scope="module")
def hc():
    service = Healthchecks()
    yield service
    service.close()


@pytest.fixture(scope="module")
def sbox(workdir, base_rootfs, deb, standin):
    started = time.monotonic()
    b = StatusBox.create(workdir, base_rootfs, deb)
    yield b
    b.machine.discard()
    report(f"status tests: {time.monotonic() - started:.0f} s in their container")


@pytest.fixture(scope="module")
def configured(sbox, standin, secret, hc):
    """The config (Healthchecks pings on) and the secret in place, and the timer
    started just after a minute boundary: returns the boundary of its first tick."""
    sbox.machine.write(CONFIG, config_text(standin.url, hc.ping_url))
    install_secret(sbox, secret)
    return sbox.start_timer_after_boundary()


@pytest.fixture(scope="module")
def first_tick(sbox, standin, configured):
    """The timer's first run, two expired requests waiting for it: returns its
    summary record once the run (and its ping) ended."""
    standin.seed(expired=2)
    sleep_until(configured + 1)
    summary = wait_for(lambda: sbox.machine.summaries(), 60, "the tick's summary record")[-1]
    sbox.machine.wait_idle()  # the record comes before the ping
    return summary


@pytest.fixture(scope="module")
def failed_run(sbox, first_tick):
    """A run with a wrong secret after a good one: returns (exit status, invocation)."""
    sbox.machine.avoid_boundary(40)
    install_secret(sbox, WRONG_SECRET)
    rc = sbox.start_run()
    return rc, sbox.machine.show(UNIT, "InvocationID")["InvocationID"]


def iso(epoch):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def uuid_form(hex32):
    return f"{hex32[:8]}-{hex32[8:12]}-{hex32[12:16]}-{hex32[16:20]}-{hex32[20:]}"


def install_secret(box, value):
    box.machine.run(["install", "-m", "0600", "/dev/stdin", SECRET], input=value + "\n")


# ----------------------------------------------------------------- install


def test_install_indexes_the_catalog(sbox):
    m = sbox.machine
    # Not assumed: systemd's package declares a dpkg file trigger on the catalog
    # directory, and its postinst runs journalctl --update-catalog for it.
    assert "interest-noawait /usr/lib/systemd/catalog" in \
        m.path("/var/lib/dpkg/info/systemd.triggers").read_text()
    assert "/usr/lib/systemd/catalog systemd" in \
        m.path("/var/lib/dpkg/triggers/File").read_text()
    assert "--update-catalog" in m.path("/var/lib/dpkg/info/systemd.postinst").read_text()
    assert "Processing triggers for systemd" in sbox.install_output
    assert m.path(CATALOG).is_file()
    assert sbox.catalog_ids() == ALL_IDS
    entry = m.run(["journalctl", "--dump-catalog", message_ids.OUTCOME["auth"]]).stdout
    assert "sha256sum" in entry and "CRON_SECRET" in entry


# ------------------------------------------------------------------- status


def test_a_job_that_never_ran(sbox, configured):
    boundary = configured
    rc, doc = sbox.status_json()
    assert rc == 0 and doc["healthy"] is True
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", doc["generated_at"])
    jobs = {j["job"]: j for j in doc["jobs"]}
    assert sorted(jobs) == ["report", "sla-check"]
    sla = jobs["sla-check"]
    assert sla["state"] == "waiting" and sla["problem"] is None
    assert sla["service"] == UNIT and sla["timer"] == TIMER
    assert sla["schedule"] == "*-*-* *:*:00" and sla["timezone"] == "UTC"
    assert sla["timer_enabled"] is True and sla["timer_active"] is True
    assert sla["next_run"] == iso(boundary)
    assert sla["last_run"] is None and sla["last_success"] is None
    assert sla["failure_streak"] == {"failures": 0, "since": None, "alerted": False,
                                     "alerts_sent": 0}
    assert sla["last_24h"] == {"runs": 0, "failures": {}, "median_duration_ms": None,
                               "p95_duration_ms": None, "unassigned": 0}
    manual = jobs["report"]
    assert manual["state"] == "manual" and manual["timer"] is None
    assert manual["service"] == "ticketing-cron@report.service"
    assert manual["timer_enabled"] is None and manual["next_run"] is None
    assert manual["last_run"] is None
    rc, out, err = sbox.status()
    assert rc == 0, err
    print(out)
    assert "sla-check: waiting for its first run" in out
    assert "report: run by hand only (no schedule)" in out


def test_healthy_after_a_tick_which_pinged_healthchecks(sbox, hc, configured, first_tick):
    m = sbox.machine
    boundary, summary = configured, first_tick
    assert summary["OUTCOME"] == "ok", summary["MESSAGE"]
    assert summary["MESSAGE_ID"] == message_ids.OUTCOME["ok"]
    rc, job = sbox.job()
    assert rc == 0 and job["state"] == "ok" and job["problem"] is None
    run = job["last_run"]
    assert run["outcome"] == "ok" and run["message"] == summary["MESSAGE"]
    assert run["message"].startswith("sla-check ok: 2 requests unassigned")
    assert run["at"] == iso(int(summary["__REALTIME_TIMESTAMP"]) / 1e6)
    assert run["duration_ms"] == int(summary["DURATION_MS"])
    assert run["exit_status"] == 0 and run["http_status"] == 200
    assert run["unassigned"] == 2 and run["request_id"] == summary["REQUEST_ID"]
    assert job["last_success"] == run["at"]
    assert job["next_run"] == iso(boundary + 60)
    assert job["failure_streak"]["failures"] == 0
    assert job["last_24h"] == {"runs": 1, "failures": {}, "unassigned": 2,
                               "median_duration_ms": run["duration_ms"],
                               "p95_duration_ms": run["duration_ms"]}
    # The sandboxed service pinged the Healthchecks stand-in on the host's loopback.
    pings = wait_for(lambda: hc.pings(), 10, "the ping")
    (ping,) = pings
    assert ping.exit_status == 0 and ping.rid == uuid_form(summary["REQUEST_ID"])
    assert ping.body.decode() == summary["MESSAGE"]
    assert hc.check_path not in json.dumps(m.journal("-t", "ticketing-cron"))


def test_failing_with_an_alert_sent(sbox, failed_run):
    rc, invocation = failed_run
    assert rc == 77
    (alert,) = sbox.wait_alert_handler(invocation)
    assert alert["ALERT"] == "failure"
    assert alert.get("MESSAGE_ID") == message_ids.ALERT["failure"]
    rc, job = sbox.job()
    assert rc == 1 and job["state"] == "failing"
    assert job["problem"] == "the last run failed: auth"
    assert job["last_run"]["outcome"] == "auth" and job["last_run"]["exit_status"] == 77
    assert job["last_run"]["http_status"] == 401
    streak = job["failure_streak"]
    assert streak["failures"] == 1 and streak["alerted"] is True and streak["alerts_sent"] == 1
    # The streak starts when the failure handler counted the run, a moment after the
    # run's record (more than a second apart on a busy machine).
    since, run_at = (from_iso(t) for t in (streak["since"], job["last_run"]["at"]))
    assert 0 <= since - run_at <= 10, (streak["since"], job["last_run"]["at"])
    # To the second: a good run and the failed one can fall in the same second.
    assert job["last_success"] is not None
    assert from_iso(job["last_success"]) <= from_iso(job["last_run"]["at"])
    assert job["last_24h"]["failures"] == {"auth": 1}
    rc, out, _ = sbox.status("sla-check")
    assert rc == 1 and out.startswith("sla-check: FAILING: the last run failed: auth")
    assert "alerted (1 alert sent)" in out


def test_journalctl_x_explains_the_failed_run(sbox, failed_run):
    out = sbox.machine.run(["journalctl", "-x", "--no-pager", "-u", UNIT,
                            f"_SYSTEMD_INVOCATION_ID={failed_run[1]}"]).stdout
    print(out)
    assert "sla-check auth: the API rejected the secret (HTTP 401)" in out
    assert "Subject: the app rejected the secret for job sla-check (exit 77)" in out
    assert "sha256sum" in out and "Defined-By: ticketing-cron" in out


def test_overdue_when_the_timer_is_stopped_or_disabled(sbox, secret, configured):
    m = sbox.machine
    install_secret(sbox, secret)
    m.avoid_boundary(40)
    assert sbox.start_run() == 0
    assert sbox.job()[0] == 0
    m.run(["systemctl", "stop", TIMER])
    rc, job = sbox.job()
    assert rc == 1 and job["state"] == "overdue"
    assert job["timer_active"] is False and job["timer_enabled"] is True
    assert "ticketing-cron.timer is stopped" in job["problem"]
    rc, out, _ = sbox.status()
    assert rc == 1 and "sla-check: OVERDUE: ticketing-cron.timer is stopped" in out
    m.run(["systemctl", "disable", "--now", TIMER])
    rc, job = sbox.job()
    assert rc == 1 and job["state"] == "overdue" and job["timer_enabled"] is False
    assert "disabled" in job["problem"]
    m.run(["systemctl", "enable", "--now", TIMER])
    assert sbox.job()[0] == 0


def test_overdue_when_a_due_run_left_no_record(sbox, secret, configured):
    m = sbox.machine
    install_secret(sbox, secret)
    m.avoid_boundary(40)
    assert sbox.start_run() == 0  # a good run to be the last one
    m.run(["rm", "-f", SECRET])  # the next tick is skipped by the unit's condition
    boundary = next_boundary()
    sleep_until(boundary + 1)
    wait_for(lambda: (m.last_trigger() or 0) >= boundary - TICK_LEAD_S - 0.01, 15, "the tick")
    rc, job = sbox.job()
    assert rc == 0 and job["state"] == "ok", "within deadline and slack: not yet missing"
    # The config's deadline is 10 s; health.RECORD_SLACK_S is 15 s.
    sleep_until(boundary + 10 + 15 + 2)
    rc, job = sbox.job()
    assert rc == 1 and job["state"] == "overdue"
    assert "left no record in the journal" in job["problem"]
    assert job["last_run"]["outcome"] == "ok" and job["timer_active"] is True
    install_secret(sbox, secret)


def test_config_errors_exit_78(sbox, standin, hc):
    m = sbox.machine
    m.write(CONFIG, "[api]\nbase_ulr = 1\n")
    rc, out, err = sbox.status()
    assert rc == 78 and out == "" and "base_ulr: unknown key" in err
    assert "Traceback" not in err
    m.write(CONFIG, config_text(standin.url, hc.ping_url))
    rc, out, err = sbox.status("no-such-job")
    assert rc == 78 and "no job 'no-such-job'" in err


def test_a_day_of_records_is_summarized_quickly(sbox, configured):
    m = sbox.machine
    m.run(["systemctl", "stop", TIMER])
    before = sbox.job()[1]["last_24h"]["runs"]
    m.write(SPEED_SCRIPT, WRITE_DAY)
    m.write(SPEED_DROPIN, f"[Service]\nExecStart=\nExecStart=/usr/bin/python3 {SPEED_SCRIPT}\n")
    m.run(["systemctl", "daemon-reload"])
    try:
        sbox.start_run()
    finally:
        m.run(["rm", "-f", SPEED_DROPIN])
        m.run(["systemctl", "daemon-reload"])
    m.run(["journalctl", "--sync"])
    timing = m.run(["python3", "-c", (
        "import subprocess, time\n"
        "t = time.monotonic()\n"
        "p = subprocess.run(['ticketing-cron', 'status', '--json', 'sla-check'], "
        "capture_output=True)\n"
        "print(time.monotonic() - t)\n"
        "print(p.stdout.decode())")]).stdout
    seconds, doc = timing.split("\n", 1)
    job = json.loads(doc)["jobs"][0]
    day = job["last_24h"]
    assert day["runs"] == before + 1440
    assert day["failures"].get("unavailable", 0) >= 15
    assert 40 <= day["median_duration_ms"] <= 400 and day["p95_duration_ms"] <= 400
    report(f"status over {day['runs']} records of one job in the last 24 h: "
           f"{float(seconds) * 1000:.0f} ms for the whole command (python start, "
           f"systemctl show, journal, JSON)")
    m.run(["systemctl", "start", TIMER])


# -------------------------------------------------------------------- purge


def test_purge_leaves_no_catalog_entry(sbox):
    m = sbox.machine
    out = m.run(["apt-get", "purge", "-y", "-q", "ticketing-cron"], timeout=600).stdout
    assert "Processing triggers for systemd" in out
    assert not m.path(CATALOG).exists()
    assert sbox.catalog_ids() == set()
    for message_id in ALL_IDS:
        dumped = m.run(["journalctl", "--dump-catalog", message_id], check=False)
        assert "ticketing-cron" not in dumped.stdout
