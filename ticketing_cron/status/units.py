"""A job's systemd units and their state, from `systemctl show` (no D-Bus library)."""

import subprocess
import time

from ticketing_cron.base.errors import UnavailableError

SYSTEMCTL = "/usr/bin/systemctl"
TIMER_PROPERTIES = ("Id", "LoadState", "UnitFileState", "ActiveState", "LastTriggerUSec",
                    "NextElapseUSecRealtime")
SERVICE_PROPERTIES = ("Id", "LoadState", "ActiveState", "Result", "ConditionResult",
                      "ExecMainStatus", "DynamicUser", "User", "ExecMainStartTimestamp",
                      "ExecMainExitTimestamp")
TIMESTAMPS = ("LastTriggerUSec", "NextElapseUSecRealtime", "ExecMainStartTimestamp",
              "ExecMainExitTimestamp")
SHOW_TIMEOUT_S = 10


def parse_show(text):
    """`systemctl show` output (blocks of KEY=value, one per unit, separated by an
    empty line) -> a list of dicts, in the order the units were named."""
    units, current = [], {}
    for line in text.splitlines():
        if not line.strip():
            if current:
                units.append(current)
            current = {}
            continue
        key, sep, value = line.partition("=")
        if sep:
            current[key] = value
    if current:
        units.append(current)
    return units


def parse_time(value):
    """A timestamp of `systemctl show` run with TZ=UTC -> epoch seconds, or None when
    unset ('', 'n/a'). systemd 252 prints timers' times as 'Sun 2026-11-29 12:00:00
    UTC' even with --timestamp=unix, so both that and '@1764417600' are read."""
    value = (value or "").strip()
    if value.startswith("@") and value[1:].replace(".", "", 1).isdigit():
        seconds = float(value[1:])
        return seconds if seconds > 0 else None
    if not value.endswith(" UTC") or len(value) > 40:
        return None
    import calendar

    try:
        return float(calendar.timegm(time.strptime(value, "%a %Y-%m-%d %H:%M:%S UTC")))
    except ValueError:
        return None


def show(units, run=subprocess.run):
    """The properties of several units in one `systemctl show` call.

    Args:
        units: unit names.
        run: subprocess.run, replaceable in tests.
    Returns:
        dict unit name -> dict of properties (timestamps as epoch seconds or None).
    Raises:
        UnavailableError when systemctl is missing, hangs or fails.
    """
    properties = sorted(set(TIMER_PROPERTIES + SERVICE_PROPERTIES))
    argv = [SYSTEMCTL, "show", "--property=" + ",".join(properties),
            "--", *units]
    try:
        proc = run(argv, capture_output=True, text=True, timeout=SHOW_TIMEOUT_S,
                   env={"PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8", "TZ": "UTC",
                        "SYSTEMD_PAGER": ""})
    except (OSError, subprocess.TimeoutExpired) as e:
        raise UnavailableError(f"cannot ask systemd about {', '.join(units)}: "
                        f"{e}") from None
    if proc.returncode != 0:
        first = (proc.stderr.strip().splitlines() or ["no output"])[0][:200]
        raise UnavailableError(f"systemctl show failed ({first}); is systemd "
                        f"running?")
    blocks = parse_show(proc.stdout)
    result = {}
    for name, block in zip(units, blocks):
        for key in TIMESTAMPS:
            if key in block:
                block[key] = parse_time(block[key])
        result[name] = block
    return result


def service_run(props):
    """systemd's view of a service's last run, for health.judge: started, exited
    (epoch seconds or None), result and status (ExecMainStatus)."""
    return {"started": props.get("ExecMainStartTimestamp"),
            "exited": props.get("ExecMainExitTimestamp"), "result": props.get("Result"),
            "status": props.get("ExecMainStatus")}


def timer_state(props, service):
    """The dict health.judge wants, from a timer's properties."""
    return {"unit": props.get("Id"), "service": service, "load_state": props.get("LoadState"),
            "unit_file_state": props.get("UnitFileState"),
            "active_state": props.get("ActiveState"),
            "last_trigger": props.get("LastTriggerUSec"),
            "next_elapse": props.get("NextElapseUSecRealtime")}
