"""The ping after a run: retries within its budget, never the path, never the outcome."""

import io

import pytest

from ticketing_cron.http import client
from ticketing_cron.base.errors import ProtocolError
from ticketing_cron.base import catalog as message_ids
from ticketing_cron.run import ping

NOW = 1_764_417_600.0  # 2025-11-29 12:00:00 UTC
PING = "https://hc-ping.com/3f1c2a9e-8b7d-4c6e-9f0a-1b2c3d4e5f60"
REQUEST_ID = "0123456789abcdef0123456789abcdef"


# ------------------------------------------------------------- ping retries


class FakeSend:
    """Answers the ping attempts from a script: a status, or an exception to raise."""

    def __init__(self, *script, clock=None, takes=0.0):
        self.script = list(script)
        self.calls = []
        self.clock = clock
        self.takes = takes

    def __call__(self, pool, request, headers, remaining, attempt, body):
        self.calls.append((request.url, dict(headers), remaining, attempt, body))
        if self.clock:
            self.clock.now += self.takes
        step = self.script[min(len(self.calls), len(self.script)) - 1]
        if isinstance(step, Exception):
            raise step
        return client.Reply(status=step, body=b"OK", attempts=attempt)


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_ping_success_is_one_attempt_without_the_secret_header():
    send = FakeSend(200)
    assert ping.send_ping(f"{PING}/0?rid=x", b"body", 5, send=send) is None
    (url, headers, remaining, attempt, body), = send.calls
    assert url == f"{PING}/0?rid=x" and body == b"body" and remaining <= 5
    assert "x-cron-secret" not in {k.lower() for k in headers}
    assert headers["User-Agent"].startswith("ticketing-cron/")


@pytest.mark.parametrize("first", [500, 503, client.RetryableError("connection refused")])
def test_ping_retries_once_after_5xx_or_connection_error(first):
    send = FakeSend(first, 200)
    assert ping.send_ping(PING + "/0", b"", 5, send=send) is None
    assert [c[3] for c in send.calls] == [1, 2]
    failing = FakeSend(first)
    reason = ping.send_ping(PING + "/0", b"", 5, send=failing)
    assert len(failing.calls) == 2 and "after 2 attempts" in reason


@pytest.mark.parametrize("status, words", [(301, "redirect, not followed"), (404, "no such check"),
                                           (400, "HTTP 400")])
def test_ping_does_not_retry_4xx_or_redirects(status, words):
    send = FakeSend(status, 200)
    reason = ping.send_ping(PING + "/0", b"", 5, send=send)
    assert len(send.calls) == 1 and words in reason


def test_ping_retry_stays_within_the_budget():
    clock = Clock()
    send = FakeSend(client.RetryableError("timed out"), 200, clock=clock, takes=4.99)
    reason = ping.send_ping(PING + "/0", b"", 5, clock=clock, send=send)
    assert len(send.calls) == 1, "no second attempt with 10 ms left"
    assert "timed out" in reason and "after 1 attempt " in reason


def test_ping_error_text_never_carries_the_path():
    send = FakeSend(ProtocolError(f"the reply is over the limit; is {PING}/0 the "
                                          f"cron endpoint?"))
    reason = ping.send_ping(f"{PING}/0", b"", 5, send=send)
    assert "3f1c2a9e" not in reason and "https://hc-ping.com" in reason


def test_no_ping_without_time_left(capsys):
    from ticketing_cron.base.log import Log

    stream = io.StringIO()
    log = Log(verbose=True, journal=False, stream=stream)
    clock = Clock()
    send = FakeSend(200)
    reason = ping.ping_after_run("sla-check", PING, 75, REQUEST_ID, "sla-check timeout: x",
                                 clock.now + 0.01, log, clock=clock, send=send)
    assert send.calls == [] and "left no time" in reason
    line, = stream.getvalue().splitlines()
    assert "warning: sla-check ping to https://hc-ping.com failed" in line
    assert "OUTCOME" not in line and f"MESSAGE_ID={message_ids.PING_FAILED}" in line
    assert "3f1c2a9e" not in line


def test_an_unexpected_error_in_the_ping_is_one_warning_without_the_path():
    from ticketing_cron.base.log import Log

    stream = io.StringIO()
    log = Log(verbose=True, journal=False, stream=stream)

    def broken_send(*args, **kwargs):
        raise ValueError(f"cannot handle {PING}/0")

    reason = ping.ping_after_run("sla-check", PING, 0, REQUEST_ID, "sla-check ok: x",
                                 float("inf"), log, send=broken_send)
    assert reason == "unexpected ValueError"
    text = stream.getvalue()
    assert "3f1c2a9e" not in text
    warnings = [line for line in text.splitlines() if "warning:" in line]
    assert len(warnings) == 1 and "OUTCOME" not in warnings[0]
