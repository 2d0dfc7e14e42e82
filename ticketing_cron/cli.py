"""The ticketing-cron command line: argument parsing and exit statuses."""

import os
import sys
from types import SimpleNamespace

from ticketing_cron import __version__
from ticketing_cron.config.keys import DEFAULT_CONFIG_PATH, DEFAULT_JOB
from ticketing_cron.base.errors import EXIT_STATUS, CronError
from ticketing_cron.base.log import Log

DESCRIPTION = """\
Call a ticketing web app's cron endpoints, once per run. A systemd timer
(ticketing-cron.timer) starts `ticketing-cron run --scheduled sla-check` every
minute; `ticketing-cron run` does the same by hand.

Set api.base_url in the config file and put the app's CRON_SECRET in
/etc/ticketing-cron/cron-secret; then `ticketing-cron check`."""

EPILOG = """\
exit statuses:
  0   ok: the app answered 2xx with "success": true
  78  config: bad or missing config or secret, plain http to a remote host, a redirect
  77  auth: the app rejected the secret (HTTP 401/403)
  69  unavailable: refused, DNS, TLS, or 5xx/429 still failing after retries
  75  timeout: the run's deadline (api.deadline) passed, or SIGTERM
  76  protocol: the reply is not JSON, too big, not "success": true, or another 4xx
  70  bug: an unexpected error (run with -v for the traceback)
  2   the command line itself is wrong

examples:
  ticketing-cron check                 validate config and secret, call nothing
  ticketing-cron -v run                one SLA check now, with debug detail
  ticketing-cron status               is every job healthy? (exit 0, else 1)
  ticketing-cron test-alert            do alerts reach people? (a marked test notice)
  journalctl -u ticketing-cron -n 20   what the timer's runs said
  ticketing-cron import-env --dry-run /srv/cron-jobs/.env
                                       what moving the old app's .env would change"""


def help_formatter(prog):
    """argparse's formatter, wrapping at a fixed 78 columns.

    argparse builds a formatter for every add_argument(), and one that has to measure
    the terminal imports shutil, bz2 and lzma: 2 ms on every run, once a minute.
    """
    import argparse

    return argparse.RawDescriptionHelpFormatter(prog, width=78)


def add_global_options(parser, defaults):
    """--config, -v and -q, on the main parser (defaults=True) and again on every
    subcommand's, where they default to nothing so that `ticketing-cron run -v` and
    `ticketing-cron -v run` mean the same."""
    import argparse

    def default(value):
        return value if defaults else argparse.SUPPRESS

    parser.add_argument("--config", metavar="PATH", default=default(DEFAULT_CONFIG_PATH),
                        help=f"the config file (default: {DEFAULT_CONFIG_PATH})")
    loudness = parser.add_mutually_exclusive_group()
    loudness.add_argument("-v", "--verbose", action="store_true", default=default(False),
                          help="also print debug detail: each attempt, and the record's "
                          "fields")
    loudness.add_argument("-q", "--quiet", action="store_true", default=default(False),
                          help="print only problems: nothing when all is well (the "
                          "journal still gets every record)")


def build_parser():
    """The argparse parser for all subcommands."""
    import argparse  # not for the timers' own command line: see quick_run_args

    parser = argparse.ArgumentParser(
        prog="ticketing-cron", description=DESCRIPTION, epilog=EPILOG,
        formatter_class=help_formatter)
    parser.add_argument("--version", action="version", version=f"ticketing-cron {__version__}")
    add_global_options(parser, defaults=True)
    common = argparse.ArgumentParser(add_help=False)
    add_global_options(common, defaults=False)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", prog="ticketing-cron")
    commands.required = True

    def add_command(name, **kwargs):
        return commands.add_parser(name, formatter_class=help_formatter, parents=[common],
                                   **kwargs)

    run = add_command("run",
                              help="call one job's endpoint once and report",
                              description="Call one job's endpoint once, judge the reply, "
                              "write one summary record, exit with its status.")
    run.add_argument("job", nargs="?", default=DEFAULT_JOB, metavar="JOB",
                     help=f"a [jobs.NAME] table of the config (default: {DEFAULT_JOB})")
    run.add_argument("--scheduled", action="store_true",
                     help="as the timers' units run it: claim the schedule's slot (the "
                     "Idempotency-Key other servers send for the same elapse) instead of "
                     "a key of this run's own")
    add_command("check", help="validate the config and the secret; call nothing",
                        description="Validate the config file and the secret without "
                        "calling the API. Lists every problem; exit 0 or 78.")
    # The handlers' own commands: no help= keeps them out of the list of commands (the
    # units run them, people do not); ticketing-cron(8) documents them.
    notify = add_command(
        "notify-failure",
        description="Report that UNIT failed, from systemd's $MONITOR_* variables. "
        "Run by ticketing-cron-failure@.service through OnFailure=.")
    notify.add_argument("unit", metavar="UNIT", help="the failed unit, e.g. ticketing-cron.service")
    recover = add_command(
        "notify-recovery",
        description="After UNIT succeeded: if people were alerted about its failures, "
        "send one recovery notice; forget the failure streak either way.")
    recover.add_argument("unit", metavar="UNIT", help="the unit, e.g. ticketing-cron.service")
    notify_test = add_command(
        "notify-test",
        description="Send a marked test notice about UNIT through every alert channel "
        "and leave a report for test-alert. Run by ticketing-cron-test-alert@.service.")
    notify_test.add_argument("unit", metavar="UNIT", help="the unit, e.g. ticketing-cron.service")
    add_command(
        "apply-jobs",
        description="Make systemd follow the config's jobs: daemon-reload, start their "
        "timers, clear what removed jobs left (failed units, stamps); nothing when the "
        "config has a problem. Run by ticketing-cron-apply.service when config.toml "
        "changes.")
    status = add_command(
        "status",
        help="is it healthy? each job's timer, last run, streak and last 24 hours",
        description="For each job (or JOB): its schedule and units, whether the timer is\n"
        "enabled and active, the next run, the last run and last success, the current\n"
        "failure streak and whether it alerted, and the last 24 hours (runs, failures\n"
        "by outcome, median and 95th-percentile duration, requests unassigned), from\n"
        "systemd and the journal (root, or the systemd-journal or adm group).\n\n"
        "exit status: 0 healthy; 1 a job is failing or overdue (timer stopped or\n"
        "disabled, or a due run left no record); 78 config error; 69 the --output\n"
        "file could not be written.")
    status.add_argument("job", nargs="?", metavar="JOB", help="only this [jobs.NAME]")
    status.add_argument("--format", choices=("text", "json", "prometheus"), default="text",
                        help="text (default), json (one document, for scripts) or "
                        "prometheus (the text exposition format, for node_exporter)")
    status.add_argument("--json", action="store_const", dest="format", const="json",
                        help="the same as --format=json")
    status.add_argument("--output", metavar="FILE",
                        help="replace FILE atomically (mode 0644) instead of printing, e.g. "
                        "/var/lib/prometheus/node-exporter/ticketing-cron.prom")
    trial = add_command(
        "test-alert",
        help="send a marked test notice through every alert channel (root)",
        description="Send a clearly marked test notice about JOB through every configured\n"
        "alert channel (journal, email, webhook) from the failure handler's sandbox\n"
        "(ticketing-cron-test-alert@UNIT.service, which shares it), and say per channel\n"
        "what was handed over and what failed. Changes no failure streak.\n\n"
        "exit status: 0 every configured channel took it; 69 one did not (or the\n"
        "handler could not be started: root is needed); 78 config error.")
    trial.add_argument("job", nargs="?", default=DEFAULT_JOB, metavar="JOB",
                       help=f"a [jobs.NAME] table of the config (default: {DEFAULT_JOB})")
    imp = add_command(
        "import-env",
        help="take API_BASE_URL and CRON_SECRET from the old Node.js app's .env (root)",
        description="Set api.base_url in the config from the .env's API_BASE_URL (nothing\n"
        "else in the file changes; the old file is kept as config.toml.bak) and write\n"
        "its CRON_SECRET to cron-secret beside the config (root, mode 0600), each\n"
        "atomically and only after both are valid; then run check. The secret is\n"
        "shown only as its length and SHA-256 prefix. See ticketing-cron(8).")
    imp.add_argument("env_path", metavar="PATH", help="the old app's .env file")
    imp.add_argument("--encrypt", action="store_true",
                     help="store the secret with systemd-creds (host key) as "
                     "cron-secret.cred and install the encrypted-secret drop-in")
    imp.add_argument("--expect-sha256", metavar="HEX",
                     help="import only if the file's content still has this digest (the "
                     "one --dry-run printed): what was reviewed is what is imported")
    imp.add_argument("--dry-run", action="store_true",
                     help="print what would change; write nothing")
    return parser


def quick_run_args(argv):
    """Parse the command line the timers run, `[--config PATH] run [--scheduled] [JOB]`,
    without argparse.

    Importing argparse (and gettext) and building the parser for every subcommand
    costs about 5 ms, a tenth of a run; every other command line goes to argparse.
    Returns:
        The arguments as argparse would give them, or None.
    """
    config = DEFAULT_CONFIG_PATH
    if len(argv) >= 2 and argv[0] == "--config":
        config, argv = argv[1], argv[2:]
    scheduled = argv[1:2] == ["--scheduled"]
    if scheduled:
        argv = argv[:1] + argv[2:]
    if argv[:1] != ["run"] or len(argv) > 2 or \
            any(a.startswith("-") or not a for a in (config, *argv[1:])):
        return None
    return SimpleNamespace(command="run", job=argv[1] if len(argv) == 2 else DEFAULT_JOB,
                           config=config, verbose=False, quiet=False, scheduled=scheduled)


def quiet_stdout(quiet):
    """Where a command's report of what is fine goes: stdout, or nowhere with -q."""
    return open(os.devnull, "w") if quiet else sys.stdout


def main(argv=None):
    """Run the command line.

    Args:
        argv: the arguments (default: sys.argv[1:]).
    Returns:
        The exit status.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    args = quick_run_args(argv)
    if args is None:
        parser = build_parser()
        args = parser.parse_args(argv)
        if args.verbose and args.quiet:  # one before the command, one after it
            parser.error("-q/--quiet and -v/--verbose exclude each other")
    # urllib3 hands $SSLKEYLOGFILE to every TLS context it makes: the session keys, and
    # so the secret, would be written for anyone who captured the traffic to read.
    os.environ.pop("SSLKEYLOGFILE", None)
    log = Log(verbose=args.verbose, quiet=args.quiet)
    try:
        if args.command == "run":
            from ticketing_cron.run.runner import run_job
            return run_job(args.config, args.job, log, scheduled=args.scheduled)
        if args.command == "check":
            from ticketing_cron.check import check
            return check(args.config, quiet_stdout(args.quiet), sys.stderr)
        if args.command == "status":
            from ticketing_cron.status.status import status
            return status(args.config, args.job, args.format,
                          quiet_stdout(args.quiet and args.format == "text"), sys.stderr,
                          output=args.output)
        if args.command == "import-env":
            from ticketing_cron.migrate.import_env import import_env
            return import_env(args.env_path, args.config, args.encrypt, args.dry_run,
                              sys.stdout, sys.stderr, expect_sha256=args.expect_sha256)
        if args.command == "apply-jobs":
            from ticketing_cron.schedules.apply import apply_jobs
            return apply_jobs(args.config, log)
        if args.command == "test-alert":
            from ticketing_cron.alerts.trial import test_alert
            from ticketing_cron.config.load import load_config, unit_names, unknown_job

            config = load_config(args.config)
            if args.job not in config.jobs:
                raise unknown_job(args.job, config.jobs, args.config)
            return test_alert(unit_names(args.job)[0], sys.stdout, log)
        if args.command == "notify-test":
            from ticketing_cron.alerts.trial import notify_test
            return notify_test(args.unit, log, os.environ, args.config)
        from ticketing_cron.alerts import notify
        handler = notify.notify_failure if args.command == "notify-failure" \
            else notify.notify_recovery
        return handler(args.unit, log, os.environ, args.config)
    except CronError as e:
        log.record(e.message, "err", {})
        return e.exit_status
    except Exception as e:  # noqa: BLE001 - one line and a status, never a bare traceback
        import traceback
        log.debug("traceback: " + " | ".join(traceback.format_exc().splitlines()))
        log.record(f"{args.command}: unexpected {type(e).__name__}; please report it with "
                   f"the output of the same command with -v", "err", {})
        return EXIT_STATUS["bug"]
    except KeyboardInterrupt:
        log.record("interrupted", "err", {})
        return 130
