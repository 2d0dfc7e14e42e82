"""The upgrade every installation takes: 0.1.0, built from this repository's own history,
installed, configured and ticking, then the package under test installed over it with
`apt-get install ./...deb`, no terminal and no answers.

0.1.0 shipped /etc/ticketing-cron/config.toml as a conffile; this release does not.
The upgrade must not stop at dpkg's conffile prompt with the config edited, must keep
the config, the secret and every job's timer, and the stand-in's record of slots must
show every minute called once across it.
"""

import time

import pytest

from harness import TIMER, boot_with_package, next_boundary, own_standin, report, sleep_until
from release_support import PREVIOUS_RELEASE, build_previous_release

pytestmark = pytest.mark.system

CONFIG = "/etc/ticketing-cron/config.toml"
SECRET = "/etc/ticketing-cron/cron-secret"
SECOND = "ticketing-cron@second.timer"


@pytest.fixture(scope="module")
def api(workdir, secret):
    standin = own_standin(workdir, "release-standin", secret)
    yield standin
    standin.stop()


@pytest.fixture(scope="module")
def ticking(workdir, base_rootfs, secret, api):
    """0.1.0 installed, its conffile edited (the API, a second job every minute whose
    path the app does not know: a failing streak), the secret written, ticking."""
    previous = build_previous_release()
    machine, _ = boot_with_package(base_rootfs, previous, workdir / "release",
                                   f"tc-release-{id(api)}")
    machine.write(SECRET, secret + "\n", mode="0600")
    shipped = machine.path(CONFIG).read_text()
    assert 'base_url = "https://tickets.example.com"' in shipped
    config = shipped.replace('base_url = "https://tickets.example.com"',
                             f'base_url = "{api.url}"  # edited by the administrator')
    config += '\n[jobs.second]\npath = "/api/cron/not-there"\nschedule = "* * * * *"\n'
    machine.write(CONFIG, config)
    machine.run(["ticketing-cron", "check"])
    machine.run(["systemctl", "daemon-reload"])
    machine.run(["systemctl", "start", "timers.target"])  # 0.1.0's documented step
    yield machine, previous, config
    machine.discard()


def test_the_upgrade_from_0_1_0_misses_no_minute_and_keeps_everything(ticking, deb, api,
                                                                      secret):
    machine, previous, config = ticking
    old_version = PREVIOUS_RELEASE[0]
    assert machine.run(["ticketing-cron", "--version"]).stdout.split() == \
        ["ticketing-cron", old_version]
    # Two ticks of the old version: the SLA check ticking, the second job's streak going.
    first = next_boundary()
    sleep_until(first + 65)
    inside = machine.stage(deb)
    # Upgrade late in the minute: within the last seconds before a boundary, when the
    # timer is about to fire.
    boundary = next_boundary()
    sleep_until(boundary - 1.5)
    started = time.time()
    proc = machine.run(["apt-get", "install", "-y", "-q", "--no-install-recommends", inside],
                       input="", check=False, timeout=600)
    took = time.time() - started
    report(f"upgrade {old_version} -> new: started {started - boundary + 60:.1f} s into the "
           f"minute, took {took:.1f} s")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "conffile" not in (proc.stdout + proc.stderr).lower()
    assert machine.run(["dpkg-query", "-W", "-f=${Status}", "ticketing-cron"]).stdout == \
        "install ok installed"
    new_version = machine.run(["ticketing-cron", "--version"]).stdout.split()[1]
    assert new_version != old_version

    # The administrator's files, byte for byte.
    assert machine.path(CONFIG).read_text() == config
    assert machine.path(SECRET).read_text() == secret + "\n"
    # Every job's timer, the generated one too, active without a manual step.
    for timer in (TIMER, SECOND):
        assert machine.run(["systemctl", "is-active", timer], check=False).stdout.strip() \
            == "active", timer

    # Two more ticks, then the stand-in's record: every minute once, across the upgrade.
    sleep_until(boundary + 125)
    calls = [c for c in api.calls() if c["secret_ok"]]
    slots = sorted(c["scheduled_at"] for c in calls if c["scheduled_at"])
    report(f"upgrade: slots seen {slots}")
    assert len(slots) == len(set(slots)), f"a minute was called twice: {slots}"
    minutes = sorted({int(c["received_at"] // 60) for c in calls})
    assert minutes == list(range(minutes[0], minutes[0] + len(minutes))), \
        f"a minute was missed: {slots}"
    assert minutes[-1] >= int(boundary // 60) + 2
    agents = {c["user_agent"] for c in calls if c["received_at"] > boundary + 60}
    assert agents == {f"ticketing-cron/{new_version}"}
    # The second job's streak went on through the upgrade (no new alert for it).
    alerts = [r for r in machine.journal("-t", "ticketing-cron")
              if r.get("ALERT") == "failure" and r.get("JOB") == "second"]
    assert len(alerts) == 1, [r.get("MESSAGE") for r in alerts]
