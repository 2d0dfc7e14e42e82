"""The soak (dev/soak): every-minute ticks of two jobs in a booted container for half an
hour or more, with faults injected at random, judged by independent evidence.

A seed makes the plan (which minutes the app is down, slow or flapping, when journald
is restarted and when the container is powered off and booted again); the same seed
gives the same plan. The stand-in follows the plan by slot (X-Cron-Scheduled-At), so
a fault belongs to a minute whatever the host's timing.

Judged afterwards: every slot outside the reboots was called with its own key (once
when the app was well; a failing slot may be retried within its run, with the same
key), each reboot left one catch-up per job and no other call; per job, one first
alert and one recovery notice per outage (webhook and mail alike), nothing else; no
unit failed and `status` healthy at the end; the peak memory of every run and
handler below its unit's MemoryMax.
Memory: the test containers cannot account memory per unit (on a host with cgroup v1
the memory controller is read-only inside systemd-nspawn), so a sampler on the host
reads each run's and handler's VmHWM (the kernel's peak resident set) every 20 ms.
"""

import json
import os
import random
import re
import threading
import time

from fault_box import FaultBox, Hook, config_text, iso_slot, slot_of, wait_handlers_idle
from harness import next_boundary, own_cgroups, sleep_until

JOBS = {"sla-check": "ticketing-cron.service", "second": "ticketing-cron@second.service"}
SECOND_PATH = "/api/cron/second"
SECOND_JOB = f'[jobs.second]\npath = "{SECOND_PATH}"\nschedule = "* * * * *"\n\n'
APP_FAULTS = ("down", "slow", "flap")
DEADLINE_S = 10
SLOW_MS = 15000


def plan(seed, minutes):
    """The faults of one soak: a list of (minute index, kind, length in minutes), each
    kind at least once, at least two good minutes between two faults and none in the
    first two and the last three minutes (33 minutes leave room for every kind)."""
    rng = random.Random(seed)
    kinds = ["down", "slow", "flap", "journald", "reboot"]
    rng.shuffle(kinds)
    lengths = {"down": lambda: rng.randint(2, 4), "slow": lambda: rng.randint(1, 2),
               "flap": lambda: 4, "journald": lambda: 1, "reboot": lambda: 2}
    events, at = [], 2
    while True:
        kind = kinds.pop(0) if kinds else rng.choice(["down", "slow", "flap", "journald"])
        length = lengths[kind]()
        start = at + rng.randint(0, 1)
        if start + length > minutes - 3:
            break
        events.append((start, kind, length))
        at = start + length + 2
    return events


def failing_minutes(events):
    """The minute indexes at which the app fails, with how: {index: "down"|"slow"}."""
    failing = {}
    for start, kind, length in events:
        if kind == "down":
            failing.update((start + i, "down") for i in range(length))
        elif kind == "slow":
            failing.update((start + i, "slow") for i in range(length))
        elif kind == "flap":
            failing.update((start + i, "down") for i in range(0, length, 2))
    return failing


def outages(failing, minutes):
    """The failing minutes grouped into outages (runs of consecutive minutes)."""
    groups, current = [], []
    for index in range(minutes):
        if index in failing:
            current.append(index)
        elif current:
            groups.append(current)
            current = []
    if current:
        groups.append(current)
    return groups


class PeakSampler:
    """Reads VmHWM of every process in the container's ticketing-cron units (found by
    their cgroups, under the container's own on the host) every 20 ms."""

    def __init__(self, machine):
        self.slice = (own_cgroups(machine.name)[-1] / "payload" / "system.slice")
        self.peaks = {}          # (unit, pid, label) -> [label, peak KiB]
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self):
        while not self.stop.wait(0.02):
            try:
                self._sample()
            except OSError:  # a reboot in progress; next round
                continue

    def _units(self):
        for entry in os.scandir(self.slice):
            if entry.name.startswith("ticketing-cron"):
                yield entry.name, entry.path
            elif entry.name.startswith("system-ticketing\\x2dcron"):
                for unit in os.scandir(entry.path):
                    if unit.name.startswith("ticketing-cron") and unit.is_dir():
                        yield unit.name, unit.path

    def _sample(self):
        for unit, path in list(self._units()):
            role = role_of(unit)
            if role is None:
                continue
            try:
                with open(os.path.join(path, "cgroup.procs")) as f:
                    pids = f.read().split()
            except OSError:
                continue
            for pid in pids:
                try:
                    with open(f"/proc/{pid}/status") as f:
                        text = f.read()
                except OSError:
                    continue
                match = re.search(r"VmHWM:\s+(\d+) kB", text)
                name = re.search(r"Name:\s+(\S+)", text)
                name = name.group(1) if name else "?"
                # systemd's own fork before the exec ("(ing-cron)", "systemd",
                # "sd-mkdcreds") holds a copy of PID 1's pages: not the unit's program.
                if not match or name.startswith(("(", "systemd", "sd-")):
                    continue
                parent = re.search(r"PPid:\s+(\d+)", text)
                if name == "ticketing-cron" and parent and parent.group(1) in pids:
                    continue  # the program's fork before it execs systemctl or sendmail
                label = role if name == "ticketing-cron" else f"{role} ({name})"
                known = self.peaks.setdefault((unit, pid, label), [label, 0])
                known[1] = max(known[1], int(match.group(1)))

    def close(self):
        self.stop.set()
        self.thread.join(5)

    def by_role(self):
        """{role: (processes seen, peak KiB)}."""
        roles = {}
        for role, peak in self.peaks.values():
            count, top = roles.get(role, (0, 0))
            roles[role] = (count + 1, max(top, peak))
        return roles


def role_of(unit):
    """'run', 'notify-failure' or 'notify-recovery' for the product's units."""
    if unit.startswith("ticketing-cron-failure@"):
        return "notify-failure"
    if unit.startswith("ticketing-cron-recovery@"):
        return "notify-recovery"
    if unit.startswith(("ticketing-cron.service", "ticketing-cron@")):
        return "run"
    return None


def memory_max_kib(machine, unit):
    value = machine.show(unit, "MemoryMax")["MemoryMax"]
    return int(value) // 1024 if value.isdigit() else None


def soak(workdir, base_rootfs, deb, api, secret, minutes, seed, say=print):
    """Run the soak; returns (report lines, problems)."""
    events = plan(seed, minutes)
    say(f"soak: seed {seed}, {minutes} minutes, faults {events}")
    hook = Hook()
    config = config_text(api.url, hook.url, repeat_interval="1h", deadline=DEADLINE_S,
                         jobs=SECOND_JOB)
    box = FaultBox.create(workdir, base_rootfs, deb, "soak", api, hook, secret, config)
    sampler = None
    try:
        m = box.machine
        m.run(["systemctl", "daemon-reload"])
        m.run(["systemctl", "start", "timers.target"])
        start = next_boundary() + 60
        failing = failing_minutes(events)
        box.script({start + 60 * i: ({"status": 503} if how == "down" else
                                     {"delay_ms": SLOW_MS}) for i, how in failing.items()})
        sampler = PeakSampler(m)
        missed = drive(box, events, start, say)
        end = start + 60 * (minutes - 1)
        sleep_until(end + DEADLINE_S + 20)
        wait_handlers_idle(m)
        box.wait_mail_queue()
        sampler.close()
        return judge(box, sampler, start, minutes, events, failing, missed, seed)
    finally:
        if sampler:
            sampler.close()
        box.machine.discard()
        hook.close()


def drive(box, events, start, say):
    """Inject the host-side faults at their minutes; returns the slots a reboot missed."""
    missed = []
    for index, kind, length in events:
        at = start + 60 * index
        if kind == "journald":
            sleep_until(at + random.Random(at).uniform(0.0, 0.3))
            box.machine.run(["systemctl", "restart", "systemd-journald.service"])
            say(f"soak: journald restarted at {iso_slot(at)} + {time.time() - at:.2f} s")
        elif kind == "reboot":
            sleep_until(at + 20)
            box.machine.poweroff()
            say(f"soak: powered off at {iso_slot(at)} + {time.time() - at:.1f} s")
            sleep_until(at + 60 * length + 15)
            box.machine.boot()
            say(f"soak: booted at {iso_slot(at)} + {time.time() - at:.1f} s")
            back = time.time()
            missed.append([s for s in range(at + 60, int(back) + 1, 60)])
    return missed


def judge(box, sampler, start, minutes, events, failing, missed, seed):
    """The report lines and the problems found (an empty list: the soak passed)."""
    problems, lines = [], []
    calls = [c for c in box.calls() if c["received_at"] >= start - 5]
    slots = [start + 60 * i for i in range(minutes)]
    missed_all = {s for group in missed for s in group}
    by_job = {}
    for call in calls:
        job, kind, slot = slot_of(call)
        by_job.setdefault(job, []).append((kind, slot))
    groups = outages(failing, minutes)
    posts, subjects = box.alerts()
    for job in JOBS:
        seen = by_job.get(job, [])
        scheduled = {}
        for kind, slot in seen:
            if kind == "scheduled":
                scheduled[slot] = scheduled.get(slot, 0) + 1
        catchups = sorted(slot for kind, slot in seen if kind == "catchup")
        others = [k for k, _ in seen if k not in ("scheduled", "catchup")]
        if others:
            problems.append(f"{job}: calls with keys of kind {others}")
        for index, slot in enumerate(slots):
            iso = iso_slot(slot)
            count = scheduled.pop(iso, 0)
            if slot in missed_all:
                if count:
                    problems.append(f"{job}: {iso} called while the machine was off")
            elif index in failing:
                if not count:
                    problems.append(f"{job}: failing slot {iso} never called")
            elif count != 1:
                problems.append(f"{job}: slot {iso} called {count} times")
        extra = [s for s in scheduled if s >= iso_slot(start) and s <= iso_slot(slots[-1])]
        if extra:
            problems.append(f"{job}: calls for slots that are no minute: {extra}")
        wanted = sorted(iso_slot(group[-1]) for group in missed if group)
        if catchups != wanted:
            problems.append(f"{job}: catch-ups {catchups}, expected one per reboot {wanted}")
        alerts = [a for a, j in posts if j == job]
        failures, recoveries = alerts.count("failure"), alerts.count("recovery")
        if failures != len(groups) or recoveries != len(groups) or \
                len(alerts) != 2 * len(groups):
            problems.append(f"{job}: webhook got {alerts}; expected failure and recovery "
                            f"for each of {len(groups)} outages")
        mails_failing = [s for s in subjects if f"FAILING: {job} on " in s]
        mails_recovered = [s for s in subjects if f"RECOVERED: {job} on " in s]
        if len(mails_failing) != len(groups) or len(mails_recovered) != len(groups):
            problems.append(f"{job}: mail subjects {mails_failing + mails_recovered}; "
                            f"expected {len(groups)} of each")
        lines.append(f"{job}: {len(slots)} slots, {len(slots) - len(missed_all)} called on "
                     f"time ({sum(1 for i in failing)} while the app failed), "
                     f"{len(catchups)} catch-up(s), {len(seen)} calls; outages "
                     f"{len(groups)}, alerts {failures} (mail {len(mails_failing)}), "
                     f"recoveries {recoveries} (mail {len(mails_recovered)})")
    failed = box.failed_units()
    if failed:
        problems.append(f"units left failed: {failed}")
    status = box.machine.run(["ticketing-cron", "status", "--json"], check=False)
    states = {job["job"]: job["state"] for job in json.loads(status.stdout)["jobs"]}
    lines.append(f"status at the end: exit {status.returncode}, {states}")
    if status.returncode != 0 or set(states.values()) != {"ok"}:
        problems.append(f"status at the end: exit {status.returncode}, {states}")
    limits = {"run": memory_max_kib(box.machine, JOBS["sla-check"]),
              "notify-failure": memory_max_kib(box.machine,
                                               "ticketing-cron-failure@ticketing-cron.service"
                                               ".service"),
              "notify-recovery": memory_max_kib(box.machine,
                                                "ticketing-cron-recovery@ticketing-cron."
                                                "service.service")}
    for role, (count, peak) in sorted(sampler.by_role().items()):
        limit = limits.get(role.split(" ")[0])
        lines.append(f"peak memory of {role}: {peak / 1024:.1f} MiB ({count} processes "
                     f"sampled, MemoryMax {limit // 1024 if limit else '?'} MiB)")
        if limit is None or peak >= limit:
            problems.append(f"{role}: peak {peak} KiB, MemoryMax {limit}")
    for role in limits:
        if role not in sampler.by_role():
            problems.append(f"no {role} process was sampled")
    kinds = ", ".join(f"{kind} at +{index} min ({length} min)" for index, kind, length in events)
    lines.insert(0, f"soak of {minutes} minutes from {iso_slot(start)}, seed {seed}: {kinds}; "
                    f"{len(groups)} outages per job, {len(missed)} reboot(s)")
    lines.append(f"units failed at the end: {len(failed)}; problems: {len(problems)}")
    return lines, problems
