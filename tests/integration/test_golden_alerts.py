"""Alert emails and webhook bodies against golden files (tests/golden/alerts/CASE/).

Each case is a directory with a ``config.toml`` (its [alerts] table; the webhook URL is
written as WEBHOOK and replaced by a loopback sink's) and a ``steps`` file: one handler
run per line, ``MINUTE COMMAND EXIT_STATUS`` (minutes after 2026-11-29 12:00 UTC, a
faked clock). ``expected/`` holds every email as sendmail received it (its arguments
first) and every webhook body, pretty-printed, in the order sent. This machine's name
is written as HOST. See tests/golden_files.py to regenerate.
"""

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta

import pytest

from fake_clock import faketime_env
from golden_files import cases, compare
from support import REPO, status_reply

T0 = datetime(2026, 11, 29, 12, 0, 0)
UNIT = "ticketing-cron.service"
# The handlers' clock runs at a hundredth of the real one: a start-up slowed by a
# busy machine (a second or more) then moves it by milliseconds, and the spans in
# the messages (floored to whole seconds) stay what the steps say.
SPEED = 0.01


def run_steps(case, tmp_path, hook_url):
    """Run the case's handler steps; returns (emails, webhook bodies not yet read)."""
    mail, bin_dir, state = tmp_path / "mail", tmp_path / "bin", tmp_path / "state"
    mail.mkdir()
    bin_dir.mkdir()
    sendmail = bin_dir / "sendmail"
    sendmail.write_text(f'#!/bin/sh\nn=$(ls "{mail}" | wc -l)\n'
                        f'{{ echo "ARGS: $*"; cat; }} > "{mail}/$n.eml"\n')
    sendmail.chmod(0o755)
    config = tmp_path / "config.toml"
    config.write_text((case / "config.toml").read_text().replace("WEBHOOK", hook_url))
    for line in (case / "steps").read_text().split("\n"):
        if not line.strip() or line.startswith("#"):
            continue
        minute, command, exit_status = line.split()
        # Later steps start half a second into their minute: spans are floored to
        # whole seconds, and start-up times (well under half a second apart) must
        # neither add one to them nor take one off.
        at = T0 + timedelta(minutes=int(minute), seconds=0.5 if int(minute) else 0)
        env = {"PATH": f"{bin_dir}:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8",
               "PYTHONPATH": str(REPO), "STATE_DIRECTORY": str(state),
               "MONITOR_SERVICE_RESULT": "exit-code" if exit_status != "0" else "success",
               "MONITOR_EXIT_CODE": "exited", "MONITOR_EXIT_STATUS": exit_status,
               "MONITOR_INVOCATION_ID": "0123abcd",
               **faketime_env(at.strftime("%Y-%m-%d %H:%M:%S.%f"), SPEED)}
        done = subprocess.run([sys.executable, "-m", "ticketing_cron", "--config", str(config),
                               command, UNIT], env=env, capture_output=True, text=True,
                              timeout=60)
        assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    return [p.read_text() for p in sorted(mail.iterdir(), key=lambda p: int(p.stem))]


def normalized(text):
    """``text`` with this machine's name as HOST."""
    return text.replace(os.uname().nodename, "HOST")


@pytest.mark.skipif(not os.path.exists("/usr/bin/faketime") and not os.environ.get("CI"),
                    reason="needs Debian's faketime (dev/test installs it)")
@pytest.mark.parametrize("case", cases("alerts"), ids=lambda p: p.name)
def test_alerts_match_golden_files(case, tmp_path, serve):
    hook = serve(status_reply(200, {"ok": True}))
    emails = run_steps(case, tmp_path, hook.url + "/hook")
    rendered = {}
    for n, text in enumerate(emails, 1):
        rendered[f"email-{n}.eml"] = normalized(text)
    for n, request in enumerate(hook.received, 1):
        body = json.loads(request.body)
        rendered[f"webhook-{n}.json"] = normalized(
            json.dumps(body, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    compare(case / "expected", rendered)
