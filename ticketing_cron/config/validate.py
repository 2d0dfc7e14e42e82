"""Parsed TOML into a validated Config, every problem collected with its key path.

Which keys exist, their types, bounds and defaults come from config.keys.KEYS: each kind of
key has a reader here that turns a TOML value into the program's value, or records a
problem and returns the key's default. What joins keys (timeouts within the deadline) is
code after the readers."""

import math
from collections import namedtuple

from ticketing_cron.config.keys import (DEFAULT_JOB, DEFAULT_JOB_PATH, DEFAULT_SCHEDULE,
                                        DURATION_UNITS, MAX_JOB_NAME, MAX_SCHEDULE_LEN,
                                        TABLES, keys_of)
from ticketing_cron.config.urls import validate_base_url
from ticketing_cron.config.zones import zone_problem

# Plain named tuples rather than dataclasses: the dataclasses module costs more to
# import than this whole package, and every run pays for it once a minute.
ApiConfig = namedtuple("ApiConfig", "base_url ca_file connect_timeout read_timeout deadline")
ApiConfig.__doc__ = "The [api] table: where and how to reach the app."
JobConfig = namedtuple("JobConfig", "name path schedule timezone deadline ping_url ping_start",
                       defaults=(None, "UTC", None, None, False))
JobConfig.__doc__ = ("One [jobs.NAME] table: the endpoint a job POSTs to, its schedule "
                     "(None: run by hand only), time zone, own deadline (None: "
                     "api.deadline), Healthchecks ping URL (None: no ping) and "
                     "whether a start ping goes before the call.")
AlertsConfig = namedtuple("AlertsConfig", "email_to webhook_url alert_after repeat_interval_s",
                          defaults=((), None, 1, 3600))
AlertsConfig.__doc__ = "The [alerts] table: who hears about failures and how often."
Config = namedtuple("Config", "path api jobs alerts")
Config.__doc__ = "The whole validated configuration; jobs maps a name to its JobConfig."


def validate(data, path, problems):
    """Turn parsed TOML into a Config, appending each problem found to ``problems``.

    Returns:
        Config, meaningful only when ``problems`` stayed empty.
    """
    check_keys(data, "", set(TABLES), problems)
    api = validate_api(table(data, "api", problems, default={}), problems)
    jobs = validate_jobs(table(data, "jobs", problems, default={
        DEFAULT_JOB: {"path": DEFAULT_JOB_PATH}}), problems)
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


def read_table(data, table_name, prefix, problems):
    """Every key of one table, read by its kind: a dict of name -> value.

    Args:
        data: the TOML table.
        table_name: "api", "jobs.NAME" or "alerts" (config.keys' names).
        prefix: the key path before a key's name in messages ("jobs.digest.").
        problems: list the problems are appended to.
    Returns:
        dict name -> value (the key's default where absent or wrong).
    """
    specs = keys_of(table_name)
    check_keys(data, prefix, {spec.name for spec in specs}, problems)
    values = {}
    for spec in specs:
        name = prefix + spec.name
        if spec.name not in data:
            if spec.required:
                problems.append(f"{name}: missing; it is required in [{prefix.rstrip('.')}]")
            values[spec.name] = default_of(spec)
        else:
            values[spec.name] = READERS[spec.kind](data[spec.name], spec, name, problems)
    return values


def default_of(spec):
    """A key's default as the program uses it (a duration in seconds)."""
    return parse_interval(spec.default) if spec.kind == "duration" else spec.default


def type_name(value):
    """A TOML-ish name for a Python value's type, for messages."""
    return {bool: "a boolean", int: "an integer", float: "a float", str: "a string",
            list: "an array", dict: "a table"}.get(type(value), type(value).__name__)


def read_string(value, spec, name, problems):
    """A non-empty string, else the key's default and a problem."""
    if not isinstance(value, str):
        problems.append(f"{name}: must be a string, not {type_name(value)}")
        return spec.default
    if not value.strip():
        problems.append(f"{name}: must not be empty")
        return spec.default
    return value


def read_url(value, spec, name, problems):
    """A string that passes config.urls' rules (https, or http to loopback)."""
    value = read_string(value, spec, name, problems)
    return None if value is None else validate_base_url(value, name, problems)


def read_ping_url(value, spec, name, problems):
    """A Healthchecks ping URL; its path is a credential, so no message shows it."""
    from ticketing_cron.config.ping_url import validate_ping_url  # only where configured

    return validate_ping_url(value, name, problems)


def read_file(value, spec, name, problems):
    """An absolute file path."""
    value = read_string(value, spec, name, problems)
    if value is not None and not value.startswith("/"):
        problems.append(f"{name}: must be an absolute path, not {value!r}")
        return None
    return value


def read_url_path(value, spec, name, problems):
    """An absolute URL path without white space, query or fragment."""
    value = read_string(value, spec, name, problems)
    if value is not None and (not value.startswith("/")
                              or any(c.isspace() or c in "?#" for c in value)):
        problems.append(f"{name}: must be an absolute URL path such as "
                        f"{DEFAULT_JOB_PATH}, not {value!r}")
    return value


def read_schedule(value, spec, name, problems):
    """One line that can go into a unit file; its meaning is checked by `check` and the
    generator, so that a run never pays for the translation."""
    value = read_string(value, spec, name, problems)
    if value is not None and (len(value) > MAX_SCHEDULE_LEN
                              or not value.isprintable() or not value.isascii()):
        problems.append(f"{name}: must be one line of at most "
                        f"{MAX_SCHEDULE_LEN} plain characters")
    return value


def read_time_zone(value, spec, name, problems):
    """An IANA time zone name that exists under /usr/share/zoneinfo."""
    value = read_string(value, spec, name, problems) or spec.default
    problem = zone_problem(value)
    if problem:
        problems.append(f"{name}: {problem}")
    return value


def read_seconds(value, spec, name, problems):
    """A number of seconds in (low, high], as a float."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        problems.append(f"{name}: must be a number of seconds, not {type_name(value)}")
        return spec.default
    if not spec.low < value <= spec.high:
        problems.append(f"{name}: must be more than {spec.low:g} and at most {spec.high:g} "
                        f"seconds, not {value:g}")
        return spec.default
    return float(value)


def read_count(value, spec, name, problems):
    """A whole number, ``low`` or more."""
    if isinstance(value, bool) or not isinstance(value, int) or value < spec.low:
        problems.append(f"{name}: must be a whole number of {spec.unit}, {spec.low} or "
                        f"more, not {value!r}")
        return spec.default
    return value


def read_duration(value, spec, name, problems):
    """A duration ("90s", "15m", "1h", "1d" or seconds) as whole seconds."""
    try:
        return parse_interval(value)
    except ValueError:
        problems.append(f"{name}: must be a duration such as \"30m\", \"1h\" "
                        f"or \"1d\", not {value!r}")
        return default_of(spec)


def read_addresses(value, spec, name, problems):
    """A list of plain e-mail addresses (one string is a list of one), as a tuple."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(a, str) for a in value):
        problems.append(f"{name}: must be a list of addresses such as "
                        f"[\"ops@example.com\"]")
        return spec.default
    for address in value:
        if not is_plain_address(address):
            problems.append(f"{name}: {address!r} is not an address like ops@example.com")
    return tuple(value)


def read_flag(value, spec, name, problems):
    """true or false (TOML booleans; "yes" or 1 are refused, not guessed)."""
    if not isinstance(value, bool):
        problems.append(f"{name}: must be true or false, not {value!r}")
        return spec.default
    return value


READERS = {"url": read_url, "ping_url": read_ping_url, "file": read_file,
           "urlpath": read_url_path, "schedule": read_schedule, "timezone": read_time_zone,
           "seconds": read_seconds, "count": read_count, "duration": read_duration,
           "addresses": read_addresses, "flag": read_flag}


def validate_api(api, problems):
    """Validate the [api] table into an ApiConfig."""
    values = read_table(api, "api", "api.", problems)
    deadline = values["deadline"]
    for key in ("connect_timeout", "read_timeout"):
        if key in api and values[key] > deadline:
            problems.append(f"api.{key}: {values[key]:g} s is longer than the run's deadline "
                            f"of {deadline:g} s")
    return ApiConfig(base_url=values["base_url"], ca_file=values["ca_file"],
                     connect_timeout=min(values["connect_timeout"], deadline),
                     read_timeout=min(values["read_timeout"], deadline), deadline=deadline)


def validate_jobs(jobs, problems):
    """Validate the [jobs.NAME] tables into a dict of name -> JobConfig."""
    result = {}
    for name, job in jobs.items():
        if not isinstance(job, dict):
            problems.append(f"jobs.{name}: must be a table ([jobs.{name}]), not {type_name(job)}")
            continue
        if not is_job_name(name):
            problems.append(f"jobs.{name[:MAX_JOB_NAME]}: job names use lower-case letters, "
                            f"digits and -, starting with a letter or digit, at most "
                            f"{MAX_JOB_NAME} characters (they become unit names)")
            continue
        count = len(problems)
        values = read_table(job, "jobs.NAME", f"jobs.{name}.", problems)
        if name == DEFAULT_JOB and "schedule" not in job:
            values["schedule"] = DEFAULT_SCHEDULE
        if len(problems) == count:
            result[name] = JobConfig(name=name, **values)
    return result


def validate_alerts(alerts, problems):
    """Validate the [alerts] table into an AlertsConfig."""
    values = read_table(alerts, "alerts", "alerts.", problems)
    return AlertsConfig(email_to=values["email_to"], webhook_url=values["webhook_url"],
                        alert_after=values["alert_after"],
                        repeat_interval_s=values["repeat_interval"])


def is_job_name(name):
    """True for [a-z0-9][a-z0-9-]{,63}: usable in every unit name made from it as is."""
    return bool(name) and len(name) <= MAX_JOB_NAME and name[0] != "-" and all(
        c in "abcdefghijklmnopqrstuvwxyz0123456789-" for c in name)


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


def is_plain_address(address):
    """True for a bare address user@domain with nothing a shell or MTA could misread."""
    local, at, domain = address.partition("@")
    return bool(at and local and "." in domain and not address.startswith("-")
                and all(c.isalnum() or c in ".-_+=@" for c in address))
