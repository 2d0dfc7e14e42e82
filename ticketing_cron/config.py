"""Load and validate /etc/ticketing-cron/config.toml.

Every problem in the file is collected in one pass, each with its key path, so that
an administrator fixes the file once instead of once per run.
"""

import math
import os
import sys
from collections import namedtuple

from ticketing_cron.errors import CronError, unreadable
from ticketing_cron.url_rules import validate_base_url

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Debian 12 has Python 3.11
    import tomli as tomllib

DEFAULT_CONFIG_PATH = "/etc/ticketing-cron/config.toml"
EXAMPLE_PATH = "/usr/share/doc/ticketing-cron/examples/config.toml"
DEFAULT_JOB = "sla-check"
TIMER_PERIOD_S = 60
# The service's TimeoutStartSec= is 58 s; the run's deadline must leave time to start
# Python and write the record before systemd kills the run.
MAX_DEADLINE_S = 55
DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# What ticketing-cron.timer ships with; sla-check's schedule when the config names none.
DEFAULT_SCHEDULE = "*-*-* *:*:00"
MAX_JOB_DEADLINE_S = 86400
MAX_SCHEDULE_LEN = 200
ZONEINFO = "/usr/share/zoneinfo"


# Plain named tuples rather than dataclasses: the dataclasses module costs more to
# import than this whole package, and every run pays for it once a minute.
ApiConfig = namedtuple("ApiConfig", "base_url ca_file connect_timeout read_timeout deadline")
ApiConfig.__doc__ = "The [api] table: where and how to reach the app."
JobConfig = namedtuple("JobConfig", "name path schedule timezone deadline ping_url",
                       defaults=(None, "UTC", None, None))
JobConfig.__doc__ = ("One [jobs.NAME] table: the endpoint a job POSTs to, its schedule "
                     "(None: run by hand only), time zone, own deadline (None: "
                     "api.deadline), and Healthchecks ping URL (None: no ping).")
AlertsConfig = namedtuple("AlertsConfig", "email_to webhook_url alert_after repeat_interval_s",
                          defaults=((), None, 1, 3600))
AlertsConfig.__doc__ = "The [alerts] table: who hears about failures and how often."
Config = namedtuple("Config", "path api jobs alerts")
Config.__doc__ = "The whole validated configuration; jobs maps a name to its JobConfig."


def load_config(path=DEFAULT_CONFIG_PATH):
    """Read and validate the configuration file.

    Args:
        path: the TOML file to read.
    Returns:
        Config.
    Raises:
        CronError("config") naming the file and every problem found in it.
    """
    data = read_toml(path)
    problems = []
    config = validate(data, path, problems)
    if problems:
        raise CronError("config", describe_problems(path, problems),
                        details=[f"{path}: {p}" for p in problems])
    return config


def read_toml(path):
    """Parse a TOML file into a dict.

    Raises:
        CronError("config") for a missing, unreadable or malformed file, naming the line.
    """
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except OSError as e:
        raise unreadable(path, e, f"copy {EXAMPLE_PATH} there or pass --config PATH",
                         "run as root or fix the file's mode") from None
    except UnicodeDecodeError:
        raise CronError("config", f"{path}: not valid UTF-8 text") from None
    except tomllib.TOMLDecodeError as e:
        raise CronError("config", f"{path}: not valid TOML: {e}") from None
    except Exception as e:  # noqa: BLE001 - whatever the parser raises, the file is at fault
        # The parser's own limits: nesting deeper than the interpreter's recursion
        # limit (RecursionError), an integer of more than 4300 digits (ValueError).
        raise CronError("config", f"{path}: not usable TOML ({type(e).__name__}: "
                        f"{str(e)[:120]})") from None


def describe_problems(path, problems):
    """Join problems into one line: "PATH: N problems: (1) ...; (2) ..."."""
    if len(problems) == 1:
        return f"{path}: {problems[0]}"
    listed = " ".join(f"({i}) {p}" for i, p in enumerate(problems, 1))
    return f"{path}: {len(problems)} problems: {listed}"


def validate(data, path, problems):
    """Turn parsed TOML into a Config, appending each problem found to ``problems``.

    Returns:
        Config, meaningful only when ``problems`` stayed empty.
    """
    check_keys(data, "", {"api", "jobs", "alerts"}, problems)
    api = validate_api(table(data, "api", problems, default={}), problems)
    jobs = validate_jobs(table(data, "jobs", problems, default={
        DEFAULT_JOB: {"path": "/api/cron/sla-check"}}), problems)
    alerts = validate_alerts(table(data, "alerts", problems, default={}), problems)
    return Config(path=path, api=api, jobs=jobs, alerts=alerts)


def table(data, key, problems, default):
    """Return data[key] if it is a table, ``default`` if absent; else record a problem."""
    if key not in data:
        return default
    value = data[key]
    if not isinstance(value, dict):
        problems.append(f"{key}: must be a table ([{key}]), not {type_name(value)}")
        return {}
    return value


def check_keys(data, prefix, allowed, problems):
    """Record every key of ``data`` not in ``allowed``, with a suggestion if one is close."""
    for key in data:
        if key not in allowed:
            import difflib  # only when there is a problem to explain

            near = difflib.get_close_matches(key, sorted(allowed), n=1, cutoff=0.6)
            hint = f"; did you mean {near[0]}?" if near else \
                f"; known keys: {', '.join(sorted(allowed))}"
            problems.append(f"{prefix}{key}: unknown key{hint}")


def type_name(value):
    """A TOML-ish name for a Python value's type, for messages."""
    return {bool: "a boolean", int: "an integer", float: "a float", str: "a string",
            list: "an array", dict: "a table"}.get(type(value), type(value).__name__)


def get_number(tbl, key, prefix, default, problems, low, high):
    """Read a positive number of seconds in [low, high]; record a problem otherwise."""
    if key not in tbl:
        return default
    value = tbl[key]
    name = prefix + key
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        problems.append(f"{name}: must be a number of seconds, not {type_name(value)}")
        return default
    if not low < value <= high:
        problems.append(f"{name}: must be more than {low:g} and at most {high:g} seconds, "
                        f"not {value:g}")
        return default
    return float(value)


def get_string(tbl, key, prefix, problems, required=False):
    """Read a non-empty string; record a problem if it is missing or of another type."""
    name = prefix + key
    if key not in tbl:
        if required:
            problems.append(f"{name}: missing; it is required in [{prefix.rstrip('.')}]")
        return None
    value = tbl[key]
    if not isinstance(value, str):
        problems.append(f"{name}: must be a string, not {type_name(value)}")
        return None
    if not value.strip():
        problems.append(f"{name}: must not be empty")
        return None
    return value


def validate_api(api, problems):
    """Validate the [api] table into an ApiConfig."""
    prefix = "api."
    check_keys(api, prefix, {"base_url", "ca_file", "connect_timeout", "read_timeout",
                             "deadline"}, problems)
    base_url = get_string(api, "base_url", prefix, problems, required=True)
    if base_url is not None:
        base_url = validate_base_url(base_url, prefix + "base_url", problems)
    ca_file = get_string(api, "ca_file", prefix, problems)
    if ca_file is not None and not ca_file.startswith("/"):
        problems.append(f"{prefix}ca_file: must be an absolute path, not {ca_file!r}")
        ca_file = None
    deadline = get_number(api, "deadline", prefix, 50.0, problems, 0, MAX_DEADLINE_S)
    connect = get_number(api, "connect_timeout", prefix, 5.0, problems, 0, MAX_DEADLINE_S)
    read = get_number(api, "read_timeout", prefix, 20.0, problems, 0, MAX_DEADLINE_S)
    for key, value in (("connect_timeout", connect), ("read_timeout", read)):
        if key in api and value > deadline:
            problems.append(f"{prefix}{key}: {value:g} s is longer than the run's deadline "
                            f"of {deadline:g} s")
    return ApiConfig(base_url=base_url, ca_file=ca_file, connect_timeout=min(connect, deadline),
                     read_timeout=min(read, deadline), deadline=deadline)


def validate_jobs(jobs, problems):
    """Validate the [jobs.NAME] tables into a dict of name -> JobConfig.

    Schedules are only checked for what could harm a unit file here (length, control
    characters); their meaning is checked by `check` and the generator, so that a run
    never pays for the translation.
    """
    result = {}
    for name, job in jobs.items():
        prefix = f"jobs.{name}."
        if not isinstance(job, dict):
            problems.append(f"jobs.{name}: must be a table ([jobs.{name}]), not {type_name(job)}")
            continue
        if not is_job_name(name):
            problems.append(f"jobs.{name}: job names use lower-case letters, digits and -, "
                            f"starting with a letter or digit (they become unit names)")
            continue
        count = len(problems)
        check_keys(job, prefix, {"path", "schedule", "timezone", "deadline", "ping_url"},
                   problems)
        path = get_string(job, "path", prefix, problems, required=True)
        if path is not None and (not path.startswith("/")
                                 or any(c.isspace() or c in "?#" for c in path)):
            problems.append(f"{prefix}path: must be an absolute URL path such as "
                            f"/api/cron/sla-check, not {path!r}")
        schedule = get_string(job, "schedule", prefix, problems)
        if schedule is not None and (len(schedule) > MAX_SCHEDULE_LEN
                                     or not schedule.isprintable() or not schedule.isascii()):
            problems.append(f"{prefix}schedule: must be one line of at most "
                            f"{MAX_SCHEDULE_LEN} plain characters")
        if schedule is None and name == DEFAULT_JOB and "schedule" not in job:
            schedule = DEFAULT_SCHEDULE
        timezone = get_string(job, "timezone", prefix, problems) or "UTC"
        if timezone != "UTC" and not is_time_zone(timezone):
            problems.append(f"{prefix}timezone: {timezone!r} is not a time zone under "
                            f"{ZONEINFO}; use an IANA name such as \"Europe/Berlin\"")
        deadline = get_number(job, "deadline", prefix, None, problems, 0, MAX_JOB_DEADLINE_S)
        ping_url = None
        if "ping_url" in job:  # its path is a credential: no message may show it
            from ticketing_cron.monitor.ping_url import validate_ping_url

            ping_url = validate_ping_url(job["ping_url"], prefix + "ping_url", problems)
        if len(problems) == count:
            result[name] = JobConfig(name=name, path=path, schedule=schedule,
                                     timezone=timezone, deadline=deadline, ping_url=ping_url)
    return result


def is_job_name(name):
    """True for [a-z0-9][a-z0-9-]*: usable in a unit name without escaping."""
    return bool(name) and name[0] != "-" and all(
        c in "abcdefghijklmnopqrstuvwxyz0123456789-" for c in name)


def is_time_zone(name):
    """True for an IANA time zone name that exists under /usr/share/zoneinfo."""
    parts = name.split("/")
    return len(name) <= 64 and all(
        p and p not in (".", "..") and p[0] != "-"
        and all(c.isascii() and (c.isalnum() or c in "_+-") for c in p) for p in parts) \
        and os.path.isfile(os.path.join(ZONEINFO, name))


def job_deadline(config, job):
    """The deadline of one run of ``job``: its own, or api.deadline."""
    return job.deadline if job.deadline is not None else config.api.deadline


def parse_interval(value):
    """Parse "90s", "15m", "1h", "1d" or a number of seconds into whole seconds.

    Raises:
        ValueError: for anything else.
    """
    if isinstance(value, bool):
        raise ValueError("not a duration")
    if isinstance(value, int):
        seconds = value
    elif isinstance(value, str) and value[-1:] in DURATION_UNITS and value[:-1].isdigit():
        seconds = int(value[:-1]) * DURATION_UNITS[value[-1]]
    else:
        raise ValueError("not a duration")
    if seconds <= 0:
        raise ValueError("not positive")
    return seconds


def validate_alerts(alerts, problems):
    """Validate the [alerts] table into an AlertsConfig."""
    prefix = "alerts."
    check_keys(alerts, prefix, {"email_to", "webhook_url", "alert_after", "repeat_interval"},
               problems)
    email_to = alerts.get("email_to", [])
    if isinstance(email_to, str):
        email_to = [email_to]
    if not isinstance(email_to, list) or not all(isinstance(a, str) for a in email_to):
        problems.append(f"{prefix}email_to: must be a list of addresses such as "
                        f"[\"ops@example.com\"]")
        email_to = []
    for address in email_to:
        if not is_plain_address(address):
            problems.append(f"{prefix}email_to: {address!r} is not an address like "
                            f"ops@example.com")
    webhook_url = get_string(alerts, "webhook_url", prefix, problems)
    if webhook_url is not None:
        webhook_url = validate_base_url(webhook_url, prefix + "webhook_url", problems)
    alert_after = alerts.get("alert_after", 1)
    if isinstance(alert_after, bool) or not isinstance(alert_after, int) or alert_after < 1:
        problems.append(f"{prefix}alert_after: must be a whole number of failed runs, 1 or "
                        f"more, not {alert_after!r}")
        alert_after = 1
    repeat = alerts.get("repeat_interval", "1h")
    try:
        repeat_s = parse_interval(repeat)
    except ValueError:
        problems.append(f"{prefix}repeat_interval: must be a duration such as \"30m\", \"1h\" "
                        f"or \"1d\", not {repeat!r}")
        repeat_s = 3600
    return AlertsConfig(email_to=tuple(email_to), webhook_url=webhook_url,
                        alert_after=alert_after, repeat_interval_s=repeat_s)


def is_plain_address(address):
    """True for a bare address user@domain with nothing a shell or MTA could misread."""
    local, at, domain = address.partition("@")
    return bool(at and local and "." in domain and not address.startswith("-")
                and all(c.isalnum() or c in ".-_+=@" for c in address))
