"""Hostile servers and resolvers on loopback against the run and the webhook.

Compression bombs, odd headers and bodies, a resolver that goes silent or answers
beyond loopback, URLs that parsers read differently, SSLKEYLOGFILE. DNS tests run the
CLI in a private mount namespace (`unshare -m`, as root) whose resolv.conf names a DNS
server of the test's own; those whose resolver answers a non-loopback address also get
a network namespace of loopback only, so that even a regression sends nothing away.
"""

import json
import random
import ssl
import subprocess
import time

import pytest

from hostile import (cert_for_name, encode, free_port_listener, gzip_of_zeros, measured,
                     raw_reply, run_limited, run_with_resolver, webhook_argv, with_resolver)
from support import EXIT, ok_reply, send, sequence, status_reply

RSS_BOUND_KIB = 64 * 1024  # far below what inflating any bomb here would take
SUCCESS = json.dumps({"success": True, "unassignedCount": 0}).encode()


@pytest.fixture(scope="module")
def bombs():
    """Content-Encoding -> body: a 512 MiB gzip bomb (about 500 KiB, under the reply
    cap), a chain of a few hundred bytes inflating to 2 GiB, and encodings that
    urllib3 may have no decoder for, announced over a plain success body."""
    return {
        "gzip": gzip_of_zeros(512),
        "gzip, gzip, deflate": encode(gzip_of_zeros(2048), ["gzip", "deflate"]),
        "br": SUCCESS,
        "zstd": SUCCESS,
        " GZip ": gzip_of_zeros(512),
    }


def encoded_reply(body, encoding):
    def respond(handler, request):
        send(handler, 200, body, headers=[("Content-Encoding", encoding)])
    return respond


# --- item 2: replies are never inflated ---------------------------------------------


@pytest.mark.parametrize("encoding", ["gzip", "gzip, gzip, deflate", "br", "zstd", " GZip "])
def test_run_refuses_compressed_replies_without_inflating_them(cli, serve, bombs, encoding):
    body = bombs[encoding]
    assert len(body) < 1024 * 1024
    server = serve(encoded_reply(body, encoding))
    cli.configure(server.url)
    result = run_limited(cli, "run")
    assert result.status == EXIT["protocol"], result.stderr
    assert f"the reply is compressed (Content-Encoding: {encoding.strip()}, HTTP 200)" \
        in result.summary
    assert result.maxrss_kib < RSS_BOUND_KIB, f"peak RSS {result.maxrss_kib} KiB"
    (request,) = server.received
    assert request.headers["accept-encoding"] == "identity"


def test_the_chain_bomb_is_a_few_hundred_bytes(bombs):
    assert len(bombs["gzip, gzip, deflate"]) < 1000


@pytest.mark.parametrize("encoding", ["gzip", "gzip, gzip, deflate", "br", "zstd"])
def test_webhook_refuses_compressed_replies_without_inflating_them(serve, bombs, encoding,
                                                                    cli):
    server = serve(encoded_reply(bombs[encoding], encoding))
    status, out, err, maxrss = measured(webhook_argv(server.url + "/hook"), cli.env())
    assert status == 0 and err == "", err
    assert out.startswith(f"protocol: webhook: the reply is compressed (Content-Encoding: "
                          f"{encoding}, HTTP 200)"), out
    assert maxrss < RSS_BOUND_KIB, f"peak RSS {maxrss} KiB"
    assert server.received[0].headers["accept-encoding"] == "identity"


def test_identity_encoding_is_accepted(cli, serve):
    server = serve(encoded_reply(SUCCESS, "identity"))
    cli.configure(server.url)
    assert cli.run("run").status == EXIT["ok"]


# --- item 8: odd numbers and deep JSON map to real outcomes ---------------------------


@pytest.mark.parametrize("value", ["\u00b2".encode("latin-1"), "\u0663".encode(),
                                   b"9" * 5000, b"\xb9\xb2\xb3"])
def test_odd_retry_after_is_ignored_and_backoff_used(cli, serve, value):
    busy = raw_reply(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 2\r\n"
                     b"Retry-After: " + value, b"{}")
    server = serve(sequence(busy, ok_reply(1)))
    cli.configure(server.url)
    result = cli.run("run")
    if value == b"9" * 5000:  # a number that long means "not within this run"
        assert result.status == EXIT["unavailable"] and len(server.received) == 1
        assert "would pass the deadline" in result.stderr
    else:
        assert result.status == EXIT["ok"] and result.fields["ATTEMPTS"] == "2"


@pytest.mark.parametrize("value", ["\u00b2".encode("latin-1"), "\u0663".encode(),
                                   b"\xb9\xb2\xb3"])
def test_non_ascii_content_length_is_ignored(cli, serve, value):
    server = serve(raw_reply(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                             b"Content-Length: " + value, SUCCESS))
    cli.configure(server.url)
    result = cli.run("run")
    assert result.status == EXIT["ok"], result.summary


def test_content_length_of_5000_digits_is_over_the_cap(cli, serve):
    server = serve(raw_reply(b"HTTP/1.1 200 OK\r\nContent-Length: " + b"9" * 5000, SUCCESS))
    cli.configure(server.url)
    result = cli.run("run")
    assert result.status == EXIT["protocol"]
    assert "the reply announces a 5000-digit length, over the 1048576 byte limit" \
        in result.summary


@pytest.mark.parametrize("status,outcome", [(200, "protocol"), (400, "protocol"),
                                            (500, "unavailable")])
def test_json_nested_200000_deep_is_not_a_crash(cli, serve, status, outcome):
    server = serve(status_reply(status, b"[" * 200_000 + b"]" * 200_000))
    cli.configure(server.url)
    result = cli.run("run")
    assert result.status == EXIT[outcome], result.summary
    if status == 200:
        assert "the reply is not JSON (nested too deep" in result.summary


def test_error_nested_just_below_the_parsers_limit_is_not_a_crash(cli, serve):
    error = "[" * 985 + "]" * 985
    server = serve(status_reply(200, f'{{"success": false, "error": {error}}}'))
    cli.configure(server.url)
    result = cli.run("run")
    assert result.status == EXIT["protocol"] and "the app reported failure" in result.summary


# --- item 6: one parser, RFC 3986 characters, loopback for real -----------------------


def test_backslash_url_is_refused_by_check(cli):
    cli.write_config("[api]\nbase_url = 'http://attacker.test\\.localhost'\n")
    result = cli.run("check")
    assert result.status == EXIT["config"]
    assert "api.base_url: '\\\\' cannot be in a URL (RFC 3986" in result.stdout + result.stderr


def test_backslash_url_sends_nothing_to_the_host_urllib3_would_read(cli):
    host = f"127.{random.randint(64, 250)}.{random.randint(1, 250)}.{random.randint(2, 250)}"
    listener, peers = free_port_listener(host, 80)  # where urllib3 sends http://HOST\...
    try:
        cli.write_config(f"[api]\nbase_url = 'http://{host}\\.localhost'\n")
        result = cli.run("run")
        time.sleep(0.3)
    finally:
        listener.close()
    assert result.status == EXIT["config"] and peers == []


def test_localhost_name_resolving_beyond_loopback_is_refused_before_sending(cli):
    name = f"tc-{random.randrange(10**8)}.localhost"
    cli.configure(f"http://{name}:8080")
    result, _ = run_with_resolver(cli, "run", isolated=True, a=["192.0.2.1"])
    assert result.status == EXIT["config"]
    assert (f"{name} resolves to 192.0.2.1, which is not a loopback address; http:// is only "
            f"allowed to loopback, so nothing was sent") in result.summary
    assert result.fields["ATTEMPTS"] == "1" and result.fields["HTTP_STATUS"] == "0"


def test_localhost_name_with_one_foreign_address_among_loopback_ones_is_refused(cli):
    cli.configure(f"http://tc-{random.randrange(10**8)}.localhost:8080")
    result, _ = run_with_resolver(cli, "run", isolated=True, a=["127.0.0.1", "192.0.2.1"],
                                  aaaa=["::1"])
    assert result.status == EXIT["config"] and "resolves to 192.0.2.1," in result.summary


def test_localhost_name_resolving_to_loopback_works_and_keeps_its_host_header(cli, serve):
    server = serve(ok_reply(2))
    name = f"tc-{random.randrange(10**8)}.localhost"
    cli.configure(f"http://{name}:{server.port}")
    result, _ = run_with_resolver(cli, "run", a=["127.0.0.1"])
    assert result.status == EXIT["ok"], result.summary
    assert server.received[0].headers["host"] == f"{name}:{server.port}"


# --- item 9: the deadline bounds name resolution; connections go to the addresses ---


def test_deadline_bounds_a_silent_resolver(cli):
    cli.write_config('[api]\nbase_url = "https://tickets.acme.test"\ndeadline = 2\n')
    result, elapsed = run_with_resolver(cli, "run", isolated=True, silent=True,
                                        env={"RES_OPTIONS": "timeout:30 attempts:1"})
    assert result.status == EXIT["timeout"], result.summary
    assert "deadline of 2 s" in result.summary
    assert elapsed < 15, f"took {elapsed:.1f} s; the resolver's own timeout is 30 s"


def test_webhook_bounds_a_silent_resolver(cli):
    argv = with_resolver(webhook_argv("https://hooks.acme.test/x"), isolated=True,
                         silent=True)
    started = time.monotonic()
    proc = subprocess.run(argv, env=cli.env({"RES_OPTIONS": "timeout:30 attempts:1"}),
                          capture_output=True, text=True, timeout=60)
    elapsed = time.monotonic() - started
    assert proc.stdout.startswith("unavailable: webhook: resolving hooks.acme.test took "
                                  "longer than 5 s"), proc.stdout + proc.stderr
    assert elapsed < 15


def sni_recording_context(cert, key):
    """A server TLS context serving cert/key that records the SNI names it is sent."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    ctx.names = []
    ctx.sni_callback = lambda sock, name, context: ctx.names.append(name)
    return ctx


def test_tls_checks_the_certificate_against_the_name_not_the_address(cli, serve, pki):
    server = serve(ok_reply(0), tls=pki.context())  # a certificate for localhost only
    cli.configure(f"https://tc-{random.randrange(10**8)}.test:{server.port}",
                  f'ca_file = "{pki.ca_cert}"')
    result, _ = run_with_resolver(cli, "run", a=["127.0.0.1"])
    assert result.status == EXIT["unavailable"] and "TLS failed" in result.summary
    assert server.received == []


def test_tls_sends_the_name_as_sni_and_host(cli, serve, pki, tmp_path):
    name = f"tc-{random.randrange(10**8)}.test"
    ctx = sni_recording_context(*cert_for_name(pki, name, tmp_path))
    server = serve(ok_reply(1), tls=ctx)
    cli.configure(f"https://{name}:{server.port}", f'ca_file = "{pki.ca_cert}"')
    result, _ = run_with_resolver(cli, "run", a=["127.0.0.1"])
    assert result.status == EXIT["ok"], result.summary
    assert ctx.names == [name]
    assert server.received[0].headers["host"] == f"{name}:{server.port}"


def test_each_resolved_address_is_tried_in_turn(cli, serve):
    server = serve(ok_reply(0))  # on 127.0.0.1 only; ::1 refuses
    cli.configure(f"http://tc-{random.randrange(10**8)}.localhost:{server.port}")
    result, _ = run_with_resolver(cli, "run", aaaa=["::1"], a=["127.0.0.1"])
    assert result.status == EXIT["ok"], result.summary
    assert result.fields["ATTEMPTS"] == "1"


def test_refused_on_every_address_names_each(cli, serve):
    server = serve(ok_reply(0))
    port = server.port
    server.close()
    cli.configure(f"http://tc-{random.randrange(10**8)}.localhost:{port}")
    result, _ = run_with_resolver(cli, "run", aaaa=["::1"], a=["127.0.0.1"])
    assert result.status == EXIT["unavailable"]
    assert f"[::1]:{port}" in result.summary and f"127.0.0.1:{port}" in result.summary


# --- item 10: SSLKEYLOGFILE --------------------------------------------------------------


def test_sslkeylogfile_is_ignored(cli, serve, pki, tmp_path):
    server = serve(ok_reply(0), tls=pki.context())
    cli.configure(server.url, f'ca_file = "{pki.ca_cert}"')
    keys = tmp_path / "keys"
    result = cli.run("run", env={"SSLKEYLOGFILE": str(keys)})
    assert result.status == EXIT["ok"]
    assert not keys.exists(), "TLS session keys were written"
