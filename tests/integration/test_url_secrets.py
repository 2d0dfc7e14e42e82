"""The credential URLs kept out of the world-readable config: a job's ping URL from
its credential file, the alert webhook from webhook-url beside the config, and check's
warning for either left in a config every local user can read."""

import json

from fake_clock import faketime_env  # noqa: F401 - the alert handlers' tests' helper
from healthchecks_standin import Healthchecks
from support import EXIT, ok_reply, status_reply
from test_alert_handlers import T0, Alerts


def test_the_ping_url_comes_from_the_jobs_credential(cli, serve):
    api = serve(ok_reply(0))
    hc = Healthchecks("ok")
    try:
        cli.configure(api.url, rest='[jobs.sla-check]\npath = "/api/cron/sla-check"\n')
        cli.config_path.chmod(0o644)
        credential = cli.cred_dir / "ping-urls_sla-check"
        credential.write_text(hc.ping_url + "\n")
        credential.chmod(0o400)
        result = cli.run("run")
        assert result.status == EXIT["ok"], result.stderr
        (ping,) = hc.pings()
        assert ping.path == hc.check_path + "/0"
        secret_path = hc.check_path.split("/")[-1]
        assert secret_path not in result.stdout + result.stderr
    finally:
        hc.close()


def test_a_ping_credential_that_is_not_a_ping_url_is_a_config_error(cli, serve):
    api = serve(ok_reply(0))
    cli.configure(api.url, rest='[jobs.sla-check]\npath = "/api/cron/sla-check"\n')
    (cli.cred_dir / "ping-urls_sla-check").write_text("ftp://hc.acme.test/abc-secret-x\n")
    result = cli.run("run")
    assert result.status == EXIT["config"]
    assert "ping-urls_sla-check" in result.stderr
    assert "abc-secret-x" not in result.stdout + result.stderr
    assert api.received == [], "no call with a broken ping credential"


def test_the_webhook_url_comes_from_its_file_beside_the_config(tmp_path, cli, serve):
    hook = serve(status_reply(200, {"ok": True}))
    alerts = Alerts(tmp_path, cli.secret)
    alerts.configure('alert_after = 1\n')
    webhook = tmp_path / "webhook-url"
    webhook.write_text(f"{hook.url}/hook\n")
    webhook.chmod(0o600)
    proc = alerts.run("notify-failure", T0)
    assert proc.returncode == 0, proc.stderr
    assert [json.loads(r.body)["alert"] for r in hook.received] == ["failure"]
    assert hook.received[0].path == "/hook"


def test_a_symlinked_webhook_file_is_refused_without_its_content(tmp_path, cli, serve):
    hook = serve(status_reply(200, {"ok": True}))
    alerts = Alerts(tmp_path, cli.secret)
    alerts.configure('alert_after = 1\n')
    target = tmp_path / "elsewhere"
    target.write_text(f"{hook.url}/hook-secret-token\n")
    (tmp_path / "webhook-url").symlink_to(target)
    proc = alerts.run("notify-failure", T0)
    assert hook.received == []
    assert "webhook-url: cannot be read" in proc.stderr + proc.stdout, proc.stderr
    assert "hook-secret-token" not in proc.stderr + proc.stdout


def test_check_warns_about_credentials_in_a_world_readable_config(cli, serve):
    api = serve(ok_reply(0))
    cli.configure(api.url, rest=('[jobs.sla-check]\npath = "/api/cron/sla-check"\n'
                                 'ping_url = "https://hc-ping.com/0f3a-secret-uuid"\n'
                                 '[alerts]\nwebhook_url = "https://hooks.acme.test/T0/secret"\n'))
    cli.config_path.chmod(0o644)
    result = cli.run("check", verbose=False)
    assert result.status == EXIT["ok"], result.stderr
    warned = [line for line in result.stderr.splitlines() if "is a credential" in line]
    assert len(warned) == 2
    assert "jobs.sla-check.ping_url" in warned[0] and "ping-urls/sla-check" in warned[0]
    assert "alerts.webhook_url" in warned[1] and "webhook-url" in warned[1]
    assert "secret-uuid" not in result.stderr and "T0/secret" not in result.stderr
    cli.config_path.chmod(0o640)
    result = cli.run("check", verbose=False)
    assert "is a credential" not in result.stderr


def test_check_reports_a_broken_credential_file(cli, serve):
    api = serve(ok_reply(0))
    cli.configure(api.url, rest='[jobs.sla-check]\npath = "/api/cron/sla-check"\n')
    (cli.config_path.parent / "webhook-url").write_text("not a url secret-abc\n")
    result = cli.run("check", verbose=False)
    assert result.status == EXIT["config"]
    assert "webhook-url" in result.stderr and "secret-abc" not in result.stderr
