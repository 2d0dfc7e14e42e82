"""libfaketime for the CLI under test, preloaded directly rather than through
Debian's `faketime` wrapper.

The wrapper keeps a POSIX semaphore and a shared-memory segment named after its own
PID in /dev/shm, to share one fake clock among processes. A wrapper that is killed
(tests kill alert handlers on purpose, and a timed-out test kills its child) leaves
them behind, and a later wrapper that happens to get the same PID then fails with
"sem_open: File exists". Preloading the library makes no such objects: each process
keeps a fake clock of its own, which is all these tests need.
"""

import glob


def libfaketime():
    """The path of Debian's libfaketime.so.1 (package faketime/libfaketime)."""
    found = sorted(glob.glob("/usr/lib/*/faketime/libfaketime.so.1"))
    assert found, "libfaketime is missing: apt-get install faketime"
    return found[0]


def faketime_env(moment, speed=None):
    """Environment variables that start a process's clock at ``moment``.

    Args:
        moment: "YYYY-MM-DD HH:MM:SS" in the process's time zone (TZ).
        speed: run the clock this many times faster than the real one, if given.
    Returns:
        dict of LD_PRELOAD and FAKETIME, as `faketime -f "@MOMENT xSPEED"` sets them.
    """
    spec = f"@{moment}" + (f" x{speed}" if speed else "")
    return {"LD_PRELOAD": libfaketime(), "FAKETIME": spec}
