"""Helpers of the fault system tests (test_faults_*.py): a webhook that holds a request
until told to answer, a power cut, a small file system mounted over a directory and
filled, and the independent evidence (the state files, `systemctl --failed`).

The faults are made inside the container (its own mount table and journald), never on
the host: the host's clock, disks and journal are shared with everyone else.
"""

import json
import os
import signal
import threading
from pathlib import Path

from alert_support import Hook
from harness import own_cgroups, remove_cgroups, wait_for
from support import send
from ticketing_cron.alerts.state import load_state

STATE_DIR = "/var/lib/ticketing-cron"
HOLD_S = 120   # the longest a held request waits for release() (the test's own bound)


class HoldingHook(Hook):
    """A webhook receiver that, once hold() is called, keeps every request without an
    answer until release(): an alert handler is then stopped in mid-delivery, after
    it saved its state, for as long as the test wants."""

    def __init__(self):
        self._hold = threading.Event()
        self._release = threading.Event()
        super().__init__()

    def _respond(self, handler, request):
        if self._hold.is_set():
            self._release.wait(HOLD_S)
        try:
            send(handler, self.status, {"ok": self.status < 300})
        except OSError:
            pass  # the sender is gone (the container was killed): what the test wanted

    def hold(self):
        self._release.clear()
        self._hold.set()

    def release(self):
        self._hold.clear()
        self._release.set()

    def alerts(self, job):
        """The "alert" field of every post about ``job``, oldest first."""
        return [p["alert"] for p in self.posts() if p.get("job") == job]

    def close(self):
        self.release()
        super().close()


def power_cut(machine):
    """Kill the container as a power cut would: SIGKILL to its init (the kernel then
    kills every process in its PID namespace; nothing is stopped, flushed or
    unmounted by anyone in it). The page cache survives, as the host's kernel does:
    what a real power cut also loses there is covered by fsync (alerts.state)."""
    os.kill(machine.pid, signal.SIGKILL)
    machine.proc.wait(60)
    machine.proc = machine.pid = None
    remove_cgroups(own_cgroups(machine.name))


def state_files(machine, scratch):
    """{name: (state, problem)} for every file in the state directory, as the container
    sees it (through its own mounts): load_state's verdict for *.json, copied to the
    host directory ``scratch``; (None, None) for the other names."""
    names = machine.run(["find", STATE_DIR, "-mindepth", "1", "-maxdepth", "1", "-printf",
                         "%f\n"], check=False).stdout.split()
    found = {}
    for name in sorted(names):
        found[name] = (None, None)
        if name.endswith(".json"):
            copy = Path(scratch) / name
            copy.write_bytes(machine.run(["cat", f"{STATE_DIR}/{name}"], input=b"").stdout)
            found[name] = load_state(str(copy))
    return found


def failed_units(machine):
    """The names `systemctl --failed` lists."""
    out = machine.run(["systemctl", "--failed", "--no-legend", "--plain"]).stdout
    return sorted(line.split()[0] for line in out.splitlines() if line.strip())


def mount_small(machine, directory, size, mode="0755"):
    """Mount a tmpfs of ``size`` (e.g. "64k") over ``directory`` inside the container:
    units started afterwards see it in their own mount namespaces."""
    machine.run(["mkdir", "-p", directory])
    machine.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode={mode}", "tmpfs",
                 directory])


def fill(machine, directory):
    """Fill the file system of ``directory`` with one file, FILLER; returns its path."""
    filler = f"{directory}/FILLER"
    machine.run(["sh", "-c", f"dd if=/dev/zero of={filler} bs=4k 2>/dev/null; true"])
    left = machine.run(["stat", "-f", "-c", "%a", directory]).stdout.strip()
    assert left == "0", f"{directory} still has {left} free blocks"
    return filler


def wait_posts(hook, job, count, timeout=60):
    """Wait until the hook has received ``count`` posts about ``job``; returns them."""
    def about():
        return [p["alert"] for p in hook.posts() if p.get("job") == job]
    return wait_for(lambda: len(about()) >= count and about(), timeout,
                    f"{count} webhook posts about {job}")


def mails_about(box, job):
    """The subjects of the mails about ``job``."""
    return [" ".join(str(m["Subject"]).split()) for m in box.mails()
            if f": {job} on " in str(m["Subject"])]


def json_lines(text):
    return [json.loads(line) for line in text.splitlines() if line.strip()]


