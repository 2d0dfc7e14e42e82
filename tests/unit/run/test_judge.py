"""What replies mean."""

import pytest

from ticketing_cron.http.client import Reply
from ticketing_cron.base.errors import CronError
from ticketing_cron.run.judge import clean, judge, whole_number

URL = "https://a.test/api/cron/sla-check"


def reply(status=200, body=b'{"success": true}', **kw):
    return Reply(status=status, body=body, attempts=kw.pop("attempts", 1), **kw)


def outcome(r):
    with pytest.raises(CronError) as e:
        judge(r, URL)
    return e.value.outcome, e.value.message


def test_success_with_figures():
    s = judge(reply(body=b'{"success": true, "unassignedCount": 3, "durationMs": 45.6}'), URL)
    assert (s.http_status, s.unassigned_count, s.server_duration_ms) == (200, 3, 46)


def test_success_with_odd_figures_ignores_them():
    s = judge(reply(body=b'{"success": true, "unassignedCount": true, "durationMs": "45"}'), URL)
    assert s.unassigned_count is None and s.server_duration_ms is None


@pytest.mark.parametrize("status,expected", [
    (301, "config"), (302, "config"), (307, "config"), (308, "config"),
    (401, "auth"), (403, "auth"), (400, "protocol"), (404, "protocol"), (409, "protocol"),
    (422, "protocol"), (429, "unavailable"), (500, "unavailable"), (502, "unavailable"),
    (503, "unavailable"), (504, "unavailable"), (101, "protocol")])
def test_status_outcomes(status, expected):
    assert outcome(reply(status, b"{}"))[0] == expected


def test_redirect_names_location():
    _, message = outcome(reply(302, b"", location="https://b.test/x"))
    assert "to https://b.test/x" in message and "set api.base_url" in message
    _, message = outcome(reply(302, b""))
    assert "nowhere (no Location header)" in message


@pytest.mark.parametrize("body,expected", [
    (b"<html>", "not JSON"), (b"\xff\xfe", "not JSON"), (b"[]", "not an object (it is an array"),
    (b"null", "it is null"), (b'"ok"', "it is a string"),
    (b'{"success": false}', "the app reported failure: no error given"),
    (b'{"success": false, "error": {"code": 5}}', 'the app reported failure: {"code": 5}'),
    (b'{"success": 1}', '"success" is a number 1, not true'),
    (b'{"success": null}', '"success" is null null, not true'),
])
def test_bodies_that_are_not_success(body, expected):
    kind, message = outcome(reply(200, body))
    assert kind == "protocol" and expected in message


def test_clean_makes_one_short_printable_line():
    assert clean("a\nb\tc\x1b[0m") == "a b c [0m"
    assert len(clean("x" * 1000)) == 200
    assert clean(None) == ""


@pytest.mark.parametrize("value,expected", [
    (3, 3), (3.4, 3), (0, 0), (-1, None), (True, None), ("3", None), (float("nan"), None),
    (1e300, None)])
def test_whole_number(value, expected):
    assert whole_number(value) == expected


@pytest.mark.parametrize("status,expected", [(200, "protocol"), (201, "protocol"),
                                             (400, "protocol"), (500, "unavailable")])
def test_json_nested_too_deep_is_a_reply_problem_not_a_crash(status, expected):
    body = b"[" * 200_000 + b"]" * 200_000
    kind, message = outcome(reply(status, body))
    assert kind == expected
    if status < 300:
        assert message.startswith(f"the reply is not JSON (nested too deep; HTTP {status}")


@pytest.mark.parametrize("depth", [900, 950, 980, 990, 995, 999])
def test_values_parsed_near_the_depth_limit_do_not_crash_messages(depth):
    nested = "[" * depth + "]" * depth
    for body in (f'{{"success": false, "error": {nested}}}', f'{{"success": {nested}}}'):
        try:
            kind, _ = outcome(reply(200, body.encode()))
        except RecursionError:
            raise AssertionError(f"RecursionError at depth {depth}") from None
        assert kind == "protocol"
