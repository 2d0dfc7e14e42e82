"""An alert's mark around its delivery: settled, taken back, or sent again."""

from ticketing_cron.alerts.marks import interrupted, marked, settle
from ticketing_cron.alerts.state import load_state, save_state
from ticketing_cron.base.log import Log
import io

STREAK = {"first_failure_at": 1.0, "consecutive_failures": 1, "alerts_sent": 0,
          "last_alert_at": None, "alerted_outcome": None, "last_outcome": "auth"}


def log():
    return Log(journal=False, stream=io.StringIO(), json_lines=False)


def test_an_alert_that_reached_someone_is_settled(tmp_path):
    path = str(tmp_path / "u.json")
    save_state(path, marked(STREAK, "failure", 60.0))
    assert settle(path, STREAK, "failure", 60.0, True, log()) == 0
    state, _ = load_state(path)
    assert state["delivering"] is None and state["alerts_sent"] == 1


def test_an_alert_that_reached_nobody_is_taken_back(tmp_path):
    path = str(tmp_path / "u.json")
    save_state(path, marked(STREAK, "failure", 60.0))
    settle(path, STREAK, "failure", 60.0, False, log())
    state, _ = load_state(path)
    assert state["last_alert_at"] is None and state["alerts_sent"] == 0


def test_a_streak_that_moved_on_is_left_alone(tmp_path):
    path = str(tmp_path / "u.json")
    recovering = dict(marked(STREAK, "failure", 60.0), delivering="recovery")
    save_state(path, recovering)
    settle(path, STREAK, "failure", 60.0, True, log())
    assert load_state(path) == (recovering, None)


def test_only_an_alert_kind_is_sent_again():
    out = log()
    assert interrupted(dict(STREAK, last_alert_at=60.0, delivering="reminder"), "u",
                       out) == "reminder"
    assert "the reminder alert of 1970-01-01 00:01:00 UTC was cut short" in \
        out.stream.getvalue()
    for value in (None, "recovery", "suppressed", "FAILURE"):
        assert interrupted(dict(STREAK, delivering=value), "u", log()) is None
    assert interrupted(None, "u", log()) is None
