"""A job's runs, from the summary records its own unit wrote to the journal.

Any local user can write a journal record with SYSLOG_IDENTIFIER=ticketing-cron and
any JOB= or OUTCOME= they like, so records are matched first by _SYSTEMD_UNIT, which
journald itself sets from the writer's control group (a field the writer cannot
choose), and only then by the fields the program writes. As for the alert path
(alerts.run_record), a record counts only when its _UID is one the unit runs as:
journald caches a process's unit by PID, so a local process that reuses a
just-exited run's PID could otherwise be taken for that run.

A record without any _SYSTEMD_UNIT is one journald took in after its writer was gone
(flooded or starved, it reads the unit from the writer's /proc entry): it counts when
its _UID is one the unit runs as, which no local user can fake, so that a run is not
lost from status because journald was slow.

Reads with python-systemd's low-level calls: converting every field of every record,
as iterating a journal.Reader does, costs several times more over a day of every-minute
runs. The day of every job is read in one pass over the records since then (twenty
every-minute jobs: 28,800 records). Of each record _UID alone is read first, so that
what other users write costs one field; the records of the units' users are read
whole (_get_all, one walk over the record's fields instead of one per field), and only
the newest run of each job keeps its message and request id.
"""

from ticketing_cron.alerts.run_record import DYNAMIC_UIDS, written_by
from ticketing_cron.base.errors import EXIT_STATUS
from ticketing_cron.base.log import IDENTIFIER
from ticketing_cron.status.stats import whole

DAY_S = 86400
# How far back to look for the last run or success beyond the day: bounded, so that
# status never walks a year of journal.
LOOKBACK_RECORDS = 500


def open_reader(job_name, **extra):
    """A journal reader matching the summary records of ``job_name`` (of every job when
    it is None); current_run() and day_runs() check whose they are.

    Raises:
        ImportError without python3-systemd; OSError when the journal cannot be opened.
    """
    from systemd import journal

    reader = journal.Reader()
    if job_name is not None:
        extra["JOB"] = job_name
    reader.add_match(_TRANSPORT="journal", SYSLOG_IDENTIFIER=IDENTIFIER, **extra)
    return reader


def field(reader, name):
    """The current record's field as text, or None."""
    try:
        return text(reader._get(name))
    except KeyError:
        return None


def current_run(reader, unit, uids=DYNAMIC_UIDS):
    """The current record as a run dict, or None when it is not a summary record
    written by one of ``uids`` (the users the unit runs as) in ``unit`` (or in a unit
    journald could not tell)."""
    outcome = field(reader, "OUTCOME")
    if outcome not in EXIT_STATUS or not written_by(field(reader, "_UID"), uids):
        return None
    writer_unit = field(reader, "_SYSTEMD_UNIT")
    if writer_unit is not None and writer_unit != unit:
        return None
    return {"at": reader._get_realtime() / 1e6, "outcome": outcome,
            "message": field(reader, "MESSAGE") or "",
            "duration_ms": whole(field(reader, "DURATION_MS")),
            "unassigned": whole(field(reader, "UNASSIGNED_COUNT")),
            "exit_status": whole(field(reader, "EXIT_STATUS")),
            "http_status": whole(field(reader, "HTTP_STATUS")),
            "request_id": field(reader, "REQUEST_ID")}


def last_run_before(unit, job_name, before, outcome=None, uids=DYNAMIC_UIDS):
    """The newest run before ``before`` (of ``outcome`` if given), looking back at
    most LOOKBACK_RECORDS records; or None."""
    extra = {"OUTCOME": outcome} if outcome else {}
    reader = open_reader(job_name, **extra)
    try:
        reader.seek_realtime(before)
        for _ in range(LOOKBACK_RECORDS):
            if not reader._previous():
                return None
            run = current_run(reader, unit, uids)
            if run is not None and run["at"] < before:
                return run
        return None
    finally:
        reader.close()


def job_history(unit, job_name, now, uids=DYNAMIC_UIDS):
    """What status needs from the journal about one job (its records written by one
    of ``uids``, the users its unit runs as): histories() of that job alone."""
    return histories({job_name: (unit, uids)}, now)[job_name]


def histories(jobs, now):
    """What status needs from the journal about each job, in one pass over the day.

    Args:
        jobs: dict job name -> (its unit, the users it runs as: a range of uids).
        now: epoch seconds.
    Returns:
        dict job name -> dict: day (the runs of the last 24 h, oldest first; only the
        last has message, request_id, exit_status and http_status), last_run and
        last_success (run dicts or None; looked up before the day when the day has
        none).
    """
    since = now - DAY_S
    days = day_runs(jobs, since)
    found = {}
    for name, (unit, uids) in jobs.items():
        day = days[name]
        last_run = day[-1] if day else last_run_before(unit, name, since, uids=uids)
        last_success = next((r for r in reversed(day) if r["outcome"] == "ok"), None) or \
            last_run_before(unit, name, since, outcome="ok", uids=uids)
        found[name] = {"day": day, "last_run": last_run, "last_success": last_success}
    return found


def day_runs(jobs, since):
    """Every job's runs from ``since`` (epoch seconds) on, oldest first, read in one pass.

    Args:
        jobs: dict job name -> (unit, uids), as histories() takes it.
    Returns:
        dict job name -> list of run dicts (the last one whole, the others with at,
        outcome, duration_ms and unassigned).
    """
    days = {name: [] for name in jobs}
    if not jobs:
        return days
    newest = {}
    # Compared as the bytes the journal holds: decoding every field of 28,800 records
    # would cost more than reading them.
    names = {name.encode(): name for name in jobs}
    units = {name: unit.encode() for name, (unit, _) in jobs.items()}
    outcomes = {outcome.encode(): outcome for outcome in EXIT_STATUS}
    writers, runs_as = {}, {}  # _UID value -> any job's user?; (job, _UID) -> its user?
    reader = open_reader(next(iter(jobs)) if len(jobs) == 1 else None)
    try:
        reader.seek_realtime(since)
        while reader._next():
            try:
                uid = reader._get("_UID")
            except KeyError:
                continue
            if uid not in writers:
                writers[uid] = any(written_by(text(uid), uids) for _, uids in jobs.values())
            if not writers[uid]:
                continue
            fields = reader._get_all()
            name = names.get(first(fields, "JOB"))
            outcome = outcomes.get(first(fields, "OUTCOME"))
            if name is None or outcome is None or \
                    first(fields, "_SYSTEMD_UNIT") not in (None, units[name]):
                continue
            if (name, uid) not in runs_as:
                runs_as[name, uid] = written_by(text(uid), jobs[name][1])
            at = reader._get_realtime() / 1e6
            if runs_as[name, uid] and at >= since:
                days[name].append({"at": at, "outcome": outcome,
                                   "duration_ms": number(first(fields, "DURATION_MS")),
                                   "unassigned": number(first(fields, "UNASSIGNED_COUNT"))})
                newest[name] = fields
    finally:
        reader.close()
    for name, fields in newest.items():
        days[name][-1].update(message=first_text(fields, "MESSAGE") or "",
                              exit_status=number(first(fields, "EXIT_STATUS")),
                              http_status=number(first(fields, "HTTP_STATUS")),
                              request_id=first_text(fields, "REQUEST_ID"))
    return days


def first(fields, name):
    """A field of a _get_all() dict as bytes (its first value if repeated), or None."""
    value = fields.get(name)
    if isinstance(value, list):
        return value[0] if value else None
    return value


def number(value):
    """A field's bytes as an int, or None when they are not a plain number (as whole())."""
    return int(value) if value is not None and value.isdigit() and len(value) < 19 else None


def first_text(fields, name):
    """A field of a _get_all() dict as text (its first value if repeated), or None."""
    value = first(fields, name)
    return None if value is None else text(value)


def text(value):
    """A field's value (bytes, or what python-systemd converted) as text."""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
