"""`ticketing-cron check`: validate config and secret together, call nothing."""

import io
import os

from ticketing_cron.config.load import load_config
from ticketing_cron.base.errors import EXIT_STATUS, CronError
from ticketing_cron.config.secret import read_secret, secret_path


def check(config_path, out, err, environ=os.environ):
    """Report every problem with the config and the secret.

    Args:
        config_path: the TOML file.
        out, err: text streams for the good news and for the problems.
        environ: the process environment (for $CREDENTIALS_DIRECTORY).
    Returns:
        0 when both are usable (warnings, such as a short or group-readable secret,
        are written to ``err`` but do not change it), 78 (config) otherwise.
    """
    from ticketing_cron.schedules.report import report_schedules, schedule_problems

    problems = []
    config = None
    try:
        config = load_config(config_path)
    except CronError as e:
        problems.extend(e.details)
        problems.extend(schedule_problems(config_path))  # every problem in one pass
    else:
        schedules = io.StringIO()
        problems.extend(report_schedules(config, schedules, err, environ))
        if not problems:  # "ok" only for a config with nothing wrong in it
            jobs = ", ".join(f"{j.name} -> {config.api.base_url}{j.path}{ping_note(j)}"
                             for j in config.jobs.values()) or "none"
            out.write(f"config {config_path}: ok (jobs: {jobs}; deadline "
                      f"{config.api.deadline:g} s)\n")
        out.write(schedules.getvalue())
    warnings = [] if config is None else doubled_paths(config)
    if config is not None:
        from ticketing_cron.config.url_secrets import secret_url_problems

        problems.extend(secret_url_problems(config, warnings, environ))
    try:
        secret = read_secret(environ, warnings, config_path)
    except CronError as e:
        encrypted = None
        if not environ.get("CREDENTIALS_DIRECTORY") and \
                not os.path.lexists(secret_path(environ, config_path)):
            from ticketing_cron.config.credential import check_encrypted

            encrypted = check_encrypted(config_path, config.jobs if config else {}, out)
        if encrypted is None:
            problems.append(e.message)
        else:
            problems.extend(encrypted[0])
            warnings.extend(encrypted[1])
    else:
        out.write(f"secret {secret_path(environ, config_path)}: ok ({len(secret)} "
                  f"characters)\n")
    for warning in warnings:
        err.write(f"ticketing-cron: warning: {warning}\n")
    for problem in problems:
        err.write(f"ticketing-cron: {problem}\n")
    if problems:
        err.write(f"ticketing-cron: {len(problems)} problem{'s' if len(problems) > 1 else ''}; "
                  f"fix and run `ticketing-cron check` again\n")
        return EXIT_STATUS["config"]
    return 0


def doubled_paths(config):
    """Warnings for jobs whose URL repeats the path because api.base_url already ends
    in it (a base_url copied from the old app's full endpoint): a 404 to come.

    Args:
        config: the loaded Config.
    Returns:
        A list of warning lines, one per such job.
    """
    from urllib.parse import urlsplit  # check only

    base_path = urlsplit(config.api.base_url).path.rstrip("/")
    warnings = []
    for job in config.jobs.values():
        path = job.path.rstrip("/")
        if path and base_path.endswith(path):
            origin = config.api.base_url[:len(config.api.base_url.rstrip("/")) - len(path)]
            warnings.append(f"jobs.{job.name}: api.base_url already ends in the job's path "
                            f"{job.path}, so it is called as {config.api.base_url}{job.path}; "
                            f"set base_url to {origin or 'the address without it'}")
    return warnings


def ping_note(job):
    """' (ping https://hc-ping.com)' for a job with a ping_url: scheme and host only,
    since the URL's path is a credential."""
    if not job.ping_url:
        return ""
    from ticketing_cron.config.ping_url import origin

    return f" (ping {origin(job.ping_url)})"
