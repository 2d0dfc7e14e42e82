"""`ticketing-cron import-env` in a booted container of its own: a fresh install plus
the old Node.js app's .env becomes a working setup whose next timer tick succeeds,
first with the plain secret file, then with --encrypt through LoadCredentialEncrypted=
for every job's service, which `check` then recognises.

Its own container, because the shared one's tests start from an unconfigured install.
The two imports are module fixtures (the encrypted one after the plain one), so any
test also runs alone.
"""

import os

import pytest

from harness import TIMER, UNIT, boot_with_package, wait_for

pytestmark = pytest.mark.system

CONFIG = "/etc/ticketing-cron/config.toml"
SECRET = "/etc/ticketing-cron/cron-secret"
CRED = "/etc/ticketing-cron/cron-secret.cred"
DROPIN = "/etc/systemd/system/ticketing-cron.service.d/encrypted-secret.conf"
TEMPLATE_DROPIN = "/etc/systemd/system/ticketing-cron@.service.d/encrypted-secret.conf"
EXAMPLE_DROPIN = "/usr/share/doc/ticketing-cron/examples/encrypted-secret.conf"
ENV = "/home/deploy/cron-jobs/.env"
OLD_LINE = 'base_url = "https://tickets.example.com"'


@pytest.fixture(scope="module")
def box(workdir, base_rootfs, deb):
    """A booted copy of the base tree with the package freshly installed."""
    machine, _ = boot_with_package(base_rootfs, deb, workdir / "import-env",
                                   f"tc-import-{os.getpid()}")
    yield machine
    machine.discard()


@pytest.fixture(scope="module")
def old_env(box, standin, secret):
    """The old app's .env, as its README had it, pointing at the stand-in."""
    box.write(ENV, f"API_BASE_URL=http://127.0.0.1:{standin.port}\nCRON_SECRET={secret}\n"
                   f"NODE_ENV=production\nLOG_LEVEL=info\n", mode="0600")
    return ENV


@pytest.fixture(scope="module")
def plain_import(box, old_env):
    """`import-env` of the .env on the fresh install, away from a tick: returns (the
    config before it, the invocations that ran before it, the command's result)."""
    assert box.run(["systemctl", "is-active", TIMER]).stdout.strip() == "active"
    box.avoid_boundary(10)
    seen = runs_so_far(box)
    before = box.path(CONFIG).read_text()
    result = box.run(["ticketing-cron", "import-env", old_env], check=False)
    print(result.stdout, result.stderr)
    return before, seen, result


@pytest.fixture(scope="module")
def encrypted_import(box, old_env, plain_import):
    """`import-env --encrypt` of the same .env after the plain import, away from a
    tick: returns (the invocations that ran before it, the command's result)."""
    box.avoid_boundary(10)  # the run found after it must be one after the import
    seen = runs_so_far(box)
    result = box.run(["ticketing-cron", "import-env", "--encrypt", old_env], check=False)
    print(result.stdout, result.stderr)
    return seen, result


def stat_of(box, path):
    return box.run(["stat", "-c", "%a %U %G", path]).stdout.strip()


def runs_so_far(box):
    """Invocation ids of the runs that wrote a summary record so far."""
    return {r.get("_SYSTEMD_INVOCATION_ID") for r in box.summaries()}


def next_tick(box, seen):
    """Wait for the first run not in ``seen`` (the test starts none itself, so it is
    the timer's) and return its summary record."""
    def new_records():
        return [r for r in box.summaries() if r.get("_SYSTEMD_INVOCATION_ID") not in seen]
    try:
        found = wait_for(new_records, 90, "the next tick's summary record", interval=1)
    except AssertionError:
        status = box.run(["systemctl", "status", "--no-pager", "-l", TIMER, UNIT],
                         check=False).stdout
        raise AssertionError(f"no tick ran after the import:\n{status}") from None
    assert len(found) == 1, found
    return found[0]


def assert_secret_not_in(secret, *texts):
    for text in texts:
        assert secret not in text, "the secret was printed"


def test_fresh_install_plus_import_env_works_at_the_next_tick(box, standin, secret,
                                                              plain_import):
    before, seen, result = plain_import
    assert result.returncode == 0, result.stderr
    assert_secret_not_in(secret, result.stdout, result.stderr)
    assert f"secret {SECRET}: ok ({len(secret)} characters)" in result.stdout
    assert "NODE_ENV (line 3): not imported" in result.stdout
    assert "LOG_LEVEL (line 4): not imported" in result.stdout

    url = f"http://127.0.0.1:{standin.port}"
    assert box.path(CONFIG).read_text() == before.replace(OLD_LINE, f'base_url = "{url}"')
    assert box.path(CONFIG + ".bak").read_text() == before
    assert stat_of(box, CONFIG) == "644 root root"
    assert box.path(SECRET).read_text() == secret + "\n"
    assert stat_of(box, SECRET) == "600 root root"

    summary = next_tick(box, seen)
    assert summary["OUTCOME"] == "ok", summary
    calls = [c for c in standin.calls() if c.get("request_id") == summary["REQUEST_ID"]]
    assert len(calls) == 1 and calls[0]["secret_ok"]


def test_encrypt_works_at_the_next_tick_through_load_credential_encrypted(
        box, standin, secret, encrypted_import):
    seen, result = encrypted_import
    assert result.returncode == 0, result.stderr
    assert_secret_not_in(secret, result.stdout, result.stderr)
    assert "API_BASE_URL (line 1) -> api.base_url in /etc/ticketing-cron/config.toml: " \
           "unchanged" in result.stdout
    assert f"removed the plain {SECRET} (shred -u)" in result.stdout
    # check ran as the service gets the secret: from the decrypted credential.
    assert "secret /run/credentials/" in result.stdout

    assert not box.path(SECRET).exists()
    assert stat_of(box, CRED) == "600 root root"
    assert secret.encode() not in box.path(CRED).read_bytes()
    assert box.path(DROPIN).read_bytes() == box.path(EXAMPLE_DROPIN).read_bytes()
    assert box.path(TEMPLATE_DROPIN).read_bytes() == box.path(EXAMPLE_DROPIN).read_bytes()
    # systemd 252's `systemctl show` prints credential settings as [unprintable]; the
    # drop-in is in effect, and with no plain file left only it can feed the run below.
    assert DROPIN in box.show(UNIT, "DropInPaths")["DropInPaths"]
    unit = box.run(["systemctl", "cat", UNIT]).stdout
    assert unit.rstrip().endswith(f"LoadCredential=\nLoadCredentialEncrypted=cron-secret:{CRED}"
                                  f"\nLoadCredential=ping-urls:/etc/ticketing-cron/ping-urls")

    summary = next_tick(box, seen)
    assert summary["OUTCOME"] == "ok", summary
    calls = [c for c in standin.calls() if c.get("request_id") == summary["REQUEST_ID"]]
    assert len(calls) == 1 and calls[0]["secret_ok"]
    journal = box.run(["journalctl", "--no-pager", "-o", "json"]).stdout
    assert_secret_not_in(secret, journal)


def test_every_jobs_service_reads_the_encrypted_secret_and_check_knows_it(
        box, standin, secret, encrypted_import):
    """After --encrypt the plain file is gone: a second job's ticketing-cron@.service
    must read the credential too, and `check` judges it instead of asking for the
    plain file back."""
    assert encrypted_import[1].returncode == 0
    config = box.path(CONFIG).read_text()
    box.write(CONFIG, config + '\n[jobs.report]\npath = "/api/cron/sla-check"\n')
    try:
        job_unit = "ticketing-cron@report.service"
        proc = box.run(["systemctl", "start", job_unit], check=False, timeout=120)
        assert proc.returncode == 0, box.run(["journalctl", "--no-pager", "-n", "20", "-u",
                                              job_unit], check=False).stdout
        (summary,) = [r for r in box.journal(f"_SYSTEMD_UNIT={job_unit}") if "OUTCOME" in r]
        assert summary["OUTCOME"] == "ok" and summary["JOB"] == "report"
        calls = [c for c in standin.calls() if c.get("request_id") == summary["REQUEST_ID"]]
        assert len(calls) == 1 and calls[0]["secret_ok"]

        check = box.run(["ticketing-cron", "check"], check=False)
        assert check.returncode == 0, check.stderr
        assert f"secret {CRED}: ok (encrypted with systemd-creds, {len(secret)} " \
            f"characters)" in check.stdout
        assert "install -m 0600" not in check.stdout + check.stderr

        box.run(["mv", TEMPLATE_DROPIN, "/root/template-dropin"])
        try:
            check = box.run(["ticketing-cron", "check"], check=False)
            assert check.returncode == 78
            assert f"encrypted, but {TEMPLATE_DROPIN} is missing, so every " \
                f"ticketing-cron@JOB.service reads the plain file" in check.stderr
        finally:
            box.run(["mv", "/root/template-dropin", TEMPLATE_DROPIN])
        assert_secret_not_in(secret, check.stdout, check.stderr)
    finally:
        box.write(CONFIG, config)


def test_a_plain_import_over_the_encrypted_secret_is_refused(box, secret, old_env,
                                                            encrypted_import):
    """The service would go on reading the credential: the plain file would be ignored."""
    assert box.path(DROPIN).exists()
    before = {p: box.path(p).read_bytes() for p in (CONFIG, CRED, DROPIN)}
    result = box.run(["ticketing-cron", "import-env", old_env], check=False)
    assert result.returncode == 78, result
    assert_secret_not_in(secret, result.stdout, result.stderr)
    assert f"the service reads the encrypted {CRED} ({DROPIN} is installed)" in result.stderr
    assert not box.path(SECRET).exists()
    assert {p: box.path(p).read_bytes() for p in before} == before
