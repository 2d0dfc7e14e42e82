"""The package's life in one booted container: install, unconfigured ticks, a
configured timer against the stand-in API, failures and alerts, the encrypted
credential, a hanging API, Persistent= across a power-off, upgrade, remove, purge.

The tests share the container and run in this order. What a test needs to have
happened before it (the install, the config, a failed run, the encrypted secret) is a
module fixture, so that any test also runs alone. Manual runs use `systemctl start`;
only the tests about the timer wait for a minute boundary.
"""

import datetime
import re
import time

import pytest

from doc_pointers import EXTERNAL_PAGES, doc_files, man_pages
from harness import (FAILURE_UNIT, RECOVERY_UNIT, TICK_LEAD_S, TIMER, UNIT, next_boundary,
                     parse_timespan, report, sleep_until, wait_for)

pytestmark = pytest.mark.system

CONFIG = "/etc/ticketing-cron/config.toml"
SECRET = "/etc/ticketing-cron/cron-secret"
CRED = "/etc/ticketing-cron/cron-secret.cred"
DROPIN = "/etc/systemd/system/ticketing-cron.service.d/encrypted-secret.conf"
STAMP = "/var/lib/systemd/timers/stamp-ticketing-cron.timer"
STREAK = "/var/lib/ticketing-cron/ticketing-cron.service.json"
STARTING = "7d4958e842da4a758f6c1cdc7b36dcc5"  # systemd's "Starting UNIT..." message
SUMMARY_FIELDS = ("JOB", "OUTCOME", "HTTP_STATUS", "ATTEMPTS", "DURATION_MS", "REQUEST_ID")
WRONG_SECRET = "tc-wrong-0b5d7e8c41f2a9"
NOTES = "/etc/ticketing-cron/NOTES.txt"
METRICS_UNIT = "ticketing-cron-metrics.service"

def deadline(request):
    """A stand-in request's SLA deadline in unix seconds."""
    moment = datetime.datetime.strptime(request["sla_deadline"], "%Y-%m-%dT%H:%M:%S.%fZ")
    return moment.replace(tzinfo=datetime.timezone.utc).timestamp()


def assigned(standin, expired_by):
    """Ids of the stand-in's assigned requests whose SLA ended before `expired_by`
    (and, second, of those still within it)."""
    rows = [r for r in standin.requests() if r["assignee"]]
    return ({r["id"] for r in rows if deadline(r) < expired_by},
            {r["id"] for r in rows if deadline(r) >= expired_by})


def seed(standin, expired, active=0):
    """Add requests; returns the ids of all assigned expired ones and active ones.
    (Other tests share the stand-in, so expectations are counted, not assumed.)"""
    standin.seed(expired=expired, active=active)
    expired_ids, active_ids = assigned(standin, time.time())
    assert len(expired_ids) >= expired and len(active_ids) >= active
    return expired_ids, active_ids


def install_secret(machine, value):
    """As the administrator does: install -m 0600 /dev/stdin .../cron-secret <<<"$SECRET"."""
    machine.run(["install", "-m", "0600", "/dev/stdin", SECRET], input=value + "\n")


def wait_tick(machine, boundary, timeout=20):
    """Wait until the timer has elapsed for `boundary` (a second ahead of it); returns
    when it did."""
    return wait_for(lambda: (t := machine.last_trigger()) and
                    t >= boundary - TICK_LEAD_S - 0.01 and t,
                    timeout, f"the timer to elapse at the boundary {boundary}")


def call_for(standin, request_id):
    """The stand-in's record of the call with this request id."""
    calls = [c for c in standin.calls() if c.get("request_id") == request_id]
    assert len(calls) == 1, f"the API saw {len(calls)} calls with request id {request_id}"
    return calls[0]


def lag_report(what, boundary, trigger, machine_state, call):
    """Report how long after the minute boundary the tick got where (trigger: when
    the timer elapsed); returns the request's lag in seconds."""
    parts = []
    if trigger is not None:
        parts.append(f"timer elapsed {(trigger - boundary) * 1000:+.0f} ms")
    start = machine_state.get("ExecMainStartTimestamp")
    if start is not None:
        parts.append(f"process started {(start - boundary) * 1000:+.0f} ms")
    lag = call["received_at"] - boundary
    parts.append(f"API received the request +{lag * 1000:.0f} ms")
    report(f"timer lag ({what}, boundary {time.strftime('%H:%M:%S', time.gmtime(boundary))}"
           f"): " + ", ".join(parts))
    return lag


@pytest.fixture(scope="module")
def installed(machine, deb):
    """The package installed with apt, away from a minute boundary: returns every path
    the machine had before the install."""
    before = machine.files()
    inside = machine.stage(deb)
    if next_boundary() - TICK_LEAD_S - time.time() < 15:  # keep the first tick out of it
        sleep_until(next_boundary() + 0.5)
    started = time.time()
    machine.run(["apt-get", "install", "-y", "--no-install-recommends", inside], timeout=600)
    report(f"apt install of {deb.name}: {time.time() - started:.1f} s")
    return before


@pytest.fixture(scope="module")
def configured(machine, installed, standin, secret):
    """The shipped config edited as an administrator does (base_url: the stand-in)
    and the secret installed: returns the config's text."""
    text = machine.path(CONFIG).read_text()
    edited, count = re.subn(r"(?m)^base_url\s*=.*$",
                            f'base_url = "http://localhost:{standin.port}"', text)
    assert count == 1, f"no base_url line in the shipped config:\n{text}"
    edited = "# Edited by the system test.\n" + edited
    machine.write(CONFIG, edited)
    install_secret(machine, secret)
    return edited


@pytest.fixture(scope="module")
def wrong_secret_run(machine, configured, secret):
    """One run with a wrong secret, which opens a failure streak (the right secret is
    put back after it): returns (exit status, the service's state after the run)."""
    machine.avoid_boundary(10)
    install_secret(machine, WRONG_SECRET)
    try:
        return machine.start_service()
    finally:
        install_secret(machine, secret)
        machine.run(["systemctl", "reset-failed", UNIT], check=False)


@pytest.fixture(scope="module")
def encrypted(machine, wrong_secret_run, secret):
    """The administrator's steps from ticketing-cron(8): the secret encrypted with the
    host's key, the plain file removed, the drop-in installed (a streak is open)."""
    machine.avoid_boundary(15)
    machine.run(["systemd-creds", "encrypt", "--with-key=host", "--name=cron-secret", "-",
                 CRED], input=secret + "\n")
    machine.run(["chmod", "0600", CRED])
    machine.run(["rm", "-f", SECRET])
    machine.run(["install", "-D", "-m", "0644",
                 "/usr/share/doc/ticketing-cron/examples/encrypted-secret.conf", DROPIN])
    machine.run(["systemctl", "daemon-reload"])


# --------------------------------------------------------------------------- install


def test_fresh_install_enables_and_starts_the_timer_only(machine, installed):

    assert machine.run(["systemctl", "is-enabled", TIMER]).stdout.strip() == "enabled"
    assert machine.run(["systemctl", "is-active", TIMER]).stdout.strip() == "active"
    # No [Install] section: only the timer starts it; the install did not run it.
    assert machine.run(["systemctl", "is-enabled", UNIT], check=False).stdout.strip() \
        == "static"
    service = machine.service()
    assert service["ExecMainStartTimestamp"] is None, "the install started the service"
    assert not [r for r in machine.journal("-u", UNIT) if r.get("MESSAGE_ID") == STARTING], \
        "the install started the service"

    # The metrics timer is enabled everywhere but runs only where node_exporter's
    # textfile directory is (not here).
    metrics = machine.show("ticketing-cron-metrics.timer", "UnitFileState", "ActiveState",
                           "ConditionResult")
    assert metrics == {"UnitFileState": "enabled", "ActiveState": "inactive",
                       "ConditionResult": "no"}, metrics
    assert machine.run(["ticketing-cron", "--version"]).stdout.startswith("ticketing-cron ")
    # The config is the administrator's file, made from the example at install: not a
    # conffile, so that no upgrade ever stops at dpkg's prompt.
    conffiles = machine.run(["dpkg-query", "-W", "-f=${Conffiles}", "ticketing-cron"]).stdout
    assert CONFIG not in conffiles
    assert machine.run(["stat", "-c", "%U %a", CONFIG]).stdout.split() == ["root", "644"]
    assert machine.run(["man", "-w", "8", "ticketing-cron"]).stdout.strip().endswith(
        "/man8/ticketing-cron.8.gz")
    listing = machine.run(["dpkg", "-L", "ticketing-cron"]).stdout.splitlines()
    assert not [p for p in listing if re.search(r"dist-packages/(tests|dev)\b", p)]
    # The example that a missing-config error points at is shipped (outside doc/, which
    # path-exclude may drop), and is what the config was made from.
    example = "/usr/share/ticketing-cron/config.toml"
    assert example in listing and "/usr/share/doc/ticketing-cron/examples/config.toml" in listing
    assert machine.run(["cmp", example, CONFIG]).returncode == 0


def test_the_documentation_is_installed_and_the_pages_render(machine, installed):
    """The README, the guides and README.Debian are installed, uncompressed, exactly as
    the doc list that tests/unit/test_doc_pointers.py holds every pointer to; both
    manual pages render without a warning; the other pages the texts name exist."""
    top = "/usr/share/doc/ticketing-cron/"
    files = machine.run(["find", top, "-type", "f,l", "-printf", "%P\\n"]).stdout.split()
    for doc in ("README.md", "README.Debian", "docs/migrating.md", "docs/troubleshooting.md"):
        assert doc in files, doc
    assert set(files) == doc_files()
    for name, section in sorted(man_pages()):
        proc = machine.run(["env", "MANWIDTH=80", "man", "--warnings", section, name])
        assert re.search(rf"^\s+{re.escape(name)}\s+-\s", proc.stdout, re.M), proc.stdout[:300]
        assert not proc.stderr.strip(), f"man --warnings {section} {name}:\n{proc.stderr}"
    for name, section in sorted(EXTERNAL_PAGES):
        assert machine.run(["man", "-w", section, name], check=False).returncode == 0, \
            f"{name}({section}) is not installed"


def test_units_verify_and_the_service_is_sandboxed(machine, installed):
    paths = []
    for unit in (UNIT, TIMER, FAILURE_UNIT, RECOVERY_UNIT, METRICS_UNIT, "ticketing-cron-"
                 "metrics.timer", "ticketing-cron-test-alert@ticketing-cron.service.service"):
        path = machine.show(unit, "FragmentPath")["FragmentPath"]
        assert path, f"{unit} is not installed"
        paths.append(path)
    for path in paths:
        proc = machine.run(["systemd-analyze", "verify", path], check=False)
        assert proc.returncode == 0 and not proc.stderr.strip(), \
            f"systemd-analyze verify {path}:\n{proc.stdout}{proc.stderr}"

    # Every minute at second 0, within a millisecond or so (the default accuracy of a
    # minute lets the tick land anywhere in it), catching up on missed ticks.
    timer = machine.show(TIMER, "TimersCalendar", "AccuracyUSec", "Persistent",
                         "RandomizedDelayUSec")
    assert "OnCalendar=*-*-* *:*:59 " in timer["TimersCalendar"], timer  # a second ahead
    assert parse_timespan(timer["AccuracyUSec"]) <= 0.1, timer
    assert parse_timespan(timer["RandomizedDelayUSec"]) == 0, timer
    assert timer["Persistent"] == "yes", timer
    # A oneshot has no start timeout by default: one hung run would block every tick.
    timeout = parse_timespan(machine.show(UNIT, "TimeoutStartUSec")["TimeoutStartUSec"])
    assert 55 < timeout < 60, f"TimeoutStartSec= is {timeout} s"

    exposure = {}
    for unit in (UNIT, FAILURE_UNIT, RECOVERY_UNIT, METRICS_UNIT):
        out = machine.run(["systemd-analyze", "security", "--no-pager", unit],
                          check=False).stdout
        match = re.search(r"Overall exposure level for \S+: ([0-9.]+)", out)
        assert match, f"no overall exposure in:\n{out}"
        exposure[unit] = float(match.group(1))
        report(f"systemd-analyze security {unit}: exposure {match.group(1)}")
    assert exposure[UNIT] <= 1.5
    assert exposure[METRICS_UNIT] < exposure[FAILURE_UNIT], "it needs less than the handlers"


def test_unconfigured_tick_is_skipped_without_failure_or_alert(machine, installed):
    boundary = next_boundary(time.time() + 1)
    sleep_until(boundary + 1)
    wait_tick(machine, boundary)
    service = machine.wait_idle()

    assert service["ConditionResult"] == "no"
    assert service["ExecMainStartTimestamp"] is None, "the unconfigured tick ran the runner"
    assert service["ActiveState"] == "inactive"
    failed = machine.run(["systemctl", "list-units", "--failed", "--plain", "--no-legend"])
    assert "ticketing-cron" not in failed.stdout
    assert machine.journal("-u", FAILURE_UNIT) == [], "the failure handler ran"
    assert machine.journal("-u", RECOVERY_UNIT) == [], "the recovery handler ran"

    status = machine.run(["systemctl", "status", "--no-pager", "-l", UNIT], check=False).stdout
    print(status)
    assert "ticketing-cron: the SLA check (sla-check)" in status
    assert "skipped because no trigger condition checks were met" in status
    assert f"ConditionPathExists=|{SECRET} was not met" in status
    assert f"ConditionPathExists=|{CRED} was not met" in status
    # The same path an administrator takes next: check says what is missing.
    check = machine.run(["ticketing-cron", "check"], check=False)
    assert check.returncode == 78, check


# ------------------------------------------------------------------------- configured


def test_configured_run_calls_the_api_with_the_secret(machine, standin, configured):
    assert machine.run(["ticketing-cron", "check"], check=False).returncode == 0

    machine.avoid_boundary(10)
    expired, _ = seed(standin, expired=2, active=1)
    rc, service = machine.start_service()
    assert rc == 0 and service["ExecMainStatus"] == "0", service
    summary = machine.summary_for(service["InvocationID"])
    assert summary["OUTCOME"] == "ok"
    assert summary["UNASSIGNED_COUNT"] == str(len(expired))
    call = call_for(standin, summary["REQUEST_ID"])
    assert call["secret_ok"] and call["status"] == 200
    # A healthy run starts no alert handler process (the recovery unit is skipped).
    assert machine.handler_records(RECOVERY_UNIT) == []
    assert machine.handler_records(FAILURE_UNIT) == []


def test_wrong_secret_fails_with_77_and_alerts(machine, standin, wrong_secret_run):
    rc, service = wrong_secret_run
    assert rc != 0
    assert service["ActiveState"] == "failed"
    assert service["Result"] == "exit-code"
    assert service["ExecMainStatus"] == "77"
    summary = machine.summary_for(service["InvocationID"])
    assert summary["OUTCOME"] == "auth" and summary["HTTP_STATUS"] == "401"
    assert summary["PRIORITY"] == "3"
    assert not call_for(standin, summary["REQUEST_ID"])["secret_ok"]

    alerts = machine.alert_for(service["InvocationID"])
    assert len(alerts) == 1
    alert = alerts[0]
    print(alert["MESSAGE"])
    assert alert["PRIORITY"] == "2", "the first failure did not alert"
    assert alert["FAILED_OUTCOME"] == "auth"
    assert alert["FAILED_UNIT"] == UNIT
    assert "auth" in alert["MESSAGE"] and UNIT in alert["MESSAGE"]
    assert f"journalctl -u {UNIT} -n 20" in alert["MESSAGE"]
    assert alert["SYSLOG_IDENTIFIER"] == "ticketing-cron"


def test_encrypted_credential_works_end_to_end(machine, standin, secret, encrypted):
    assert secret.encode() not in machine.path(CRED).read_bytes()

    machine.avoid_boundary(10)
    expired, _ = seed(standin, expired=1)
    assert machine.path(STREAK).exists(), "the failed run left no failure streak"
    rc, service = machine.start_service()
    assert rc == 0 and service["ExecMainStatus"] == "0", service
    summary = machine.summary_for(service["InvocationID"])
    assert summary["OUTCOME"] == "ok" and summary["UNASSIGNED_COUNT"] == str(len(expired))
    assert call_for(standin, summary["REQUEST_ID"])["secret_ok"]

    # This success ends the streak of the wrong secret: one recovery notice.
    notices = wait_for(lambda: machine.handler_records(RECOVERY_UNIT), 20,
                       "the recovery notice")
    print(notices[0]["MESSAGE"])
    wait_for(lambda: not machine.path(STREAK).exists(), 10, "the streak to be forgotten")


def test_start_timeout_ends_a_hung_run(machine, standin, configured):
    """TimeoutStartSec= is the backstop behind the runner's own deadline: shortened to
    3 s here, it must end a run that hangs on the API and trigger the alert."""
    machine.avoid_boundary(15)
    machine.write("/run/systemd/system/ticketing-cron.service.d/zz-system-test.conf",
                  "[Service]\nTimeoutStartSec=3s\n")
    machine.run(["systemctl", "daemon-reload"])
    standin.control(hang=True)
    try:
        rc, service = machine.start_service()
        assert rc != 0
        assert service["Result"] == "timeout", service
        took = service["InactiveEnterTimestamp"] - service["ExecMainStartTimestamp"]
        assert took < 3 + 2, f"the hung run took {took:.1f} s to end"
        alert = machine.alert_for(service["InvocationID"])[0]
        assert alert["PRIORITY"] == "2", "the first failure after a recovery did not alert"
        assert alert["FAILED_OUTCOME"] == "timeout"
        assert alert["SERVICE_RESULT"] == "timeout"
        # The runner got SIGTERM and still wrote its one record.
        assert machine.summary_for(service["InvocationID"])["OUTCOME"] == "timeout"
    finally:
        standin.control(hang=False)
        machine.run(["rm", "-f",
                     "/run/systemd/system/ticketing-cron.service.d/zz-system-test.conf"])
        machine.run(["systemctl", "daemon-reload"])
        machine.run(["systemctl", "reset-failed", UNIT], check=False)


def test_timer_ticks_survive_a_hanging_api(machine, standin, configured):
    """With the API hanging at one tick the run ends (runner deadline, else
    TimeoutStartSec=) before the next tick, and the next tick runs and succeeds. Both
    ticks are timed against the minute boundary."""
    standin.control(hang=True)
    try:
        first = next_boundary(time.time() + 2)
        sleep_until(first + 0.5)
        first_trigger = wait_tick(machine, first)
        hung_call = wait_for(lambda: [c for c in standin.calls()
                                      if c["received_at"] >= first - 0.001], 10,
                             "the hanging tick's call")[0]
        assert hung_call["secret_ok"], "the tick sent the wrong secret"
        running = machine.service()
        assert running["ActiveState"] == "activating"
        lag_report("tick with the API hanging", first, first_trigger, running, hung_call)

        ended = machine.wait_idle(timeout=65)
        assert ended["InvocationID"] == running["InvocationID"]
        assert ended["ActiveState"] == "failed"
        assert ended["InactiveEnterTimestamp"] < first + 60, "the hung run reached the next tick"
        summary = machine.summary_for(ended["InvocationID"])
        assert summary["OUTCOME"] in ("timeout", "unavailable"), summary
        report(f"hung run ended after {ended['InactiveEnterTimestamp'] - first:.1f} s: "
               f"{summary['MESSAGE']}")
        assert machine.alert_for(ended["InvocationID"])[0]["FAILED_OUTCOME"] == "timeout"
    finally:
        standin.control(hang=False)

    second = first + 60
    seed(standin, expired=3, active=2)
    expired, _ = assigned(standin, second)
    active = assigned(standin, second + 60)[1]
    sleep_until(second + 0.5)
    second_trigger = wait_tick(machine, second)
    service = machine.wait_idle()
    assert service["InvocationID"] != ended["InvocationID"], "the next tick did not run"
    assert service["ActiveState"] == "inactive" and service["ExecMainStatus"] == "0", service
    summary = machine.summary_for(service["InvocationID"])
    assert summary["OUTCOME"] == "ok" and summary["UNASSIGNED_COUNT"] == str(len(expired))
    call = call_for(standin, summary["REQUEST_ID"])
    assert call["secret_ok"]
    lag = lag_report("configured tick", second, second_trigger, service, call)
    assert 0 <= lag <= 2
    still_expired, still_active = assigned(standin, second)
    assert not still_expired, f"expired requests still assigned: {still_expired}"
    assert active <= still_active, "requests within their SLA were unassigned"


def test_persistent_timer_catches_up_after_power_off(machine, standin, configured):
    machine.wait_idle()
    boundary = next_boundary()
    if boundary - time.time() < 8:
        boundary += 60
    machine.poweroff()
    stamp = machine.path(STAMP).stat().st_mtime
    assert stamp < boundary
    calls_before = len(standin.calls())
    sleep_until(boundary + 2)

    booted = machine.boot()
    trigger = wait_tick(machine, booted - 1, timeout=30)
    service = machine.wait_idle()
    assert service["ExecMainStatus"] == "0" and service["ExecMainStartTimestamp"] > booted
    summary = machine.summary_for(service["InvocationID"])
    assert summary["OUTCOME"] == "ok"
    call = call_for(standin, summary["REQUEST_ID"])
    assert len(standin.calls()) == calls_before + 1
    assert call["received_at"] < boundary + 60, "the missed tick did not run until the next"
    report(f"Persistent=: powered off across {time.strftime('%H:%M:%S', time.gmtime(boundary))}"
           f", boot took {trigger - booted:.1f} s to the catch-up tick, API called "
           f"{call['received_at'] - booted:.1f} s after the boot began")


def test_journal_has_one_summary_per_run_and_no_secret(machine, secret, wrong_secret_run):
    # A good run after the failed one: both outcomes are in the journal.
    machine.avoid_boundary(10)
    assert machine.start_service()[0] == 0
    records = machine.journal("-u", UNIT)
    runs = {r["INVOCATION_ID"] for r in records
            if r.get("MESSAGE_ID") == STARTING and r.get("INVOCATION_ID")}
    summaries = [r for r in records if "OUTCOME" in r and r.get("_SYSTEMD_UNIT") == UNIT]
    assert len(runs) >= 2, f"expected at least 2 runs so far, found {len(runs)}"
    by_run = {}
    for record in summaries:
        by_run.setdefault(record["_SYSTEMD_INVOCATION_ID"], []).append(record)
    for run in runs:
        assert len(by_run.get(run, [])) == 1, \
            f"run {run} has {len(by_run.get(run, []))} summary records"
    assert set(by_run) <= runs
    for record in summaries:
        assert record["SYSLOG_IDENTIFIER"] == "ticketing-cron"
        missing = [f for f in SUMMARY_FIELDS if f not in record]
        assert not missing, f"summary without {missing}: {record['MESSAGE']}"
        if record["OUTCOME"] == "ok":
            assert "UNASSIGNED_COUNT" in record and "SERVER_DURATION_MS" in record
            assert int(record["PRIORITY"]) >= 5
        else:
            assert record["PRIORITY"] == "3"
    outcomes = sorted(r["OUTCOME"] for r in summaries)
    assert "ok" in outcomes and "auth" in outcomes, outcomes
    report(f"journal: {len(runs)} runs, one summary record each; outcomes {outcomes}")

    everything = machine.run(["journalctl", "--no-pager", "-o", "export"],
                             input=b"").stdout
    assert secret.encode() not in everything, "the secret is in the journal"
    assert WRONG_SECRET.encode() not in everything, "the wrong secret is in the journal"


# -------------------------------------------------------------------- upgrade, remove


def test_upgrade_keeps_the_edited_config(machine, standin, upgrade_build, configured,
                                        encrypted):
    assert machine.path(CONFIG).read_text() == configured
    deb2 = upgrade_build.result()
    inside = machine.stage(deb2)
    version = deb2.name.split("_")[1]
    machine.avoid_boundary(20)
    before = machine.service()
    calls_before = len(standin.calls())
    machine.run(["apt-get", "install", "-y", "--no-install-recommends", inside], timeout=600)

    installed = machine.run(["dpkg-query", "-W", "-f=${Version}", "ticketing-cron"]).stdout
    assert installed == version
    assert machine.path(CONFIG).read_text() == configured
    assert machine.path(CRED).exists() and machine.path(DROPIN).exists()
    assert machine.run(["systemctl", "is-enabled", TIMER]).stdout.strip() == "enabled"
    assert machine.run(["systemctl", "is-active", TIMER]).stdout.strip() == "active"
    assert machine.service()["InvocationID"] == before["InvocationID"], \
        "the upgrade ran the service"
    assert len(standin.calls()) == calls_before

    rc, service = machine.start_service()
    assert rc == 0 and service["ExecMainStatus"] == "0", service


def ticketing_units(machine):
    """The ticketing-cron units systemd has loaded or running, and the failed ones. (A
    unit still named by an enablement link the package leaves on remove, so that
    installing again restores it, shows as not-found and inactive: not loaded.)"""
    listed = machine.run(["systemctl", "list-units", "--all", "--plain", "--no-legend",
                          "ticketing-cron*"]).stdout.splitlines()
    failed = machine.run(["systemctl", "list-units", "--failed", "--plain", "--no-legend"]
                         ).stdout
    return [line for line in listed if line.split()[1:3] != ["not-found", "inactive"]], \
        [line for line in failed.splitlines() if "ticketing-cron" in line]


def settled(machine):
    """True once no ticketing-cron unit is starting, running or stopping (a failure
    handler started by OnFailure= included)."""
    listed = machine.run(["systemctl", "list-units", "--plain", "--no-legend",
                          "--state=activating,active,deactivating", "ticketing-cron*.service"]
                         ).stdout
    return not listed.strip()


def test_remove_keeps_the_config(machine, configured, encrypted):
    assert machine.path(CONFIG).read_text() == configured
    # A job whose last run failed, its timer running: the remove must leave neither its
    # unit in `systemctl --failed` nor anything the generator made for it.
    edited = configured + '\n[jobs.doomed]\npath = "/api/cron/not-there"\nschedule = "@yearly"\n'
    machine.write(CONFIG, edited)
    machine.run(["systemctl", "daemon-reload"])
    machine.run(["systemctl", "start", "ticketing-cron@doomed.timer"])
    machine.avoid_boundary(15)
    assert machine.run(["systemctl", "start", "ticketing-cron@doomed.service"],
                       check=False, timeout=120).returncode != 0
    assert ticketing_units(machine)[1], "no failed unit to clear"
    wait_for(lambda: settled(machine), 60, "the failure handler to finish")
    machine.run(["apt-get", "remove", "-y", "ticketing-cron"], timeout=600)
    status = machine.run(["dpkg-query", "-W", "-f=${Status}", "ticketing-cron"]).stdout
    assert status == "deinstall ok config-files"
    assert machine.path(CONFIG).read_text() == edited
    assert machine.path(CRED).exists()
    assert not machine.path("/usr/bin/ticketing-cron").exists()
    assert ticketing_units(machine) == ([], [])
    assert machine.run(["sh", "-c", "ls /run/systemd/generator /run/systemd/generator/* "
                        "/var/lib/systemd/timers | grep ticketing || :"]).stdout == ""


def test_purge_leaves_nothing_behind(machine, installed, wrong_secret_run):
    assert machine.path("/var/lib/ticketing-cron").is_dir(), "no state to purge"
    # The administrator's own file, beside the package's (a ping URL, the webhook URL).
    machine.write(NOTES, "ask ops before changing the schedule\n")
    machine.write("/etc/ticketing-cron/ping-urls/sla-check", "https://ping.invalid/x\n",
                  mode="0600")
    machine.write("/etc/ticketing-cron/webhook-url", "https://hooks.invalid/y\n", mode="0600")
    purge = machine.run(["apt-get", "purge", "-y", "ticketing-cron"], timeout=600)
    machine.run(["rm", "-rf", "/var/tmp/staged"])
    assert sorted(p.name for p in machine.path("/etc/ticketing-cron").iterdir()) == \
        ["NOTES.txt"]
    assert machine.path(NOTES).read_text() == "ask ops before changing the schedule\n"
    assert f"purge kept what it did not make in /etc/ticketing-cron:\n  {NOTES}\n" in \
        purge.stdout + purge.stderr, purge.stdout + purge.stderr
    assert ticketing_units(machine) == ([], [])
    machine.run(["rm", "-r", "/etc/ticketing-cron"])  # as the note says
    after = machine.files()
    # Not the package's: the journal, and man-db's cache of formatted pages (made by
    # systemd-analyze verify checking Documentation=; man-db's own cron job expires it).
    left = sorted(p for p in after if "ticketing" in p
                  and not re.match(r"/var/log/journal/|/var/cache/man/", p))
    assert not left, f"purge left {left}"
    # Logs, caches, apt's and dpkg's books, systemd's own state (random seed, the host
    # key that systemd-creds made, other timers' stamps, other services' PrivateTmp=
    # after the reboot, /var/lib/private, which systemd makes for DynamicUser= state and
    # which postrm leaves to it): the system's, not the package's.
    ignored = re.compile(r"^/var/(log|cache)/|^/var/lib/(apt|dpkg)/|^/var/lib/private$|"
                         r"^/var/lib/systemd/(random-seed|credential\.secret|timers/stamp-)|"
                         r"^/var/tmp/systemd-private-")
    new = sorted(p for p in after - installed if not ignored.search(p))
    assert not new, f"after purge these are new since before the install: {new}"


def test_install_again_after_purge_works(machine, deb):
    assert machine.run(["dpkg-query", "-W", "-f=${Status}", "ticketing-cron"],
                       check=False).stdout in ("", "unknown ok not-installed")
    machine.run(["apt-get", "install", "-y", "--no-install-recommends", machine.stage(deb)],
                timeout=600)
    assert machine.path(CONFIG).read_bytes() == \
        machine.path("/usr/share/ticketing-cron/config.toml").read_bytes()
    assert machine.run(["systemctl", "is-active", TIMER]).stdout.strip() == "active"
    assert machine.run(["systemctl", "is-active", "ticketing-cron-apply.path"]).stdout.strip() \
        == "active"
    assert ticketing_units(machine)[1] == []
