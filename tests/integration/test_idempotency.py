"""Idempotency-Key and X-Cron-Scheduled-At on the wire, 409 as a duplicate, the stand-in's
dedupe. Time is faked with libfaketime (Debian's faketime), which starts the run's clock
at the given moment."""

import json
import re
import subprocess
import sys
import threading
import urllib.error
import urllib.request

import pytest

from fake_clock import faketime_env
from support import EXIT, REPO, ok_reply, send, sequence, status_reply


def run_at(cli, moment, *args):
    """`ticketing-cron -v run ARGS` with its clock starting at UTC ``moment``."""
    proc = subprocess.Popen(cli.argv("run", *args),
                            env=cli.env({"TZ": "UTC", **faketime_env(moment)}),
                            stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
    return cli.finish(proc)


def test_a_timer_run_sends_its_slot(cli, serve):
    server = serve(ok_reply(2))
    cli.configure(server.url)
    result = run_at(cli, "2026-11-29 17:48:00", "--scheduled", "sla-check")
    assert result.status == EXIT["ok"], result.stderr
    (request,) = server.received
    assert request.headers["idempotency-key"] == '"sla-check:2026-11-29T17:48:00Z"'
    assert request.headers["x-cron-scheduled-at"] == "2026-11-29T17:48:00Z"
    assert result.fields["IDEMPOTENCY_KEY"] == "sla-check:2026-11-29T17:48:00Z"
    assert result.fields["SCHEDULED_AT"] == "2026-11-29T17:48:00Z"


def test_a_timer_run_started_ahead_waits_and_sends_the_coming_slot(cli, serve):
    # The timers elapse a second ahead: the run gets ready, then sends at the slot.
    server = serve(ok_reply(1))
    cli.configure(server.url)
    result = run_at(cli, "2026-11-29 17:47:59", "--scheduled", "sla-check")
    assert result.status == EXIT["ok"], result.stderr
    (request,) = server.received
    assert request.headers["idempotency-key"] == '"sla-check:2026-11-29T17:48:00Z"'
    assert request.headers["x-cron-scheduled-at"] == "2026-11-29T17:48:00Z"
    waited = re.search(r"started (\d+) ms ahead of the slot; sent at it", result.stderr)
    assert waited and 0 < int(waited.group(1)) <= 1000, result.stderr


def test_a_run_by_hand_a_moment_before_the_minute_does_not_wait(cli, serve):
    server = serve(ok_reply(0))
    cli.configure(server.url)
    result = run_at(cli, "2026-11-29 17:47:59")
    (request,) = server.received
    assert ":manual:" in request.headers["idempotency-key"]
    assert "ahead of the slot" not in result.stderr


def test_a_late_timer_run_is_a_catch_up(cli, serve):
    server = serve(ok_reply(0))
    cli.configure(server.url)
    result = run_at(cli, "2026-11-29 17:48:40", "--scheduled")
    assert result.status == EXIT["ok"], result.stderr
    (request,) = server.received
    assert request.headers["idempotency-key"] == '"sla-check:catchup:2026-11-29T17:48:00Z"'
    assert request.headers["x-cron-scheduled-at"] == "2026-11-29T17:48:00Z"


def test_a_run_by_hand_gets_a_key_of_its_own(cli, serve):
    server = serve(ok_reply(0))
    cli.configure(server.url)
    result = run_at(cli, "2026-11-29 17:48:00")
    (request,) = server.received
    key = f"sla-check:manual:{result.fields['REQUEST_ID']}"
    assert request.headers["idempotency-key"] == f'"{key}"'
    # The run's own start, to the second: the fake clock starts at 17:48:00 and runs on
    # while Python starts, which on a loaded machine can take more than a second.
    assert request.headers["x-cron-scheduled-at"] in \
        [f"2026-11-29T17:48:{s:02d}Z" for s in range(10)]


def test_a_daily_job_in_a_time_zone(cli, serve):
    server = serve(ok_reply(0))
    cli.configure(server.url, rest='[jobs.digest]\npath = "/d"\nschedule = "0 7 * * 1-5"\n'
                  'timezone = "Europe/Berlin"\ndeadline = 6\n')
    result = run_at(cli, "2026-07-14 05:00:00", "--scheduled", "digest")
    assert result.status == EXIT["ok"], result.stderr
    (request,) = server.received
    assert request.headers["idempotency-key"] == '"digest:2026-07-14T05:00:00Z"'


def test_a_retry_resends_the_same_key(cli, serve):
    server = serve(sequence(status_reply(503, {"error": "busy"}, [("Retry-After", "0")]),
                            ok_reply(1)))
    cli.configure(server.url)
    result = run_at(cli, "2026-11-29 17:48:00", "--scheduled")
    assert result.status == EXIT["ok"], result.stderr
    first, second = server.received
    assert first.headers["idempotency-key"] == second.headers["idempotency-key"] == \
        '"sla-check:2026-11-29T17:48:00Z"'
    assert result.fields["ATTEMPTS"] == "2"


def test_409_to_a_keyed_request_is_ok_as_a_duplicate(cli, serve):
    server = serve(status_reply(409, {"error": "still being processed"}))
    cli.configure(server.url)
    result = cli.run("run", "--scheduled")
    assert result.status == EXIT["ok"], result.stderr
    assert "sla-check ok: another server has this run: the app answered HTTP 409" in \
        result.summary
    assert result.fields["OUTCOME"] == "ok" and result.fields["DUPLICATE"] == "1"
    assert result.fields["HTTP_STATUS"] == "409"
    assert len(server.received) == 1  # not retried


def test_a_plain_success_is_no_duplicate(cli, serve):
    cli.configure(serve(ok_reply(0)).url)
    assert "DUPLICATE" not in cli.run("run", "--scheduled").fields


def replayed_reply(value, count=4):
    def respond(handler, request):
        send(handler, 200, {"success": True, "unassignedCount": count},
             [("Idempotent-Replayed", value)])
    return respond


@pytest.mark.parametrize("value", ["true", "TRUE", " True "])
def test_a_replayed_reply_is_logged_as_a_replay_not_as_work(cli, serve, value):
    server = serve(replayed_reply(value))
    cli.configure(server.url)
    result = cli.run("run", "--scheduled")
    assert result.status == EXIT["ok"], result.stderr
    assert "sla-check ok: done before: the app replayed its earlier reply" in result.summary
    assert "4 requests unassigned then (HTTP 200" in result.summary
    assert result.fields["REPLAYED"] == "1"
    assert "UNASSIGNED_COUNT" not in result.fields
    assert result.fields["REPLAYED_UNASSIGNED_COUNT"] == "4"


@pytest.mark.parametrize("value", ["false", "yes", "1", "", "true\u00a0" * 300])
def test_other_replayed_header_values_are_work_done_here(cli, serve, value):
    server = serve(replayed_reply(value.encode("utf-8").decode("latin-1")))
    cli.configure(server.url)
    result = cli.run("run", "--scheduled")
    assert result.status == EXIT["ok"], result.stderr
    assert "sla-check ok: 4 requests unassigned" in result.summary
    assert result.fields["UNASSIGNED_COUNT"] == "4" and "REPLAYED" not in result.fields


# --- the stand-in app dedupes by key -----------------------------------------------


def api(url, data=None):
    request = urllib.request.Request(url, data=None if data is None else
                                     json.dumps(data).encode(), method="POST" if data else "GET")
    with urllib.request.urlopen(request, timeout=5) as r:
        return json.load(r)


def test_the_standin_replays_the_first_reply_to_a_repeated_key(cli, standin):
    cli.configure(standin)
    first = run_at(cli, "2026-11-29 17:48:00", "--scheduled")
    second = run_at(cli, "2026-11-29 17:48:00", "--scheduled")
    assert "3 requests unassigned" in first.summary
    assert first.fields["UNASSIGNED_COUNT"] == "3" and "REPLAYED" not in first.fields
    # The first reply, again: logged as a replay, its work not counted twice.
    assert "done before: the app replayed its earlier reply to this run's " \
        "Idempotency-Key: 3 requests unassigned then" in second.summary
    assert second.fields["REPLAYED"] == "1" and "UNASSIGNED_COUNT" not in second.fields
    assert second.fields["REPLAYED_UNASSIGNED_COUNT"] == "3"
    assert len(api(standin + "/_standin/history")) == 3  # the work was done once
    calls = api(standin + "/_standin/calls")
    assert [c["idempotency"] for c in calls] == ["new", "replayed"]
    api(standin + "/_standin/seed", {"expired": 2})
    later = run_at(cli, "2026-11-29 17:49:00", "--scheduled")
    assert "2 requests unassigned" in later.summary
    by_hand = run_at(cli, "2026-11-29 17:49:00")
    assert "0 requests unassigned" in by_hand.summary


def test_the_standin_answers_409_while_the_first_is_running(cli, standin):
    cli.configure(standin)
    api(standin + "/_standin/control", {"delay_ms": 1500})
    results = []

    def one():
        results.append(run_at(cli, "2026-11-29 17:48:00", "--scheduled"))

    threads = [threading.Thread(target=one) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(r.status for r in results) == [0, 0]
    assert sorted(r.fields.get("DUPLICATE", "0") for r in results) == ["0", "1"]
    assert len(api(standin + "/_standin/history")) == 3
    calls = api(standin + "/_standin/calls")
    assert sorted(c["idempotency"] for c in calls) == ["conflict", "new"]


def test_the_standin_refuses_a_malformed_key(cli, standin):
    request = urllib.request.Request(standin + "/api/cron/sla-check", data=b"{}",
                                     method="POST", headers={"x-cron-secret": cli.secret,
                                                             "Idempotency-Key": "bare"})
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(request, timeout=5)
    assert e.value.code == 400


def test_a_timer_run_of_the_every_minute_schedule_imports_no_schedule_code(cli, serve):
    server = serve(ok_reply(0))
    cli.configure(server.url)
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "ticketing_cron",
                           "--config", str(cli.config_path), "run", "--scheduled"],
                          env=cli.env(), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    imported = {line.split("|")[-1].strip() for line in proc.stderr.splitlines()
                if line.startswith("import time:")}
    assert "ticketing_cron.run.slot" in imported
    assert [m for m in imported if m.startswith(("ticketing_cron.schedules", "zoneinfo",
                                                 "argparse", "subprocess"))] == []
    assert server.received[0].headers["idempotency-key"].startswith('"sla-check:')


def test_check_warns_about_a_schedule_whose_slot_is_not_computed(cli):
    cli.configure("https://tickets.acme.test", rest='[jobs.month-end]\npath = "/m"\n'
                  'schedule = "*-*~01 23:00:00"\ndeadline = 6\n'
                  '[jobs.digest]\npath = "/d"\nschedule = "0 7 * * 1-5"\ndeadline = 6\n')
    result = cli.run("check", verbose=False,
                     env={"TICKETING_CRON_GENERATOR_DIR": "/nonexistent"})
    assert result.status == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if "Idempotency-Key" in line]
    assert len(warnings) == 1 and "jobs.month-end.schedule" in warnings[0], result.stderr


def test_the_standin_can_play_an_app_without_the_draft(cli, tmp_path):
    secret_file = tmp_path / "plain-secret"
    secret_file.write_text(cli.secret + "\n")
    proc = subprocess.Popen([sys.executable, str(REPO / "dev/standin_api.py"), "--listen",
                             "127.0.0.1:0", "--secret-file", str(secret_file),
                             "--seed-expired", "2", "--ignore-idempotency-key"],
                            stdout=subprocess.PIPE, text=True, stderr=subprocess.DEVNULL)
    try:
        url = proc.stdout.readline().split()[-1]
        cli.configure(url)
        first = run_at(cli, "2026-11-29 17:48:00", "--scheduled")
        api(url + "/_standin/seed", {"expired": 1})
        second = run_at(cli, "2026-11-29 17:48:00", "--scheduled")
        assert "2 requests unassigned" in first.summary
        assert "1 request unassigned" in second.summary  # the work done again
        assert [c.get("idempotency") for c in api(url + "/_standin/calls")] == [None, None]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
