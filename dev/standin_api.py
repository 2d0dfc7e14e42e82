#!/usr/bin/python3
"""A stand-in for the ticketing app's cron API, for the demo and the tests.

It keeps ticket requests in SQLite and implements POST /api/cron/sla-check as the
app does: with the right x-cron-secret it unassigns every assigned request whose
sla_deadline has passed, writes a history row and an admin notification for each,
and answers {"success": true, "unassignedCount": N, "timestamp": ..., "durationMs": ...};
without it, 401.

Test hooks under /_standin/ (no secret needed; bind to loopback only):
  GET  /_standin/calls      every sla-check call: received_at, secret_ok, request_id...
  GET  /_standin/requests   the ticket requests
  GET  /_standin/history    the request history rows
  POST /_standin/seed       {"expired": N, "active": M} adds assigned requests
  POST /_standin/control    {"hang": bool, "status": int|null, "retry_after": str|null,
                             "delay_ms": int} makes later sla-check calls hang, answer
                            that status, or take that long to do their work; "script":
                            {SLOT: {...}} does so for calls whose X-Cron-Scheduled-At is SLOT
--path adds another cron endpoint, served as sla-check is (one app, several jobs).

Idempotency-Key (see standin_idempotency.py): a repeated key is answered with the
first reply (and Idempotent-Replayed: true) without doing the work again, or with 409
while the first request is still being handled; each call in /_standin/calls says
which ("idempotency": "new", "replayed" or "conflict"). --ignore-idempotency-key makes
it an app that does not follow the draft: every call does the work.

Usage: standin_api.py --listen 127.0.0.1:0 --db FILE --secret-file FILE
                      [--seed-expired N] [--seed-active M]
It prints "listening on http://HOST:PORT" once it accepts connections.
       standin_api.py --db FILE --report
prints the requests and their history, and exits.
"""

import argparse
import hmac
import json
import sqlite3
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import standin_idempotency as idempotency

SCHEMA = """
CREATE TABLE IF NOT EXISTS requests (
    id INTEGER PRIMARY KEY, title TEXT NOT NULL, assignee TEXT,
    status TEXT NOT NULL, sla_deadline TEXT);
CREATE TABLE IF NOT EXISTS request_history (
    id INTEGER PRIMARY KEY, request_id INTEGER NOT NULL, action TEXT NOT NULL,
    detail TEXT, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS admin_notifications (
    id INTEGER PRIMARY KEY, subject TEXT NOT NULL, created_at TEXT NOT NULL);
"""


def iso(moment):
    """UTC ISO 8601 with milliseconds and Z, the app's timestamp format."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + \
        f"{moment.microsecond // 1000:03d}Z"


class Store:
    """The requests database, shared by the server's threads."""

    def __init__(self, path):
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.db.row_factory = sqlite3.Row
        self.db.executescript(SCHEMA + idempotency.SCHEMA)
        self.lock = threading.Lock()

    def seed(self, expired, active):
        """Add assigned requests whose SLA passed a minute ago, or ends in 10 minutes."""
        now = datetime.now(timezone.utc)
        with self.lock:
            for i in range(expired):
                self.db.execute("INSERT INTO requests (title, assignee, status, sla_deadline) "
                                "VALUES (?, ?, 'assigned', ?)",
                                (f"expired request {i + 1}", f"agent{i % 3 + 1}",
                                 iso(now - timedelta(minutes=1))))
            for i in range(active):
                self.db.execute("INSERT INTO requests (title, assignee, status, sla_deadline) "
                                "VALUES (?, ?, 'assigned', ?)",
                                (f"active request {i + 1}", f"agent{i % 3 + 1}",
                                 iso(now + timedelta(minutes=10))))

    def unassign_expired(self):
        """The SLA check: unassign expired requests, record each. Returns the count."""
        now = iso(datetime.now(timezone.utc))
        with self.lock:
            self.db.execute("BEGIN IMMEDIATE")
            rows = self.db.execute("SELECT id, assignee FROM requests WHERE assignee IS NOT "
                                   "NULL AND sla_deadline < ?", (now,)).fetchall()
            for row in rows:
                self.db.execute("UPDATE requests SET assignee = NULL, status = 'unassigned' "
                                "WHERE id = ?", (row["id"],))
                self.db.execute("INSERT INTO request_history (request_id, action, detail, "
                                "created_at) VALUES (?, 'sla_timeout', ?, ?)",
                                (row["id"], f"unassigned from {row['assignee']}", now))
            if rows:
                self.db.execute("INSERT INTO admin_notifications (subject, created_at) "
                                "VALUES (?, ?)", (f"{len(rows)} requests missed their SLA", now))
            self.db.execute("COMMIT")
        return len(rows)

    def rows(self, table):
        """Every row of a table, as dicts."""
        with self.lock:
            return [dict(r) for r in self.db.execute(f"SELECT * FROM {table} ORDER BY id")]


def make_handler(store, secret, state):
    """A request handler class bound to the store, the secret and the test controls."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "standin-ticketing-app/1"

        def log_message(self, fmt, *args):
            sys.stderr.write("standin: " + (fmt % args) + "\n")

        def reply(self, status, data, extra_headers=()):
            body = json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for name, value in extra_headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def read_json(self):
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            return json.loads(raw or b"{}")

        def do_GET(self):
            tables = {"/_standin/requests": "requests", "/_standin/history": "request_history",
                      "/_standin/notifications": "admin_notifications"}
            if self.path == "/_standin/calls":
                with state["lock"]:
                    self.reply(200, list(state["calls"]))
            elif self.path in tables:
                self.reply(200, store.rows(tables[self.path]))
            else:
                self.reply(404, {"error": "Not found"})

        def do_POST(self):
            if self.path == "/_standin/seed":
                data = self.read_json()
                store.seed(int(data.get("expired", 0)), int(data.get("active", 0)))
                self.reply(200, {"ok": True})
            elif self.path == "/_standin/control":
                data = self.read_json()
                with state["lock"]:
                    state["control"].update(data)
                self.reply(200, {"ok": True})
            elif self.path in state["paths"]:
                self.sla_check()
            else:
                self.reply(404, {"error": "Not found"})

        def sla_check(self):
            received_at = time.time()
            self.read_json()
            given = self.headers.get("x-cron-secret") or ""
            secret_ok = hmac.compare_digest(given.encode(), secret.encode())
            with state["lock"]:
                control = dict(state["control"])
            script = control.pop("script", None) or {}
            control.update(script.get(self.headers.get("X-Cron-Scheduled-At") or "", {}))
            call = {"received_at": received_at, "path": self.path, "secret_ok": secret_ok,
                    "request_id": self.headers.get("X-Request-ID"),
                    "user_agent": self.headers.get("User-Agent"),
                    "idempotency_key": self.headers.get("Idempotency-Key"),
                    "scheduled_at": self.headers.get("X-Cron-Scheduled-At")}
            if control.get("hang"):
                status = None
            elif control.get("status"):
                status = int(control["status"])
            else:
                status = 200 if secret_ok else 401
            call["status"] = status
            with state["lock"]:
                state["calls"].append(call)
            if status is None:
                while not state["stop"].wait(1):
                    pass
                return
            if status != 200:
                extra = [("Retry-After", control["retry_after"])] \
                    if control.get("retry_after") else []
                error = "Unauthorized" if status == 401 else f"stand-in status {status}"
                self.reply(status, {"error": error}, extra)
                return
            try:
                key = idempotency.parse_key(self.headers.get("Idempotency-Key")) \
                    if state["dedupe"] else None
            except ValueError as e:
                self.reply(400, {"error": str(e)})
                return
            if key is not None:
                seen, first = idempotency.claim(store.db, store.lock, key)
                call["idempotency"] = {"new": "new", "running": "conflict",
                                       "done": "replayed"}[seen]
                if seen == "running":
                    self.reply(409, {"error": "a request with this Idempotency-Key is "
                                     "still being processed"})
                    return
                if seen == "done":
                    self.reply(first[0], first[1], [("Idempotent-Replayed", "true")])
                    return
            started = time.monotonic()
            try:
                time.sleep(int(control.get("delay_ms") or 0) / 1000)
                count = store.unassign_expired()
            except BaseException:
                if key is not None:
                    idempotency.release(store.db, store.lock, key)
                raise
            body = {"success": True, "unassignedCount": count,
                    "timestamp": iso(datetime.now(timezone.utc)),
                    "durationMs": int((time.monotonic() - started) * 1000)}
            if key is not None:
                idempotency.finish(store.db, store.lock, key, 200, body)
            self.reply(200, body)

    return Handler


def report(store, out):
    """Print the requests and their history as plain tables."""
    out.write("requests:\n")
    for r in store.rows("requests"):
        out.write(f"  #{r['id']:<3} {r['status']:<11} assignee={r['assignee'] or '-':<7} "
                  f"sla_deadline={r['sla_deadline']}  {r['title']}\n")
    history = store.rows("request_history")
    out.write("history:\n" if history else "history: none yet\n")
    for h in history:
        out.write(f"  request #{h['request_id']}: {h['action']} {h['detail']} "
                  f"{h['created_at']}\n")
    for n in store.rows("admin_notifications"):
        out.write(f"admin email queued: {n['subject']} ({n['created_at']})\n")


def parse_listen(value):
    """'127.0.0.1:0' or '[::1]:8080' -> (host, port)."""
    host, _, port = value.rpartition(":")
    return host.strip("[]"), int(port)


def main(argv=None):
    """Serve until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--listen", default="127.0.0.1:3000", help="HOST:PORT (port 0: any)")
    parser.add_argument("--db", default=":memory:", help="SQLite file (default: in memory)")
    parser.add_argument("--secret-file",
                        help="file holding the CRON_SECRET (one trailing newline ignored)")
    parser.add_argument("--report", action="store_true",
                        help="print the requests and their history from --db, and exit")
    parser.add_argument("--seed-expired", type=int, default=0, metavar="N")
    parser.add_argument("--seed-active", type=int, default=0, metavar="M")
    parser.add_argument("--path", action="append", default=[], help="another endpoint")
    parser.add_argument("--ignore-idempotency-key", action="store_true",
                        help="do every call's work, as an app without the draft would")
    args = parser.parse_args(argv)
    if args.report:
        report(Store(args.db), sys.stdout)
        return 0
    if not args.secret_file:
        parser.error("--secret-file is required to serve")
    with open(args.secret_file) as f:
        secret = f.read().removesuffix("\n")
    store = Store(args.db)
    store.seed(args.seed_expired, args.seed_active)
    state = {"lock": threading.Lock(), "calls": [], "control": {}, "stop": threading.Event(),
             "dedupe": not args.ignore_idempotency_key,
             "paths": {"/api/cron/sla-check", *args.path}}
    host, port = parse_listen(args.listen)
    # socketserver's listen backlog of 5 drops the connections of many jobs due on the
    # same second, and their clients resend the SYN a second later: an app's server
    # (nginx: 511) takes them all.
    attrs = {"request_queue_size": 128}
    if ":" in host:
        attrs["address_family"] = __import__("socket").AF_INET6
    server_class = type("StandinServer", (ThreadingHTTPServer,), attrs)
    server = server_class((host, port), make_handler(store, secret, state))
    server.daemon_threads = True
    shown = f"[{host}]" if ":" in host else host
    print(f"listening on http://{shown}:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        state["stop"].set()
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
