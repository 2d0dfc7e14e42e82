"""`ticketing-cron run` as a subprocess against real servers on loopback."""

import socket
import subprocess
import sys
import time

import pytest

from support import EXIT, kill_after, ok_reply, send, sequence, status_reply


def test_success_reports_unassigned_count_and_fields(cli, serve):
    server = serve(ok_reply(3))
    cli.configure(server.url)
    result = cli.run("run")
    assert result.status == EXIT["ok"]
    assert "sla-check ok: 3 requests unassigned (HTTP 200, " in result.summary
    assert ", 1 attempt)" in result.summary
    f = result.fields
    assert f["JOB"] == "sla-check" and f["OUTCOME"] == "ok" and f["HTTP_STATUS"] == "200"
    assert f["ATTEMPTS"] == "1" and int(f["DURATION_MS"]) >= 0
    assert f["UNASSIGNED_COUNT"] == "3" and f["SERVER_DURATION_MS"] == "45"
    (request,) = server.received
    assert request.method == "POST" and request.path == "/api/cron/sla-check"
    assert request.body == b"{}"
    assert request.headers["x-cron-secret"] == cli.secret
    assert request.headers["content-type"] == "application/json"
    assert request.headers["accept"] == "application/json"
    assert request.headers["user-agent"].startswith("ticketing-cron/")
    assert request.headers["x-request-id"] == f["REQUEST_ID"]


def test_one_request_is_singular(cli, serve):
    cli.configure(serve(ok_reply(1)).url)
    assert "ok: 1 request unassigned" in cli.run("run").summary


def test_success_without_unassigned_count(cli, serve):
    server = serve(lambda h, r: send(h, 200, {"success": True}))
    cli.configure(server.url)
    result = cli.run("run")
    assert result.status == EXIT["ok"]
    assert "sla-check ok: the API reported success (HTTP 200" in result.summary
    assert "UNASSIGNED_COUNT" not in result.fields


def test_quiet_run_prints_one_line(cli, serve):
    cli.configure(serve(ok_reply(0)).url)
    result = cli.run("run", verbose=False)
    assert result.status == 0
    assert result.stderr.count("\n") == 1 and "sla-check ok: 0 requests unassigned" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("status", [401, 403])
def test_rejected_secret_is_auth(cli, serve, status):
    server = serve(status_reply(status, {"error": "Unauthorized"}))
    cli.configure(server.url)
    result = cli.run("run")
    assert result.status == EXIT["auth"]
    assert (f"sla-check auth: the API rejected the secret (HTTP {status}); check that "
            "cron-secret matches the app's CRON_SECRET") in result.summary
    assert result.fields["HTTP_STATUS"] == str(status)
    assert len(server.received) == 1, "401/403 must not be retried"


def test_rejected_secret_names_this_sides_fingerprint_to_compare(cli, serve):
    """What the administrator compares with the app's CRON_SECRET, showing neither:
    the length and the start of the SHA-256 that `printf %s "$CRON_SECRET" | sha256sum`
    gives on the app's side."""
    server = serve(status_reply(401, {"error": "Unauthorized"}))
    cli.configure(server.url)
    result = cli.run("run", verbose=False)
    assert result.status == EXIT["auth"]
    digest = subprocess.run(["sha256sum"], input=cli.secret.encode(), capture_output=True,
                            check=True).stdout.decode()[:12]
    assert (f"(this server's: {len(cli.secret)} characters, sha256 {digest}; the app's: "
            f'printf %s "$CRON_SECRET" | sha256sum)') in result.stderr
    assert cli.secret not in result.stderr + result.stdout


def test_not_found_is_protocol_and_names_the_url(cli, serve):
    server = serve(status_reply(404, {"error": "Not found"}))
    cli.configure(server.url)
    result = cli.run("run")
    assert result.status == EXIT["protocol"]
    assert f"{server.url}/api/cron/sla-check does not exist (HTTP 404)" in result.summary
    assert "api.base_url" in result.summary
    assert len(server.received) == 1


def test_other_4xx_is_protocol_with_the_apps_error(cli, serve):
    server = serve(status_reply(400, {"error": "bad body"}))
    cli.configure(server.url)
    result = cli.run("run")
    assert result.status == EXIT["protocol"]
    assert "HTTP 400: bad body" in result.summary
    assert len(server.received) == 1


def test_500_is_unavailable_and_not_retried(cli, serve):
    server = serve(status_reply(500, {"error": "database down"}))
    cli.configure(server.url)
    result = cli.run("run")
    assert result.status == EXIT["unavailable"]
    assert "the app failed with HTTP 500: database down; see the app's logs" in result.summary
    assert len(server.received) == 1


def test_503_then_200_is_retried(cli, serve):
    server = serve(sequence(status_reply(503), ok_reply(2)))
    cli.configure(server.url)
    result = cli.run("run")
    assert result.status == EXIT["ok"]
    assert result.fields["ATTEMPTS"] == "2"
    assert "2 requests unassigned (HTTP 200, " in result.summary and "2 attempts)" in result.summary
    assert len(server.received) == 2
    ids = {r.headers["x-request-id"] for r in server.received}
    assert ids == {result.fields["REQUEST_ID"]}, "one run keeps one request id"


def test_retry_after_is_honoured(cli, serve):
    server = serve(sequence(status_reply(503, headers=[("Retry-After", "2")]), ok_reply(0)))
    cli.configure(server.url)
    result = cli.run("run")
    assert result.status == EXIT["ok"]
    assert "retrying in 2.0 s" in result.stderr
    first, second = server.received
    assert second.at - first.at >= 1.9


def test_503_forever_gives_up_inside_the_deadline(cli, serve):
    server = serve(status_reply(503))
    cli.configure(server.url)  # deadline 6 s
    started = time.monotonic()
    result = cli.run("run")
    elapsed = time.monotonic() - started
    assert result.status == EXIT["unavailable"]
    assert "still answered HTTP 503 after" in result.summary
    assert int(result.fields["ATTEMPTS"]) == len(server.received) >= 2
    assert int(result.fields["DURATION_MS"]) <= 6000
    assert elapsed < 6 + 5  # bounded by the deadline, with room for interpreter start-up


def test_retry_after_past_the_deadline_does_not_sleep(cli, serve):
    server = serve(status_reply(429, headers=[("Retry-After", "120")]))
    cli.configure(server.url)
    result = cli.run("run")
    assert result.status == EXIT["unavailable"]
    assert "HTTP 429" in result.summary
    assert len(server.received) == 1
    assert "no retry: waiting 120.0 s would pass the deadline" in result.stderr
    assert int(result.fields["DURATION_MS"]) < 6000


def test_server_that_never_answers_ends_at_the_deadline(cli, serve):
    server = serve(lambda h, r: time.sleep(30))
    cli.write_config(f'[api]\nbase_url = "{server.url}"\ndeadline = 3\nread_timeout = 3\n')
    result = cli.run("run")
    assert result.status == EXIT["timeout"]
    assert "deadline" in result.summary
    assert int(result.fields["DURATION_MS"]) < 3000 + 1000


def trickle_body(handler, request):
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", "1000")
    handler.end_headers()
    for _ in range(60):
        handler.wfile.write(b" ")
        handler.wfile.flush()
        time.sleep(1)


def trickle_headers(handler, request):
    for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 60:
        handler.wfile.write(bytes([byte]))
        handler.wfile.flush()
        time.sleep(1)


@pytest.mark.parametrize("respond", [trickle_body, trickle_headers], ids=["body", "headers"])
def test_server_trickling_a_byte_a_second_ends_at_the_deadline(cli, serve, respond):
    server = serve(respond)
    cli.write_config(f'[api]\nbase_url = "{server.url}"\ndeadline = 4\nread_timeout = 3\n')
    started = time.monotonic()
    result = cli.run("run")
    assert result.status == EXIT["timeout"]
    assert "deadline of 4 s" in result.summary
    assert time.monotonic() - started < 4 + 5


def test_sigterm_during_a_hanging_request_writes_a_record(cli, serve):
    server = serve(lambda h, r: time.sleep(30))
    cli.write_config(f'[api]\nbase_url = "{server.url}"\ndeadline = 50\nread_timeout = 40\n')
    proc = cli.start("run")
    while not server.received:
        time.sleep(0.05)
    kill_after(proc, 0.2)
    result = cli.finish(proc, timeout=10)
    assert result.status == EXIT["timeout"]
    assert "stopped by SIGTERM" in result.summary


@pytest.mark.parametrize("body,content_type,expected", [
    ("<!DOCTYPE html><html>login</html>", "text/html",
     "the reply is not JSON (HTTP 200, text/html"),
    ('{"success": false, "error": "database locked"}', "application/json",
     "the app reported failure: database locked (HTTP 200)"),
    ('{"success": "true"}', "application/json", '"success" is a string "true", not true'),
    ('[{"success": true}]', "application/json", "JSON but not an object (it is an array"),
    ('{"unassignedCount": 2}', "application/json", 'the reply has no "success" field'),
    ("", "application/json", "the reply is not JSON"),
], ids=["html", "success-false", "success-string", "array", "no-success", "empty"])
def test_reply_that_does_not_say_success_is_protocol(cli, serve, body, content_type, expected):
    server = serve(lambda h, r: send(h, 200, body, [("Content-Type", content_type)]))
    cli.configure(server.url)
    result = cli.run("run")
    assert result.status == EXIT["protocol"]
    assert expected in result.summary
    assert len(server.received) == 1


def test_error_text_from_the_app_is_one_clean_line(cli, serve):
    error = "line one\nline two\x1b[31m red" + "x" * 500
    server = serve(lambda h, r: send(h, 200, {"success": False, "error": error}))
    cli.configure(server.url)
    result = cli.run("run", verbose=False)
    assert result.status == EXIT["protocol"]
    assert result.stderr.count("\n") == 1 and "\x1b" not in result.stderr
    assert "line one line two" in result.stderr and len(result.stderr) < 600


def big_body(size, with_length):
    def respond(handler, request):
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        if with_length:
            handler.send_header("Content-Length", str(size))
        else:
            handler.send_header("Connection", "close")
        handler.end_headers()
        chunk = b'{"success": true, "pad": "' + b"x" * 65536
        sent = 0
        try:
            while sent < size:
                handler.wfile.write(chunk[: size - sent])
                sent += len(chunk)
        except OSError:
            pass  # the client hung up once it had enough: that is the point
    return respond


@pytest.mark.parametrize("with_length", [True, False], ids=["content-length", "streamed"])
def test_reply_over_one_mib_is_protocol_and_memory_stays_small(cli, serve, with_length):
    baseline = cli_rss(cli, serve(ok_reply(0)))
    server = serve(big_body(5 * 1024 * 1024, with_length))
    cli.configure(server.url)
    result = cli.run_measured("run")
    assert result.status == EXIT["protocol"]
    assert "byte limit" in result.summary
    # Reading the 5 MiB would add at least 5 MiB; the cap keeps the growth near 1 MiB.
    assert result.maxrss_kib - baseline < 3 * 1024, (result.maxrss_kib, baseline)


def cli_rss(cli, server):
    cli.configure(server.url)
    result = cli.run_measured("run")
    assert result.status == 0
    return result.maxrss_kib


def test_connection_refused_is_unavailable(cli):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again before the run: nothing listens
    cli.write_config(f'[api]\nbase_url = "http://127.0.0.1:{port}"\ndeadline = 3\n')
    result = cli.run("run")
    assert result.status == EXIT["unavailable"]
    assert f"cannot connect to http://127.0.0.1:{port}" in result.summary
    assert "refused" in result.summary.lower()
    assert int(result.fields["ATTEMPTS"]) >= 2, "connection errors are retried"


def test_redirect_elsewhere_is_not_followed(cli, serve):
    elsewhere = serve(ok_reply(0), host="127.0.0.2")
    target = f"{elsewhere.url}/api/cron/sla-check"
    server = serve(status_reply(302, {}, headers=[("Location", target)]))
    cli.configure(server.url)
    result = cli.run("run")
    assert result.status == EXIT["config"]
    assert f"redirected (HTTP 302) {server.url}/api/cron/sla-check to {target}" in result.summary
    assert "set api.base_url" in result.summary
    assert elsewhere.received == []
    assert len(server.received) == 1


def test_redirect_to_the_same_host_is_not_followed(cli, serve):
    server = serve(sequence(status_reply(307, {}, headers=[("Location", "/v2/api/cron/sla-check")]),
                            ok_reply(0)))
    cli.configure(server.url)
    result = cli.run("run")
    assert result.status == EXIT["config"]
    assert "to /v2/api/cron/sla-check" in result.summary
    assert [r.path for r in server.received] == ["/api/cron/sla-check"]


def test_https_with_private_ca_file_works(cli, serve, pki):
    server = serve(ok_reply(4), tls=pki.context())
    cli.configure(server.url.replace("127.0.0.1", "localhost"), f'ca_file = "{pki.ca_cert}"')
    result = cli.run("run")
    assert result.status == EXIT["ok"], result.stderr
    assert "4 requests unassigned" in result.summary


def test_https_to_an_ip_address_works(cli, serve, pki):
    server = serve(ok_reply(0), tls=pki.context())
    cli.configure(server.url, f'ca_file = "{pki.ca_cert}"')
    assert cli.run("run").status == EXIT["ok"]


def test_untrusted_certificate_is_refused_and_nothing_sent(cli, serve, pki):
    server = serve(ok_reply(0), tls=pki.context(self_signed=True))
    cli.configure(server.url)
    result = cli.run("run")
    assert result.status == EXIT["unavailable"]
    assert "TLS failed" in result.summary and "api.ca_file" in result.summary
    assert "certificate" in result.summary.lower()
    assert server.received == []
    assert result.fields["ATTEMPTS"] == "1", "a certificate problem is not retried"


def test_self_signed_certificate_given_as_ca_file_works(cli, serve, pki):
    server = serve(ok_reply(0), tls=pki.context(self_signed=True))
    cli.configure(server.url, f'ca_file = "{pki.self_signed_cert}"')
    assert cli.run("run").status == EXIT["ok"]


def test_ca_file_that_does_not_hold_the_issuer_is_refused(cli, serve, pki):
    server = serve(ok_reply(0), tls=pki.context())
    cli.configure(server.url, f'ca_file = "{pki.self_signed_cert}"')
    result = cli.run("run")
    assert result.status == EXIT["unavailable"] and server.received == []


def test_ipv6_loopback(cli, serve):
    server = serve(ok_reply(1), host="::1")
    cli.configure(server.url)
    result = cli.run("run")
    assert result.status == EXIT["ok"], result.stderr
    assert server.url.startswith("http://[::1]:")


@pytest.mark.parametrize("suffix,path", [
    ("/", "/api/cron/sla-check"),
    ("/tickets", "/tickets/api/cron/sla-check"),
    ("/tickets/", "/tickets/api/cron/sla-check"),
])
def test_base_url_with_trailing_slash_or_prefix(cli, serve, suffix, path):
    server = serve(ok_reply(0))
    cli.configure(server.url + suffix)
    assert cli.run("run").status == EXIT["ok"]
    assert [r.path for r in server.received] == [path]


def test_other_job_uses_its_own_path(cli, serve):
    server = serve(ok_reply(0))
    cli.configure(server.url, rest='[jobs.sla-check]\npath = "/api/cron/sla-check"\n'
                  '[jobs.cleanup]\npath = "/api/cron/cleanup"\n')
    result = cli.run("run", "cleanup")
    assert result.status == EXIT["ok"]
    assert "cleanup ok:" in result.summary and result.fields["JOB"] == "cleanup"
    assert [r.path for r in server.received] == ["/api/cron/cleanup"]


def test_unexpected_exception_is_bug_with_traceback_only_in_debug(cli, serve, tmp_path):
    server = serve(ok_reply(0))
    cli.configure(server.url)
    boom = ("import sys, ticketing_cron.http.client as c\n"
            "def boom(*a, **k):\n    raise ZeroDivisionError('injected')\n"
            "c.post = boom\n"
            "from ticketing_cron.cli import main\nsys.exit(main(sys.argv[1:]))\n")
    for verbose in (False, True):
        args = ["--config", str(cli.config_path)] + (["-v"] if verbose else []) + ["run"]
        proc = subprocess.run([sys.executable, "-c", boom, *args], env=cli.env(),
                              capture_output=True, text=True, timeout=30)
        assert proc.returncode == EXIT["bug"]
        assert "sla-check bug: unexpected ZeroDivisionError; please report it" in proc.stderr
        assert ("traceback: Traceback" in proc.stderr) == verbose
        assert cli.secret not in proc.stderr
    assert server.received == []


def test_secret_found_in_a_reply_is_redacted(cli, serve):
    server = serve(lambda h, r: send(h, 200, {"success": False,
                                              "error": f"bad {r.headers['x-cron-secret']}"}))
    cli.configure(server.url)
    result = cli.run("run")  # finish() asserts the secret is nowhere in the output
    assert "bad [secret]" in result.summary
