"""The previous release, built from this repository's own history, for the upgrade tests
(test_release_upgrade.py, test_piuparts.py)."""

import fcntl
import subprocess
from pathlib import Path

import pytest

from harness import REPO, build_deb

# The last commit that was 0.1.0 (the version before this one; debian/changelog).
PREVIOUS_RELEASE = ("0.1.0", "3b10cf1e6f5be59ea170910e1109406fbcd26c6d")
# Built once per machine: the modules run side by side (pytest-xdist) and on later runs
# share it (a build of a fixed commit, kept by its commit's name).
CACHE = Path("/var/tmp")


def build_previous_release():
    """The .deb of PREVIOUS_RELEASE, built from `git archive` of that commit (its own
    unit tests skipped: they ran when it was made), once per machine under /var/tmp.

    Returns:
        The path of ticketing-cron_0.1.0_all.deb.
    """
    version, commit = PREVIOUS_RELEASE
    known = subprocess.run(["git", "-C", str(REPO), "cat-file", "-e", f"{commit}^{{commit}}"],
                           capture_output=True)
    if known.returncode != 0:
        pytest.fail(f"this checkout lacks commit {commit} ({version}): the upgrade tests "
                    f"build the previous release from history; clone without --depth",
                    pytrace=False)
    top = CACHE / f"ticketing-cron-previous-{commit}"
    top.mkdir(exist_ok=True)
    deb = top / f"ticketing-cron_{version}_all.deb"
    with open(top / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if deb.exists():
            return deb
        src = top / f"ticketing-cron-{version}"
        subprocess.run(["rm", "-rf", str(src)], check=True)
        src.mkdir()
        archive = subprocess.run(["git", "-C", str(REPO), "archive", "--format=tar", commit],
                                 capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(src)], input=archive, check=True)
        built = build_deb(src, version)
        subprocess.run(["rm", "-rf", str(src)], check=True)
        return built
