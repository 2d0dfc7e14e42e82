"""The journal MESSAGE_ID of every summary and alert record.

One fixed 128-bit id per outcome and per alert kind, so that `journalctl -x` finds
the explanation in /usr/lib/systemd/catalog/ticketing-cron.catalog and scripts can
match `MESSAGE_ID=...` instead of parsing text. Never change an id once released:
catalogs and saved queries name it.
"""

# Summary records: one per outcome (errors.EXIT_STATUS's keys).
OUTCOME = {
    "ok": "6b41f34dfaa0412eb5aa7562fdab29f8",
    "config": "01226315107c40bbb9bdd63f2bb53653",
    "auth": "b39b756dfd9f4f28ad61ddd32d4d5a58",
    "unavailable": "5207ee4825cb4bad841626d8bc316254",
    "timeout": "9c3e29110d3d4fbd8e2d4d127fd5dd0a",
    "protocol": "f72a1eacd2b54113a6f8e51e8e8d1fb4",
    "bug": "e68d8111763540f0b83b08503dc4013d",
}

# Alert records: one per alert kind (alerts.policy's FIRST, REMINDER, CHANGED, RECOVERY,
# "suppressed" for a failure that the no-flood rules kept quiet, and "test" for
# `ticketing-cron test-alert`'s notice).
ALERT = {
    "failure": "3756f29ec11e4af181049be1134de396",
    "reminder": "93b482af0ac3432288fc805985458e02",
    "changed": "07243c2d5337445d9076da34b3ea8b9a",
    "recovery": "fa26b0c8ade9484fb06d73b8937f4d77",
    "suppressed": "ed780613c2594f21aaab13c372963ec8",
    "test": "0fb643c7fa1a4afd8e8134fbbcfee07d",
}

# The warning that a run's Healthchecks ping failed (the run itself is unaffected).
PING_FAILED = "765f01cc517741fe9b7078da78d0b983"


def for_outcome(outcome):
    """The MESSAGE_ID of a summary record with this OUTCOME, or None if unknown."""
    return OUTCOME.get(outcome)


def for_alert(kind):
    """The MESSAGE_ID of an alert record of this ALERT kind, or None if unknown."""
    return ALERT.get(kind)
