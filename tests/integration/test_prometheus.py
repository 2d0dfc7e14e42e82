"""The metrics for Prometheus, checked by Prometheus' own tools: promtool (Debian's
prometheus package) lints the exposition and checks and unit-tests the example
alerting rules; python3-prometheus-client parses the exposition independently."""

import re
import shutil
import subprocess

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from support import REPO
from ticketing_cron.config.load import load_config
from ticketing_cron.status import prometheus, status

PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"
RULES = REPO / "deploy" / "prometheus" / "ticketing-cron.rules.yml"
RULE_TESTS = REPO / "deploy" / "prometheus" / "ticketing-cron.rules.test.yml"
NOW = 1_764_417_600.0


def promtool(*args, stdin=None, cwd=None):
    return subprocess.run([PROMTOOL, *args], input=stdin, capture_output=True, text=True,
                          timeout=60, cwd=cwd)


def exposition(tmp_path):
    """The exposition of a report with a healthy job, a failing one and a manual one."""
    path = tmp_path / "config.toml"
    path.write_text('[api]\nbase_url = "https://tickets.ops.test"\n\n'
                    '[jobs.sla-check]\npath = "/api/cron/sla-check"\n\n'
                    '[jobs.digest]\npath = "/api/cron/digest"\nschedule = "0 * * * *"\n\n'
                    '[jobs.by-hand]\npath = "/api/cron/by-hand"\n')
    config = load_config(str(path))

    def show(names):
        return {n: {"Id": n, "LoadState": "loaded", "UnitFileState": "enabled",
                    "ActiveState": "active" if n.endswith(".timer") else "inactive",
                    "LastTriggerUSec": NOW - 30, "NextElapseUSecRealtime": NOW + 30}
                for n in names}

    def run(at, outcome):
        return {"at": at, "outcome": outcome, "duration_ms": 140, "unassigned": 1,
                "message": "x", "exit_status": 0 if outcome == "ok" else 69,
                "http_status": 200, "request_id": "0" * 32}

    def history(service, job, now, uids):
        outcome = "unavailable" if job == "digest" else "ok"
        day = [] if job == "by-hand" else [run(NOW - 60 * i, outcome) for i in (3, 2, 1)]
        good = [r for r in day if r["outcome"] == "ok"]
        return {"day": day, "last_run": day[-1] if day else None,
                "last_success": good[-1] if good else None}

    jobs = [config.jobs[n] for n in sorted(config.jobs)]
    report = status.collect(config, jobs, NOW, show=show, history=history,
                            load_streak=lambda service: (None, True))
    return prometheus.render(report, NOW)


def test_promtool_finds_nothing_to_lint_in_the_exposition(tmp_path):
    proc = promtool("check", "metrics", stdin=exposition(tmp_path))
    assert proc.returncode == 0 and not proc.stdout.strip() and not proc.stderr.strip(), \
        proc.stdout + proc.stderr


def test_prometheus_client_parses_every_family_with_its_type(tmp_path):
    families = {f.name: f for f in text_string_to_metric_families(exposition(tmp_path))}
    assert set(families) == {prometheus.PREFIX + name for name in prometheus.METRICS}
    assert all(f.type == "gauge" for f in families.values())
    healthy = {s.labels["job_name"]: s.value
               for s in families["ticketing_cron_job_healthy"].samples}
    assert healthy == {"by-hand": 1, "digest": 0, "sla-check": 1}


def test_the_example_rules_pass_promtool_check_rules():
    proc = promtool("check", "rules", str(RULES))
    assert proc.returncode == 0 and "SUCCESS: 4 rules found" in proc.stdout, \
        proc.stdout + proc.stderr


def test_the_rules_unit_tests_pass():
    proc = promtool("test", "rules", str(RULE_TESTS))
    assert proc.returncode == 0 and "SUCCESS" in proc.stdout, proc.stdout + proc.stderr


@pytest.mark.parametrize("change", [("> 180", "> 600"), ("healthy == 0", "healthy == 2"),
                                    ("> 300", "> 3000"), ("metrics_ok == 0", "metrics_ok == 2")])
def test_the_rules_unit_tests_fail_when_a_rule_is_broken(tmp_path, change):
    text = RULES.read_text()
    assert change[0] in text
    shutil.copy(RULE_TESTS, tmp_path / RULE_TESTS.name)
    (tmp_path / RULES.name).write_text(text.replace(*change, 1))
    proc = promtool("test", "rules", RULE_TESTS.name, cwd=tmp_path)
    assert proc.returncode != 0 and "FAILED" in proc.stdout + proc.stderr


def test_the_rules_use_only_metrics_that_status_writes_or_node_exporter_has():
    exprs = " ".join(rule["expr"] for group in yaml.safe_load(RULES.read_text())["groups"]
                     for rule in group["rules"])
    used = set(re.findall(r"\b(ticketing_cron_[a-z0-9_]+|node_[a-z0-9_]+)", exprs))
    written = {prometheus.PREFIX + name for name in prometheus.METRICS}
    assert used - written == {"node_textfile_mtime_seconds"}
