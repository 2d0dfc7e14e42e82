"""The app failing for real, minute after minute: down for ten minutes then back,
flapping every other minute, answering slower than the deadline.

Minutes cost CI time, so they are simulated: the timer is held, and each minute is one
`systemctl start` of the real unit whose clock (and its alert handlers' clocks,
libfaketime) starts at that minute's boundary; the stand-in's behaviour is scripted
per slot. Everything else is real: the units, the handlers, postfix, the webhook.

Judged by the stand-in's record of slots, the webhook's and the mailbox's messages and
`ticketing-cron status --json` after every minute (at the same fake time).
"""

import re
import time

import pytest

from fault_box import FaultBox, config_text, iso_slot, slot_of
from harness import own_standin

pytestmark = pytest.mark.system

REPEAT_S = 300
DEADLINE_S = 3
# Down as a proxy in front of a stopped app says it: 503, come back in two minutes (the
# run gives up at once rather than retry past its deadline).
DOWN = {"status": 503, "retry_after": "120"}
SLOW = {"delay_ms": (DEADLINE_S + 2) * 1000}


@pytest.fixture(scope="module")
def box(workdir, base_rootfs, deb, secret, hook):
    api = own_standin(workdir, "faults-app-standin", secret)
    config = config_text(api.url, hook.url, repeat_interval=f"{REPEAT_S // 60}m",
                         deadline=DEADLINE_S)
    try:
        box = FaultBox.create(workdir, base_rootfs, deb, "faults-app", api, hook, secret,
                              config)
    except BaseException:
        api.stop()
        raise
    box.hold_timer()
    box.fake_clock()
    box.minute = (int(time.time()) // 60 + 1) * 60
    yield box
    box.machine.discard()
    api.stop()


def minutes(box, count):
    """The next ``count`` simulated minutes (epoch seconds), after the last test's."""
    first = box.minute + 3600
    box.minute = first + 60 * count
    return [first + 60 * i for i in range(count)]


def play(box, slots, failing):
    """Run the SLA check once per slot (failing[slot] scripts the app); after each run,
    `status` at that minute. Returns (alerts and mails sent meanwhile, statuses)."""
    box.fresh_streak()
    posts_before, mails_before = (len(x) for x in box.alerts())
    box.script({slot: how for slot, how in failing.items()})
    statuses = []
    for slot in slots:
        box.run_at(slot, expect_ok=slot not in failing)
        statuses.append(box.status_json(slot + 5))
    posts, mails = box.alerts()
    return [a for a, _ in posts[posts_before:]], mails[mails_before:], statuses


def assert_each_slot_called_once(box, slots):
    calls = [c for c in box.calls() if c["scheduled_at"] in {iso_slot(s) for s in slots}]
    keys = sorted(c["idempotency_key"] for c in calls)
    assert keys == sorted(f'"sla-check:{iso_slot(s)}"' for s in slots), keys
    assert {slot_of(c)[1] for c in calls} == {"scheduled"}


def test_down_for_ten_minutes_then_back(box):
    slots = minutes(box, 11)
    down = {s: DOWN for s in slots[:10]}
    alerts, mails, statuses = play(box, slots, down)

    # One alert, a reminder after repeat_interval (the 6th failed minute), one recovery.
    assert alerts == ["failure", "reminder", "recovery"], alerts
    assert [m.split(":")[0] for m in mails] == [
        "[ticketing-cron] FAILING", "[ticketing-cron] STILL FAILING",
        "[ticketing-cron] RECOVERED"], mails
    # Each process's fake clock starts when it does: the handlers' ten minutes may
    # come out a second short.
    assert re.search(r"works again after (9|10) min \(10 failed runs\)", mails[-1]), mails[-1]
    assert_each_slot_called_once(box, slots)
    # status tells the truth at every minute.
    for minute, (rc, job) in enumerate(statuses[:10]):
        assert rc == 1 and job["state"] == "failing", (minute, job)
        assert job["last_run"]["outcome"] == "unavailable"
        streak = job["failure_streak"]
        assert streak["failures"] == minute + 1 and streak["alerted"] is True, streak
        assert streak["since"].startswith(iso_slot(slots[0])[:16]), streak
        assert streak["alerts_sent"] == (1 if minute < 5 else 2), (minute, streak)
    rc, job = statuses[-1]
    assert rc == 0 and job["state"] == "ok" and job["failure_streak"]["failures"] == 0, job
    assert box.failed_units() == []


def test_flapping_every_other_minute(box):
    slots = minutes(box, 6)
    flapping = {s: DOWN for s in slots[::2]}
    alerts, mails, statuses = play(box, slots, flapping)

    # Each failed minute is an outage of its own: one alert, one recovery each.
    assert alerts == ["failure", "recovery"] * 3, alerts
    assert len(mails) == 6 and all("RECOVERED" in m for m in mails[1::2]), mails
    assert_each_slot_called_once(box, slots)
    states = [(rc, job["state"], job["failure_streak"]["failures"]) for rc, job in statuses]
    assert states == [(1, "failing", 1), (0, "ok", 0)] * 3, states
    assert box.failed_units() == []


def test_slower_than_the_deadline(box):
    slots = minutes(box, 4)
    slow = {s: SLOW for s in slots[:3]}
    alerts, mails, statuses = play(box, slots, slow)

    assert alerts == ["failure", "recovery"], alerts
    assert "FAILING: sla-check" in mails[0] and mails[0].endswith(": timeout"), mails
    assert_each_slot_called_once(box, slots)
    for minute, (rc, job) in enumerate(statuses[:3]):
        assert rc == 1 and job["last_run"]["outcome"] == "timeout", (minute, job)
        assert job["failure_streak"]["failures"] == minute + 1
    assert statuses[-1][0] == 0 and statuses[-1][1]["state"] == "ok"
    assert box.failed_units() == []
