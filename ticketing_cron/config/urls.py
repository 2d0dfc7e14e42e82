"""The rules for the URLs the program sends to: the API's base_url, the webhook.

https://, or http:// only to loopback; RFC 3986's characters only; no user info,
query or fragment; never an RFC 2606 example domain. Shared by config (base_url,
webhook_url), the ping URL's checks and import-env.
"""

PLACEHOLDER_DOMAINS = ("example.com", "example.net", "example.org", "example", "invalid")
# RFC 3986's characters: unreserved, reserved and the percent sign.
URL_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
                      "-._~:/?#[]@!$&'()*+,;=%")


def validate_base_url(url, name, problems):
    """Check an API or webhook URL: https, or http only to a loopback host.

    The URL is parsed by urllib3's parse_url, the parser that sends the request, and
    may hold only RFC 3986's characters, because parsers disagree about the others:
    urlsplit() reads http://attacker.test\\.localhost as a host ending in .localhost,
    urllib3 sends it to attacker.test. Whether an http:// name really is loopback is
    checked again when it is resolved, before anything is sent (resolve.py).

    Returns:
        The URL without a trailing slash, or None (and a recorded problem).
    """
    if any(c.isspace() for c in url):
        problems.append(f"{name}: must not contain whitespace")
        return None
    odd = sorted({c for c in url if c not in URL_CHARS})
    if odd:
        problems.append(f"{name}: {' '.join(ascii(c) for c in odd)} cannot be in a URL "
                        f"(RFC 3986 allows letters, digits and -._~:/?#[]@!$&'()*+,;=%): "
                        f"{url!r}; write an international domain name in its xn-- form")
        return None
    from urllib3.util import parse_url  # the run path has imported urllib3 already

    try:
        parts = parse_url(url)
    except ValueError as e:  # urllib3's LocationParseError is a ValueError
        problems.append(f"{name}: not a valid URL ({e}): {url!r}")
        return None
    host = parts.host
    if parts.scheme not in ("http", "https") or not host or "://" not in url:
        problems.append(f"{name}: must be an https:// URL such as https://tickets.example.com, "
                        f"not {url!r}")
        return None
    if parts.auth is not None:
        problems.append(f"{name}: must not contain a user name or password")
        return None
    if parts.query is not None or parts.fragment is not None:
        problems.append(f"{name}: must not contain a query or fragment")
        return None
    if not is_host(host):
        problems.append(f"{name}: {host!r} is not a host name (letters, digits, - and .) "
                        f"or an IP address")
        return None
    if parts.scheme == "http" and not is_loopback(host):
        # A development port (http://host:3000) is rarely the one serving TLS: not kept.
        carried = "the secret" if name.lower().endswith("base_url") else "what it sends"
        problems.append(f"{name}: http:// is only allowed to a loopback host (localhost, "
                        f"127.0.0.1, ::1), so that {carried} never crosses a network in "
                        f"clear text; use the https:// address, such as "
                        f"https://{host}{parts.path or ''}")
        return None
    if is_placeholder(host):
        problems.append(f"{name}: {host} is the example placeholder; set it to your app's "
                        f"URL, such as https://tickets.yourcompany.com")
        return None
    return url.rstrip("/")


def is_host(host):
    """True for an IP literal ([v6] in brackets) or a name of letters, digits, -, _ and ."""
    if host.startswith("["):
        return host.endswith("]") and all(c in "0123456789abcdefABCDEF:." for c in host[1:-1])
    return all(c.isascii() and (c.isalnum() or c in "-_.") for c in host)


def is_loopback(host):
    """True for localhost names and loopback addresses (127.0.0.0/8, ::1, or [::1]).

    A *.localhost name is only loopback if it resolves so; the client checks that.
    """
    host = host.lower()
    if host in ("localhost", "localhost.") or host.endswith(".localhost"):
        return True
    from ticketing_cron.base.net import is_loopback_address  # cheaper than ipaddress

    return is_loopback_address(host.strip("[]"))


def is_placeholder(host):
    """True for the reserved example domains (RFC 2606) that the shipped config uses."""
    host = host.lower().rstrip(".")
    return any(host == d or host.endswith("." + d) for d in PLACEHOLDER_DOMAINS)
