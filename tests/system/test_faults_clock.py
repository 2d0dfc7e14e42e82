"""The clock stepped, as NTP steps a clock that was off: forward over minute boundaries,
back over one, and back by an hour in the middle of an outage.

The container shares the host's clock, so the machine's is never stepped: the runs, the
alert handlers, journald and `status` get a stepped clock (libfaketime, one offset
file for all of them), and the test starts each run when systemd's timer would on that
clock. What the timer does on a step is systemd 252's src/core/timer.c (docs/
reliability.md): on any change of CLOCK_REALTIME it recomputes the next elapse from
the last trigger, first taking a last trigger in the future back to now; so a step
forward over elapses runs the unit once at once (the latest missed minute, a catch-up),
and a step back over a boundary runs that minute again.

Judged by the stand-in's record (it dedupes by Idempotency-Key, as the app should),
the webhook and mail sinks, the handlers' records and `status --json`.
"""

import time

import pytest

from fault_box import FaultBox, config_text, iso_slot, slot_of
from harness import Standin

pytestmark = pytest.mark.system

DOWN = {"status": 503, "retry_after": "120"}
REPEAT_S = 120


@pytest.fixture(scope="module")
def box(workdir, base_rootfs, deb, secret, hook):
    own = workdir / "faults-clock-standin"
    own.mkdir(exist_ok=True)
    api = Standin(own, secret, dedupe=True)
    config = config_text(api.url, hook.url, repeat_interval=f"{REPEAT_S // 60}m", deadline=5)
    try:
        box = FaultBox.create(workdir, base_rootfs, deb, "faults-clock", api, hook, secret,
                              config)
    except BaseException:
        api.stop()
        raise
    box.hold_timer()
    box.fake_clock()
    box.set_offset(0)
    box.fake_journald()
    box.minute = time.time()  # the latest moment used, fake or real
    yield box
    box.machine.discard()
    api.stop()


def first_minute(box, span):
    """A fake minute boundary M for a test that steps the clock up to ``span`` seconds past
    it: a minute after every moment the tests before used, and after the real clock's
    current minute (whose slot the set-up's runs may have taken). Fake times stay close
    to the real one: journald's clock is faked, and FaultBox.set_offset waits on a machine
    up for less than the offset."""
    start = max(box.minute + 60, time.time() + 60)
    minute = (int(start) // 60 + 1) * 60
    box.minute = minute + span
    return minute


def run_at(box, epoch, expect_ok=True):
    """Step the clock so that it reads ``epoch`` now, and start the run as the timer
    would; returns alert_support's Run."""
    box.step_to(epoch)
    return box.good_run() if expect_ok else box.failed_run()


def status_at(box, epoch):
    return box.status_json(offset=epoch - int(time.time()))


def calls_for(box, slots):
    """{slot ISO: [(key kind, key, idempotency)]} of the stand-in's calls for ``slots``."""
    wanted = {iso_slot(s) for s in slots}
    found = {}
    for call in box.calls():
        if call["scheduled_at"] in wanted:
            found.setdefault(call["scheduled_at"], []).append(
                (slot_of(call)[1], call["idempotency_key"], call.get("idempotency")))
    return found


def one_key_per_slot(found):
    for slot, calls in found.items():
        assert len({key for _, key, _ in calls}) == 1, f"{slot} called with {calls}"


def test_a_step_forward_over_minutes_runs_the_latest_once_as_a_catch_up(box):
    m = first_minute(box, 185)
    posts_before = len(box.hook.posts())
    run_at(box, m)
    # At m+20 the clock steps forward 150 s: the timer's next elapse (m+60) is in the
    # past, so it fires at once, at m+170; then at m+180 as usual.
    late = run_at(box, m + 170)
    run_at(box, m + 180)

    found = calls_for(box, [m, m + 60, m + 120, m + 180])
    one_key_per_slot(found)
    assert found == {
        iso_slot(m): [("scheduled", f'"sla-check:{iso_slot(m)}"', "new")],
        iso_slot(m + 120): [("catchup", f'"sla-check:catchup:{iso_slot(m + 120)}"', "new")],
        iso_slot(m + 180): [("scheduled", f'"sla-check:{iso_slot(m + 180)}"', "new")],
    }, found
    assert late.summary["SCHEDULED_AT"] == iso_slot(m + 120)
    rc, job = status_at(box, m + 185)
    assert (rc, job["state"], job["last_run"]["outcome"]) == (0, "ok", "ok"), job
    assert job["failure_streak"]["failures"] == 0 and not job["last_24h"]["failures"], job
    assert box.hook.posts()[posts_before:] == [] and box.failed_units() == []


def test_a_step_back_over_a_boundary_repeats_the_slot_with_its_key(box):
    m = first_minute(box, 65)
    posts_before = len(box.hook.posts())
    first = run_at(box, m)
    # At m+30 the clock steps back 60 s. status meanwhile: the last run is in its future.
    rc, job = status_at(box, m - 25)
    assert (rc, job["state"], job["last_run"]["outcome"]) == (0, "ok", "ok"), job
    assert job["last_run"]["request_id"] == first.summary["REQUEST_ID"], job
    # The timer takes its last trigger back to now and fires for m again.
    again = run_at(box, m)
    run_at(box, m + 60)

    found = calls_for(box, [m, m + 60])
    one_key_per_slot(found)
    key = f'"sla-check:{iso_slot(m)}"'
    assert found[iso_slot(m)] == [("scheduled", key, "new"), ("scheduled", key, "replayed")]
    assert again.summary.get("REPLAYED") == "1" and again.summary["OUTCOME"] == "ok", \
        again.summary
    rc, job = status_at(box, m + 65)
    assert (rc, job["state"]) == (0, "ok") and job["failure_streak"]["failures"] == 0, job
    assert job["last_run"]["at"].startswith(iso_slot(m + 60)[:16]), job
    assert box.hook.posts()[posts_before:] == [] and box.failed_units() == []


def test_a_step_back_by_an_hour_in_an_outage_neither_delays_nor_confuses_alerts(box):
    m = first_minute(box, 0)
    back = m - 3600
    after = [back + 60, back + 120, back + 180]
    box.script({s: DOWN for s in [m, *after]})
    box.fresh_streak()
    posts_before, mails_before = (len(x) for x in box.alerts())
    mark = box.cursor()
    run_at(box, m, expect_ok=False)
    # At m+30 NTP steps the clock back an hour; the app stays down for three minutes.
    statuses = []
    for slot in after:
        run_at(box, slot, expect_ok=False)
        statuses.append(status_at(box, slot + 5))
    recovered = run_at(box, back + 240)
    # journald's clock was stepped too: the record is stamped an hour before the run at
    # m's. That run, an hour "later" by its timestamp, is not taken for the last one.
    stamp = int(recovered.summary["__REALTIME_TIMESTAMP"]) / 1e6
    assert back + 240 <= stamp < back + 300, (stamp, back)
    rc, job = status_at(box, back + 245)
    assert (rc, job["state"], job["failure_streak"]["failures"]) == (0, "ok", 0), job
    assert job["last_run"]["at"].startswith(iso_slot(back + 240)[:16]), job

    posts = box.hook.posts()[posts_before:]
    mails = box.alerts()[1][mails_before:]
    # A reminder repeat_interval after the step, not an hour and more later.
    assert [p["alert"] for p in posts] == ["failure", "reminder", "recovery"], posts
    assert all(p["outage_s"] >= 0 for p in posts), posts
    assert "works again after 3 min (4 failed runs)" in mails[-1], mails
    records = box.records_since(mark, "-t", "ticketing-cron")
    outages = [int(r["OUTAGE_S"]) for r in records if "OUTAGE_S" in r]
    assert outages and min(outages) >= 0, outages
    for count, (rc, job) in enumerate(statuses, start=2):
        assert (rc, job["state"], job["last_run"]["outcome"]) == (1, "failing", "unavailable")
        assert job["failure_streak"]["failures"] == count and job["failure_streak"]["alerted"]
    one_key_per_slot(calls_for(box, [m, *after, back + 240]))
    assert box.failed_units() == []
