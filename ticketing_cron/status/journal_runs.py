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

Reads with python-systemd's low-level calls (_next, _get): converting every field of
every record, as iterating a journal.Reader does, costs several times more over a
day of every-minute runs.
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
    """A journal reader matching the summary records of ``job_name``; current_run()
    checks whose they are.

    Raises:
        ImportError without python3-systemd; OSError when the journal cannot be opened.
    """
    from systemd import journal

    reader = journal.Reader()
    reader.add_match(_TRANSPORT="journal", SYSLOG_IDENTIFIER=IDENTIFIER, JOB=job_name,
                     **extra)
    return reader


def field(reader, name):
    """The current record's field as text, or None."""
    try:
        value = reader._get(name)
    except KeyError:
        return None
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


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


def runs_since(unit, job_name, since, uids=DYNAMIC_UIDS):
    """The job's runs from ``since`` (epoch seconds) on, oldest first."""
    reader = open_reader(job_name)
    try:
        reader.seek_realtime(since)
        runs = []
        while reader._next():
            run = current_run(reader, unit, uids)
            if run is not None and run["at"] >= since:
                runs.append(run)
        return runs
    finally:
        reader.close()


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
    of ``uids``, the users its unit runs as).

    Returns:
        dict: day (the runs of the last 24 h, oldest first), last_run and
        last_success (run dicts or None; looked up before the day when the day has
        none).
    """
    since = now - DAY_S
    day = runs_since(unit, job_name, since, uids)
    last_run = day[-1] if day else last_run_before(unit, job_name, since, uids=uids)
    successes = [r for r in day if r["outcome"] == "ok"]
    last_success = successes[-1] if successes else \
        last_run_before(unit, job_name, since, outcome="ok", uids=uids)
    return {"day": day, "last_run": last_run, "last_success": last_success}
