"""Helpers of the alert system tests (test_alerts.py): a container of their own with
the package and a real local MTA, a loopback webhook receiver, and ways to wait for
the alert handlers of one run to finish.

The container shares the host's network, so the handlers inside it reach the
receiver on the host's 127.0.0.1.
"""

import email.policy
import json
import mailbox
import os
import socket
import time
from pathlib import Path

from harness import FAILURE_UNIT, RECOVERY_UNIT, TIMER, UNIT, boot_with_package, wait_for
from support import LoopbackServer, send

CONFIG = "/etc/ticketing-cron/config.toml"
SECRET = "/etc/ticketing-cron/cron-secret"
STREAK = "/var/lib/ticketing-cron/ticketing-cron.service.json"
# A local user whose mail postfix delivers to the mbox /var/mail/ops. The config
# wants a dotted domain; "localhost.localdomain" is in Debian's postfix mydestination.
MAIL_USER = "ops"
MAIL_ADDRESS = f"{MAIL_USER}@localhost.localdomain"
MAILBOX = f"/var/mail/{MAIL_USER}"
HOOK_PATH = "/hooks/ticketing"


# --------------------------------------------------------------------- webhook


class Hook:
    """A loopback webhook receiver that answers `status` (200 unless told otherwise)."""

    def __init__(self):
        self.status = 200
        self.server = LoopbackServer(self._respond)
        self.url = f"{self.server.url}{HOOK_PATH}"

    def _respond(self, handler, request):
        send(handler, self.status, {"ok": self.status < 300})

    def posts(self):
        """The JSON bodies received so far, oldest first (each a dict)."""
        return [json.loads(r.body) for r in self.server.received]

    def raw(self):
        """Everything received: paths, headers and bodies, as bytes."""
        return b"".join(r.path.encode() + json.dumps(r.headers).encode() + r.body
                        for r in self.server.received)

    def close(self):
        self.server.close()


def closed_port_url():
    """An http URL on the host's loopback where nothing listens (the port was just
    handed out by the kernel and closed again)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}{HOOK_PATH}"


# ------------------------------------------------------------------- container


def postfix_answers(machine):
    """debconf answers for a local-only postfix, given before it is installed."""
    host = machine.run(["hostname"]).stdout.strip()
    machine.run(["debconf-set-selections"],
                input=f"postfix postfix/main_mailer_type select Local only\n"
                      f"postfix postfix/mailname string {host}\n")


def config_text(base_url, webhook_url, repeat_interval, alert_after=1):
    """A complete config.toml: the stand-in API, email to the local user, a webhook."""
    return (f"# Written by tests/system/test_alerts.py.\n[api]\nbase_url = \"{base_url}\"\n"
            "deadline = 10\n\n[jobs.sla-check]\npath = \"/api/cron/sla-check\"\n\n"
            f"[alerts]\nemail_to = [\"{MAIL_ADDRESS}\"]\nwebhook_url = \"{webhook_url}\"\n"
            f"alert_after = {alert_after}\nrepeat_interval = \"{repeat_interval}\"\n")


class AlertBox:
    """A booted container with the package, postfix (local delivery only) and a
    local user to receive alerts. Runs are started by hand; the timer is disabled."""

    def __init__(self, machine):
        self.machine = machine

    @classmethod
    def create(cls, workdir, base_rootfs, deb, name="alerts", more_packages=()):
        """Copy the base tree, boot it, install the package and postfix (``name``:
        the container's directory under workdir; ``more_packages``: installed too)."""
        # Nothing starts during the install (hold_services): postfix would listen on
        # port 25 of the host's loopback, which the container shares and another MTA
        # may hold; and the timer is issue 3's business.
        machine, _ = boot_with_package(base_rootfs, deb, Path(workdir) / name,
                                       f"tc-{name}-{os.getpid()}",
                                       extra_packages=["postfix", *more_packages],
                                       prepare=postfix_answers, hold_services=True)
        box = cls(machine)
        try:
            box._set_up_mail()
        except BaseException:
            machine.discard()
            raise
        return box

    def _set_up_mail(self):
        m = self.machine
        # Local delivery only, no SMTP listener.
        m.run(["postconf", "-e", "master_service_disable = inet"])
        m.run(["systemctl", "start", "postfix.service"])
        m.run(["useradd", "--create-home", MAIL_USER])
        # Only `systemctl start` runs the job here, so no tick comes in between.
        m.run(["systemctl", "disable", "--now", TIMER])

    # -- set-up

    def configure(self, text):
        self.machine.write(CONFIG, text)
        check = self.machine.run(["ticketing-cron", "check"], check=False)
        assert f"config {CONFIG}: ok" in check.stdout, \
            f"ticketing-cron check:\n{check.stdout}{check.stderr}"

    def fresh_streak(self):
        """Forget any failure streak (as a run that succeeded would), so that a test
        does not depend on how the one before it ended."""
        self.machine.run(["rm", "-f", STREAK])

    def install_secret(self, value):
        self.machine.run(["install", "-m", "0600", "/dev/stdin", SECRET], input=value + "\n")

    # -- the journal

    def cursor(self):
        """A mark in the journal: now. (The container shares the host's clock; and
        journalctl 252 finds nothing with --after-cursor plus matches, so the marks
        are times.)"""
        return time.time()

    def records_since(self, mark, *matches):
        """Records written at or after the mark, with the given matches."""
        records = self.machine.journal(f"--since=@{mark:.6f}", *matches)
        return [r for r in records if int(r["__REALTIME_TIMESTAMP"]) >= mark * 1e6]

    def job_done(self, unit, cursor, timeout=60):
        """Wait for systemd's record that a start job of `unit` after `cursor` ended
        (done, failed or skipped by a condition); returns that record."""
        def find():
            done = [r for r in self.records_since(cursor, f"UNIT={unit}", "_PID=1")
                    if r.get("JOB_TYPE") == "start" and r.get("JOB_RESULT")]
            return done[-1] if done else None
        return wait_for(find, timeout, f"the start job of {unit} to end")

    def handler_records(self, unit, cursor):
        """What the handler's own process logged after `cursor`. journald takes in
        the records of different processes in no set order: --sync makes it take in
        all that reached it so far (the handler has ended by the time this is called)."""
        self.machine.run(["journalctl", "--sync"])
        return self.records_since(cursor, f"_SYSTEMD_UNIT={unit}")

    # -- runs

    def settle(self, timeout=20):
        """Wait until the cgroups of the last run and its handlers are gone. systemd 252
        in a container removes them a little after the unit went inactive; a start in
        that moment fails with 219/CGROUP ("Failed to attach to cgroup")."""
        def gone():
            out = self.machine.run(["find", "/sys/fs/cgroup/system.slice", "-name",
                                    "ticketing-cron*.service"], check=False).stdout
            return not out.strip()
        wait_for(gone, timeout, "the cgroups of the last run to be removed", interval=0.1)

    def start(self):
        self.settle()
        # The tests start the service many times in a few seconds, more than the
        # default start rate limit (5 in 10 s) allows; reset-failed resets its count.
        self.machine.run(["systemctl", "reset-failed", UNIT, FAILURE_UNIT, RECOVERY_UNIT],
                         check=False)
        return self.machine.start_service()

    def failed_run(self):
        """systemctl start the service, expect it to fail, wait for the failure handler
        to end and the mail queue to drain. Returns a Run."""
        cursor = self.cursor()
        rc, service = self.start()
        assert rc != 0 and service["ActiveState"] == "failed", service
        job = self.job_done(FAILURE_UNIT, cursor)
        self.wait_mail_queue()
        wait_for(lambda: [r for r in self.handler_records(FAILURE_UNIT, cursor)
                          if r.get("FAILED_INVOCATION_ID") == service["InvocationID"]],
                 20, "the failure handler's record about the run")
        records = self.handler_records(FAILURE_UNIT, cursor)
        about = [r for r in records if r.get("FAILED_INVOCATION_ID") == service["InvocationID"]]
        assert len(about) == 1, f"the failure handler wrote {len(about)} records about the " \
                                f"run:\n" + "\n".join(r["MESSAGE"] for r in records)
        return Run(service, self.machine.summary_for(service["InvocationID"]), about[0],
                   records, job, self.machine.show(FAILURE_UNIT, "Result", "ExecMainStatus"))

    def good_run(self):
        """systemctl start the service, expect success, wait for the recovery unit's
        start job to end (run or skipped) and the mail queue to drain. Returns a Run
        (whose service is None: systemd forgets an inactive unit that nothing refers
        to once the timer is disabled, so the run is known from its journal record)."""
        cursor = self.cursor()
        rc, _ = self.start()
        assert rc == 0, "the good run failed"
        job = self.job_done(RECOVERY_UNIT, cursor)
        self.wait_mail_queue()
        summaries = wait_for(lambda: [r for r in self.records_since(cursor, f"_SYSTEMD_UNIT={UNIT}")
                                      if "OUTCOME" in r], 10, "the good run's summary record")
        assert len(summaries) == 1, f"one run wrote {len(summaries)} summary records"
        records = self.handler_records(RECOVERY_UNIT, cursor)
        notices = [r for r in records if r.get("ALERT")]
        assert len(notices) <= 1, f"one good run sent {len(notices)} recovery notices"
        return Run(None, summaries[0], notices[0] if notices else None, records, job,
                   self.machine.show(RECOVERY_UNIT, "Result", "ExecMainStatus"))

    # -- mail

    def wait_mail_queue(self, timeout=60):
        """Wait until postfix has delivered everything handed to it."""
        def empty():
            out = self.machine.run(["postqueue", "-p"], check=False).stdout
            return "Mail queue is empty" in out
        wait_for(empty, timeout, "postfix to deliver its queue")

    def mails(self):
        """The messages in the local user's mbox, oldest first (email.message objects)."""
        path = self.machine.path(MAILBOX)
        if not path.exists():
            return []
        box = mailbox.mbox(path, factory=None, create=False)
        try:
            return [email.message_from_bytes(box.get_bytes(key), policy=email.policy.default)
                    for key in box.keys()]
        finally:
            box.close()

    def mailbox_bytes(self):
        path = self.machine.path(MAILBOX)
        return path.read_bytes() if path.exists() else b""

    # -- state

    def streak(self):
        """The failure streak on disk, or None."""
        path = self.machine.path(STREAK)
        return json.loads(path.read_text()) if path.exists() else None


class Run:
    """One run of the service and what its handler did."""

    def __init__(self, service, summary, alert, handler_records, job, handler_unit):
        self.service = service
        self.summary = summary
        self.alert = alert                      # the handler's record about this run
        self.handler_records = handler_records  # all the handler's own records
        self.job = job                          # systemd's record of the handler's job
        self.handler_unit = handler_unit        # Result, ExecMainStatus of the handler


def subject(message):
    return " ".join(str(message["Subject"]).split())


def body(message):
    return message.get_content()
