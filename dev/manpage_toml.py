#!/usr/bin/python3
"""Write debian/ticketing-cron.toml.5, the manual page of config.toml, from the one
table of config keys (ticketing_cron/config/keys.py), so that the page cannot drift
from what validation knows.

Usage: dev/manpage_toml.py [OUT]   (default: debian/ticketing-cron.toml.5)
tests/unit/config/test_manpage_toml.py fails when the committed page differs.
"""

import sys
from pathlib import Path

TOP = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(TOP))

from ticketing_cron import __version__  # noqa: E402
from ticketing_cron.config.keys import DEFAULT_CONFIG_PATH, KEYS, TABLES  # noqa: E402

HEADINGS = {"api": "The [api] table: the app",
            "jobs": "[jobs.NAME] tables: one per endpoint",
            "alerts": "The [alerts] table: who hears of failures"}
KINDS = {"url": "URL", "ping_url": "URL", "file": "path", "urlpath": "URL path",
         "schedule": "schedule", "timezone": "time zone", "seconds": "number",
         "count": "whole number", "duration": "duration", "addresses": "list of addresses",
         "flag": "true or false"}


def roff(text):
    """Text escaped for roff: backslashes, leading dots and quotes, and hyphens kept
    as hyphens (not minus signs) except in options and paths they are the same."""
    text = str(text).replace("\\", "\\e").replace("-", "\\-")
    return "\\&" + text if text.startswith((".", "'")) else text


def default_text(key):
    """The default as the page shows it."""
    if key.required:
        return "required"
    if key.default in (None, ()):
        return "unset"
    value = key.default
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if key.unit == "seconds":
        return f"{value} seconds"
    if isinstance(value, bool):
        return "true" if value else "false"
    return f'"{value}"' if isinstance(value, str) else str(value)


def bounds_text(key):
    """'more than 0, at most 55' for a bounded number, else ''."""
    parts = []
    if key.low is not None:
        parts.append(f"more than {key.low:g}" if key.kind == "seconds" else
                     f"at least {key.low:g}")
    if key.high is not None:
        parts.append(f"at most {key.high:g}")
    return ", ".join(parts)


def page():
    """The whole manual page (str)."""
    lines = [
        f'.TH TICKETING\\-CRON.TOML 5 "" "ticketing\\-cron {__version__}" "File formats"',
        ".nh",
        ".SH NAME",
        "ticketing\\-cron.toml \\- configuration of ticketing\\-cron",
        ".SH SYNOPSIS",
        f".I {roff(DEFAULT_CONFIG_PATH)}",
        ".SH DESCRIPTION",
        "A TOML file read at every run, so that a change takes effect at the next one.",
        "Unknown keys, wrong types and values out of bounds are errors, all reported",
        "in one pass by",
        ".BR \"ticketing\\-cron check\" ;",
        "a run with such a file exits 78 without calling the app.",
        "The secret is not in this file: see",
        ".BR ticketing\\-cron (8).",
        "This page is made from the program's own table of keys.",
    ]
    for table in TABLES:
        lines += [f".SH {roff(HEADINGS[table]).upper()}"]
        for key in (k for k in KEYS if k.table.split(".")[0] == table):
            facts = [KINDS[key.kind], default_text(key)]
            if bounds_text(key):
                facts.append(bounds_text(key))
            lines += [".TP", f".B {roff(key.name)}",
                      f"({roff('; '.join(facts))})",
                      roff(key.description)]
    lines += [
        ".SH EXAMPLE",
        ".nf",
        ".RS",
        "[api]",
        'base_url = "https://tickets.yourcompany.com"',
        "",
        "[jobs.sla\\-check]",
        'path = "/api/cron/sla\\-check"',
        "",
        "[jobs.daily\\-digest]",
        'path = "/api/cron/daily\\-digest"',
        'schedule = "0 7 * * 1\\-5"',
        'timezone = "Europe/Berlin"',
        "",
        "[alerts]",
        'email_to = ["ops@yourcompany.com"]',
        ".RE",
        ".fi",
        ".SH FILES",
        ".TP",
        f".I {roff(DEFAULT_CONFIG_PATH)}",
        "The file itself: made from the shipped example when it is missing, then the",
        "administrator's (not a conffile: upgrades never change it).",
        ".TP",
        ".I /usr/share/ticketing\\-cron/config.toml",
        "The shipped example, every key with its default.",
        ".SH SEE ALSO",
        ".BR ticketing\\-cron (8),",
        ".BR systemd.time (7),",
        ".BR systemd.timer (5)",
        ".PP",
        "The guide to the file, with examples:",
        ".IR /usr/share/doc/ticketing\\-cron/docs/configuration.md ;",
        "jobs and schedules:",
        ".IR /usr/share/doc/ticketing\\-cron/docs/jobs\\-and\\-schedules.md .",
    ]
    return "\n".join(lines) + "\n"


def main(argv):
    out = Path(argv[1]) if len(argv) > 1 else TOP / "debian" / "ticketing-cron.toml.5"
    out.write_text(page())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
