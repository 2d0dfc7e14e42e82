"""The upgrade as an administrator gets it: from a signed apt repository made by
dev/build-repo, served over HTTP from the host's loopback.

The container trusts the repository's key through a deb822 source with Signed-By:,
installs 0.1.0 (built from history) with apt, is configured, and then the package under
test is published: `apt update` and `apt upgrade` bring it, with no prompt. Before that,
the same release signed with a key the source does not name is refused by `apt update`.
"""

import os
import shutil
import subprocess
import time

import pytest

from harness import REPO, TIMER, boot_overlay, host_env, own_standin, report, sh, wait_for
from release_support import PREVIOUS_RELEASE, build_previous_release

pytestmark = pytest.mark.system

BUILD_REPO = str(REPO / "dev" / "build-repo")
KEYRING = "/usr/share/keyrings/ticketing-cron-archive-keyring.gpg"
SOURCES = "/etc/apt/sources.list.d/ticketing-cron.sources"
CONFIG = "/etc/ticketing-cron/config.toml"
SECRET = "/etc/ticketing-cron/cron-secret"


def make_key(gnupghome, name):
    """A new signing key (no passphrase, valid one day) in gnupghome; returns its
    fingerprint."""
    gnupghome.mkdir(mode=0o700)
    env = dict(host_env(), GNUPGHOME=str(gnupghome))
    sh(["gpg", "--batch", "--passphrase", "", "--quick-gen-key",
        f"{name} <archive@ticketing-cron.invalid>", "ed25519", "sign", "1d"], env=env)
    listing = sh(["gpg", "--batch", "--with-colons", "--list-secret-keys"], env=env).stdout
    return next(line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr:"))


def publish(repo, gnupghome, key, debs):
    """dev/build-repo of ``debs`` into ``repo`` with ``key``."""
    staging = repo.parent / f"staging-{time.monotonic_ns()}"
    staging.mkdir()
    for deb in debs:
        shutil.copy2(deb, staging)
    env = dict(host_env(), GNUPGHOME=str(gnupghome))
    sh([BUILD_REPO, "--from", str(staging), "--key", key, str(repo)], env=env)


@pytest.fixture(scope="module")
def archive(workdir):
    """The repository directory, its signing key's GNUPGHOME and fingerprint, a second
    key the clients do not trust, and a loopback HTTP server for the directory."""
    top = workdir / "apt-repository"
    top.mkdir()
    repo = top / "repo"
    keys = {name: (top / name, make_key(top / name, f"ticketing-cron {name} archive"))
            for name in ("good", "other")}
    publish(repo, *keys["good"], [build_previous_release()])
    server = subprocess.Popen(
        ["/usr/bin/python3", "-u", "-m", "http.server", "--bind", "127.0.0.1",
         "--directory", str(repo), "0"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=host_env())
    try:
        line = server.stdout.readline()
        port = int(line.split(" port ")[1].split()[0])
        yield repo, keys, f"http://127.0.0.1:{port}/"
    finally:
        server.terminate()
        server.wait(10)
        for home, _ in keys.values():
            subprocess.run(["gpgconf", "--kill", "all"], env=dict(host_env(), GNUPGHOME=str(home)),
                           check=False)


@pytest.fixture(scope="module")
def client(workdir, base_rootfs, archive, secret):
    """A container that installed 0.1.0 from the repository, configured and ticking."""
    repo, _, url = archive
    api = own_standin(workdir, "apt-repository-standin", secret)
    machine = boot_overlay(base_rootfs, workdir / "apt-client", f"tc-aptrepo-{os.getpid()}")
    try:
        shutil.copyfile(repo / "ticketing-cron-archive-keyring.gpg", machine.path(KEYRING))
        machine.write(SOURCES, f"Types: deb\nURIs: {url}\nSuites: ./\nSigned-By: {KEYRING}\n")
        machine.run(["apt", "update"], timeout=600)
        machine.run(["apt", "install", "-y", "--no-install-recommends", "ticketing-cron"],
                    input="", timeout=600)
        assert machine.run(["ticketing-cron", "--version"]).stdout.split()[1] == \
            PREVIOUS_RELEASE[0]
        text = machine.path(CONFIG).read_text()
        machine.write(CONFIG, text.replace('base_url = "https://tickets.example.com"',
                                           f'base_url = "{api.url}"  # edited'))
        machine.write(SECRET, secret + "\n", mode="0600")
        machine.run(["ticketing-cron", "check"])
    except BaseException:
        machine.discard()
        api.stop()
        raise
    yield machine, api
    machine.discard()
    api.stop()


def candidate(machine):
    policy = machine.run(["apt-cache", "policy", "ticketing-cron"]).stdout
    return next(line.split()[1] for line in policy.splitlines()
                if line.strip().startswith("Candidate:"))


def test_a_release_signed_with_another_key_is_refused(client, archive, deb):
    machine, _ = client
    repo, keys, _ = archive
    publish(repo, *keys["other"], [deb])
    refused = machine.run(["apt", "update"], check=False, timeout=600)
    output = refused.stdout + refused.stderr
    assert refused.returncode != 0 or "NO_PUBKEY" in output, output
    assert "NO_PUBKEY" in output or "not signed" in output, output
    assert candidate(machine) == PREVIOUS_RELEASE[0]


def test_apt_update_and_upgrade_bring_the_new_release(client, archive, deb):
    machine, api = client
    repo, keys, _ = archive
    version = deb.name.split("_")[1]
    config = machine.path(CONFIG).read_bytes()
    publish(repo, *keys["good"], [deb])
    machine.run(["apt", "update"], timeout=600)
    assert candidate(machine) == version
    started = time.monotonic()
    upgrade = machine.run(["apt", "upgrade", "-y"], input="", check=False, timeout=600)
    report(f"apt upgrade from the signed repository: {time.monotonic() - started:.1f} s")
    output = upgrade.stdout + upgrade.stderr
    assert upgrade.returncode == 0, output
    assert f"Unpacking ticketing-cron ({version}) over ({PREVIOUS_RELEASE[0]})" in output
    assert "conffile" not in output.lower()
    assert machine.run(["dpkg-query", "-W", "-f=${Version}", "ticketing-cron"]).stdout == \
        version
    assert machine.path(CONFIG).read_bytes() == config
    assert machine.path(SECRET).read_text().strip() != ""
    assert machine.run(["systemctl", "is-active", TIMER]).stdout.strip() == "active"
    # A run of the new version against the app.
    machine.avoid_boundary(15)
    seen = len(api.calls())
    rc, _ = machine.start_service()
    assert rc == 0
    calls = wait_for(lambda: api.calls()[seen:], 30, "the new version's call")
    assert {c["user_agent"] for c in calls} == {f"ticketing-cron/{version}"}
    assert all(c["secret_ok"] for c in calls)
