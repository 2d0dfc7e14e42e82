"""Config validation as pure logic: parsed TOML in, Config or problems out."""

import pytest

from ticketing_cron.config.validate import parse_interval, validate
from ticketing_cron.config.urls import is_loopback, is_placeholder, validate_base_url


def problems_of(data):
    problems = []
    config = validate(data, "/c.toml", problems)
    return config, problems


def test_minimal_config_gets_defaults():
    config, problems = problems_of({"api": {"base_url": "https://tickets.acme.test/"}})
    assert problems == []
    assert config.api.base_url == "https://tickets.acme.test"
    assert (config.api.connect_timeout, config.api.read_timeout, config.api.deadline) == (5, 20, 50)
    assert config.jobs["sla-check"].path == "/api/cron/sla-check"
    assert config.alerts.alert_after == 1 and config.alerts.repeat_interval_s == 3600
    assert config.alerts.email_to == () and config.alerts.webhook_url is None


def test_timeouts_are_clamped_to_a_short_deadline():
    config, problems = problems_of({"api": {"base_url": "https://a.test", "deadline": 3}})
    assert problems == []
    assert config.api.read_timeout == 3 and config.api.connect_timeout == 3


def test_missing_api_table():
    _, problems = problems_of({})
    assert problems == ["api.base_url: missing; it is required in [api]"]


@pytest.mark.parametrize("value", [0, -1, 56, float("inf"), float("nan"), "50", True])
def test_bad_deadlines(value):
    _, problems = problems_of({"api": {"base_url": "https://a.test", "deadline": value}})
    assert len(problems) == 1 and problems[0].startswith("api.deadline: must be")


@pytest.mark.parametrize("host,expected", [
    ("localhost", True), ("LOCALHOST", True), ("app.localhost", True), ("127.0.0.1", True),
    ("127.1.2.3", True), ("::1", True), ("10.0.0.1", False), ("localhost.example.com", False),
    ("0.0.0.0", False), ("tickets.test", False)])
def test_is_loopback(host, expected):
    assert is_loopback(host) is expected


@pytest.mark.parametrize("host,expected", [
    ("example.com", True), ("tickets.example.com", True), ("hooks.example.org", True),
    ("x.invalid", True), ("myexample.com", False), ("tickets.acme.com", False)])
def test_is_placeholder(host, expected):
    assert is_placeholder(host) is expected


@pytest.mark.parametrize("url,ok", [
    ("https://a.test", True), ("https://a.test:8443/prefix/", True),
    ("http://127.0.0.1:3000", True),
    ("http://[::1]:3000", True), ("http://a.test", False), ("https://", False),
    ("a.test", False), ("https://a.test/?q=1", False), ("https://a.test/#f", False),
    ("https://a.test/x y", False), ("https://u@a.test", False), ("https://a.test:0x1", False)])
def test_validate_base_url(url, ok):
    problems = []
    result = validate_base_url(url, "api.base_url", problems)
    assert (result is not None) is ok and (problems == []) is ok


@pytest.mark.parametrize("value,seconds", [
    ("90s", 90), ("15m", 900), ("1h", 3600), ("2d", 172800), (600, 600)])
def test_parse_interval(value, seconds):
    assert parse_interval(value) == seconds


@pytest.mark.parametrize("value", ["", "h", "1.5h", "-1h", "0m", 0, -5, True, 1.5, "1w", None])
def test_parse_interval_rejects(value):
    with pytest.raises(ValueError):
        parse_interval(value)


def test_alerts_are_validated():
    config, problems = problems_of({"api": {"base_url": "https://a.test"}, "alerts": {
        "email_to": ["ops@acme.test", "oncall+tc@acme.test"], "webhook_url": "https://h.test/x",
        "alert_after": 3, "repeat_interval": "30m"}})
    assert problems == []
    assert config.alerts.email_to == ("ops@acme.test", "oncall+tc@acme.test")
    assert config.alerts.alert_after == 3 and config.alerts.repeat_interval_s == 1800


@pytest.mark.parametrize("address", ["-oQ/tmp@x.test", "a b@x.test", "nodomain", "a@b",
                                     "a@x.test;rm"])
def test_email_addresses_that_could_be_misread_are_refused(address):
    _, problems = problems_of({"api": {"base_url": "https://a.test"},
                               "alerts": {"email_to": [address]}})
    assert len(problems) == 1 and "alerts.email_to" in problems[0]


def test_unknown_key_without_close_match_lists_known_keys():
    _, problems = problems_of({"api": {"base_url": "https://a.test", "zzz": 1}})
    assert problems == ["api.zzz: unknown key; known keys: base_url, ca_file, connect_timeout, "
                        "deadline, read_timeout"]


@pytest.mark.parametrize("url", [
    "http://attacker.test\\.localhost", "https://attacker.test\\.tickets.acme.test",
    "http://127.0.0.1\\@attacker.test", "https://t\u00efckets.acme.test", "https://a.test/x\"y",
    "https://a.test/<x>", "https://a.test/{x}", "https://a.test/x|y", "https://a.test/x^y",
    "https://a.test/`x`", "http://localhost\x00.attacker.test"])
def test_urls_with_characters_outside_rfc_3986_are_refused(url):
    problems = []
    assert validate_base_url(url, "api.base_url", problems) is None
    assert len(problems) == 1 and "cannot be in a URL (RFC 3986" in problems[0]


@pytest.mark.parametrize("url", [
    "http://attacker.test%5c.localhost", "https://a.test%2fb.test", "http://[::1%25lo]:80",
    "https://a.test:99999", "https://a.test:0x1", "https:a.test", "//a.test/x"])
def test_hosts_that_are_not_plain_names_or_addresses_are_refused(url):
    problems = []
    assert validate_base_url(url, "api.base_url", problems) is None and len(problems) == 1


@pytest.mark.parametrize("url", [
    "http://localhost:3000", "http://LOCALHOST:3000/", "http://app.localhost:3000",
    "http://127.9.9.9", "http://[::1]/", "https://tickets.acme.test/prefix",
    "https://xn--tckets-xta.acme.test", "https://[2001:db8::1]:8443", "https://a_b.acme.test"])
def test_plain_urls_are_accepted(url):
    problems = []
    assert validate_base_url(url, "api.base_url", problems) == url.rstrip("/")
    assert problems == []


@pytest.mark.parametrize("url", ["http://[::ffff:127.0.0.1]/", "http://0x7f000001/",
                                 "http://2130706433/", "http://localhost.attacker.test"])
def test_http_to_what_only_looks_loopback_is_refused(url):
    problems = []
    assert validate_base_url(url, "api.base_url", problems) is None
    assert "http:// is only allowed to a loopback host" in problems[0]


@pytest.mark.parametrize("host,expected", [("[::1]", True), ("[::2]", False),
                                           ("[::ffff:127.0.0.1]", False)])
def test_is_loopback_takes_bracketed_addresses(host, expected):
    assert is_loopback(host) is expected


def test_http_to_a_remote_webhook_speaks_of_what_it_sends_not_the_secret():
    from ticketing_cron.config.urls import validate_base_url

    problems = []
    assert validate_base_url("http://hooks.acme.test:8080/x", "alerts.webhook_url",
                             problems) is None
    assert problems == ["alerts.webhook_url: http:// is only allowed to a loopback host "
                        "(localhost, 127.0.0.1, ::1), so that what it sends never crosses a "
                        "network in clear text; use the https:// address, such as "
                        "https://hooks.acme.test/x"]
