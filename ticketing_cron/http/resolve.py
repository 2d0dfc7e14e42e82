"""Name resolution bounded in time, and the rule that http:// goes to loopback only.

getaddrinfo() cannot be interrupted: a signal handler runs only after it returns, so a
silent resolver (5 s per try, per nameserver, by default) would outlive the run's
deadline and the unit's TimeoutStartSec=. The lookup therefore runs in a daemon thread
while the caller waits on an Event, which a signal (the deadline's SIGALRM, SIGTERM)
does interrupt. A lookup still running when the caller gives up is left to finish on
its own and reused by the next attempt rather than started again.
"""

import socket
import threading

from ticketing_cron.base.errors import ConfigError
from ticketing_cron.base.net import ip_literal, is_loopback_address

class Lookup:
    """One getaddrinfo() call running in a daemon thread.

    Args:
        host: a name (ASCII) to resolve.
        port: the TCP port, which getaddrinfo needs to pick stream addresses.
    """

    def __init__(self, host, port):
        self.done = threading.Event()
        self.addresses = None
        self.error = None
        thread = threading.Thread(target=self._run, args=(host, port), daemon=True,
                                  name="resolve")
        thread.start()

    def _run(self, host, port):
        try:
            infos = socket.getaddrinfo(host.encode("ascii"), port, socket.AF_UNSPEC,
                                       socket.SOCK_STREAM)
            addresses = []
            for info in infos:
                if info[4][0] not in addresses:
                    addresses.append(info[4][0])
            self.addresses = tuple(addresses)
        except (OSError, UnicodeError) as e:
            self.error = e
        finally:
            self.done.set()


class Resolver:
    """The addresses of one host, looked up at most once at a time.

    Args:
        host: the URL's host: a name, or an IP literal (IPv6 in brackets).
        port: the TCP port.
        loopback_only: refuse unless every address is loopback (http:// URLs).
    """

    def __init__(self, host, port, loopback_only):
        self.host = host
        self.port = port
        self.loopback_only = loopback_only
        self.lookup = None
        literal = ip_literal(host)
        self.addresses = (host.strip("[]"),) if literal else None

    def resolve(self, timeout):
        """The host's addresses, in getaddrinfo's order of preference.

        Args:
            timeout: seconds to wait for the lookup (a signal can end the wait sooner).
        Returns:
            A non-empty tuple of IP address strings.
        Raises:
            TimeoutError when the lookup did not finish within ``timeout``;
            OSError (socket.gaierror) when it failed;
            ConfigError when loopback_only and an address is not loopback.
        """
        if self.addresses is None:
            if self.lookup is None:
                self.lookup = Lookup(self.host, self.port)
            if not self.lookup.done.wait(max(0.0, timeout)):
                raise TimeoutError(f"resolving {self.host} took longer than {timeout:g} s")
            lookup, self.lookup = self.lookup, None
            if lookup.error is not None:
                raise OSError(f"cannot resolve {self.host}: {describe(lookup.error)}")
            if not lookup.addresses:
                raise OSError(f"cannot resolve {self.host}: no addresses")
            self.addresses = lookup.addresses
        if self.loopback_only:
            refuse_unless_loopback(self.host, self.addresses)
        return self.addresses


def refuse_unless_loopback(host, addresses):
    """Raise ConfigError unless every address is a loopback address.

    A name such as app.localhost can resolve anywhere (Debian's default NSS asks DNS
    for it), and http:// would then carry the secret across a network in clear text.
    """
    foreign = [a for a in addresses if not is_loopback_address(a)]
    if foreign:
        raise ConfigError(f"{host} resolves to {', '.join(foreign)}, which is not "
                        f"a loopback address; http:// is only allowed to loopback, so "
                        f"nothing was sent: use https://, or make {host} resolve to "
                        f"127.0.0.1/::1 only (e.g. in /etc/hosts)")


def describe(error):
    """A getaddrinfo error as text, without errno noise."""
    return getattr(error, "strerror", None) or str(error) or type(error).__name__
