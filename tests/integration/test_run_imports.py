"""What the every-minute run imports: nothing it does not need.

The timers run `ticketing-cron run JOB`; its start-up imports are most of what a run
costs beyond the POST itself, once a minute (HACKING.md, "Performance").
"""

import subprocess
import sys

from support import ok_reply

NOT_ON_THE_RUN_PATH = ("ticketing_cron.schedules", "subprocess", "zoneinfo", "argparse",
                       "gettext", "difflib", "dataclasses", "systemd.journal")


def test_a_run_imports_no_schedule_translation_no_argparse(cli, serve):
    server = serve(ok_reply(2))
    cli.configure(server.url, rest='[jobs.sla-check]\npath = "/api/cron/sla-check"\n'
                  '[jobs.digest]\npath = "/d"\nschedule = "0 7 * * 1-5"\n'
                  'timezone = "Europe/Berlin"\ndeadline = 300\n')
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "ticketing_cron",
                           "--config", str(cli.config_path), "run", "digest"],
                          env=cli.env(), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    imported = {line.split("|")[-1].strip() for line in proc.stderr.splitlines()
                if line.startswith("import time:")}
    assert "ticketing_cron.run.runner" in imported and "urllib3" in imported
    assert [m for m in imported if m.startswith(NOT_ON_THE_RUN_PATH)] == []
    assert [r.path for r in server.received] == ["/d"]
