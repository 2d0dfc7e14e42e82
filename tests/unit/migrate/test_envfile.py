"""The .env reader (ticketing_cron.migrate.envfile): dotenv syntax, strictly."""

import pytest

from ticketing_cron.migrate.envfile import MAX_BYTES, parse_envfile, read_envfile
from ticketing_cron.base.errors import CronError


def values(data):
    return {name: entry.value for name, entry in parse_envfile(data, ".env x").items()}


def error(data):
    with pytest.raises(CronError) as caught:
        parse_envfile(data, ".env x")
    assert caught.value.outcome == "config"
    return caught.value.message


@pytest.mark.parametrize("data,expected", [
    (b"A=1\nB=two\n", {"A": "1", "B": "two"}),
    (b"# comment\n\n   \n\tA=1\n# A=2\n", {"A": "1"}),
    (b"export A=1\nexport\tB=2\n", {"A": "1", "B": "2"}),
    (b"export=1\n", {"export": "1"}),
    (b"exportA=1\n", {"exportA": "1"}),
    (b"A = spaced \n", {"A": "spaced"}),
    (b"A='single # not a comment \\n'\n", {"A": "single # not a comment \\n"}),
    (b'A="x\\ny\\t\\"q\\" \\\\ \\z"\n', {"A": 'x\ny\t"q" \\ \\z'}),
    (b"A=`back'tick\"`\n", {"A": "back'tick\""}),
    (b"A=value # inline comment\n", {"A": "value"}),
    (b"A=value\t# inline comment\n", {"A": "value"}),
    (b"A=glued#hash\n", {"A": "glued#hash"}),
    (b'A="quoted" # comment\n', {"A": "quoted"}),
    (b"A=\nB=''\nC=\"\"\n", {"A": "", "B": "", "C": ""}),
    (b"A=1\r\nB='2'\r\nC=\"3\"\r\n", {"A": "1", "B": "2", "C": "3"}),
    (b"A=1\rB=2\r", {"A": "1", "B": "2"}),
    (b"\xef\xbb\xbfA=1\n", {"A": "1"}),
    (b"A=1\nA=2\n", {"A": "2"}),
    (b'KEY="line one\nline two"\nB=3\n', {"KEY": "line one\nline two", "B": "3"}),
    (b"A=1", {"A": "1"}),
    (b"A.b-c_d=1\n", {"A.b-c_d": "1"}),
    (b"A=${HOME}\n", {"A": "${HOME}"}),
    ("A=ümlaut\n".encode(), {"A": "ümlaut"}),
], ids=["plain", "comments-blank", "export", "export-as-name", "export-prefix-of-name",
        "spaces", "single-literal", "double-escapes", "backticks", "inline-comment",
        "inline-comment-tab", "glued-hash", "quoted-comment", "empty", "crlf", "cr", "bom",
        "duplicate-last-wins", "multiline", "no-final-newline", "dotted-name",
        "no-expansion", "utf8"])
def test_syntax(data, expected):
    assert values(data) == expected


def test_entries_know_their_line_quote_and_escapes():
    entries = parse_envfile(b'# c\r\nA=1\r\nB="x\ny"\r\nC=\'z\'\r\nD="\\"e"\r\n', ".env x")
    assert [(e.line, e.quote, e.escaped) for e in entries.values()] == [
        (2, "", False), (3, '"', False), (5, "'", False), (6, '"', True)]


def test_a_duplicate_reports_the_line_of_the_last():
    assert parse_envfile(b"A=1\nB=2\nA=3\n", ".env x")["A"].line == 3


@pytest.mark.parametrize("data,line,expected", [
    (b"A=1\nthis is not an assignment\n", 2, "this: expected '=' after the name"),
    (b"A=1\n=value\n", 2, "expected NAME=value"),
    (b"A=1\n\n9X=1\n", 3, "expected NAME=value"),
    (b"A=\"unterminated\nB=2\n", 1, 'A: the opening " is never closed'),
    (b"A='unterminated\n", 1, "A: the opening ' is never closed"),
    (b"A=`unterminated\n", 1, "A: the opening ` is never closed"),
    (b"A='x' trailing\n", 1, "A: unexpected text after the closing quote"),
    (b'A="x\ny" trailing\n', 2, "A: unexpected text after the closing quote"),
    (b"\xef\xbb\xbfA=1\r\nB\r\n", 2, "B: expected '=' after the name"),
    (b"A=1\nB=\xff\n", 2, "not UTF-8 text"),
], ids=["words", "no-name", "digit-name", "double-open", "single-open", "backtick-open",
        "after-quote", "after-multiline", "crlf-bom-name-only", "not-utf8"])
def test_malformed_lines_are_named(data, line, expected):
    message = error(data)
    assert message.startswith(f".env x: line {line}: "), message
    assert expected in message, message


def test_messages_never_quote_a_value():
    message = error(b"CRON_SECRET='hunter2-secret-value\n")
    assert "hunter2" not in message


def test_read_refuses_oversized_and_non_regular_files(tmp_path):
    big = tmp_path / "big.env"
    big.write_bytes(b"A=1\n" + b"#" * MAX_BYTES)
    with pytest.raises(CronError, match="larger than 64 KiB"):
        read_envfile(str(big))
    with pytest.raises(CronError, match="not a regular file"):
        read_envfile(str(tmp_path))
    with pytest.raises(CronError, match="no such file"):
        read_envfile(str(tmp_path / "missing.env"))


def test_pathological_input_is_bounded():
    """The largest accepted file of quotes and backslashes parses (one linear pass)."""
    data = b'A="' + b'\\"' * (MAX_BYTES // 2 - 4) + b'"\n'
    assert len(values(data)["A"]) == MAX_BYTES // 2 - 4
    with pytest.raises(CronError):
        parse_envfile(b"A=" + b"'" * (MAX_BYTES - 3), ".env x")
