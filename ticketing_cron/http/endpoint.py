"""Where one URL's requests go: its resolved addresses, and a connection pool for each.

The name is resolved here (see resolve), not by urllib3, so that the lookup is bounded
by the run's deadline and so that an http:// URL is refused before any byte is sent
unless all of its addresses are loopback. urllib3 then connects to an address while
TLS sends the URL's host name (SNI) and verifies the certificate against that name,
and the Host header carries it too.
"""

import urllib3
from urllib3.util import parse_url

from ticketing_cron.http.resolve import Resolver


class Endpoint:
    """The connection pools of one URL, one per resolved address.

    Args:
        url: an http(s) URL that url_rules.validate_base_url accepted (it parses URLs
            with the same urllib3 parse_url, so both read the same host).
        ca_file: a PEM bundle trusted instead of the system store, or None.
    """

    def __init__(self, url, ca_file=None):
        parts = parse_url(url)
        self.scheme = parts.scheme
        self.host = parts.host
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.target = parts.request_uri
        self.host_header = parts.netloc
        self.ca_file = ca_file
        self.resolver = Resolver(parts.host, self.port, loopback_only=parts.scheme == "http")
        self.pools = {}

    def addresses(self, timeout):
        """The addresses to try, in order; see resolve.Resolver.resolve for errors."""
        return self.resolver.resolve(timeout)

    def pool_for(self, address):
        """The connection pool (HTTP or verified HTTPS) for one resolved address."""
        pool = self.pools.get(address)
        if pool is None:
            kwargs = {"maxsize": 1, "retries": False}
            if self.scheme == "https":
                name = self.host.strip("[]")
                kwargs.update(cert_reqs="CERT_REQUIRED", server_hostname=name,
                              assert_hostname=name)
                if self.ca_file:
                    kwargs["ca_certs"] = self.ca_file
                pool = urllib3.HTTPSConnectionPool(address, self.port, **kwargs)
            else:
                pool = urllib3.HTTPConnectionPool(address, self.port, **kwargs)
            self.pools[address] = pool
        return pool

    def address_text(self, address):
        """'[::1]:443' or '127.0.0.1:80', for messages."""
        return f"[{address}]:{self.port}" if ":" in address else f"{address}:{self.port}"

    def clear(self):
        """Close every connection."""
        for pool in self.pools.values():
            pool.close()
        self.pools.clear()
