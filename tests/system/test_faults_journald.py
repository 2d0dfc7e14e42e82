"""journald restarted, or stopped with its sockets, while a run waits for the app (as
an upgrade of systemd does), in a booted container of its own.

A restart: journald keeps the run's stream (its file descriptor store) and the run's
summary record is written, attributed to its unit, and `status` shows it. A stop of
journald and its sockets: the run's stream is cut and its native records refused;
the run still exits with its outcome's status (not Python's 120 for a stderr it could
not flush), and `status` says that the run left no record, in systemd's words,
instead of showing the run before it as the last.

Runs are started with `systemctl start --no-block`; the timer is active but its
schedule (New Year's midnight) never fires during the tests, so that `status` judges
the job as it does a scheduled one and no tick comes in between.
"""

import json
import time

import pytest

from fault_support import failed_units
from harness import TIMER, UNIT, boot_with_package, own_standin, report, wait_for

pytestmark = pytest.mark.system

CONFIG = "/etc/ticketing-cron/config.toml"
SECRET = "/etc/ticketing-cron/cron-secret"
HOLD_MS = 6000
JOURNALD = ("systemd-journald.socket", "systemd-journald-dev-log.socket",
            "systemd-journald.service")


@pytest.fixture(scope="module")
def api(workdir, secret):
    standin = own_standin(workdir, "journald-standin", secret)
    yield standin
    standin.stop()


@pytest.fixture(scope="module")
def machine(workdir, base_rootfs, deb, api, secret):
    started = time.monotonic()
    m, _ = boot_with_package(base_rootfs, deb, workdir / "journald",
                             f"tc-journald-{id(api)}")
    m.write(CONFIG, f"[api]\nbase_url = \"{api.url}\"\ndeadline = 20\n\n"
                    "[jobs.sla-check]\npath = \"/api/cron/sla-check\"\n"
                    "schedule = \"0 0 1 1 *\"\n")
    m.write(SECRET, secret + "\n", mode="0600")
    m.run(["systemctl", "daemon-reload"])
    m.run(["systemctl", "restart", TIMER])
    yield m
    m.discard()
    report(f"journald tests: {time.monotonic() - started:.0f} s in their container")


def held_run(m, api, status, fault):
    """Start a run whose reply the app holds for HOLD_MS, apply ``fault`` (a command)
    while it waits, and wait for the run to end. Returns (its invocation id, systemd's
    view of it after the end, the stand-in's record of its call)."""
    api._request("POST", "/_standin/control", {"delay_ms": HOLD_MS, "status": status,
                                               "hang": False})
    m.run(["systemctl", "reset-failed", UNIT], check=False)
    calls = len(api.calls())
    m.run(["systemctl", "start", "--no-block", UNIT])
    call = wait_for(lambda: api.calls()[calls:], 30, "the run to call the app")
    invocation = m.show(UNIT, "InvocationID")["InvocationID"]
    assert m.show(UNIT, "ActiveState")["ActiveState"] == "activating"
    m.run(fault)
    service = m.wait_idle(60)
    assert len(api.calls()) == calls + 1
    return invocation, service, call[0]


def status_json(m):
    proc = m.run(["ticketing-cron", "status", "--json"], check=False)
    return json.loads(proc.stdout)["jobs"][0]


def test_a_restart_of_journald_keeps_the_runs_record(machine, api):
    m = machine
    invocation, service, call = held_run(m, api, None,
                                         ["systemctl", "restart", "systemd-journald"])
    assert service["Result"] == "success" and service["ExecMainStatus"] == "0"
    assert call["status"] == 200 and call["secret_ok"]
    summary = m.summary_for(invocation)
    assert summary["OUTCOME"] == "ok" and summary["_SYSTEMD_UNIT"] == UNIT
    assert int(summary["DURATION_MS"]) >= HOLD_MS
    job = status_json(m)
    assert job["last_run"]["request_id"] == summary["REQUEST_ID"]
    assert job["last_run"]["outcome"] == "ok"


def test_a_stop_of_journald_and_its_sockets_is_told_by_status(machine, api):
    m = machine
    before = status_json(m)["last_run"]
    time.sleep(1.5)  # systemctl shows the start to the second: not the one of `before`
    try:
        invocation, service, call = held_run(m, api, None, ["systemctl", "stop", *JOURNALD])
    finally:
        m.run(["systemctl", "start", *JOURNALD])
    # The app was called and the run exited as the app answered: 0, not Python's 120.
    assert call["status"] == 200
    assert service["Result"] == "success" and service["ExecMainStatus"] == "0"
    assert failed_units(m) == []
    m.run(["journalctl", "--sync"])
    kept = [r for r in m.journal("-t", "ticketing-cron") if "OUTCOME" in r
            and r.get("REQUEST_ID") == call["request_id"]]
    report(f"journald stopped with its sockets during a run: {len(kept)} summary record kept")
    if kept:
        job = wait_for(lambda: (j := status_json(m))["last_run"] != before and j, 40,
                       "status to show the run")
        assert job["last_run"]["request_id"] == call["request_id"] and job["state"] == "ok"
        return
    # Once the record would have arrived (health.RECORD_SLACK_S after the end), status
    # says the run left none, in systemd's words; never shows the one before as the last.
    try:
        job = wait_for(lambda: (j := status_json(m))["state"] != "ok" and j, 40,
                       "status to notice the run without a record")
    except AssertionError as e:
        shown = m.run(["systemctl", "show", UNIT, "-p", "ExecMainStartTimestamp", "-p",
                       "ExecMainExitTimestamp", "-p", "Result"], check=False).stdout
        raise AssertionError(f"{e}\n{status_json(m)}\n{shown}") from None
    assert job["last_run"] == before
    assert job["state"] == "overdue"
    assert "left no record in the journal" in job["problem"]
    assert "systemd says: success, exit status 0" in job["problem"]
    text = m.run(["ticketing-cron", "status"], check=False)
    assert text.returncode == 1 and "left no record" in text.stdout
