"""The package's autopkgtests (debian/tests/control), run by Debian's `autopkgtest` on
the built .deb.

The back end: autopkgtest-virt-null inside a booted container. virt-null runs the tests
where autopkgtest itself runs and offers isolation-machine, so tests that need a real
systemd as PID 1 (Restrictions: isolation-container) run; the container is thrown away
after it, so breaks-testbed costs nothing. (This machine's PID 1 is not systemd, which
rules out virt-null on the host; Debian 12 has no nspawn back end; virt-podman and
virt-docker need an image registry.) autopkgtest installs the .deb itself, with the
tests' dependencies, from the container's Debian archive.
"""

import os
import time

import pytest

from harness import boot_overlay, copy_source_tree, report

pytestmark = pytest.mark.system

SOURCE = "/var/tmp/autopkgtest/src"
OUTPUT = "/var/tmp/autopkgtest/out"
TESTS = ("run-against-standin", "generator")


@pytest.fixture(scope="module")
def testbed(workdir, base_rootfs):
    """A booted container with autopkgtest installed (not the package: autopkgtest
    installs it) and a copy of the source tree (debian/tests and dev/standin_api.py)."""
    started = time.monotonic()
    machine = boot_overlay(base_rootfs, workdir / "autopkgtest", f"tc-apt-{os.getpid()}")
    try:
        machine.run(["apt-get", "install", "-y", "-q", "--no-install-recommends",
                     "autopkgtest"], timeout=900)
        copy_source_tree(machine.path(SOURCE))
    except BaseException:
        machine.discard()
        raise
    report(f"autopkgtest container: booted, autopkgtest installed in "
           f"{time.monotonic() - started:.1f} s")
    yield machine
    machine.discard()


def test_the_autopkgtests_pass_on_the_built_deb(testbed, deb):
    inside = testbed.stage(deb)
    started = time.monotonic()
    proc = testbed.run(["autopkgtest", "--output-dir", OUTPUT, inside, SOURCE, "--",
                        "null"], check=False, timeout=900)
    report(f"autopkgtest (virt-null in a booted container): {time.monotonic() - started:.1f} s")
    summary = testbed.path(f"{OUTPUT}/summary").read_text() \
        if testbed.path(f"{OUTPUT}/summary").exists() else ""
    assert proc.returncode == 0, f"autopkgtest exited {proc.returncode}\n{summary}\n" \
        f"{proc.stdout[-6000:]}\n{proc.stderr[-6000:]}"
    results = dict(line.split()[:2] for line in summary.splitlines() if line.strip())
    assert results == {name: "PASS" for name in TESTS}, summary
    # The package autopkgtest tested is the one built here.
    assert testbed.run(["dpkg-query", "-W", "-f=${Version}", "ticketing-cron"]).stdout == \
        deb.name.split("_")[1]
