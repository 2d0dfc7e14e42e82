"""Issue 4's alerts in a booted container of their own: a real local MTA (postfix,
local delivery only) delivering to a real mbox, and a webhook receiver on the
host's loopback.

The tests share the container and the stand-in API: a wrong secret fails run after
run (one alert, suppressed runs, a reminder once repeat_interval has passed), the
failure changes kind (alert at once), the right secret recovers (one notice, then
silence); a broken webhook does not stop the email; the streak survives a reboot;
and the secrets are nowhere to be found. The steps of the streak are module
fixtures, each built on the one before, so that any test also runs alone.

Runs are started with `systemctl start ticketing-cron.service`; the timer is
disabled, so no tick runs in between.
"""

import re
import time

import pytest

from alert_support import (MAIL_ADDRESS, AlertBox, body, closed_port_url, config_text,
                           subject)
from harness import FAILURE_UNIT, RECOVERY_UNIT, TIMER, UNIT, report, sleep_until

pytestmark = pytest.mark.system

# Short enough to wait for once, long enough that the runs right after the first
# alert are well inside it.
REPEAT_S = 30
# alert_policy.REMINDER_SLACK_S: a reminder may go out this much early.
SLACK_S = 5
WRONG_SECRET = "tc-wrong-4a1c9e07d3b25f68"
LOOK = "journalctl -u ticketing-cron.service -n 20"



@pytest.fixture(scope="module")
def box(workdir, base_rootfs, deb, standin):
    started = time.monotonic()
    b = AlertBox.create(workdir, base_rootfs, deb)
    yield b
    b.machine.discard()
    standin.control(hang=False, status=None)
    report(f"alert tests: {time.monotonic() - started:.0f} s in their container")


@pytest.fixture(scope="module")
def first_alert(box, hook, standin):
    """The first failed run of a wrong secret, into an empty mailbox and webhook:
    returns (the run, the streak after it)."""
    box.configure(config_text(standin.url, hook.url, f"{REPEAT_S}s"))
    box.install_secret(WRONG_SECRET)
    assert counts(box, hook) == (0, 0), "alerts were sent before the first failure"
    run = box.failed_run()
    return run, box.streak()


@pytest.fixture(scope="module")
def reminder(box, hook, first_alert):
    """Failed runs 2 to 5 of the streak: 2, 3 and (halfway through repeat_interval,
    well before a reminder may go out) 4 are suppressed, 5 comes after the interval.
    Returns (runs 2 to 4, the alerts counted after run 4, run 5)."""
    first_alert_at = first_alert[1]["last_alert_at"]
    suppressed = [box.failed_run(), box.failed_run()]
    sleep_until(first_alert_at + (REPEAT_S - SLACK_S) / 2)
    suppressed.append(box.failed_run())
    quiet = counts(box, hook)
    sleep_until(first_alert_at + REPEAT_S + 0.5)
    return suppressed, quiet, box.failed_run()


@pytest.fixture(scope="module")
def changed_kind(box, standin, reminder):
    """Right after the reminder (well inside repeat_interval) the API answers 500:
    run 6 fails as unavailable instead of auth. Returns that run."""
    standin.control(status=500)
    try:
        return box.failed_run()
    finally:
        standin.control(status=None)


def counts(box, hook):
    return len(box.mails()), len(hook.posts())


def assert_suppressed(run, count):
    alert = run.alert
    assert alert["ALERT"] == "suppressed", f"expected no alert, got: {alert['MESSAGE']}"
    assert alert["PRIORITY"] == "4"
    assert alert["CONSECUTIVE_FAILURES"] == str(count)
    assert run.job["JOB_RESULT"] == "done", run.job["MESSAGE"]


def assert_alerted(run, kind, outcome, count):
    alert = run.alert
    assert alert["ALERT"] == kind, f"expected a {kind} alert, got: {alert['MESSAGE']}"
    assert alert["PRIORITY"] == "2"
    assert alert["SYSLOG_IDENTIFIER"] == "ticketing-cron"
    assert alert["FAILED_UNIT"] == UNIT
    assert alert["JOB"] == "sla-check"
    assert alert["FAILED_OUTCOME"] == outcome
    assert alert["CONSECUTIVE_FAILURES"] == str(count)
    assert LOOK in alert["ALERT_TEXT"]


def assert_hook(post, kind, outcome, count, invocation):
    assert post["alert"] == kind
    assert post["job"] == "sla-check"
    assert post["failed_unit"] == UNIT
    assert post["failed_outcome"] == outcome
    assert post["consecutive_failures"] == count
    assert post["failed_invocation_id"] == invocation
    assert outcome in post["text"] and LOOK in post["text"]


# ---------------------------------------------------------------- the 401 streak


def test_wrong_secret_alerts_once_by_mail_and_webhook(box, hook, standin, first_alert):
    first, streak = first_alert
    summary = first.summary
    assert first.service["ExecMainStatus"] == "77"
    assert summary["OUTCOME"] == "auth" and summary["HTTP_STATUS"] == "401"
    calls = [c for c in standin.calls() if c["request_id"] == summary["REQUEST_ID"]]
    assert len(calls) == 1 and not calls[0]["secret_ok"] and calls[0]["status"] == 401

    # The journal: one alert at PRIORITY crit about this very run.
    assert_alerted(first, "failure", "auth", 1)
    alert = first.alert
    assert alert["FAILED_INVOCATION_ID"] == first.service["InvocationID"]
    # The job and the reason come from the run's own record, found by invocation id
    # (without it the handler would only know the unit and its exit status).
    assert summary["MESSAGE"].split(": ", 1)[1] in alert["ALERT_TEXT"]
    assert "HTTP 401" in alert["ALERT_TEXT"]
    assert first.job["JOB_RESULT"] == "done", first.job["MESSAGE"]
    assert not [r for r in first.handler_records if "alert channel failed" in r["MESSAGE"]]

    # The mailbox: one message.
    mails = box.mails()
    assert len(mails) == 1, [subject(m) for m in mails]
    mail = mails[0]
    print(f"--- {subject(mail)}\n{body(mail)}")
    assert re.fullmatch(r"\[ticketing-cron\] FAILING: sla-check on \S+: auth", subject(mail))
    assert mail["To"] == MAIL_ADDRESS
    assert mail["Auto-Submitted"] == "auto-generated"
    text = body(mail)
    assert "failed: auth" in text
    assert "the API rejected the secret (HTTP 401)" in text
    assert "1 failed run in a row" in text
    assert LOOK in text and "systemctl status ticketing-cron.service" in text
    assert f"every {REPEAT_S} s" in text

    # The webhook: one POST, the same alert as JSON.
    posts = hook.posts()
    assert len(posts) == 1, posts
    assert_hook(posts[0], "failure", "auth", 1, first.service["InvocationID"])
    assert posts[0]["text"].startswith(subject(mail))
    request = hook.server.received[0]
    assert request.path.endswith("/hooks/ticketing")
    assert request.headers["content-type"] == "application/json"

    assert streak["consecutive_failures"] == 1 and streak["alerts_sent"] == 1


def test_more_failures_are_suppressed_until_the_repeat_interval(box, hook, first_alert,
                                                                reminder):
    first_alert_at = first_alert[1]["last_alert_at"]
    quiet_runs, quiet, reminder = reminder
    for count, run in zip((2, 3, 4), quiet_runs):
        assert_suppressed(run, count)
    # Halfway through the interval (well before a reminder may go out): still quiet.
    assert quiet == (1, 1), "a suppressed failure sent something"

    # Once the interval has passed: one reminder.
    assert_alerted(reminder, "reminder", "auth", 5)
    mails, posts = box.mails(), hook.posts()
    assert len(mails) == 2 and len(posts) == 2
    assert re.fullmatch(r"\[ticketing-cron\] STILL FAILING: sla-check on \S+: auth",
                        subject(mails[-1]))
    assert "5 failed runs in a row" in body(mails[-1])
    assert_hook(posts[-1], "reminder", "auth", 5, reminder.service["InvocationID"])
    streak = box.streak()
    assert streak["alerts_sent"] == 2 and streak["last_alert_at"] >= first_alert_at + REPEAT_S \
        - SLACK_S

    # Each suppressed run left a warning in the journal that says why.
    suppressed = [r for r in box.machine.handler_records(FAILURE_UNIT)
                  if r.get("ALERT") == "suppressed"]
    assert len(suppressed) == 3
    assert all("already alerted, next reminder in" in r["MESSAGE"] for r in suppressed)


def test_a_change_of_failure_kind_alerts_at_once(box, hook, changed_kind):
    changed = changed_kind
    assert changed.service["ExecMainStatus"] == "69"
    assert changed.summary["OUTCOME"] == "unavailable"
    assert_alerted(changed, "changed", "unavailable", 6)
    mails, posts = box.mails(), hook.posts()
    assert len(mails) == 3 and len(posts) == 3
    assert re.fullmatch(r"\[ticketing-cron\] FAILING DIFFERENTLY: sla-check on \S+: "
                        r"unavailable", subject(mails[-1]))
    assert "HTTP 500" in body(mails[-1])
    assert_hook(posts[-1], "changed", "unavailable", 6, changed.service["InvocationID"])


def test_the_right_secret_recovers_with_one_notice(box, hook, secret, changed_kind):
    box.install_secret(secret)
    good = box.good_run()
    assert good.summary["OUTCOME"] == "ok"
    notice = good.alert
    assert notice is not None, "the first good run sent no recovery notice"
    assert notice["ALERT"] == "recovery" and notice["PRIORITY"] == "5"
    assert notice["CONSECUTIVE_FAILURES"] == "6"
    assert good.job["JOB_RESULT"] == "done" and "Finished" in good.job["MESSAGE"]
    mails, posts = box.mails(), hook.posts()
    assert len(mails) == 4 and len(posts) == 4
    print(f"--- {subject(mails[-1])}\n{body(mails[-1])}")
    assert re.fullmatch(r"\[ticketing-cron\] RECOVERED: sla-check on \S+ works again after "
                        r".+ \(6 failed runs\)", subject(mails[-1]))
    assert "last of all: unavailable" in body(mails[-1])
    assert posts[-1]["alert"] == "recovery" and posts[-1]["consecutive_failures"] == 6
    assert box.streak() is None, "the streak outlived the recovery"

    # A further good run: the recovery unit is skipped, nothing is sent.
    again = box.good_run()
    assert "skipped because of an unmet condition" in again.job["MESSAGE"]
    assert again.alert is None and again.handler_records == []
    assert counts(box, hook) == (4, 4)


# ------------------------------------------------------------- a broken webhook


def test_a_broken_webhook_does_not_stop_the_email(box, hook, standin, secret):
    box.configure(config_text(standin.url, hook.url, f"{REPEAT_S}s"))
    box.fresh_streak()
    before_mails, before_posts = counts(box, hook)
    box.install_secret(WRONG_SECRET)
    hook.status = 500
    try:
        first = box.failed_run()
    finally:
        hook.status = 200
    assert_alerted(first, "failure", "auth", 1)
    assert len(box.mails()) == before_mails + 1, "no email when the webhook failed"
    assert "FAILING: sla-check" in subject(box.mails()[-1])
    assert len(hook.posts()) == before_posts + 1  # it was tried, and answered 500
    assert first.handler_unit == {"Result": "exit-code", "ExecMainStatus": "69"}
    assert first.job["JOB_RESULT"] == "failed"
    errors = [r for r in first.handler_records if "alert channel failed" in r["MESSAGE"]]
    assert len(errors) == 1 and errors[0]["PRIORITY"] == "3"
    assert "webhook: HTTP 500" in errors[0]["MESSAGE"]

    # A closed port: the change of kind still reaches the mailbox.
    box.configure(config_text(standin.url, closed_port_url(), f"{REPEAT_S}s"))
    standin.control(status=500)
    try:
        changed = box.failed_run()
    finally:
        standin.control(status=None)
    assert_alerted(changed, "changed", "unavailable", 2)
    assert len(box.mails()) == before_mails + 2
    assert "FAILING DIFFERENTLY" in subject(box.mails()[-1])
    assert changed.handler_unit == {"Result": "exit-code", "ExecMainStatus": "69"}
    errors = [r for r in changed.handler_records if "alert channel failed" in r["MESSAGE"]]
    assert len(errors) == 1 and "webhook: cannot connect" in errors[0]["MESSAGE"]

    # Back to a working hook and secret: one recovery notice on both channels.
    box.configure(config_text(standin.url, hook.url, f"{REPEAT_S}s"))
    box.install_secret(secret)
    good = box.good_run()
    assert good.alert["ALERT"] == "recovery"
    assert len(box.mails()) == before_mails + 3
    assert hook.posts()[-1]["alert"] == "recovery"
    assert len(hook.posts()) == before_posts + 2
    assert box.streak() is None


# ------------------------------------------------------------------- a reboot


def test_the_streak_survives_a_reboot(box, hook, secret, standin):
    box.configure(config_text(standin.url, hook.url, "1h"))
    box.fresh_streak()
    box.install_secret(WRONG_SECRET)
    mails, posts = counts(box, hook)
    first = box.failed_run()
    assert_alerted(first, "failure", "auth", 1)
    assert counts(box, hook) == (mails + 1, posts + 1)
    since = first.alert["FAILING_SINCE"]

    box.machine.poweroff()
    box.machine.boot()
    assert box.machine.run(["systemctl", "is-enabled", TIMER], check=False).stdout.strip() \
        == "disabled"
    assert box.machine.run(["systemctl", "is-active", "postfix.service"]).stdout.strip() \
        == "active"
    assert box.streak()["consecutive_failures"] == 1

    second = box.failed_run()
    assert_suppressed(second, 2)
    assert second.alert["FAILING_SINCE"] == since
    assert counts(box, hook) == (mails + 1, posts + 1), "the reboot reset the streak"

    box.install_secret(secret)
    good = box.good_run()
    assert good.alert is not None and good.alert["ALERT"] == "recovery"
    assert good.alert["CONSECUTIVE_FAILURES"] == "2"
    assert counts(box, hook) == (mails + 2, posts + 2)
    assert subject(box.mails()[-1]).endswith("(2 failed runs)")
    again = box.good_run()
    assert again.alert is None
    assert counts(box, hook) == (mails + 2, posts + 2)
    assert box.streak() is None


# ------------------------------------------------------------------ no secret


def test_no_secret_in_mail_webhook_or_journal(box, hook, secret, changed_kind):
    mails, posts = counts(box, hook)
    assert mails >= 3 and posts >= 3, "too few alerts to look through"
    journal = box.machine.run(["journalctl", "--no-pager", "-o", "json"]).stdout
    assert FAILURE_UNIT in journal and RECOVERY_UNIT in journal
    # The export format keeps binary fields as they are (json turns them into numbers).
    export = box.machine.run(["journalctl", "--no-pager", "-o", "export"], input=b"").stdout
    for value in (secret, WRONG_SECRET):
        assert value not in journal, "a secret is in the journal"
        assert value.encode() not in export, "a secret is in the journal"
        assert value.encode() not in box.mailbox_bytes(), "a secret is in an email"
        assert value.encode() not in hook.raw(), "a secret is in a webhook request"
