"""Alert rules, state file and message, with a fake clock."""

import json

import pytest

from ticketing_cron.alerts import policy
from ticketing_cron.alerts.message import compose, span
from ticketing_cron.alerts.state import clear_state, load_state, save_state, state_path
from ticketing_cron.base.errors import CronError, UnavailableError

T0 = 1_800_000_000.0


def fail(outcome="unavailable"):
    return {"outcome": outcome, "message": f"it is {outcome}", "http_status": 503,
            "job": "sla-check"}


def simulate(outcomes, alert_after=1, repeat=3600, start=T0, step=60):
    """Feed one failed run per minute; return [(minute, alert kind)] for alerts sent."""
    state, sent = None, []
    for minute, outcome in enumerate(outcomes):
        now = start + minute * step
        state = policy.record_failure(state, fail(outcome), now)
        kind = policy.alert_due(state, now, alert_after, repeat)
        if kind:
            sent.append((minute, kind))
            state = policy.mark_alerted(state, now)
    return state, sent


def test_a_day_long_outage_sends_one_alert_and_hourly_reminders():
    state, sent = simulate(["unavailable"] * 1440)
    assert sent[0] == (0, policy.FIRST)
    assert [m for m, k in sent[1:]] == [60 * h for h in range(1, 24)]
    assert {k for _, k in sent[1:]} == {policy.REMINDER}
    assert state["consecutive_failures"] == 1440 and state["alerts_sent"] == 24
    assert policy.recovery_due(state)


def test_alert_after_waits_for_the_streak():
    _, sent = simulate(["auth"] * 5, alert_after=3)
    assert sent == [(2, policy.FIRST)]


def test_streak_below_alert_after_ends_without_recovery():
    state, sent = simulate(["auth"] * 2, alert_after=3)
    assert sent == [] and not policy.recovery_due(state)


def test_a_change_of_failure_kind_alerts_at_once():
    _, sent = simulate(["unavailable"] * 10 + ["auth"] * 10 + ["unavailable"])
    assert sent == [(0, policy.FIRST), (10, policy.CHANGED), (20, policy.CHANGED)]


def test_short_repeat_interval():
    _, sent = simulate(["timeout"] * 7, repeat=120)
    assert [m for m, _ in sent] == [0, 2, 4, 6]


def test_no_state_means_no_recovery():
    assert not policy.recovery_due(None)


def test_state_round_trip_and_atomic_replace(tmp_path):
    path = state_path(str(tmp_path), "ticketing-cron.service")
    assert path.endswith("/ticketing-cron.service.json")
    state, _ = simulate(["auth"])
    save_state(path, state)
    assert load_state(path) == (state, None)
    assert not (tmp_path / "ticketing-cron.service.json.tmp").exists()
    clear_state(path)
    clear_state(path)
    assert load_state(path) == (None, None)


@pytest.mark.parametrize("content", [b"", b"{not json", b"[]", b'{"a": 1}', b"\xff\xfe"])
def test_corrupt_state_is_reported_and_ignored(tmp_path, content):
    path = tmp_path / "u.json"
    path.write_bytes(content)
    state, problem = load_state(str(path))
    assert state is None and "starting a new streak" in problem


@pytest.mark.parametrize("unit", ["", "../etc/passwd", ".hidden", "a/b"])
def test_state_path_refuses_odd_unit_names(unit):
    with pytest.raises(CronError):
        state_path("/x", unit)


def test_messages_say_what_why_since_how_many_and_how_to_look():
    state, _ = simulate(["auth"] * 5)
    subject, text, fields = compose(policy.REMINDER, state, "ticketing-cron.service", "srv1",
                                    T0 + 300, 3600)
    assert subject == "[ticketing-cron] STILL FAILING: sla-check on srv1: auth"
    assert "it is auth" in text
    assert "5 failed runs in a row" in text and "5 min" in text
    assert "journalctl -u ticketing-cron.service -n 20" in text
    assert "systemctl status ticketing-cron.service" in text
    assert fields["CONSECUTIVE_FAILURES"] == 5 and fields["ALERT"] == "reminder"
    subject, text, _ = compose(policy.RECOVERY, state, "ticketing-cron.service", "srv1",
                               T0 + 3600, 3600)
    assert subject == ("[ticketing-cron] RECOVERED: sla-check on srv1 works again after 1 h "
                       "(5 failed runs)")


@pytest.mark.parametrize("seconds,text", [(5, "5 s"), (60, "1 min"), (3599, "59 min"),
                                          (3600, "1 h"), (3900, "1 h 5 min"), (86400, "1 d"),
                                          (90000, "1 d 1 h")])
def test_span(seconds, text):
    assert span(seconds) == text


def test_state_file_is_plain_json(tmp_path):
    state, _ = simulate(["auth"])
    save_state(str(tmp_path / "s.json"), state)
    assert json.loads((tmp_path / "s.json").read_text())["last_outcome"] == "auth"


# ------------------------------------------------------------- issue 7, items 4, 5, 7


def test_the_lock_is_exclusive_and_its_wait_bounded(tmp_path):
    from ticketing_cron.alerts.state import locked

    path = str(tmp_path / "state" / "ticketing-cron.service.json")
    clock = iter(range(100))
    with locked(path, 10) as first:
        assert first
        with locked(path, 3, sleep=lambda s: None, clock=lambda: next(clock)) as second:
            assert second is False, "a second holder got the lock"
    with locked(path, 0) as again:
        assert again, "the lock was not released"


def test_a_lock_file_that_cannot_be_made_does_not_stop_the_handler(tmp_path):
    from ticketing_cron.alerts.state import locked

    (tmp_path / "file").write_text("")
    with locked(str(tmp_path / "file" / "x.json"), 1) as held:
        assert held is False


def test_reply_markup_is_quoted_and_escaped_for_chat():
    hostile = ("<!channel> <https://evil.test/reset|reset your secret> @here & `x` "
               "<@U024BE7LH>")
    state = policy.record_failure(None, dict(fail("protocol"), message=hostile), T0)
    subject, text, _ = compose(policy.FIRST, state, "ticketing-cron.service", "app1", T0, 3600,
                               chat=True)
    line = text.splitlines()[1]
    assert line == ("`&lt;!channel&gt; &lt;https://evil.test/reset|reset your secret&gt; "
                    "@here &amp; 'x' &lt;@U024BE7LH&gt;`")
    assert "<" not in subject + text and ">" not in subject + text
    # The email keeps the words as they are.
    _, plain, _ = compose(policy.FIRST, state, "ticketing-cron.service", "app1", T0, 3600)
    assert plain.splitlines()[1] == hostile


def test_a_channel_that_raises_anything_fails_alone():
    import time

    from ticketing_cron.alerts.delivery import try_channel
    from ticketing_cron.base.errors import Interrupted
    from ticketing_cron.base.log import Log

    def raising(error):
        def send(left):
            raise error
        return send
    later = time.monotonic() + 30
    log = Log(journal=False)
    assert try_channel("webhook", raising(ValueError("Exceeds the limit\n(4300)")), later,
                       log) == "webhook: unexpected ValueError: Exceeds the limit (4300)"
    assert try_channel("email", raising(UnavailableError("email: queue full")),
                       later, log) == "email: queue full"
    assert try_channel("webhook", raising(Interrupted("the deadline passed")), later,
                       log) == "webhook: cut short: the deadline passed"
    assert try_channel("email", lambda left: None, later, log) is None
    assert "not tried" in try_channel("email", lambda left: None, time.monotonic(), log)


@pytest.mark.parametrize("field, value", [
    ("consecutive_failures", "x"), ("consecutive_failures", -1), ("consecutive_failures", 1.5),
    ("last_alert_at", []), ("last_alert_at", float("inf")), ("first_failure_at", None),
    ("alerts_sent", False), ("last_outcome", None), ("last_http_status", 1000),
    ("last_message", "x" * 5000), ("job", 7),
])
def test_state_of_the_wrong_type_is_refused(tmp_path, field, value):
    path = str(tmp_path / "s.json")
    state, _ = simulate(["auth"])
    state[field] = value
    with open(path, "w") as f:
        json.dump(state, f)
    loaded, problem = load_state(path)
    assert loaded is None and f"({field} " in problem


def test_a_clock_stepped_back_delays_no_reminder_by_more_than_the_interval():
    # First alert at T0; NTP then steps the clock back by an hour. Without care the
    # reminder would wait for the clock to pass T0 + repeat_interval: two hours.
    state, sent = simulate(["unavailable"], repeat=120)
    assert sent == [(0, policy.FIRST)]
    state = policy.mark_alerted(state, T0)
    kinds = []
    for minute in range(1, 5):
        now = T0 - 3600 + 60 * minute
        state = policy.record_failure(state, fail(), now)
        kind = policy.alert_due(state, now, 1, 120)
        kinds.append(kind)
        if kind:
            state = policy.mark_alerted(state, now)
        assert state["first_failure_at"] <= now and state["last_alert_at"] <= now
    assert kinds == [None, None, policy.REMINDER, None]


def test_no_negative_outage_after_the_clock_was_stepped_back():
    state, _ = simulate(["unavailable"] * 3)
    for kind in (policy.REMINDER, policy.RECOVERY):
        subject, text, fields = compose(kind, state, "ticketing-cron.service", "srv1",
                                        T0 - 90, 3600)
        assert fields["OUTAGE_S"] == 0, (kind, fields)
        assert "(0 s, 3 failed runs in a row)" in text or "after 0 s" in subject, text
    state = policy.record_failure(state, fail(), T0 - 90)
    assert state["first_failure_at"] == T0 - 90


def test_a_clock_stepped_forward_counts_as_time_passed():
    state, sent = simulate(["unavailable"], repeat=3600)
    state = policy.mark_alerted(state, T0)
    state = policy.record_failure(state, fail(), T0 + 7200)
    assert policy.alert_due(state, T0 + 7200, 1, 3600) == policy.REMINDER
