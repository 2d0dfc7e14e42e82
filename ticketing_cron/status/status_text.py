"""`ticketing-cron status` as text: a few aligned lines per job, for people."""

from ticketing_cron.base.text import plural, printable
from ticketing_cron.base.timefmt import from_iso, relative, when

HEADLINE = {"ok": "ok", "failing": "FAILING", "overdue": "OVERDUE", "running": "running",
            "waiting": "waiting for its first run", "manual": "run by hand only (no schedule)"}


def moment(text, now):
    """'2026-11-29 12:00:00 UTC (3 min ago)', or 'never'."""
    at = from_iso(text)
    return "never" if at is None else f"{when(at)} ({relative(at, now)})"


def render(report, now):
    """The whole report (status.collect's dict) as text."""
    blocks = [render_job(job, now) for job in report["jobs"]]
    return "\n".join(blocks) if blocks else "no jobs in the config\n"


def render_job(job, now):
    """One job's lines."""
    head = f"{job['job']}: {HEADLINE.get(job['state'], job['state'])}"
    if job["problem"]:
        head += f": {job['problem']}"
    lines = [head]

    def line(label, text):
        lines.append(f"  {label:<13}{printable(text)}")

    if job["timer"]:
        line("units", f"{job['service']}, {job['timer']} "
             f"({'enabled' if job['timer_enabled'] else 'NOT enabled'}, "
             f"{'active' if job['timer_active'] else 'NOT active'})")
        line("schedule", f"{job['schedule']} ({job['timezone']})")
        line("next run", moment(job["next_run"], now) if job["next_run"] else
             "after the run under way" if job["state"] == "running" else "none scheduled")
    else:
        line("unit", f"{job['service']} (no timer)")
    run = job["last_run"]
    if run is None:
        line("last run", "none recorded")
    else:
        took = "" if run["duration_ms"] is None else f", took {run['duration_ms']} ms"
        line("last run", f"{moment(run['at'], now)}: {run['outcome']}{took}")
        line("", run["message"])
    line("last success", moment(job["last_success"], now))
    line("streak", streak_text(job["failure_streak"], now))
    line("last 24 h", day_text(job["last_24h"]))
    return "\n".join(lines) + "\n"


def streak_text(streak, now):
    """'none', or '3 failed runs since ... ; alerted (1 alert sent)'."""
    if not streak["failures"]:
        return "none"
    text = f"{plural(streak['failures'], 'failed run')} in a row"
    if streak["since"]:
        text += f" since {moment(streak['since'], now)}"
    if streak["alerted"] is None:
        return text + "; alerts unknown (cannot read /var/lib/ticketing-cron)"
    if streak["alerted"]:
        return text + f"; alerted ({plural(streak['alerts_sent'], 'alert')} sent)"
    return text + "; not alerted yet"


def day_text(day):
    """'1440 runs, 2 failed (unavailable 2); median 140 ms, p95 210 ms; 57 unassigned'."""
    failed = sum(day["failures"].values())
    text = plural(day["runs"], "run")
    if day["runs"]:
        text += f", {failed} failed"
        if failed:
            text += " (" + ", ".join(f"{k} {v}" for k, v in day["failures"].items()) + ")"
    if day["median_duration_ms"] is not None:
        text += f"; median {day['median_duration_ms']} ms, p95 {day['p95_duration_ms']} ms"
    return text + f"; {plural(day['unassigned'], 'request')} unassigned"
