"""The administrator's toolbox in a booted container with Debian's
prometheus-node-exporter and postfix: the metrics a real node exporter serves after
a few runs (one failing), and `ticketing-cron test-alert` reaching the real MTA and
a loopback webhook from the failure handler's sandbox.

One job, "digest", scheduled once a year (so that no tick runs in between) and
started by hand; sla-check's timer is stopped, as alert_support's box leaves it.
"""

import socket
import time
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from alert_support import MAIL_ADDRESS, AlertBox, subject
from harness import own_standin, report, wait_for

pytestmark = pytest.mark.system

JOB = "digest"
SERVICE = f"ticketing-cron@{JOB}.service"
TIMER = f"ticketing-cron@{JOB}.timer"
FAILURE = f"ticketing-cron-failure@{SERVICE}.service"
TEST_HANDLER = f"ticketing-cron-test-alert@{SERVICE}.service"
STREAK = f"/var/lib/ticketing-cron/{SERVICE}.json"
PROM = "/var/lib/prometheus/node-exporter/ticketing-cron.prom"
# What must be the same for a test notice and a real alert.
SANDBOX = ("User", "DynamicUser", "CapabilityBoundingSet", "NoNewPrivileges",
           "ProtectSystem", "ProtectHome", "PrivateTmp", "PrivateDevices", "ReadWritePaths",
           "InaccessiblePaths", "RestrictAddressFamilies", "SystemCallFilter",
           "SystemCallArchitectures", "KillMode", "MemoryMax", "TasksMax",
           "TimeoutStartUSec", "StateDirectory", "UMask", "ProtectKernelTunables")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def config(base_url, hook_url):
    return (f'[api]\nbase_url = "{base_url}"\ndeadline = 10\n\n'
            '[jobs.sla-check]\npath = "/api/cron/sla-check"\n\n'
            f'[jobs.{JOB}]\npath = "/api/cron/sla-check"\nschedule = "0 0 1 1 *"\n'
            'timezone = "UTC"\n\n'
            f'[alerts]\nemail_to = ["{MAIL_ADDRESS}"]\nwebhook_url = "{hook_url}"\n'
            'alert_after = 1\nrepeat_interval = "1h"\n')


@pytest.fixture(scope="module")
def api(workdir, secret):
    standin = own_standin(workdir, "toolbox-standin", secret)
    yield standin
    standin.stop()


@pytest.fixture(scope="module")
def box(workdir, base_rootfs, deb, api, hook, secret):
    """The container: the package, postfix, prometheus-node-exporter on a free port of
    the host's loopback, the config and the secret; the digest timer active."""
    started = time.monotonic()
    b = AlertBox.create(workdir, base_rootfs, deb, name="toolbox",
                        more_packages=["prometheus-node-exporter"])
    m = b.machine
    # The box's install held every start (policy-rc.d); a real install starts these.
    m.run(["systemctl", "start", "ticketing-cron-apply.path", "ticketing-cron-metrics.timer"])
    b.port = free_port()
    m.write("/etc/default/prometheus-node-exporter",
            f'ARGS="--web.listen-address=127.0.0.1:{b.port}"\n')
    m.run(["systemctl", "restart", "prometheus-node-exporter.service"])
    b.configure(config(api.url, hook.url))
    b.install_secret(secret)
    # The config's path unit applies the new job: its timer generated and started.
    wait_for(lambda: m.show(TIMER, "ActiveState")["ActiveState"] == "active", 60,
             f"{TIMER} to be started by ticketing-cron-apply")
    yield b
    m.discard()
    report(f"toolbox tests: {time.monotonic() - started:.0f} s in their container")


def start(box, unit):
    box.settle()
    box.machine.run(["systemctl", "reset-failed", unit], check=False)
    return box.machine.run(["systemctl", "start", unit], check=False, timeout=120).returncode


@pytest.fixture(scope="module")
def ticked(box, api):
    """Two good runs (3 requests unassigned by the first), then one the app refuses
    (401, alerted at once); then the metrics written. Returns what the journal says of
    the runs (independent of status): [(epoch, outcome)]."""
    mark = box.cursor()
    api.seed(expired=3)
    assert start(box, SERVICE) == 0
    assert start(box, SERVICE) == 0
    api.control(status=401)
    try:
        cursor = box.cursor()
        assert start(box, SERVICE) != 0
        box.job_done(FAILURE, cursor)
        box.wait_mail_queue()
    finally:
        api.control(status=None)
    box.machine.run(["journalctl", "--sync"])
    runs = [(int(r["__REALTIME_TIMESTAMP"]) / 1e6, r["OUTCOME"])
            for r in box.records_since(mark, "SYSLOG_IDENTIFIER=ticketing-cron", f"JOB={JOB}")
            if "OUTCOME" in r]
    assert [o for _, o in runs] == ["ok", "ok", "auth"], runs
    assert start(box, "ticketing-cron-metrics.service") == 0
    return runs


def scrape(box):
    with urllib.request.urlopen(f"http://127.0.0.1:{box.port}/metrics", timeout=20) as r:
        text = r.read().decode()
    samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def hostname(box):
    return box.machine.run(["hostname"]).stdout.strip()


def value(samples, name, **labels):
    return samples[(name, tuple(sorted(labels.items())))]


def test_node_exporter_serves_the_jobs_metrics(box, ticked):
    samples = scrape(box)
    (first_at, _), (second_at, _), (failed_at, _) = ticked
    j = {"job_name": JOB}
    assert value(samples, "ticketing_cron_metrics_ok") == 1
    assert value(samples, "ticketing_cron_job_healthy", **j) == 0
    assert value(samples, "ticketing_cron_job_state", state="failing", **j) == 1
    assert value(samples, "ticketing_cron_job_last_run_exit_status", **j) == 77
    assert value(samples, "ticketing_cron_job_last_run_outcome", outcome="auth", **j) == 1
    assert value(samples, "ticketing_cron_job_last_run_outcome", outcome="ok", **j) == 0
    assert abs(value(samples, "ticketing_cron_job_last_run_timestamp_seconds", **j)
               - failed_at) < 2
    assert abs(value(samples, "ticketing_cron_job_last_success_timestamp_seconds", **j)
               - second_at) < 2
    assert 0 < value(samples, "ticketing_cron_job_last_run_duration_seconds", **j) < 10
    assert value(samples, "ticketing_cron_job_failure_streak", **j) == 1
    assert value(samples, "ticketing_cron_job_failure_streak_alerted", **j) == 1
    assert value(samples, "ticketing_cron_job_runs_24h", outcome="ok", **j) == 2
    assert value(samples, "ticketing_cron_job_runs_24h", outcome="auth", **j) == 1
    assert value(samples, "ticketing_cron_job_unassigned_24h", **j) == 3
    assert value(samples, "ticketing_cron_job_timer_active", **j) == 1
    next_elapse = box.machine.run(["systemctl", "show", "-P", "NextElapseUSecRealtime",
                                   TIMER]).stdout.strip()
    epoch = int(box.machine.run(["date", "-d", next_elapse, "+%s"]).stdout)
    assert value(samples, "ticketing_cron_job_next_run_timestamp_seconds", **j) == epoch
    # sla-check's timer is stopped here: overdue, and the metrics say so.
    assert value(samples, "ticketing_cron_job_state", job_name="sla-check", state="overdue") == 1
    assert value(samples, "ticketing_cron_job_timer_active", job_name="sla-check") == 0
    # node_exporter read the file without error.
    assert value(samples, "node_textfile_scrape_error") == 0
    mtimes = [v for (name, labels), v in samples.items() if name == "node_textfile_mtime_seconds"
              and dict(labels)["file"].endswith("ticketing-cron.prom")]
    assert len(mtimes) == 1 and abs(mtimes[0] - time.time()) < 120


def test_the_metrics_file_is_root_owned_0644_and_nothing_else_is_left(box, ticked):
    out = box.machine.run(["stat", "-c", "%U %a", PROM]).stdout.split()
    assert out == ["root", "644"]
    listing = box.machine.run(["ls", "-A", "/var/lib/prometheus/node-exporter"]).stdout.split()
    assert listing == ["ticketing-cron.prom"]


def test_the_metrics_unit_has_no_capability_network_or_other_writable_path(box):
    props = box.machine.show("ticketing-cron-metrics.service", "CapabilityBoundingSet",
                             "NoNewPrivileges", "PrivateNetwork", "ReadWritePaths",
                             "RestrictAddressFamilies", "StateDirectory", "ProtectSystem")
    assert props == {"CapabilityBoundingSet": "", "NoNewPrivileges": "yes",
                     "PrivateNetwork": "yes",
                     "ReadWritePaths": "/var/lib/prometheus/node-exporter",
                     "RestrictAddressFamilies": "AF_UNIX", "StateDirectory": "",
                     "ProtectSystem": "strict"}
    timer = box.machine.show("ticketing-cron-metrics.timer", "ActiveState", "UnitFileState")
    assert timer == {"ActiveState": "active", "UnitFileState": "enabled"}


def test_test_alert_reaches_postfix_and_the_webhook_and_leaves_the_streak(box, hook, ticked):
    streak = box.machine.path(STREAK).read_bytes()
    mails, posts = len(box.mails()), len(hook.posts())
    proc = box.machine.run(["ticketing-cron", "test-alert", JOB], check=False, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith(f"test alert for {SERVICE}, sent by {TEST_HANDLER}")
    assert [line.split()[:2] for line in lines[1:]] == [["journal", "ok"], ["email", "ok"],
                                                        ["webhook", "ok"]]
    box.wait_mail_queue()
    new_mail = box.mails()[mails:]
    assert [subject(m) for m in new_mail] == [
        f"[ticketing-cron] TEST: alerts for {JOB} on {hostname(box)} reach you"]
    [post] = hook.posts()[posts:]
    assert post["alert"] == "test" and post["job"] == JOB
    assert box.machine.path(STREAK).read_bytes() == streak, "the streak is untouched"
    records = box.machine.journal(f"_SYSTEMD_UNIT={TEST_HANDLER}", "ALERT=test")
    assert records, "the handler's own notice record, from its unit"


def test_test_alert_runs_in_the_failure_handlers_sandbox(box, ticked):
    real = box.machine.show(FAILURE, *SANDBOX)
    trial = box.machine.show(TEST_HANDLER, *SANDBOX)
    assert trial == real
    assert real["User"] in ("", "root") and real["ProtectSystem"] == "strict"


def test_test_alert_fails_when_the_webhook_refuses(box, hook, ticked):
    hook.status = 500
    try:
        proc = box.machine.run(["ticketing-cron", "test-alert", JOB], check=False, timeout=120)
    finally:
        hook.status = 200
    assert proc.returncode == 69, proc.stdout + proc.stderr
    assert "webhook  FAILED  webhook: HTTP 500" in proc.stdout
    assert "email    ok" in proc.stdout
    failed = box.machine.run(["systemctl", "--failed", "--plain", "--no-legend"]).stdout
    assert "test-alert" not in failed, failed
