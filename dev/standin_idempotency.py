"""The stand-in app's side of the Idempotency-Key header (IETF httpapi draft).

What a route handler of the real app stores, as a table of the app's database:
one row per key, claimed in the same transaction that checks for it, holding the
first reply once it exists. A repeated key gets that reply again, without doing the
work; a key whose first request is still being handled gets 409. Rows are kept for
KEEP_S (24 hours): ticketing-cron never reuses a slot's key later than its own
deadline, so a day is generous, and it bounds the table to some 1,440 rows per
every-minute job.
"""

import json
import time

KEEP_S = 24 * 3600
MAX_KEY_CHARS = 255
SCHEMA = """
CREATE TABLE IF NOT EXISTS idempotency_keys (
    key TEXT PRIMARY KEY, created_at REAL NOT NULL, status INTEGER, body TEXT);
"""


def parse_key(header):
    """The key from an Idempotency-Key header value (a quoted string), or raise ValueError.

    Returns:
        The key without quotes, or None when the header is absent.
    """
    if header is None:
        return None
    value = header.strip()
    if len(value) < 3 or value[0] != '"' or value[-1] != '"' or '"' in value[1:-1] or \
            "\\" in value or len(value) > MAX_KEY_CHARS + 2 or not value.isprintable():
        raise ValueError("Idempotency-Key must be a quoted string of at most "
                         f"{MAX_KEY_CHARS} printable characters")
    return value[1:-1]


def claim(db, lock, key, now=None):
    """Claim ``key`` for a new request, or say what the earlier request left.

    Args:
        db: the sqlite3 connection (autocommit mode); lock: the store's lock.
    Returns:
        ("new", None), ("running", None) or ("done", (status, body dict)).
    """
    now = time.time() if now is None else now
    with lock:
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute("DELETE FROM idempotency_keys WHERE created_at < ?", (now - KEEP_S,))
            row = db.execute("SELECT status, body FROM idempotency_keys WHERE key = ?",
                             (key,)).fetchone()
            if row is None:
                db.execute("INSERT INTO idempotency_keys (key, created_at) VALUES (?, ?)",
                           (key, now))
        finally:
            db.execute("COMMIT")
    if row is None:
        return "new", None
    if row[0] is None:
        return "running", None
    return "done", (row[0], json.loads(row[1]))


def finish(db, lock, key, status, body):
    """Store the first reply to ``key``; a repeat of the key gets it again."""
    with lock:
        db.execute("UPDATE idempotency_keys SET status = ?, body = ? WHERE key = ?",
                   (status, json.dumps(body), key))


def release(db, lock, key):
    """Forget a claim whose request failed before replying, so a retry may do the work."""
    with lock:
        db.execute("DELETE FROM idempotency_keys WHERE key = ? AND status IS NULL", (key,))
