"""A time zone's changes of UTC offset, for turning many wall-clock times into instants at once.

Where the offset changes comes from the zone's TZif file (RFC 8536), the file Python's
zoneinfo reads; the offsets on either side of each change are zoneinfo's own. Between two
changes every wall time has the same offset, so a sorted list of wall times becomes
instants a slice at a time, with zoneinfo's (and systemd's) rules: a wall time skipped
by a change does not occur, one that occurs twice is taken the first time.

Times are whole epoch seconds; a wall time is one read as if it were UTC.
"""

import datetime
import os
import re
import struct
from bisect import bisect_left, bisect_right
from collections import namedtuple

from ticketing_cron.config.keys import ZONEINFO

MAX_TZIF_BYTES = 1 << 20
DAY_S = 86400
# A zone's rule without daylight saving: a name and an offset, nothing after them.
FIXED_RULE = re.compile(rb"(<[A-Za-z0-9+-]{1,16}>|[A-Za-z]{3,16})[+-]?\d{1,3}(:\d{1,2}){0,2}")
# Far beyond the last change a TZif table lists (2037 in Debian's files).
FAR_FUTURE_S = 10 ** 10

Table = namedtuple("Table", "changes start_offset known_until offsets")
Table.__doc__ = ("A zone's offsets from some instant on: changes, a list of (instant, offset "
                 "before, offset after) in order; start_offset, the offset before the first; "
                 "known_until, the instant up to which the list is complete (None: "
                 "forever); offsets, every offset the zone has in that time (a set).")


class Unknown(ValueError):
    """The zone's changes cannot be read here; ask zoneinfo wall time by wall time."""


def change_times(name, zoneinfo_dir=ZONEINFO):
    """The instants at which ``name``'s TZif file says something changes, and its rule
    for the time after them (bytes; b"" without one).

    Raises:
        Unknown for a file that is not TZif, too large, truncated, or with leap seconds.
    """
    try:
        with open(os.path.join(zoneinfo_dir, name), "rb") as f:
            data = f.read(MAX_TZIF_BYTES + 1)
        if len(data) > MAX_TZIF_BYTES:
            raise Unknown(f"{name}: TZif file over {MAX_TZIF_BYTES} bytes")
        counts = header(data, 0)
        if data[4:5] < b"2":
            return struct.unpack_from(f">{counts[3]}l", data, 44), b""
        isut, isstd, leap, times, types, chars = counts
        at = 44 + times * 5 + types * 6 + chars + leap * 8 + isstd + isut
        isut, isstd, leap, times, types, chars = header(data, at)
        if leap:
            raise Unknown(f"{name}: counts leap seconds")
        changes = struct.unpack_from(f">{times}q", data, at + 44)
        footer = data[at + 44 + times * 9 + types * 6 + chars + isstd + isut:]
    except (OSError, struct.error) as e:
        raise Unknown(f"{name}: {e}") from None
    return changes, footer.split(b"\n")[1] if footer.count(b"\n") >= 2 else b""


def header(data, at):
    """The six counts of a TZif header at ``at``; Unknown if there is none."""
    if data[at:at + 4] != b"TZif":
        raise Unknown("not a TZif file")
    return struct.unpack_from(">6L", data, at + 20)


def offset_at(tz, instant):
    """zoneinfo's UTC offset of ``tz`` at epoch second ``instant``, in seconds."""
    moment = datetime.datetime.fromtimestamp(instant, datetime.timezone.utc).astimezone(tz)
    return int(moment.utcoffset().total_seconds())


def table(name, since):
    """The offsets of zone ``name`` from epoch second ``since`` on, as a Table.

    Raises:
        Unknown when the file cannot be read, or its changes come too close together
        for the slice-wise conversion (no zone's future ones do).
    """
    import zoneinfo

    if zoneinfo.TZPATH[:1] != (ZONEINFO,):
        raise Unknown(f"zoneinfo does not read {ZONEINFO} first")
    tz = zoneinfo.ZoneInfo(name)
    times, rule = change_times(name)
    start_offset = offset_at(tz, since)
    changes, offsets = [], {start_offset}
    for t in times:
        if t <= since:
            continue
        before, after = offset_at(tz, t - 1), offset_at(tz, t)
        if before == after:
            continue  # a new abbreviation, not a new offset
        if changes and t + min(before, after) < changes[-1][0] + max(changes[-1][1:]):
            raise Unknown(f"{name}: changes at {changes[-1][0]} and {t} overlap")
        changes.append((t, before, after))
        offsets.add(after)
    last = max(times[-1] if times else since, since)
    known_until = None
    if FIXED_RULE.fullmatch(rule) and offset_at(tz, FAR_FUTURE_S) == offset_at(tz, last):
        return Table(changes, start_offset, known_until, offsets)
    # A rule with daylight saving goes on after the table: its two offsets may occur.
    offsets.update(offset_at(tz, FAR_FUTURE_S + half) for half in (0, 182 * DAY_S))
    return Table(changes, start_offset, last, offsets)


def spread(zone, start, end):
    """How far apart (seconds) the zone's offsets in effect between epoch seconds
    ``start`` and ``end`` can be: 0 without a change between them; ``end`` None: from
    ``start`` on."""
    if end is None or (zone.known_until is not None and end >= zone.known_until):
        return max(zone.offsets) - min(zone.offsets)
    first = bisect_right(zone.changes, (start, 0, 0))
    last = bisect_left(zone.changes, (end + 1, 0, 0))
    offsets = {zone.changes[first - 1][2] if first else zone.start_offset}
    offsets.update(after for _, _, after in zone.changes[first:last])
    return max(offsets) - min(offsets)


def to_instants(walls, zone):
    """Sorted wall times as the sorted instants they first occur at in ``zone``.

    Args:
        walls: sorted epoch seconds read as wall-clock times.
        zone: a Table covering them.
    Returns:
        A list, without the wall times the clock skips; None when the table does not
        reach the last wall time.
    """
    if not walls:
        return []
    if zone.known_until is not None and walls[-1] + DAY_S >= zone.known_until:
        return None
    changes = zone.changes
    first = bisect_right(changes, (walls[0] - DAY_S, 0, 0))
    last = bisect_left(changes, (walls[-1] + DAY_S + 1, 0, 0))
    offset = changes[first - 1][2] if first else zone.start_offset
    found, i = [], 0
    for t, before, after in changes[first:last]:
        # zoneinfo's reading (fold=0): a wall time before the later of the two local
        # times of the change has the offset before it.
        j = bisect_left(walls, t + max(before, after), i)
        kept = bisect_left(walls, t + before, i, j) if after > before else j
        found.extend([w - before for w in walls[i:kept]])
        i, offset = j, after
    found.extend([w - offset for w in walls[i:]])
    return found
