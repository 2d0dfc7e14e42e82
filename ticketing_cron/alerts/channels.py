"""Alert channels beyond the journal: email through sendmail, and a JSON webhook."""

import email.message
import json
import os
import shutil
import subprocess

from ticketing_cron.http import client
from ticketing_cron.base.errors import ConfigError, CronError, UnavailableError

SENDMAIL_TIMEOUT_S = 30
WEBHOOK_TIMEOUT_S = 10
SENDMAIL_FALLBACK = "/usr/sbin/sendmail"


def find_sendmail(environ=os.environ):
    """sendmail on $PATH, else Debian's /usr/sbin/sendmail (the MTA interface)."""
    return shutil.which("sendmail", path=environ.get("PATH")) or SENDMAIL_FALLBACK


def send_email(addresses, subject, text, sender_host, environ=os.environ,
               timeout=SENDMAIL_TIMEOUT_S):
    """Hand one message to the local MTA.

    Args:
        addresses: recipient addresses (validated by config).
        subject, text: the message.
        sender_host: for the From: header.
        timeout: seconds sendmail may take (at most SENDMAIL_TIMEOUT_S).
    Raises:
        UnavailableError when sendmail is missing, fails or hangs.
    """
    message = email.message.EmailMessage()
    message["From"] = f"ticketing-cron <root@{sender_host}>"
    message["To"] = ", ".join(addresses)
    message["Subject"] = subject
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text, cte="8bit")  # readable as it lies in a mailbox
    sendmail = find_sendmail(environ)
    timeout = min(timeout, SENDMAIL_TIMEOUT_S)
    try:
        proc = subprocess.run([sendmail, "-oi", "-t"], input=message.as_bytes(),
                              capture_output=True, timeout=timeout)
    except FileNotFoundError:
        raise UnavailableError(f"email: {sendmail} not found; install an MTA "
                        "(e.g. apt install postfix or exim4) or remove alerts.email_to") from None
    except subprocess.TimeoutExpired:
        raise UnavailableError(f"email: {sendmail} did not finish in "
                        f"{timeout:.0f} s") from None
    except OSError as e:
        raise UnavailableError(f"email: cannot run {sendmail}: {e.strerror}") from None
    if proc.returncode != 0:
        why = " ".join(proc.stderr.decode("utf-8", "replace").split())[:200]
        raise UnavailableError(f"email: {sendmail} exited {proc.returncode}: "
                        f"{why or 'no message'}")


def send_webhook(url, payload, ca_file=None, timeout=WEBHOOK_TIMEOUT_S):
    """POST a JSON payload once, TLS verified, no redirects, bounded in time.

    Args:
        timeout: seconds the whole request may take (at most WEBHOOK_TIMEOUT_S).
    Raises:
        CronError when the hook does not answer 2xx.
    """
    timeout = min(timeout, WEBHOOK_TIMEOUT_S)
    request = client.Request(url=url, secret=None, request_id=os.urandom(16).hex(),
                             connect_timeout=min(5, timeout), read_timeout=timeout,
                             ca_file=ca_file)
    headers = {"Content-Type": "application/json", "User-Agent": client.USER_AGENT,
               "X-Request-ID": request.request_id}
    body = json.dumps(payload).encode()
    pool = client.make_pool(request)
    try:
        reply = client.send_once(pool, request, headers, timeout, 1, body=body)
    except client.RetryableError as e:
        raise UnavailableError(f"webhook: {e.message}") from None
    except CronError as e:
        raise type(e)(f"webhook: {e.message}") from None
    finally:
        pool.clear()
    if 300 <= reply.status < 400:
        raise ConfigError(f"webhook: redirected (HTTP {reply.status}) to "
                        f"{reply.location}; not followed: set alerts.webhook_url to it")
    if not 200 <= reply.status < 300:
        raise UnavailableError(f"webhook: HTTP {reply.status} from "
                        f"{client.host_of(url)}")
