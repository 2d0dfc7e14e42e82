"""Helpers of the schedule system tests (test_schedules.py): a container of their own
with the package, and a loopback API that answers every job's path.

The container shares the host's network, so its runs reach the API on the host's
127.0.0.1.
"""

import os
import time
from pathlib import Path

from harness import boot_with_package, wait_for
from support import LoopbackServer, ok_reply, send

CONFIG = "/etc/ticketing-cron/config.toml"
SECRET = "/etc/ticketing-cron/cron-secret"
GENERATED = "/run/systemd/generator"
TIMER_STAMPS = "/var/lib/systemd/timers"


class JobsApi:
    """A loopback API: 200 and success for every job's path, unless told to refuse one
    with 401 (the secret is checked, as the app does)."""

    def __init__(self, secret):
        self.secret = secret
        self.refuse = set()
        self.server = LoopbackServer(self._respond)
        self.url = self.server.url

    def _respond(self, handler, request):
        if request.headers.get("x-cron-secret") != self.secret or request.path in self.refuse:
            send(handler, 401, {"error": "Unauthorized"})
        else:
            ok_reply(0)(handler, request)

    def calls(self, path):
        """When (host time.time()) each request to ``path`` arrived."""
        offset = time.time() - time.monotonic()
        return [r.at + offset for r in self.server.received if r.path == path]

    def close(self):
        self.server.close()


def config_text(base_url, jobs):
    """A config.toml for the loopback API with sla-check and ``jobs`` (TOML text)."""
    return (f"# Written by tests/system/test_schedules.py.\n[api]\nbase_url = \"{base_url}\"\n"
            f"deadline = 20\n\n[jobs.sla-check]\npath = \"/api/cron/sla-check\"\n\n{jobs}")


class JobsBox:
    """A booted container with the package installed and configured."""

    def __init__(self, machine):
        self.machine = machine

    @classmethod
    def create(cls, workdir, base_rootfs, deb, api, secret):
        machine, _ = boot_with_package(base_rootfs, deb, Path(workdir) / "schedules",
                                       f"tc-jobs-{os.getpid()}")
        box = cls(machine)
        try:
            box.configure(api.url, "")
            machine.run(["install", "-m", "0600", "/dev/stdin", SECRET], input=secret + "\n")
        except BaseException:
            machine.discard()
            raise
        return box

    def configure(self, base_url, jobs):
        self.machine.write(CONFIG, config_text(base_url, jobs))

    def reload(self):
        """What the administrator runs after editing the config (docs/jobs-and-schedules.md):
        daemon-reload, then start timers.target so that new timers start too."""
        self.machine.run(["systemctl", "daemon-reload"])
        self.machine.run(["systemctl", "start", "timers.target"])

    def state(self, unit):
        return self.machine.show(unit, "LoadState", "ActiveState", "UnitFileState")

    def summaries(self, job):
        """The summary records of ``job`` (any unit), oldest first."""
        return [r for r in self.machine.journal("-t", "ticketing-cron", f"JOB={job}")
                if "OUTCOME" in r]

    def wait_summary(self, job, after, timeout=30):
        """The first summary record of ``job`` written after host time ``after``."""
        def find():
            found = [r for r in self.summaries(job)
                     if int(r["__REALTIME_TIMESTAMP"]) / 1e6 > after]
            return found[0] if found else None
        return wait_for(find, timeout, f"a summary record of {job}")

    def read(self, path):
        """A file's text, read inside the container (/run is the container's own)."""
        return self.machine.run(["cat", path]).stdout

    def exists(self, path, test="-e"):
        return self.machine.run(["test", test, path], check=False).returncode == 0

    def provide_kmsg(self):
        """systemd-nspawn gives the container no kernel log: stand one in, a plain file
        at /dev/kmsg, which the generator appends to as it would to the real one."""
        self.machine.run(["touch", "/dev/kmsg"])

    def kmsg(self):
        return self.machine.run(["cat", "/dev/kmsg"], timeout=10).stdout

    def failed_units(self):
        return self.machine.run(["systemctl", "list-units", "--failed", "--all", "--plain",
                                 "--no-legend"]).stdout
