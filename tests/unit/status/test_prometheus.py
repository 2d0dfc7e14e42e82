"""`status --format=prometheus`: the report as Prometheus' text exposition format."""

import io

import pytest

from ticketing_cron.status import prometheus, status

from .records import run
from .test_status import NOW, config_with, fake_show


def report_for(tmp_path, day, streak=(None, True), show=None, extra=""):
    """status.collect()'s report for sla-check with ``day`` (oldest first) as its runs."""
    config = config_with(tmp_path, extra)

    def history(service, job, now, uids):
        runs = day if job == "sla-check" else []
        successes = [r for r in runs if r["outcome"] == "ok"]
        return {"day": runs, "last_run": runs[-1] if runs else None,
                "last_success": successes[-1] if successes else None}

    jobs = [config.jobs[name] for name in sorted(config.jobs)]
    return status.collect(config, jobs, NOW, show=show or fake_show(), history=history,
                          load_streak=lambda service: streak)


def samples(text):
    """{'name{labels}': value} of every sample line."""
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, value = line.rsplit(" ", 1)
            out[key] = float(value)
    return out


def test_a_healthy_job_in_every_series(tmp_path):
    day = [run(NOW - 60 * i, duration=100 + i, unassigned=2) for i in range(10, 0, -1)]
    day[-3]["outcome"] = "auth"
    day[-1].update(duration_ms=1234, unassigned=7)
    got = samples(prometheus.render(report_for(tmp_path, day), NOW))
    job = '{job_name="sla-check"}'
    assert got["ticketing_cron_metrics_ok"] == 1
    assert got["ticketing_cron_metrics_generated_timestamp_seconds"] == NOW
    assert got["ticketing_cron_job_healthy" + job] == 1
    assert got['ticketing_cron_job_state{job_name="sla-check",state="ok"}'] == 1
    assert got['ticketing_cron_job_state{job_name="sla-check",state="failing"}'] == 0
    assert got["ticketing_cron_job_timer_active" + job] == 1
    assert got["ticketing_cron_job_next_run_timestamp_seconds" + job] == NOW + 30
    assert got["ticketing_cron_job_last_run_timestamp_seconds" + job] == NOW - 60
    assert got["ticketing_cron_job_last_success_timestamp_seconds" + job] == NOW - 60
    assert got["ticketing_cron_job_last_run_exit_status" + job] == 0
    assert got['ticketing_cron_job_last_run_outcome{job_name="sla-check",outcome="ok"}'] == 1
    assert got['ticketing_cron_job_last_run_outcome{job_name="sla-check",outcome="auth"}'] == 0
    assert got["ticketing_cron_job_last_run_duration_seconds" + job] == 1.234
    assert got["ticketing_cron_job_last_run_unassigned" + job] == 7
    assert got["ticketing_cron_job_failure_streak" + job] == 0
    assert got["ticketing_cron_job_failure_streak_alerted" + job] == 0
    assert got['ticketing_cron_job_runs_24h{job_name="sla-check",outcome="ok"}'] == 9
    assert got['ticketing_cron_job_runs_24h{job_name="sla-check",outcome="auth"}'] == 1
    assert got['ticketing_cron_job_runs_24h{job_name="sla-check",outcome="timeout"}'] == 0
    assert got["ticketing_cron_job_unassigned_24h" + job] == 2 * 8 + 7


def test_a_failing_streak_that_alerted(tmp_path):
    day = [run(NOW - 300), run(NOW - 240)] + [run(NOW - 60 * i, outcome="unavailable")
                                              for i in (3, 2, 1)]
    for r in day[2:]:
        r["exit_status"] = 69
    state = {"consecutive_failures": 3, "first_failure_at": NOW - 180,
             "last_alert_at": NOW - 60, "alerts_sent": 1}
    got = samples(prometheus.render(report_for(tmp_path, day, streak=(state, True)), NOW))
    job = '{job_name="sla-check"}'
    assert got["ticketing_cron_job_healthy" + job] == 0
    assert got['ticketing_cron_job_state{job_name="sla-check",state="failing"}'] == 1
    assert got["ticketing_cron_job_last_run_exit_status" + job] == 69
    assert got['ticketing_cron_job_last_run_outcome{job_name="sla-check",outcome="unavailable"}'] \
        == 1
    assert got["ticketing_cron_job_last_success_timestamp_seconds" + job] == NOW - 240
    assert got["ticketing_cron_job_failure_streak" + job] == 3
    assert got["ticketing_cron_job_failure_streak_alerted" + job] == 1
    assert "ticketing_cron_job_last_run_unassigned" + job not in got  # no success: no count


def test_a_job_that_never_ran_has_zero_times_and_no_last_run_series(tmp_path):
    got = samples(prometheus.render(report_for(tmp_path, []), NOW))
    job = '{job_name="sla-check"}'
    assert got["ticketing_cron_job_last_run_timestamp_seconds" + job] == 0
    assert got["ticketing_cron_job_last_success_timestamp_seconds" + job] == 0
    assert got['ticketing_cron_job_state{job_name="sla-check",state="waiting"}'] == 1
    assert not any(key.startswith(("ticketing_cron_job_last_run_exit",
                                   "ticketing_cron_job_last_run_outcome",
                                   "ticketing_cron_job_last_run_duration")) for key in got)


def test_unknown_alert_state_leaves_the_alerted_series_out(tmp_path):
    day = [run(NOW - 60, outcome="unavailable")]
    got = samples(prometheus.render(report_for(tmp_path, day, streak=(None, False)), NOW))
    assert 'ticketing_cron_job_failure_streak_alerted{job_name="sla-check"}' not in got
    assert got['ticketing_cron_job_failure_streak{job_name="sla-check"}'] == 1


def test_a_manual_job_has_no_timer_series(tmp_path):
    extra = '\n[jobs.digest]\npath = "/api/cron/digest"\n'
    got = samples(prometheus.render(report_for(tmp_path, [], extra=extra), NOW))
    assert got['ticketing_cron_job_state{job_name="digest",state="manual"}'] == 1
    assert not any("timer_active" in k and "digest" in k for k in got)
    assert not any("next_run" in k and "digest" in k for k in got)


def test_each_family_has_help_and_type_once_before_its_samples():
    report = {"jobs": []}
    text = prometheus.render(report, NOW)
    lines = text.splitlines()
    assert lines[:3] == ["# HELP ticketing_cron_metrics_ok " + prometheus.METRICS["metrics_ok"][1],
                         "# TYPE ticketing_cron_metrics_ok gauge",
                         "ticketing_cron_metrics_ok 1"]
    assert text.endswith("\n") and text.count("# TYPE ticketing_cron_metrics_ok ") == 1


def test_an_incomplete_report_says_so_and_lists_no_job(tmp_path):
    report = report_for(tmp_path, [run(NOW - 60)])
    got = samples(prometheus.render(report, NOW, complete=False))
    assert got == {"ticketing_cron_metrics_ok": 0,
                   "ticketing_cron_metrics_generated_timestamp_seconds": NOW}


@pytest.mark.parametrize("raw, escaped", [('a"b', 'a\\"b'), ("a\\b", "a\\\\b"),
                                          ("a\nb", "a\\nb"), ("plain", "plain")])
def test_label_values_are_escaped(raw, escaped):
    assert prometheus.label_value(raw) == escaped


@pytest.mark.parametrize("value, text", [(True, "1"), (False, "0"), (3, "3"), (2.0, "2"),
                                         (1.234, "1.234"), (1764417600.5, "1764417600.5")])
def test_numbers(value, text):
    assert prometheus.number(value) == text


def test_status_writes_the_file_atomically_and_keeps_stdout_empty(tmp_path, monkeypatch):
    path = tmp_path / "config.toml"
    path.write_text('[api]\nbase_url = "https://tickets.ops.test"\n')
    target = tmp_path / "ticketing-cron.prom"
    target.write_text("old\n")
    monkeypatch.setattr(status, "collect", lambda config, jobs, now: {
        "healthy": True, "generated_at": "x", "jobs": []})
    out, err = io.StringIO(), io.StringIO()
    assert status.status(str(path), None, "prometheus", out, err, now=NOW,
                         output=str(target)) == 0
    assert out.getvalue() == ""
    assert target.read_text().startswith("# HELP ticketing_cron_metrics_ok")
    assert oct(target.stat().st_mode & 0o777) == "0o644"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_status_reports_an_unwritable_output_as_unavailable(tmp_path, monkeypatch):
    from ticketing_cron.base.errors import UnavailableError

    path = tmp_path / "config.toml"
    path.write_text('[api]\nbase_url = "https://tickets.ops.test"\n')
    monkeypatch.setattr(status, "collect", lambda config, jobs, now: {
        "healthy": True, "generated_at": "x", "jobs": []})
    with pytest.raises(UnavailableError, match="cannot write .*missing/x.prom"):
        status.status(str(path), None, "prometheus", io.StringIO(), io.StringIO(), now=NOW,
                      output=str(tmp_path / "missing" / "x.prom"))


def test_a_broken_config_still_gives_metrics_ok_0(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("[api\n")
    out, err = io.StringIO(), io.StringIO()
    assert status.status(str(path), None, "prometheus", out, err, now=NOW) == 78
    assert samples(out.getvalue())["ticketing_cron_metrics_ok"] == 0
    assert "ticketing-cron:" in err.getvalue()
