"""`ticketing-cron test-alert`: the command's side (start the handler, read its report)
and the report's checks, with systemctl replaced."""

import io
import json
import subprocess

import pytest

from ticketing_cron.alerts import trial
from ticketing_cron.base.errors import UnavailableError
from ticketing_cron.base.log import Log

UNIT = "ticketing-cron.service"
HANDLER = "ticketing-cron-test-alert@ticketing-cron.service.service"


def entry(channel, state="ok", detail="fine"):
    return {"channel": channel, "state": state, "detail": detail}


def good_report(**changes):
    report = {"at": 1_764_417_600.0, "invocation_id": "abc", "settings_problem": None,
              "channels": [entry("journal"), entry("email"), entry("webhook", "off")]}
    report.update(changes)
    return report


class Systemctl:
    """A stand-in for subprocess.run: records calls; `start` writes ``report``."""

    def __init__(self, directory, report, start_status=0, stderr=""):
        self.directory, self.report = directory, report
        self.start_status, self.stderr = start_status, stderr
        self.calls = []

    def __call__(self, argv, **kwargs):
        self.calls.append(argv[2:])
        if argv[2] == "start" and self.report is not None:
            path = self.directory / trial.REPORTS / f"{UNIT}.json"
            path.parent.mkdir(exist_ok=True)
            path.write_text(self.report if isinstance(self.report, str)
                            else json.dumps(self.report))
        status = self.start_status if argv[2] == "start" else 0
        return subprocess.CompletedProcess(argv, status, "", self.stderr)


def run_command(tmp_path, systemctl):
    out = io.StringIO()
    log = Log(journal=False, stream=io.StringIO())
    status = trial.test_alert(UNIT, out, log, run=systemctl, directory=str(tmp_path))
    return status, out.getvalue()


def test_every_channel_took_it(tmp_path):
    systemctl = Systemctl(tmp_path, good_report())
    status, out = run_command(tmp_path, systemctl)
    assert status == 0
    assert systemctl.calls == [["start", HANDLER], ["reset-failed", HANDLER]]
    assert out.splitlines()[1:] == ["  journal  ok      fine", "  email    ok      fine",
                                    "  webhook  off     fine"]


def test_a_failed_channel_exits_69_and_is_shown_in_capitals(tmp_path):
    report = good_report(channels=[entry("journal"), entry("email"),
                                   entry("webhook", "failed", "webhook: HTTP 500 from h")])
    status, out = run_command(tmp_path, Systemctl(tmp_path, report, start_status=1))
    assert status == 69 and "webhook  FAILED  webhook: HTTP 500 from h" in out


def test_invalid_settings_exit_78(tmp_path):
    status, _ = run_command(tmp_path, Systemctl(tmp_path, good_report(
        settings_problem="alerts.email_to: bad")))
    assert status == 78


def test_an_old_report_never_passes_for_a_new_test(tmp_path):
    old = tmp_path / trial.REPORTS / f"{UNIT}.json"
    old.parent.mkdir()
    old.write_text(json.dumps(good_report()))
    systemctl = Systemctl(tmp_path, None, start_status=5,
                          stderr="Failed to start: Unit not found.")
    with pytest.raises(UnavailableError, match="exited 5 .Failed to start: Unit not found.*"
                       "left no report.*journalctl -u " + HANDLER):
        run_command(tmp_path, systemctl)


@pytest.mark.parametrize("content", [
    "", "not json", "[]", "{}", json.dumps(good_report(channels=[])),
    json.dumps(good_report(channels=[entry("journal"), entry("email")])),
    json.dumps(good_report(channels=[entry("journal"), entry("webhook"), entry("email")])),
    json.dumps(good_report(channels=[entry("journal"), entry("email", "maybe"),
                                     entry("webhook")])),
    json.dumps(good_report(channels=[entry("journal"), entry("email", detail=7),
                                     entry("webhook")])),
    json.dumps(good_report(settings_problem=["x"])),
    json.dumps(good_report(at="soon")),
    "{" + " " * trial.MAX_REPORT_BYTES + "}",
    b"\xff\xfe".decode("latin-1"),
])
def test_a_malformed_report_is_refused_without_a_traceback(tmp_path, content):
    with pytest.raises(UnavailableError, match="unusable"):
        run_command(tmp_path, Systemctl(tmp_path, content))


def test_terminal_control_in_a_detail_is_not_printed(tmp_path):
    report = good_report(channels=[entry("journal"), entry("email", "failed", "x\x1b[2Jy"),
                                   entry("webhook", "off")])
    _, out = run_command(tmp_path, Systemctl(tmp_path, report))
    assert "\x1b" not in out


def test_the_notice_is_marked_as_a_test():
    subject, text, fields = trial.compose_test("ticketing-cron@digest.service", "srv1", 0)
    assert subject == "[ticketing-cron] TEST: alerts for digest on srv1 reach you"
    assert "test notice" in text and "Nothing failed" in text
    assert fields["ALERT"] == "test" and fields["JOB"] == "digest"


def test_a_channel_the_deadline_cut_off_is_failed_not_off():
    from ticketing_cron.config.validate import AlertsConfig

    settings = AlertsConfig()._replace(email_to=("ops@acme.test",), webhook_url=None)
    tried = trial.problem_of([("journal", None)], "email", True, "the deadline passed")
    assert trial.channel_entry("email", tried, settings) == {
        "channel": "email", "state": "failed",
        "detail": "email: not reached: the deadline passed"}
    untried = trial.problem_of([("journal", None)], "webhook", False, "the deadline passed")
    assert trial.channel_entry("webhook", untried, settings)["state"] == "off"
