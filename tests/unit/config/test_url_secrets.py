"""The credential URLs' files: where they are, how they are read, what check warns."""

import os

from ticketing_cron.config.url_secrets import (exposed_in_config, ping_url_file,
                                               read_url_file, webhook_url_file)
from ticketing_cron.config.validate import validate


def test_where_the_files_are():
    assert webhook_url_file("/etc/ticketing-cron/config.toml") == \
        "/etc/ticketing-cron/webhook-url"
    assert ping_url_file("/etc/ticketing-cron/config.toml", "sla-check", {}) == \
        "/etc/ticketing-cron/ping-urls/sla-check"
    assert ping_url_file("/etc/ticketing-cron/config.toml", "sla-check",
                         {"CREDENTIALS_DIRECTORY": "/run/credentials/x"}) == \
        "/run/credentials/x/ping-urls_sla-check"


def test_a_missing_file_is_no_url_and_no_problem(tmp_path):
    problems = []
    assert read_url_file(str(tmp_path / "none"), problems) is None and problems == []


def test_a_url_is_read_stripped(tmp_path):
    path = tmp_path / "u"
    path.write_text("  https://hooks.acme.test/x \n")
    path.chmod(0o600)
    problems, warnings = [], []
    assert read_url_file(str(path), problems, warnings) == "https://hooks.acme.test/x"
    assert problems == [] and warnings == []


def test_a_symbolic_link_is_refused_and_its_target_never_shown(tmp_path):
    target = tmp_path / "shadow"
    target.write_text("root:$6$hash-never-shown\n")
    link = tmp_path / "u"
    link.symlink_to(target)
    problems = []
    assert read_url_file(str(link), problems) is None
    assert len(problems) == 1 and "hash-never-shown" not in problems[0]


def test_more_than_one_line_or_too_long_is_refused_without_content(tmp_path):
    for text in ("https://a.test/x\nsecond-line-secret\n", "h" * 5000):
        path = tmp_path / "u"
        path.write_text(text)
        problems = []
        assert read_url_file(str(path), problems) is None
        assert len(problems) == 1 and "secret" not in problems[0] and "hhh" not in problems[0]


def test_a_directory_is_refused(tmp_path):
    problems = []
    assert read_url_file(str(tmp_path), problems) is None and "not a regular file" in problems[0]


def test_a_root_owned_file_others_may_read_is_warned_about(tmp_path):
    path = tmp_path / "u"
    path.write_text("https://hooks.acme.test/x\n")
    path.chmod(0o644)
    warnings = []
    read_url_file(str(path), [], warnings)
    assert warnings == ([f"{path}: mode 0644 lets others read a credential; run: chmod 600 "
                         f"{path}"] if os.geteuid() == 0 else [])


def config_with(tmp_path, mode):
    path = tmp_path / "config.toml"
    path.write_text("")
    path.chmod(mode)
    return validate({"api": {"base_url": "https://a.test"},
                     "jobs": {"sla-check": {"path": "/s",
                                            "ping_url": "https://hc-ping.com/abc-uuid"}},
                     "alerts": {"webhook_url": "https://hooks.acme.test/T/x"}},
                    str(path), [])


def test_credentials_in_a_world_readable_config_are_warned_about(tmp_path):
    warnings = exposed_in_config(config_with(tmp_path, 0o644))
    assert len(warnings) == 2
    assert warnings[0].startswith("jobs.sla-check.ping_url is a credential, but ")
    assert warnings[1].startswith("alerts.webhook_url is a credential, but ")
    assert not any("abc-uuid" in w or "T/x" in w for w in warnings)


def test_a_config_others_cannot_read_is_not_warned_about(tmp_path):
    assert exposed_in_config(config_with(tmp_path, 0o640)) == []
