"""Twenty every-minute jobs with a day of summary records each, in a booted container:
for test_status_scale.py and dev/bench (which times `ticketing-cron status` over them).

The records are written from inside each job's own unit (a drop-in replaces its
ExecStart= for the while), with the journal's native protocol as the run writes them,
so that journald stamps them _SYSTEMD_UNIT and the unit's dynamic _UID like real runs.
"""

import time

JOBS = ["sla-check"] + [f"job-{i:02d}" for i in range(1, 20)]
RUNS_A_DAY = 1440
FAILED_EVERY = 97  # one run in 97 fails (unavailable): 15 of a day's 1,440
CONFIG = "/etc/ticketing-cron/config.toml"
SECRET = "/etc/ticketing-cron/cron-secret"
# Outside /tmp and /var/tmp, which the units see privately (PrivateTmp=).
WRITER = "/usr/local/lib/tc-write-day.py"
DROPINS = ("/etc/systemd/system/ticketing-cron@.service.d/zz-write-day.conf",
           "/etc/systemd/system/ticketing-cron.service.d/zz-write-day.conf")

WRITE_DAY = f"""\
import os, random, sys
from systemd import journal
job = sys.argv[1]
rng = random.Random(job)
for i in range({RUNS_A_DAY}):
    ok = i % {FAILED_EVERY} != 0
    journal.send(f"{{job}} {{'ok' if ok else 'unavailable'}}: day record {{i}}",
                 SYSLOG_IDENTIFIER="ticketing-cron", JOB=job,
                 OUTCOME="ok" if ok else "unavailable", EXIT_STATUS="0" if ok else "69",
                 DURATION_MS=str(rng.randint(40, 400)), HTTP_STATUS="200",
                 UNASSIGNED_COUNT="1", REQUEST_ID=os.urandom(16).hex(),
                 PRIORITY="6" if ok else "3")
"""

# Times the whole command as an administrator runs it: Python's start-up, the config,
# systemctl show, the journal and the JSON.
TIMED_STATUS = """\
import subprocess, sys, time
started = time.monotonic()
done = subprocess.run(["ticketing-cron", "status", "--json", *sys.argv[1:]],
                      capture_output=True)
print(time.monotonic() - started)
print(done.returncode)
sys.stdout.write(done.stdout.decode())
"""


def config_text(base_url):
    """sla-check and nineteen more jobs, each every minute."""
    parts = [f"# Written by {__name__}.\n[api]\nbase_url = \"{base_url}\"\n\n"
             f"[jobs.sla-check]\npath = \"/api/cron/sla-check\"\n"]
    parts += [f"\n[jobs.{job}]\npath = \"/api/cron/{job}\"\nschedule = \"* * * * *\"\n"
              for job in JOBS[1:]]
    return "".join(parts)


def write_days(machine, base_url="http://127.0.0.1:9"):
    """Configure the twenty jobs (their timers stay stopped) and write a day of
    records for each from its own unit; returns the seconds that took."""
    started = time.monotonic()
    machine.write(CONFIG, config_text(base_url))
    machine.write(SECRET, "day-records-only\n", mode="0600")
    machine.write(WRITER, WRITE_DAY)
    for dropin, job in zip(DROPINS, ("%i", "sla-check")):
        machine.write(dropin, f"[Service]\nExecStart=\nExecStart=/usr/bin/python3 {WRITER} {job}\n")
    machine.run(["systemctl", "daemon-reload"])
    try:
        for job in JOBS:
            unit = "ticketing-cron" if job == "sla-check" else f"ticketing-cron@{job}"
            machine.run(["systemctl", "start", f"{unit}.service"], timeout=120)
    finally:
        machine.run(["rm", "-f", *DROPINS])
        machine.run(["systemctl", "daemon-reload"])
    machine.run(["journalctl", "--sync"])
    return time.monotonic() - started


def timed_status(machine, *args):
    """(seconds the whole `ticketing-cron status --json ARGS` took, its exit status,
    its output)."""
    out = machine.run(["python3", "-c", TIMED_STATUS, *args]).stdout
    seconds, status, document = out.split("\n", 2)
    return float(seconds), int(status), document
