"""Issue 7 in a booted container of its own (real journald 252, systemd, postfix):
the alert handlers' sandbox and ceilings, a journal record forged by a local user,
and hostile chat markup in a reply.

Runs are started by hand (`systemctl start`); the timer is disabled.
"""

import json
import threading
import time
import uuid

import pytest

from alert_support import (MAIL_ADDRESS, AlertBox, body, config_text,
                           subject)
from harness import FAILURE_UNIT, POLICY_RC_D, RECOVERY_UNIT, UNIT, report, wait_for
from support import LoopbackServer, send

pytestmark = pytest.mark.system

ATTACKER = "mallory"
PHISH = "URGENT-7f3c: your cron secret leaked, log in at https://evil.test/reset"
FORGE_SCRIPT = "/var/tmp/forge.py"
# A local user's own user unit re-points journald's source of its invocation id (a
# symlink in the user's /run/user/UID/) at the running service's id, then writes
# summary-like records: one whose outcome contradicts the exit status, one whose
# outcome agrees with it (only the unit, uid and transport checks stop that one).
FORGE = r'''
import os, sys
from systemd import journal
victim, unit = sys.argv[1], sys.argv[2]
link = f"/run/user/{os.getuid()}/systemd/units/invocation:{unit}"
os.unlink(link)
os.symlink(victim, link)
phish = sys.argv[3]
journal.send(f"sla-check auth: {phish} <!channel>", SYSLOG_IDENTIFIER="ticketing-cron",
             OUTCOME="auth", JOB="sla-check", HTTP_STATUS="401", PRIORITY="3",
             EXIT_STATUS="77")
journal.send(f"sla-check timeout: {phish}", SYSLOG_IDENTIFIER="ticketing-cron",
             OUTCOME="timeout", JOB="sla-check\nSubject: reset", HTTP_STATUS="\u0664\u0660\u0661",
             PRIORITY="3", EXIT_STATUS="75")
print("forged")
'''


@pytest.fixture(scope="module")
def box(workdir, base_rootfs, deb):
    started = time.monotonic()
    b = AlertBox.create(workdir, base_rootfs, deb, name="hardening")
    yield b
    b.machine.discard()
    report(f"hardening tests: {time.monotonic() - started:.0f} s in their container")


@pytest.fixture(scope="module")
def hanging_api():
    """An API that never answers (until the module ends): every run times out."""
    done = threading.Event()

    def hang(handler, request):
        done.wait(60)
    server = LoopbackServer(hang)
    yield server
    done.set()
    server.close()


# ------------------------------------------------------------------ item 13: units


SANDBOX = ("DropInPaths", "ProtectSystem", "ReadWritePaths", "InaccessiblePaths", "TasksMax",
           "LimitCORE", "MemoryHigh", "MemoryMax", "MemorySwapMax", "TimeoutStartUSec")


def test_both_handlers_share_one_tightened_sandbox(box):
    m = box.machine
    seen = {}
    for unit in (FAILURE_UNIT, RECOVERY_UNIT):
        props = m.show(unit, *SANDBOX)
        assert "ticketing-cron-.service.d/50-alert-handler.conf" in props["DropInPaths"], props
        assert props["ProtectSystem"] == "strict"
        assert "/var/spool/postfix" in props["ReadWritePaths"]
        assert "/var/spool/exim4" in props["ReadWritePaths"]
        assert "/etc/ticketing-cron/cron-secret" in props["InaccessiblePaths"]
        assert "/etc/ticketing-cron/cron-secret.cred" in props["InaccessiblePaths"]
        assert "/etc/ticketing-cron/ping-urls" in props["InaccessiblePaths"]
        assert props["LimitCORE"] == "0"
        assert int(props["TasksMax"]) <= 64
        assert int(props["MemoryHigh"]) < int(props["MemoryMax"]) <= 256 * 2**20
        seen[unit] = {k: v for k, v in props.items() if k != "DropInPaths"}
    assert seen[FAILURE_UNIT] == seen[RECOVERY_UNIT]
    service = m.show(UNIT, "TasksMax", "LimitCORE", "MemoryHigh", "MemoryMax")
    assert int(service["TasksMax"]) <= 64 and service["LimitCORE"] == "0"
    assert int(service["MemoryHigh"]) < int(service["MemoryMax"]) <= 128 * 2**20
    for unit in (UNIT, FAILURE_UNIT, RECOVERY_UNIT):
        out = m.run(["systemd-analyze", "security", "--no-pager", unit], check=False).stdout
        level = out.strip().splitlines()[-1]
        report(f"systemd-analyze security {unit}: {level.split(': ', 1)[-1]}")


def test_the_handler_sandbox_cannot_read_the_secret_or_write_outside_the_spool(box):
    """A transient unit named ticketing-cron-* gets the handlers' drop-in: the same
    sandbox, running as root like the handlers."""
    m = box.machine
    secret = "tc-" + uuid.uuid4().hex
    box.install_secret(secret)
    m.write("/etc/ticketing-cron/cron-secret.cred", secret + "-cred\n", mode="0600")
    probe = f"ticketing-cron-probe-{uuid.uuid4().hex[:8]}"
    script = ("cat /etc/ticketing-cron/cron-secret /etc/ticketing-cron/cron-secret.cred; "
              "echo; ls /run/credentials 2>&1 | head -1; "
              "touch /var/probe 2>&1 || echo var-refused; "
              "touch /etc/ticketing-cron/probe 2>&1 || echo etc-refused; "
              "touch /var/spool/postfix/probe && rm /var/spool/postfix/probe && echo spool-ok; "
              "echo core=$(ulimit -c); "
              # How run_record.unit_properties learns the service's user.
              f"systemctl show --property=DynamicUser --property=User -- {UNIT}")
    proc = m.run(["systemd-run", "--wait", "--pipe", "-q", f"--unit={probe}", "sh", "-c",
                  script], check=False)
    out = proc.stdout + proc.stderr
    print(out)
    m.run(["rm", "-f", "/etc/ticketing-cron/cron-secret.cred"])
    assert secret not in out, "the handlers' sandbox can read the secret"
    assert "var-refused" in out and "etc-refused" in out
    assert "spool-ok" in out and "core=0" in out
    assert "DynamicUser=yes" in out, "the handler cannot ask systemd for the unit's user"


def test_the_memory_ceilings_leave_room_above_measured_peaks(box, hook, standin, secret):
    """Peak RSS of the handler with real postfix (its largest process, from wait4),
    of postfix's sendmail with postdrop, and of a run, against the units' MemoryHigh=."""
    m = box.machine
    box.configure(config_text(standin.url, hook.url, "1h"))
    box.install_secret(secret)
    m.write("/var/tmp/peak.py", (
        "import os, resource, subprocess, sys\n"
        "cmd = sys.argv[1:]\n"
        "data = sys.stdin.buffer.read() if cmd[0].endswith('sendmail') else None\n"
        "subprocess.run(cmd, input=data, capture_output=True)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"))

    def peak(cmd, env=(), data=None):
        out = m.run(["env", *env, "python3", "/var/tmp/peak.py", *cmd], input=data).stdout
        return int(out.split()[-1]) / 1024

    handler_env = ["MONITOR_SERVICE_RESULT=exit-code", "MONITOR_EXIT_CODE=exited",
                   "MONITOR_EXIT_STATUS=69", f"MONITOR_INVOCATION_ID={uuid.uuid4().hex}",
                   "STATE_DIRECTORY=/var/tmp/peak-state"]
    posts = len(hook.posts())
    handler = max(peak(["ticketing-cron", "notify-failure", UNIT], handler_env)
                  for _ in range(3))
    assert len(hook.posts()) == posts + 1, "the measured handler sent no alert"
    mail = f"To: {MAIL_ADDRESS}\nSubject: peak\n\n" + "measuring\n" * 50
    sendmail = max(peak(["/usr/sbin/sendmail", "-oi", "-t"], data=mail) for _ in range(3))
    run = max(peak(["ticketing-cron", "run", "sla-check"]) for _ in range(3))
    box.wait_mail_queue()
    limits = {u: int(m.show(u, "MemoryHigh")["MemoryHigh"]) / 2**20
              for u in (UNIT, FAILURE_UNIT)}
    report(f"peak RSS: handler {handler:.1f} MiB, postfix sendmail/postdrop {sendmail:.1f} "
           f"MiB, run {run:.1f} MiB; MemoryHigh= handler {limits[FAILURE_UNIT]:.0f} MiB, "
           f"service {limits[UNIT]:.0f} MiB")
    # The handler and sendmail and postdrop at their peaks at once, with room to spare.
    assert 1.5 * (handler + 2 * sendmail) <= limits[FAILURE_UNIT]
    assert 1.5 * run <= limits[UNIT]


# ------------------------------------------------------ item 1: a forged record


def test_a_record_forged_by_a_local_user_does_not_reach_the_alert(box, hook, hanging_api):
    m = box.machine
    box.configure(config_text(hanging_api.url, hook.url, "1h"))
    box.fresh_streak()
    box.install_secret("tc-" + uuid.uuid4().hex)
    # A local user with a lingering user manager (pam_systemd starts it; the user
    # bus is for systemd-run --user).
    m.run(["apt-get", "install", "-y", "-q", "--no-install-recommends", "libpam-systemd",
           "dbus-user-session"], timeout=900)
    m.run(["useradd", "--create-home", ATTACKER])
    uid = m.run(["id", "-u", ATTACKER]).stdout.strip()
    m.run(["loginctl", "enable-linger", ATTACKER])
    wait_for(lambda: m.run(["systemctl", "is-active", f"user@{uid}.service"],
                           check=False).stdout.strip() == "active", 30,
             f"{ATTACKER}'s user manager")
    wait_for(lambda: m.run(["test", "-S", f"/run/user/{uid}/bus"], check=False).returncode
             == 0, 30, f"{ATTACKER}'s user bus")
    m.write(FORGE_SCRIPT, FORGE)

    mails, posts = len(box.mails()), len(hook.posts())
    box.settle()
    m.run(["systemctl", "reset-failed", UNIT, FAILURE_UNIT, RECOVERY_UNIT], check=False)
    cursor = box.cursor()
    m.run(["systemctl", "start", "--no-block", UNIT])
    invocation = wait_for(lambda: m.show(UNIT, "InvocationID")["InvocationID"], 10,
                          "the run's invocation id")
    assert m.show(UNIT, "ActiveState")["ActiveState"] == "activating", "the run is over"

    forged_unit = f"forge-{uuid.uuid4().hex[:8]}.service"
    proc = m.run(["runuser", "-u", ATTACKER, "--", "env", f"XDG_RUNTIME_DIR=/run/user/{uid}",
                  "systemd-run", "--user", "--wait", "--pipe", "-q", f"--unit={forged_unit}",
                  "python3", FORGE_SCRIPT, invocation, forged_unit, PHISH])
    assert "forged" in proc.stdout
    m.run(["journalctl", "--sync"])
    forged = [r for r in m.journal(f"_SYSTEMD_INVOCATION_ID={invocation}")
              if PHISH in r.get("MESSAGE", "")]
    assert len(forged) == 2, "journald did not take the forged records under the run's id: " \
                             "the attack cannot be shown here"
    assert all(r["_UID"] == uid and r["_SYSTEMD_UNIT"] == f"user@{uid}.service"
               and r["OUTCOME"] in ("auth", "timeout") for r in forged)

    # The run times out (deadline = 10 s); systemd starts the failure handler.
    job = box.job_done(FAILURE_UNIT, cursor, timeout=90)
    assert job["JOB_RESULT"] == "done", job["MESSAGE"]
    box.wait_mail_queue()
    summary = m.summary_for(invocation)
    assert summary["OUTCOME"] == "timeout" and summary.get("_SYSTEMD_UNIT") in (UNIT, None)
    alert = wait_for(lambda: [r for r in box.handler_records(FAILURE_UNIT, cursor)
                              if r.get("FAILED_INVOCATION_ID") == invocation], 20,
                     "the failure handler's alert")[0]
    print(json.dumps({k: alert[k] for k in ("MESSAGE", "FAILED_OUTCOME", "ALERT_TEXT")},
                     indent=1))
    assert alert["ALERT"] == "failure" and alert["FAILED_OUTCOME"] == "timeout"
    assert alert["JOB"] == "sla-check"
    assert summary["MESSAGE"].split(": ", 1)[1] in alert["ALERT_TEXT"]
    assert PHISH not in json.dumps(alert) and "Subject: reset" not in json.dumps(alert)

    new_mails = box.mails()[mails:]
    assert len(new_mails) == 1
    assert subject(new_mails[0]).endswith(": timeout")
    assert PHISH not in body(new_mails[0]) and "evil.test" not in body(new_mails[0])
    new_posts = hook.posts()[posts:]
    assert len(new_posts) == 1 and new_posts[0]["failed_outcome"] == "timeout"
    assert "evil.test" not in json.dumps(new_posts[0])


# ---------------------------------------------------- item 7: markup in a reply


def test_chat_markup_in_a_reply_is_quoted_in_the_webhook(box, hook):
    markup = "<!channel> <https://evil.test/reset|Reset your secret> @here"

    def answer(handler, request):
        send(handler, 200, markup, headers=[("Content-Type", "text/html")])
    api = LoopbackServer(answer)
    try:
        box.configure(config_text(api.url, hook.url, "1h"))
        box.fresh_streak()
        posts = len(hook.posts())
        run = box.failed_run()
    finally:
        api.close()
    assert run.summary["OUTCOME"] == "protocol" and "<!channel>" in run.summary["MESSAGE"]
    (post,) = hook.posts()[posts:]
    print(post["text"])
    assert "<" not in post["text"] and ">" not in post["text"]
    # The run's message (with the start of the reply) is one code span.
    line = post["text"].splitlines()[2]
    assert line.startswith("`the reply is not JSON") and line.endswith("`"), line
    assert "&lt;!channel&gt; &lt;https://evil.test/reset|Res" in line
    assert "<!channel> <https://evil.test/reset|Res" in body(box.mails()[-1]), \
        "the email shows the reply as it was"
    assert box.machine.show(FAILURE_UNIT, "Result")["Result"] == "success"


# ------------------------------------------------- the other common MTA: exim4


def test_exim4_delivers_each_alert_at_once_from_the_sandbox(box, hook):
    """Debian's default MTA, instead of postfix (last in this module: it replaces it).
    exim's sendmail returns at once and delivers from a child it leaves behind; the
    handler's sandbox must let that child write /var/mail and must not kill it."""
    m = box.machine
    m.write(POLICY_RC_D, "#!/bin/sh\nexit 101\n", mode="0755")  # no daemon on port 25
    try:
        m.run(["apt-get", "install", "-y", "-q", "--no-install-recommends",
               "exim4-daemon-light"], timeout=900)
    finally:
        m.run(["rm", "-f", POLICY_RC_D])
    m.run(["sed", "-i", "s/^dc_other_hostnames=.*/dc_other_hostnames='localhost.localdomain'/",
           "/etc/exim4/update-exim4.conf.conf"])
    m.run(["update-exim4.conf"])

    def reject(handler, request):
        send(handler, 401, {"error": "unauthorized"})
    api = LoopbackServer(reject)
    try:
        box.configure(config_text(api.url, hook.url, "1h"))
        box.install_secret("tc-" + uuid.uuid4().hex)
        before = len(box.mails())
        for n in range(1, 6):  # a delivery killed at the handler's exit shows within a few
            box.fresh_streak()
            cursor = box.cursor()
            rc, _ = box.start()
            assert rc != 0
            job = box.job_done(FAILURE_UNIT, cursor)
            assert job["JOB_RESULT"] == "done", job["MESSAGE"]
            wait_for(lambda n=n: len(box.mails()) >= before + n, 20,
                     f"alert {n} in the mailbox (exim4's queue: "
                     f"{m.run(['exim4', '-bp'], check=False).stdout.strip()})")
    finally:
        api.close()
    assert all(subject(mail).endswith(": auth") for mail in box.mails()[before:])
    assert m.run(["exim4", "-bpc"]).stdout.strip() == "0", \
        "left in exim's queue:\n" + m.run(["exim4", "-bp"]).stdout + \
        m.run(["tail", "-n", "40", "/var/log/exim4/mainlog"]).stdout
