"""The upgrade every installation takes: 0.1.0, built from this repository's own history,
installed, configured and ticking, then the package under test installed over it with
`apt-get install ./...deb`, no terminal and no answers, at chosen seconds of the minute.

Three machines side by side share the minutes (each with its own stand-in, so each has
its own record of slots): they are upgraded in the same minute, at :20, at :45 and half
a second before the next boundary, when the timer is about to fire. Each is ticking with
sla-check in a failing streak (its stand-in answers 500, which is not retried) and a
second job that fails all along. The first machine keeps its secret in the plain file
with config.toml edited by hand; the others went through 0.1.0's `import-env --encrypt`
(the credential encrypted with the host key and the two drop-ins it installs).

0.1.0 shipped /etc/ticketing-cron/config.toml as a conffile; this release does not.
Each upgrade must not stop at dpkg's conffile prompt, must keep the config, the secrets
and the drop-ins byte for byte and every job's timer active; the stand-ins' records must
show every minute called once across it; the streak must be neither alerted again nor
lost: the stand-in answers again after the upgrade and the recovery notice comes once.
"""

import os
import time

import pytest

from harness import (TIMER, Background, boot_with_package, next_boundary, own_standin,
                     report, sleep_until, wait_for)
from release_support import PREVIOUS_RELEASE, build_previous_release

pytestmark = pytest.mark.system

CONFIG = "/etc/ticketing-cron/config.toml"
SECRET = "/etc/ticketing-cron/cron-secret"
CRED = "/etc/ticketing-cron/cron-secret.cred"
DROPINS = ("/etc/systemd/system/ticketing-cron.service.d/encrypted-secret.conf",
           "/etc/systemd/system/ticketing-cron@.service.d/encrypted-secret.conf")
ENV = "/root/old-app.env"
SECOND = "ticketing-cron@second.timer"
SECOND_JOB = '\n[jobs.second]\npath = "/api/cron/not-there"\nschedule = "* * * * *"\n'
# (name, second of the minute the upgrade starts at, encrypted secret)
UPGRADES = (("at-20", 20.0, False), ("at-45", 45.0, True), ("last-second", 59.5, True))


class Box:
    """One machine with 0.1.0 ticking against its own stand-in."""

    def __init__(self, workdir, base_rootfs, previous, secret, name, encrypted):
        self.name, self.encrypted = name, encrypted
        self.api = own_standin(workdir, f"release-{name}-standin", secret)
        self.machine = None
        try:
            self.machine, _ = boot_with_package(base_rootfs, previous,
                                                workdir / f"release-{name}",
                                                f"tc-rel-{name}-{os.getpid()}")
            self._configure(secret)
        except BaseException:
            self.discard()
            raise

    def _configure(self, secret):
        m = self.machine
        if self.encrypted:
            m.write(ENV, f"API_BASE_URL={self.api.url}\nCRON_SECRET={secret}\n", mode="0600")
            m.run(["ticketing-cron", "import-env", "--encrypt", ENV])
            m.write(CONFIG, m.path(CONFIG).read_text() + SECOND_JOB)
        else:
            shipped = m.path(CONFIG).read_text()
            assert 'base_url = "https://tickets.example.com"' in shipped
            m.write(SECRET, secret + "\n", mode="0600")
            m.write(CONFIG, shipped.replace('base_url = "https://tickets.example.com"',
                                            f'base_url = "{self.api.url}"  # edited') +
                    SECOND_JOB)
        m.run(["ticketing-cron", "check"])
        m.run(["systemctl", "daemon-reload"])
        m.run(["systemctl", "start", "timers.target"])  # 0.1.0's documented step
        self.kept = self.snapshot()
        self.ready = time.time()  # calls before this one are the setup's, not ticks

    def snapshot(self):
        """{path: bytes} of the administrator's files (None where one is absent)."""
        paths = (CONFIG, SECRET, CRED, *DROPINS)
        return {p: self.machine.path(p).read_bytes() if self.machine.path(p).exists()
                else None for p in paths}

    def upgrade(self, deb_inside, at):
        """apt-get install the new .deb at unix time ``at``; then the app answers again.
        Returns (started, seconds taken, apt's CompletedProcess)."""
        sleep_until(at)
        started = time.time()
        proc = self.machine.run(["apt-get", "install", "-y", "-q", "--no-install-recommends",
                                 deb_inside], input="", check=False, timeout=600)
        took = time.time() - started
        self.api.control(status=None)
        return started, took, proc

    def alerts(self, job):
        return [r for r in self.machine.journal("-t", "ticketing-cron")
                if r.get("ALERT") and r.get("JOB") == job]

    def discard(self):
        if self.machine:
            self.machine.discard()
        self.api.stop()


@pytest.fixture(scope="module")
def fleet(workdir, base_rootfs, secret):
    """The three machines, booted and configured side by side, sla-check failing."""
    previous = build_previous_release()
    jobs = [Background(Box, workdir, base_rootfs, previous, secret, name, encrypted)
            for name, _, encrypted in UPGRADES]
    boxes, errors = [], []
    for job in jobs:
        try:
            boxes.append(job.result())
        except BaseException as e:  # noqa: BLE001 - the others are discarded first
            errors.append(e)
    if errors:
        for box in boxes:
            box.discard()
        raise errors[0]
    for box in boxes:
        box.api.control(status=500)
    yield boxes
    for box in boxes:
        box.discard()


@pytest.fixture(scope="module")
def upgraded(fleet, deb):
    """Every box upgraded at its second of one minute, then two more ticks.
    Returns ({name: (started, took, apt's result, timer restarted at)}, the minute)."""
    for box in fleet:
        assert box.machine.run(["ticketing-cron", "--version"]).stdout.split()[1] == \
            PREVIOUS_RELEASE[0]
    inside = {box.name: box.machine.stage(deb) for box in fleet}
    # The streak under way first: a tick of the old version failed and was alerted.
    for box in fleet:
        wait_for(lambda b=box: [r for r in b.alerts("sla-check") if r["ALERT"] == "failure"],
                 150, f"sla-check's failure alert on {box.name}")
    minute = next_boundary(time.time() + 10)
    jobs = [Background(box.upgrade, inside[box.name], minute + second)
            for box, (_, second, _) in zip(fleet, UPGRADES)]
    results = {}
    for box, job in zip(fleet, jobs):
        started, took, proc = job.result(timeout=900)
        # The container shares the host's monotonic clock: when postinst restarted the timer.
        entered = int(box.machine.show(TIMER, "ActiveEnterTimestampMonotonic")
                      ["ActiveEnterTimestampMonotonic"] or 0) / 1e6
        restarted = time.time() - (time.monotonic() - entered)
        results[box.name] = (started, took, proc, restarted)
        report(f"upgrade 0.1.0 -> new on {box.name}: started {started - minute:+.2f} s from "
               f"the minute's start, took {took:.1f} s, timer restarted at "
               f"{restarted - minute:+.2f} s")
    # The last box's streak ends at the tick after the one its upgrade straddled.
    sleep_until(minute + 120 + 15)
    for box in fleet:
        wait_for(lambda b=box: [r for r in b.alerts("sla-check")
                                if r["ALERT"] == "recovery"], 60,
                 f"the recovery notice on {box.name}")
    return results, minute


def test_each_upgrade_ran_unattended_at_its_second(fleet, upgraded):
    results, minute = upgraded
    for box, (name, second, _) in zip(fleet, UPGRADES):
        started, _, proc, _ = results[name]
        assert minute + second - 0.1 <= started <= minute + second + 2, (name, started)
        out = proc.stdout + proc.stderr
        assert proc.returncode == 0, out
        assert "conffile" not in out.lower()
        m = box.machine
        assert m.run(["dpkg-query", "-W", "-f=${Status}", "ticketing-cron"]).stdout == \
            "install ok installed"
        assert m.run(["ticketing-cron", "--version"]).stdout.split()[1] != PREVIOUS_RELEASE[0]
        # Every file of the package is there (a file moved between /usr/lib and /lib
        # is not lost), changed in nothing.
        verify = m.run(["dpkg", "--verify", "ticketing-cron"], check=False).stdout
        assert [line for line in verify.splitlines() if "config.toml" not in line] == [], \
            verify


def test_the_administrators_files_and_every_timer_are_kept(fleet, upgraded):
    for box in fleet:
        assert box.snapshot() == box.kept, box.name
        present = {p for p, data in box.kept.items() if data is not None}
        assert (CRED in present) == box.encrypted and (SECRET in present) != box.encrypted
        assert set(DROPINS) <= present or not box.encrypted
        for timer in (TIMER, SECOND):
            assert box.machine.run(["systemctl", "is-active", timer],
                                   check=False).stdout.strip() == "active", (box.name, timer)


def test_every_minute_is_called_once_across_the_upgrade(fleet, upgraded):
    results, minute = upgraded
    for box in fleet:
        calls = [c for c in box.api.calls() if c["received_at"] > box.ready]
        assert calls and all(c["secret_ok"] for c in calls), box.name
        slots = sorted(c["scheduled_at"] for c in calls if c["scheduled_at"])
        report(f"upgrade on {box.name}: slots seen {slots}")
        assert len(slots) == len(set(slots)), f"{box.name}: a minute was called twice: {slots}"
        minutes = sorted({int(c["received_at"] // 60) for c in calls})
        assert minutes == list(range(minutes[0], minutes[0] + len(minutes))), \
            f"{box.name}: a minute was missed: {slots}"
        assert minutes[0] <= minute // 60 and minutes[-1] >= minute // 60 + 2, \
            (box.name, minutes)
        # After the upgrade, only the new version calls (a tick the upgrade straddled may
        # be either's).
        finished = results[box.name][0] + results[box.name][1]
        new_version = box.machine.run(["ticketing-cron", "--version"]).stdout.split()[1]
        agents = {c["user_agent"] for c in calls if c["received_at"] > finished}
        assert agents == {f"ticketing-cron/{new_version}"}, (box.name, agents)
        report(f"upgrade on {box.name}: " + ", ".join(
            f"{c['scheduled_at'][11:16]} by {c['user_agent'].split('/')[1]}" for c in calls))


def test_the_failing_streaks_are_neither_alerted_again_nor_lost(fleet, upgraded):
    """Alerts sent (failure, reminder, changed, recovery), not the handler's records of
    a failure it kept quiet about (ALERT=suppressed: the streak was known)."""
    results, _ = upgraded
    for box in fleet:
        finished = results[box.name][0] + results[box.name][1]

        def sent(job, box=box, finished=finished):
            return [(r["ALERT"], int(r["__REALTIME_TIMESTAMP"]) / 1e6 < finished)
                    for r in box.alerts(job) if r["ALERT"] != "suppressed"]

        # One alert when the streak began, before the upgrade; one recovery notice, after.
        assert sent("sla-check") == [("failure", True), ("recovery", False)], box.name
        # The job that kept failing: its one alert, before; after the upgrade the new
        # version's handler knew its streak and kept quiet.
        assert sent("second") == [("failure", True)], box.name
        quiet = [r for r in box.alerts("second") if r["ALERT"] == "suppressed"
                 and int(r["__REALTIME_TIMESTAMP"]) / 1e6 > finished]
        assert quiet, f"{box.name}: no failure of the second job handled after the upgrade"
