"""`ticketing-cron status`: the report collected and rendered, and its exit statuses."""

import io
import json

from ticketing_cron.config.load import load_config
from ticketing_cron.status import status

from .records import run

NOW = 1_764_417_600.0  # 2025-11-29 12:00:00 UTC
PING = "https://hc-ping.com/3f1c2a9e-8b7d-4c6e-9f0a-1b2c3d4e5f60"
REQUEST_ID = "0123456789abcdef0123456789abcdef"


# ------------------------------------------------------------------- status


def fake_show(overrides=None):
    def show(names):
        result = {}
        for name in names:
            if name.endswith(".timer"):
                props = {"Id": name, "LoadState": "loaded", "UnitFileState": "enabled",
                         "ActiveState": "active", "LastTriggerUSec": NOW - 30,
                         "NextElapseUSecRealtime": NOW + 30}
            else:
                props = {"Id": name, "LoadState": "loaded", "ActiveState": "inactive"}
            props.update((overrides or {}).get(name, {}))
            result[name] = props
        return result
    return show


def config_with(tmp_path, extra=""):
    path = tmp_path / "config.toml"
    path.write_text('[api]\nbase_url = "https://tickets.ops.test"\n\n'
                    '[jobs.sla-check]\npath = "/api/cron/sla-check"\n' + extra)
    return load_config(str(path))


def test_next_run_is_the_elapse_the_timer_fires_ahead_of(tmp_path):
    # The timers elapse a second ahead of their jobs' elapses: the next run shown is
    # the job's, when its request is sent, not the timer's elapse.
    config = config_with(tmp_path, '\n[jobs.hourly]\npath = "/x"\nschedule = "hourly"\n')
    timers = {"ticketing-cron.timer": {"NextElapseUSecRealtime": NOW + 59},
              "ticketing-cron@hourly.timer": {"NextElapseUSecRealtime": NOW + 3599}}
    report = status.collect(config, list(config.jobs.values()), NOW,
                            show=fake_show(timers), history=lambda *a: {
                                "day": [], "last_run": None, "last_success": None},
                            load_streak=lambda service: (None, True))
    assert [j["next_run"] for j in report["jobs"]] == ["2025-11-29T12:01:00Z",
                                                      "2025-11-29T13:00:00Z"]


def test_collect_reports_every_field(tmp_path):
    config = config_with(tmp_path, '\n[jobs.manual]\npath = "/api/cron/manual"\n')
    day = [run(NOW - 60 * i, duration=100 + i, unassigned=2) for i in range(10, 0, -1)]
    day[-2]["outcome"] = "auth"

    def history(service, job, now, uids):
        runs = day if job == "sla-check" else []
        return {"day": runs, "last_run": runs[-1] if runs else None,
                "last_success": runs[-1] if runs else None}

    report = status.collect(config, [config.jobs["manual"], config.jobs["sla-check"]], NOW,
                            show=fake_show(), history=history,
                            load_streak=lambda service: (None, True))
    json.loads(json.dumps(report))
    assert report["healthy"] is True and report["generated_at"] == "2025-11-29T12:00:00Z"
    manual, sla = report["jobs"]
    assert manual["state"] == "manual" and manual["timer"] is None
    assert manual["last_run"] is None and manual["last_24h"]["runs"] == 0
    assert sla["state"] == "ok" and sla["problem"] is None
    assert sla["service"] == "ticketing-cron.service" and sla["timer"] == "ticketing-cron.timer"
    assert sla["timer_enabled"] is True and sla["timer_active"] is True
    assert sla["schedule"] == "*-*-* *:*:00" and sla["timezone"] == "UTC"
    assert sla["next_run"] == "2025-11-29T12:00:30Z"
    assert sla["last_run"]["at"] == "2025-11-29T11:59:00Z"
    assert sla["last_run"]["outcome"] == "ok" and sla["last_run"]["duration_ms"] == 101
    assert sla["last_success"] == "2025-11-29T11:59:00Z"
    assert sla["failure_streak"] == {"failures": 0, "since": None, "alerted": False,
                                     "alerts_sent": 0}
    assert sla["last_24h"] == {"runs": 10, "failures": {"auth": 1}, "median_duration_ms": 106,
                               "p95_duration_ms": 110, "unassigned": 18}


def test_collect_failing_with_the_alert_state(tmp_path):
    config = config_with(tmp_path)
    failed = run(NOW - 20, "auth")
    streak_file = {"consecutive_failures": 7, "first_failure_at": NOW - 400,
                   "last_alert_at": NOW - 400, "alerts_sent": 1}
    report = status.collect(
        config, [config.jobs["sla-check"]], NOW, show=fake_show(),
        history=lambda s, j, n, u: {"day": [failed], "last_run": failed, "last_success": None},
        load_streak=lambda service: (streak_file, True))
    job, = report["jobs"]
    assert report["healthy"] is False and job["state"] == "failing"
    assert job["failure_streak"] == {"failures": 7, "since": "2025-11-29T11:53:20Z",
                                     "alerted": True, "alerts_sent": 1}
    assert job["last_success"] is None
    # Without a readable state file the streak comes from the journal, alerts unknown.
    report = status.collect(
        config, [config.jobs["sla-check"]], NOW, show=fake_show(),
        history=lambda s, j, n, u: {"day": [failed], "last_run": failed, "last_success": None},
        load_streak=lambda service: (None, False))
    assert report["jobs"][0]["failure_streak"] == {
        "failures": 1, "since": "2025-11-29T11:59:40Z", "alerted": None, "alerts_sent": None}


def test_status_command_exit_statuses(tmp_path, monkeypatch):
    (tmp_path / "config.toml").write_text('[api]\nbase_url = "https://tickets.ops.test"\n')
    monkeypatch.setattr(status, "collect", lambda config, jobs, now: {
        "healthy": False, "generated_at": "x", "jobs": []})
    out, err = io.StringIO(), io.StringIO()
    assert status.status(str(tmp_path / "config.toml"), None, "json", out, err, NOW) == 1
    assert json.loads(out.getvalue())["healthy"] is False
    assert status.status(str(tmp_path / "config.toml"), "nope", "text", out, err, NOW) == 78
    assert "no job 'nope'" in err.getvalue()
    assert status.status(str(tmp_path / "missing.toml"), None, "text", out, err, NOW) == 78


def test_text_output_names_the_problem(tmp_path):
    from ticketing_cron.status.status_text import render

    config = config_with(tmp_path)
    failed = run(NOW - 20, "auth")
    report = status.collect(
        config, [config.jobs["sla-check"]], NOW,
        show=fake_show({"ticketing-cron.timer": {"ActiveState": "inactive"}}),
        history=lambda s, j, n, u: {"day": [failed], "last_run": failed, "last_success": None},
        load_streak=lambda service: (None, True))
    text = render(report, NOW)
    assert text.startswith("sla-check: OVERDUE: ticketing-cron.timer is stopped")
    assert "last run     2025-11-29 11:59:40 UTC (20 s ago): auth, took 100 ms" in text
    assert "last success never" in text
    assert "1 failed run in a row" in text


def test_the_journal_is_read_for_records_of_the_users_the_unit_runs_as(tmp_path):
    """status believes a record only from the user its unit runs as (DynamicUser=
    by default; User= when an administrator changed it), as the alert path does."""
    from ticketing_cron.alerts.run_record import DYNAMIC_UIDS

    config = config_with(tmp_path)
    asked = {}

    def history(service, job, now, uids):
        asked[service] = uids
        return {"day": [], "last_run": None, "last_success": None}

    status.collect(config, [config.jobs["sla-check"]], NOW, show=fake_show(),
                   history=history, load_streak=lambda s: (None, True))
    assert asked == {"ticketing-cron.service": DYNAMIC_UIDS}
    status.collect(config, [config.jobs["sla-check"]], NOW, history=history,
                   show=fake_show({"ticketing-cron.service": {"DynamicUser": "no",
                                                              "User": "root"}}),
                   load_streak=lambda s: (None, True))
    assert asked == {"ticketing-cron.service": range(0, 1)}


def test_json_is_one_document_even_when_systemd_cannot_be_asked(tmp_path, monkeypatch):
    from ticketing_cron.base.errors import UnavailableError

    path = tmp_path / "config.toml"
    path.write_text('[api]\nbase_url = "https://tickets.ops.test"\n\n[jobs.manual]\n'
                    'path = "/api/cron/manual"\n')

    def no_systemd(names):
        raise UnavailableError("systemctl show failed (no systemd); is systemd running?")
    real_collect = status.collect
    monkeypatch.setattr(status, "collect", lambda config, jobs, now:
                        real_collect(config, jobs, now, show=no_systemd))
    out, err = io.StringIO(), io.StringIO()
    assert status.status(str(path), None, "json", out, err, now=NOW) == 1
    doc = json.loads(out.getvalue())
    assert doc["healthy"] is False and doc["generated_at"] == "2025-11-29T12:00:00Z"
    assert doc["error"] == "systemctl show failed (no systemd); is systemd running?"
    assert [(j["job"], j["state"], j["service"], j["timer"]) for j in doc["jobs"]] == [
        ("manual", "unknown", "ticketing-cron@manual.service", None)]
    assert "systemctl show failed" in err.getvalue()


def test_json_is_one_document_on_a_config_error(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("[api]\nbase_ulr = 1\n")
    out, err = io.StringIO(), io.StringIO()
    assert status.status(str(path), None, "json", out, err, now=NOW) == 78
    doc = json.loads(out.getvalue())
    assert doc["healthy"] is False and doc["jobs"] == []
    assert "base_ulr: unknown key" in doc["error"]
    out = io.StringIO()
    assert status.status(str(path), None, "text", out, io.StringIO(), now=NOW) == 78
    assert out.getvalue() == ""  # text: the error on stderr only, as before
