"""A job's Healthchecks ping URL: validated, turned into the URL of one ping, shown safely.

The path of a ping URL (https://hc-ping.com/<uuid>, or /<ping-key>/<slug>) is a
credential: whoever knows it can report the job healthy. Nothing here ever puts it in
a message; only scheme://host[:port] (origin()) is shown.
"""

import urllib.parse

from ticketing_cron.config.urls import is_loopback, is_placeholder

MAX_URL_LEN = 2048
# Healthchecks' paths are UUIDs, ping keys and slugs. Allowing only RFC 3986's
# unreserved characters, "/" and "%" makes every URL parser read the same path.
PATH_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~/%")
HOST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.[]:")
MIN_SCRUBBED_SEGMENT = 6
NOT_SHOWN = "(the value is not shown: its path is a credential)"


def origin(url):
    """'https://hc-ping.com' or 'http://127.0.0.1:8000': the part of a URL that may be
    shown. Never raises; returns '[ping URL]' for what cannot be parsed."""
    scheme, sep, rest = url.partition("://")
    host = rest.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0].rsplit("@", 1)[-1]
    if not sep or not scheme.isalpha() or not host or not set(host) <= HOST_CHARS:
        return "[ping URL]"
    return f"{scheme.lower()}://{host}"


def validate_ping_url(value, name, problems):
    """Check a job's ping_url: https (http only to loopback), a host, a plain path.

    Args:
        value: the TOML value.
        name: its key path for messages, e.g. "jobs.sla-check.ping_url".
        problems: list the problems are appended to (never containing the path).
    Returns:
        The URL without a trailing slash, or None.
    """
    if not isinstance(value, str):
        problems.append(f"{name}: must be a string such as \"https://hc-ping.com/<uuid>\"")
        return None
    if len(value) > MAX_URL_LEN or not value.isascii() or not value.isprintable() \
            or any(c.isspace() for c in value):
        problems.append(f"{name}: must be one URL of at most {MAX_URL_LEN} plain characters "
                        f"without spaces {NOT_SHOWN}")
        return None
    try:
        parts = urllib.parse.urlsplit(value)
        _ = parts.port  # raises ValueError for a port that is not a number in range
    except ValueError:
        problems.append(f"{name}: not a valid URL {NOT_SHOWN}")
        return None
    shown = origin(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        problems.append(f"{name}: must be an https:// URL such as "
                        f"https://hc-ping.com/<uuid> {NOT_SHOWN}")
        return None
    if "@" in parts.netloc or parts.query or parts.fragment or "?" in value or "#" in value:
        problems.append(f"{name}: must not contain a user name, password, query or fragment; "
                        f"the ping adds the exit status and ?rid= itself")
        return None
    if not set(parts.netloc) <= HOST_CHARS:
        problems.append(f"{name}: the host of {shown} is not a plain host name or address")
        return None
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        problems.append(f"{name}: http:// is only allowed to a loopback host, so that the "
                        f"ping URL never crosses a network in clear text; use https:// "
                        f"(host {shown})")
        return None
    if is_placeholder(parts.hostname):
        problems.append(f"{name}: {parts.hostname} is a placeholder; copy the ping URL of "
                        f"the job's check from Healthchecks")
        return None
    path = parts.path.rstrip("/")
    if not path or not set(path) <= PATH_CHARS or "//" in path \
            or any(seg in (".", "..") for seg in path.split("/")[1:]):
        problems.append(f"{name}: must name the check, such as https://hc-ping.com/<uuid> "
                        f"or /<ping-key>/<slug>, with letters, digits and -._~%/ only "
                        f"(host {shown}; {NOT_SHOWN})")
        return None
    return value.rstrip("/")


def rid(request_id):
    """The run's 32-hex-digit request id in UUID form, as Healthchecks' ?rid= wants it."""
    h = request_id.lower()
    if len(h) != 32 or not all(c in "0123456789abcdef" for c in h):
        raise ValueError("a request id is 32 hexadecimal digits")
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def ping_target(ping_url, exit_status, request_id):
    """'{ping_url}/{exit_status}?rid=<uuid>': where one run's ping goes.

    Args:
        ping_url: a URL that validate_ping_url returned.
        exit_status: the run's exit status, 0 to 255.
        request_id: the run's REQUEST_ID (32 hex digits).
    """
    if not 0 <= int(exit_status) <= 255:
        raise ValueError("an exit status is 0 to 255")
    return f"{ping_url}/{int(exit_status)}?rid={rid(request_id)}"


def start_target(ping_url, request_id):
    """'{ping_url}/start?rid=<uuid>': where one run's start signal goes (the same rid
    as its end ping, so that Healthchecks pairs them and measures the run)."""
    return f"{ping_url}/start?rid={rid(request_id)}"


def scrub(text, ping_url):
    """``text`` with the ping URL replaced by its origin, and its path, or any longer
    segment of it (a ping key, a check's UUID), replaced by [ping path]."""
    rest = ping_url.partition("://")[2]
    path = rest[len(rest.split("/", 1)[0]):].strip("/")
    text = text.replace(ping_url, origin(ping_url))
    if path:
        text = text.replace(path, "[ping path]")
        for segment in sorted(path.split("/"), key=len, reverse=True):
            if len(segment) >= MIN_SCRUBBED_SEGMENT:
                text = text.replace(segment, "[ping path]")
    return text
