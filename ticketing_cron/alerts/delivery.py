"""Sending one alert: to the journal always, then to each configured channel, each
isolated from the others' failures and all of them inside the handler's deadline."""

import socket
import time
import traceback

from ticketing_cron.base.deadline import alarm_after
from ticketing_cron.base.errors import CronError, Interrupted
from ticketing_cron.base.catalog import for_alert

MIN_CHANNEL_S = 1.0   # a channel with less time left than this is not tried


def deadline(seconds):
    """Within the block, raise Interrupted once ``seconds`` have passed."""
    return alarm_after(seconds, f"the alert handler's deadline of {seconds} s passed")


def deliver(alert, chat, settings, log, deadline_at, priority="crit"):
    """Send an alert to the journal and every configured channel.

    Args: as deliver_each().
    Returns:
        (failed, reached): each failed channel's one-line reason, and whether the
        alert reached anyone: True when a configured channel worked, or when only
        the journal is configured.
    """
    results = deliver_each(alert, chat, settings, log, deadline_at, priority)
    failed = [problem for _, problem in results if problem]
    return failed, len(failed) < len(results) or not results


def deliver_each(alert, chat, settings, log, deadline_at, priority="crit"):
    """Record an alert in the journal, then try each configured channel.

    Args:
        alert: (subject, text, fields) from message.compose().
        chat: (subject, text) for the webhook (compose(..., chat=True)).
        settings: the AlertsConfig.
        deadline_at: time.monotonic() by which every channel must be done.
        priority: the journal record's priority.
    Returns:
        [(channel name, None or why it failed)] for "email" and "webhook", the
        configured ones only, in that order.
    """
    subject, text, fields = alert
    host = socket.gethostname()
    unit = fields["FAILED_UNIT"]
    log.record(f"{subject} (unit {unit}; look with: journalctl -u {unit} -n 20)", priority,
               dict(fields, ALERT_TEXT=text, MESSAGE_ID=for_alert(fields.get("ALERT"))))
    senders = []
    if settings.email_to:
        senders.append(("email", lambda left: channels().send_email(
            settings.email_to, subject, text, host, timeout=left)))
    if settings.webhook_url:
        payload = {"text": f"{chat[0]}\n{chat[1]}", "host": host,
                   **{k.lower(): v for k, v in fields.items()}}
        senders.append(("webhook", lambda left: channels().send_webhook(
            settings.webhook_url, payload, timeout=left)))
    results = [(name, try_channel(name, send, deadline_at, log)) for name, send in senders]
    for _, problem in results:
        if problem:
            log.record(f"alert channel failed: {problem}", "err",
                       {"ALERT_CHANNEL_ERROR": problem})
    return results


def try_channel(name, send, deadline_at, log):
    """Run one channel's send(seconds_left); returns why it failed, or None.

    Whatever goes wrong in a channel (its CronError, the deadline, or any other
    exception, e.g. from a malformed reply) is that channel's failure only.
    """
    left = deadline_at - time.monotonic()
    if left < MIN_CHANNEL_S:
        return f"{name}: not tried, the alert handler's deadline has passed"
    try:
        send(left)
    except CronError as e:
        return e.message
    except Interrupted as e:
        return f"{name}: cut short: {e.message}"
    except Exception as e:  # noqa: BLE001 - any channel bug must not stop the others
        log.debug("".join(traceback.format_exception(e)))
        return f"{name}: unexpected {type(e).__name__}: {' '.join(str(e).split())[:200]}"
    return None


def channels():
    """The channels module, imported only when an alert goes out (it loads urllib3)."""
    from ticketing_cron.alerts import channels as module
    return module
