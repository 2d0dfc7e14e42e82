"""`ticketing-cron run` with TICKETING_CRON_LOG_FORMAT=json, as in the OCI image."""

import json

from support import EXIT, ok_reply, status_reply


def records(stderr):
    return [json.loads(line) for line in stderr.splitlines()]


def test_a_successful_run_writes_one_json_summary(cli, serve):
    cli.configure(serve(ok_reply(3)).url)
    result = cli.run("run", "--scheduled", verbose=False,
                     env={"TICKETING_CRON_LOG_FORMAT": "json"})
    assert result.status == EXIT["ok"]
    (summary,) = records(result.stderr)
    assert summary["OUTCOME"] == "ok" and summary["JOB"] == "sla-check"
    assert summary["UNASSIGNED_COUNT"] == "3" and summary["EXIT_STATUS"] == "0"
    assert summary["MESSAGE"].startswith("sla-check ok: 3 requests unassigned")
    assert summary["IDEMPOTENCY_KEY"].startswith("sla-check:")
    assert summary["PRIORITY"] == "6"


def test_a_failed_run_writes_an_err_record_and_debug_lines_with_v(cli, serve):
    cli.configure(serve(status_reply(401, {"error": "Unauthorized"})).url)
    result = cli.run("run", env={"TICKETING_CRON_LOG_FORMAT": "json"})
    assert result.status == EXIT["auth"]
    parsed = records(result.stderr)
    assert all(r["SYSLOG_IDENTIFIER"] == "ticketing-cron" for r in parsed)
    summary = [r for r in parsed if "OUTCOME" in r]
    assert len(summary) == 1 and summary[0]["OUTCOME"] == "auth"
    assert summary[0]["PRIORITY"] == "3" and summary[0]["HTTP_STATUS"] == "401"
    assert any(r["PRIORITY"] == "7" for r in parsed)
