"""System-test harness: the built .deb in a booted Debian container.

Once per run it debootstraps a minimal Debian of the host's own release (suite and
mirror read from the host's apt sources), boots a copy of it with systemd-nspawn
(sharing the host's network, so the container reaches the stand-in API on the host's
127.0.0.1), and gives the tests a `machine` to run commands in and a `standin` API.

Needs root, debootstrap and systemd-nspawn (installed with apt-get when missing).
When CI=true a missing prerequisite fails the run instead of skipping it.

Environment:
  TC_DEB              the .deb to test (default: dist/ticketing-cron_<version>_all.deb)
  TC_SYSTEM_ROOTFS    where the debootstrap tree is kept and reused on later runs
                      (default /var/tmp/ticketing-cron-rootfs)
  TC_SYSTEM_WORKDIR   where the container tree and scratch files go (default: a new
                      directory under /var/tmp, removed afterwards)
  TC_SYSTEM_KEEP=1    keep the work directory (and say where it is)
"""

import fcntl
import os
import shutil
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from alert_support import Hook
from harness import (REPO, REPORT, Background, Standin, boot_overlay, build_newer_deb, debootstrap,
                     ensure_host_tools, host_release, package_version, report)


DEFAULT_ROOTFS = "/var/tmp/ticketing-cron-rootfs"


def pytest_configure(config):
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        # Where the pytest-xdist workers, started after this, write their figures.
        fd, path = tempfile.mkstemp(prefix="ticketing-cron-figures-", dir="/var/tmp")
        os.close(fd)
        os.environ["TC_SYSTEM_REPORT"] = path


def pytest_terminal_summary(terminalreporter):
    shared = os.environ.get("TC_SYSTEM_REPORT")
    lines = REPORT
    if shared and not os.environ.get("PYTEST_XDIST_WORKER"):
        with open(shared, encoding="utf-8") as f:
            lines = f.read().splitlines()
        os.unlink(shared)
    if lines:
        terminalreporter.section("ticketing-cron system test figures")
        for line in lines:
            terminalreporter.write_line(line)


# -------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def workdir():
    ensure_host_tools()
    given = os.environ.get("TC_SYSTEM_WORKDIR")
    if given:
        # One directory per pytest-xdist worker: each removes its own at the start.
        path = Path(given) / os.environ.get("PYTEST_XDIST_WORKER", "main")
        if path.exists():
            shutil.rmtree(path)
        path.mkdir(parents=True)
    else:
        path = Path(tempfile.mkdtemp(prefix="ticketing-cron-system-", dir="/var/tmp"))
    yield path
    if os.environ.get("TC_SYSTEM_KEEP") == "1":
        print(f"\nsystem test work directory kept: {path}")
    else:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def deb():
    """The .deb under test (built by dev/build-deb)."""
    path = Path(os.environ.get("TC_DEB") or
                REPO / "dist" / f"ticketing-cron_{package_version()}_all.deb")
    if not path.exists():
        pytest.fail(f"no {path}: build it first with dev/build-deb (or set TC_DEB)",
                    pytrace=False)
    return path


@pytest.fixture(scope="session")
def upgrade_build(workdir):
    """A newer build of the package, made in the background while the tests wait for
    minute boundaries."""
    build = Background(build_newer_deb, workdir, package_version() + "+systemtest1")
    yield build
    build.wait()  # before the work directory goes


@pytest.fixture(scope="session")
def base_rootfs(workdir):
    """The debootstrap tree every container is copied from: made once, kept in
    TC_SYSTEM_ROOTFS (default /var/tmp/ticketing-cron-rootfs) and reused while its
    release, mirror and package list are the same. Test processes side by side
    (pytest-xdist) wait for each other on a lock instead of debootstrapping twice."""
    mirror, suite = host_release()
    target = Path(os.environ.get("TC_SYSTEM_ROOTFS") or DEFAULT_ROOTFS)
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(f"{target}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return debootstrap(target, mirror, suite)


@pytest.fixture(scope="session")
def secret():
    """The app's CRON_SECRET for this run (never to show up in the journal)."""
    return "tc-" + uuid.uuid4().hex + uuid.uuid4().hex[:8]


@pytest.fixture(scope="session")
def standin(workdir, secret):
    api = Standin(workdir, secret)
    yield api
    api.stop()


@pytest.fixture(scope="session")
def machine(workdir, base_rootfs, upgrade_build):
    """A booted container without the package (test_package installs it)."""
    started = time.monotonic()
    m = boot_overlay(base_rootfs, workdir / "package", f"tc-system-{os.getpid()}")
    report(f"package container: booted in {time.monotonic() - started:.1f} s")
    yield m
    m.discard()


@pytest.fixture(scope="module")
def jobs_api(secret):
    """A loopback API answering every job's path (the stand-in knows only sla-check)."""
    from schedule_support import JobsApi

    api = JobsApi(secret)
    yield api
    api.close()


@pytest.fixture(scope="module")
def jobs_box(workdir, base_rootfs, deb, jobs_api, secret):
    """A container of the schedule tests' own, the package installed and configured."""
    from schedule_support import JobsBox

    box = JobsBox.create(workdir, base_rootfs, deb, jobs_api, secret)
    yield box
    box.machine.discard()


@pytest.fixture(scope="module")
def hook():
    """A loopback webhook receiver (alert_support.Hook) for one module's alerts."""
    receiver = Hook()
    yield receiver
    receiver.close()
