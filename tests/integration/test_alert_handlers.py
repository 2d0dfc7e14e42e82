"""The alert handlers as subprocesses: a recording sendmail, a loopback webhook, a fake clock.

Time is faked with libfaketime (Debian's faketime), so the code under test reads
the real clock functions; nothing in it knows it is being tested.
"""

import email
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta

import pytest

from fake_clock import faketime_env
from support import REPO, send, status_reply

UNIT = "ticketing-cron.service"
T0 = datetime(2026, 11, 29, 12, 0, 0)

pytestmark = pytest.mark.skipif(shutil.which("faketime") is None and not os.environ.get("CI"),
                                reason="needs Debian's faketime (dev/test installs it)")


class Alerts:
    """Runs notify-failure / notify-recovery with a config, state dir and fake MTA."""

    def __init__(self, tmp, secret):
        self.tmp = tmp
        self.secret = secret
        self.state = tmp / "state"
        self.mail = tmp / "mail"
        self.bin = tmp / "bin"
        for d in (self.mail, self.bin):
            d.mkdir()
        self.config = tmp / "config.toml"
        self.sendmail_ok()

    def sendmail_ok(self):
        self._sendmail('n=$(ls "{mail}" | wc -l)\n'
                       '{{ echo "ARGS: $*"; cat; }} > "{mail}/$n.eml"\n')

    def sendmail_broken(self):
        self._sendmail('cat >/dev/null\necho "mail queue full" >&2\nexit 75\n')

    def _sendmail(self, body):
        path = self.bin / "sendmail"
        path.write_text("#!/bin/sh\n" + body.format(mail=self.mail))
        path.chmod(0o755)

    def configure(self, alerts, api='[api]\nbase_url = "https://tickets.acme.test"\n'):
        self.config.write_text(api + "[alerts]\n" + alerts)

    def start(self, command, at, exit_status="69", result="exit-code", extra_env=None,
              speed=None):
        """Start a handler at the fake time ``at`` (its clock running ``speed`` times
        faster than the real one, if given); returns the Popen."""
        env = {"PATH": f"{self.bin}:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8",
               "PYTHONPATH": str(REPO), "STATE_DIRECTORY": str(self.state),
               "MONITOR_SERVICE_RESULT": result, "MONITOR_EXIT_CODE": "exited",
               "MONITOR_EXIT_STATUS": exit_status, "MONITOR_INVOCATION_ID": "0123abcd"}
        env.update(extra_env or {})
        env.update(faketime_env(at.strftime("%Y-%m-%d %H:%M:%S"), speed))
        return subprocess.Popen([sys.executable, "-m", "ticketing_cron",
                                 "--config", str(self.config), command, UNIT], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                start_new_session=True)

    def finish(self, popen, timeout=60):
        """Wait for a started handler; returns its CompletedProcess."""
        out, err = popen.communicate(timeout=timeout)
        assert "Traceback" not in err, err
        assert self.secret not in err + out
        return subprocess.CompletedProcess(popen.args, popen.returncode, out, err)

    def run(self, command, at, exit_status="69", result="exit-code", extra_env=None,
            speed=None, timeout=60):
        return self.finish(self.start(command, at, exit_status, result, extra_env, speed),
                           timeout)

    def streak(self):
        path = self.state / f"{UNIT}.json"
        return json.loads(path.read_text()) if path.exists() else None

    def emails(self):
        mails = sorted(self.mail.iterdir(), key=lambda p: int(p.stem))
        return [p.read_text() for p in mails]

    def subjects(self):
        return [" ".join(email.message_from_string(m.split("\n", 1)[1])["Subject"].split())
                for m in self.emails()]


@pytest.fixture
def alerts(tmp_path, cli):
    return Alerts(tmp_path, cli.secret)


@pytest.fixture
def hook(serve):
    return serve(status_reply(200, {"ok": True}))


def events(hook):
    return [json.loads(r.body)["alert"] for r in hook.received]


def test_an_hour_long_outage_gives_one_alert_one_reminder_one_recovery(alerts, hook):
    alerts.configure(f'email_to = ["ops@acme.test"]\nwebhook_url = "{hook.url}/hook"\n'
                     f'repeat_interval = "1h"\n')
    for minute in range(61):  # 12:00 .. 13:00, every tick fails
        proc = alerts.run("notify-failure", T0 + timedelta(minutes=minute))
        assert proc.returncode == 0, proc.stderr
    assert alerts.subjects() == [
        f"[ticketing-cron] FAILING: sla-check on {os.uname().nodename}: unavailable",
        f"[ticketing-cron] STILL FAILING: sla-check on {os.uname().nodename}: unavailable"]
    assert events(hook) == ["failure", "reminder"]
    state = json.loads((alerts.state / f"{UNIT}.json").read_text())
    assert state["consecutive_failures"] == 61
    proc = alerts.run("notify-recovery", T0 + timedelta(minutes=61, seconds=30))
    assert proc.returncode == 0, proc.stderr
    assert alerts.subjects()[-1].startswith("[ticketing-cron] RECOVERED: sla-check on ")
    assert alerts.subjects()[-1].endswith("works again after 1 h 1 min (61 failed runs)")
    assert events(hook) == ["failure", "reminder", "recovery"]
    assert not (alerts.state / f"{UNIT}.json").exists()
    proc = alerts.run("notify-recovery", T0 + timedelta(minutes=62))
    assert len(alerts.emails()) == 3 and len(hook.received) == 3, "recovery is announced once"


def test_email_names_what_why_since_and_how_to_look(alerts):
    alerts.configure('email_to = ["ops@acme.test", "oncall@acme.test"]\n')
    alerts.run("notify-failure", T0, exit_status="77")
    alerts.run("notify-failure", T0 + timedelta(minutes=30), exit_status="77")
    (mail,) = alerts.emails()
    assert mail.startswith("ARGS: -oi -t\n")
    assert "To: ops@acme.test, oncall@acme.test" in mail
    assert "Auto-Submitted: auto-generated" in mail
    assert "failed: auth" in mail and "Failing since 2026-11-29 12:00:" in mail
    assert "journalctl -u ticketing-cron.service -n 20" in mail
    assert "systemctl status ticketing-cron.service" in mail


def test_alert_after_and_a_change_of_kind(alerts, hook):
    alerts.configure(f'webhook_url = "{hook.url}"\nalert_after = 3\n')
    for minute in range(3):
        alerts.run("notify-failure", T0 + timedelta(minutes=minute), exit_status="69")
    assert events(hook) == ["failure"]
    proc = alerts.run("notify-failure", T0 + timedelta(minutes=3), exit_status="77")
    assert events(hook) == ["failure", "changed"]
    payload = json.loads(hook.received[-1].body)
    assert payload["failed_outcome"] == "auth" and payload["consecutive_failures"] == 4
    assert payload["text"].startswith("[ticketing-cron] FAILING DIFFERENTLY")
    assert proc.returncode == 0


def test_suppressed_failures_say_why(alerts, hook):
    alerts.configure(f'webhook_url = "{hook.url}"\nalert_after = 2\n')
    proc = alerts.run("notify-failure", T0)
    assert "no alert until 2 in a row (alerts.alert_after)" in proc.stderr
    alerts.run("notify-failure", T0 + timedelta(minutes=1))
    proc = alerts.run("notify-failure", T0 + timedelta(minutes=2))
    assert "already alerted, next reminder in 59 min" in proc.stderr
    assert events(hook) == ["failure"]


def test_a_streak_that_never_alerted_ends_silently(alerts, hook):
    alerts.configure(f'webhook_url = "{hook.url}"\nalert_after = 5\n')
    alerts.run("notify-failure", T0)
    proc = alerts.run("notify-recovery", T0 + timedelta(minutes=1))
    assert proc.returncode == 0 and hook.received == []
    assert not (alerts.state / f"{UNIT}.json").exists()
    alerts.run("notify-failure", T0 + timedelta(minutes=2))
    state = json.loads((alerts.state / f"{UNIT}.json").read_text())
    assert state["consecutive_failures"] == 1, "a success resets the streak"


def test_broken_webhook_does_not_stop_email(alerts, serve):
    broken = serve(status_reply(500))
    alerts.configure(f'email_to = ["ops@acme.test"]\nwebhook_url = "{broken.url}"\n')
    proc = alerts.run("notify-failure", T0)
    assert proc.returncode == 69
    assert len(alerts.emails()) == 1
    assert "alert channel failed: webhook: HTTP 500" in proc.stderr


def test_broken_sendmail_does_not_stop_the_webhook(alerts, hook):
    alerts.sendmail_broken()
    alerts.configure(f'email_to = ["ops@acme.test"]\nwebhook_url = "{hook.url}"\n')
    proc = alerts.run("notify-failure", T0)
    assert proc.returncode == 69
    assert events(hook) == ["failure"]
    assert "sendmail exited 75: mail queue full" in proc.stderr


def test_missing_sendmail(alerts):
    (alerts.bin / "sendmail").unlink()
    alerts.configure('email_to = ["ops@acme.test"]\n')
    proc = alerts.run("notify-failure", T0, extra_env={"PATH": f"{alerts.bin}:/bin"})
    assert proc.returncode == 69
    assert "install an MTA" in proc.stderr


def test_webhook_redirect_is_not_followed(alerts, serve):
    other = serve(status_reply(200, {}), host="127.0.0.2")
    hook = serve(status_reply(302, {}, headers=[("Location", other.url)]))
    alerts.configure(f'webhook_url = "{hook.url}"\n')
    proc = alerts.run("notify-failure", T0)
    assert proc.returncode == 69 and other.received == []
    assert "webhook: redirected (HTTP 302)" in proc.stderr


def test_webhook_with_untrusted_certificate_gets_nothing(alerts, serve, pki):
    hook = serve(status_reply(200, {}), tls=pki.context(self_signed=True))
    alerts.configure(f'webhook_url = "{hook.url}"\n')
    proc = alerts.run("notify-failure", T0)
    assert proc.returncode == 69 and hook.received == []
    assert "webhook: TLS failed" in proc.stderr


def test_corrupt_state_still_alerts(alerts, hook):
    alerts.configure(f'webhook_url = "{hook.url}"\n')
    alerts.state.mkdir()
    (alerts.state / f"{UNIT}.json").write_text("{garbage")
    proc = alerts.run("notify-failure", T0)
    assert proc.returncode == 0
    assert "unreadable" in proc.stderr and events(hook) == ["failure"]
    assert json.loads((alerts.state / f"{UNIT}.json").read_text())["consecutive_failures"] == 1


def test_invalid_alert_settings_fall_back_to_the_journal(alerts, hook):
    alerts.configure(f'webhook_url = "{hook.url}"\nrepeat_interval = "often"\n')
    proc = alerts.run("notify-failure", T0)
    assert proc.returncode == 78
    assert "alerts.repeat_interval: must be a duration" in proc.stderr
    assert "crit: [ticketing-cron] FAILING" in proc.stderr


def test_unreadable_config_still_alerts_in_the_journal(alerts):
    alerts.config.write_text("[api\n")
    proc = alerts.run("notify-failure", T0, exit_status="78")
    assert proc.returncode == 78
    assert "crit: [ticketing-cron] FAILING: sla-check on" in proc.stderr
    assert ": config" in proc.stderr


def test_timeout_result_from_systemd(alerts):
    alerts.configure("")
    proc = alerts.run("notify-failure", T0, result="timeout", exit_status="15",
                      extra_env={"MONITOR_EXIT_CODE": "killed"})
    assert proc.returncode == 0 and "FAILING: sla-check on" in proc.stderr
    assert f"(unit {UNIT}; look with: journalctl -u {UNIT} -n 20)" in proc.stderr
    assert ": timeout" in proc.stderr.splitlines()[0]


def test_unwritable_state_directory(alerts, hook):
    alerts.configure(f'webhook_url = "{hook.url}"\n')
    alerts.state.write_text("not a directory")
    proc = alerts.run("notify-failure", T0)
    assert proc.returncode == 69 and events(hook) == ["failure"]
    assert "cannot save" in proc.stderr
    post = json.loads(hook.received[0].body)
    assert post["state_problem"] == "File exists"  # os.makedirs's word for it
    assert "The alert state could not be saved (File exists): until it can, alerts may " \
        "repeat." in post["text"]


def test_an_alert_that_reached_nobody_is_sent_again(alerts, serve):
    broken = serve(status_reply(503))
    alerts.sendmail_broken()
    alerts.configure(f'email_to = ["ops@acme.test"]\nwebhook_url = "{broken.url}"\n')
    proc = alerts.run("notify-failure", T0)
    assert proc.returncode == 69
    assert "the alert reached no configured channel; it is sent again" in proc.stderr
    alerts.sendmail_ok()
    alerts.run("notify-failure", T0 + timedelta(minutes=1))
    assert alerts.subjects() == [
        f"[ticketing-cron] FAILING: sla-check on {os.uname().nodename}: unavailable"]
    alerts.run("notify-failure", T0 + timedelta(minutes=2))
    assert len(alerts.emails()) == 1, "once delivered, the usual reminder interval applies"


def test_a_recovery_notice_that_reached_nobody_is_sent_again(alerts):
    alerts.configure('email_to = ["ops@acme.test"]\n')
    alerts.run("notify-failure", T0)
    alerts.sendmail_broken()
    proc = alerts.run("notify-recovery", T0 + timedelta(minutes=1))
    assert proc.returncode == 69 and (alerts.state / f"{UNIT}.json").exists()
    alerts.sendmail_ok()
    proc = alerts.run("notify-recovery", T0 + timedelta(minutes=2))
    assert proc.returncode == 0 and not (alerts.state / f"{UNIT}.json").exists()
    assert [s.split(":")[0] for s in alerts.subjects()] == ["[ticketing-cron] FAILING",
                                                           "[ticketing-cron] RECOVERED"]


# ---------------------------------------------------------------- issue 7, item 4


def test_a_handler_killed_while_delivering_has_its_alert_sent_once_more(alerts, serve):
    """systemd kills a handler that outlives TimeoutStartSec= (or the power goes) while
    the webhook holds the alert. The run stays counted, and the alert is delivered at
    least once: the next failed run sends it again, once; the one after is quiet."""
    arrived = threading.Event()

    def hang_first(handler, request):
        if not arrived.is_set():
            arrived.set()
            time.sleep(30)
        send(handler, 200, {"ok": True})
    hook = serve(hang_first)
    alerts.configure(f'email_to = ["ops@acme.test"]\nwebhook_url = "{hook.url}"\n')
    handler = alerts.start("notify-failure", T0)
    try:
        assert arrived.wait(30), "the webhook was never called"
    finally:
        os.killpg(handler.pid, signal.SIGKILL)  # as systemd's TimeoutStartSec= ends
        handler.communicate(timeout=10)
    assert len(alerts.emails()) == 1
    streak = alerts.streak()
    assert streak is not None, "the streak was not saved before delivering"
    assert streak["consecutive_failures"] == 1 and streak["last_alert_at"] is not None
    assert streak["delivering"] == "failure"

    proc = alerts.run("notify-failure", T0 + timedelta(minutes=1))
    assert proc.returncode == 0, proc.stderr
    assert "the failure alert of 2026-11-29 12:00:00 UTC was cut short" in proc.stderr
    assert len(alerts.emails()) == 2 and events(hook) == ["failure", "failure"]
    assert alerts.streak()["delivering"] is None
    proc = alerts.run("notify-failure", T0 + timedelta(minutes=2))
    assert "already alerted" in proc.stderr
    assert len(alerts.emails()) == 2, "the interrupted alert went out more than twice"


def recovery_killed_while_delivering(alerts, serve, settings=""):
    """A failure alerted through a webhook that then holds the first recovery notice;
    the recovery handler is killed while it waits. Returns the webhook."""
    arrived = threading.Event()

    def hang_recovery(handler, request):
        if json.loads(request.body)["alert"] == "recovery" and not arrived.is_set():
            arrived.set()
            time.sleep(30)
        send(handler, 200, {"ok": True})
    hook = serve(hang_recovery)
    alerts.configure(f'webhook_url = "{hook.url}"\n' + settings)
    alerts.run("notify-failure", T0)
    handler = alerts.start("notify-recovery", T0 + timedelta(minutes=1))
    try:
        assert arrived.wait(30), "the webhook was never called"
    finally:
        os.killpg(handler.pid, signal.SIGKILL)
        handler.communicate(timeout=10)
    return hook


def test_a_recovery_handler_killed_while_delivering_sends_the_notice_again(alerts, serve):
    """As above for the recovery notice: the streak is forgotten only once the notice
    reached a channel, so the next good run sends it again."""
    hook = recovery_killed_while_delivering(alerts, serve)
    assert alerts.streak()["delivering"] == "recovery"
    proc = alerts.run("notify-recovery", T0 + timedelta(minutes=2))
    assert proc.returncode == 0, proc.stderr
    assert events(hook) == ["failure", "recovery", "recovery"] and alerts.streak() is None


def test_a_recovery_that_cannot_mark_its_notice_sends_it_once(alerts, hook):
    """The disk is full (here: the temporary file's name is taken by a directory), so
    the notice cannot be marked as on its way out: the streak is forgotten at once,
    and the next good runs send nothing more."""
    alerts.configure(f'webhook_url = "{hook.url}"\n')
    alerts.run("notify-failure", T0)
    (alerts.state / f"{UNIT}.json.tmp").mkdir()
    proc = alerts.run("notify-recovery", T0 + timedelta(minutes=1))
    assert "cannot save" in proc.stderr
    assert alerts.streak() is None
    alerts.run("notify-recovery", T0 + timedelta(minutes=2))
    assert events(hook) == ["failure", "recovery"]


def test_a_failure_after_an_interrupted_recovery_begins_a_new_streak(alerts, serve):
    hook = recovery_killed_while_delivering(alerts, serve, 'repeat_interval = "1h"\n')
    proc = alerts.run("notify-failure", T0 + timedelta(minutes=2))
    assert proc.returncode == 0, proc.stderr
    assert events(hook) == ["failure", "recovery", "failure"]
    streak = alerts.streak()
    assert streak["consecutive_failures"] == 1 and streak["delivering"] is None


def trickle(handler, request):
    """A reply that never ends: headers, then one byte every tenth of a second."""
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", "1000000")
    handler.end_headers()
    try:
        for _ in range(1200):
            handler.wfile.write(b" ")
            handler.wfile.flush()
            time.sleep(0.1)
    except OSError:
        pass  # the handler gave up: what this test wants


def test_a_trickling_webhook_is_cut_by_the_handler_deadline(alerts, serve):
    """Each byte comes well within the 10 s read timeout, so only the handler's own
    deadline (44 s, below the unit's TimeoutStartSec=55s) stops it. The clock runs ten
    times faster (libfaketime; signal.alarm and poll follow it), so the deadline
    passes after 4.4 real seconds, and without one the handler would run for the
    two minutes the trickle lasts."""
    hook = serve(trickle)
    alerts.configure(f'email_to = ["ops@acme.test"]\nwebhook_url = "{hook.url}"\n')
    proc = alerts.run("notify-failure", T0, speed=10, timeout=40)
    assert proc.returncode == 69, proc.stderr
    assert "alert channel failed: webhook: cut short: the alert handler's deadline" \
        in proc.stderr
    assert len(alerts.emails()) == 1
    assert alerts.streak()["last_alert_at"] is not None


def test_a_malformed_webhook_reply_stops_neither_the_email_nor_the_streak(alerts, serve):
    """A Content-Length of 5,000 digits once raised a ValueError out of the webhook
    channel and killed the handler before it saved the streak."""
    def malformed(handler, request):
        handler.send_response(200)
        handler.send_header("Content-Length", "9" * 5000)
        handler.end_headers()
    hook = serve(malformed)
    alerts.configure(f'email_to = ["ops@acme.test"]\nwebhook_url = "{hook.url}"\n')
    proc = alerts.run("notify-failure", T0)
    assert proc.returncode == 69, proc.stderr
    assert "alert channel failed: webhook:" in proc.stderr
    assert len(alerts.emails()) == 1 and len(hook.received) == 1
    proc = alerts.run("notify-failure", T0 + timedelta(minutes=1))
    assert "already alerted" in proc.stderr and len(alerts.emails()) == 1


@pytest.mark.parametrize("field, value", [
    ("consecutive_failures", "x"), ("last_alert_at", []), ("first_failure_at", 1e300),
    ("consecutive_failures", 10**40), ("first_failure_at", float("nan")),
    ("alerts_sent", True), ("last_outcome", {"a": 1}), ("last_http_status", "200"),
], ids=["count-text", "epoch-list", "epoch-huge", "count-huge", "epoch-nan", "count-bool",
        "outcome-object", "status-text"])
def test_a_state_file_with_wrong_types_still_alerts(alerts, hook, field, value):
    alerts.configure(f'webhook_url = "{hook.url}"\n')
    alerts.run("notify-failure", T0)
    path = alerts.state / f"{UNIT}.json"
    state = json.loads(path.read_text())
    state[field] = value
    path.write_text(json.dumps(state))  # json writes nan as NaN, as Python reads it
    proc = alerts.run("notify-failure", T0 + timedelta(hours=2))
    assert proc.returncode == 0, proc.stderr
    assert f"is not a streak record ({field}" in proc.stderr
    assert events(hook) == ["failure", "failure"], "the corrupt state stopped the alert"
    assert alerts.streak()["consecutive_failures"] == 1


def test_a_state_file_nested_too_deep_still_alerts(alerts, hook):
    alerts.configure(f'webhook_url = "{hook.url}"\n')
    alerts.state.mkdir()
    (alerts.state / f"{UNIT}.json").write_text("[" * 100000 + "]" * 100000)
    proc = alerts.run("notify-failure", T0)
    assert proc.returncode == 0, proc.stderr
    assert "unreadable" in proc.stderr and events(hook) == ["failure"]


@pytest.mark.parametrize("toml, what", [
    ("a = " + "[" * 5000 + "]" * 5000 + "\n", "RecursionError"),
    ("[alerts]\nalert_after = " + "9" * 5000 + "\n", "ValueError"),
], ids=["nested-5000-deep", "5000-digit-integer"])
def test_a_config_that_breaks_the_toml_parser_still_alerts(alerts, toml, what):
    alerts.config.write_text(toml)
    proc = alerts.run("notify-failure", T0, exit_status="77")
    assert proc.returncode == 78, proc.stderr
    assert f"not usable TOML ({what}" in proc.stderr
    assert "crit: [ticketing-cron] FAILING: sla-check on" in proc.stderr


# ---------------------------------------------------------------- issue 7, item 5


def test_a_slow_failure_handler_does_not_resurrect_an_ended_streak(alerts, serve):
    """The failure handler is held up by a slow webhook; meanwhile a run succeeds and
    the recovery handler ends the streak. The failure handler must not write the old
    streak back afterwards: that would silence the next outage's first alert."""
    first_post = threading.Event()
    release = threading.Event()

    def slow_then_fast(handler, request):
        if not first_post.is_set():
            first_post.set()
            release.wait(30)
        send(handler, 200, {"ok": True})
    hook = serve(slow_then_fast)
    alerts.configure(f'webhook_url = "{hook.url}"\n')
    failing = alerts.start("notify-failure", T0)
    try:
        assert first_post.wait(30), "the failure handler never called the webhook"
        recovery = alerts.run("notify-recovery", T0 + timedelta(seconds=50))
    finally:
        release.set()
    failing = alerts.finish(failing)
    assert failing.returncode == 0 and recovery.returncode == 0, failing.stderr
    assert events(hook) == ["failure", "recovery"]
    assert alerts.streak() is None, "the slow failure handler resurrected the streak"

    # The next outage alerts at once.
    alerts.run("notify-failure", T0 + timedelta(minutes=2))
    assert events(hook) == ["failure", "recovery", "failure"]


# ------------------------------------------------------------------- notify-test


def trial_report(alerts):
    return json.loads((alerts.state / "test-alerts" / f"{UNIT}.json").read_text())


def test_the_test_notice_reaches_every_channel_marked_as_a_test(alerts, hook):
    alerts.configure(f'email_to = ["ops@acme.test"]\nwebhook_url = "{hook.url}/hook"\n')
    proc = alerts.run("notify-test", T0, extra_env={"INVOCATION_ID": "feedc0de"})
    assert proc.returncode == 0, proc.stderr
    assert alerts.subjects() == [f"[ticketing-cron] TEST: alerts for sla-check on "
                                 f"{os.uname().nodename} reach you"]
    assert "Nothing failed" in alerts.emails()[0]
    [post] = [json.loads(r.body) for r in hook.received]
    assert post["alert"] == "test" and post["test_alert"] == "1" and "TEST" in post["text"]
    report = trial_report(alerts)
    assert report["invocation_id"] == "feedc0de" and report["settings_problem"] is None
    assert [(c["channel"], c["state"]) for c in report["channels"]] == [
        ("journal", "ok"), ("email", "ok"), ("webhook", "ok")]
    assert alerts.streak() is None, "a test notice starts no streak"


def test_a_refusing_webhook_is_reported_and_fails_the_test(alerts, serve):
    refusing = serve(status_reply(500, {"ok": False}))
    alerts.configure(f'email_to = ["ops@acme.test"]\nwebhook_url = "{refusing.url}/hook"\n')
    proc = alerts.run("notify-test", T0)
    assert proc.returncode == 69
    channels = {c["channel"]: c for c in trial_report(alerts)["channels"]}
    assert channels["email"]["state"] == "ok"
    assert channels["webhook"]["state"] == "failed"
    assert "HTTP 500" in channels["webhook"]["detail"]
    assert len(alerts.emails()) == 1


def test_a_broken_sendmail_is_reported(alerts):
    alerts.sendmail_broken()
    alerts.configure('email_to = ["ops@acme.test"]\n')
    proc = alerts.run("notify-test", T0)
    assert proc.returncode == 69
    channels = {c["channel"]: c for c in trial_report(alerts)["channels"]}
    assert channels["email"]["state"] == "failed" and "mail queue full" in \
        channels["email"]["detail"]
    assert channels["webhook"] == {"channel": "webhook", "state": "off",
                                   "detail": "not configured (alerts.webhook_url)"}


def test_the_test_notice_leaves_a_failure_streak_as_it_was(alerts, hook):
    alerts.configure(f'webhook_url = "{hook.url}/hook"\nalert_after = 3\n')
    for minute in range(2):
        assert alerts.run("notify-failure", T0 + timedelta(minutes=minute)).returncode == 0
    before = (alerts.state / f"{UNIT}.json").read_bytes()
    assert alerts.run("notify-test", T0 + timedelta(minutes=2)).returncode == 0
    assert (alerts.state / f"{UNIT}.json").read_bytes() == before
    # The next failure is the third in a row: the first alert, as without the test.
    assert alerts.run("notify-failure", T0 + timedelta(minutes=3)).returncode == 0
    assert events(hook) == ["test", "failure"]


def test_only_the_journal_configured_passes_and_says_so(alerts):
    alerts.configure("")
    proc = alerts.run("notify-test", T0)
    assert proc.returncode == 0, proc.stderr
    assert [c["state"] for c in trial_report(alerts)["channels"]] == ["ok", "off", "off"]


def test_invalid_alert_settings_exit_78_with_the_problem_in_the_report(alerts):
    alerts.configure('email_to = ["not an address"]\n')
    proc = alerts.run("notify-test", T0)
    assert proc.returncode == 78
    assert "email_to" in trial_report(alerts)["settings_problem"]
