"""dev/bench's ten-jobs figure: how late the requests of eleven jobs due on the same
minute reach the app, in a booted container with the built package.

The sla-check and ten more jobs (job-01 ... job-10) fire at every minute's second 0;
their requests all go to the stand-in API on the host's loopback (the container shares
the host's network and realtime clock), which notes when each arrives. The lag of a
request is its arrival minus its minute boundary. The first minute after the install
warms the container's page cache and is left out. Then minutes of ticketing-cron's runs
alternate with minutes in which the same units (same timers, same sandbox) run the bare
urllib3 POST script instead: the floor, under the same load of a shared machine.
Besides the lags, the journal says when systemd began starting each unit (its
"Starting" record): the part of the lag that is systemd's, before the process exists.

Needs root, systemd-nspawn and debootstrap, as the system tests (tests/system/).
"""

import calendar
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
        found[(unit, int(at + 30) // 60 * 60)] = at  # the nearest minute: a second ahead
    return found


def unit_of(call):
    """The unit that sent a call, from its Idempotency-Key ("job-03:2026-...")."""
    job = (call.get("idempotency_key") or "").strip('"').split(":")[0]
    return "ticketing-cron.service" if job == "sla-check" else f"ticketing-cron@{job}.service"


FLOOR_DROPINS = {
    "ticketing-cron.service": "[Service]\nExecStart=\nExecStart=/usr/bin/python3 "
                              "/usr/local/lib/bench_bare.py {url}/api/cron/sla-check "
                              "/run/credentials/%n/cron-secret\n",
    "ticketing-cron.timer": "[Timer]\nOnCalendar=\nOnCalendar=*-*-* *:*:00 UTC\n"}
FLOOR_DROPINS["ticketing-cron@.service"] = FLOOR_DROPINS["ticketing-cron.service"]
FLOOR_DROPINS["ticketing-cron@.timer"] = FLOOR_DROPINS["ticketing-cron.timer"]


def set_floor(machine, url, on):
    """Make every job's unit run the bare urllib3 POST (dev/bench_bare.py) instead of
    ticketing-cron, in the same units and sandbox, started by timers ON the minute
    rather than a second ahead (on): eleven cold starts at once, the best a process per
    job started at the minute can do. Or (not on) run ticketing-cron as packaged again.
    The drop-ins' name sorts after the generator's, so that they win.

    systemd 252 counts a moved timer's next elapse from its last one (or from when it
    was first started): moved from second 59 to second 0, it fires at once for the
    second 0 just gone, also after a restart. measure() leaves those bare calls out
    (they carry no Idempotency-Key); moved back to second 59 nothing fires."""
    for unit, text in FLOOR_DROPINS.items():
        path = f"/run/systemd/system/{unit}.d/zz-bench-floor.conf"
        if on:
            machine.write(path, text.format(url=url))
        else:
            machine.run(["rm", "-f", path])
    machine.run(["systemctl", "daemon-reload"])


def lags_of(calls, boundary):
    """The lags (s) of the calls of one minute."""
    return [c["received_at"] - boundary for c in calls if boundary_of(c) == boundary]


def measure(minutes, deb, rootfs):
    """Boot, install, configure the eleven jobs; after a warm-up minute, alternate
    minutes of ticketing-cron's runs with minutes of bare POSTs from the same units,
    ``minutes`` of each, so that the machine's load weighs on both alike.

    Returns:
        {"ours": [lags of each of our minutes], "floor": [lags of each bare minute],
         "systemd": [s...], "missing": int, "extra": int}: the lags (s) per minute,
        how long after the boundary systemd began starting each of our units, and how
        many (job, minute) pairs of ours had no request or more than one.
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
        machine.write("/usr/local/lib/bench_bare.py",
                      (TOP / "dev" / "bench_bare.py").read_text())
        machine.write("/etc/ticketing-cron/config.toml", config_text(standin.url, SCHEDULES))
        machine.run(["systemctl", "daemon-reload"])
        machine.run(["systemctl", "start", "timers.target"])
        timers = ["ticketing-cron.timer"] + [f"ticketing-cron@{j}.timer" for j in JOBS]
        h.wait_for(lambda: all(s == "active" for s in machine.run(
            ["systemctl", "is-active", *timers], check=False).stdout.split()), 60,
            "the eleven timers to be active")
        first = h.next_boundary(time.time() + 2) + 60  # after a warm-up minute
        ours, floor = [], []
        for k in range(2 * minutes):
            boundary = first + 60 * k
            h.sleep_until(boundary - 25)  # every run of the minute before is over
            set_floor(machine, standin.url, on=k % 2 == 1)
            (floor if k % 2 else ours).append(boundary)
        h.sleep_until(first + 60 * 2 * minutes - 25)
        calls = standin.calls()
        started = starting_times(machine, first - 5)
    finally:
        if machine is not None:
            machine.discard()
        standin.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    units = ["ticketing-cron.service"] + [f"ticketing-cron@{j}.service" for j in JOBS]
    expected = {(u, b) for u in units for b in ours}
    seen = [(unit_of(c), boundary_of(c)) for c in calls if boundary_of(c) in ours and
            c.get("idempotency_key")]
    early = [c for c in calls if boundary_of(c) in ours and c.get("scheduled_at") and
             c["received_at"] < calendar.timegm(time.strptime(c["scheduled_at"],
                                                              "%Y-%m-%dT%H:%M:%SZ"))]
    # ticketing-cron's runs send an Idempotency-Key, the bare script none: a bare POST
    # that systemd fires for the second 0 just gone as the floor's timers move there
    # (see set_floor) falls in one of our minutes but is neither ours nor the floor's.
    keyed = [c for c in calls if c.get("idempotency_key")]
    bare = [c for c in calls if not c.get("idempotency_key")]
    return {"ours": [lags_of(keyed, b) for b in ours], "early": len(early),
            "floor": [lags_of(bare, b) for b in floor],
            "systemd": [at - boundary for (unit, boundary), at in started.items()
                        if (unit, boundary) in expected],
            "missing": len(expected - set(seen)),
            "extra": len(seen) - len(set(seen))}


def summary(per_minute):
    """'median M ms, slowest S ms' over all minutes, and each minute's M/S."""
    lags = [lag for minute in per_minute for lag in minute]
    if not lags:
        return "no requests", ""
    return (f"median {statistics.median(lags) * 1000:5.0f} ms   slowest "
            f"{max(lags) * 1000:5.0f} ms",
            "  ".join(f"{statistics.median(m) * 1000:.0f}/{max(m) * 1000:.0f}"
                      for m in per_minute if m))


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
    """Measure and print the ten-jobs lag against its bars, and the floor beside it."""
    rootfs, deb, why_not = rootfs_and_deb()
    if why_not:
        print(f"ten jobs on one minute: not measured ({why_not})")
        return
    load = os.getloadavg()[0]
    result = measure(minutes, deb, rootfs)
    count = sum(len(m) for m in result["ours"])
    print(f"ten jobs and sla-check on one minute, in a container, {minutes} minutes "
          f"({count} requests, {result['missing']} missing, {result['extra']} twice, "
          f"{result['early']} before their minute), "
          f"lag after the minute (load average {load:.1f} -> {os.getloadavg()[0]:.1f} on "
          f"{os.cpu_count()} CPUs):")
    ours, ours_minutes = summary(result["ours"])
    floor, floor_minutes = summary(result["floor"])
    print(f"  ticketing-cron  {ours}   (bars: <= {MEDIAN_BAR_S * 1000:.0f} ms, "
          f"<= {SLOWEST_BAR_S * 1000:.0f} ms)")
    print(f"  bare POST       {floor}   (dev/bench_bare.py from the same units started "
          f"on the minute, in the minutes between)")
    print(f"  per minute      ticketing-cron {ours_minutes}; bare {floor_minutes} ms "
          f"(median/slowest)")
    if result["systemd"]:
        print(f"  systemd began starting the units {min(result['systemd']) * 1000:+.0f} to "
              f"{max(result['systemd']) * 1000:+.0f} ms from the minute (median "
              f"{statistics.median(result['systemd']) * 1000:+.0f} ms; the timers elapse "
              f"a second ahead)")
