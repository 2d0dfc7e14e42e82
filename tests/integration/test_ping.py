"""The dead-man's ping: `ticketing-cron run` against the app and a Healthchecks
stand-in, both on loopback."""

import subprocess
import sys
import time

import pytest

from healthchecks_standin import Healthchecks
from support import EXIT, REPO, kill_after, ok_reply, send, status_reply


# Fields that differ between any two runs (a manual run has a random idempotency
# key, and its "slot" is the time it started).
PER_RUN = ("REQUEST_ID", "DURATION_MS", "IDEMPOTENCY_KEY", "SCHEDULED_AT")


@pytest.fixture
def healthchecks():
    made = []

    def start(mode="ok"):
        hc = Healthchecks(mode)
        made.append(hc)
        return hc
    yield start
    for hc in made:
        hc.close()


def configure(cli, base_url, ping_url, job_extra=""):
    cli.configure(base_url, rest=f'[jobs.sla-check]\npath = "/api/cron/sla-check"\n'
                                 f'ping_url = "{ping_url}"\n{job_extra}')


def uuid_form(hex32):
    return f"{hex32[:8]}-{hex32[8:12]}-{hex32[12:16]}-{hex32[16:20]}-{hex32[20:]}"


def message_of(summary_line):
    """The record's MESSAGE from a -v stderr line ('ticketing-cron: [err: ]MSG [K=V ...]')."""
    text = summary_line.split(": ", 1)[1]
    if text.startswith("err: "):
        text = text[len("err: "):]
    return text[:text.rindex(" [")]


def warnings_about_ping(result):
    return [line for line in result.stderr.splitlines() if " ping to " in line]


def assert_no_leak(result, hc, cli):
    """Neither the ping path nor the secret in any output; the secret never sent to the
    ping host."""
    secret_path = hc.check_path.split("/")[-1]
    assert secret_path not in result.stdout and secret_path not in result.stderr
    assert cli.secret.encode() not in hc.everything_received()


def test_success_pings_0_with_rid_and_the_summary_as_body(cli, serve, healthchecks):
    api = serve(ok_reply(3))
    hc = healthchecks()
    configure(cli, api.url, hc.ping_url)
    result = cli.run("run")
    assert result.status == EXIT["ok"]
    (ping,) = hc.pings()
    assert ping.method == "POST" and ping.path == hc.check_path + "/0"
    assert ping.exit_status == 0
    assert ping.rid == uuid_form(result.fields["REQUEST_ID"])
    assert ping.body.decode() == message_of(result.summary)
    assert ping.body.startswith(b"sla-check ok: 3 requests unassigned (HTTP 200, ")
    assert "x-cron-secret" not in ping.headers
    assert ping.headers["user-agent"].startswith("ticketing-cron/")
    (call,) = api.received
    assert call.at < ping.at, "the ping comes after the API call"
    assert warnings_about_ping(result) == []
    assert_no_leak(result, hc, cli)


@pytest.mark.parametrize("respond, outcome", [
    (status_reply(401, {"error": "Unauthorized"}), "auth"),
    (status_reply(404, {"error": "Not found"}), "protocol"),
    (status_reply(500, {"error": "boom"}), "unavailable"),
    (lambda h, r: send(h, 200, "<html>login</html>", [("Content-Type", "text/html")]),
     "protocol"),
    (status_reply(301, {}, [("Location", "https://elsewhere.test/")]), "config"),
])
def test_each_failure_pings_its_exit_status(cli, serve, healthchecks, respond, outcome):
    api = serve(respond)
    hc = healthchecks()
    configure(cli, api.url, hc.ping_url)
    result = cli.run("run")
    assert result.status == EXIT[outcome] and result.fields["OUTCOME"] == outcome
    (ping,) = hc.pings()
    assert ping.exit_status == EXIT[outcome]
    assert ping.rid == uuid_form(result.fields["REQUEST_ID"])
    assert ping.body.decode() == message_of(result.summary)
    assert ping.body.startswith(f"sla-check {outcome}: ".encode())
    assert warnings_about_ping(result) == []
    assert_no_leak(result, hc, cli)


def test_a_missing_secret_pings_78(cli, serve, healthchecks):
    api = serve(ok_reply())
    hc = healthchecks()
    configure(cli, api.url, hc.ping_url)
    (cli.cred_dir / "cron-secret").unlink()
    result = cli.run("run")
    assert result.status == EXIT["config"]
    (ping,) = hc.pings()
    assert ping.exit_status == 78 and b"sla-check config: " in ping.body
    assert api.received == []


def test_a_secret_echoed_by_the_app_is_not_in_the_ping(cli, serve, healthchecks):
    api = serve(lambda h, r: send(h, 400, {"error": f"bad secret {r.headers['x-cron-secret']}"}))
    hc = healthchecks()
    configure(cli, api.url, hc.ping_url)
    result = cli.run("run")
    assert result.status == EXIT["protocol"]
    (ping,) = hc.pings()
    assert b"[secret]" in ping.body
    assert_no_leak(result, hc, cli)


@pytest.mark.parametrize("mode, attempts", [("refuse", 0), ("hang", 1), ("redirect", 1),
                                            ("500", 2)])
def test_a_broken_ping_changes_nothing_about_the_run(cli, serve, healthchecks, mode, attempts):
    # The same run against a working ping service, for comparison.
    good_hc = healthchecks()
    api = serve(ok_reply(2))
    configure(cli, api.url, good_hc.ping_url)
    reference = cli.run("run")
    hc = healthchecks(mode)
    configure(cli, api.url, hc.ping_url)
    started = time.monotonic()
    result = cli.run("run")
    took = time.monotonic() - started
    assert result.status == reference.status == EXIT["ok"]
    assert message_of(result.summary).split(" (")[0] == message_of(reference.summary).split(" (")[0]
    assert set(result.fields) == set(reference.fields)
    same = {k: v for k, v in result.fields.items() if k not in PER_RUN}
    assert same == {k: v for k, v in reference.fields.items() if k not in PER_RUN}
    (warning,) = warnings_about_ping(result)
    assert warning.startswith(f"ticketing-cron: warning: sla-check ping to {hc.base} failed: ")
    assert "OUTCOME=" not in warning and "(exit status 0) is unaffected" in warning
    assert len(hc.pings()) == attempts
    assert took < 20, "the ping is bounded by its 5 s limit"
    assert_no_leak(result, hc, cli)
    if mode == "redirect":
        assert all("/elsewhere/" not in p.raw_path for p in hc.pings()), "not followed"
        assert "redirect, not followed" in warning
    if mode == "500":
        assert "HTTP 500" in warning and "after 2 attempts" in warning


def test_a_5xx_then_ok_is_retried_once_without_a_warning(cli, serve, healthchecks):
    api = serve(ok_reply())
    hc = healthchecks("500-then-ok")
    configure(cli, api.url, hc.ping_url)
    result = cli.run("run")
    assert result.status == 0
    assert [p.exit_status for p in hc.pings()] == [0, 0]
    assert len({p.rid for p in hc.pings()}) == 1
    assert warnings_about_ping(result) == []


def test_a_run_that_used_its_whole_deadline_does_not_ping(cli, serve, healthchecks):
    api = serve(lambda h, r: time.sleep(8))
    hc = healthchecks()
    configure(cli, api.url, hc.ping_url)
    result = cli.run("run")
    assert result.status == EXIT["timeout"]
    assert hc.pings() == []
    (warning,) = warnings_about_ping(result)
    assert "left no time" in warning
    assert_no_leak(result, hc, cli)


def test_a_run_stopped_by_sigterm_does_not_ping(cli, serve, healthchecks):
    api = serve(lambda h, r: time.sleep(8))
    hc = healthchecks()
    configure(cli, api.url, hc.ping_url)
    proc = cli.start("run")
    wait_until = time.monotonic() + 10
    while not api.received and time.monotonic() < wait_until:
        time.sleep(0.05)
    kill_after(proc, 0.2)
    result = cli.finish(proc)
    assert result.status == EXIT["timeout"] and "SIGTERM" in result.summary
    assert hc.pings() == []
    (warning,) = warnings_about_ping(result)
    assert "SIGTERM left no time" in warning


def test_https_ping_is_verified(cli, serve, healthchecks, pki):
    api = serve(ok_reply())
    bad = serve(lambda h, r: send(h, 200, "OK"), host="127.0.0.1", tls=pki.context(True))
    ping_url = f"{bad.url}/ping/0f0e0d0c-aaaa-bbbb-cccc-123456789abc"
    configure(cli, api.url, ping_url)
    result = cli.run("run")
    assert result.status == 0
    (warning,) = warnings_about_ping(result)
    assert "TLS failed" in warning or "certificate" in warning
    assert bad.received == [] and "0f0e0d0c" not in result.stderr


def test_check_shows_only_scheme_and_host_of_the_ping_url(cli, serve, healthchecks):
    hc = healthchecks()
    configure(cli, serve(ok_reply()).url, hc.ping_url)
    result = cli.run("check")
    assert result.status == 0
    assert hc.base in result.stdout
    assert hc.check_path not in result.stdout + result.stderr
    configure(cli, "https://tickets.ops.test",
              "http://hc.ops.test/ping/0f0e0d0c-aaaa-bbbb-cccc-123456789abc")
    result = cli.run("check")
    assert result.status == EXIT["config"]
    assert "jobs.sla-check.ping_url: http:// is only allowed to a loopback host" in result.stderr
    assert "0f0e0d0c" not in result.stdout + result.stderr


def test_without_ping_url_nothing_of_the_ping_is_imported(cli, serve):
    cli.configure(serve(ok_reply()).url)
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "ticketing_cron",
                           "--config", str(cli.config_path), "run"], env=cli.env(),
                          capture_output=True, text=True, timeout=60, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    imported = [line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines()
                if line.startswith("import time:")]
    assert "ticketing_cron.run.runner" in imported
    assert "ticketing_cron.run.ping" not in imported
    assert "ticketing_cron.config.ping_url" not in imported


# -- ping_start: the start signal before the API call


def test_ping_start_signals_before_the_call_with_the_end_pings_rid(cli, serve, healthchecks):
    api = serve(ok_reply(2))
    hc = healthchecks()
    configure(cli, api.url, hc.ping_url, "ping_start = true\n")
    result = cli.run("run")
    assert result.status == EXIT["ok"]
    start, end = hc.pings()
    assert start.method == "POST" and start.path == hc.check_path + "/start"
    assert start.body == b""
    assert start.rid == end.rid == uuid_form(result.fields["REQUEST_ID"])
    assert end.exit_status == 0
    (call,) = api.received
    assert start.at < call.at < end.at, "start, then the API call, then the end ping"
    assert warnings_about_ping(result) == []
    assert_no_leak(result, hc, cli)


def test_without_ping_start_there_is_no_start_signal(cli, serve, healthchecks):
    api = serve(ok_reply(0))
    hc = healthchecks()
    configure(cli, api.url, hc.ping_url, "ping_start = false\n")
    assert cli.run("run").status == EXIT["ok"]
    assert [p.path for p in hc.pings()] == [hc.check_path + "/0"]


@pytest.mark.parametrize("mode, reason", [
    ("hang-start", "no answer within 1.0 s"),
    ("refuse", "cannot connect"),
    ("500", "HTTP 500"),
])
def test_a_failed_start_signal_is_a_warning_and_the_run_goes_on(cli, serve, healthchecks,
                                                                mode, reason):
    api = serve(ok_reply(1))
    hc = healthchecks(mode)
    configure(cli, api.url, hc.ping_url, "ping_start = true\n")
    result = cli.run("run")
    assert result.status == EXIT["ok"], result.stderr
    assert len(api.received) == 1, "the API call was made"
    (start_warning,) = [line for line in warnings_about_ping(result) if "start ping" in line]
    assert reason in start_warning and "the run goes on" in start_warning
    assert_no_leak(result, hc, cli)
