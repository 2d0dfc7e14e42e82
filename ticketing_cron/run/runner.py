"""One run of one job: config, secret, request, judgement, one summary record."""

import os
import time
import traceback

from ticketing_cron.base.catalog import OUTCOME as MESSAGE_ID
from ticketing_cron.base.deadline import alarm_at, terminate_on_sigterm
from ticketing_cron.base.errors import EXIT_STATUS, AuthError, ConfigError, CronError, Interrupted
from ticketing_cron.base.redact import Redactor
from ticketing_cron.base.text import plural
from ticketing_cron.config.load import load_config, unknown_job
from ticketing_cron.config.secret import fingerprint, read_secret
from ticketing_cron.config.url_secrets import ping_url_of
from ticketing_cron.http import client
from ticketing_cron.run.judge import judge
from ticketing_cron.run.slot import slot_for, wait_for_slot


def run_job(config_path, job_name, log, environ=os.environ, scheduled=False):
    """Run ``job_name`` once and write its summary record.

    Args:
        config_path: the TOML file.
        job_name: a [jobs.NAME] key.
        log: a log.Log.
        environ: the process environment (for $CREDENTIALS_DIRECTORY).
        scheduled: the timer's unit started the run (`run --scheduled`): it claims the
            schedule's slot (see slot.py) rather than a key of its own.
    Returns:
        The exit status for the outcome (0 on success).
    """
    started = time.monotonic()
    fields = {"JOB": job_name, "REQUEST_ID": os.urandom(16).hex(), "HTTP_STATUS": 0,
              "ATTEMPTS": 0}
    success = None
    ping = {}
    try:
        with terminate_on_sigterm():
            success = call_job(config_path, job_name, log, environ, fields, ping,
                               scheduled)
        outcome = "ok"
    except CronError as e:
        outcome, message = e.outcome, e.message
        fields["HTTP_STATUS"] = e.http_status or fields["HTTP_STATUS"]
    except Interrupted as e:
        outcome, message = "timeout", e.message
        if ping:  # no ping after SIGTERM (systemd kills 1 s later) or the deadline
            ping["interrupted"] = True
    except Exception as e:  # noqa: BLE001 - the last line of defence: report, don't crash
        outcome = "bug"
        message = (f"unexpected {type(e).__name__}; please report it with the output of "
                   f"`ticketing-cron -v run {job_name}`")
        log.debug("traceback: " + " | ".join(traceback.format_exc().splitlines()))
    duration_ms = client.ms(time.monotonic() - started)
    if success is not None:
        # A replay's figures are the earlier run's work: not counted again (status,
        # metrics) but kept apart, so that two servers' records add up.
        fields.update(HTTP_STATUS=success.http_status,
                      UNASSIGNED_COUNT=None if success.replayed else success.unassigned_count,
                      REPLAYED_UNASSIGNED_COUNT=success.unassigned_count
                      if success.replayed else None,
                      SERVER_DURATION_MS=success.server_duration_ms,
                      DUPLICATE=1 if success.duplicate else None,
                      REPLAYED=1 if success.replayed else None)
        message = success_message(success, fields["ATTEMPTS"], duration_ms)
    fields.update(OUTCOME=outcome, DURATION_MS=duration_ms, EXIT_STATUS=EXIT_STATUS[outcome],
                  MESSAGE_ID=MESSAGE_ID[outcome])
    log.record(f"{job_name} {outcome}: {message}", "info" if outcome == "ok" else "err",
               fields)
    if ping:  # only for a job with a ping_url: without one nothing is imported or done
        from ticketing_cron.run.ping import ping_after_run

        ping_after_run(job_name, ping["url"], EXIT_STATUS[outcome], fields["REQUEST_ID"],
                       f"{job_name} {outcome}: {message}", ping["deadline_at"], log,
                       interrupted=ping.get("interrupted", False))
    return EXIT_STATUS[outcome]


def call_job(config_path, job_name, log, environ, fields, ping=None, scheduled=False):
    """Load config and secret, make the call within the deadline, judge the reply.

    Args:
        fields: the summary record's fields; URL, IDEMPOTENCY_KEY, SCHEDULED_AT,
            ATTEMPTS and HTTP_STATUS are set here as they become known.
        scheduled: as for run_job.
        ping: a dict that gets the job's ping_url (url) and the run's deadline
            (deadline_at, a time.monotonic() value) when the job has a ping_url.
    Returns:
        judge.Success.
    Raises:
        CronError, or Interrupted when the deadline passes or SIGTERM arrives.
    """
    # The units' CacheDirectory=: the parsed config.toml is kept there between runs.
    config = load_config(config_path,
                         cache_dir=environ.get("CACHE_DIRECTORY", "").split(":")[0] or None)
    job = config.jobs.get(job_name)
    if job is None:
        raise unknown_job(job_name, config.jobs, config_path)
    ping_url = None
    if ping is not None:
        ping_url, problems = ping_url_of(job, config_path, environ)
        if problems:
            raise ConfigError("; ".join(problems))
    if ping_url:
        ping.update(url=ping_url, deadline_at=time.monotonic() + (
            job.deadline if job.deadline is not None else config.api.deadline))
    slot = slot_for(job, fields["REQUEST_ID"], scheduled)
    fields.update(IDEMPOTENCY_KEY=slot.key, SCHEDULED_AT=slot.scheduled_at)
    secret = read_secret(environ, config_path=config_path)
    log.hide(secret)
    api = config.api
    request = client.Request(url=api.base_url + job.path, secret=secret,
                             request_id=fields["REQUEST_ID"],
                             connect_timeout=api.connect_timeout,
                             read_timeout=api.read_timeout, ca_file=api.ca_file,
                             idempotency_key=slot.key, scheduled_at=slot.scheduled_at)
    fields["URL"] = request.url
    deadline = job.deadline if job.deadline is not None else api.deadline
    log.debug(f"POST {request.url} (request id {request.request_id}, Idempotency-Key "
              f"{slot.key} ({slot.kind}), deadline {deadline:g} s)")

    def count_attempt(n):
        fields["ATTEMPTS"] = n

    if ping_url and job.ping_start:
        from ticketing_cron.run.ping import ping_start

        ping_start(job_name, ping_url, fields["REQUEST_ID"], log)
    # Everything is ready (urllib3 imported, config, secret, request): a run that its
    # timer started ahead sends now at its slot, not before; the deadline counts from here.
    waited = wait_for_slot(slot)
    if waited:
        log.debug(f"started {client.ms(waited)} ms ahead of the slot; sent at it")
    deadline_at = time.monotonic() + deadline
    with alarm_at(deadline_at, f"the run's deadline of {deadline:g} s (api.deadline or the "
                  f"job's deadline) passed before the API answered"):
        reply = client.post(request, deadline_at, log, on_attempt=count_attempt)
    fields["HTTP_STATUS"] = reply.status
    try:
        return judge(redact_reply(reply, Redactor(secret)), request.url, keyed=True)
    except AuthError as e:
        # Names this side's secret so that the two can be compared, showing neither.
        raise AuthError(f"{e.message} (this server's: {fingerprint(secret)}; the app's: "
                        f"printf %s \"$CRON_SECRET\" | sha256sum)",
                        http_status=e.http_status) from None


def redact_reply(reply, redactor):
    """The reply with the secret hidden in its body, Location and Content-Type.

    Done on the raw bytes, before judge decodes JSON or cuts text short, since either
    would turn an echoed secret into a form that no longer matches it.

    Args:
        reply: client.Reply.
        redactor: redact.Redactor for the secret.
    Returns:
        client.Reply with those three replaced by their redacted forms.
    """
    return reply._replace(
        body=redactor.bytes(reply.body),
        location=reply.location and redactor.text(reply.location),
        content_type=reply.content_type and redactor.text(reply.content_type))


def success_message(success, attempts, duration_ms):
    """'3 requests unassigned (HTTP 200, 142 ms, 1 attempt)'."""
    if success.duplicate:
        return (f"another server has this run: the app answered HTTP {success.http_status} "
                f"to its Idempotency-Key ({duration_ms} ms, {plural(attempts, 'attempt')})")
    if success.replayed:
        then = ("" if success.unassigned_count is None else
                f": {plural(success.unassigned_count, 'request')} unassigned then")
        what = (f"done before: the app replayed its earlier reply to this run's "
                f"Idempotency-Key{then}")
    elif success.unassigned_count is None:
        what = "the API reported success"
    else:
        what = f"{plural(success.unassigned_count, 'request')} unassigned"
    return f"{what} (HTTP {success.http_status}, {duration_ms} ms, {plural(attempts, 'attempt')})"
