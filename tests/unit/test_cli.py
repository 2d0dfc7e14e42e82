"""The timers' command line is parsed without argparse, exactly as argparse would."""

import pytest

from ticketing_cron.cli import build_parser, quick_run_args


@pytest.mark.parametrize("argv", [
    ["run"], ["run", "sla-check"], ["run", "daily-digest"],
    ["--config", "/tmp/c.toml", "run"], ["--config", "/tmp/c.toml", "run", "x"]])
def test_the_timers_command_line_parses_as_argparse_does(argv):
    quick = quick_run_args(argv)
    full = build_parser().parse_args(argv)
    assert quick is not None
    assert (quick.command, quick.job, quick.config, quick.verbose) == \
        (full.command, full.job, full.config, full.verbose)


@pytest.mark.parametrize("argv", [
    [], ["check"], ["-v", "run"], ["run", "-v"], ["run", "--help"], ["run", "a", "b"],
    ["--config", "run"], ["--config=/c", "run"], ["--config", "-x", "run"], ["run", ""],
    ["--version"], ["status", "run"]])
def test_everything_else_goes_to_argparse(argv):
    assert quick_run_args(argv) is None


@pytest.mark.parametrize("argv", [
    ["run", "--scheduled"], ["run", "--scheduled", "sla-check"],
    ["--config", "/tmp/c.toml", "run", "--scheduled", "daily-digest"],
    ["run", "sla-check"], ["run"]])
def test_scheduled_parses_as_argparse_does(argv):
    quick = quick_run_args(argv)
    full = build_parser().parse_args(argv)
    assert quick is not None
    assert (quick.command, quick.job, quick.config, quick.scheduled) == \
        (full.command, full.job, full.config, full.scheduled)
    assert quick.scheduled == ("--scheduled" in argv)


@pytest.mark.parametrize("argv", [
    ["run", "--scheduled", "--scheduled"], ["run", "sla-check", "--scheduled"],
    ["--scheduled", "run"], ["run", "--scheduled", "a", "b"], ["run", "--scheduled", ""]])
def test_other_placements_go_to_argparse(argv):
    assert quick_run_args(argv) is None
