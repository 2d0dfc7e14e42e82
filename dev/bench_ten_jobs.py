"""dev/bench's ten-jobs figure: how late the requests of eleven jobs due on the same
minute reach the app, in a booted container with the built package.

The sla-check and ten more jobs (job-01 ... job-10) fire at every minute's second 0;
their requests all go to the stand-in API on the host's loopback (the container shares
the host's network and realtime clock), which notes when each arrives. The lag of a
request is its arrival minus its minute boundary. The first minute after the install
warms the container's page cache and is left out. Besides the lags, the journal says
when systemd began starting each unit (its "Starting" record): the part of the lag
that is systemd's, before the unit's process exists.

Needs root, systemd-nspawn and debootstrap, as the system tests (tests/system/).
"""

import os
import re
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

TOP = Path(__file__).resolve().parent.parent
JOBS = [f"job-{i:02d}" for i in range(1, 11)]
# systemd's "Starting UNIT..." record (sd-messages.h SD_MESSAGE_UNIT_STARTING).
UNIT_STARTING = "7d4958e842da4a758f6c1cdc7b36dcc5"
# What dev/bench prints them against (the API must see every request this soon).
MEDIAN_BAR_S, SLOWEST_BAR_S = 0.300, 0.500


def harness():
    """tests/system/harness.py (and what it imports), as the system tests load it."""
    for path in (TOP / "tests" / "system", TOP / "tests", TOP):
        if str(path) not in sys.path:
            sys.path.insert(0, str(path))
    import harness as module

    return module


def config_text(base_url, schedules):
    """config.toml: sla-check and the ten jobs, all on the stand-in's one endpoint.

    schedules: one schedule per job, written as the config would have it.
    """
    jobs = "".join(f'\n[jobs.{name}]\npath = "/api/cron/sla-check"\nschedule = "{when}"\n'
                   for name, when in zip(JOBS, schedules))
    return (f'[api]\nbase_url = "{base_url}"\ndeadline = 20\n\n'
            f'[jobs.sla-check]\npath = "/api/cron/sla-check"\n{jobs}')


# Every minute, written in the ways an administrator might: the packaged ones are
# computed without any import, "*/1 * * * *" and "0-59 * * * *" go through
# schedules.match as an hourly or daily job's schedule would.
SCHEDULES = ["* * * * *", "*/1 * * * *", "*:*:00", "0-59 * * * *", "minutely"] * 2


def boundary_of(call):
    """The minute boundary a stand-in call belongs to (unix seconds)."""
    return int(call["received_at"]) // 60 * 60


def starting_times(machine, since):
    """When systemd began starting each job's unit: {(unit, boundary): unix seconds}."""
    found = {}
    for record in machine.journal(f"MESSAGE_ID={UNIT_STARTING}", "_PID=1",
                                  f"--since=@{int(since)}"):
        unit = record.get("UNIT", "")
        if not re.fullmatch(r"ticketing-cron(@job-\d\d)?\.service", unit):
            continue
        at = int(record["__REALTIME_TIMESTAMP"]) / 1e6
        found[(unit, int(at) // 60 * 60)] = at
    return found


def unit_of(call):
    """The unit that sent a call, from its Idempotency-Key ("job-03:2026-...")."""
    job = (call.get("idempotency_key") or "").strip('"').split(":")[0]
    return "ticketing-cron.service" if job == "sla-check" else f"ticketing-cron@{job}.service"


def measure(minutes, deb, rootfs):
    """Boot, install, configure the eleven jobs, watch ``minutes`` minutes after a
    warm-up minute.

    Returns:
        {"lags": [s...], "per_minute": [(median, slowest)...], "systemd": [s...],
         "missing": int, "extra": int}: each request's lag, the figures per minute, how
        long after the boundary systemd began starting each unit, and how many
        (job, minute) pairs had no request or more than one.
    """
    h = harness()
    workdir = Path(tempfile.mkdtemp(prefix="ticketing-cron-bench-", dir="/var/tmp"))
    secret = "tc-" + secrets.token_hex(20)
    standin = h.Standin(workdir, secret)
    machine = None
    try:
        machine, _ = h.boot_with_package(rootfs, deb, workdir / "box",
                                         f"tc-bench-{os.getpid()}")
        machine.run(["install", "-m", "0600", "/dev/stdin", "/etc/ticketing-cron/cron-secret"],
                    input=secret + "\n")
        machine.write("/etc/ticketing-cron/config.toml", config_text(standin.url, SCHEDULES))
        machine.run(["systemctl", "daemon-reload"])
        machine.run(["systemctl", "start", "timers.target"])
        timers = ["ticketing-cron.timer"] + [f"ticketing-cron@{j}.timer" for j in JOBS]
        h.wait_for(lambda: all(s == "active" for s in machine.run(
            ["systemctl", "is-active", *timers], check=False).stdout.split()), 60,
            "the eleven timers to be active")
        first = h.next_boundary(time.time() + 2) + 60  # after a warm-up minute
        last = first + 60 * (minutes - 1)
        h.sleep_until(last + 25)  # deadline 20 s: every run of the last minute is over
        calls = [c for c in standin.calls() if first <= boundary_of(c) <= last]
        started = starting_times(machine, first - 1)
    finally:
        if machine is not None:
            machine.discard()
        standin.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    units = ["ticketing-cron.service"] + [f"ticketing-cron@{j}.service" for j in JOBS]
    expected = {(u, first + 60 * k) for u in units for k in range(minutes)}
    seen = [(unit_of(c), boundary_of(c)) for c in calls]
    per_minute = []
    for k in range(minutes):
        lags = [c["received_at"] - boundary_of(c) for c in calls
                if boundary_of(c) == first + 60 * k]
        per_minute.append((statistics.median(lags), max(lags)) if lags else (None, None))
    return {"lags": [c["received_at"] - boundary_of(c) for c in calls],
            "per_minute": per_minute,
            "systemd": [at - boundary for (unit, boundary), at in started.items()
                        if (unit, boundary) in expected],
            "missing": len(expected - set(seen)),
            "extra": len(seen) - len(set(seen))}


def rootfs_and_deb():
    """The debootstrap tree and the .deb, as the system tests find them (or why not)."""
    h = harness()
    rootfs = Path(os.environ.get("TC_SYSTEM_ROOTFS") or "/var/tmp/ticketing-cron-rootfs")
    deb = Path(os.environ.get("TC_DEB") or
               TOP / "dist" / f"ticketing-cron_{h.package_version()}_all.deb")
    if os.geteuid() != 0 or not shutil.which("systemd-nspawn"):
        return None, None, "needs root and systemd-nspawn"
    if not deb.exists():
        return None, None, f"no {deb}: build it with dev/build-deb (or set TC_DEB)"
    import fcntl

    mirror, suite = h.host_release()
    rootfs.parent.mkdir(parents=True, exist_ok=True)
    with open(f"{rootfs}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return h.debootstrap(rootfs, mirror, suite), deb, None


def report(minutes):
    """Measure and print the ten-jobs lag against its bars."""
    rootfs, deb, why_not = rootfs_and_deb()
    if why_not:
        print(f"ten jobs on one minute: not measured ({why_not})")
        return
    result = measure(minutes, deb, rootfs)
    lags = result["lags"]
    print(f"ten jobs and sla-check on one minute, {minutes} minutes, {len(lags)} requests "
          f"({result['missing']} missing, {result['extra']} twice), lag after the minute:")
    if lags:
        median, slowest = statistics.median(lags), max(lags)
        print(f"  lag             median {median * 1000:5.0f} ms   slowest {slowest * 1000:5.0f} "
              f"ms   (bars: <= {MEDIAN_BAR_S * 1000:.0f} ms, <= {SLOWEST_BAR_S * 1000:.0f} ms)")
        print("  per minute      " + "  ".join(
            f"{m * 1000:.0f}/{s * 1000:.0f}" for m, s in result["per_minute"] if m is not None)
              + " ms (median/slowest)")
    if result["systemd"]:
        print(f"  systemd began starting the units {min(result['systemd']) * 1000:.0f}-"
              f"{max(result['systemd']) * 1000:.0f} ms after the minute (median "
              f"{statistics.median(result['systemd']) * 1000:.0f} ms)")
