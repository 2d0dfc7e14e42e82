"""Bad configuration and bad secrets: exit 78, a clear message, and no request sent."""


import pytest

from support import EXIT, REPO, ok_reply


@pytest.fixture
def server(serve):
    return serve(ok_reply(0))


def assert_config_error(result, server, *expected):
    assert result.status == EXIT["config"], result.stderr
    for text in expected:
        assert text in result.stderr, result.stderr
    assert server.received == [], "a bad config must be found before any network traffic"


def test_missing_config_file(cli, server):
    result = cli.run("run")
    assert_config_error(result, server, f"{cli.config_path}: no such file; copy "
                        "/usr/share/ticketing-cron/config.toml there")
    assert result.fields["OUTCOME"] == "config"


def test_config_is_a_directory(cli, server):
    cli.config_path.mkdir()
    assert_config_error(cli.run("run"), server, "is a directory")


def test_malformed_toml_names_the_line(cli, server):
    cli.write_config(f'[api]\nbase_url = "{server.url}"\ndeadline = = 4\n')
    assert_config_error(cli.run("run"), server, "not valid TOML", "line 3")


def test_config_that_is_not_utf8(cli, server):
    cli.config_path.write_bytes(b'[api]\nbase_url = "\xff"\n')
    assert_config_error(cli.run("run"), server, "config.toml")


def test_every_problem_is_reported_in_one_pass(cli, server):
    cli.write_config('[api]\nbase_ulr = "https://x.test"\nread_timeout = "20"\n'
                     'deadline = 90\n[jobs.sla-check]\npth = "/x"\n[alrets]\n')
    result = cli.run("run")
    assert_config_error(
        result, server,
        "api.base_ulr: unknown key; did you mean base_url?",
        "api.base_url: missing",
        "api.read_timeout: must be a number of seconds, not a string",
        "api.deadline: must be more than 0 and at most 55 seconds, not 90",
        "jobs.sla-check.pth: unknown key; did you mean path?",
        "jobs.sla-check.path: missing",
        "alrets: unknown key; did you mean alerts?",
        "7 problems:")


def test_check_reports_schedule_problems_with_the_configs_in_one_pass(cli, server):
    """A bad deadline used to hide a bad schedule until it was fixed; and no "ok" is
    printed for a config that has problems."""
    cli.write_config(f'[api]\nbase_url = "{server.url}"\ndeadline = 120\n\n'
                     f'[jobs.sla-check]\npath = "/api/cron/sla-check"\n\n'
                     f'[jobs.report]\npath = "/api/cron/report"\nschedule = "61 * * * *"\n')
    check = cli.run("check", verbose=False)
    assert check.status == EXIT["config"]
    assert "api.deadline: must be more than 0 and at most 55 seconds, not 120" in check.stderr
    assert "jobs.report.schedule: minute field '61': 61 is out of range" in check.stderr
    assert "2 problems; fix and run" in check.stderr
    assert f"config {cli.config_path}: ok" not in check.stdout

    cli.write_config(f'[api]\nbase_url = "{server.url}"\n\n[jobs.report]\n'
                     f'path = "/api/cron/report"\nschedule = "61 * * * *"\n')
    check = cli.run("check", verbose=False)
    assert check.status == EXIT["config"]
    assert f"config {cli.config_path}: ok" not in check.stdout, check.stdout
    assert "1 problem; fix and run" in check.stderr


def test_check_lists_each_problem_on_its_own_line(cli, server):
    cli.write_config('[api]\nbase_ulr = "https://x.test"\nconnect_timeout = true\n')
    result = cli.run("check", verbose=False)
    assert result.status == EXIT["config"]
    lines = result.stderr.splitlines()
    prefix = f"ticketing-cron: {cli.config_path}: "
    assert prefix + "api.base_ulr: unknown key; did you mean base_url?" in lines
    assert prefix + "api.base_url: missing; it is required in [api]" in lines
    assert any("api.connect_timeout: must be a number of seconds, not a boolean" in line
               for line in lines)
    assert lines[-1] == "ticketing-cron: 3 problems; fix and run `ticketing-cron check` again"


@pytest.mark.parametrize("body,expected", [
    ('[api]\nbase_url = 42\n', "api.base_url: must be a string, not an integer"),
    ('api = "x"\n', "api: must be a table ([api]), not a string"),
    ('[api]\nbase_url = "URL"\nca_file = "relative.pem"\n',
     "api.ca_file: must be an absolute path"),
    ('[api]\nbase_url = "URL"\nconnect_timeout = 0\n', "api.connect_timeout: must be more than 0"),
    ('[api]\nbase_url = "URL"\nread_timeout = 30\ndeadline = 10\n',
     "api.read_timeout: 30 s is longer than the run's deadline of 10 s"),
    ('[api]\nbase_url = "URL"\n[jobs.sla-check]\npath = "api/cron"\n',
     "jobs.sla-check.path: must be an absolute URL path"),
    ('[api]\nbase_url = "URL"\n[jobs]\nsla-check = 1\n', "jobs.sla-check: must be a table"),
    ('[api]\nbase_url = "ftp://127.0.0.1/"\n', "api.base_url: must be an https:// URL"),
    ('[api]\nbase_url = "https://user:pw@localhost/"\n',
     "must not contain a user name or password"),
    ('[api]\nbase_url = "https://tickets.example.com"\n',
     "api.base_url: tickets.example.com is the example placeholder"),
    ('[api]\nbase_url = "http://tickets.internal.test"\n',
     "api.base_url: http:// is only allowed to a loopback host"),
    ('[api]\nbase_url = "http://10.0.0.5:3000"\n', "http:// is only allowed to a loopback host"),
    ('[api]\nbase_url = "https://localhost:99999"\n', "api.base_url: not a valid URL"),
    ('[api]\nbase_url = "URL"\n[alerts]\nemail_to = "not an address"\n',
     "alerts.email_to: 'not an address' is not an address"),
    ('[api]\nbase_url = "URL"\n[alerts]\nrepeat_interval = "soon"\n',
     "alerts.repeat_interval: must be a duration"),
    ('[api]\nbase_url = "URL"\n[alerts]\nalert_after = 0\n', "alerts.alert_after: must be a whole"),
    ('[api]\nbase_url = "URL"\n[alerts]\nwebhook_url = "http://hooks.test/x"\n',
     "alerts.webhook_url: http:// is only allowed to a loopback host"),
], ids=["type", "table", "ca-relative", "zero-timeout", "timeout-over-deadline", "path",
        "job-not-table", "scheme", "userinfo", "placeholder", "http-remote-name", "http-remote-ip",
        "port", "email", "interval", "alert-after", "webhook-http"])
def test_invalid_values(cli, server, body, expected):
    cli.write_config(body.replace("URL", server.url))
    assert_config_error(cli.run("run"), server, expected)


def test_unknown_job_name(cli, server):
    cli.configure(server.url)
    result = cli.run("run", "nightly-report")
    assert_config_error(result, server, "no job 'nightly-report'", "jobs: sla-check",
                        "add a [jobs.nightly-report] table")
    assert result.fields["JOB"] == "nightly-report"


def test_http_is_accepted_for_loopback_names(cli, serve):
    server = serve(ok_reply(0))
    cli.configure(server.url.replace("127.0.0.1", "localhost"))
    assert cli.run("run").status == EXIT["ok"]


def test_example_config_passes_check_apart_from_its_placeholder(cli, server):
    text = (REPO / "config.toml.example").read_text()
    cli.write_config(text)
    result = cli.run("check", verbose=False)
    assert result.status == EXIT["config"]
    problems = [line for line in result.stderr.splitlines() if "config.toml:" in line]
    assert problems == [f"ticketing-cron: {cli.config_path}: api.base_url: tickets.example.com "
                        "is the example placeholder; set it to your app's URL, such as "
                        "https://tickets.yourcompany.com"]
    cli.write_config(text.replace("https://tickets.example.com", server.url))
    result = cli.run("check", verbose=False)
    assert result.status == 0, result.stderr
    assert "ok" in result.stdout and server.received == []


def test_check_reports_a_good_setup_and_calls_nothing(cli, server):
    cli.configure(server.url)
    result = cli.run("check", verbose=False)
    assert result.status == 0
    assert f"config {cli.config_path}: ok" in result.stdout
    assert f"secret {cli.cred_dir / 'cron-secret'}: ok" in result.stdout
    assert server.received == []


@pytest.mark.parametrize("data,expected", [
    (b"", "is empty"),
    (b"\n", "is empty"),
    (b"abc def", "holds whitespace"),
    (b"abc\tdef", "holds whitespace"),
    (b"abcdef\n\n", "holds whitespace"),
    (b"abc\r\n", "holds whitespace"),
    (b"abc\x00def", "holds control characters"),
    ("sécret".encode(), "holds non-ASCII bytes"),
    (b"x" * 5000, "is longer than 4096 bytes"),
    # The old app's README and the Kubernetes example: anyone can send these.
    (b"your-secure-random-secret-key-here\n", "is an example value from documentation"),
    (b"your-secret", "is an example value from documentation"),
    (b"REPLACE-WITH-THE-APPS-CRON_SECRET", "is an example value from documentation"),
    (b"${CRON_SECRET}\n", "is a shell variable's name, not its value"),
    (b"$CRON_SECRET", "is a shell variable's name, not its value"),
], ids=["empty", "newline-only", "space", "tab", "two-newlines", "crlf", "nul", "non-ascii",
        "too-long", "old-readme-placeholder", "heroku-placeholder", "kubernetes-placeholder",
        "unexpanded-braces", "unexpanded"])
def test_bad_secret(cli, server, data, expected):
    cli.configure(server.url)
    cli.write_secret(data)
    result = cli.run("run")
    assert_config_error(result, server, f"secret {cli.cred_dir / 'cron-secret'}: {expected}",
                        "install -m 0600")
    check = cli.run("check", verbose=False)
    assert check.status == EXIT["config"] and expected in check.stderr


@pytest.mark.parametrize("quote", ['"', "'"])
def test_a_secret_in_the_env_files_quotes_is_warned_about(cli, server, quote):
    """Copied with the .env's quotes: the app's value has none, so a 401 would follow."""
    cli.configure(server.url)
    cli.write_secret(f"{quote}{cli.secret}{quote}\n".encode())
    check = cli.run("check", verbose=False)
    assert check.status == 0, check.stderr  # a quote may be part of a secret: warn only
    assert f"warning: secret {cli.cred_dir / 'cron-secret'}: starts and ends with a quote " \
        f"({quote})" in check.stderr
    assert "write it again without them" in check.stderr
    assert cli.secret not in check.stderr + check.stdout


@pytest.mark.parametrize("suffix", ["/api/cron/sla-check", "/api/cron/sla-check/"])
def test_a_base_url_that_ends_in_the_jobs_path_is_warned_about(cli, server, suffix):
    cli.configure(server.url + suffix)
    check = cli.run("check", verbose=False)
    assert check.status == 0, check.stderr
    assert (f"warning: jobs.sla-check: api.base_url already ends in the job's path "
            f"/api/cron/sla-check, so it is called as {server.url}/api/cron/sla-check"
            f"/api/cron/sla-check; set base_url to {server.url}") in check.stderr
    cli.configure(server.url + "/tenant-a")
    check = cli.run("check", verbose=False)
    assert check.status == 0 and "warning" not in check.stderr, check.stderr


def test_missing_secret(cli, server):
    cli.configure(server.url)
    (cli.cred_dir / "cron-secret").unlink()
    result = cli.run("run")
    assert_config_error(result, server, "cron-secret: no such file")


def test_secret_directory_instead_of_file(cli, server):
    cli.configure(server.url)
    (cli.cred_dir / "cron-secret").unlink()
    (cli.cred_dir / "cron-secret").mkdir()
    assert_config_error(cli.run("run"), server, "is a directory")


def test_trailing_newline_is_stripped(cli, server):
    cli.configure(server.url)
    cli.write_secret(cli.secret.encode() + b"\n")
    assert cli.run("run").status == EXIT["ok"]
    assert server.received[0].headers["x-cron-secret"] == cli.secret


def test_secret_without_newline(cli, server):
    cli.configure(server.url)
    cli.write_secret(cli.secret.encode())
    assert cli.run("run").status == EXIT["ok"]
    assert server.received[0].headers["x-cron-secret"] == cli.secret


def test_without_credentials_directory_the_file_beside_the_config_is_read(cli, server):
    """`--config DIR/config.toml` means DIR/cron-secret to run and check alike (as
    import-env writes it), not /etc/ticketing-cron/cron-secret."""
    cli.configure(server.url)
    beside = cli.tmp / "cron-secret"
    no_credentials = {"CREDENTIALS_DIRECTORY": ""}
    result = cli.run("check", verbose=False, env=no_credentials)
    assert result.status == EXIT["config"]
    assert f"secret {beside}: no such file" in result.stderr
    assert f"install -m 0600 /dev/stdin {beside}" in result.stderr
    assert "/etc/ticketing-cron" not in result.stderr

    beside.write_text(cli.secret + "\n")
    beside.chmod(0o600)
    result = cli.run("check", verbose=False, env=no_credentials)
    assert result.status == 0, result.stderr
    assert f"secret {beside}: ok" in result.stdout
    result = cli.run("run", env=no_credentials)
    assert result.status == 0, result.stderr
    assert len(server.received) == 1
    assert server.received[0].headers["x-cron-secret"] == cli.secret


def test_credentials_directory_comes_before_the_file_beside_the_config(cli, server):
    cli.configure(server.url)
    beside = cli.tmp / "cron-secret"
    beside.write_text("tc-the-file-beside-the-config-1\n")
    beside.chmod(0o600)
    result = cli.run("run")
    assert result.status == 0, result.stderr
    assert server.received[0].headers["x-cron-secret"] == cli.secret


def test_run_of_a_mistyped_job_suggests_the_close_name(cli, server):
    cli.configure(server.url)
    result = cli.run("run", "sla-chek", verbose=False)
    assert result.status == EXIT["config"]
    assert "no job 'sla-chek'" in result.stderr
    assert "did you mean sla-check?" in result.stderr
    assert "add a [jobs.sla-chek] table" not in result.stderr
    result = cli.run("run", "nightly-report", verbose=False)
    assert result.status == EXIT["config"]
    assert "add a [jobs.nightly-report] table with its path" in result.stderr
    assert server.received == []


def test_secret_is_not_in_argv_or_environment_of_the_process(cli, serve):
    seen = {}

    def respond(handler, request):
        import glob
        for status in glob.glob("/proc/[0-9]*/cmdline"):
            try:
                environ = status.replace("cmdline", "environ")
                data = open(status, "rb").read() + open(environ, "rb").read()
            except OSError:
                continue
            if b"ticketing_cron" in data:
                seen[status] = cli.secret.encode() in data
        from support import send
        send(handler, 200, {"success": True})
    server = serve(respond)
    cli.configure(server.url)
    assert cli.run("run").status == EXIT["ok"]
    assert seen and not any(seen.values())


def test_help_and_version(cli):
    result = cli.run("--help", verbose=False)
    assert result.status == 0
    for text in ("run", "check", "exit statuses:", "78  config", "journalctl -u ticketing-cron"):
        assert text in result.stdout
    version = cli.run("--version", verbose=False)
    assert version.status == 0 and version.stdout.startswith("ticketing-cron 0.")


def test_usage_error_exits_2(cli):
    result = cli.run("frobnicate", verbose=False)
    assert result.status == 2 and "invalid choice" in result.stderr
