"""The words of an alert: subject, text and structured fields, from the streak state."""

from ticketing_cron.alerts.policy import CHANGED, FIRST, RECOVERY, REMINDER
from ticketing_cron.base.timefmt import span, when


def runs(n):
    """'1 failed run', '5 failed runs'."""
    return f"{n} failed run{'' if n == 1 else 's'}"


def chat_escape(text):
    """Text for a Slack or Mattermost message: &, < and > as the entities both
    document, so that nothing in it becomes a link (<url|label>) or a mention
    (<!channel>, <@U123>)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def chat_quote(text):
    """Text from elsewhere (the run's reply) as a code span: no markup, links or
    @-mentions inside. A backtick would end the span, so it becomes a quote."""
    return f"`{text.replace('`', chr(39))}`" if text else text


def compose(kind, state, unit, host, now, repeat_interval_s, chat=False):
    """Build an alert.

    Args:
        kind: FIRST, REMINDER, CHANGED or RECOVERY.
        state: the streak state (for RECOVERY: the streak that just ended).
        unit: the watched unit, e.g. ticketing-cron.service.
        host: this machine's name.
        now: epoch seconds.
        repeat_interval_s: the reminder interval, to tell readers what comes next.
        chat: for a chat webhook: the run's message quoted (chat_quote), and the
            subject and text escaped (chat_escape).
    Returns:
        (subject, text, fields): one-line subject, multi-line text, dict of
        journal/webhook fields. Nothing in them comes from the secret.
    """
    job = state.get("job") or unit.rsplit(".", 1)[0]
    outcome = state["last_outcome"]
    since = min(state["first_failure_at"], now)  # not after now, were the clock stepped back
    count = state["consecutive_failures"]
    look = (f"  journalctl -u {unit} -n 20\n"
            f"  systemctl status {unit}\n")
    if kind == RECOVERY:
        subject = (f"[ticketing-cron] RECOVERED: {job} on {host} works again after "
                   f"{span(now - since)} ({runs(count)})")
        text = (f"{job} on {host} succeeded again at {when(now)}.\n"
                f"The outage lasted {span(now - since)}, from {when(since)}: {runs(count)} "
                f"in a row, last of all: {outcome}.\n\nTo look back:\n{look}")
    else:
        headline = {FIRST: "FAILING", REMINDER: "STILL FAILING", CHANGED: "FAILING DIFFERENTLY"}
        subject = f"[ticketing-cron] {headline[kind]}: {job} on {host}: {outcome}"
        status = state.get("last_http_status")
        message = state["last_message"]
        text = (f"{job} on {host} failed: {outcome}\n"
                f"{chat_quote(message) if chat else message}\n\n"
                f"Failing since {when(since)} ({span(now - since)}, {runs(count)} in a row)"
                f"{'; HTTP ' + str(status) if status else ''}.\n"
                f"Unit: {unit}\n\nHow to look:\n{look}\n"
                f"Reminders follow at most every {span(repeat_interval_s)} while it keeps "
                f"failing, at once if the kind of failure changes, and one notice when a "
                f"run succeeds again.\n")
    fields = {"ALERT": kind, "FAILED_UNIT": unit, "JOB": job, "FAILED_OUTCOME": outcome,
              "FAILING_SINCE": when(since), "CONSECUTIVE_FAILURES": count,
              "OUTAGE_S": int(now - since)}
    if chat:
        return chat_escape(subject), chat_escape(text), fields
    return subject, text, fields
