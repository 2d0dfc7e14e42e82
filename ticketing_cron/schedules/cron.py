"""Translate cron lines, as node-cron users write them, into systemd OnCalendar= lines.

Pure logic. A line is five fields (minute hour day-of-month month day-of-week), node-cron's
six (a seconds field first), or an @name. Each field is expanded to the exact set of values
it matches and written back in systemd's calendar syntax, so the meaning never depends on
how the two syntaxes spell ranges and steps. What systemd cannot express faithfully is
refused, never approximated.
"""

from collections import namedtuple

from ticketing_cron.base.errors import ConfigError
from ticketing_cron.schedules.names import DAY_NAMES, FULL_NAMES, MONTH_NAMES, SYSTEMD_DAYS

Field = namedtuple("Field", "name low high names")
SECOND = Field("second", 0, 59, {})
MINUTE = Field("minute", 0, 59, {})
HOUR = Field("hour", 0, 23, {})
DOM = Field("day-of-month", 1, 31, {})
MONTH = Field("month", 1, 12, {n: i for i, n in enumerate(MONTH_NAMES, 1)})
# 0 and 7 are both Sunday, as in cron(5); full names are accepted as node-cron does.
DOW = Field("day-of-week", 0, 7, {n: i for i, n in enumerate(DAY_NAMES)})
# cron(5)'s @names, with cron's meaning: @weekly is Sunday midnight (systemd's
# "weekly" would be Monday).
AT_NAMES = {"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
            "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *",
            "@hourly": "0 * * * *"}
MAX_LINE = 200


def is_cron_line(text):
    """True when ``text`` is a cron line rather than systemd calendar syntax.

    An @name, or five or six whitespace-separated fields: systemd's calendar syntax has
    at most four (weekdays, date, time, time zone), so the two never overlap.
    """
    text = text.strip()
    return text.startswith("@") or len(text.split()) in (5, 6)


def translate(line):
    """Translate a cron line into the OnCalendar= values that match the same times.

    Args:
        line: "*/5 * * * *", "30 9 * * mon-fri", "0 */10 * * * *" (node-cron's seconds
            first), "@daily", ...
    Returns:
        A tuple of one or two calendar expressions without time zone (two when both
        day-of-month and day-of-week are restricted: cron runs when either matches,
        while systemd requires every field of one expression to match).
    Raises:
        ConfigError saying what is wrong or cannot be translated.
    """
    text = line.strip()
    if len(text) > MAX_LINE:
        raise ConfigError(f"cron line longer than {MAX_LINE} characters")
    if text.startswith("@"):
        text = at_name(text)
    fields = text.split()
    if len(fields) == 5:
        fields.insert(0, "0")
    elif len(fields) != 6:
        raise ConfigError(f"{line!r}: a cron line has 5 fields (minute hour "
                        f"day-of-month month day-of-week) or node-cron's 6 (seconds first), "
                        f"not {len(fields)}")
    second, minute, hour, dom, month, dow = (
        expand(text, spec) for text, spec in zip(fields, (SECOND, MINUTE, HOUR, DOM, MONTH,
                                                          DOW)))
    dow = {d % 7 for d in dow}
    time = f"{numbers(hour, HOUR)}:{numbers(minute, MINUTE)}:{numbers(second, SECOND)}"
    months = numbers(month, MONTH)
    days = numbers(dom, DOM)
    weekdays = weekday_list(dow)
    dom_star, dow_star = fields[3].startswith("*"), fields[5].startswith("*")
    if dom_star or dow_star:
        # cron(5): when either day field starts with "*", both must match.
        return (join(weekdays, f"*-{months}-{days}", time),)
    # Both restricted: cron runs when either matches.
    return (join(weekdays, f"*-{months}-*", time), join("", f"*-{months}-{days}", time))


def at_name(text):
    """The five-field line behind an @name; CronError for @reboot and unknown names."""
    name = text.lower()
    if name == "@reboot":
        raise ConfigError("@reboot has no calendar equivalent; use a unit with "
                        "WantedBy=multi-user.target, or OnBootSec= in a timer, instead")
    if name not in AT_NAMES:
        raise ConfigError(f"{text!r}: unknown; known @names: "
                        f"{', '.join(sorted(AT_NAMES))}")
    return AT_NAMES[name]


def join(weekdays, date, time):
    """One calendar expression from its parts; no weekday part when every day matches."""
    return f"{weekdays} {date} {time}" if weekdays else f"{date} {time}"


def expand(text, spec):
    """The set of values one cron field matches.

    Args:
        text: the field, e.g. "*/5", "1-5", "mon-fri", "0,30", "10-30/5".
        spec: its Field (name and bounds).
    Returns:
        A set of ints within spec's bounds (day-of-week may still contain 7).
    Raises:
        ConfigError for L, W, #, ?, names in the wrong field, values out of
        range, and bad steps.
    """
    refuse_unsupported(text, spec)
    values = set()
    for item in text.split(","):
        base, slash, step_text = item.partition("/")
        if base == "*":
            low, high = spec.low, spec.high
        elif "-" in base:
            first, _, last = base.partition("-")
            low, high = value(first, spec, text), value(last, spec, text)
            if low > high:
                raise ConfigError(f"{spec.name} field {text!r}: range {base} runs "
                                f"backwards; cron ranges do not wrap around")
        else:
            low = high = value(base, spec, text)
            if slash:
                raise ConfigError(f"{spec.name} field {text!r}: a step needs a "
                                f"range or *, as in {base}-{spec.high}/{step_text or 'N'}")
        step = 1
        if slash:
            span = spec.high - spec.low + 1
            if not step_text.isdigit() or not 0 < int(step_text) <= span:
                raise ConfigError(f"{spec.name} field {text!r}: the step after / "
                                f"must be a whole number from 1 to {span}")
            step = int(step_text)
        values.update(range(low, high + 1, step))
    return values


def refuse_unsupported(text, spec):
    """CronError for the non-standard cron characters that systemd cannot express."""
    upper = text.upper()
    if "#" in upper:
        raise ConfigError(f"{spec.name} field {text!r}: # (the Nth weekday of the "
                        f"month) has no faithful OnCalendar= translation; write the "
                        f"schedule in systemd calendar syntax instead")
    if "?" in upper:
        raise ConfigError(f"{spec.name} field {text!r}: ? is not standard cron syntax; "
                        f"use *")
    for item in upper.replace("-", ",").replace("/", ",").split(","):
        if item.lower() in spec.names or item.lower() in FULL_NAMES:
            continue
        if item == "L" or (item.endswith("L") and item[:-1].isdigit()) or item == "LW":
            raise ConfigError(f"{spec.name} field {text!r}: L (last day) has no "
                            f"faithful translation; use systemd calendar syntax such as "
                            f"\"*-*~01\" for the last day of the month")
        if item.endswith("W") and item[:-1].isdigit():
            raise ConfigError(f"{spec.name} field {text!r}: W (nearest weekday) "
                            f"has no faithful OnCalendar= translation")


def value(text, spec, field_text):
    """One number or name of a field, checked against its bounds."""
    name = FULL_NAMES.get(text.lower(), text.lower())
    if name in spec.names:
        return spec.names[name]
    if not text.isdigit() or len(text) > 2:
        raise ConfigError(f"{spec.name} field {field_text!r}: {text!r} is not a "
                        f"number{' or a name' if spec.names else ''}")
    number = int(text)
    if not spec.low <= number <= spec.high:
        raise ConfigError(f"{spec.name} field {field_text!r}: {number} is out of "
                        f"range; allowed {spec.low}-{spec.high}")
    return number


def numbers(values, spec):
    """A set of numbers as one systemd calendar component.

    Args:
        values: a non-empty iterable of ints within spec's bounds.
        spec: the component's Field.
    Returns:
        "*" for all of them; "aa..bb/s" for every s-th from aa to bb, three or more;
        otherwise a comma list of two-digit numbers and "aa..bb" runs of three or more.
        A repetition is always bounded: systemd 252 carries an open-ended one ("00/7")
        past the end of its field wrongly (23:56 -> 00:07, the 29th -> the 8th).
    """
    ordered = sorted(set(values))
    if ordered == list(range(spec.low, spec.high + 1)):
        return "*"
    if len(ordered) > 2:
        first, step = ordered[0], ordered[1] - ordered[0]
        if step > 1 and ordered == list(range(first, ordered[-1] + 1, step)):
            return f"{first:02d}..{ordered[-1]:02d}/{step}"
    return ",".join(f"{a:02d}" if a == b else f"{a:02d}..{b:02d}" for a, b in runs(ordered))


def weekday_list(days):
    """A set of weekdays (0 = Sunday) in systemd syntax; "" when all seven match."""
    if len(days) == 7:
        return ""
    order = [d for d in (1, 2, 3, 4, 5, 6, 0) if d in days]
    position = {d: i for i, d in enumerate((1, 2, 3, 4, 5, 6, 0))}
    parts = []
    for a, b in runs([position[d] for d in order]):
        first, last = SYSTEMD_DAYS[(a + 1) % 7], SYSTEMD_DAYS[(b + 1) % 7]
        parts.append(first if a == b else f"{first}..{last}")
    return ",".join(parts)


def runs(ordered):
    """Split sorted ints into (first, last) pairs; runs shorter than 3 stay separate."""
    result = []
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        if j - i >= 2:
            result.append((ordered[i], ordered[j]))
        else:
            result.extend((v, v) for v in ordered[i:j + 1])
        i = j + 1
    return result
