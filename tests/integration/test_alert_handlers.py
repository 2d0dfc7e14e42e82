"""The alert handlers as subprocesses: a recording sendmail, a loopback webhook, a fake clock.

Time is faked with libfaketime (Debian's faketime), so the code under test reads
the real clock functions; nothing in it knows it is being tested.
"""

import email
import json
import os
import shutil
import subprocess
import sys
from datetime import datetime, timedelta

import pytest

from support import REPO, status_reply

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

    def run(self, command, at, exit_status="69", result="exit-code", extra_env=None):
        env = {"PATH": f"{self.bin}:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8",
               "PYTHONPATH": str(REPO), "STATE_DIRECTORY": str(self.state),
               "MONITOR_SERVICE_RESULT": result, "MONITOR_EXIT_CODE": "exited",
               "MONITOR_EXIT_STATUS": exit_status, "MONITOR_INVOCATION_ID": "0123abcd"}
        env.update(extra_env or {})
        proc = subprocess.run(["faketime", at.strftime("%Y-%m-%d %H:%M:%S"), sys.executable,
                               "-m", "ticketing_cron", "--config", str(self.config), command,
                               UNIT], env=env, capture_output=True, text=True, timeout=60)
        assert "Traceback" not in proc.stderr, proc.stderr
        assert self.secret not in proc.stderr + proc.stdout
        return proc

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
        f"[ticketing-cron] FAILING: ticketing-cron on {os.uname().nodename}: unavailable",
        f"[ticketing-cron] STILL FAILING: ticketing-cron on {os.uname().nodename}: unavailable"]
    assert events(hook) == ["failure", "reminder"]
    state = json.loads((alerts.state / f"{UNIT}.json").read_text())
    assert state["consecutive_failures"] == 61
    proc = alerts.run("notify-recovery", T0 + timedelta(minutes=61, seconds=30))
    assert proc.returncode == 0, proc.stderr
    assert alerts.subjects()[-1].startswith("[ticketing-cron] RECOVERED: ticketing-cron on ")
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
    assert "crit: [ticketing-cron] FAILING: ticketing-cron on" in proc.stderr
    assert ": config" in proc.stderr


def test_timeout_result_from_systemd(alerts):
    alerts.configure("")
    proc = alerts.run("notify-failure", T0, result="timeout", exit_status="15",
                      extra_env={"MONITOR_EXIT_CODE": "killed"})
    assert proc.returncode == 0 and "FAILING: ticketing-cron on" in proc.stderr
    assert f"(unit {UNIT}; look with: journalctl -u {UNIT} -n 20)" in proc.stderr
    assert ": timeout" in proc.stderr.splitlines()[0]


def test_unwritable_state_directory(alerts, hook):
    alerts.configure(f'webhook_url = "{hook.url}"\n')
    alerts.state.write_text("not a directory")
    proc = alerts.run("notify-failure", T0)
    assert proc.returncode == 69 and events(hook) == ["failure"]
    assert "cannot save" in proc.stderr


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
        f"[ticketing-cron] FAILING: ticketing-cron on {os.uname().nodename}: unavailable"]
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
