"""Decide what an HTTP reply from a cron endpoint means."""

import json
from collections import namedtuple

from ticketing_cron.base.text import one_line, plural
from ticketing_cron.http.client import RETRY_STATUSES
from ticketing_cron.base.errors import (AuthError, ConfigError, ProtocolError,
    UnavailableError)

SNIPPET_CHARS = 200


Success = namedtuple("Success",
                     "http_status unassigned_count server_duration_ms duplicate replayed",
                     defaults=(None, None, False, False))
Success.__doc__ = ("A successful run's figures: from the reply when it has them, else None; "
                   "duplicate: the app said another server has this run (409 to a keyed "
                   "request); replayed: the reply repeats an earlier one to the same key "
                   "(Idempotent-Replayed), so its figures are that run's work, not this "
                   "one's.")


def judge(reply, url, keyed=False):
    """Turn the final reply into a Success, or raise the matching CronError.

    Args:
        reply: client.Reply.
        url: the URL that was called, for messages.
        keyed: the request carried an Idempotency-Key.
    Returns:
        Success for HTTP 2xx with a JSON object whose "success" is true, and
        Success(duplicate=True) for 409 to a keyed request: the app is still doing
        this run for another server (the IETF httpapi Idempotency-Key draft).
    Raises:
        CronError: "config" for a redirect, "auth" for 401/403, "unavailable" for
        5xx and 429, "protocol" for any other 4xx or a reply that does not say success.
    """
    status = reply.status
    if 300 <= status < 400:
        raise ConfigError(redirect_message(reply, url), http_status=status)
    if status in (401, 403):
        raise AuthError(f"the API rejected the secret (HTTP {status}); check that "
                        f"cron-secret matches the app's CRON_SECRET", http_status=status)
    if status == 409 and keyed:
        return Success(http_status=status, duplicate=True)
    if status == 404:
        raise ProtocolError(f"{url} does not exist (HTTP 404); check api.base_url and "
                        f"the job's path", http_status=status)
    if status in RETRY_STATUSES:
        raise UnavailableError(f"the API still answered HTTP {status} after "
                        f"{plural(reply.attempts, 'attempt')}; the app or its host is down "
                        f"or overloaded", http_status=status)
    if status >= 500:
        raise UnavailableError(f"the app failed with HTTP {status}"
                        f"{error_suffix(reply.body)}; see the app's logs", http_status=status)
    if not 200 <= status < 300:
        raise ProtocolError(f"the API refused the request with HTTP {status}"
                        f"{error_suffix(reply.body)}", http_status=status)
    return judge_body(reply)


def judge_body(reply):
    """Check that a 2xx body is a JSON object with "success": true; extract its figures."""
    status = reply.status
    try:
        data = json.loads(reply.body)
    except RecursionError:  # json recurses per level: "[" * 200000 fits in 1 MiB
        raise ProtocolError(f"the reply is not JSON (nested too deep; HTTP {status}, "
                        f"starts {snippet(reply.body, 40)!r}); is api.base_url the app "
                        f"itself?", http_status=status) from None
    except (ValueError, UnicodeDecodeError):
        kind = (reply.content_type or "no Content-Type").split(";")[0].strip()
        raise ProtocolError(f"the reply is not JSON (HTTP {status}, {kind}, starts "
                        f"{snippet(reply.body, 40)!r}); is api.base_url the app itself and "
                        f"not a proxy or login page?", http_status=status) from None
    if not isinstance(data, dict):
        raise ProtocolError(f"the reply is JSON but not an object (it is "
                        f"{json_type(data)}; HTTP {status})", http_status=status)
    success = data.get("success")
    if success is not True:
        if success is False:
            why = f"the app reported failure: {clean(data.get('error')) or 'no error given'}"
        elif "success" not in data:
            why = "the reply has no \"success\" field"
        else:
            why = f"\"success\" is {json_type(success)} {clean(as_json(success))}, not true"
        raise ProtocolError(f"{why} (HTTP {status})", http_status=status)
    return Success(http_status=status,
                   unassigned_count=whole_number(data.get("unassignedCount")),
                   server_duration_ms=whole_number(data.get("durationMs")),
                   replayed=bool(getattr(reply, "replayed", False)))


def redirect_message(reply, url):
    """Explain a 3xx: where it points, and that base_url must be changed instead."""
    location = clean(reply.location) or "nowhere (no Location header)"
    return (f"the API redirected (HTTP {reply.status}) {url} to {location}; redirects are "
            f"not followed so that the secret only goes to api.base_url: set api.base_url "
            f"to the address the app really serves")


def error_suffix(body):
    """': <error text>' from a JSON error reply or the start of the body, or ''."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        data = None
    if isinstance(data, dict):
        text = clean(data.get("error") or data.get("message"))
    else:
        text = snippet(body, 80)
    return f": {text}" if text else ""


def snippet(body, limit):
    """The start of a body as printable one-line text."""
    return clean(body[:limit * 4].decode("utf-8", "replace"), limit)


def clean(value, limit=SNIPPET_CHARS):
    """A JSON value (or None: "") as one line of printable text, at most ``limit``
    characters."""
    if value is None:
        return ""
    return one_line(value if isinstance(value, str) else as_json(value), limit)


def as_json(value):
    """value as JSON text; a value parsed just below json's depth limit can still be
    too deep to write back from deeper in the stack."""
    try:
        return json.dumps(value)
    except RecursionError:
        return "(nested too deep to show)"


def whole_number(value):
    """An int >= 0 from a JSON number, else None (booleans are not numbers here)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if value != value or value < 0 or value > 2**53:
        return None
    return int(round(value))


def json_type(value):
    """'an array', 'a string' ... for messages."""
    return {list: "an array", str: "a string", int: "a number", float: "a number",
            bool: "a boolean", dict: "an object", type(None): "null"}[type(value)]
