"""The status report's pure parts: statistics, health, `systemctl show` parsing."""


import pytest

from ticketing_cron.status import health, stats, units
from ticketing_cron.config.load import unit_names

from .records import run

NOW = 1_764_417_600.0  # 2025-11-29 12:00:00 UTC
PING = "https://hc-ping.com/3f1c2a9e-8b7d-4c6e-9f0a-1b2c3d4e5f60"
REQUEST_ID = "0123456789abcdef0123456789abcdef"


# --------------------------------------------------------------- statistics


def test_median_and_percentile():
    assert stats.median([]) is None and stats.percentile([], 95) is None
    assert stats.median([3, 1, 2]) == 2 and stats.median([4, 1, 3, 2]) == 2.5
    values = list(range(1, 101))
    assert stats.percentile(values, 95) == 95 and stats.percentile(values, 50) == 50
    assert stats.percentile([7], 95) == 7 and stats.percentile(values, 100) == 100
    assert stats.percentile(list(range(1, 21)), 95) == 19
    with pytest.raises(ValueError):
        stats.percentile(values, 0)


def test_day_summary_counts_only_the_last_24_hours():
    runs = [run(NOW - 86400 - 5, "auth", 9999, 50)]  # a day and 5 s ago: not counted
    runs += [run(NOW - 60 * i, duration=100 + i, unassigned=1) for i in range(1, 1441)]
    runs[5]["outcome"] = "unavailable"
    runs[6]["outcome"] = "unavailable"
    runs[7].update(outcome="timeout", unassigned=None)
    day = stats.summarize_day(runs, NOW)
    assert day["runs"] == 1440
    assert day["failures"] == {"timeout": 1, "unavailable": 2}
    assert day["unassigned"] == 1437
    assert day["median_duration_ms"] == 820  # (820 + 821) / 2, rounded half to even
    assert day["p95_duration_ms"] == 100 + 1368


def test_streak_counts_failures_since_the_last_success():
    assert stats.streak([]) == (0, None)
    runs = [run(1, "auth"), run(2), run(3, "auth"), run(4, "unavailable")]
    assert stats.streak(runs) == (2, 3)
    assert stats.streak(runs + [run(5)]) == (0, None)


# ------------------------------------------------------------------- health


def timer(**overrides):
    t = {"unit": "ticketing-cron.timer", "service": "ticketing-cron.service",
         "load_state": "loaded", "unit_file_state": "enabled", "active_state": "active",
         "last_trigger": NOW - 30, "next_elapse": NOW + 30}
    t.update(overrides)
    return t


def test_healthy_failing_and_manual():
    assert health.judge(timer(), run(NOW - 29), NOW, 50) == ("ok", None)
    state, problem = health.judge(timer(), run(NOW - 29, "auth"), NOW, 50)
    assert state == "failing" and "auth" in problem
    assert health.judge(None, None, NOW, 50) == ("manual", None)
    assert health.judge(None, run(NOW, "auth"), NOW, 50) == ("manual", None)


@pytest.mark.parametrize("overrides, words", [
    ({"active_state": "inactive"}, "ticketing-cron.timer is stopped"),
    ({"unit_file_state": "disabled"}, "systemctl enable --now ticketing-cron.timer"),
    ({"load_state": "not-found"}, "not installed"),
    ({"next_elapse": NOW - 120}, "should have fired"),
])
def test_overdue_when_the_timer_does_not_run(overrides, words):
    state, problem = health.judge(timer(**overrides), run(NOW - 29), NOW, 50)
    assert state == "overdue" and words in problem


def test_overdue_when_a_due_run_left_no_record():
    # Triggered 70 s ago, deadline 50 s + slack: the record should be there by now.
    t = timer(last_trigger=NOW - 70, next_elapse=NOW + 10)
    state, problem = health.judge(t, run(NOW - 130), NOW, 50)
    assert state == "overdue" and "left no record" in problem
    # Still within deadline + slack: not yet overdue, judged by the last record.
    assert health.judge(timer(last_trigger=NOW - 60), run(NOW - 130), NOW, 50)[0] == "ok"
    # Under way: running.
    assert health.judge(t, run(NOW - 130), NOW, 50, "activating") == ("running", None)
    # Never triggered and no record: waiting for its first run.
    assert health.judge(timer(last_trigger=None), None, NOW, 50) == ("waiting", None)
    assert health.judge(t, None, NOW, 50)[0] == "overdue"


def test_a_run_that_left_no_record_is_told_by_systemds_words():
    """journald was stopped with its sockets, or its disk was full: systemd knows the
    run, the journal does not. status must not report the run before it as the last."""
    ended = {"started": NOW - 40, "exited": NOW - 30, "result": "exit-code", "status": "69"}
    state, problem = health.judge(timer(), run(NOW - 100), NOW, 50, service_run=ended)
    assert state == "failing"
    assert "the run of 2025-11-29 11:59:20 UTC left no record in the journal" in problem
    assert "systemd says: exit-code, exit status 69" in problem
    state, problem = health.judge(timer(), run(NOW - 100), NOW, 50,
                                  service_run=dict(ended, result="success", status="0"))
    assert state == "overdue" and "systemd says: success, exit status 0" in problem
    assert health.judge(timer(), None, NOW, 50, service_run=ended)[0] == "failing"
    # The run before, a moment before this one began (a start by hand): not its record.
    assert health.judge(timer(), run(NOW - 40.5), NOW, 50, service_run=ended)[0] == \
        "failing"
    # Its record is there (written after the start), or may still be on its way.
    assert health.judge(timer(), run(NOW - 35), NOW, 50, service_run=ended) == ("ok", None)
    assert health.judge(timer(), run(NOW - 100), NOW - 20, 50, service_run=ended) == \
        ("ok", None)
    # No run known to systemd (a fresh boot), or one under way.
    assert health.judge(timer(), run(NOW - 100), NOW, 50,
                        service_run=dict(ended, started=None, exited=None)) == ("ok", None)
    assert health.judge(timer(), run(NOW - 100), NOW, 50,
                        service_run=dict(ended, exited=NOW - 50)) == ("ok", None)


def test_exit_status():
    assert health.exit_status(["ok", "waiting", "manual", "running"]) == 0
    assert health.exit_status(["ok", "failing"]) == 1
    assert health.exit_status(["overdue"]) == 1


# ---------------------------------------------------------- systemctl show


def test_parse_show_blocks_and_times():
    text = ("Id=ticketing-cron.service\nActiveState=inactive\n\n"
            "Id=ticketing-cron.timer\nLastTriggerUSec=@1764417600\nNextElapseUSecRealtime=\n")
    service, timer_props = units.parse_show(text)
    assert service["Id"] == "ticketing-cron.service"
    assert units.parse_time(timer_props["LastTriggerUSec"]) == 1764417600
    assert units.parse_time("") is None and units.parse_time("n/a") is None
    assert units.parse_time("Sat 2025-11-29 12:00:00 UTC") == NOW
    assert units.parse_time("Sat 2025-11-29 12:00:00 CET") is None
    assert unit_names("sla-check") == ("ticketing-cron.service", "ticketing-cron.timer")
    assert unit_names("digest") == ("ticketing-cron@digest.service",
                                          "ticketing-cron@digest.timer")
