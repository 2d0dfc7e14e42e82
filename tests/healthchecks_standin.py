"""A loopback stand-in of the Healthchecks ping API, for the ping tests.

Healthchecks (https://healthchecks.io/docs/http_api/) takes a ping as GET or POST to
`/<uuid>[/<exit status>]` or `/<ping-key>/<slug>[/<exit status>]`, an optional
`?rid=<uuid>`, and stores up to 10 kB of the body; it answers 200 "OK". This one
records every ping and can misbehave on request: answer 500, redirect, hang, or not
listen at all.
"""

import socket
import urllib.parse
import uuid

from support import LoopbackServer, send

MODES = ("ok", "500", "redirect", "hang", "refuse", "500-then-ok", "hang-start")


class Ping:
    """One ping as the service saw it."""

    def __init__(self, received, check_path):
        url = urllib.parse.urlsplit(received.path)
        self.method = received.method
        self.raw_path = received.path
        self.path = url.path
        self.query = urllib.parse.parse_qs(url.query)
        self.headers = received.headers
        self.body = received.body
        self.at = received.at
        tail = url.path[len(check_path):] if url.path.startswith(check_path) else None
        self.exit_status = int(tail[1:]) if tail and tail[1:].isdigit() else None

    @property
    def rid(self):
        values = self.query.get("rid", [])
        return values[0] if len(values) == 1 else None


class Healthchecks:
    """The stand-in: ping_url is what a job's config names; pings() what arrived."""

    def __init__(self, mode="ok"):
        assert mode in MODES, mode
        self.mode = mode
        self.check_path = f"/ping/{uuid.uuid4()}"
        if mode == "refuse":
            with socket.socket() as s:  # a port the kernel just handed out, now closed
                s.bind(("127.0.0.1", 0))
                port = s.getsockname()[1]
            self.server = None
            self.base = f"http://127.0.0.1:{port}"
        else:
            self.server = LoopbackServer(self._respond)
            self.base = self.server.url
        self.ping_url = self.base + self.check_path

    def _respond(self, handler, request):
        if self.mode == "hang" or (self.mode == "hang-start"
                                   and request.path.split("?")[0].endswith("/start")):
            self.server.stop.wait(30)
            return
        if self.mode == "500" or (self.mode == "500-then-ok" and len(self.server.received) == 1):
            send(handler, 500, "Server Error", [("Content-Type", "text/plain")])
        elif self.mode == "redirect":
            send(handler, 302, "", [("Location", f"{self.base}/elsewhere{self.check_path}"),
                                    ("Content-Type", "text/plain")])
        else:
            send(handler, 200, "OK", [("Content-Type", "text/plain")])

    def pings(self):
        """Every request that reached the stand-in, oldest first."""
        if self.server is None:
            return []
        return [Ping(r, self.check_path) for r in self.server.received]

    def everything_received(self):
        """All bytes of all requests (paths, headers, bodies), for leak checks."""
        if self.server is None:
            return b""
        return b"".join(r.path.encode() + repr(r.headers).encode() + r.body
                        for r in self.server.received)

    def close(self):
        if self.server is not None:
            self.server.close()
