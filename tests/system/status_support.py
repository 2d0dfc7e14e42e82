"""Helpers of the status and catalog system tests (test_status.py): a container of
their own with the package installed, and `ticketing-cron status` run inside it."""

import json
import os
import time
from pathlib import Path

from harness import TIMER, UNIT, boot_with_package, sleep_until, wait_for

CONFIG = "/etc/ticketing-cron/config.toml"
SECRET = "/etc/ticketing-cron/cron-secret"
STREAK = "/var/lib/ticketing-cron/ticketing-cron.service.json"
CATALOG = "/usr/lib/systemd/catalog/ticketing-cron.catalog"
SPEED_DROPIN = "/run/systemd/system/ticketing-cron.service.d/zz-status-speed.conf"
# Outside /tmp and /var/tmp, which the service sees privately (PrivateTmp=).
SPEED_SCRIPT = "/usr/local/lib/tc-status-speed.py"

# Writes a day's worth (1,440) of sla-check summary records from inside the unit, so
# that journald stamps them _SYSTEMD_UNIT=ticketing-cron.service like real runs.
WRITE_DAY = """\
import os, random
from systemd import journal
rng = random.Random(1440)
for i in range(1440):
    ok = i % 97 != 0
    journal.send(f"sla-check {'ok' if ok else 'unavailable'}: speed test record {i}",
                 SYSLOG_IDENTIFIER="ticketing-cron", JOB="sla-check",
                 OUTCOME="ok" if ok else "unavailable", EXIT_STATUS="0" if ok else "69",
                 DURATION_MS=str(rng.randint(40, 400)), HTTP_STATUS="200",
                 UNASSIGNED_COUNT="1", REQUEST_ID=os.urandom(16).hex(),
                 PRIORITY="6" if ok else "3")
"""


def config_text(base_url, ping_url=None):
    """sla-check on the stand-in (pinging ping_url if given) and a job without schedule."""
    ping = f'ping_url = "{ping_url}"\n' if ping_url else ""
    return (f"# Written by tests/system/test_status.py.\n[api]\nbase_url = \"{base_url}\"\n"
            f"deadline = 10\n\n[jobs.sla-check]\npath = \"/api/cron/sla-check\"\n{ping}\n"
            f"[jobs.report]\npath = \"/api/cron/report\"\n")


class StatusBox:
    """A booted container with the package installed; nothing started by the install."""

    def __init__(self, machine):
        self.machine = machine

    @classmethod
    def create(cls, workdir, base_rootfs, deb):
        # The timer must not start during the install (hold_services): the tests
        # start it at a moment of their choosing.
        machine, output = boot_with_package(base_rootfs, deb, Path(workdir) / "status",
                                            f"tc-status-{os.getpid()}", hold_services=True)
        box = cls(machine)
        box.install_output = output
        return box

    def status(self, *args):
        """(exit status, stdout, stderr) of `ticketing-cron status ARGS` as root."""
        proc = self.machine.run(["ticketing-cron", "status", *args], check=False)
        return proc.returncode, proc.stdout, proc.stderr

    def status_json(self, *args):
        rc, out, err = self.status("--json", *args)
        assert "Traceback" not in err, err
        return rc, json.loads(out)

    def job(self, name="sla-check"):
        rc, report_ = self.status_json(name)
        (job,) = report_["jobs"]
        return rc, job

    def start_timer_after_boundary(self):
        """Start the timer just after a minute boundary, so that its first tick is
        almost a minute away; returns that next boundary."""
        now = time.time()
        boundary = (int(now) // 60 + 1) * 60
        if boundary - now < 45:
            sleep_until(boundary + 0.5)
            boundary += 60
        self.machine.run(["systemctl", "start", TIMER])
        return boundary

    def start_run(self):
        """systemctl start the service (waits: oneshot); returns its exit status."""
        self.machine.run(["systemctl", "reset-failed", UNIT], check=False)
        self.machine.run(["systemctl", "start", UNIT], check=False, timeout=120)
        return int(self.machine.show(UNIT, "ExecMainStatus")["ExecMainStatus"] or 0)

    def wait_alert_handler(self, invocation):
        """Wait for the failure handler's record about the run with this invocation."""
        return wait_for(lambda: [r for r in self.machine.journal(
            "_SYSTEMD_UNIT=ticketing-cron-failure@ticketing-cron.service.service")
            if r.get("FAILED_INVOCATION_ID") == invocation], 30, "the failure handler")

    def catalog_ids(self):
        """The MESSAGE_IDs of ticketing-cron's entries in the indexed catalog."""
        out = self.machine.run(["journalctl", "--list-catalog"]).stdout
        return {line.split()[0] for line in out.splitlines() if " ticketing-cron: " in line}
