"""A power cut, in a booted container of its own: the container's init is killed
(SIGKILL, no shutdown) at a moment when, at once,

- the SLA check's run waits for the app (the stand-in holds its reply),
- a second job's failure handler has saved its state and is delivering its alert
  (the mail went to postfix, the webhook holds the request),
- a temporary state file is left half-written (as a kill in mid-write leaves it;
  that the rename itself is atomic and fsync'ed is alerts.state's, shown by
  tests/unit/alerts/test_state.py).

The same tree is booted again two missed minutes later. Then: Persistent= runs one
catch-up per job, with a catch-up key, not one per missed minute; no state file is
corrupt and the half-written one is gone; the interrupted alert is sent again once
(at least once: the mail twice, the webhook twice), and a later failure is quiet.

This is the one fault module that needs the timers (Persistent= is the point): it
waits for one minute boundary and for two missed ones, some four minutes.
"""

import time

import pytest

from alert_support import MAIL_USER, AlertBox
from fault_support import (HoldingHook, failed_units, mails_about, power_cut, state_files,
                           wait_posts)
from harness import (TICK_LEAD_S, TIMER, next_boundary, own_standin, report, sleep_until, wait_for)
from ticketing_cron.base.timefmt import iso

pytestmark = pytest.mark.system

SECOND = "second"
SECOND_SERVICE = "ticketing-cron@second.service"
SECOND_FAILURE = f"ticketing-cron-failure@{SECOND_SERVICE}.service"
SECOND_STATE = f"/var/lib/ticketing-cron/{SECOND_SERVICE}.json"
# What a save killed after its first bytes leaves beside the state file.
HALF_WRITTEN = b'{\n "alerted_outcome": "prot'
# Boot this long after the last missed minute: past slot.WINDOW_S (10 s), so the
# catch-up run cannot pass for that minute's own run.
BOOT_AFTER_S = 15


def config_text(api_url, hook_url):
    return (f"# Written by tests/system/test_faults_power.py.\n[api]\nbase_url = \"{api_url}\"\n"
            "deadline = 30\n\n[jobs.sla-check]\npath = \"/api/cron/sla-check\"\n\n"
            f"[jobs.{SECOND}]\npath = \"/api/cron/not-there\"\nschedule = \"* * * * *\"\n\n"
            f"[alerts]\nemail_to = [\"{MAIL_USER}@localhost.localdomain\"]\n"
            f"webhook_url = \"{hook_url}\"\nalert_after = 1\nrepeat_interval = \"1h\"\n")


@pytest.fixture(scope="module")
def api(workdir, secret):
    standin = own_standin(workdir, "power-standin", secret)
    yield standin
    standin.stop()


@pytest.fixture(scope="module")
def hook():
    receiver = HoldingHook()
    yield receiver
    receiver.close()


@pytest.fixture(scope="module")
def box(workdir, base_rootfs, deb, api, hook, secret):
    started = time.monotonic()
    b = AlertBox.create(workdir, base_rootfs, deb, name="power")
    b.configure(config_text(api.url, hook.url))
    b.install_secret(secret)
    yield b
    b.machine.discard()
    report(f"power cut tests: {time.monotonic() - started:.0f} s in their container")


@pytest.fixture(scope="module")
def cut(box, api, hook):
    """Tick at B0 with the app and the webhook holding, cut the power, boot again
    BOOT_AFTER_S after B0 + 2 min. Returns B0."""
    m = box.machine
    api.control(hang=True)
    hook.hold()
    m.run(["systemctl", "daemon-reload"])  # the generator makes the second job's timer
    b0 = next_boundary()
    # The timers start only once the first tick they can see is B0's (a second ahead of
    # it), and far enough off for both to have started: a tick before B0 would fail the
    # second job and send its alert before the moment this module cuts the power in.
    if b0 - TICK_LEAD_S - time.time() < 5:
        sleep_until(b0 - TICK_LEAD_S + 0.5)
        b0 += 60
    m.run(["systemctl", "enable", "--now", TIMER])
    m.run(["systemctl", "start", "timers.target"])
    assert b0 - TICK_LEAD_S - time.time() > 1, "the timers took too long to start"
    wait_for(lambda: [c for c in api.calls() if c["scheduled_at"] == iso(b0)], b0 - time.time()
             + 30, "the SLA check's run at B0 to call the app")
    wait_posts(hook, SECOND, 1)
    m.write(SECOND_STATE + ".tmp", HALF_WRITTEN, mode="0600")
    assert m.run(["systemctl", "is-active", "ticketing-cron.service"],
                 check=False).stdout.strip() == "activating", "the run no longer waits"
    assert m.run(["systemctl", "is-active", SECOND_FAILURE],
                 check=False).stdout.strip() == "activating", "the handler is not delivering"
    saved = state_files(m, m.workdir)[f"{SECOND_SERVICE}.json"][0]
    power_cut(m)
    cut_at = time.time()
    api.control(hang=False)
    hook.release()
    report(f"power cut: {cut_at - b0:.1f} s after the tick, run waiting for the app, "
           f"alert handler delivering")
    sleep_until(b0 + 120 + BOOT_AFTER_S)
    m.boot()
    return b0, saved


def test_one_catch_up_per_job_with_a_catch_up_key(box, api, cut):
    b0, _ = cut
    b2 = b0 + 120
    after = lambda: [c for c in api.calls() if c["received_at"] > b2]  # noqa: E731
    wait_for(after, 60, "the catch-up run after the boot")
    time.sleep(3)  # a second catch-up, if any, would come at once
    sla = [c for c in api.calls() if c["path"] == "/api/cron/sla-check"]
    report(f"power cut: sla-check calls {[c['idempotency_key'] for c in sla]} (booted "
           f"{BOOT_AFTER_S} s after {iso(b2)}, two minutes missed)")
    assert [c["idempotency_key"].strip('"') for c in sla] == [
        f"sla-check:{iso(b0)}", f"sla-check:catchup:{iso(b2)}"], \
        "not one catch-up for the two missed minutes"
    assert sla[1]["scheduled_at"] == iso(b2) and sla[1]["status"] == 200
    # The stand-in records only the SLA check's calls: the second job's keys are in
    # its runs' summary records (the one at B0 reached the journal before the cut).
    box.machine.run(["journalctl", "--sync"])
    second = [r["IDEMPOTENCY_KEY"] for r in box.machine.journal(f"JOB={SECOND}")
              if "OUTCOME" in r and r.get("SYSLOG_IDENTIFIER") == "ticketing-cron"]
    assert second == [f"{SECOND}:{iso(b0)}", f"{SECOND}:catchup:{iso(b2)}"]


def test_the_interrupted_alert_is_sent_again_once(box, hook, cut):
    _, saved = cut
    # Saved before delivering, marked as on its way out.
    assert saved["consecutive_failures"] == 1 and saved["delivering"] == "failure"
    posts = wait_posts(hook, SECOND, 2)
    box.wait_mail_queue()
    mails = wait_for(lambda: len(mails_about(box, SECOND)) >= 2 and mails_about(box, SECOND),
                     60, "the two mails about the second job")
    assert posts == ["failure", "failure"]
    assert len(mails) == 2 and all("FAILING: second on" in s for s in mails)
    resent = [r for r in box.machine.journal(f"_SYSTEMD_UNIT={SECOND_FAILURE}")
              if "was cut short" in r["MESSAGE"]]
    assert len(resent) == 1, "the resend does not say why"

    # The next failure is quiet: the alert went out, at most twice.
    cursor = box.cursor()
    box.settle()
    box.machine.run(["systemctl", "start", SECOND_SERVICE], check=False)
    box.job_done(SECOND_FAILURE, cursor)
    box.wait_mail_queue()
    assert hook.alerts(SECOND) == ["failure", "failure"]
    assert len(mails_about(box, SECOND)) == 2


def test_no_state_file_is_corrupt_and_the_half_written_one_is_gone(box, hook, cut):
    wait_posts(hook, SECOND, 2)
    files = wait_for(lambda: (f := state_files(box.machine, box.machine.workdir)) and
                     f.get(f"{SECOND_SERVICE}.json", (None,))[0] and
                     f[f"{SECOND_SERVICE}.json"][0].get("delivering") is None and f,
                     30, "the resent alert to be settled")
    assert f"{SECOND_SERVICE}.json.tmp" not in files, "the half-written file is still there"
    for name, (state, problem) in files.items():
        assert problem is None, problem
        if name.endswith(".json"):
            assert state is not None, f"{name} is not a streak record"
    streak = files[f"{SECOND_SERVICE}.json"][0]
    assert streak["consecutive_failures"] >= 2 and streak["alerts_sent"] == 2
    assert streak["first_failure_at"] < cut[0] + 10, "the streak began again after the cut"


def test_only_the_failing_job_is_failed(box, cut):
    failed = wait_for(lambda: failed_units(box.machine) or None, 30, "the second job to fail")
    assert failed == [SECOND_SERVICE], failed
    for timer in (TIMER, "ticketing-cron@second.timer"):
        assert box.machine.run(["systemctl", "is-active", timer],
                               check=False).stdout.strip() == "active", timer
