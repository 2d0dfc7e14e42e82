"""Bash completion (completion/ticketing-cron) in a real bash with Debian's
bash-completion: commands, options, file names and the config's job names."""

import subprocess
from pathlib import Path

import pytest

from ticketing_cron.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "completion" / "ticketing-cron"
BASH_COMPLETION = "/usr/share/bash-completion/bash_completion"

TWO_JOBS = """\
[api]
base_url = "https://tickets.example.org"

[jobs.sla-check]   # the SLA check
endpoint = "/api/cron/sla-check"

  [jobs."nightly_digest"]
endpoint = "/api/cron/digest"

[jobs.sla-check.retries]
"""


def complete(words, cwd):
    """Run the completion function on WORDS (the last one is the word being
    completed) in a fresh bash; returns the sorted COMPREPLY."""
    script = f"""
        source {BASH_COMPLETION}
        source {SCRIPT}
        COMP_WORDS=("$@"); COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 ))
        COMP_LINE="${{COMP_WORDS[*]}}"; COMP_POINT=${{#COMP_LINE}}
        _ticketing_cron ticketing-cron "${{COMP_WORDS[COMP_CWORD]}}" \
            "${{COMP_WORDS[COMP_CWORD-1]}}"
        printf '%s\\n' "${{COMPREPLY[@]}}"
    """
    proc = subprocess.run(["bash", "--norc", "--noprofile", "-c", script, "bash",
                           "ticketing-cron", *words], cwd=cwd, capture_output=True,
                          text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr
    return sorted(line for line in proc.stdout.splitlines() if line)


def parser_commands():
    """The parser's commands: (listed, hidden) names, each sorted."""
    action = next(a for a in build_parser()._actions if a.dest == "command")
    listed = sorted(c.dest for c in action._choices_actions)
    return listed, sorted(set(action.choices) - set(listed))


def parser_options(command):
    """Every option string of COMMAND's parser."""
    action = next(a for a in build_parser()._actions if a.dest == "command")
    return sorted(s for a in action.choices[command]._actions for s in a.option_strings)


@pytest.fixture
def config(tmp_path):
    """A config file with two jobs."""
    path = tmp_path / "two-jobs.toml"
    path.write_text(TWO_JOBS)
    return path


def test_offers_the_listed_commands_and_not_the_handlers_own(tmp_path):
    listed, hidden = parser_commands()
    assert {"notify-failure", "notify-recovery"} <= set(hidden)
    assert complete([""], tmp_path) == listed
    assert complete(["-v", ""], tmp_path) == listed
    assert complete(["notify"], tmp_path) == []
    for name in hidden:
        assert complete([name[:-1]], tmp_path) == [], name


@pytest.mark.parametrize("command", ["run", "check", "status", "import-env"])
def test_offers_each_commands_options_as_the_parser_defines_them(tmp_path, command):
    assert complete([command, "-"], tmp_path) == parser_options(command)


def test_offers_global_options_before_the_command(tmp_path):
    offered = complete(["-"], tmp_path)
    assert {"--config", "-v", "--verbose", "-q", "--quiet", "--version"} <= set(offered)


def test_offers_the_job_names_of_the_config_given_with_config(tmp_path, config):
    jobs = ["nightly_digest", "sla-check"]
    assert complete(["--config", str(config), "run", ""], tmp_path) == jobs
    assert complete(["status", "--config", str(config), ""], tmp_path) == jobs
    assert complete(["run", f"--config={config}", "--scheduled", "sl"], tmp_path) == \
        ["sla-check"]
    assert complete(["--config", str(config), "check", ""], tmp_path) == []


def test_completes_file_names_after_config_and_for_import_env(tmp_path, config):
    (tmp_path / "app.env").write_text("CRON_SECRET=x\n")
    assert complete(["--config", str(tmp_path / "two")], tmp_path) == [str(config)]
    assert complete(["import-env", "--dry-run", "app"], tmp_path) == ["app.env"]


@pytest.mark.parametrize("content", [None, b"[jobs.x\n\xff\xfe not toml [[[", b""])
def test_a_missing_or_bad_config_offers_nothing_and_fails_nothing(tmp_path, content):
    path = tmp_path / "bad.toml"
    if content is not None:
        path.write_bytes(content)
    assert complete(["--config", str(path), "run", ""], tmp_path) == []
    proc = subprocess.run(["bash", "-c", f"source {SCRIPT}; _ticketing_cron_jobs \"$1\"",
                           "bash", str(path)], capture_output=True, timeout=60)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, b"", b"")
