"""The names of months and weekdays that schedules may use, in one place."""

MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov",
               "dec")
# cron's order: Sunday is 0.
DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
# Full names as node-cron and systemd accept them, to their three-letter forms.
FULL_NAMES = {"january": "jan", "february": "feb", "march": "mar", "april": "apr",
              "june": "jun", "july": "jul", "august": "aug", "september": "sep",
              "october": "oct", "november": "nov", "december": "dec", "sunday": "sun",
              "monday": "mon", "tuesday": "tue", "wednesday": "wed", "thursday": "thu",
              "friday": "fri", "saturday": "sat"}
# systemd's spelling, in cron's order.
SYSTEMD_DAYS = tuple(name.capitalize() for name in DAY_NAMES)
# Python's order (datetime.weekday()): Monday is 0.
WEEKDAYS = {name: (i - 1) % 7 for i, name in enumerate(DAY_NAMES)}
