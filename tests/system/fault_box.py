"""Helpers of the fault system tests of the clock and the app (test_faults_clock.py,
test_faults_app.py) and of the soak (dev/soak): a container of their own with the
package, postfix delivering alerts to a local user, libfaketime, the stand-in API
(its behaviour scripted per slot) and a loopback webhook receiver.

The evidence the tests judge by is independent of the product's own words: the
stand-in's record of every call (its path, Idempotency-Key, X-Cron-Scheduled-At and
what it answered), what the mail and webhook sinks received, the streak file and
`systemctl`.

A fake clock for the runs and the handlers (never the machine's: the container shares
it): drop-ins preload libfaketime into ticketing-cron.service, every job's
ticketing-cron@.service and the alert handlers, reading the time they start at from
FAKE_CLOCK_FILE, which each step rewrites. libfaketime offsets CLOCK_MONOTONIC by as
much (its FAKETIME_DONT_FAKE_MONOTONIC=1 makes Python's subprocess.run(timeout=...)
fail with EINVAL now and then); since the file changes only between processes, each
process still sees a monotonic clock that never jumps, as under a real NTP step.
"""

import datetime
import json
import os
import time
from pathlib import Path

from alert_support import (HOOK_PATH, MAIL_ADDRESS, MAIL_USER, AlertBox, Hook,
                           postfix_answers)
from harness import (FAILURE_UNIT, RECOVERY_UNIT, TIMER, UNIT, boot_with_package, report,
                     wait_for)

CONFIG = "/etc/ticketing-cron/config.toml"
SECRET = "/etc/ticketing-cron/cron-secret"
FAKE_CLOCK_FILE = "/etc/ticketing-cron-test/faketime"
LIBFAKETIME = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"
FAKE_CLOCK_DROPINS = ("/run/systemd/system/ticketing-cron.service.d",
                      "/run/systemd/system/ticketing-cron@.service.d",
                      "/run/systemd/system/ticketing-cron-.service.d")
# The tools the product starts keep the real clock: systemctl under libfaketime fails
# now and then with EINVAL (sd-bus), and what they do does not depend on the time.
SKIP_CMDS = "systemctl,sendmail,postdrop,journalctl"
HELD_TIMER = "/run/systemd/system/ticketing-cron.timer.d/zz-held.conf"
# Seconds of uptime beyond a fake clock's offset (see FaultBox.set_offset).
UPTIME_MARGIN_S = 60

__all__ = ["FaultBox", "Hook", "HOOK_PATH", "MAIL_ADDRESS", "config_text", "iso_slot",
           "slot_of", "FAILURE_UNIT", "RECOVERY_UNIT", "TIMER", "UNIT"]


def config_text(base_url, webhook_url, repeat_interval="1h", deadline=10, jobs=""):
    """config.toml: the stand-in, alerts by mail to the local user and to the webhook."""
    return (f"# Written by the fault tests.\n[api]\nbase_url = \"{base_url}\"\n"
            f"deadline = {deadline}\n\n[jobs.sla-check]\npath = \"/api/cron/sla-check\"\n\n"
            f"{jobs}[alerts]\nemail_to = [\"{MAIL_ADDRESS}\"]\n"
            f"webhook_url = \"{webhook_url}\"\nalert_after = 1\n"
            f"repeat_interval = \"{repeat_interval}\"\n")


def iso_slot(epoch):
    """X-Cron-Scheduled-At's form of a minute (epoch seconds)."""
    return datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc) \
        .strftime("%Y-%m-%dT%H:%M:%SZ")


def slot_of(call):
    """(job, kind, slot) of a stand-in call, read from its Idempotency-Key:
    kind "scheduled", "catchup", "manual" or "unscheduled"."""
    key = (call.get("idempotency_key") or "").strip('"')
    job, _, rest = key.partition(":")
    kind, _, tail = rest.partition(":")
    if kind in ("catchup", "manual", "unscheduled"):
        return job, kind, tail
    return job, "scheduled", rest


class FaultBox(AlertBox):
    """An AlertBox (postfix, the local user "ops") with libfaketime installed, the
    secret and a config for the stand-in in place."""

    @classmethod
    def create(cls, workdir, base_rootfs, deb, name, api, hook, secret, config):
        machine, _ = boot_with_package(base_rootfs, deb, Path(workdir) / name,
                                       f"tc-{name}-{os.getpid()}",
                                       extra_packages=["postfix", "libfaketime"],
                                       prepare=postfix_answers, hold_services=True)
        box = cls(machine)
        box.api, box.hook = api, hook
        try:
            m = machine
            m.run(["postconf", "-e", "master_service_disable = inet"])
            m.run(["systemctl", "start", "postfix.service"])
            m.run(["useradd", "--create-home", MAIL_USER])
            box.install_secret(secret)
            box.configure(config)
        except BaseException:
            machine.discard()
            raise
        return box

    # -- the journal, whose clock the tests step (fake_journald)

    def cursor(self):
        """A mark in the journal: now, on the monotonic clock, which no step changes
        (journald stamps every record with it too; the container shares the host's)."""
        return time.monotonic()

    def records_since(self, mark, *matches):
        """Records of this boot written at or after the mark, with the given matches."""
        records = self.machine.journal("-b", *matches)
        return [r for r in records if int(r["__MONOTONIC_TIMESTAMP"]) >= mark * 1e6]

    # -- the app's behaviour

    def script(self, by_slot, **default):
        """Make the stand-in answer calls for each slot (epoch or ISO text) as given
        (e.g. {"status": 503} or {"delay_ms": 15000}), every other call as
        ``default`` says (nothing: do the work)."""
        script = {(k if isinstance(k, str) else iso_slot(k)): v for k, v in by_slot.items()}
        control = {"hang": False, "status": None, "delay_ms": 0, **default, "script": script}
        self.api._request("POST", "/_standin/control", control)

    # -- the fake clock

    def fake_clock(self):
        """Preload libfaketime into the runs and the handlers (see the module's
        docstring); set_clock() says what time they start at."""
        self.set_clock(time.time())
        conf = ("[Service]\n"
                f"Environment=LD_PRELOAD={LIBFAKETIME}\n"
                f"Environment=FAKETIME_TIMESTAMP_FILE={FAKE_CLOCK_FILE}\n"
                "Environment=FAKETIME_NO_CACHE=1\n"
                f"Environment=FAKETIME_SKIP_CMDS={SKIP_CMDS}\n")
        for directory in FAKE_CLOCK_DROPINS:
            self.machine.write(f"{directory}/zz-fake-clock.conf", conf)
        self.machine.run(["systemctl", "daemon-reload"])

    def set_clock(self, epoch):
        """Processes started from now on begin at ``epoch`` (whole seconds, UTC)."""
        moment = datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc)
        self.machine.write(FAKE_CLOCK_FILE, moment.strftime("@%Y-%m-%d %H:%M:%S\n"))

    def set_offset(self, seconds):
        """From now on the faked processes (journald too, after fake_journald()) run
        ``seconds`` (whole) ahead of the real clock, or behind it: a step of the clock."""
        self.machine.write(FAKE_CLOCK_FILE, f"{int(seconds):+d}\n")

    def step_to(self, epoch):
        """Step the faked clocks so that they read ``epoch`` now (set_offset).

        libfaketime 0.9.10 takes its offset off every absolute timerfd expiry, those on
        CLOCK_MONOTONIC too, whatever FAKETIME_DONT_FAKE_MONOTONIC says; once the offset
        exceeds the kernel's uptime the expiry is negative and journald's event loop
        ends with EINVAL. So on a machine booted less than that ago, wait first (the
        offset is taken after the wait: the clocks still read ``epoch``)."""
        def short_enough():
            return epoch - time.time() + UPTIME_MARGIN_S < uptime()
        if not short_enough():
            waited = time.monotonic()
            wait_for(short_enough, epoch - time.time() + UPTIME_MARGIN_S, "the kernel's "
                     f"uptime to pass the fake clock's offset by {UPTIME_MARGIN_S} s")
            report(f"fake clock: waited {time.monotonic() - waited:.0f} s for the uptime to "
                   f"pass the offset (libfaketime and timerfd)")
        self.set_offset(epoch - int(time.time()))

    def fake_journald(self):
        """journald's clock follows FAKE_CLOCK_FILE too (only CLOCK_REALTIME: its event
        loop's timers run on the monotonic clock), so that its records are stamped with
        the stepped time, as on a machine whose clock NTP steps."""
        self.machine.write("/run/systemd/system/systemd-journald.service.d/zz-fake-clock.conf",
                           "[Service]\n"
                           f"Environment=LD_PRELOAD={LIBFAKETIME}\n"
                           f"Environment=FAKETIME_TIMESTAMP_FILE={FAKE_CLOCK_FILE}\n"
                           "Environment=FAKETIME_NO_CACHE=1 FAKETIME_DONT_FAKE_MONOTONIC=1\n")
        self.machine.run(["systemctl", "daemon-reload"])
        self.machine.run(["systemctl", "restart", "systemd-journald.service"])

    def hold_timer(self):
        """Keep ticketing-cron.timer active (so that `status` judges the runs, not a
        stopped timer) but never elapsing: the test starts every run itself."""
        self.machine.write(HELD_TIMER, "[Timer]\nOnCalendar=\nOnCalendar=2099-01-01\n"
                                       "Persistent=false\n")
        self.machine.run(["systemctl", "daemon-reload"])
        self.machine.run(["systemctl", "restart", TIMER])

    # -- runs and what they left

    def run_at(self, epoch, expect_ok):
        """One run of the SLA check whose clock starts at ``epoch``, as its timer
        would start it; waits for its handlers (Run from alert_support)."""
        self.set_clock(epoch)
        return self.good_run() if expect_ok else self.failed_run()

    def status_json(self, epoch=None, offset=None):
        """`ticketing-cron status --json` as root, its clock at ``epoch`` or ``offset``
        seconds from the real one if given: (exit status, the report's sla-check entry)."""
        spec = None
        if epoch is not None:
            spec = datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc) \
                .strftime("@%Y-%m-%d %H:%M:%S")
        elif offset is not None:
            spec = f"{int(offset):+d}"
        env = [] if spec is None else ["env", f"LD_PRELOAD={LIBFAKETIME}",
                                       f"FAKETIME_SKIP_CMDS={SKIP_CMDS}", f"FAKETIME={spec}"]
        proc = self.machine.run([*env, "ticketing-cron", "status", "--json", "sla-check"],
                                check=False)
        report = json.loads(proc.stdout)
        job = report["jobs"][0]
        if "error" in report:
            job["error"] = f"{report['error']} (stderr: {proc.stderr.strip()})"
        return proc.returncode, job

    def calls(self):
        """The stand-in's calls to the API with the right secret, oldest first."""
        return [c for c in self.api.calls() if c["secret_ok"]]

    def alerts(self):
        """(the webhook's (alert, job) pairs, the mail subjects), oldest first."""
        posts = [(p.get("alert"), p.get("job")) for p in self.hook.posts()]
        return posts, [" ".join(str(m["Subject"]).split()) for m in self.mails()]

    def failed_units(self):
        return self.machine.run(["systemctl", "--failed", "--no-legend", "--plain"]) \
            .stdout.split()


def wait_handlers_idle(machine, timeout=60):
    """Wait until no alert handler is starting or running."""
    def idle():
        out = machine.run(["systemctl", "list-units", "--no-legend", "--plain",
                           "--state=activating,deactivating", "ticketing-cron*"],
                          check=False).stdout
        return not out.strip()
    wait_for(idle, timeout, "the alert handlers to finish", interval=0.2)


def uptime():
    """Seconds since the kernel booted (the containers share it): /proc/uptime."""
    return float(Path("/proc/uptime").read_text().split()[0])
