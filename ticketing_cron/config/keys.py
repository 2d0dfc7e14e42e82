"""Every key of config.toml, declared once.

Validation (unknown keys, types, bounds, defaults), `check` and the manual page
ticketing-cron.toml(5) are driven by KEYS; tests hold config.toml.example and the
table of keys in docs/configuration.md to it. Rules that join keys (timeouts within the
deadline, a deadline below the schedule's interval) and the special checks of a kind (URL rules,
time zones, addresses) are code in config.validate and config.urls.

A plain table, not a schema library: its import would cost every run.
"""

DEFAULT_CONFIG_PATH = "/etc/ticketing-cron/config.toml"
EXAMPLE_PATH = "/usr/share/ticketing-cron/config.toml"  # not under doc/: path-exclude may drop that
DEFAULT_JOB = "sla-check"
DEFAULT_JOB_PATH = "/api/cron/sla-check"
TIMER_PERIOD_S = 60
# The service's TimeoutStartSec= is 58 s; the run's deadline must leave time to start
# Python and write the record before systemd kills the run.
MAX_DEADLINE_S = 55
MAX_JOB_DEADLINE_S = 86400
MAX_SCHEDULE_LEN = 200
# A job's name goes into unit names: the longest, the failure handler's
# "ticketing-cron-recovery@ticketing-cron@NAME.service.service", must stay within
# systemd's 255 characters, and the alert path trusts no longer JOB field. 64 leaves
# room for both.
MAX_JOB_NAME = 64
# What ticketing-cron.timer ships with; sla-check's schedule when the config names none.
DEFAULT_SCHEDULE = "*-*-* *:*:00"
# Schedules that elapse at every minute's second 0, whatever the time zone.
EVERY_MINUTE = frozenset({DEFAULT_SCHEDULE, "*:*:00", "*-*-* *:*:00", "minutely",
                          "* * * * *"})
# The timers elapse this long before their job's elapse (ticketing-cron.timer at every
# minute's second 59, the generator's lines one second earlier where that is exact):
# eleven runs starting at once on two CPUs need most of a second before their
# requests can leave, so they start ahead and send on the second (see run/slot.py).
TIMER_LEAD_S = 1
ZONEINFO = "/usr/share/zoneinfo"
DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}

class Key:
    """One config key.

    table: "api", "jobs.NAME" or "alerts"; name: the key; kind: how its value is read
    ("url", "ping_url", "file", "urlpath", "schedule", "timezone", "seconds", "count",
    "duration", "addresses", "flag"); default: the value when absent (None: unset); low, high:
    bounds of a number (low exclusive for seconds, inclusive for counts; None: unbounded);
    unit: what a number counts ("seconds", "failed runs"; "" for the rest); required: True when
    the table must have it; description: one line for check, docs and man page.

    A plain class: a namedtuple costs every run a compile of its own at import.
    """

    __slots__ = ("table", "name", "kind", "default", "low", "high", "unit", "required",
                 "description")

    def __init__(self, table, name, kind, default, low, high, unit, required, description):
        self.table, self.name, self.kind, self.default = table, name, kind, default
        self.low, self.high, self.unit, self.required = low, high, unit, required
        self.description = description

    def __repr__(self):
        return f"Key({self.table}.{self.name})"


KEYS = (
    Key("api", "base_url", "url", None, None, None, "", True,
        "The app's address: https://, or http:// to a loopback host only; a path "
        "prefix is kept."),
    Key("api", "ca_file", "file", None, None, None, "", False,
        "A PEM bundle trusted instead of the system's CAs, for an app behind a private "
        "CA; verification is never off."),
    Key("api", "deadline", "seconds", 50.0, 0, MAX_DEADLINE_S, "seconds", False,
        "Seconds for the whole run, retries included (at most 55)."),
    Key("api", "connect_timeout", "seconds", 5.0, 0, MAX_DEADLINE_S, "seconds", False,
        "Seconds for the TCP and TLS connection of one attempt."),
    Key("api", "read_timeout", "seconds", 20.0, 0, MAX_DEADLINE_S, "seconds", False,
        "Seconds of silence tolerated while waiting for, or reading, the reply."),
    Key("jobs.NAME", "path", "urlpath", None, None, None, "", True,
        "The endpoint's absolute URL path, e.g. /api/cron/sla-check."),
    Key("jobs.NAME", "schedule", "schedule", None, None, None, "", False,
        "When the job runs: a cron line or systemd calendar syntax (sla-check: every "
        "minute; others: by hand only)."),
    Key("jobs.NAME", "timezone", "timezone", "UTC", None, None, "", False,
        "The IANA time zone the schedule is read in."),
    Key("jobs.NAME", "deadline", "seconds", None, 0, MAX_JOB_DEADLINE_S, "seconds", False,
        "This job's deadline in seconds, instead of api.deadline; below the time "
        "between two of its runs."),
    Key("jobs.NAME", "ping_url", "ping_url", None, None, None, "", False,
        "A Healthchecks ping URL told each run's exit status; a credential, better kept "
        "in /etc/ticketing-cron/ping-urls/NAME (mode 0600), which wins over this key."),
    Key("jobs.NAME", "ping_start", "flag", False, None, None, "", False,
        "Also ping {ping_url}/start before the API call (at most 1 s), so that "
        "Healthchecks measures each run and notices one that never ends."),
    Key("alerts", "email_to", "addresses", (), None, None, "", False,
        "Addresses that get alert emails, through /usr/sbin/sendmail."),
    Key("alerts", "webhook_url", "url", None, None, None, "", False,
        "A JSON webhook (Slack/Mattermost-compatible) told of failures and recoveries; a "
        "credential, better kept in /etc/ticketing-cron/webhook-url (mode 0600), which "
        "wins over this key."),
    Key("alerts", "alert_after", "count", 1, 1, None, "failed runs", False,
        "Consecutive failed runs before the first alert."),
    Key("alerts", "repeat_interval", "duration", "1h", None, None, "", False,
        "Reminders while a job keeps failing, at most this often (\"30m\", \"1h\", "
        "\"1d\")."),
)

TABLES = ("api", "jobs", "alerts")


def keys_of(table):
    """The Keys of one table ("api", "jobs.NAME" or "alerts"), in declaration order."""
    return [key for key in KEYS if key.table == table]


def key(table, name):
    """The Key ``name`` of ``table``.

    Raises:
        KeyError: no such key.
    """
    for candidate in KEYS:
        if candidate.table == table and candidate.name == name:
            return candidate
    raise KeyError(f"{table}.{name}")
