"""JSON log lines (TICKETING_CRON_LOG_FORMAT=json): one object per record, journal fields."""

import io
import json

from ticketing_cron.base.log import Log


def lines(out):
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_one_json_object_per_record_with_the_journal_fields():
    out = io.StringIO()
    log = Log(stream=out, json_lines=True)
    log.record("sla-check ok: 3 requests unassigned", "info",
               {"JOB": "sla-check", "OUTCOME": "ok", "EXIT_STATUS": 0, "UNASSIGNED": None})
    log.record("sla-check auth: rejected", "err", {"JOB": "sla-check", "OUTCOME": "auth"})
    first, second = lines(out)
    assert first["MESSAGE"] == "sla-check ok: 3 requests unassigned"
    assert first["PRIORITY"] == "6" and second["PRIORITY"] == "3"
    assert first["SYSLOG_IDENTIFIER"] == "ticketing-cron"
    assert first["JOB"] == "sla-check" and first["OUTCOME"] == "ok"
    assert first["EXIT_STATUS"] == "0" and "UNASSIGNED" not in first
    assert first["TIMESTAMP"].endswith("Z") and first["TIMESTAMP"][10] == "T"


def test_the_environment_asks_for_it_and_it_wins_over_the_journal(monkeypatch):
    monkeypatch.setenv("TICKETING_CRON_LOG_FORMAT", "json")
    out = io.StringIO()
    log = Log(stream=out, journal=True)
    log.record("hello", "info", {})
    assert lines(out)[0]["MESSAGE"] == "hello"
    monkeypatch.setenv("TICKETING_CRON_LOG_FORMAT", "text")
    out = io.StringIO()
    Log(stream=out, journal=False).record("hello", "info", {})
    assert out.getvalue() == "ticketing-cron: hello\n"


def test_secret_and_control_characters_stay_out_of_json_lines():
    out = io.StringIO()
    log = Log(verbose=True, stream=out, json_lines=True)
    secret = "s3cr3t-" + "x" * 30
    log.hide(secret)
    log.record(f"leak {secret}\x1b[2J\u202e", "err", {"BODY": f"a\nb {secret}\x07"})
    log.debug("debug line")
    (record, debug) = lines(out)
    assert secret not in out.getvalue()
    assert "[secret]" in record["MESSAGE"] and "\x1b" not in record["MESSAGE"]
    assert "\u202e" not in record["MESSAGE"]
    assert record["BODY"].startswith("a\nb [secret]") and "\x07" not in record["BODY"]
    assert debug["PRIORITY"] == "7"
    assert len(out.getvalue().splitlines()) == 2
