"""A config.toml with many scheduled jobs, for dev/bench: the generator's and status's load.

Jobs in non-UTC zones (with daylight saving, and one with a half-hour change), with the mix
an application has: every few minutes, hourly, nightly at different times, on weekdays,
weekly, monthly, cron lines of five and six fields and systemd calendar syntax; no two
jobs share a schedule and zone more than the mix makes them.

Usage: dev/bench_jobs.py N [URL] > config.toml
"""

import sys

ZONES = ("Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Europe/London",
         "America/Sao_Paulo")
# (schedule with {m} (minute), {h} (hour), {d} (day of month) to vary it, deadline or None)
SHAPES = (
    ("*/{step} * * * *", None), ("{m} * * * *", None), ("{m} {h} * * *", 600),
    ("{m} {h} * * 1-5", None), ("{m} {h} * * sun", 3600), ("{m} {h} {d} * *", None),
    ("{s} {m30}-59/30 * * * *", 20), ("Mon..Fri {h}:{m:02d}", None),
    ("*-*-{d:02d} {h}:{m:02d}", 900),
    ("{m} {h},{h2} * * *", 1800), ("*:{m2}/15", 300), ("{m} 9-17 * * mon-fri", None),
)


def config_text(n, base_url="https://tickets.acme.test"):
    """The text of a config.toml with the sla-check and ``n`` scheduled jobs."""
    parts = [f'[api]\nbase_url = "{base_url}"\n\n[jobs.sla-check]\n'
             f'path = "/api/cron/sla-check"\n']
    for i in range(n):
        shape, deadline = SHAPES[i % len(SHAPES)]
        schedule = shape.format(step=(5, 10, 15, 20)[i % 4], m=(i * 7) % 60, h=(i * 5) % 24,
                                h2=(i * 5 + 12) % 24, d=1 + i % 28, m2=i % 15,
                                m30=i % 30, s=(i * 13) % 60)
        zone = ZONES[i // len(SHAPES) % len(ZONES)]
        parts.append(f'\n[jobs.job-{i:04d}]\npath = "/api/cron/job-{i}"\n'
                     f'schedule = "{schedule}"\ntimezone = "{zone}"\n')
        if deadline is not None:
            parts.append(f"deadline = {deadline}\n")
    return "".join(parts)


if __name__ == "__main__":
    sys.stdout.write(config_text(int(sys.argv[1]), *sys.argv[2:3]))
