"""The last 24 hours of a job in numbers, from its summary records (pure functions)."""

import math

DAY_S = 86400


def median(values):
    """The median of a non-empty sequence of numbers (the mean of the middle two for
    an even count), or None for an empty one."""
    ordered = sorted(values)
    n = len(ordered)
    if not n:
        return None
    mid = n // 2
    return ordered[mid] if n % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def percentile(values, p):
    """The nearest-rank p-th percentile (0 < p <= 100): the smallest value that at least
    p % of the values do not exceed; None for an empty sequence."""
    if not 0 < p <= 100:
        raise ValueError("p is in (0, 100]")
    ordered = sorted(values)
    if not ordered:
        return None
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def whole(value):
    """A record field's text as an int, or None when it is not a plain number."""
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 19:
        return int(value)
    return None


def summarize_day(runs, now):
    """Numbers over the runs of the last 24 hours.

    Args:
        runs: dicts with at (epoch seconds), outcome, duration_ms and unassigned
            (None when the reply had no count), in any order.
        now: epoch seconds.
    Returns:
        dict: runs, failures (outcome -> count, failures only), median_duration_ms,
        p95_duration_ms (None without runs) and unassigned (the sum).
    """
    recent = [r for r in runs if now - DAY_S <= r["at"] <= now + 60]
    durations = [r["duration_ms"] for r in recent if r["duration_ms"] is not None]
    failures = {}
    for r in recent:
        if r["outcome"] != "ok":
            failures[r["outcome"]] = failures.get(r["outcome"], 0) + 1
    middle = median(durations)
    return {"runs": len(recent), "failures": dict(sorted(failures.items())),
            "median_duration_ms": None if middle is None else round(middle),
            "p95_duration_ms": percentile(durations, 95),
            "unassigned": sum(r["unassigned"] or 0 for r in recent if r["outcome"] == "ok")}


def streak(runs):
    """The current failure streak, from runs sorted oldest first.

    Returns:
        (failed runs since the last success, epoch seconds of the first of them or None).
    """
    count, since = 0, None
    for r in runs:
        if r["outcome"] == "ok":
            count, since = 0, None
        else:
            count += 1
            since = r["at"] if since is None else since
    return count, since
