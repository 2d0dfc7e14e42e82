"""Which journal records the root alert handler believes (issue 7, item 1)."""

import pytest

from ticketing_cron.alerts.run_record import DYNAMIC_UIDS, trusted_record

UNIT = "ticketing-cron.service"
INVOCATION = "cb022ac10ec54a358bf7994efc313f82"


def genuine(**changes):
    """A summary record as the service's own run writes it, as journal.Reader gives it."""
    entry = {"_SYSTEMD_UNIT": UNIT, "_SYSTEMD_INVOCATION_ID": INVOCATION, "_UID": 61877,
             "SYSLOG_IDENTIFIER": "ticketing-cron", "_TRANSPORT": "journal",
             "OUTCOME": "auth", "JOB": "sla-check", "HTTP_STATUS": "401",
             "MESSAGE": "sla-check auth: the API rejected the secret (HTTP 401)"}
    entry.update(changes)
    return {k: v for k, v in entry.items() if v is not None}


def check(entry, exit_status="77", exit_code="exited", uids=DYNAMIC_UIDS):
    return trusted_record(entry, UNIT, INVOCATION, uids, exit_code, exit_status)


def test_the_runs_own_record_is_believed():
    assert check(genuine()) == {"JOB": "sla-check", "OUTCOME": "auth", "HTTP_STATUS": "401",
                                "MESSAGE": "sla-check auth: the API rejected the secret "
                                           "(HTTP 401)"}
    assert check(genuine(_UID="61877", HTTP_STATUS=None))["HTTP_STATUS"] == "0"


@pytest.mark.parametrize("changes", [
    # What journal 252 lets a local user's own user unit write (its _SYSTEMD_UNIT is
    # user@UID.service, its _UID the user's):
    {"_SYSTEMD_UNIT": "user@1001.service", "_UID": 1001},
    {"_UID": 1001},
    {"_UID": 0},
    {"_UID": None},
    {"_SYSTEMD_UNIT": "ticketing-cron-failure@ticketing-cron.service.service"},
    {"_SYSTEMD_INVOCATION_ID": "0" * 32},
    {"SYSLOG_IDENTIFIER": "evil"},
    {"_TRANSPORT": "stdout"},
    {"_TRANSPORT": "syslog"},
], ids=["user-unit", "user-uid", "root-uid", "no-uid", "other-unit", "other-invocation",
        "other-identifier", "stdout-transport", "syslog-transport"])
def test_a_record_journald_does_not_vouch_for_is_ignored(changes):
    assert check(genuine(**changes)) is None


@pytest.mark.parametrize("changes, exit_status", [
    ({"OUTCOME": "auth"}, "69"),          # the outcome disagrees with systemd
    ({"OUTCOME": "ok"}, "0"),
    ({"OUTCOME": "phishing"}, "77"),
    ({"OUTCOME": ["auth", "auth"]}, "77"),  # a field given twice
    ({"JOB": "sla check"}, "77"),
    ({"JOB": "-x"}, "77"),
    ({"JOB": "a" * 65}, "77"),
    ({"JOB": None}, "77"),
    ({"HTTP_STATUS": "4011"}, "77"),
    ({"HTTP_STATUS": "٤٠١"}, "77"),       # Arabic-Indic digits pass str.isdigit()
    ({"HTTP_STATUS": "-1"}, "77"),
    ({"MESSAGE": "sla-check auth: x\nSubject: click here"}, "77"),
    ({"MESSAGE": "sla-check auth: \x1b[2Jcleared"}, "77"),
    ({"MESSAGE": "sla-check auth: " + "x" * 3000}, "77"),
    ({"MESSAGE": b"\xff\xfe"}, "77"),     # not UTF-8: Reader leaves it bytes
    ({"MESSAGE": None}, "77"),
], ids=["outcome-vs-exit", "ok", "unknown-outcome", "repeated-field", "job-space",
        "job-dash", "job-long", "no-job", "status-4-digits", "status-arabic", "status-sign",
        "message-newline", "message-escape", "message-long", "message-binary", "no-message"])
def test_an_invalid_field_discards_the_record(changes, exit_status):
    assert check(genuine(**changes), exit_status=exit_status) is None


def test_a_run_killed_by_a_signal_has_no_record_to_believe():
    assert check(genuine(), exit_code="killed", exit_status="9") is None


# -- a record journald could not attribute (it took the record in after the run exited)

BOOT = "6b1c4bf3e43f4b9a8c3fdcb2d8a2f1e0"
RUN = (4242, 5_000_000)  # main PID, monotonic start in µs


def unattributed(**changes):
    """The run's record as journald stores it when the run was gone before journald
    read it: no unit, no invocation id; _PID and _UID from the kernel."""
    import datetime
    import uuid

    entry = genuine(_SYSTEMD_UNIT=None, _SYSTEMD_INVOCATION_ID=None, _PID=4242,
                    __MONOTONIC_TIMESTAMP=(datetime.timedelta(microseconds=5_200_000),
                                           uuid.UUID(BOOT)))
    entry.update(changes)
    return {k: v for k, v in entry.items() if v is not None}


def check_unattributed(entry, process=RUN, boot_id=BOOT):
    return trusted_record(entry, UNIT, INVOCATION, DYNAMIC_UIDS, "exited", "77", process,
                          boot_id)


def test_an_unattributed_record_of_the_runs_main_pid_is_the_runs():
    assert check_unattributed(unattributed())["OUTCOME"] == "auth"
    # The unit journald took from the run's stdout stream, without the invocation.
    assert check_unattributed(unattributed(_SYSTEMD_UNIT=UNIT))["OUTCOME"] == "auth"


def _other_boot():
    import datetime
    import uuid
    return (datetime.timedelta(microseconds=5_200_000), uuid.UUID("0" * 32))


@pytest.mark.parametrize("changes, process", [
    ({}, None),                                   # systemd could not say which PID
    ({"_PID": 4243}, RUN),                        # another process
    ({"_UID": 1001}, RUN),                        # the PID reused by a local user
    ({"_UID": 0}, RUN),
    ({"_SYSTEMD_UNIT": "user@1001.service"}, RUN),  # attributed, to something else
    ({"_SYSTEMD_INVOCATION_ID": "0" * 32}, RUN),
    ({"__MONOTONIC_TIMESTAMP": None}, RUN),
    ({"__MONOTONIC_TIMESTAMP": _other_boot()}, RUN),  # an earlier boot's PID 4242
    ({}, (4242, 6_000_000)),                      # written before the run started
    ({"SYSLOG_IDENTIFIER": "evil"}, RUN),
    ({"_TRANSPORT": "stdout"}, RUN),
], ids=["no-process", "other-pid", "user-uid", "root-uid", "other-unit", "other-invocation",
        "no-time", "other-boot", "before-start", "other-identifier", "stdout"])
def test_an_unattributed_record_is_refused_unless_everything_points_at_the_run(changes,
                                                                              process):
    assert check_unattributed(unattributed(**changes), process) is None


def test_the_runs_main_process_comes_from_systemd_only_for_the_failed_invocation():
    import subprocess

    from ticketing_cron.alerts.run_record import main_process

    def systemctl(invocation, pid="4242", code=0, start="5000000"):
        out = (f"InvocationID={invocation}\nExecMainPID={pid}\n"
               f"ExecMainStartTimestampMonotonic={start}\n")
        return lambda *a, **k: subprocess.CompletedProcess(a, code, out, "")
    assert main_process(UNIT, INVOCATION, run=systemctl(INVOCATION)) == RUN
    # Days of uptime: a monotonic time in µs of 11 digits and more.
    assert main_process(UNIT, INVOCATION, run=systemctl(INVOCATION, start="68277297204")) \
        == (4242, 68277297204)
    assert main_process(UNIT, INVOCATION, run=systemctl("1" * 32)) is None  # started again
    assert main_process(UNIT, INVOCATION, run=systemctl(INVOCATION, pid="0")) is None
    assert main_process(UNIT, INVOCATION, run=systemctl(INVOCATION, code=1)) is None
    assert main_process(UNIT, INVOCATION, run=systemctl(INVOCATION, pid="12x")) is None

    def missing(*a, **k):
        raise FileNotFoundError("systemctl")
    assert main_process(UNIT, INVOCATION, run=missing) is None
