"""Load and validate /etc/ticketing-cron/config.toml.

Every problem in the file is collected in one pass, each with its key path, so that
an administrator fixes the file once instead of once per run.
"""

import sys

from ticketing_cron.base.errors import ConfigError, unreadable
from ticketing_cron.config.keys import DEFAULT_CONFIG_PATH, DEFAULT_JOB, EXAMPLE_PATH
from ticketing_cron.config.validate import validate, validate_jobs

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Debian 12 has Python 3.11
    import tomli as tomllib


def load_config(path=DEFAULT_CONFIG_PATH):
    """Read and validate the configuration file.

    Args:
        path: the TOML file to read.
    Returns:
        Config.
    Raises:
        ConfigError naming the file and every problem found in it.
    """
    data = read_toml(path)
    problems = []
    config = validate(data, path, problems)
    if problems:
        raise ConfigError(describe_problems(path, problems),
                        details=[f"{path}: {p}" for p in problems])
    return config


def each_job(jobs_table):
    """Validate each [jobs.NAME] table on its own, for those that use what is valid in
    a config that as a whole may not be: the generator (one bad job must not cost the
    others their timers) and check (every problem in one pass).

    Args:
        jobs_table: the parsed [jobs] table (a dict).
    Returns:
        (valid: name -> JobConfig, skipped: name -> that job's problems).
    """
    valid, skipped = {}, {}
    for name, body in jobs_table.items():
        problems = []
        good = validate_jobs({name: body}, problems)
        if problems:
            skipped[name] = problems
        else:
            valid[name] = good[name]
    return valid, skipped


def read_toml(path):
    """Parse a TOML file into a dict.

    Raises:
        ConfigError for a missing, unreadable or malformed file, naming the line.
    """
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except OSError as e:
        raise unreadable(path, e, f"copy {EXAMPLE_PATH} there or pass --config PATH",
                         "run as root or fix the file's mode") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not valid UTF-8 text") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from None
    except Exception as e:  # noqa: BLE001 - whatever the parser raises, the file is at fault
        # The parser's own limits: nesting deeper than the interpreter's recursion
        # limit (RecursionError), an integer of more than 4300 digits (ValueError).
        raise ConfigError(f"{path}: not usable TOML ({type(e).__name__}: "
                        f"{str(e)[:120]})") from None


def describe_problems(path, problems):
    """Join problems into one line: "PATH: N problems: (1) ...; (2) ..."."""
    if len(problems) == 1:
        return f"{path}: {problems[0]}"
    listed = " ".join(f"({i}) {p}" for i, p in enumerate(problems, 1))
    return f"{path}: {len(problems)} problems: {listed}"


def job_deadline(config, job):
    """The deadline of one run of ``job``: its own, or api.deadline."""
    return job.deadline if job.deadline is not None else config.api.deadline


def unit_names(job_name):
    """(service, timer) of a job: ticketing-cron.* for sla-check, else the instances
    ticketing-cron@NAME.* of the packaged templates."""
    base = "ticketing-cron" if job_name == DEFAULT_JOB else f"ticketing-cron@{job_name}"
    return f"{base}.service", f"{base}.timer"


def unknown_job(job_name, jobs, config_path):
    """The config error for `run NAME` with no such job: a close name first (a typo
    is likelier than a job still to be added), else how to add it."""
    import difflib  # only on this error path

    known = ", ".join(sorted(jobs)) or "none"
    near = difflib.get_close_matches(job_name, sorted(jobs), n=1, cutoff=0.6)
    fix = (f"did you mean {near[0]}?" if near else
           f"add a [jobs.{job_name}] table with its path")
    return ConfigError(f"no job {job_name!r} in {config_path} (jobs: {known}); {fix}")
