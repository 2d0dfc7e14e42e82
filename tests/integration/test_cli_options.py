"""Global options (--config, -v, -q) before or after the subcommand, and -q."""

import subprocess
import sys

import pytest

from support import EXIT, ok_reply


def bare(cli, *args):
    """ticketing-cron ARGS exactly as given (no --config or -v added), checked."""
    proc = subprocess.run([sys.executable, "-m", "ticketing_cron", *args], env=cli.env(),
                          capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL)
    return cli.result(proc.returncode, proc.stdout, proc.stderr)


@pytest.mark.parametrize("order", ["before", "after"])
def test_config_and_verbose_work_before_or_after_the_command(cli, serve, order):
    server = serve(ok_reply(2))
    cli.configure(server.url)
    options = ["--config", str(cli.config_path), "-v"]
    args = options + ["run"] if order == "before" else ["run"] + options
    result = bare(cli, *args)
    assert result.status == EXIT["ok"], result.stderr
    assert "sla-check ok: 2 requests unassigned" in result.summary
    assert "POST " in result.stderr  # the debug detail of -v
    check = bare(cli, "check", "--config", str(cli.config_path))
    assert check.status == 0 and f"config {cli.config_path}: ok" in check.stdout


def test_quiet_prints_nothing_when_all_is_well(cli, serve):
    server = serve(ok_reply(2))
    cli.configure(server.url)
    for args in (["-q", "run"], ["run", "-q"], ["check", "-q"], ["-q", "check"]):
        result = bare(cli, "--config", str(cli.config_path), *args)
        assert result.status == 0, (args, result.stderr)
        assert result.stdout == "" and result.stderr == "", args
    assert len(server.received) == 2


def test_quiet_still_reports_problems(cli, serve):
    server = serve(ok_reply(0))
    cli.configure(server.url + "/api/cron/sla-check")
    check = bare(cli, "--config", str(cli.config_path), "check", "-q")
    assert check.status == 0 and check.stdout == ""
    assert "warning: jobs.sla-check: api.base_url already ends in" in check.stderr
    cli.write_secret(b"")
    result = bare(cli, "--config", str(cli.config_path), "-q", "run")
    assert result.status == EXIT["config"] and "is empty" in result.stderr
    check = bare(cli, "--config", str(cli.config_path), "-q", "check")
    assert check.status == EXIT["config"] and check.stdout == "" and "is empty" in check.stderr


@pytest.mark.parametrize("args", [["-v", "-q", "check"], ["check", "-v", "-q"],
                                  ["-v", "check", "-q"], ["-q", "run", "-v"]])
def test_verbose_and_quiet_exclude_each_other(cli, args):
    result = bare(cli, *args)
    assert result.status == 2
    assert "-q/--quiet" in result.stderr and "-v/--verbose" in result.stderr


def test_the_help_lists_the_commands_people_run_and_says_what_the_timer_runs(cli):
    result = bare(cli, "--help")
    assert result.status == 0
    assert "notify-failure" not in result.stdout and "notify-recovery" not in result.stdout
    for command in ("run", "check", "status", "import-env"):
        assert f"\n    {command} " in result.stdout
    assert "starts `ticketing-cron run --scheduled sla-check` every" in result.stdout
    # The handlers' commands still work (their units run them) and have help of their own.
    for command in ("notify-failure", "notify-recovery"):
        assert bare(cli, command, "--help").status == 0
