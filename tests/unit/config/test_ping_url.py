"""A job's ping URL: validated, its path never shown, the URL of one ping."""

import io

import pytest

from ticketing_cron.config.load import load_config
from ticketing_cron.base.errors import CronError
from ticketing_cron.run import ping
from ticketing_cron.config.ping_url import origin, ping_target, rid, scrub, validate_ping_url

NOW = 1_764_417_600.0  # 2025-11-29 12:00:00 UTC
PING = "https://hc-ping.com/3f1c2a9e-8b7d-4c6e-9f0a-1b2c3d4e5f60"
REQUEST_ID = "0123456789abcdef0123456789abcdef"


# ---------------------------------------------------------------- ping URLs


def test_ping_target_has_exit_status_and_rid_as_uuid():
    assert ping_target(PING, 0, REQUEST_ID) == \
        f"{PING}/0?rid=01234567-89ab-cdef-0123-456789abcdef"
    assert ping_target(PING, 77, REQUEST_ID).startswith(f"{PING}/77?rid=")
    with pytest.raises(ValueError):
        ping_target(PING, 256, REQUEST_ID)
    with pytest.raises(ValueError):
        rid("not-hex")


@pytest.mark.parametrize("url", [PING, PING + "/", "https://hc.example.net:8443/ping/key/slug",
                                 "http://127.0.0.1:8000/ping/abc", "http://[::1]/abc",
                                 "http://localhost/abc"])
def test_valid_ping_urls(url):
    problems = []
    expected = url.rstrip("/")
    if "example" in url:  # placeholders are refused; the shape is what is tested here
        url = url.replace("hc.example.net", "hc.ops.test")
        expected = expected.replace("hc.example.net", "hc.ops.test")
    assert validate_ping_url(url, "jobs.x.ping_url", problems) == expected, problems
    assert problems == []


@pytest.mark.parametrize("url, words", [
    ("ftp://hc-ping.com/secretpath1", "https://"),
    ("http://hc-ping.com/secretpath1", "loopback"),
    ("https://user:pw@hc-ping.com/secretpath1", "user name"),
    ("https://hc-ping.com/secretpath1?x=1", "query"),
    ("https://hc-ping.com/secretpath1#f", "fragment"),
    ("https://hc-ping.com/", "name the check"),
    ("https://hc-ping.com/secretpath1/../x", "name the check"),
    ("https://hc-ping.com/secret path1", "spaces"),
    ("https://hc-ping.com/secretpath1\x1b[2J", "plain characters"),
    ("https://hc-ping.com/secretpath1;x", "name the check"),
    ("https://example.com/secretpath1", "placeholder"),
    ("https://hc-ping.com:99999/secretpath1", "not a valid URL"),
    (42, "must be a string"),
])
def test_bad_ping_urls_are_refused_without_showing_the_path(url, words):
    problems = []
    assert validate_ping_url(url, "jobs.x.ping_url", problems) is None
    assert len(problems) == 1 and words in problems[0], problems
    assert problems[0].startswith("jobs.x.ping_url: ")
    assert "secretpath1" not in problems[0]


def test_origin_and_scrub_hide_the_path():
    assert origin(PING) == "https://hc-ping.com"
    assert origin("http://127.0.0.1:8000/a/b") == "http://127.0.0.1:8000"
    assert origin("garbage") == "[ping URL]"
    key_url = "https://hc-ping.com/pingkey12345/backup-job"
    text = f"failed for {key_url}/0?rid=x; key pingkey12345; {PING}/69"
    cleaned = scrub(scrub(text, key_url), PING)
    assert "pingkey12345" not in cleaned and "3f1c2a9e" not in cleaned
    assert "https://hc-ping.com" in cleaned


def test_ping_body_is_capped_secret_free_and_one_line():
    body = ping.ping_body("sla-check ok: fine\x1b[2J", lambda t: t)
    assert body == "sla-check ok: fine\ufffd[2J".encode()
    long = ping.ping_body("é" * 5000 + "s3cr3t", lambda t: t.replace("s3cr3t", "[secret]"))
    assert len(long) <= ping.MAX_BODY_BYTES and long.endswith(b"...")
    long.decode("utf-8")  # cut on a character boundary
    assert b"s3cr3t" not in ping.ping_body("x s3cr3t", lambda t: t.replace("s3cr3t", "[secret]"))


def config_with(tmp_path, extra=""):
    path = tmp_path / "config.toml"
    path.write_text('[api]\nbase_url = "https://tickets.ops.test"\n\n'
                    '[jobs.sla-check]\npath = "/api/cron/sla-check"\n' + extra)
    return load_config(str(path))


def test_config_reads_ping_url_and_hides_its_path_in_problems(tmp_path):
    config = config_with(tmp_path, f'ping_url = "{PING}/"\n')
    assert config.jobs["sla-check"].ping_url == PING
    assert config_with(tmp_path).jobs["sla-check"].ping_url is None
    with pytest.raises(CronError) as e:
        config_with(tmp_path, 'ping_url = "http://hc.ops.test/3f1c2a9e-secret"\n')
    assert e.value.outcome == "config" and "jobs.sla-check.ping_url: http://" in e.value.message
    assert "3f1c2a9e" not in e.value.message and "3f1c2a9e" not in " ".join(e.value.details)


def test_check_names_only_the_ping_host(tmp_path):
    from ticketing_cron.check import check

    config_with(tmp_path, f'ping_url = "{PING}"\n')
    (tmp_path / "cred").mkdir()
    (tmp_path / "cred" / "cron-secret").write_text("s3cret-value\n")
    (tmp_path / "cred" / "cron-secret").chmod(0o600)
    out, err = io.StringIO(), io.StringIO()
    assert check(str(tmp_path / "config.toml"), out, err,
                 {"CREDENTIALS_DIRECTORY": str(tmp_path / "cred")}) == 0
    assert "sla-check -> https://tickets.ops.test/api/cron/sla-check (ping https://hc-ping.com)" \
        in out.getvalue()
    assert "3f1c2a9e" not in out.getvalue() + err.getvalue()


def test_the_start_signal_goes_to_start_with_the_runs_rid():
    from ticketing_cron.config.ping_url import start_target

    assert start_target("https://hc.test/ping/abc", "0123456789abcdef0123456789abcdef") == \
        "https://hc.test/ping/abc/start?rid=01234567-89ab-cdef-0123-456789abcdef"
