"""Pure logic of the monitoring: ping URLs, ping retries, statistics, health, status."""

import io
import json

import pytest

from ticketing_cron.http import client
from ticketing_cron.config.load import load_config
from ticketing_cron.base.errors import CronError, ProtocolError
from ticketing_cron.base import catalog as message_ids
from ticketing_cron.run import ping
from ticketing_cron.status import health, stats, status, units
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


# ------------------------------------------------------------- ping retries


class FakeSend:
    """Answers the ping attempts from a script: a status, or an exception to raise."""

    def __init__(self, *script, clock=None, takes=0.0):
        self.script = list(script)
        self.calls = []
        self.clock = clock
        self.takes = takes

    def __call__(self, pool, request, headers, remaining, attempt, body):
        self.calls.append((request.url, dict(headers), remaining, attempt, body))
        if self.clock:
            self.clock.now += self.takes
        step = self.script[min(len(self.calls), len(self.script)) - 1]
        if isinstance(step, Exception):
            raise step
        return client.Reply(status=step, body=b"OK", attempts=attempt)


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_ping_success_is_one_attempt_without_the_secret_header():
    send = FakeSend(200)
    assert ping.send_ping(f"{PING}/0?rid=x", b"body", 5, send=send) is None
    (url, headers, remaining, attempt, body), = send.calls
    assert url == f"{PING}/0?rid=x" and body == b"body" and remaining <= 5
    assert "x-cron-secret" not in {k.lower() for k in headers}
    assert headers["User-Agent"].startswith("ticketing-cron/")


@pytest.mark.parametrize("first", [500, 503, client.RetryableError("connection refused")])
def test_ping_retries_once_after_5xx_or_connection_error(first):
    send = FakeSend(first, 200)
    assert ping.send_ping(PING + "/0", b"", 5, send=send) is None
    assert [c[3] for c in send.calls] == [1, 2]
    failing = FakeSend(first)
    reason = ping.send_ping(PING + "/0", b"", 5, send=failing)
    assert len(failing.calls) == 2 and "after 2 attempts" in reason


@pytest.mark.parametrize("status, words", [(301, "redirect, not followed"), (404, "no such check"),
                                           (400, "HTTP 400")])
def test_ping_does_not_retry_4xx_or_redirects(status, words):
    send = FakeSend(status, 200)
    reason = ping.send_ping(PING + "/0", b"", 5, send=send)
    assert len(send.calls) == 1 and words in reason


def test_ping_retry_stays_within_the_budget():
    clock = Clock()
    send = FakeSend(client.RetryableError("timed out"), 200, clock=clock, takes=4.99)
    reason = ping.send_ping(PING + "/0", b"", 5, clock=clock, send=send)
    assert len(send.calls) == 1, "no second attempt with 10 ms left"
    assert "timed out" in reason and "after 1 attempt " in reason


def test_ping_error_text_never_carries_the_path():
    send = FakeSend(ProtocolError(f"the reply is over the limit; is {PING}/0 the "
                                          f"cron endpoint?"))
    reason = ping.send_ping(f"{PING}/0", b"", 5, send=send)
    assert "3f1c2a9e" not in reason and "https://hc-ping.com" in reason


def test_no_ping_without_time_left(capsys):
    from ticketing_cron.base.log import Log

    stream = io.StringIO()
    log = Log(verbose=True, journal=False, stream=stream)
    clock = Clock()
    send = FakeSend(200)
    reason = ping.ping_after_run("sla-check", PING, 75, REQUEST_ID, "sla-check timeout: x",
                                 clock.now + 0.01, log, clock=clock, send=send)
    assert send.calls == [] and "left no time" in reason
    line, = stream.getvalue().splitlines()
    assert "warning: sla-check ping to https://hc-ping.com failed" in line
    assert "OUTCOME" not in line and f"MESSAGE_ID={message_ids.PING_FAILED}" in line
    assert "3f1c2a9e" not in line


# --------------------------------------------------------------- statistics


def test_median_and_percentile():
    assert stats.median([]) is None and stats.percentile([], 95) is None
    assert stats.median([3, 1, 2]) == 2 and stats.median([4, 1, 3, 2]) == 2.5
    values = list(range(1, 101))
    assert stats.percentile(values, 95) == 95 and stats.percentile(values, 50) == 50
    assert stats.percentile([7], 95) == 7 and stats.percentile(values, 100) == 100
    assert stats.percentile(list(range(1, 21)), 95) == 19
    with pytest.raises(ValueError):
        stats.percentile(values, 0)


def run(at, outcome="ok", duration=100, unassigned=0):
    return {"at": at, "outcome": outcome, "duration_ms": duration, "unassigned": unassigned,
            "message": f"sla-check {outcome}: x", "exit_status": 0, "http_status": 200,
            "request_id": REQUEST_ID}


def test_day_summary_counts_only_the_last_24_hours():
    runs = [run(NOW - 86400 - 5, "auth", 9999, 50)]  # a day and 5 s ago: not counted
    runs += [run(NOW - 60 * i, duration=100 + i, unassigned=1) for i in range(1, 1441)]
    runs[5]["outcome"] = "unavailable"
    runs[6]["outcome"] = "unavailable"
    runs[7].update(outcome="timeout", unassigned=None)
    day = stats.summarize_day(runs, NOW)
    assert day["runs"] == 1440
    assert day["failures"] == {"timeout": 1, "unavailable": 2}
    assert day["unassigned"] == 1437
    assert day["median_duration_ms"] == 820  # (820 + 821) / 2, rounded half to even
    assert day["p95_duration_ms"] == 100 + 1368


def test_streak_counts_failures_since_the_last_success():
    assert stats.streak([]) == (0, None)
    runs = [run(1, "auth"), run(2), run(3, "auth"), run(4, "unavailable")]
    assert stats.streak(runs) == (2, 3)
    assert stats.streak(runs + [run(5)]) == (0, None)


# ------------------------------------------------------------------- health


def timer(**overrides):
    t = {"unit": "ticketing-cron.timer", "service": "ticketing-cron.service",
         "load_state": "loaded", "unit_file_state": "enabled", "active_state": "active",
         "last_trigger": NOW - 30, "next_elapse": NOW + 30}
    t.update(overrides)
    return t


def test_healthy_failing_and_manual():
    assert health.judge(timer(), run(NOW - 29), NOW, 50) == ("ok", None)
    state, problem = health.judge(timer(), run(NOW - 29, "auth"), NOW, 50)
    assert state == "failing" and "auth" in problem
    assert health.judge(None, None, NOW, 50) == ("manual", None)
    assert health.judge(None, run(NOW, "auth"), NOW, 50) == ("manual", None)


@pytest.mark.parametrize("overrides, words", [
    ({"active_state": "inactive"}, "ticketing-cron.timer is stopped"),
    ({"unit_file_state": "disabled"}, "systemctl enable --now ticketing-cron.timer"),
    ({"load_state": "not-found"}, "not installed"),
    ({"next_elapse": NOW - 120}, "should have fired"),
])
def test_overdue_when_the_timer_does_not_run(overrides, words):
    state, problem = health.judge(timer(**overrides), run(NOW - 29), NOW, 50)
    assert state == "overdue" and words in problem


def test_overdue_when_a_due_run_left_no_record():
    # Triggered 70 s ago, deadline 50 s + slack: the record should be there by now.
    t = timer(last_trigger=NOW - 70, next_elapse=NOW + 10)
    state, problem = health.judge(t, run(NOW - 130), NOW, 50)
    assert state == "overdue" and "left no record" in problem
    # Still within deadline + slack: not yet overdue, judged by the last record.
    assert health.judge(timer(last_trigger=NOW - 60), run(NOW - 130), NOW, 50)[0] == "ok"
    # Under way: running.
    assert health.judge(t, run(NOW - 130), NOW, 50, "activating") == ("running", None)
    # Never triggered and no record: waiting for its first run.
    assert health.judge(timer(last_trigger=None), None, NOW, 50) == ("waiting", None)
    assert health.judge(t, None, NOW, 50)[0] == "overdue"


def test_exit_status():
    assert health.exit_status(["ok", "waiting", "manual", "running"]) == 0
    assert health.exit_status(["ok", "failing"]) == 1
    assert health.exit_status(["overdue"]) == 1


# ---------------------------------------------------------- systemctl show


def test_parse_show_blocks_and_times():
    text = ("Id=ticketing-cron.service\nActiveState=inactive\n\n"
            "Id=ticketing-cron.timer\nLastTriggerUSec=@1764417600\nNextElapseUSecRealtime=\n")
    service, timer_props = units.parse_show(text)
    assert service["Id"] == "ticketing-cron.service"
    assert units.parse_time(timer_props["LastTriggerUSec"]) == 1764417600
    assert units.parse_time("") is None and units.parse_time("n/a") is None
    assert units.parse_time("Sat 2025-11-29 12:00:00 UTC") == NOW
    assert units.parse_time("Sat 2025-11-29 12:00:00 CET") is None
    assert units.unit_names("sla-check") == ("ticketing-cron.service", "ticketing-cron.timer")
    assert units.unit_names("digest") == ("ticketing-cron@digest.service",
                                          "ticketing-cron@digest.timer")


# ------------------------------------------------------------------- status


def fake_show(overrides=None):
    def show(names):
        result = {}
        for name in names:
            if name.endswith(".timer"):
                props = {"Id": name, "LoadState": "loaded", "UnitFileState": "enabled",
                         "ActiveState": "active", "LastTriggerUSec": NOW - 30,
                         "NextElapseUSecRealtime": NOW + 30}
            else:
                props = {"Id": name, "LoadState": "loaded", "ActiveState": "inactive"}
            props.update((overrides or {}).get(name, {}))
            result[name] = props
        return result
    return show


def config_with(tmp_path, extra=""):
    path = tmp_path / "config.toml"
    path.write_text('[api]\nbase_url = "https://tickets.ops.test"\n\n'
                    '[jobs.sla-check]\npath = "/api/cron/sla-check"\n' + extra)
    return load_config(str(path))


def test_collect_reports_every_field(tmp_path):
    config = config_with(tmp_path, '\n[jobs.manual]\npath = "/api/cron/manual"\n')
    day = [run(NOW - 60 * i, duration=100 + i, unassigned=2) for i in range(10, 0, -1)]
    day[-2]["outcome"] = "auth"

    def history(service, job, now):
        runs = day if job == "sla-check" else []
        return {"day": runs, "last_run": runs[-1] if runs else None,
                "last_success": runs[-1] if runs else None}

    report = status.collect(config, [config.jobs["manual"], config.jobs["sla-check"]], NOW,
                            show=fake_show(), history=history,
                            load_streak=lambda service: (None, True))
    json.loads(json.dumps(report))
    assert report["healthy"] is True and report["generated_at"] == "2025-11-29T12:00:00Z"
    manual, sla = report["jobs"]
    assert manual["state"] == "manual" and manual["timer"] is None
    assert manual["last_run"] is None and manual["last_24h"]["runs"] == 0
    assert sla["state"] == "ok" and sla["problem"] is None
    assert sla["service"] == "ticketing-cron.service" and sla["timer"] == "ticketing-cron.timer"
    assert sla["timer_enabled"] is True and sla["timer_active"] is True
    assert sla["schedule"] == "*-*-* *:*:00" and sla["timezone"] == "UTC"
    assert sla["next_run"] == "2025-11-29T12:00:30Z"
    assert sla["last_run"]["at"] == "2025-11-29T11:59:00Z"
    assert sla["last_run"]["outcome"] == "ok" and sla["last_run"]["duration_ms"] == 101
    assert sla["last_success"] == "2025-11-29T11:59:00Z"
    assert sla["failure_streak"] == {"failures": 0, "since": None, "alerted": False,
                                     "alerts_sent": 0}
    assert sla["last_24h"] == {"runs": 10, "failures": {"auth": 1}, "median_duration_ms": 106,
                               "p95_duration_ms": 110, "unassigned": 18}


def test_collect_failing_with_the_alert_state(tmp_path):
    config = config_with(tmp_path)
    failed = run(NOW - 20, "auth")
    streak_file = {"consecutive_failures": 7, "first_failure_at": NOW - 400,
                   "last_alert_at": NOW - 400, "alerts_sent": 1}
    report = status.collect(
        config, [config.jobs["sla-check"]], NOW, show=fake_show(),
        history=lambda s, j, n: {"day": [failed], "last_run": failed, "last_success": None},
        load_streak=lambda service: (streak_file, True))
    job, = report["jobs"]
    assert report["healthy"] is False and job["state"] == "failing"
    assert job["failure_streak"] == {"failures": 7, "since": "2025-11-29T11:53:20Z",
                                     "alerted": True, "alerts_sent": 1}
    assert job["last_success"] is None
    # Without a readable state file the streak comes from the journal, alerts unknown.
    report = status.collect(
        config, [config.jobs["sla-check"]], NOW, show=fake_show(),
        history=lambda s, j, n: {"day": [failed], "last_run": failed, "last_success": None},
        load_streak=lambda service: (None, False))
    assert report["jobs"][0]["failure_streak"] == {
        "failures": 1, "since": "2025-11-29T11:59:40Z", "alerted": None, "alerts_sent": None}


def test_status_command_exit_statuses(tmp_path, monkeypatch):
    (tmp_path / "config.toml").write_text('[api]\nbase_url = "https://tickets.ops.test"\n')
    monkeypatch.setattr(status, "collect", lambda config, jobs, now: {
        "healthy": False, "generated_at": "x", "jobs": []})
    out, err = io.StringIO(), io.StringIO()
    assert status.status(str(tmp_path / "config.toml"), None, True, out, err, NOW) == 1
    assert json.loads(out.getvalue())["healthy"] is False
    assert status.status(str(tmp_path / "config.toml"), "nope", False, out, err, NOW) == 78
    assert "no job 'nope'" in err.getvalue()
    assert status.status(str(tmp_path / "missing.toml"), None, False, out, err, NOW) == 78


def test_text_output_names_the_problem(tmp_path):
    from ticketing_cron.status.status_text import render

    config = config_with(tmp_path)
    failed = run(NOW - 20, "auth")
    report = status.collect(
        config, [config.jobs["sla-check"]], NOW,
        show=fake_show({"ticketing-cron.timer": {"ActiveState": "inactive"}}),
        history=lambda s, j, n: {"day": [failed], "last_run": failed, "last_success": None},
        load_streak=lambda service: (None, True))
    text = render(report, NOW)
    assert text.startswith("sla-check: OVERDUE: ticketing-cron.timer is stopped")
    assert "last run     2025-11-29 11:59:40 UTC (20 s ago): auth, took 100 ms" in text
    assert "last success never" in text
    assert "1 failed run in a row" in text


def test_every_outcome_and_alert_kind_has_its_own_message_id():
    from ticketing_cron.base.errors import EXIT_STATUS

    ids = list(message_ids.OUTCOME.values()) + list(message_ids.ALERT.values()) + \
        [message_ids.PING_FAILED]
    assert set(message_ids.OUTCOME) == set(EXIT_STATUS)
    assert len(set(ids)) == len(ids)
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)


def test_the_catalog_explains_every_message_id():
    from pathlib import Path

    catalog = (Path(__file__).resolve().parents[2] / "systemd" / "ticketing-cron.catalog")
    entries = {}
    for block in catalog.read_text().split("\n-- ")[1:]:
        head, _, text = block.partition("\n")
        entries[head.strip()] = text
    ids = set(message_ids.OUTCOME.values()) | set(message_ids.ALERT.values()) | \
        {message_ids.PING_FAILED}
    assert set(entries) == ids
    for text in entries.values():
        assert "\nDefined-By: ticketing-cron\n" in "\n" + text
        assert text.split("\n\n", 1)[1].strip(), "every entry explains what to do"
    assert "sha256sum" in entries[message_ids.OUTCOME["auth"]]


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


# ------------------------------------------------------------- journal reading


class FakeReader:
    """Records in journal order, walked like python-systemd's reader (_next/_previous,
    _get, _get_realtime in microseconds); matches are recorded, not applied."""

    def __init__(self, records):
        self.records = records
        self.pos = -1
        self.matches = {}
        self.closed = False

    def add_match(self, **kwargs):
        self.matches.update(kwargs)

    def seek_realtime(self, seconds):
        self.pos = next((i for i, r in enumerate(self.records) if r["at"] >= seconds),
                        len(self.records)) - 1
        self.seek_at = self.pos + 1

    def _next(self):
        self.pos += 1
        return self.pos < len(self.records)

    def _previous(self):
        self.pos = (self.seek_at if self.pos == self.seek_at - 1 else self.pos) - 1
        return self.pos >= 0

    def _get(self, name):
        value = self.records[self.pos]["fields"][name]
        return value.encode()

    def _get_realtime(self):
        return int(self.records[self.pos]["at"] * 1e6)

    def close(self):
        self.closed = True


def record(at, **fields):
    return {"at": at, "fields": {"MESSAGE": f"sla-check {fields.get('OUTCOME')}: x", **fields}}


def test_journal_runs_read_only_summary_records_and_validate_fields(monkeypatch):
    from ticketing_cron.status import journal_runs

    records = [
        record(NOW - 90000, OUTCOME="ok", DURATION_MS="50"),            # before the day
        record(NOW - 3000, OUTCOME="auth", DURATION_MS="70", EXIT_STATUS="77"),
        record(NOW - 2000, MESSAGE_ONLY="debug line"),                  # no OUTCOME
        record(NOW - 1000, OUTCOME="fine-really", DURATION_MS="1"),     # not an outcome
        record(NOW - 60, OUTCOME="ok", DURATION_MS="1e9", UNASSIGNED_COUNT="-3"),
    ]
    readers = []

    def open_reader(unit, job, **extra):
        reader = FakeReader(records)
        reader.add_match(_SYSTEMD_UNIT=unit, JOB=job, **extra)
        readers.append(reader)
        return reader

    monkeypatch.setattr(journal_runs, "open_reader", open_reader)
    history = journal_runs.job_history("ticketing-cron.service", "sla-check", NOW)
    assert [r["outcome"] for r in history["day"]] == ["auth", "ok"]
    auth, ok = history["day"]
    assert auth["exit_status"] == 77 and auth["duration_ms"] == 70
    assert ok["duration_ms"] is None and ok["unassigned"] is None, "junk is not a number"
    assert history["last_run"] is ok and history["last_success"] is ok
    assert readers[0].matches == {"_SYSTEMD_UNIT": "ticketing-cron.service",
                                  "JOB": "sla-check"}
    assert all(r.closed for r in readers)
    # No run in the day: the last run and success are looked up before it.
    records[-1]["fields"]["OUTCOME"] = "timeout"
    records[1]["fields"]["OUTCOME"] = "timeout"
    history = journal_runs.job_history("ticketing-cron.service", "sla-check", NOW)
    assert history["last_run"]["outcome"] == "timeout"
    assert history["last_success"]["at"] == NOW - 90000


def test_an_unexpected_error_in_the_ping_is_one_warning_without_the_path():
    from ticketing_cron.base.log import Log

    stream = io.StringIO()
    log = Log(verbose=True, journal=False, stream=stream)

    def broken_send(*args, **kwargs):
        raise ValueError(f"cannot handle {PING}/0")

    reason = ping.ping_after_run("sla-check", PING, 0, REQUEST_ID, "sla-check ok: x",
                                 float("inf"), log, send=broken_send)
    assert reason == "unexpected ValueError"
    text = stream.getvalue()
    assert "3f1c2a9e" not in text
    warnings = [line for line in text.splitlines() if "warning:" in line]
    assert len(warnings) == 1 and "OUTCOME" not in warnings[0]
