"""The alert streak's state on disk: one small JSON file per watched unit.

Written atomically (temporary file, fsync, rename) so that a crash or power cut
leaves the old state or the new one, never half of each. A corrupt file, or one whose
values have the wrong types or absurd sizes, is treated as no state and replaced: an
extra alert beats a silent outage. The failure and the recovery handler serialize
their load-decide-save steps with a lock file beside the state (locked()).
"""

import fcntl
import json
import math
import os
import time
from contextlib import contextmanager

from ticketing_cron.base.errors import ConfigError

DEFAULT_STATE_DIR = "/var/lib/ticketing-cron"
MAX_STATE_BYTES = 64 * 1024
MAX_COUNT = 10**9
MAX_EPOCH = 10**11           # the year 5138
MAX_TEXT = 4096
LOCK_POLL_S = 0.05
# The streak's keys and what each may hold: "count" a non-negative int, "epoch" a
# finite non-negative number, "text" a string, "status" an HTTP status; None where
# allowed. Optional keys (written since the first failure) may be missing;
# "delivering" names an alert on its way out (alerts.marks).
SCHEMA = {"first_failure_at": ("epoch", False), "consecutive_failures": ("count", False),
          "alerts_sent": ("count", False), "last_alert_at": ("epoch", True),
          "alerted_outcome": ("text", True), "last_outcome": ("text", False),
          "last_failure_at": ("epoch", None), "last_message": ("text", None),
          "last_http_status": ("status", None), "job": ("text", None),
          "delivering": ("text", None)}


def state_dir(environ=os.environ):
    """$STATE_DIRECTORY (set by StateDirectory=; first entry), else /var/lib/ticketing-cron."""
    return (environ.get("STATE_DIRECTORY") or DEFAULT_STATE_DIR).split(":")[0]


def state_path(directory, unit):
    """The state file for ``unit``; ticketing-cron-recovery@.service's condition names it."""
    if not unit or "/" in unit or unit.startswith("."):
        raise ConfigError(f"not a unit name: {unit!r}")
    return os.path.join(directory, f"{unit}.json")


def load_state(path):
    """Read a state file.

    Returns:
        (state dict or None, problem text or None): None state when the file is
        missing or unusable; the problem says why when it is unusable.
    """
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_STATE_BYTES + 1)
        if len(data) > MAX_STATE_BYTES:
            raise ValueError(f"over {MAX_STATE_BYTES} bytes")
        state = json.loads(data.decode("utf-8"))
    except FileNotFoundError:
        return None, None
    except (OSError, ValueError, RecursionError) as e:
        why = e.strerror if isinstance(e, OSError) else str(e)[:200]
        return None, f"alert state {path} unreadable ({why}); starting a new streak"
    problem = schema_problem(state)
    if problem:
        return None, (f"alert state {path} is not a streak record ({problem}); "
                      f"starting a new streak")
    return state, None


def schema_problem(state):
    """What makes ``state`` unusable as a streak record (text), or None if it is fine."""
    if not isinstance(state, dict):
        return "not a JSON object"
    for key, (kind, nullable) in SCHEMA.items():
        if key not in state:
            if nullable is None:
                continue
            return f"{key} missing"
        value = state[key]
        if value is None and nullable is not False:
            continue
        if not _fits(kind, value):
            return f"{key} is not a valid {kind}"
    return None


def _fits(kind, value):
    if kind == "text":
        return isinstance(value, str) and len(value) <= MAX_TEXT
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if kind == "epoch":
        return math.isfinite(value) and 0 <= value <= MAX_EPOCH
    if kind == "status":
        return isinstance(value, int) and 0 <= value <= 999
    return isinstance(value, int) and 0 <= value <= MAX_COUNT


@contextmanager
def locked(path, wait_s, sleep=time.sleep, clock=time.monotonic):
    """Hold an exclusive lock on PATH.lock for the block, waiting at most wait_s.

    Yields:
        True when the lock is held; False when it could not be had in time or the
        lock file cannot be opened (the caller goes on unlocked: an extra alert
        beats a silent outage).
    """
    try:
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        fd = os.open(f"{path}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW,
                     0o600)
    except OSError:
        yield False
        return
    try:
        give_up_at = clock() + wait_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                held = True
                break
            except BlockingIOError:
                if clock() >= give_up_at:
                    held = False
                    break
                sleep(LOCK_POLL_S)
        yield held
    finally:
        os.close(fd)  # releases the lock


def save_state(path, state):
    """Write the state atomically and durably: a temporary file beside it, written
    whole and fsync'ed, renamed over it, and the directory fsync'ed.

    A failed write (a full disk) removes the temporary file again; one left behind by
    a crash is never read, is truncated by the next save and removed by clear_state().

    Raises:
        OSError if the directory is not writable or the disk is full.
    """
    tmp = f"{path}.tmp"
    data = (json.dumps(state, indent=1, sort_keys=True) + "\n").encode("utf-8")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC | os.O_NOFOLLOW,
                     0o600)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        _unlink(tmp)
        raise
    sync_directory(os.path.dirname(path))


def sync_directory(directory):
    """fsync a directory, so that a rename in it outlives a power cut (best effort:
    without it the old state comes back, which is still a whole file)."""
    try:
        fd = os.open(directory or ".", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _unlink(path):
    try:
        os.unlink(path)
    except OSError:
        pass


def clear_state(path):
    """Forget the streak (after a success), and any temporary file a crash left."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    _unlink(f"{path}.tmp")
