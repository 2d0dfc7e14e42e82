"""Config validation as pure logic: parsed TOML in, Config or problems out."""

import pytest

from ticketing_cron.config import (is_loopback, is_placeholder, parse_interval, validate,
                                   validate_base_url)


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
    ("https://a.test", True), ("https://a.test:8443/prefix/", True), ("http://127.0.0.1:3000", True),
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


@pytest.mark.parametrize("address", ["-oQ/tmp@x.test", "a b@x.test", "nodomain", "a@b", "a@x.test;rm"])
def test_email_addresses_that_could_be_misread_are_refused(address):
    _, problems = problems_of({"api": {"base_url": "https://a.test"},
                               "alerts": {"email_to": [address]}})
    assert len(problems) == 1 and "alerts.email_to" in problems[0]


def test_unknown_key_without_close_match_lists_known_keys():
    _, problems = problems_of({"api": {"base_url": "https://a.test", "zzz": 1}})
    assert problems == ["api.zzz: unknown key; known keys: base_url, ca_file, connect_timeout, "
                        "deadline, read_timeout"]
