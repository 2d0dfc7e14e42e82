"""Full disks, in a booted container of its own (real postfix, journald and systemd):
first the file system of the alert state (/var/lib/ticketing-cron, a 64 KiB tmpfs
filled to the last block), then the journal's (small tmpfs over /var/log/journal and
/run/log/journal, filled, journald flooded until it drops records).

Each time: the runs still call the app and exit with their outcome's status; the
failure handler still alerts by mail and webhook (and, for the state, says it could
not save it); nothing half-written is left; and once the space is back it all works
again without anyone's help. Runs are started with `systemctl start`; the timer is
disabled.
"""

import time
import uuid

import pytest

from alert_support import AlertBox, body, config_text, subject
from fault_support import STATE_DIR, fill, mount_small, state_files, wait_posts
from harness import FAILURE_UNIT, UNIT, own_standin, report, wait_for

pytestmark = pytest.mark.system

JOB = "sla-check"
JOURNAL_DIRS = ("/var/log/journal", "/run/log/journal")
NO_SPACE = "No space left on device"


@pytest.fixture(scope="module")
def api(workdir, secret):
    standin = own_standin(workdir, "disk-standin", secret)
    yield standin
    standin.stop()


@pytest.fixture(scope="module")
def box(workdir, base_rootfs, deb, api, hook, secret):
    started = time.monotonic()
    b = AlertBox.create(workdir, base_rootfs, deb, name="disk")
    b.configure(config_text(api.url, hook.url, "1h"))
    b.install_secret(secret)
    yield b
    b.machine.discard()
    report(f"full disk tests: {time.monotonic() - started:.0f} s in their container")


def start(box, api, status):
    """One run by hand with the app answering ``status`` (None: 200); returns
    (systemd's view of the run, the stand-in's record of its call)."""
    api.control(status=status)
    calls = len(api.calls())
    _, service = box.start()
    made = api.calls()[calls:]
    assert len(made) == 1, f"the run made {len(made)} calls to the app"
    return service, made[0]


def handler_done(box, unit=FAILURE_UNIT):
    """Wait until the handler is no longer running; returns its Result, ExecMainStatus."""
    return wait_for(lambda: (s := box.machine.show(unit, "ActiveState", "Result",
                                                   "ExecMainStatus"))["ActiveState"]
                    not in ("activating", "deactivating") and s, 60, f"{unit} to end")


def leftovers(box):
    """Names in the state directory other than the filler, the state and its lock."""
    return sorted(n for n in state_files(box.machine, box.machine.workdir)
                  if n not in ("FILLER", f"{UNIT}.json", f"{UNIT}.json.lock"))


@pytest.fixture(scope="module")
def state_full(box, api):
    """/var/lib/ticketing-cron full: a good run, then a failed one."""
    m = box.machine
    mount_small(m, STATE_DIR, "64k", mode="0700")
    fill(m, STATE_DIR)
    good, good_call = start(box, api, None)
    api.control(status=500)
    failed = box.failed_run()
    return good, good_call, failed


def test_a_full_state_disk_still_runs_and_alerts_and_says_so(box, api, hook, state_full):
    good, good_call, failed = state_full
    assert good["Result"] == "success" and good["ExecMainStatus"] == "0"
    assert good_call["status"] == 200 and good_call["secret_ok"]
    assert failed.service["ExecMainStatus"] == "69" and failed.summary["OUTCOME"] == "unavailable"
    assert failed.alert["ALERT"] == "failure" and failed.alert["STATE_PROBLEM"] == NO_SPACE
    # Said in the journal, on both channels, and by the handler's exit status.
    assert any(f"cannot save ({NO_SPACE})" in r["MESSAGE"] for r in failed.handler_records)
    assert failed.handler_unit == {"Result": "exit-code", "ExecMainStatus": "69"}
    assert [p["alert"] for p in hook.posts()] == ["failure"]
    assert f"could not be saved ({NO_SPACE})" in hook.posts()[0]["text"]
    mails = box.mails()
    assert len(mails) == 1 and "FAILING: sla-check" in subject(mails[0])
    assert f"The alert state could not be saved ({NO_SPACE})" in body(mails[0])
    # Nothing half-written: no temporary file, no state file.
    names = state_files(box.machine, box.machine.workdir)
    assert "FILLER" in names, "not the small file system's view"
    assert leftovers(box) == [] and f"{UNIT}.json" not in names


def test_the_state_recovers_by_itself_once_space_returns(box, api, hook, state_full):
    m = box.machine
    m.run(["rm", f"{STATE_DIR}/FILLER"])
    try:
        first = box.failed_run()            # a new streak, saved this time
        quiet = box.failed_run()            # already alerted
        streak = state_files(m, m.workdir)[f"{UNIT}.json"][0]
        assert streak["consecutive_failures"] == 2 and streak["delivering"] is None
        api.control(status=None)
        good = box.good_run()               # one recovery notice
        left = leftovers(box)
        assert f"{UNIT}.json" not in state_files(m, m.workdir), "the recovery left the streak"
    finally:
        m.run(["umount", STATE_DIR], check=False)
    assert first.alert["ALERT"] == "failure" and "STATE_PROBLEM" not in first.alert
    assert first.handler_unit == {"Result": "success", "ExecMainStatus": "0"}
    assert quiet.alert["ALERT"] == "suppressed"
    assert good.alert is not None and good.alert["ALERT"] == "recovery"
    assert [p["alert"] for p in hook.posts()] == ["failure", "failure", "recovery"]
    assert len(box.mails()) == 3
    assert left == []


def journal_drops(box):
    """True once journald drops what it is sent (both journals full)."""
    marker = f"faults-marker-{uuid.uuid4().hex}"
    box.machine.run(["logger", "-t", "faults", marker])
    box.machine.run(["journalctl", "--sync"], check=False)
    return marker not in box.machine.run(["journalctl", "--no-pager", "-t", "faults"]).stdout


@pytest.fixture(scope="module")
def journal_full(box, api, hook, state_full):
    """Both journals' file systems full and journald dropping records: a failed run,
    then a good one. Returns (failed run, its call, good run, its call)."""
    m = box.machine
    for directory in JOURNAL_DIRS:
        mount_small(m, directory, "8M", mode="2755")
    m.run(["systemctl", "restart", "systemd-journald"])
    for directory in JOURNAL_DIRS:
        fill(m, directory)
    flood = ("from systemd import journal\nfor i in range(3000):\n"
             "    journal.send('faults flood %d ' % i + 'x' * 300, SYSLOG_IDENTIFIER='flood')\n")
    for _ in range(10):  # journald first fills the space it had taken before
        if journal_drops(box):
            break
        m.run(["python3", "-c", flood])
    assert journal_drops(box), "journald still keeps records"
    posts = len(hook.posts())
    failed, failed_call = start(box, api, 500)
    wait_posts(hook, JOB, posts + 1)
    handler = handler_done(box)
    box.wait_mail_queue()
    good, good_call = start(box, api, None)
    wait_posts(hook, JOB, posts + 2)
    return failed, failed_call, handler, good, good_call


def test_a_full_journal_still_runs_and_alerts(box, api, hook, journal_full):
    failed, failed_call, handler, good, good_call = journal_full
    assert failed["Result"] == "exit-code" and failed["ExecMainStatus"] == "69"
    assert failed_call["status"] == 500 and failed_call["secret_ok"]
    assert handler["Result"] == "success", handler
    post = hook.posts()[-2]
    # No run record to read: the alert is in systemd's words (the exit status).
    assert post["alert"] == "failure" and post["failed_outcome"] == "unavailable"
    assert post["failed_invocation_id"] == failed["InvocationID"]
    assert "FAILING: sla-check" in subject(box.mails()[-2])
    assert "RECOVERED: sla-check" in subject(box.mails()[-1])
    assert good["Result"] == "success" and good["ExecMainStatus"] == "0"
    assert good_call["status"] == 200
    assert hook.posts()[-1]["alert"] == "recovery"
    records = box.machine.journal(f"_SYSTEMD_INVOCATION_ID={failed['InvocationID']}")
    report(f"full journal: the failed run left {len(records)} records")


def test_the_journal_recovers_by_itself_once_space_returns(box, api, journal_full):
    m = box.machine
    for directory in JOURNAL_DIRS:
        m.run(["rm", f"{directory}/FILLER"])
    good, call = start(box, api, None)
    assert good["ExecMainStatus"] == "0"
    summaries = wait_for(lambda: [r for r in m.journal("-t", "ticketing-cron")
                                  if r.get("REQUEST_ID") == call["request_id"]
                                  and "OUTCOME" in r], 30, "the good run's summary record")
    assert len(summaries) == 1 and summaries[0]["OUTCOME"] == "ok"
    assert summaries[0]["_SYSTEMD_UNIT"] == UNIT
    assert not journal_drops(box)
