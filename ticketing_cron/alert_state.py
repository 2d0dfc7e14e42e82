"""The alert streak's state on disk: one small JSON file per watched unit.

Written atomically (temporary file, fsync, rename) so that a crash or power cut
leaves the old state or the new one, never half of each. A corrupt file is treated
as no state and replaced: an extra alert beats a silent outage.
"""

import json
import os

from ticketing_cron.errors import CronError

DEFAULT_STATE_DIR = "/var/lib/ticketing-cron"
REQUIRED_KEYS = ("first_failure_at", "consecutive_failures", "alerts_sent", "last_alert_at",
                 "alerted_outcome", "last_outcome")


def state_dir(environ=os.environ):
    """$STATE_DIRECTORY (set by StateDirectory=; first entry), else /var/lib/ticketing-cron."""
    return (environ.get("STATE_DIRECTORY") or DEFAULT_STATE_DIR).split(":")[0]


def state_path(directory, unit):
    """The state file for ``unit``; ticketing-cron-recovery@.service's condition names it."""
    if not unit or "/" in unit or unit.startswith("."):
        raise CronError("config", f"not a unit name: {unit!r}")
    return os.path.join(directory, f"{unit}.json")


def load_state(path):
    """Read a state file.

    Returns:
        (state dict or None, problem text or None): None state when the file is
        missing or unusable; the problem says why when it is unusable.
    """
    try:
        with open(path, encoding="utf-8") as f:
            state = json.load(f)
    except FileNotFoundError:
        return None, None
    except (OSError, ValueError) as e:
        return None, f"alert state {path} unreadable ({e}); starting a new streak"
    if not isinstance(state, dict) or any(k not in state for k in REQUIRED_KEYS):
        return None, f"alert state {path} is not a streak record; starting a new streak"
    return state, None


def save_state(path, state):
    """Write the state atomically.

    Raises:
        OSError if the directory is not writable.
    """
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(state, f, indent=1, sort_keys=True)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def clear_state(path):
    """Forget the streak (after a success)."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
