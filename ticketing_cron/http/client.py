"""One authenticated POST to the app, retried while the failure is transient.

No redirects are followed and urllib3's own retries are off, because the retry loop
here must respect the run's deadline and Retry-After, which urllib3's Retry cannot
combine. One attempt is attempt.send_once.
"""

import random
import time
from collections import namedtuple

from ticketing_cron import __version__
# Re-exported: the webhook, the pings and the judge use them through this module.
from ticketing_cron.http.attempt import (MAX_REPLY_BYTES, Reply, RetryableError,  # noqa: F401
                                    host_of, make_pool, reason, send_once)
from ticketing_cron.base.errors import DeadlineError, UnavailableError

RETRY_STATUSES = frozenset({429, 502, 503, 504})
BACKOFF_BASE_S = 1.0
BACKOFF_CAP_S = 16.0
USER_AGENT = f"ticketing-cron/{__version__}"


Request = namedtuple("Request", "url secret request_id connect_timeout read_timeout ca_file "
                     "idempotency_key scheduled_at", defaults=(None, None, None))
Request.__doc__ = ("What to send: the URL, the secret, an id the server can log, time "
                   "limits, and the run's slot (slot.Slot's key and scheduled_at, or None).")


def headers_for(request):
    """The request headers, the secret among them."""
    headers = {
        "x-cron-secret": request.secret,
        "Content-Type": "application/json",
        "Accept": "application/json",
        "User-Agent": USER_AGENT,
        "X-Request-ID": request.request_id,
    }
    if request.idempotency_key:
        # The IETF httpapi draft's quoted-string form; every retry of the run resends it.
        headers["Idempotency-Key"] = f'"{request.idempotency_key}"'
        headers["X-Cron-Scheduled-At"] = request.scheduled_at
    return headers


def post(request, deadline_at, log, on_attempt=None, clock=time.monotonic,
         sleep=time.sleep, rng=random.random, wall_clock=time.time, send=None):
    """POST ``{}`` to request.url, retrying transient failures until deadline_at.

    Args:
        request: a Request.
        deadline_at: clock() value after which no attempt starts and no wait ends.
        log: a Log for per-attempt debug lines.
        on_attempt: called with the attempt number as each attempt starts.
        clock, sleep, rng, wall_clock: time and randomness, replaceable in tests.
        send: makes one attempt (default send_once), replaceable in tests.
    Returns:
        Reply: the last reply, which may still be a retryable status if time ran out.
    Raises:
        UnavailableError when no reply could be had (refused, DNS, TLS...),
        DeadlineError when the deadline left no time for a first attempt,
        ProtocolError when the reply is over MAX_REPLY_BYTES.
    """
    send = send or send_once
    pool = make_pool(request)
    headers = headers_for(request)
    attempt = 0
    try:
        while True:
            attempt += 1
            remaining = deadline_at - clock()
            if remaining <= 0:
                raise DeadlineError(f"the run's deadline passed before attempt "
                                f"{attempt} could start")
            if on_attempt:
                on_attempt(attempt)
            started = clock()
            try:
                reply = send(pool, request, headers, remaining, attempt)
            except RetryableError as e:
                failure, retry_after, reply = e.message, None, None
            else:
                if reply.status not in RETRY_STATUSES:
                    log.debug(f"attempt {attempt}: HTTP {reply.status} in "
                              f"{ms(clock() - started)} ms")
                    return reply
                failure = f"HTTP {reply.status}"
                retry_after = parse_retry_after(reply.retry_after, wall_clock)
            wait = retry_after if retry_after is not None else backoff(attempt, rng)
            remaining = deadline_at - clock()
            if wait >= remaining:
                log.debug(f"attempt {attempt}: {failure}; no retry: waiting {wait:.1f} s "
                          f"would pass the deadline ({remaining:.1f} s left)")
                return give_up(failure, reply, attempt)
            log.debug(f"attempt {attempt}: {failure} after {ms(clock() - started)} ms; "
                      f"retrying in {wait:.1f} s")
            sleep(wait)
    finally:
        pool.clear()


def give_up(failure, reply, attempts):
    """End the retry loop: return the last reply, or raise for a transport failure."""
    if reply is not None:
        return reply
    raise UnavailableError(f"{failure} (gave up after {attempts} "
                    f"attempt{'s' if attempts != 1 else ''} within the run's deadline); check "
                    f"that the app is up and that api.base_url is right")


def backoff(attempt, rng):
    """Seconds to wait after failed attempt N: exponential, capped, half of it jittered."""
    delay = min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** (attempt - 1))
    return delay / 2 + rng() * delay / 2


def parse_retry_after(value, wall_clock=time.time):
    """Seconds from a Retry-After header (delta-seconds or HTTP-date), or None.

    Only ASCII digits count ('²'.isdigit() is true, but float('²') fails); a number
    too long to be meant is read as a wait no deadline allows.
    """
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value) if len(value) <= 9 else float(10 ** 9)
    if len(value) > 64:
        return None
    import email.utils  # rare: most servers send seconds

    try:
        when = email.utils.parsedate_to_datetime(value)
        return max(0.0, when.timestamp() - wall_clock()) if when.tzinfo else None
    except (TypeError, ValueError, IndexError, OverflowError, AttributeError):
        return None


def ms(seconds):
    """Whole milliseconds."""
    return int(round(seconds * 1000))
