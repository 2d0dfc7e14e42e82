"""The failed run's own summary record, read from the journal by the root alert handler.

Any local user can write journal records with any fields, and on journald 252 even
with another unit's invocation id (journald takes a user unit's id from a symlink in
the user's own /run/user/UID/). So a record is believed only for what journald
derives from the kernel and from PID 1 (_SYSTEMD_UNIT, _UID, _TRANSPORT, and the
invocation id among them), only when its outcome agrees with the exit status systemd
reports, and only field by field after validation. Anything else falls back to
systemd's own words about the failure.

journald takes a record's unit and invocation id from the writer's /proc entry; when
it is far behind (flooded, starved of CPU) it reads a run's last record after the run
is gone, and the record has no invocation id (and no unit, unless journald took it
from the run's stdout stream). Such a record is still the run's when its _PID
(set by the kernel) is the failed invocation's main PID as systemd reports it, its
_UID one the unit runs as, and it comes from this boot after the run started: a PID
reused after the run is another user's, or another unit's with its own unit field.
"""

import datetime
import os
import pwd
import subprocess
import time

from ticketing_cron.config.validate import is_job_name
from ticketing_cron.base.errors import EXIT_STATUS

JOURNAL_SOCKET = "/run/systemd/journal/socket"
IDENTIFIER = "ticketing-cron"
# systemd's range for DynamicUser= (61184-65519, docs/UIDS-GIDS.md).
DYNAMIC_UIDS = range(61184, 65520)
LOOKUP_PAUSE_S = 0.25        # journald may still be taking in the record
LOOKUP_S = 3.0               # the whole lookup, tries included
# When the exit status is one a run gives only after writing its summary, the record
# is coming: a journald far behind (flooded) is waited for longer. The handler's
# deadline (44 s) still leaves the channels 30 s.
LOOKUP_EXPECTED_S = 12.0
MAX_ENTRIES = 256            # records of one run looked at, per try (-v adds some)
MAX_FIELD_BYTES = 8192       # journald hands out no longer field values
MAX_MESSAGE = 2000
SYSTEMCTL_TIMEOUT_S = 5
_ONE_USEC = datetime.timedelta(microseconds=1)


# What the handler asks systemd about the failed unit, in one `systemctl show`.
UNIT_PROPERTIES = ("DynamicUser", "User", "InvocationID", "ExecMainPID",
                   "ExecMainStartTimestampMonotonic")


def unit_properties(unit, run=subprocess.run):
    """UNIT_PROPERTIES of ``unit`` as `systemctl show` gives them (a dict of strings),
    or None when systemctl cannot tell."""
    try:
        proc = run(["systemctl", "show", *[f"--property={p}" for p in UNIT_PROPERTIES],
                    "--", unit], capture_output=True, text=True, timeout=SYSTEMCTL_TIMEOUT_S)
    except (OSError, subprocess.SubprocessError):
        return None
    if proc.returncode != 0:
        return None
    return dict(line.split("=", 1) for line in proc.stdout.splitlines() if "=" in line)


def unit_uids(props):
    """The user ids that the unit's processes run as, in systemd's own view of it.

    Args:
        props: unit_properties()'s dict, or None.
    Returns:
        A range of uids: DynamicUser= units (and, when systemctl cannot tell, the
        packaged units, which all use DynamicUser=) get DYNAMIC_UIDS; User=NAME the
        user's uid; no User= root's; an unknown user an empty range.
    """
    return DYNAMIC_UIDS if props is None else uids_from(props)


def uids_from(props):
    """The user ids a unit runs as, from its DynamicUser= and User= properties as
    `systemctl show` gives them (a dict of strings): DYNAMIC_UIDS when DynamicUser=
    is on or unknown, else User='s uid (root's when unset), an empty range for an
    unknown user."""
    if props.get("DynamicUser", "yes") == "yes":
        return DYNAMIC_UIDS
    user = props.get("User") or "root"
    if user.isascii() and user.isdigit():
        return range(int(user), int(user) + 1)
    try:
        uid = pwd.getpwnam(user).pw_uid
    except KeyError:
        return range(0)
    return range(uid, uid + 1)


def _text(entry, key):
    """A field's value if it is one string (not repeated, not binary), else None."""
    value = entry.get(key)
    return value if isinstance(value, str) else None


def written_by(uid_field, uids):
    """True when a record's _UID field (int or text, as journald set it) is one of
    ``uids``: the one field that tells who wrote a record, since journald derives it
    from the writing socket, not from what the writer says."""
    return _number(uid_field) in uids


def _number(value, digits=10):
    """An int from an int, or from a string of at most ``digits`` ASCII digits; else
    None."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= digits:
        return int(value)
    return None


def main_process(unit, invocation_id, run=subprocess.run):
    """The failed invocation's main process as systemd reports it: process_of() of
    ``unit``'s properties."""
    return process_of(unit_properties(unit, run), invocation_id)


def process_of(props, invocation_id):
    """(pid, start) of the unit's main process, start its CLOCK_MONOTONIC start in
    microseconds, from unit_properties()'s dict; None when that is None or the unit
    has started another invocation since ``invocation_id``."""
    if props is None or props.get("InvocationID") != invocation_id:
        return None
    pid = _number(props.get("ExecMainPID"))
    start = _number(props.get("ExecMainStartTimestampMonotonic"), digits=20)
    return (pid, start) if pid and start else None


def from_the_run(entry, unit, invocation_id, uids, process=None, boot_id=None):
    """True when journald's own fields say ``entry`` was written by the failed run:
    its unit and invocation id; or, for a record journald could not attribute (it has
    no invocation id, and no unit or the failed one), ``process`` = (pid, monotonic
    start in µs) of the run, this boot's ``boot_id``, and a monotonic time after the
    start. Either way the record's _UID is
    one of ``uids``, its identifier ours and its transport the native protocol."""
    if (_text(entry, "SYSLOG_IDENTIFIER") != IDENTIFIER
            or _text(entry, "_TRANSPORT") != "journal"
            or not written_by(entry.get("_UID"), uids)):
        return False
    invocation = str(entry.get("_SYSTEMD_INVOCATION_ID", "")).replace("-", "")
    if _text(entry, "_SYSTEMD_UNIT") == unit and invocation == invocation_id:
        return True
    # Late, journald may still know the unit from the run's stdout stream (its header
    # names it), but never the invocation: it reads that off the unit's /run symlink,
    # gone once the unit stopped.
    if entry.get("_SYSTEMD_UNIT", unit) != unit or "_SYSTEMD_INVOCATION_ID" in entry \
            or process is None:
        return False
    monotonic = entry.get("__MONOTONIC_TIMESTAMP")
    if isinstance(monotonic, tuple):  # journal.Reader: (timedelta, boot UUID)
        usec = monotonic[0] // _ONE_USEC
        boot = monotonic[1].hex
    else:
        usec, boot = _number(monotonic, digits=20), str(entry.get("_BOOT_ID", "")).replace("-", "")
    return (_number(entry.get("_PID")) == process[0] and boot_id is not None
            and boot == boot_id and usec is not None and usec >= process[1])


def trusted_record(entry, unit, invocation_id, uids, exit_code, exit_status, process=None,
                   boot_id=None):
    """The validated fields of one journal entry, if it is the run's own summary record.

    Args:
        entry: the entry's fields (journal.Reader's dict, or plain strings).
        unit: the failed unit; invocation_id: $MONITOR_INVOCATION_ID.
        uids: the uids the unit runs as (unit_uids()).
        exit_code, exit_status: $MONITOR_EXIT_CODE and $MONITOR_EXIT_STATUS.
        process, boot_id: the run's (pid, monotonic start µs) from process_of() and
            this boot's id, for a record that journald could not attribute.
    Returns:
        dict with JOB, OUTCOME, MESSAGE and HTTP_STATUS (strings), or None when any
        check fails.
    """
    if not from_the_run(entry, unit, invocation_id, uids, process, boot_id):
        return None
    outcome = _text(entry, "OUTCOME")
    if outcome not in EXIT_STATUS or outcome == "ok" or exit_code != "exited" \
            or str(EXIT_STATUS[outcome]) != exit_status:
        return None
    job = _text(entry, "JOB")
    if job is None or not is_job_name(job):  # is_job_name bounds the length
        return None
    status = _text(entry, "HTTP_STATUS") or "0"
    if not (status.isascii() and status.isdigit() and len(status) <= 3):
        return None
    message = _text(entry, "MESSAGE")
    if message is None or len(message) > MAX_MESSAGE or not message.isprintable():
        return None
    return {"JOB": job, "OUTCOME": outcome, "MESSAGE": message, "HTTP_STATUS": status}


def find_run_record(unit, failure, sleep=time.sleep, clock=time.monotonic):
    """The failed run's summary record, if the journal holds a trustworthy one.

    Args:
        unit: the failed unit.
        failure: notify.failure_from_environ()'s dict (invocation_id, exit_code,
            exit_status).
    Returns:
        trusted_record()'s dict, or None: no journal, no invocation id, no record, or
        none that passes every check. At most LOOKUP_S seconds (LOOKUP_EXPECTED_S
        when the exit status says the run wrote its summary) and MAX_ENTRIES records
        per try.
    """
    invocation_id = failure["invocation_id"]
    if not (len(invocation_id) == 32 and all(c in "0123456789abcdef" for c in invocation_id)) \
            or not os.path.exists(JOURNAL_SOCKET):
        return None
    try:
        from systemd import journal
    except ImportError:
        return None
    props = unit_properties(unit)
    uids = unit_uids(props)
    process = process_of(props, invocation_id)
    boot_id = _journal_boot(journal) if process else None
    expected = failure["exit_code"] == "exited" and \
        failure["exit_status"] in {str(v) for v in EXIT_STATUS.values() if v}
    give_up_at = clock() + (LOOKUP_EXPECTED_S if expected else LOOKUP_S)
    while True:
        matches = [{"_SYSTEMD_INVOCATION_ID": invocation_id, "_SYSTEMD_UNIT": unit}]
        if process:
            matches.append({"_PID": str(process[0])})
        for match in matches:
            found = _search(journal, match, unit, invocation_id, uids, failure, process,
                            boot_id)
            if found:
                return found
        if clock() + LOOKUP_PAUSE_S > give_up_at:
            break
        sleep(LOOKUP_PAUSE_S)
    return None


def _search(journal, match, unit, invocation_id, uids, failure, process, boot_id):
    """The first trusted summary record among at most MAX_ENTRIES matching ``match``."""
    reader = journal.Reader()
    try:
        reader.data_threshold = MAX_FIELD_BYTES
        reader.add_match(SYSLOG_IDENTIFIER=IDENTIFIER, _TRANSPORT="journal", **match)
        for _, entry in zip(range(MAX_ENTRIES), reader):
            if "OUTCOME" in entry:
                found = trusted_record(entry, unit, invocation_id, uids, failure["exit_code"],
                                       failure["exit_status"], process, boot_id)
                if found:
                    return found
    finally:
        reader.close()
    return None


def _journal_boot(journal):
    """The boot id (32 hex digits) of the journal's newest record, which is this
    boot's, or None. Not /proc's: in a container, a sandbox that remounts /proc/sys
    (ProtectKernelTunables=) sees the host's boot id, not the one journald stamps."""
    reader = journal.Reader()
    try:
        reader.seek_tail()
        entry = reader.get_previous()
        monotonic = entry.get("__MONOTONIC_TIMESTAMP")
        return monotonic[1].hex if isinstance(monotonic, tuple) else None
    except (OSError, ValueError, IndexError, AttributeError):
        return None
    finally:
        reader.close()
