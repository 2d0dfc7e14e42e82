"""Times as people read them in alerts and `status`: UTC, to the second, and spans."""

import time


def iso(epoch):
    """'2026-11-29T12:00:00Z', or None for None (for --json)."""
    if epoch is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def from_iso(text):
    """'2026-11-29T12:00:00Z' (iso's form) -> epoch seconds; None -> None.

    Raises:
        ValueError for any other text.
    """
    if text is None:
        return None
    import calendar

    return calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ"))


def when(epoch):
    """'2026-11-29 12:00:00 UTC', or 'never' for None."""
    if epoch is None:
        return "never"
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(epoch))


def relative(epoch, now):
    """'in 35 s', '12 min ago', '3 h 5 min ago', '2 d 4 h ago'."""
    seconds = int(round(epoch - now))
    text = span(abs(seconds))
    return f"in {text}" if seconds > 0 else f"{text} ago"


def span(seconds):
    """'45 s', '12 min', '3 h 5 min', '2 d 4 h'."""
    seconds = int(round(max(0, seconds)))
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"
