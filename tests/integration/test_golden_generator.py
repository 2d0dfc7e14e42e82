"""The generator against golden files (tests/golden/generator/CASE/).

Each case is a directory with the administrator's ``config.toml``; ``expected/`` is the
tree the generator must write (drop-ins and the links that enable the timers) and
``expected/kmsg`` its kernel-log lines. The config's temporary path is written as
/etc/ticketing-cron/config.toml in both, and systemd's unit directory (the build's
pkg-config answer) as @systemdsystemunitdir@. Every generated unit is then passed through
``systemd-analyze verify`` with the packaged units, as systemd would load them.
See tests/golden_files.py to regenerate.
"""

import os
import shutil
import subprocess
import sys

import pytest

from golden_files import cases, compare
from support import REPO
from ticketing_cron.schedules.unit_dir import system_unit_dir

GENERATOR = REPO / "systemd" / "ticketing-cron-generator"
CONFIG = "/etc/ticketing-cron/config.toml"
UNIT_DIR_TOKEN = "@systemdsystemunitdir@"
# The one thing a host without the package cannot have: its command.
NOT_INSTALLED = "Command /usr/bin/ticketing-cron is not executable: No such file or directory"


def generate(case, tmp_path):
    """Run the generator as systemd does on the case's config; return the rendered tree."""
    config = tmp_path / "config.toml"
    shutil.copyfile(case / "config.toml", config)
    out = tmp_path / "normal"
    out.mkdir()
    kmsg = tmp_path / "kmsg"
    kmsg.write_text("")
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO),
           "TICKETING_CRON_GENERATOR_CONFIG": str(config),
           "TICKETING_CRON_GENERATOR_KMSG": str(kmsg)}
    done = subprocess.run([sys.executable, str(GENERATOR), str(out), str(tmp_path / "early"),
                           str(tmp_path / "late")], env=env, capture_output=True, text=True,
                          timeout=120)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    tree = {}
    for directory, dirs, files in os.walk(out):
        for name in files + dirs:
            path = os.path.join(directory, name)
            key = os.path.relpath(path, out)
            if os.path.islink(path):
                tree[key] = "-> " + os.readlink(path).replace(system_unit_dir(), UNIT_DIR_TOKEN)
            elif os.path.isfile(path):
                tree[key] = open(path, encoding="ascii").read().replace(str(config), CONFIG)
    lines = kmsg.read_text().replace(str(config), CONFIG)
    if lines:
        tree["kmsg"] = lines
    return tree, out


def packaged_units(root):
    """The package's units laid out as debian/ticketing-cron.install and .links install
    them, under ``root``."""
    units = root / "units"
    shutil.copytree(REPO / "systemd", units, ignore=shutil.ignore_patterns(
        "ticketing-cron-generator", "*.catalog", "encrypted-secret.conf"))
    template = units / "ticketing-cron@.service.d"
    template.mkdir()
    shutil.copyfile(units / "ticketing-cron.service.d" / "50-run.conf",
                    template / "50-run.conf")
    return units


def verify(generated, units, tmp_path):
    """systemd-analyze verify every unit the generator touched; returns its complaints."""
    names = {name[:-2] for name in os.listdir(generated) if name.endswith(".d")}
    names |= {name.replace(".timer", ".service") for name in names if name.endswith(".timer")}
    if not names:
        return []
    env = {"PATH": "/usr/bin:/bin", "SYSTEMD_LOG_COLOR": "0",
           "SYSTEMD_UNIT_PATH": f"{generated}:{units}:{system_unit_dir()}"}
    done = subprocess.run(["systemd-analyze", "verify", "--man=no", *sorted(names)],
                          env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    return [line for line in (done.stdout + done.stderr).splitlines()
            if line.strip() and NOT_INSTALLED not in line]


@pytest.mark.parametrize("case", cases("generator"), ids=lambda p: p.name)
def test_generator_output_matches_golden_files(case, tmp_path):
    tree, generated = generate(case, tmp_path)
    compare(case / "expected", tree)
    if shutil.which("systemd-analyze") is None and not os.environ.get("CI"):
        pytest.skip("systemd-analyze is not installed")
    assert verify(generated, packaged_units(tmp_path), tmp_path) == []


def test_verify_reports_a_broken_drop_in(tmp_path):
    """The check above can fail: a bad setting in a generated drop-in is reported."""
    tree, generated = generate(GOLDEN_JOBS, tmp_path)
    dropin = generated / "ticketing-cron@hourly.service.d" / "ticketing-cron-generator.conf"
    dropin.write_text(dropin.read_text().replace("TimeoutStartSec=53s", "TimeoutStartSec=soon"))
    complaints = verify(generated, packaged_units(tmp_path), tmp_path)
    assert any("TimeoutStartSec" in line for line in complaints), complaints


GOLDEN_JOBS = next(case for case in cases("generator") if case.name == "jobs")
