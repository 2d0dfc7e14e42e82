"""The dead-man's switch: after a run, tell a Healthchecks-compatible service how it went.

`{ping_url}/{exit status}?rid=<uuid>` with the summary line as the body; with
ping_start, also `{ping_url}/start?rid=<uuid>` before the API call, so that the
service measures each run and notices one that started and never ended. The service
alerts when pings stop (the host, its network or its timer is dead) or report a
failure. The ping is made after the run's summary record is written and never
changes the run's outcome, exit status or record: a failed ping is one warning
record of its own. Imported only when a job has a ping_url.
"""

import time

from ticketing_cron.base.catalog import PING_FAILED
from ticketing_cron.base.deadline import alarm_at, terminate_on_sigterm
from ticketing_cron.base.errors import CronError, Interrupted
from ticketing_cron.base.text import printable
from ticketing_cron.http import client
from ticketing_cron.config.ping_url import origin, ping_target, scrub, start_target

PING_LIMIT_S = 5.0
# The start signal delays the API call by at most this.
START_LIMIT_S = 1.0
# Healthchecks stores at most 10 kB of a ping's body by default; a summary line is
# far shorter, but a reply excerpt in it must not push a ping over.
MAX_BODY_BYTES = 2000
# Below this, an attempt cannot even connect: skip it and say so.
MIN_ATTEMPT_S = 0.05
ATTEMPTS = 2


def ping_body(summary, redact=lambda text: text):
    """The body of a ping: the summary line, secret-free, UTF-8, at most MAX_BODY_BYTES.

    Args:
        summary: the summary record's message.
        redact: the run log's redaction (hides the secret), applied first.
    Returns:
        bytes, cut on a character boundary, with "..." when cut.
    """
    data = printable(redact(summary)).encode("utf-8")
    if len(data) <= MAX_BODY_BYTES:
        return data
    return data[:MAX_BODY_BYTES - 3].decode("utf-8", "ignore").encode("utf-8") + b"..."


def send_ping(url, body, budget_s, clock=time.monotonic, send=None):
    """POST body to url: one attempt, and one retry after a connection error or a 5xx.

    Args:
        url: the full ping URL (ping_target()).
        body: bytes.
        budget_s: seconds for everything, both attempts included.
        clock: time, replaceable in tests.
        send: makes one attempt (client.send_once), replaceable in tests.
    Returns:
        None when the service took the ping (2xx); else why not, in one line that
        never contains the URL's path.
    """
    send = send or client.send_once
    ended_at = clock() + budget_s
    request = client.Request(url=url, secret=None, request_id="", connect_timeout=budget_s,
                             read_timeout=budget_s)
    headers = {"User-Agent": client.USER_AGENT, "Content-Type": "text/plain; charset=utf-8"}
    failure, made = "no attempt could start", 0
    pool = client.make_pool(request)
    try:
        for attempt in range(1, ATTEMPTS + 1):
            remaining = ended_at - clock()
            if remaining < MIN_ATTEMPT_S:
                break
            made = attempt
            try:
                reply = send(pool, request, headers, remaining, attempt, body=body)
            except client.RetryableError as e:
                failure = e.message
                continue
            except CronError as e:
                return scrub(e.message, url)
            if 200 <= reply.status < 300:
                return None
            failure = judge_status(reply)
            if reply.status < 500:
                return failure
        return f"{failure} (after {made} attempt{'s' if made != 1 else ''} " \
               f"within {budget_s:.1f} s)"
    finally:
        pool.clear()


def judge_status(reply):
    """Why a non-2xx reply to a ping is a failure, in one line."""
    if 300 <= reply.status < 400:
        return (f"HTTP {reply.status} redirect, not followed; copy the check's ping URL "
                f"from Healthchecks into ping_url")
    if reply.status == 404:
        return "HTTP 404: no such check; copy the check's ping URL from Healthchecks"
    return f"HTTP {reply.status}"


def ping_after_run(job_name, ping_url, exit_status, request_id, summary, deadline_at, log,
                   clock=time.monotonic, send=None, interrupted=False):
    """Ping the job's check with the run's exit status; log one warning if that fails.

    Args:
        job_name: the job, for the warning record.
        ping_url: the job's validated ping_url.
        exit_status: the run's exit status (already decided; never changed here).
        request_id: the run's REQUEST_ID, sent as ?rid=.
        summary: the summary record's message, sent as the body.
        deadline_at: clock() value of the run's deadline; the ping ends before it and
            takes at most PING_LIMIT_S.
        log: the run's log.Log (its redaction hides the secret).
        interrupted: the run was cut short by its deadline or by SIGTERM: no ping, since
            no time is left (and after SIGTERM systemd kills the process 1 s later).
    Returns:
        None on success, else the reason (also written as a warning record).
    """
    try:
        failure = attempt_ping(ping_url, exit_status, request_id, summary,
                               clock() if interrupted else deadline_at, log, clock, send)
    except Exception as e:  # noqa: BLE001 - a ping must never change how the run ends
        import traceback

        log.debug(scrub("ping traceback: " + " | ".join(traceback.format_exc().splitlines()),
                        ping_url))
        failure = f"unexpected {type(e).__name__}"
    if failure is None:
        return None
    failure = scrub(failure, ping_url)
    log.record(f"{job_name} ping to {origin(ping_url)} failed: {failure}; the run's own "
               f"outcome (exit status {exit_status}) is unaffected", "warning",
               {"JOB": job_name, "REQUEST_ID": request_id, "PING_HOST": origin(ping_url),
                "MESSAGE_ID": PING_FAILED})
    return failure


def attempt_ping(ping_url, exit_status, request_id, summary, deadline_at, log, clock, send):
    """ping_after_run's work: None on success, else why the ping failed."""
    url = ping_target(ping_url, exit_status, request_id)
    budget = min(PING_LIMIT_S, deadline_at - clock())
    shown = origin(ping_url)
    if budget < MIN_ATTEMPT_S:
        failure = (f"the run's deadline or SIGTERM left no time for it; the check on "
                   f"{shown} will report the run late after its grace time")
    else:
        log.debug(f"ping {shown} with exit status {exit_status} ({budget:.1f} s allowed)")
        try:
            with terminate_on_sigterm(), alarm_at(time.monotonic() + budget,
                                                           "the ping's time passed"):
                failure = send_ping(url, ping_body(summary, log.redact), budget, clock, send)
        except Interrupted as e:
            failure = ("stopped by SIGTERM" if "SIGTERM" in e.message
                       else f"no answer within {budget:.1f} s")
    if failure is None:
        log.debug(f"ping {shown}: accepted")
    return failure


def ping_start(job_name, ping_url, request_id, log, clock=time.monotonic, send=None):
    """Tell the job's check that a run starts, before its API call.

    Args:
        job_name, ping_url, request_id: as for ping_after_run (the same rid pairs the
            start with the end ping).
        log: the run's log.Log.
    Returns:
        None on success, else the reason (also written as a warning record). Takes at
        most START_LIMIT_S and never raises, but for SIGTERM (Interrupted), which ends
        the run as it would at any other moment.
    """
    try:
        with alarm_at(time.monotonic() + START_LIMIT_S, "the start ping's time passed"):
            failure = send_ping(start_target(ping_url, request_id), b"", START_LIMIT_S,
                                clock, send)
    except Interrupted as e:
        if "SIGTERM" in e.message:
            raise
        failure = f"no answer within {START_LIMIT_S:.1f} s"
    except Exception as e:  # noqa: BLE001 - a ping must never change how the run ends
        failure = f"unexpected {type(e).__name__}"
    if failure is None:
        log.debug(f"start ping {origin(ping_url)}: accepted")
        return None
    failure = scrub(failure, ping_url)
    log.record(f"{job_name} start ping to {origin(ping_url)} failed: {failure}; the run "
               f"goes on", "warning", {"JOB": job_name, "REQUEST_ID": request_id,
                                      "PING_HOST": origin(ping_url),
                                      "MESSAGE_ID": PING_FAILED})
    return failure
