"""A brute-force cron evaluator, for tests only: an oracle independent of the translation.

It knows cron(5) the plain way: a time matches when every field matches, except that
when neither day field starts with "*", a day matches if either day field does.
"""

import datetime

MONTHS = "jan feb mar apr may jun jul aug sep oct nov dec".split()
DAYS = "sun mon tue wed thu fri sat".split()
BOUNDS = [(0, 59), (0, 59), (0, 23), (1, 31), (1, 12), (0, 7)]


def field_values(text, index):
    """Every value a field matches, by walking its whole range."""
    low, high = BOUNDS[index]
    names = {n: i + 1 for i, n in enumerate(MONTHS)} if index == 4 else \
        {n: i for i, n in enumerate(DAYS)} if index == 5 else {}
    matched = set()
    for part in text.lower().split(","):
        step = 1
        if "/" in part:
            part, step = part.split("/")
            step = int(step)
        if part == "*":
            first, last = low, high
        else:
            ends = [names[p[:3]] if p[:3] in names else int(p) for p in part.split("-")]
            first, last = ends[0], ends[-1]
        for v in range(low, high + 1):
            if first <= v <= last and (v - first) % step == 0:
                matched.add(v)
    if index == 5 and 7 in matched:
        matched.add(0)
    return matched


def next_times(line, after, count):
    """The first ``count`` times (UTC) strictly after ``after`` that ``line`` matches."""
    fields = line.split()
    if len(fields) == 5:
        fields = ["0"] + fields
    sec, minute, hour, dom, month, dow = (field_values(f, i) for i, f in enumerate(fields))
    either = not fields[3].startswith("*") and not fields[5].startswith("*")
    found = []
    day = after.date()
    while len(found) < count:
        weekday = (day.weekday() + 1) % 7  # cron: 0 = Sunday
        dom_ok, dow_ok = day.day in dom, weekday in dow
        if day.month in month and ((dom_ok or dow_ok) if either else (dom_ok and dow_ok)):
            for h in sorted(hour):
                for m in sorted(minute):
                    for s in sorted(sec):
                        t = datetime.datetime(day.year, day.month, day.day, h, m, s,
                                              tzinfo=datetime.timezone.utc)
                        if t > after and len(found) < count:
                            found.append(t)
        day += datetime.timedelta(days=1)
    return found
