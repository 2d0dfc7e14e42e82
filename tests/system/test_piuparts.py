"""piuparts on the built .deb: the installation and purge test, and the upgrade test from
the previous release (0.1.0, built from history) to this one.

piuparts works in a chroot made from a copy of the cached debootstrap tree
(--existing-chroot: the tree itself is never written) with the host's Debian mirror and
suite. For the upgrade test it must find the previous release through apt: a flat
repository holding only the 0.1.0 .deb, bind-mounted into the chroot (--extra-repo).
"""

import subprocess
import time

import pytest

from harness import host_env, host_release, report, sh
from release_support import build_previous_release

pytestmark = pytest.mark.system


@pytest.fixture(scope="module")
def previous_repo(workdir):
    """A flat apt repository (apt-ftparchive) with the previous release only."""
    repo = workdir / "piuparts-previous"
    repo.mkdir()
    previous = build_previous_release()
    (repo / previous.name).write_bytes(previous.read_bytes())
    packages = sh(["apt-ftparchive", "packages", "."], cwd=repo).stdout
    (repo / "Packages").write_text(packages)
    return repo


def test_piuparts_install_purge_and_upgrade_from_the_previous_release(workdir, base_rootfs,
                                                                     deb, previous_repo):
    mirror, suite = host_release()
    log = workdir / "piuparts.log"
    started = time.monotonic()
    proc = subprocess.run(
        ["piuparts", "-d", suite, "-m", mirror, "--existing-chroot", str(base_rootfs),
         "--bindmount", str(previous_repo),
         "--extra-repo", f"deb [trusted=yes] file://{previous_repo} ./",
         "-l", str(log), str(deb)],
        capture_output=True, text=True, timeout=1200, env=host_env())
    report(f"piuparts (install/purge, upgrade 0.1.0 -> this): "
           f"{time.monotonic() - started:.1f} s")
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-8000:]
    assert "PASS: Installation and purging test." in output
    # The upgrade test ran (it is skipped when apt does not know the package) and went
    # from 0.1.0 to this build.
    assert "PASS: Installation, upgrade and purging tests." in output
    assert "Unpacking ticketing-cron (0.1.0)" in output
    version = deb.name.split("_")[1]
    assert f"Unpacking ticketing-cron ({version}) over (0.1.0)" in output
    assert "PASS: All tests." in output
