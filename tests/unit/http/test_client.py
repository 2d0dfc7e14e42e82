"""The retry loop with a fake clock, fake sleep and fixed randomness."""

from datetime import datetime, timedelta, timezone

import pytest

from ticketing_cron.http import attempt, client
from ticketing_cron.http.client import Reply, RetryableError, backoff, parse_retry_after, post
from ticketing_cron.base.errors import CronError, UnavailableError
from ticketing_cron.base.log import Log


class FakeTime:
    def __init__(self):
        self.now = 1000.0
        self.slept = []

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


def scripted(*outcomes, cost=0.1, fake=None):
    """A send() that returns or raises each outcome in turn, each taking `cost` seconds."""
    calls = []

    def send(pool, request, headers, remaining, attempt):
        calls.append((attempt, remaining, headers))
        fake.now += cost
        outcome = outcomes[min(len(calls), len(outcomes)) - 1]
        if isinstance(outcome, BaseException):
            raise outcome
        return Reply(status=outcome[0], body=b"{}", attempts=attempt,
                     retry_after=outcome[1] if len(outcome) > 1 else None)
    send.calls = calls
    return send


REQUEST = client.Request(url="https://a.test/api/cron/sla-check", secret="s3cret",
                         request_id="id1", connect_timeout=5, read_timeout=20)


def run(send, fake, deadline=50, rng=lambda: 0.5):
    return post(REQUEST, fake.now + deadline, Log(stream=open("/dev/null", "w")),
                clock=fake.clock, sleep=fake.sleep, rng=rng, wall_clock=lambda: 1e9, send=send)


def test_success_first_time():
    fake = FakeTime()
    send = scripted((200,), fake=fake)
    assert run(send, fake).status == 200 and fake.slept == []


def test_headers_carry_the_secret_and_an_id():
    headers = client.headers_for(REQUEST)
    assert headers["x-cron-secret"] == "s3cret" and headers["X-Request-ID"] == "id1"
    assert headers["User-Agent"].startswith("ticketing-cron/")


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_transient_statuses_are_retried_with_growing_jittered_backoff(status):
    fake = FakeTime()
    send = scripted((status,), (status,), (status,), (200,), fake=fake)
    reply = run(send, fake)
    assert reply.status == 200 and reply.attempts == 4
    assert fake.slept == [0.75, 1.5, 3.0]  # base 1 s, doubled, half of it jittered at 0.5


@pytest.mark.parametrize("status", [200, 400, 401, 403, 404, 500, 301])
def test_other_statuses_are_final(status):
    fake = FakeTime()
    send = scripted((status,), fake=fake)
    assert run(send, fake).status == status and len(send.calls) == 1


def test_retry_after_replaces_backoff():
    fake = FakeTime()
    send = scripted((503, "7"), (200,), fake=fake)
    assert run(send, fake).status == 200 and fake.slept == [7.0]


def test_retry_after_past_the_deadline_gives_up_without_sleeping():
    fake = FakeTime()
    send = scripted((429, "120"), fake=fake)
    reply = run(send, fake)
    assert reply.status == 429 and fake.slept == []


def test_failing_forever_stops_inside_the_deadline():
    fake = FakeTime()
    start = fake.now
    send = scripted((503,), fake=fake)
    reply = run(send, fake, deadline=50)
    assert reply.status == 503
    assert fake.now - start <= 50
    assert len(send.calls) >= 5
    assert all(remaining <= 50 for _, remaining, _ in send.calls)


def test_connection_errors_are_retried_then_reported():
    fake = FakeTime()
    send = scripted(RetryableError("cannot connect: refused"), fake=fake)
    with pytest.raises(CronError) as e:
        run(send, fake, deadline=10)
    assert e.value.outcome == "unavailable"
    assert "cannot connect: refused (gave up after" in e.value.message
    assert len(send.calls) >= 3


def test_connection_error_then_success():
    fake = FakeTime()
    send = scripted(RetryableError("reset"), (200,), fake=fake)
    assert run(send, fake).attempts == 2


def test_non_retryable_errors_propagate_at_once():
    fake = FakeTime()
    send = scripted(UnavailableError("TLS failed"), fake=fake)
    with pytest.raises(CronError):
        run(send, fake)
    assert len(send.calls) == 1


def test_each_attempt_gets_only_the_remaining_time():
    fake = FakeTime()
    send = scripted((503,), (503,), (200,), cost=4, fake=fake)
    run(send, fake, deadline=20)
    remaining = [r for _, r, _ in send.calls]
    assert remaining[0] == 20 and remaining[1] < remaining[0] - 4 and remaining[2] < remaining[1]


def test_backoff_is_capped_and_jitter_spans_half():
    assert backoff(1, lambda: 0) == 0.5 and backoff(1, lambda: 1) == 1.0
    assert backoff(10, lambda: 1) == client.BACKOFF_CAP_S
    assert backoff(10, lambda: 0) == client.BACKOFF_CAP_S / 2


def test_parse_retry_after():
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    later = (now + timedelta(seconds=30)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert parse_retry_after("5", lambda: now.timestamp()) == 5
    assert parse_retry_after(later, lambda: now.timestamp()) == 30
    assert parse_retry_after("Thu, 01 Jan 2015 00:00:00 GMT", lambda: now.timestamp()) == 0
    for bad in (None, "", "soon", "-3", "1.5"):
        assert parse_retry_after(bad, lambda: now.timestamp()) is None


def test_reason_drops_urllib3_object_prefix():
    class E(Exception):
        reason = "<urllib3.connection.HTTPConnection object at 0x7f>: Failed: [Errno 111] refused"
    assert client.reason(E()) == "Failed: [Errno 111] refused"


@pytest.mark.parametrize("value,expected", [
    ("\u00b2", None), ("\u0663", None), ("\u00b9\u00b2\u00b3", None), ("\uff17", None),
    ("9" * 5000, 1e9), (" 12 ", 12.0), ("x" * 5000, None),
    ("Thu, 01 Jan 99999 00:00:00 GMT", None)])
def test_parse_retry_after_takes_ascii_digits_only(value, expected):
    assert parse_retry_after(value, lambda: 1e9) == expected


@pytest.mark.parametrize("value,expected", [
    (None, None), ("", None), ("100", None), (str(attempt.MAX_REPLY_BYTES), None),
    (str(attempt.MAX_REPLY_BYTES + 1), f"{attempt.MAX_REPLY_BYTES + 1} bytes"),
    ("\u00b2", None), ("\u0663" * 8, None), ("-5", None), ("1, 1", None),
    ("9" * 13, "a 13-digit length"), ("9" * 5000, "a 5000-digit length")])
def test_oversized_length_reads_ascii_digits_only(value, expected):
    assert attempt.oversized_length(value) == expected
