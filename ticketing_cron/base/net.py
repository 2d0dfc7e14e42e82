"""What an IP address is, without the ipaddress module (costly to import on every run)."""

import socket

LOOPBACK_V6 = socket.inet_pton(socket.AF_INET6, "::1")


def ip_literal(host):
    """The address family of an IP literal (brackets allowed), or None for a name."""
    bare = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.inet_pton(family, bare.split("%", 1)[0])
        except OSError:
            continue
        return family
    return None


def is_loopback_address(address):
    """True for an IP address in 127.0.0.0/8 or ::1 (a v4-mapped address is not)."""
    try:
        return socket.inet_pton(socket.AF_INET, address)[0] == 127
    except OSError:
        pass
    try:
        return socket.inet_pton(socket.AF_INET6, address.split("%", 1)[0]) == LOOPBACK_V6
    except OSError:
        return False
