"""The stand-in app implements the sla-check endpoint, and dev/demo works."""

import json
import subprocess
import urllib.request

from support import EXIT, REPO


def get(url):
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.load(r)


def test_standin_unassigns_expired_requests_once(cli, standin):
    cli.configure(standin)
    result = cli.run("run")
    assert result.status == EXIT["ok"]
    assert "3 requests unassigned" in result.summary
    requests = get(standin + "/_standin/requests")
    assert [r["status"] for r in requests] == ["unassigned"] * 3 + ["assigned"] * 2
    assert all(r["assignee"] is None for r in requests[:3])
    history = get(standin + "/_standin/history")
    assert [h["request_id"] for h in history] == [1, 2, 3]
    assert all(h["action"] == "sla_timeout" for h in history)
    assert len(get(standin + "/_standin/notifications")) == 1
    again = cli.run("run")
    assert "0 requests unassigned" in again.summary
    calls = get(standin + "/_standin/calls")
    assert [c["secret_ok"] for c in calls] == [True, True]
    assert calls[0]["request_id"] == result.fields["REQUEST_ID"]


def test_standin_rejects_a_wrong_secret(cli, standin):
    cli.configure(standin)
    cli.write_secret(b"not-the-apps-secret\n")
    result = cli.run("run")
    assert result.status == EXIT["auth"]
    assert [r["status"] for r in get(standin + "/_standin/requests")][:3] == ["assigned"] * 3


def test_demo_runs_one_real_sla_check():
    proc = subprocess.run([str(REPO / "dev/demo")], capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "sla-check ok: 3 requests unassigned" in proc.stdout
    assert proc.stdout.count("sla_timeout unassigned from") == 3
