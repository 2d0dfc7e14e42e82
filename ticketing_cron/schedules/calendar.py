"""systemd's own calendar parser (`systemd-analyze calendar`): validation, normal form, elapses.

One `systemd-analyze` process checks any number of expressions. It talks to no service
(no D-Bus), so the generator may use it at boot.
"""

import datetime
import os
import re
import subprocess
from collections import namedtuple

from ticketing_cron.base.errors import ConfigError

SYSTEMD_ANALYZE = "/usr/bin/systemd-analyze"
Calendar = namedtuple("Calendar", "original normalized elapses error")
Calendar.__doc__ = ("One expression as systemd sees it: its normal form and next elapses "
                    "(aware UTC datetimes), or error (a one-line reason) when it is invalid.")
ELAPSE = re.compile(r"^\s*(?:Next elapse|Iter\. #\d+): \w+ (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC$")
FAILED = re.compile(r"^Failed to parse calendar specification '(.*)': (.*)$")


def analyze(expressions, iterations=3, base_time=None, timeout=10):
    """Run `systemd-analyze calendar` once for all ``expressions``.

    Args:
        expressions: calendar expressions (each should name its time zone).
        iterations: how many next elapses to compute for each.
        base_time: an aware datetime to count from (default: now).
    Returns:
        A dict expression -> Calendar.
    Raises:
        ConfigError when systemd-analyze cannot be run at all.
    """
    return finish(start(expressions, iterations, base_time), expressions, timeout)


def start(expressions, iterations=3, base_time=None):
    """Start `systemd-analyze calendar` on ``expressions`` (see analyze); finish() reads it.

    Returns:
        The running process.
    Raises:
        ConfigError when systemd-analyze cannot be started.
    """
    argv = [SYSTEMD_ANALYZE, "calendar", f"--iterations={iterations}"]
    if base_time is not None:
        stamp = base_time.astimezone(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
        argv.append(f"--base-time={stamp}")
    # TZ=UTC: elapses are printed in UTC only, one line each, whatever the host's zone.
    env = {"PATH": "/usr/bin:/bin", "TZ": "UTC", "LC_ALL": "C", "SYSTEMD_COLORS": "0",
           "SYSTEMD_PAGER": "cat"}
    try:
        return subprocess.Popen(argv + ["--"] + list(expressions), env=env,
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, errors="replace")
    except OSError as e:
        raise ConfigError(f"cannot check schedules with {SYSTEMD_ANALYZE}: {e}") from None


def finish(process, expressions, timeout=10):
    """The results of a start()ed run: a dict expression -> Calendar.

    Raises:
        ConfigError when systemd-analyze does not finish within ``timeout`` seconds.
    """
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired as e:
        process.kill()
        process.communicate()
        raise ConfigError(f"cannot check schedules with {SYSTEMD_ANALYZE}: {e}") from None
    failed = {}
    for line in stderr.splitlines():
        match = FAILED.match(line)
        if match:
            failed[match[1]] = f"systemd cannot parse it ({match[2].lower()})"
    # One block per parsed expression, in order; those that failed have none.
    blocks = iter(parse_output(stdout))
    results = {}
    for expression in expressions:
        if expression in failed:
            results[expression] = Calendar(expression, None, (), failed[expression])
            continue
        normalized, elapses = next(blocks, (None, ()))
        error = None if elapses else "it never elapses"
        if normalized is None:
            error = "systemd-analyze said: " + (stderr.strip().splitlines()
                                                or ["nothing"])[-1]
        results[expression] = Calendar(expression, normalized, elapses, error)
    return results


def parse_output(text):
    """Parse `systemd-analyze calendar` output (TZ=UTC) into [(normalized, elapses)].

    systemd prints one block per valid expression, starting with "Original form:" only
    when the normalized form differs, then "Normalized form:" and the elapses.
    """
    blocks = []
    for line in text.splitlines():
        key, _, rest = line.strip().partition(": ")
        if key == "Normalized form":
            blocks.append((rest, []))
            continue
        match = ELAPSE.match(line)
        if match and blocks:
            # By hand: strptime costs ten times as much, for hundreds of lines.
            t = match[1]
            blocks[-1][1].append(datetime.datetime(
                int(t[0:4]), int(t[5:7]), int(t[8:10]), int(t[11:13]), int(t[14:16]),
                int(t[17:19]), tzinfo=datetime.timezone.utc))
    return [(normalized, tuple(elapses)) for normalized, elapses in blocks]


def merged_elapses(calendars):
    """The union of several expressions' elapses, sorted, cut where every list still counts.

    A timer with several OnCalendar= lines fires at each line's elapses; beyond the
    earliest last elapse of any one list the union would miss times.
    """
    lists = [c.elapses for c in calendars if c.elapses]
    if not lists:
        return ()
    horizon = min(e[-1] for e in lists)
    return tuple(sorted({t for e in lists for t in e if t <= horizon}))


def shortest_interval(elapses):
    """The shortest time in seconds between consecutive elapses, or None for fewer than two."""
    gaps = [(b - a).total_seconds() for a, b in zip(elapses, elapses[1:])]
    return min(gaps) if gaps else None


def zone_exists(name):
    """True when ``name`` is an IANA time zone installed under /usr/share/zoneinfo."""
    return bool(re.fullmatch(r"[A-Za-z0-9_+-]+(/[A-Za-z0-9_+-]+)*", name)) and \
        os.path.isfile(os.path.join("/usr/share/zoneinfo", name))
