"""Time zone names for [jobs.NAME] timezone: which exist, and what to say about a bad one."""

import os

from ticketing_cron.config.keys import ZONEINFO


def zone_problem(name):
    """What is wrong with a time zone name, with the fix.

    Args:
        name: the configured name (str).
    Returns:
        None for "UTC" or an IANA name under /usr/share/zoneinfo; else one line.
    """
    if name == "UTC":
        return None
    if name.startswith("right/") and is_time_zone(name):
        # Those files count leap seconds; systemd's timers and Python's clock do not.
        return (f"{name!r} counts leap seconds, so the job's runs would come 27 s after "
                f"the times its timer means and never claim their slot; use {name[6:]!r}")
    if is_time_zone(name):
        return None
    near = close_zone(name)
    example = f"did you mean {near!r}?" if near else \
        "use an IANA name such as \"Europe/Berlin\""
    return f"{name!r} is not a time zone under {ZONEINFO}; {example}"


def is_time_zone(name):
    """True for an IANA time zone name that exists under /usr/share/zoneinfo."""
    parts = name.split("/")
    return len(name) <= 64 and all(
        p and p not in (".", "..") and p[0] != "-"
        and all(c.isascii() and (c.isalnum() or c in "_+-") for c in p) for p in parts) \
        and os.path.isfile(os.path.join(ZONEINFO, name))


def close_zone(name):
    """The installed zone name closest to a mistyped one (case and spelling), or None.
    Only on this error path: listing the zones reads the tzdata directory."""
    import difflib
    import zoneinfo

    zones = sorted(z for z in zoneinfo.available_timezones() if not z.startswith("right/"))
    by_case = {z.lower(): z for z in zones}
    if str(name).lower() in by_case:
        return by_case[str(name).lower()]
    near = difflib.get_close_matches(str(name)[:64], zones, n=1, cutoff=0.75)
    return near[0] if near else None
