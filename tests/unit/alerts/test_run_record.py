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
