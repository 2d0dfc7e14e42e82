"""The secret URLs in a booted container: the package ships /etc/ticketing-cron/ping-urls/
for the units' LoadCredential=ping-urls:, a run still starts with it empty, a job's
ping URL written there (not in the world-readable config) reaches Healthchecks from
the sandboxed run, whose dynamic user could not read the file itself, and the failure
handler finds the webhook in /etc/ticketing-cron/webhook-url.
"""

import os

import pytest

from harness import UNIT, boot_with_package, wait_for
from healthchecks_standin import Healthchecks

pytestmark = pytest.mark.system

CONFIG = "/etc/ticketing-cron/config.toml"
PING_FILE = "/etc/ticketing-cron/ping-urls/sla-check"


@pytest.fixture(scope="module")
def box(workdir, base_rootfs, deb, standin, secret):
    """A booted container with the package, configured for the stand-in, its timer
    stopped so that only the test's own starts run."""
    machine, _ = boot_with_package(base_rootfs, deb, workdir / "url-secrets",
                                   f"tc-urls-{os.getpid()}")
    machine.run(["systemctl", "stop", "ticketing-cron.timer"])
    machine.write("/etc/ticketing-cron/cron-secret", secret + "\n", mode="0600")
    machine.write(CONFIG, f'[api]\nbase_url = "http://127.0.0.1:{standin.port}"\n\n'
                          f'[jobs.sla-check]\npath = "/api/cron/sla-check"\n')
    yield machine
    machine.discard()


@pytest.fixture(scope="module")
def healthchecks():
    hc = Healthchecks("ok")
    yield hc
    hc.close()


def test_the_package_ships_the_ping_urls_directory_and_a_run_starts_with_it_empty(box):
    assert box.run(["stat", "-c", "%F %U", "/etc/ticketing-cron/ping-urls"]).stdout.strip() \
        == "directory root"
    box.run(["rm", "-f", PING_FILE])
    rc, state = box.start_service()
    assert rc == 0, state
    assert box.show(UNIT, "Result")["Result"] == "success"


def test_a_ping_url_in_its_root_only_file_reaches_healthchecks(box, healthchecks):
    box.write(PING_FILE, healthchecks.ping_url + "\n", mode="0600")
    try:
        rc, state = box.start_service()
        assert rc == 0, state
        pings = wait_for(healthchecks.pings, 20, "the run's ping")
        assert pings[0].path == healthchecks.check_path + "/0"
        config = box.path(CONFIG).read_text()
        assert "ping_url" not in config
        secret_path = healthchecks.check_path.split("/")[-1]
        assert secret_path not in str(box.journal("-u", UNIT))
    finally:
        box.run(["rm", "-f", PING_FILE])


def test_the_failure_handler_alerts_the_webhook_named_in_its_root_only_file(box, secret):
    """A wrong secret fails the run; its OnFailure= handler (root, read-only /etc) finds
    the webhook in /etc/ticketing-cron/webhook-url, none being in the config."""
    from alert_support import Hook

    hook = Hook()
    try:
        box.write("/etc/ticketing-cron/webhook-url", hook.url + "\n", mode="0600")
        box.write("/etc/ticketing-cron/cron-secret", "tc-wrong-" + "x" * 40 + "\n",
                  mode="0600")
        assert "webhook" not in box.path(CONFIG).read_text()
        rc, _ = box.start_service()
        assert rc != 0
        posts = wait_for(hook.posts, 30, "the failure handler's webhook post")
        assert posts[0]["alert"] == "failure", posts[0]
        assert posts[0]["failed_unit"] == UNIT, posts[0]
    finally:
        hook.close()
        box.run(["rm", "-f", "/etc/ticketing-cron/webhook-url"])
        box.write("/etc/ticketing-cron/cron-secret", secret + "\n", mode="0600")


def test_a_start_signal_reaches_healthchecks_before_the_api_call_with_the_end_pings_rid(
        box, standin):
    """ping_start = true: from the sandboxed run, {ping_url}/start comes before the API
    call and carries the rid of the run's end ping."""
    import time

    hc = Healthchecks("ok")
    config = box.path(CONFIG).read_text()
    try:
        box.write(PING_FILE, hc.ping_url + "\n", mode="0600")
        box.write(CONFIG, config + "ping_start = true\n")
        calls_before = len(standin.calls())
        rc, state = box.start_service()
        assert rc == 0, state
        start, end = wait_for(lambda: len(hc.pings()) >= 2 and hc.pings(), 20,
                              "the run's start and end pings")
        assert start.path == hc.check_path + "/start" and end.path == hc.check_path + "/0"
        assert start.rid == end.rid and start.rid
        (call,) = standin.calls()[calls_before:]
        wall_of = time.time() - time.monotonic()  # the pings' clock is the host's monotonic
        assert start.at + wall_of < call["received_at"] < end.at + wall_of
    finally:
        box.write(CONFIG, config)
        box.run(["rm", "-f", PING_FILE])
        hc.close()
