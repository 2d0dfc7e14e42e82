"""What the every-minute run imports: nothing it does not need.

The timers run `ticketing-cron run JOB`; its start-up imports are most of what a run
costs beyond the POST itself, once a minute (HACKING.md, "Performance").
"""

import os
import subprocess
import sys
import time

from fake_clock import faketime_env
from support import REPO, ok_reply, status_reply

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


def launcher_argv(cli, *args):
    """bin/ticketing-cron as the units start it (python3 -IS, its own module path), with
    this tree's package first on that path, and -X importtime."""
    launcher = str(REPO / "bin" / "ticketing-cron")
    return [sys.executable, "-X", "importtime", "-IS", "-c",
            f"import sys; sys.path.insert(0, {str(REPO)!r}); "
            f"exec(compile(open({launcher!r}).read(), {launcher!r}, 'exec'))",
            "--config", str(cli.config_path), *args]


def imports_of(stderr):
    return {line.split("|")[-1].strip() for line in stderr.splitlines()
            if line.startswith("import time:")}


def test_the_timers_run_with_its_parse_kept_imports_no_toml_parser_and_no_site(cli, serve,
                                                                              tmp_path):
    server = serve(ok_reply(0))
    other = serve(ok_reply(0))
    cache_dir = tmp_path / "cache"
    cache_dir.mkdir(mode=0o700)
    cli.configure(server.url)
    # The units' environment; the clock of the run 10 s ahead, so that the config just
    # written counts as settled (config/cache.py keeps nothing changed within 2 s).
    env = {**cli.env(), "CACHE_DIRECTORY": str(cache_dir), "TZ": "UTC",
           **faketime_env(time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(time.time() + 10)))}
    runs = []
    for _ in range(2):
        runs.append(subprocess.run(launcher_argv(cli, "run", "--scheduled", "sla-check"),
                                   env=env, capture_output=True, text=True, timeout=60))
        assert runs[-1].returncode == 0, runs[-1].stderr
    first, second = (imports_of(r.stderr) for r in runs)
    assert "site" not in first and "tomllib" in first and "ticketing_cron.run.runner" in first
    assert "site" not in second and "ticketing_cron.run.runner" in second
    assert [m for m in second if m.split(".")[0] in ("tomllib", "typing")] == []
    assert [m for m in second if m.startswith(NOT_ON_THE_RUN_PATH)] == []
    assert len(server.received) == 2
    # A changed config takes effect at the next run.
    cli.configure(other.url)
    third = subprocess.run(launcher_argv(cli, "run", "--scheduled", "sla-check"), env=env,
                           capture_output=True, text=True, timeout=60)
    assert third.returncode == 0, third.stderr
    assert "tomllib" in imports_of(third.stderr)
    assert len(server.received) == 2 and len(other.received) == 1


def test_the_launcher_path_is_the_standard_library_and_debians_packages():
    launcher = REPO / "bin" / "ticketing-cron"
    assert launcher.read_text().splitlines()[0] == "#!/usr/bin/python3 -IS"
    assert os.access(launcher, os.X_OK)
    proc = subprocess.run(
        [sys.executable, "-IS", "-c",
         "import sys; sys.modules['ticketing_cron.cli'] = type(sys)('stub'); "
         "sys.modules['ticketing_cron.cli'].main = "
         "lambda: print(repr((sys.path, 'site' in sys.modules))) or 0; "
         f"exec(compile(open({str(launcher)!r}).read(), 'launcher', 'exec'))"],
        env={"PYTHONPATH": "/elsewhere", "PATH": "/usr/bin:/bin"}, capture_output=True,
        text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    path, site = eval(proc.stdout)  # noqa: S307 - our own child's repr of str and bool
    assert path[-1] == "/usr/lib/python3/dist-packages" and not site
    assert "/elsewhere" not in path and not any("/usr/local" in p for p in path)


def test_the_launcher_flushes_the_output_and_passes_on_the_exit_status(cli, serve):
    """bin/ticketing-cron ends with os._exit(): what the command wrote to a pipe still
    arrives, and its exit status is the command's."""
    server = serve(status_reply(401, {"error": "Unauthorized"}))
    cli.configure(server.url)
    checked = subprocess.run(launcher_argv(cli, "check"), env=cli.env(), capture_output=True,
                             text=True, timeout=60)
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.startswith("config ") and checked.stdout.endswith("\n")
    refused = subprocess.run(launcher_argv(cli, "run", "--scheduled", "sla-check"),
                             env=cli.env(), capture_output=True, text=True, timeout=60)
    assert refused.returncode == 77
    assert "sla-check auth: " in refused.stderr and refused.stderr.endswith("\n")
