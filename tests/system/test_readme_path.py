"""The README's path, as written, on a freshly installed container: its command blocks
marked `<!-- user-path -->` (set base_url, type the secret, check, start and watch) run
one after another with the stand-in's address and this run's secret in place of the
README's, and end in a healthy `status`, the run's record under `journalctl -xu` and
then a successful tick of the timer itself.

Two things are replaced, each where the README has it exactly once (so that a changed
README fails here rather than runs something else): the example address, and the
prompt of `systemd-ask-password`, which needs a terminal or an agent, by reading the
same characters from a root-only file. Everything else runs as printed, each block with
`bash -e`. One container of its own, because it must start from a fresh install.
"""

import os
import re
from pathlib import Path

import pytest

from harness import boot_with_package, wait_for

pytestmark = pytest.mark.system

README = Path(__file__).resolve().parents[2] / "README.md"
SECRET = "/etc/ticketing-cron/cron-secret"
TYPED = "/root/typed-secret"  # what the administrator types at the prompt
EXAMPLE_URL = "https://tickets.your-company.com"
PROMPT = 'systemd-ask-password -n "Cron secret:"'


def user_path(text):
    """The README's command blocks marked as the user's path, in order."""
    return re.findall(r"^<!-- user-path -->\n```sh\n(.*?)^```$", text, re.M | re.S)


def as_run_here(blocks, url):
    """The blocks with the stand-in's address and the typed secret's file in place."""
    joined = "\0".join(blocks)
    for old, new in ((EXAMPLE_URL, url), (PROMPT, f"cat {TYPED}")):
        assert joined.count(old) == 1, f"the README's user path has {old!r} " \
                                       f"{joined.count(old)} times, not once"
        joined = joined.replace(old, new)
    return joined.split("\0")


@pytest.fixture(scope="module")
def box(workdir, base_rootfs, deb):
    """A booted copy of the base tree with the package freshly installed."""
    machine, _ = boot_with_package(base_rootfs, deb, workdir / "readme-path",
                                   f"tc-readme-{os.getpid()}")
    yield machine
    machine.discard()


@pytest.fixture(scope="module")
def walked(box, standin, secret):
    """Every block of the README's path run in order: returns their results."""
    blocks = as_run_here(user_path(README.read_text()), f"http://127.0.0.1:{standin.port}")
    box.write(TYPED, secret, mode="0600")
    results = []
    for block in blocks:
        result = box.run(["bash", "-e", "-c", block], check=False)
        print(f"$ {block}{result.stdout}{result.stderr}")
        results.append((block, result))
        assert result.returncode == 0, f"{block!r} exited {result.returncode}:\n" \
                                       f"{result.stdout}{result.stderr}"
    return results


def test_the_readme_marks_its_path():
    blocks = user_path(README.read_text())
    commands = "".join(blocks)
    assert len(blocks) >= 4, blocks
    for step in (PROMPT, "ticketing-cron check", "ticketing-cron status",
                 "journalctl -xu ticketing-cron"):
        assert step in commands, step


def test_the_readme_path_ends_in_a_healthy_watched_installation(box, standin, secret,
                                                               walked):
    output = "".join(r.stdout + r.stderr for _, r in walked)
    assert secret not in output, "the secret was printed"
    # The secret, as typed: root's, 0600, no newline added.
    assert box.run(["stat", "-c", "%a %U %G", SECRET]).stdout.split() == \
        ["600", "root", "root"]
    assert box.path(SECRET).read_text() == secret

    check = next(r for block, r in walked if block.strip() == "ticketing-cron check")
    assert f"secret {SECRET}: ok" in check.stdout, check.stdout

    last = walked[-1][1].stdout
    assert re.search(r"^sla-check: ok$", last, re.M), last
    assert re.search(r"sla-check ok: \d+ requests? unassigned", last), last
    assert "Subject: job sla-check succeeded" in last, last  # journalctl -x's explanation

    # The run the README started reached the app with the typed secret.
    started = box.summaries()[-1]
    assert started["OUTCOME"] == "ok", started
    calls = [c for c in standin.calls() if c.get("request_id") == started["REQUEST_ID"]]
    assert len(calls) == 1 and calls[0]["secret_ok"], calls


def test_the_next_tick_of_the_timer_succeeds(box, standin, walked):
    seen = {r.get("_SYSTEMD_INVOCATION_ID") for r in box.summaries()}
    before = box.last_trigger() or 0

    def tick():
        return [r for r in box.summaries() if r.get("_SYSTEMD_INVOCATION_ID") not in seen]
    found = wait_for(tick, 90, "the timer's next run", interval=1)
    assert [r["OUTCOME"] for r in found] == ["ok"], found
    assert (box.last_trigger() or 0) > before, "that run was not the timer's"
    calls = [c for c in standin.calls() if c.get("request_id") == found[0]["REQUEST_ID"]]
    assert len(calls) == 1 and calls[0]["secret_ok"], calls
    status = box.run(["ticketing-cron", "status"], check=False)
    assert status.returncode == 0, status.stdout + status.stderr
