"""Attacks on the secret and on the reader's terminal, through the CLI.

- A hostile app echoes the secret back in every form that defeated an exact-substring
  replace: cut short, JSON- or repr-escaped, percent-encoded, as HTML, in a non-JSON
  body, in Location, in Content-Type, in a broken status line.
- A reply carries terminal control sequences meant to rewrite the record's line.
- The secret file is a symlink, a FIFO, readable by everyone, or someone else's.
- The troubleshooting guide's curl command must keep the secret out of every argv.
"""

import html
import json
import os
import re
import secrets
import subprocess
import threading
import time
import urllib.parse

import pytest

from support import EXIT, REPO, Cli, ok_reply, send

FRAGMENT = 12  # the shortest run of the secret that must never be shown


def hostile_secret():
    """A valid secret that JSON, repr, percent-encoding and HTML all escape."""
    part = [secrets.token_urlsafe(8) for _ in range(5)]
    return f"tc-{part[0]}\"{part[1]}\\{part[2]}'{part[3]}/%&<>{part[4]}"


def forms(s):
    """The ways a fragment of the secret may be written, unquoted."""
    return {
        "raw": s,
        "json": json.dumps(s)[1:-1],
        "json-every-char": "".join(f"\\u{ord(c):04x}" for c in s),
        "repr": repr(s)[1:-1],
        "repr-in-repr": repr(repr(s))[1:-1],
        "percent": urllib.parse.quote(s, safe=""),
        "percent-slash-kept": urllib.parse.quote(s),
        "percent-every-char": "".join(f"%{ord(c):02x}" for c in s),
        "html": html.escape(s),
        "html-numeric": "".join(f"&#{ord(c)};" for c in s),
    }


def assert_nothing_leaked(secret, *outputs):
    """No output holds any FRAGMENT-long run of the secret, raw or escaped."""
    for output in outputs:
        text = output.lower()
        for i in range(len(secret) - FRAGMENT + 1):
            for name, form in forms(secret[i:i + FRAGMENT]).items():
                assert form.lower() not in text, \
                    f"{FRAGMENT} characters of the secret leaked ({name}) in: {output!r}"


@pytest.fixture
def hostile(tmp_path):
    """A Cli whose secret is full of characters that escaping changes."""
    c = Cli(tmp_path, hostile_secret())
    c.write_secret(c.secret.encode() + b"\n")
    return c


def json_every_char(s):
    return "".join(f"\\u{ord(c):04x}" for c in s)


def raw_reply(status, body, headers):
    """A responder writing exactly these header values (no Content-Type added)."""
    def respond(handler, request):
        handler.send_response(status)
        for name, value in headers:
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(body)))
        handler.send_header("Connection", "close")
        handler.end_headers()
        handler.wfile.write(body)
        handler.close_connection = True
    return respond


def echo(form):
    """A responder that echoes the received secret, written by form(secret) -> reply."""
    def respond(handler, request):
        status, body, headers = form(request.headers["x-cron-secret"])
        if isinstance(body, str):
            body = body.encode()
        raw_reply(status, body, headers)(handler, request)
    return respond


JSON = [("Content-Type", "application/json")]
PAD = "x" * 170  # puts the secret across judge's 200-character cut

ECHOES = {
    # name: (secret -> (status, body, headers), expected outcome)
    "whole-in-error": (lambda s: (500, json.dumps({"error": f"bad secret {s}"}), JSON),
                       "unavailable"),
    "cut-at-200": (lambda s: (500, json.dumps({"error": PAD + s}), JSON), "unavailable"),
    "json-escaped-every-char": (
        lambda s: (200, '{"success": false, "error": {"got": "' + json_every_char(s) + '"}}',
                   JSON), "protocol"),
    "json-in-success-field": (lambda s: (200, json.dumps({"success": s}), JSON), "protocol"),
    "repr": (lambda s: (400, json.dumps({"error": f"header x-cron-secret={s!r} invalid"}),
                        JSON), "protocol"),
    "percent-encoded": (
        lambda s: (501, json.dumps({"error": "no route /cron?secret=" + urllib.parse.quote(s)}),
                   JSON), "unavailable"),
    "html-entities-in-error": (
        lambda s: (422, json.dumps({"message": "<b>" + html.escape(s) + "</b>"}), JSON),
        "protocol"),
    "mixed-escapes": (
        lambda s: (500, json.dumps({"error": "".join(
            f"%{ord(c):02x}" if i % 2 else c for i, c in enumerate(s))}), JSON),
        "unavailable"),
    "non-json-body": (
        lambda s: (500, "<html><body><h1>Internal error</h1><p>secret " + s, [
            ("Content-Type", "text/html")]), "unavailable"),
    "non-json-2xx-body": (lambda s: (200, s + " is not welcome here",
                                     [("Content-Type", "text/plain")]), "protocol"),
    "utf-16-body": (lambda s: (500, json.dumps({"error": s}).encode("utf-16"),
                               [("Content-Type", "application/json; charset=utf-16")]),
                    "unavailable"),
    "location": (lambda s: (302, "", [("Location", "https://login.test/" + "a" * 150 + s)]),
                 "config"),
    "location-percent-encoded": (
        lambda s: (307, "", [("Location", "https://login.test/?next=" +
                              urllib.parse.quote(s, safe=""))]), "config"),
    "content-type": (lambda s: (200, "<html>", [("Content-Type", "text/x-" + s)]),
                     "protocol"),
    "content-type-escaped": (
        lambda s: (200, "<html>", [("Content-Type", "text/x-" + urllib.parse.quote(s))]),
        "protocol"),
}


@pytest.mark.parametrize("name", sorted(ECHOES))
def test_an_echoed_secret_is_hidden_in_every_form(hostile, serve, name):
    form, outcome = ECHOES[name]
    server = serve(echo(form))
    hostile.configure(server.url)
    result = hostile.run("run")
    assert result.status == EXIT[outcome], result.stderr
    assert result.fields["OUTCOME"] == outcome
    assert "[secret]" in result.stderr, result.stderr
    assert_nothing_leaked(hostile.secret, result.stdout, result.stderr,
                          *result.fields.values())


def test_a_secret_in_a_broken_status_line_is_hidden(hostile, serve):
    """http.client quotes the bad status line with repr() in its exception, which the
    run logs for each attempt and in its summary."""
    def respond(handler, request):
        handler.wfile.write(b"HTTP/1.1 " + request.headers["x-cron-secret"].encode() +
                            b"\r\n\r\n")
        handler.close_connection = True
    server = serve(respond)
    hostile.write_config(f'[api]\nbase_url = "{server.url}"\ndeadline = 2\n'
                         f'connect_timeout = 1\nread_timeout = 1\n')
    result = hostile.run("run")
    # Retried with random backoff until the deadline: whether a third attempt starts
    # (and the deadline cuts it: timeout) or not (unavailable) is down to the jitter.
    assert result.status in (EXIT["unavailable"], EXIT["timeout"]), result.stderr
    assert "BadStatusLine" in result.stderr and "[secret]" in result.stderr
    assert_nothing_leaked(hostile.secret, result.stdout, result.stderr)


# --------------------------------------------------------------- terminal control

CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def assert_one_clean_line_per_record(result):
    assert not CONTROL.search(result.stderr), repr(result.stderr)
    assert all(line.startswith("ticketing-cron: ") for line in result.stderr.splitlines()), \
        result.stderr


def test_control_characters_in_content_type_do_not_reach_the_terminal(cli, serve):
    server = serve(raw_reply(200, b"<html>", [
        # ESC [2K erases the line, ESC [1G goes back to its start, ESC ]0; sets the
        # window title; then bidi overrides as UTF-8 bytes. (A bare CR ends the header
        # value in http.client's parser, so it cannot get through here.)
        ("Content-Type", "text/html\x1b[2K\x1b[1Gsla-check ok: 0 requests unassigned"
                         "\x1b]0;pwned\x07" + "\u202e\u2066".encode().decode("latin-1"))]))
    cli.configure(server.url)
    result = cli.run("run")
    assert result.status == EXIT["protocol"]
    assert_one_clean_line_per_record(result)
    assert "text/html\ufffd[2K\ufffd[1Gsla-check ok: 0 requests unassigned\ufffd]0, starts" in \
        result.summary


def test_control_characters_in_a_json_error_do_not_reach_the_terminal(cli, serve):
    text = "db down\x1b[1A\x1b[2K\rsla-check ok\u202e\u2066\x9b2J\x00\u2028next"
    server = serve(raw_reply(500, json.dumps({"error": text}).encode(), JSON))
    cli.configure(server.url)
    result = cli.run("run")
    assert result.status == EXIT["unavailable"]
    assert_one_clean_line_per_record(result)
    assert "db down" in result.summary and "next" in result.summary


# --------------------------------------------------------------- the secret file

def refused(cli, server, *expected):
    """`check` and `run` both refuse the secret file with exit 78 and the fix."""
    for args in (("check",), ("run",)):
        result = cli.run(*args, verbose=False, timeout=20)
        assert result.status == EXIT["config"], (args, result.stderr)
        for text in expected:
            assert text in result.stderr, (args, result.stderr)
    assert server.received == [], "a refused secret must not be sent"


@pytest.fixture
def server(serve):
    return serve(ok_reply(0))


def test_a_world_readable_secret_is_refused(cli, server):
    cli.configure(server.url)
    path = cli.cred_dir / "cron-secret"
    path.chmod(0o644)
    refused(cli, server, f"secret {path}: is readable by every user (mode 0644); "
            f"chmod 0600 {path}")


def test_a_world_writable_secret_is_refused(cli, server):
    cli.configure(server.url)
    path = cli.cred_dir / "cron-secret"
    path.chmod(0o622)
    refused(cli, server, "is writable by every user (mode 0622)", f"chmod 0600 {path}")


def test_a_symlink_to_a_world_writable_file_is_refused(cli, server, tmp_path):
    cli.configure(server.url)
    target = tmp_path / "anyone-can-write"
    target.write_text(cli.secret + "\n")
    target.chmod(0o666)
    path = cli.cred_dir / "cron-secret"
    path.unlink()
    path.symlink_to(target)
    refused(cli, server, f"secret {path}: is a symbolic link",
            "replace the symlink by the file")


def test_a_symlink_to_a_good_file_is_refused_too(cli, server, tmp_path):
    cli.configure(server.url)
    target = tmp_path / "elsewhere"
    target.write_text(cli.secret + "\n")
    target.chmod(0o600)
    path = cli.cred_dir / "cron-secret"
    path.unlink()
    path.symlink_to(target)
    refused(cli, server, "is a symbolic link")


def test_a_fifo_is_refused_without_hanging(cli, server):
    cli.configure(server.url)
    path = cli.cred_dir / "cron-secret"
    path.unlink()
    os.mkfifo(path, 0o600)
    # The fix writes the file that the credential comes from: beside the config.
    refused(cli, server, f"secret {path}: is a FIFO, not a regular file",
            f"install -m 0600 /dev/stdin {cli.tmp / 'cron-secret'}")


def test_a_secret_owned_by_another_user_is_refused(cli, server):
    # The tests run as root (README); a root-run ticketing-cron accepts only root's file.
    assert os.geteuid() == 0, "run the tests as root, as dev/test does"
    cli.configure(server.url)
    path = cli.cred_dir / "cron-secret"
    os.chown(path, 65534, 65534)
    refused(cli, server, f"secret {path}: is owned by uid 65534", f"chown root:root {path}")


def test_a_credential_as_systemd_hands_it_over_is_accepted(cli, server):
    cli.configure(server.url)
    (cli.cred_dir / "cron-secret").chmod(0o400)
    check = cli.run("check", verbose=False)
    assert check.status == 0 and "warning" not in check.stderr, check.stderr
    assert cli.run("run").status == EXIT["ok"]


def test_a_group_readable_secret_is_a_warning_only(cli, server):
    cli.configure(server.url)
    path = cli.cred_dir / "cron-secret"
    path.chmod(0o640)
    check = cli.run("check", verbose=False)
    assert check.status == 0, check.stderr
    assert f"ticketing-cron: warning: secret {path}: is readable by group" in check.stderr
    assert f"chmod 0600 {path}" in check.stderr
    run = cli.run("run", verbose=False)
    assert run.status == EXIT["ok"] and "warning" not in run.stderr


def test_a_short_secret_is_a_warning_in_check(tmp_path, server):
    short = Cli(tmp_path, "tc-" + secrets.token_hex(5))  # 13 characters
    short.write_secret(short.secret.encode() + b"\n")
    short.configure(server.url)
    check = short.run("check", verbose=False)
    assert check.status == 0, check.stderr
    assert "warning:" in check.stderr and "only 13 characters" in check.stderr
    assert "openssl rand -hex 32" in check.stderr
    assert short.run("run").status == EXIT["ok"]


# ------------------------------------------------ the troubleshooting guide's curl command

def guide_curl_command():
    """The command that sends the secret with curl, from docs/troubleshooting.md."""
    text = (REPO / "docs" / "troubleshooting.md").read_text()
    section = text.split("# Troubleshooting\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"(?m)((?:^ {4,}\S.*\n)+)", section)
    commands = [b for b in blocks if "curl" in b and "x-cron-secret" in b]
    assert len(commands) == 1, f"expected one curl command in Troubleshooting: {blocks}"
    lines = commands[0].splitlines()
    indent = min(len(line) - len(line.lstrip()) for line in lines)
    return "\n".join(line[indent:] for line in lines) + "\n"


def test_the_troubleshooting_curl_command_keeps_the_secret_out_of_argv(cli, serve, tmp_path):
    command = guide_curl_command()
    assert "/etc/ticketing-cron/cron-secret" in command
    secret_file = tmp_path / "cron-secret"
    secret_file.write_text(cli.secret + "\n")
    secret_file.chmod(0o600)
    seen = {"cmdlines": 0, "with_secret": []}
    needle = cli.secret.encode()

    def respond(handler, request):
        # Hold the request open while curl and the shell are alive: read every argv.
        for _ in range(20):
            for entry in os.listdir("/proc"):
                if not entry.isdigit():
                    continue
                try:
                    with open(f"/proc/{entry}/cmdline", "rb") as f:
                        argv = f.read()
                except OSError:
                    continue
                seen["cmdlines"] += 1
                if needle in argv:
                    seen["with_secret"].append(argv.replace(b"\0", b" ").decode("latin-1"))
            time.sleep(0.02)
        send(handler, 200, {"success": True, "unassignedCount": 0})
    server = serve(respond)
    proc = subprocess.run(
        ["bash", "-c", command.replace("/etc/ticketing-cron/cron-secret", str(secret_file))],
        env={"PATH": "/usr/bin:/bin", "BASE_URL": server.url, "HOME": str(tmp_path)},
        capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert '"success": true' in proc.stdout
    assert len(server.received) == 1
    request = server.received[0]
    assert request.method == "POST" and request.path == "/api/cron/sla-check"
    assert request.headers["x-cron-secret"] == cli.secret
    assert seen["cmdlines"] > 0 and seen["with_secret"] == [], seen["with_secret"]


def test_the_check_itself_sees_a_secret_on_a_command_line(cli, serve, tmp_path):
    """The /proc scan above would notice the old documented command: curl -H "...$(cat ...)"."""
    found = []
    needle = cli.secret.encode()
    ready = threading.Event()

    def respond(handler, request):
        for entry in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    found.append(needle in f.read())
            except OSError:
                pass
        ready.set()
        send(handler, 200, {"success": True})
    server = serve(respond)
    subprocess.run(["curl", "-sS", "-X", "POST", server.url + "/api/cron/sla-check",
                    "-H", f"x-cron-secret: {cli.secret}"], capture_output=True, timeout=30)
    assert ready.is_set() and any(found)
