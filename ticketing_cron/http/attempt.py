"""One HTTP request: resolve, connect to each address in turn, send, read the reply.

Written against the API that urllib3 1.26 (Debian 12) and 2.x share. At most
MAX_REPLY_BYTES are read, as they arrive: a reply is never inflated (a few hundred
bytes of nested gzip can inflate to gigabytes), and one that announces a
Content-Encoding is refused.
"""

import time
from collections import namedtuple

import urllib3

from ticketing_cron.http.endpoint import Endpoint
from ticketing_cron.base.errors import (CronError, DeadlineError, ProtocolError,
    UnavailableError)

MAX_REPLY_BYTES = 1024 * 1024
READ_CHUNK = 64 * 1024


Reply = namedtuple("Reply", "status body attempts location content_type retry_after replayed",
                   defaults=(None, None, None, False))
Reply.__doc__ = """The final HTTP reply of a run.

status: HTTP status; body: at most MAX_REPLY_BYTES of it; attempts: how many requests
were made; location, content_type and retry_after: those headers, or None; replayed:
the app said "Idempotent-Replayed: true" (an earlier reply to the same key, repeated).
"""


def make_pool(request):
    """The connections for request.url, resolved within the deadline, TLS verified
    (against request.ca_file if given), never redirected; clear() closes them."""
    return Endpoint(request.url, request.ca_file)


class RetryableError(Exception):
    """A transient transport failure (connection refused, reset, timed out)."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


def send_once(pool, request, headers, remaining, attempt, body=b"{}"):
    """POST ``body`` once and read at most MAX_REPLY_BYTES of the reply, never inflated.

    Args:
        pool: what make_pool(request) returned.
        headers: the request headers; Host and Accept-Encoding: identity are added.
        remaining: seconds this attempt may take at most.
    Returns:
        Reply.
    Raises:
        RetryableError for failures worth retrying (DNS, refused, reset, timed out);
        CronError otherwise, with outcome "timeout" when a time limit cut short by the
        deadline ran out, "config" when an http:// name resolves beyond loopback and
        "protocol" for a compressed or oversized reply.
    """
    started = time.monotonic()
    addresses = resolve(pool, request, remaining)
    headers = dict(headers, Host=pool.host_header, **{"Accept-Encoding": "identity"})
    failures = []
    for address in addresses:
        left = remaining - (time.monotonic() - started)
        try:
            response, timeout = open_response(pool, address, request, headers, left, body)
            break
        except ConnectFailed as e:
            failures.append(f"{pool.address_text(address)} {e.message}")
    else:
        raise RetryableError(f"cannot connect to {host_of(request.url)}: "
                             f"{'; '.join(failures)}")
    try:
        refuse_encoded(response)
        body = read_capped(response, request, timeout.read_timeout)
    finally:
        response.release_conn()
    return Reply(status=response.status, body=body, attempts=attempt,
                 location=response.headers.get("Location"),
                 content_type=response.headers.get("Content-Type"),
                 retry_after=response.headers.get("Retry-After"),
                 replayed=is_true(response.headers.get("Idempotent-Replayed")))


def is_true(value):
    """True for a header value of "true" (any case, spaces around), else False."""
    return isinstance(value, str) and value.strip().lower() == "true"


def resolve(pool, request, remaining):
    """The addresses of the URL's host, waiting for DNS no longer than a connect may take.

    Raises:
        RetryableError, DeadlineError or ConfigError; see send_once.
    """
    wait = min(request.connect_timeout, remaining)
    try:
        return pool.addresses(wait)
    except TimeoutError as e:
        raise timed_out(str(e), wait < request.connect_timeout) from None
    except OSError as e:
        raise RetryableError(str(e)) from None


class ConnectFailed(RetryableError):
    """No connection to one address: the next address may still work."""


def open_response(pool, address, request, headers, remaining, body):
    """Send the request to one address; return (the unread response, its Timeout).

    Raises:
        ConnectFailed when no connection could be made; RetryableError, CronError as
        for send_once otherwise.
    """
    timeout = urllib3.Timeout(connect=max(0.001, min(request.connect_timeout, remaining)),
                              read=max(0.001, min(request.read_timeout, remaining)))
    try:
        response = pool.pool_for(address).urlopen(
            "POST", pool.target, body=body, headers=headers, redirect=False, retries=False,
            timeout=timeout, preload_content=False, decode_content=False)
    except urllib3.exceptions.SSLError as e:
        raise UnavailableError(f"TLS failed for {host_of(request.url)}: "
                        f"{reason(e)}; if the app uses a private CA, set api.ca_file") from None
    # NewConnectionError subclasses ConnectTimeoutError in urllib3 1.26: test it first.
    except urllib3.exceptions.NewConnectionError as e:
        raise ConnectFailed(reason(e)) from None
    except urllib3.exceptions.ConnectTimeoutError:
        error = timed_out(f"connecting to {host_of(request.url)} timed out after "
                          f"{timeout.connect_timeout:g} s",
                          timeout.connect_timeout < request.connect_timeout)
        if isinstance(error, CronError):
            raise error from None
        raise ConnectFailed(f"timed out after {timeout.connect_timeout:g} s") from None
    except urllib3.exceptions.ReadTimeoutError:
        raise timed_out(f"no reply from {host_of(request.url)} within "
                        f"{timeout.read_timeout:g} s",
                        timeout.read_timeout < request.read_timeout) from None
    except (urllib3.exceptions.ProtocolError, urllib3.exceptions.TimeoutError) as e:
        raise RetryableError(f"connection to {host_of(request.url)} failed: "
                             f"{reason(e)}") from None
    except urllib3.exceptions.HTTPError as e:
        raise UnavailableError(f"request to {host_of(request.url)} failed: "
                        f"{reason(e)}") from None
    return response, timeout


def timed_out(message, cut_by_deadline):
    """A retryable error for a timeout, or DeadlineError if the deadline set it."""
    if cut_by_deadline:
        return DeadlineError(f"{message}: the run's deadline passed")
    return RetryableError(message)


def refuse_encoded(response):
    """Raise ProtocolError if the reply announces a Content-Encoding.

    Only identity is accepted. An encoded reply is never inflated: a few hundred bytes
    of nested gzip can inflate to gigabytes, and a byte cap on the inflated text would
    come too late.
    """
    encoding = response.headers.get("Content-Encoding", "")
    if encoding.strip().lower() in ("", "identity"):
        return
    shown = "".join(c if " " <= c <= "~" else "?" for c in encoding.strip())[:60]
    raise ProtocolError(f"the reply is compressed (Content-Encoding: {shown}, HTTP "
                    f"{response.status}) although only identity was accepted; it is not "
                    f"inflated, to bound memory: have the app or its proxy send plain JSON",
                    http_status=response.status)


def oversized_length(value):
    """'5242880 bytes' when a Content-Length of plain ASCII digits exceeds
    MAX_REPLY_BYTES, else None (other values are ignored, as urllib3 does).

    isdigit() alone accepts '²' and '٣', which int() then refuses or reads as digits;
    and int() refuses more than 4300 digits.
    """
    value = (value or "").strip()
    if not (value.isascii() and value.isdigit()):
        return None
    if len(value) > 12:
        return f"a {len(value)}-digit length"
    return f"{int(value)} bytes" if int(value) > MAX_REPLY_BYTES else None


def read_capped(response, request, read_timeout):
    """Read the raw body, refusing more than MAX_REPLY_BYTES without buffering it.

    Raises:
        ProtocolError for an oversized reply; RetryableError if the
        connection breaks mid-body.
    """
    oversized = oversized_length(response.headers.get("Content-Length"))
    if oversized:
        raise ProtocolError(f"the reply announces {oversized}, over the "
                        f"{MAX_REPLY_BYTES} byte limit (HTTP {response.status}); is "
                        f"{request.url} the cron endpoint?", http_status=response.status)
    chunks, size = [], 0
    try:
        while True:
            chunk = response.read(READ_CHUNK, decode_content=False)
            if not chunk:
                return b"".join(chunks)
            size += len(chunk)
            if size > MAX_REPLY_BYTES:
                raise ProtocolError(f"the reply is over the {MAX_REPLY_BYTES} byte "
                                f"limit (HTTP {response.status}); is {request.url} the cron "
                                f"endpoint?", http_status=response.status)
            chunks.append(chunk)
    except urllib3.exceptions.ReadTimeoutError:
        raise timed_out(f"the reply from {host_of(request.url)} stalled for "
                        f"{read_timeout:g} s", read_timeout < request.read_timeout) from None
    except (urllib3.exceptions.ProtocolError, urllib3.exceptions.DecodeError) as e:
        raise RetryableError(f"the reply from {host_of(request.url)} broke off: "
                             f"{reason(e)}") from None


def host_of(url):
    """scheme://host:port of a URL, for messages (never carries a secret)."""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"


def reason(exc):
    """The innermost, most specific text of a urllib3 exception, on one line."""
    text = str(getattr(exc, "reason", None) or exc)
    # urllib3 prefixes "<urllib3.connection.HTTPConnection object at 0x...>: "; keep the cause.
    if ">: " in text:
        text = text.split(">: ", 1)[1]
    return " ".join(text.split())[:300]
