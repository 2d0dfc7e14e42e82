"""Job schedules: cron lines to OnCalendar=, systemd's own checks, the generator.

Nothing here is imported by `ticketing-cron run`; only `check` and the systemd
generator need it, and match (with cron) for the slot of a timer's run whose schedule
is not the packaged every-minute one.
"""
