"""The failure handler's reading of $MONITOR_*."""

from ticketing_cron.alerts.notify import (describe_failure, failure_event,
                                          failure_from_environ, job_of_unit)


def test_failure_from_environ():
    env = {"MONITOR_SERVICE_RESULT": "exit-code", "MONITOR_EXIT_CODE": "exited",
           "MONITOR_EXIT_STATUS": "77", "MONITOR_INVOCATION_ID": "abc"}
    f = failure_from_environ("ticketing-cron.service", env)
    assert f["outcome"] == "auth" and f["invocation_id"] == "abc"
    text = describe_failure(f)
    assert text.startswith("ticketing-cron.service failed: auth (result exit-code, exited 77)")
    assert "journalctl -u ticketing-cron.service -n 20" in text


def test_failure_kinds_from_systemd():
    assert failure_from_environ("u", {"MONITOR_SERVICE_RESULT": "timeout",
                                      "MONITOR_EXIT_CODE": "killed"})["outcome"] == "timeout"
    assert failure_from_environ("u", {"MONITOR_SERVICE_RESULT": "signal",
                                      "MONITOR_EXIT_CODE": "killed",
                                      "MONITOR_EXIT_STATUS": "KILL"})["outcome"] == "killed"
    assert failure_from_environ("u", {})["outcome"] == "unknown"
    assert failure_from_environ("u", {"MONITOR_EXIT_CODE": "exited",
                                      "MONITOR_EXIT_STATUS": "1"})["outcome"] == "unknown"


def test_without_its_record_a_run_is_known_by_its_unit():
    """journald lost the run's record (stopped, or its disk full): the alert still names
    the job, from the unit's name."""
    assert job_of_unit("ticketing-cron.service") == "sla-check"
    assert job_of_unit("ticketing-cron@nightly-report.service") == "nightly-report"
    for unit in ("ticketing-cron@.service", "ticketing-cron@a/b.service", "other.service",
                 "ticketing-cron@x.timer", "ticketing-cron@" + "x" * 300 + ".service"):
        assert job_of_unit(unit) is None, unit
    failure = failure_from_environ("ticketing-cron@second.service",
                                   {"MONITOR_EXIT_CODE": "exited", "MONITOR_EXIT_STATUS": "69"})
    event = failure_event(failure, None)
    assert event["job"] == "second" and event["outcome"] == "unavailable"
