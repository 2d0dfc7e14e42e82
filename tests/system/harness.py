"""Helpers of the system tests: the host, the booted container, the stand-in API.

See conftest.py for how a run is set up and the environment variables.
"""

import datetime
import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from ticketing_cron.alerts.run_record import DYNAMIC_UIDS, written_by

REPO = Path(__file__).resolve().parents[2]
CI = os.environ.get("CI", "").lower() not in ("", "0", "false", "no")
HOST_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"
# What the container needs besides the package's own dependencies, which are
# installed up front so that `apt install ./ticketing-cron_*.deb` needs no download.
ROOTFS_PACKAGES = ["systemd", "systemd-sysv", "dbus", "ca-certificates", "man-db",
                   "python3", "python3-urllib3", "python3-systemd"]
ROOTFS_MARKER = ".ticketing-cron-rootfs"
UNIT = "ticketing-cron.service"
TIMER = "ticketing-cron.timer"
# ticketing-cron.timer elapses this long before each minute (second 59); its run sends
# the request at the minute. A "tick" below is the timer's elapse for a minute.
TICK_LEAD_S = 1
FAILURE_UNIT = "ticketing-cron-failure@ticketing-cron.service.service"
RECOVERY_UNIT = "ticketing-cron-recovery@ticketing-cron.service.service"

# Figures printed at the end of the run (lags, exposure, timings).
REPORT = []


def report(line):
    """Keep a figure for the end of the run (with pytest-xdist, the workers append it to
    the controller's file, TC_SYSTEM_REPORT)."""
    REPORT.append(line)
    print(line, flush=True)
    shared = os.environ.get("TC_SYSTEM_REPORT")
    if shared:
        with open(shared, "a", encoding="utf-8") as f:
            f.write(line.replace("\n", " ") + "\n")


def prerequisite_missing(message):
    """Fail loudly on CI, skip elsewhere."""
    if CI:
        pytest.fail(f"system tests cannot run: {message}", pytrace=False)
    pytest.skip(message)


# ----------------------------------------------------------------------------- host


def host_env():
    """A clean environment for host tools: Debian's own binaries first."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env["PATH"] = HOST_PATH
    env["LC_ALL"] = "C.UTF-8"
    return env


def sh(cmd, check=True, timeout=600, **kwargs):
    """Run a host command, capturing its output; raise with the output on failure."""
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                          env=kwargs.pop("env", host_env()), **kwargs)
    if check and proc.returncode != 0:
        raise AssertionError(f"{cmd!r} exited {proc.returncode}\n--- stdout\n{proc.stdout}"
                             f"\n--- stderr\n{proc.stderr}")
    return proc


def ensure_host_tools():
    """debootstrap and systemd-nspawn on the host, installed if missing (and what the
    release tests use: piuparts, apt-ftparchive and gpg for dev/build-repo)."""
    if os.geteuid() != 0:
        prerequisite_missing("they need root (systemd-nspawn, debootstrap)")
    missing = [pkg for tool, pkg in (("debootstrap", "debootstrap"),
                                     ("systemd-nspawn", "systemd-container"),
                                     ("piuparts", "piuparts"), ("apt-ftparchive", "apt-utils"),
                                     ("gpg", "gpg"))
               if not shutil.which(tool, path=HOST_PATH)]
    if missing:
        env = dict(host_env(), DEBIAN_FRONTEND="noninteractive")
        sh(["apt-get", "update", "-q"], env=env)
        sh(["apt-get", "install", "-y", "-q", "--no-install-recommends", *missing], env=env)


def parse_deb822(text):
    """Stanzas of a deb822 file as dicts (continuation lines joined)."""
    stanzas, current, key = [], {}, None
    for line in text.splitlines():
        if not line.strip():
            if current:
                stanzas.append(current)
            current, key = {}, None
        elif line.startswith("#"):
            continue
        elif line[0] in " \t" and key:
            current[key] += " " + line.strip()
        else:
            key, _, value = line.partition(":")
            key = key.strip()
            current[key] = value.strip()
    if current:
        stanzas.append(current)
    return stanzas


def host_release():
    """(mirror URI, suite) of the host's main Debian archive, from its apt sources."""
    sources = Path("/etc/apt/sources.list.d/debian.sources")
    if sources.exists():
        for stanza in parse_deb822(sources.read_text()):
            if "deb" not in stanza.get("Types", "").split():
                continue
            for suite in stanza.get("Suites", "").split():
                if not re.search(r"-(security|updates|backports|proposed-updates)$", suite) \
                        and "/" not in suite:
                    return stanza["URIs"].split()[0], suite
    legacy = Path("/etc/apt/sources.list")
    if legacy.exists():
        for line in legacy.read_text().splitlines():
            fields = line.split("#")[0].split()
            if fields[:1] == ["deb"]:
                fields = [f for f in fields if not f.startswith("[")]
                if len(fields) >= 3 and "security" not in fields[2]:
                    return fields[1], fields[2]
    raise AssertionError("cannot find the Debian mirror and suite in the host's apt sources")


def package_version():
    """The version at the top of debian/changelog."""
    first = (REPO / "debian" / "changelog").read_text().splitlines()[0]
    return re.match(r"\S+ \(([^)]+)\)", first).group(1)


def copy_source_tree(dest):
    """Copy the checkout without VCS data and build output."""
    exclude = shutil.ignore_patterns(".git", "build", "dist", "__pycache__", ".pytest_cache",
                                     "*.egg-info", ".pybuild")
    shutil.copytree(REPO, dest, symlinks=True, ignore=exclude)


def build_newer_deb(workdir, version):
    """Build the package again from a copy of the tree with a changelog entry for
    `version` (tests skipped: the first build ran them). Returns the .deb's path."""
    src = Path(workdir) / "upgrade" / f"ticketing-cron-{version}"
    copy_source_tree(src)
    changelog = src / "debian" / "changelog"
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%a, %d %b %Y %H:%M:%S +0000")
    entry = (f"ticketing-cron ({version}) unstable; urgency=medium\n\n"
             "  * System test build: an upgrade of the package under test.\n\n"
             f" -- ticketing-cron developers <dev@ticketing-cron.invalid>  {stamp}\n\n")
    changelog.write_text(entry + changelog.read_text())
    return build_deb(src, version)


def build_deb(src, version):
    """dpkg-buildpackage in the source tree ``src`` (tests skipped: the tree's own were
    run when it was made); returns the path of the ticketing-cron_VERSION_all.deb."""
    sh(["dpkg-buildpackage", "-us", "-uc", "-b"], cwd=src,
       env=dict(host_env(), DEB_BUILD_OPTIONS="nocheck"), timeout=900)
    deb = Path(src).parent / f"ticketing-cron_{version}_all.deb"
    assert deb.exists(), f"the build of {version} made no {deb}"
    return deb


class Background:
    """A function running in a thread; result() waits for it and re-raises."""

    def __init__(self, fn, *args):
        self._result = self._error = None
        self._thread = threading.Thread(target=self._run, args=(fn, args), daemon=True)
        self._thread.start()

    def _run(self, fn, args):
        try:
            self._result = fn(*args)
        except BaseException as e:  # noqa: BLE001 - handed to result()
            self._error = e

    def wait(self, timeout=900):
        """Wait for the job, ignoring its outcome."""
        self._thread.join(timeout)

    def result(self, timeout=900):
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise AssertionError("background job did not finish in time")
        if self._error:
            raise self._error
        return self._result


def debootstrap(target, mirror, suite):
    """A minbase tree with systemd and the package's dependencies, made once."""
    target = Path(target)
    marker = target / ROOTFS_MARKER
    want = f"{suite} {mirror} {','.join(ROOTFS_PACKAGES)}\n"
    if marker.exists() and marker.read_text() == want:
        return target
    if target.exists():
        shutil.rmtree(target)
    partial = target.with_name(target.name + ".partial")
    if partial.exists():
        shutil.rmtree(partial)
    started = time.monotonic()
    sh(["debootstrap", "--variant=minbase", "--include=" + ",".join(ROOTFS_PACKAGES),
        suite, str(partial), mirror], timeout=1800)
    # debootstrap leaves no /etc/hosts; name resolution of localhost goes through it.
    (partial / "etc" / "hosts").write_text(
        "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n")
    shutil.rmtree(partial / "var" / "cache" / "apt" / "archives", ignore_errors=True)
    (partial / "var" / "cache" / "apt" / "archives" / "partial").mkdir(parents=True)
    marker_tmp = partial / ROOTFS_MARKER
    marker_tmp.write_text(want)
    partial.rename(target)
    report(f"debootstrap {suite} from the host's mirror: {time.monotonic() - started:.0f} s")
    return target


# ------------------------------------------------------------------------ container


TIMESPAN_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1, "min": 60, "h": 3600, "d": 86400,
                  "w": 604800, "month": 2629800, "y": 31557600}


def parse_timespan(text):
    """Seconds of a systemd time span: plain microseconds ("1234") or "16min 24.5s"."""
    text = text.strip()
    if re.fullmatch(r"\d+", text):
        return int(text) / 1e6
    total = 0.0
    for number, unit in re.findall(r"([\d.]+)\s*([a-z]+)", text):
        total += float(number) * TIMESPAN_UNITS[unit]
    return total


def parse_timestamp(value, monotonic_us=None):
    """A timestamp property of `systemctl show` -> unix seconds (None when unset).

    The container shares the host's kernel, so its CLOCK_MONOTONIC is the host's: the
    ...Monotonic twin of a property gives it to the microsecond. The realtime text
    (whole seconds) is the fallback, e.g. for a timer's last trigger read from its stamp.
    """
    monotonic = parse_timespan(monotonic_us or "0")
    if monotonic > 0:
        return time.time() - time.monotonic() + monotonic
    value = value.strip()
    if not value or value == "n/a":
        return None
    moment = datetime.datetime.strptime(value, "%a %Y-%m-%d %H:%M:%S %Z")
    return moment.replace(tzinfo=datetime.timezone.utc).timestamp()


def field_text(value):
    """A journal JSON field as text (binary fields come as lists of bytes)."""
    if isinstance(value, list) and value and isinstance(value[0], int):
        return bytes(value).decode("utf-8", "replace")
    if isinstance(value, list):
        return [field_text(v) for v in value]
    return value


class Machine:
    """One container tree, booted with systemd-nspawn."""

    def __init__(self, root, workdir, name):
        self.root = Path(root)
        self.workdir = Path(workdir)
        self.name = name
        self.proc = None
        self.pid = None
        self.boots = 0
        self.booted_at = None
        self.mounted = False

    # -- lifecycle

    def boot(self):
        """Boot and wait until the system is up; returns the boot's start time."""
        assert self.proc is None, "already booted"
        self.boots += 1
        log = open(self.workdir / f"console-{self.boots}.log", "wb")
        self.booted_at = time.time()
        cgroups = own_cgroups(self.name)
        self.proc = subprocess.Popen(
            ["systemd-nspawn", "--quiet", "-D", str(self.root), "--boot", "--register=no",
             "--keep-unit", f"--machine={self.name}", "--console=read-only"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=host_env(),
            preexec_fn=lambda: enter_cgroups(cgroups))
        log.close()
        self.pid = wait_for(self._init_pid, 30, "the container's init")
        state = wait_for(self._system_state, 60, "the container to finish booting",
                         interval=0.2)
        if state != "running":
            failed = self.run(["systemctl", "--failed", "--no-legend", "--plain"],
                              check=False).stdout
            print(f"container state {state}; failed units:\n{failed}")
        return self.booted_at

    def _init_pid(self):
        if self.proc.poll() is not None:
            raise AssertionError(f"systemd-nspawn exited {self.proc.returncode}; see "
                                 f"{self.workdir}/console-{self.boots}.log")
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        for pid in children.read_text().split():
            try:
                if Path(f"/proc/{pid}/comm").read_text().strip() == "systemd":
                    return int(pid)
            except FileNotFoundError:
                continue
        return None

    def _system_state(self):
        out = self.run(["systemctl", "is-system-running"], check=False).stdout.strip()
        return out if out in ("running", "degraded") else None

    def poweroff(self):
        """Power the container off (SIGTERM to systemd-nspawn) and wait for it."""
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        self.proc = self.pid = None
        remove_cgroups(own_cgroups(self.name))

    def discard(self):
        """Power off for good and unmount the overlay root (boot_overlay)."""
        self.poweroff()
        if self.mounted:
            sh(["umount", str(self.root)])
            self.mounted = False

    # -- commands

    def run(self, cmd, check=True, input=None, timeout=300):
        """Run a command inside the container; returns the CompletedProcess."""
        full = ["nsenter", "-t", str(self.pid), "-a", "env", "-i", f"PATH={HOST_PATH}",
                "LANG=C.UTF-8", "SYSTEMD_PAGER=cat", "SYSTEMD_COLORS=0", "TERM=dumb",
                "DEBIAN_FRONTEND=noninteractive", *cmd]
        proc = subprocess.run(full, capture_output=True, input=input, timeout=timeout,
                              text=not isinstance(input, bytes), env=host_env())
        if check and proc.returncode != 0:
            raise AssertionError(f"in container: {cmd!r} exited {proc.returncode}\n--- stdout"
                                 f"\n{proc.stdout}\n--- stderr\n{proc.stderr}")
        return proc

    def path(self, inside):
        """The host path of a path inside the container."""
        return self.root / inside.lstrip("/")

    def stage(self, host_file):
        """Copy a host file into the container's /var/tmp; returns the inside path."""
        inside = f"/var/tmp/staged/{Path(host_file).name}"
        dest = self.path(inside)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(host_file, dest)
        return inside

    # -- systemd

    def show(self, unit, *props):
        """Properties of a unit as a dict of strings."""
        out = self.run(["systemctl", "show", unit,
                        *[f"--property={p}" for p in props]]).stdout
        values = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
        return {p: values.get(p, "") for p in props}

    def last_trigger(self):
        """When the timer last elapsed (unix seconds) or None."""
        props = self.show(TIMER, "LastTriggerUSec", "LastTriggerUSecMonotonic")
        return parse_timestamp(props["LastTriggerUSec"], props["LastTriggerUSecMonotonic"])

    def service(self):
        """The service's state: active state, result, exit status, invocation, times."""
        stamps = ("ExecMainStartTimestamp", "ExecMainExitTimestamp", "InactiveEnterTimestamp")
        props = self.show(UNIT, "ActiveState", "SubState", "Result", "ExecMainStatus",
                          "ExecMainCode", "InvocationID", "ConditionResult", *stamps,
                          *[key + "Monotonic" for key in stamps])
        for key in stamps:
            props[key] = parse_timestamp(props[key], props.pop(key + "Monotonic"))
        return props

    def wait_idle(self, timeout=90):
        """Wait until the service is not starting or running."""
        return wait_for(lambda: (s := self.service())["ActiveState"] not in
                        ("activating", "deactivating", "reloading") and s, timeout,
                        "ticketing-cron.service to finish its run")

    def avoid_boundary(self, needed):
        """Make sure no tick comes in the next `needed` seconds: if the next minute's
        tick (a second before it) is nearer, or under way, wait until its run is over."""
        boundary = next_boundary()
        elapse = boundary - TICK_LEAD_S
        if elapse - time.time() < needed:
            sleep_until(boundary + 0.5)
            # A timer started after the elapse (a package installed in that second)
            # first elapses a minute later: then there is no tick to wait for.
            started = self.timer_started()
            if started is not None and started < elapse - 0.01:
                wait_for(lambda: (self.last_trigger() or 0) >= elapse - 0.01, 15,
                         f"the tick for {boundary}")
            self.wait_idle()

    def timer_started(self):
        """When the timer last became active (unix seconds), or None while it is not."""
        props = self.show(TIMER, "ActiveState", "ActiveEnterTimestamp",
                          "ActiveEnterTimestampMonotonic")
        if props["ActiveState"] != "active":
            return None
        return parse_timestamp(props["ActiveEnterTimestamp"],
                               props["ActiveEnterTimestampMonotonic"])

    def journal(self, *args):
        """journalctl -o json with the given matches/options, as a list of dicts."""
        out = self.run(["journalctl", "--no-pager", "-o", "json", *args]).stdout
        records = []
        for line in out.splitlines():
            if line.strip():
                records.append({k: field_text(v) for k, v in json.loads(line).items()})
        return records

    def summaries(self):
        """The runner's summary records (those with OUTCOME), oldest first."""
        return [r for r in self.journal(f"_SYSTEMD_UNIT={UNIT}") if "OUTCOME" in r]

    def summary_for(self, invocation_id, timeout=30):
        """The one summary record of a run, waiting for journald to have it (on a
        machine loaded by containers side by side journald may lag by seconds)."""
        run = self.show(UNIT, "InvocationID", "ExecMainPID")
        pid = run["ExecMainPID"] if run["InvocationID"] == invocation_id else None

        def find():
            # A record journald took in after the run was gone has no unit: the
            # product's readers (status, the alert path) take it by _PID and _UID.
            found = [r for r in self.journal("-t", "ticketing-cron") if "OUTCOME" in r and (
                     (r.get("_SYSTEMD_INVOCATION_ID") == invocation_id
                      and r.get("_SYSTEMD_UNIT") == UNIT)
                     or ("_SYSTEMD_INVOCATION_ID" not in r and r.get("_SYSTEMD_UNIT", UNIT) == UNIT
                         and pid and r.get("_PID") == pid
                         and written_by(r.get("_UID"), DYNAMIC_UIDS)))]
            return found or None
        try:
            found = wait_for(find, timeout, f"the summary record of run {invocation_id}")
        except AssertionError as error:
            raise AssertionError(f"{error}\n{self.explain_missing_summary()}") from None
        assert len(found) == 1, f"run {invocation_id} wrote {len(found)} summary records"
        return found[0]

    def explain_missing_summary(self):
        """What the journal holds of the program's last records, with the fields that
        journald derives (_SYSTEMD_UNIT, _SYSTEMD_INVOCATION_ID, _PID): a record without
        them was written but could not be attributed to its unit."""
        records = [r for r in self.journal("-t", "ticketing-cron", "-n", "8")]
        rows = [{k: r.get(k) for k in ("OUTCOME", "_SYSTEMD_UNIT", "_SYSTEMD_INVOCATION_ID",
                                       "_PID", "_TRANSPORT", "MESSAGE")} for r in records]
        units = self.run(["systemctl", "status", "--no-pager", "--lines=5", UNIT],
                         check=False).stdout
        return f"--- the last records of ticketing-cron\n{rows}\n--- {UNIT}\n{units}"

    def handler_records(self, unit=FAILURE_UNIT):
        """The records that an alert handler's own process wrote."""
        return self.journal(f"_SYSTEMD_UNIT={unit}")

    def alert_for(self, invocation_id, timeout=20):
        """The failure handler's records about the given failed run (an alert at
        PRIORITY crit, or a warning that it was not worth another alert)."""
        def find():
            found = [r for r in self.handler_records()
                     if r.get("FAILED_INVOCATION_ID") == invocation_id]
            return found or None
        return wait_for(find, timeout, f"the failure handler's record about {invocation_id}")

    def start_service(self):
        """systemctl start ticketing-cron.service (waits: Type=oneshot);
        returns (rc, service state after the run)."""
        proc = self.run(["systemctl", "start", UNIT], check=False, timeout=120)
        return proc.returncode, self.service()

    def write(self, inside, content, mode="0644"):
        """Write a root-owned file inside the container (through the container, so that
        its own mounts such as /run count)."""
        if isinstance(content, str):
            content = content.encode()
        self.run(["install", "-D", "-m", mode, "/dev/stdin", inside], input=content)

    def files(self):
        """Every path of the container's persistent file system (relative to /)."""
        found = set()
        for top, dirs, names in os.walk(self.root):
            rel = os.path.relpath(top, self.root)
            rel = "/" if rel == "." else "/" + rel
            for name in dirs + names:
                found.add(os.path.join(rel, name))
        return found


# Without a systemd on the host, `--keep-unit` makes nspawn put the container in
# "payload" and "supervisor" below its own cgroup. Two containers started from the
# same cgroup (two tests side by side, two servers, two workers) then share one
# "payload": each one's systemd sees the other's processes, and units fail with
# 219/CGROUP or never see their calls. Each container gets a cgroup of its own.
CGROUP_HIERARCHIES = ("/sys/fs/cgroup/systemd", "/sys/fs/cgroup/unified")


def own_cgroups(name):
    """The cgroup directories (one per mounted hierarchy) for container ``name``."""
    return [Path(h) / f"tc-{name}" for h in CGROUP_HIERARCHIES if Path(h).is_dir()]


def enter_cgroups(cgroups):
    """In the child before exec: move this process into ``cgroups`` (made if missing)."""
    for cgroup in cgroups:
        cgroup.mkdir(exist_ok=True)
        (cgroup / "cgroup.procs").write_text("0\n")


def remove_cgroups(cgroups):
    """Remove the container's emptied cgroups, deepest first; leftovers are harmless."""
    for cgroup in cgroups:
        if not cgroup.is_dir():
            continue
        for top, _dirs, _ in sorted(os.walk(cgroup), key=lambda t: -t[0].count("/")):
            try:
                os.rmdir(top)
            except OSError:
                pass


POLICY_RC_D = "/usr/sbin/policy-rc.d"


def boot_overlay(base_rootfs, own, name):
    """Boot a new machine whose root is an overlay on the cached debootstrap tree:
    the tree itself is never written, the machine's changes go to ``own``/upper.

    own: the machine's directory (its console logs and overlay layers); name: the
    machine name. Returns the booted Machine; discard() powers it off and unmounts.
    """
    own = Path(own)
    root, upper, work = own / "machine", own / "upper", own / "work"
    for directory in (root, upper, work):
        directory.mkdir(parents=True, exist_ok=True)
    sh(["mount", "-t", "overlay", "overlay", "-o",
        f"lowerdir={base_rootfs},upperdir={upper},workdir={work}", str(root)])
    machine = Machine(root, own, name)
    machine.mounted = True
    try:
        (root / "etc" / "machine-id").write_text(uuid.uuid4().hex + "\n")
        (root / ROOTFS_MARKER).unlink()
        machine.boot()
    except BaseException:
        machine.discard()
        raise
    return machine


def boot_with_package(base_rootfs, deb, own, name, extra_packages=(), prepare=None,
                      hold_services=False):
    """The one way the system tests get a machine with the package: boot_overlay, then
    `apt-get install` of the .deb (and extra_packages) inside.

    prepare: called with the machine before the install (e.g. debconf answers);
    hold_services: nothing starts during the install (policy-rc.d, as in a chroot).
    Returns (machine, apt-get's output). A failed install discards the machine.
    """
    started = time.monotonic()
    machine = boot_overlay(base_rootfs, own, name)
    try:
        if prepare:
            prepare(machine)
        inside = machine.stage(deb)
        if hold_services:
            machine.write(POLICY_RC_D, "#!/bin/sh\nexit 101\n", mode="0755")
        try:
            output = machine.run(["apt-get", "install", "-y", "-q", "--no-install-recommends",
                                  inside, *extra_packages], timeout=900).stdout
        finally:
            if hold_services:
                machine.run(["rm", "-f", POLICY_RC_D])
    except BaseException:
        machine.discard()
        raise
    report(f"{Path(own).name} container: booted and installed in "
           f"{time.monotonic() - started:.1f} s")
    return machine, output


def wait_for(predicate, timeout, what, interval=0.25):
    """Poll predicate until it returns something truthy; fail after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def next_boundary(now=None):
    """The next minute boundary (unix seconds) strictly after now."""
    now = time.time() if now is None else now
    return (int(now) // 60 + 1) * 60


def sleep_until(moment):
    while True:
        left = moment - time.time()
        if left <= 0:
            return
        time.sleep(min(left, 1.0))


# ---------------------------------------------------------------------- stand-in API


def own_standin(workdir, name, secret):
    """A Standin of one module's own, in workdir/NAME (its calls only that module's)."""
    own = Path(workdir) / name
    own.mkdir(exist_ok=True)
    return Standin(own, secret)


class Standin:
    """dev/standin_api.py on the host's loopback.

    paths: endpoints besides /api/cron/sla-check, served the same way.
    dedupe: follow the Idempotency-Key draft (a repeated key gets the first reply, or
    409). Off by default: a `systemctl start` of the unit within 10 s of a tick, or two
    in one minute, claim the same slot and would get a replayed reply, where the tests
    that start the service by hand want the work done.
    """

    def __init__(self, workdir, secret, dedupe=False, paths=()):
        self.workdir = Path(workdir)
        secret_file = self.workdir / "standin-secret"
        secret_file.write_text(secret + "\n")
        secret_file.chmod(0o600)
        self.log = open(self.workdir / "standin.log", "w")
        self.proc = subprocess.Popen(
            ["/usr/bin/python3", str(REPO / "dev" / "standin_api.py"), "--listen",
             "127.0.0.1:0", "--db", str(self.workdir / "standin.sqlite"), "--secret-file",
             str(secret_file), *([] if dedupe else ["--ignore-idempotency-key"]),
             *[f"--path={path}" for path in paths]],
            stdout=subprocess.PIPE, stderr=self.log, text=True, env=host_env())
        line = self.proc.stdout.readline()
        match = re.search(r"listening on (http://127\.0\.0\.1:(\d+))", line)
        if not match:
            self.stop()
            raise AssertionError(f"stand-in API did not start: {line!r}; see "
                                 f"{self.workdir}/standin.log")
        self.url = match.group(1)
        self.port = int(match.group(2))

    def _request(self, method, path, data=None):
        body = None if data is None else json.dumps(data).encode()
        req = urllib.request.Request(self.url + path, data=body, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read())

    def calls(self):
        return self._request("GET", "/_standin/calls")

    def requests(self):
        return self._request("GET", "/_standin/requests")

    def seed(self, expired=0, active=0):
        return self._request("POST", "/_standin/seed", {"expired": expired, "active": active})

    def control(self, hang=False, status=None):
        return self._request("POST", "/_standin/control", {"hang": hang, "status": status})

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()


