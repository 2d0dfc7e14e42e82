#!/usr/bin/python3
"""A cron endpoint that answers at once, for dev/bench.

The stand-in API (dev/standin_api.py) does real SQLite work per call, and its latency
would hide what a run costs to start. This server reads a request's head and body
and writes a fixed successful reply straight away, one thread per connection.

Usage: instant_api.py [--listen 127.0.0.1:0]
It prints "listening on http://HOST:PORT" once it accepts connections.
"""

import argparse
import socket
import sys
import threading

BODY = b'{"success": true, "unassignedCount": 0, "timestamp": ' \
       b'"2024-01-01T00:00:00.000Z", "durationMs": 0}'
REPLY = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
         b"Content-Length: " + str(len(BODY)).encode() + b"\r\n\r\n" + BODY)
MAX_HEAD = 64 * 1024


def serve_one(conn):
    """Read one request (head, then Content-Length bytes of body); send REPLY."""
    with conn:
        data = b""
        while b"\r\n\r\n" not in data and len(data) < MAX_HEAD:
            chunk = conn.recv(4096)
            if not chunk:
                return
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length" and value.strip().isdigit():
                length = int(value.strip()[:9])
        while len(body) < length:
            chunk = conn.recv(4096)
            if not chunk:
                return
            body += chunk
        conn.sendall(REPLY)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen", default="127.0.0.1:0", metavar="HOST:PORT")
    args = parser.parse_args()
    host, _, port = args.listen.rpartition(":")
    listener = socket.create_server((host, int(port)), backlog=64)
    print(f"listening on http://{host}:{listener.getsockname()[1]}", flush=True)
    try:
        while True:
            conn, _ = listener.accept()
            threading.Thread(target=serve_one, args=(conn,), daemon=True).start()
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
