"""The generator on a config of a few hundred jobs, against golden files.

tests/golden/generator-scale/CASE/config.toml has jobs in many time zones with every kind
of schedule (cron lines, systemd syntax, bad ones, deadlines at the edge of their
interval, across daylight-saving changes). expected/ holds what the generator wrote for
it, as systemd runs it, at fixed moments just before daylight-saving changes: every file
and link and the kernel-log lines, one text file per moment. The files were made by the
generator as it was before it learned to judge most schedules without systemd-analyze's
500 elapses, so they hold the new one to the old one's output byte for byte; since
timers elapse one second ahead, they differ from that output only where a job's timer is
shifted (its note and OnCalendar= values, each checked against systemd-analyze's elapses
when the files were rewritten).
See tests/golden_files.py to regenerate.
"""

import os
import subprocess
import sys

import pytest

from fake_clock import faketime_env
from golden_files import cases, compare
from support import REPO

GENERATOR = REPO / "systemd" / "ticketing-cron-generator"
CONFIG = "/etc/ticketing-cron/config.toml"
# Hours before Europe's and Lord Howe's spring-forward and fall-back changes (UTC).
MOMENTS = ("2026-03-28 22:00:00", "2026-04-04 12:00:00", "2026-10-03 12:00:00",
           "2026-10-24 20:00:00")


def rendered(case, tmp_path, moment):
    """The generator's output for the case's config at ``moment``, as one text."""
    config = tmp_path / "config.toml"
    config.write_bytes((case / "config.toml").read_bytes())
    out = tmp_path / "normal"
    out.mkdir()
    kmsg = tmp_path / "kmsg"
    kmsg.write_text("")
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "TZ": "UTC",
           "TICKETING_CRON_GENERATOR_CONFIG": str(config),
           "TICKETING_CRON_GENERATOR_KMSG": str(kmsg), **faketime_env(moment)}
    done = subprocess.run([sys.executable, str(GENERATOR), str(out), str(tmp_path / "early"),
                           str(tmp_path / "late")], env=env, capture_output=True, text=True,
                          timeout=300)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    parts = []
    for directory, dirs, files in sorted(os.walk(out)):
        dirs.sort()
        for name in sorted(files + [d for d in dirs if os.path.islink(os.path.join(directory, d))]):
            path = os.path.join(directory, name)
            text = "-> " + os.readlink(path) + "\n" if os.path.islink(path) else \
                open(path, encoding="ascii").read()
            parts.append(f"=== {os.path.relpath(path, out)}\n{text}")
    parts.append("=== kmsg\n" + kmsg.read_text())
    return "".join(parts).replace(str(config), CONFIG)


@pytest.mark.parametrize("case", cases("generator-scale"), ids=lambda p: p.name)
def test_generator_output_for_hundreds_of_jobs_matches_golden_files(case, tmp_path):
    tree = {}
    for n, moment in enumerate(MOMENTS):
        (tmp_path / str(n)).mkdir()
        tree[moment.replace(" ", "T") + ".txt"] = rendered(case, tmp_path / str(n), moment)
    compare(case / "expected", tree)
