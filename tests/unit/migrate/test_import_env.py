"""What import-env does with the .env's values: the careful base_url edit, the
validation of both values, the atomic staging of files, and the drop-in's text."""

import os
import stat
import tomllib

import pytest

from support import REPO
from ticketing_cron.base import atomic
from ticketing_cron.migrate.config_edit import set_base_url, toml_string
from ticketing_cron.config.credential import DROPIN_TEXT
from ticketing_cron.migrate.envfile import parse_envfile
from ticketing_cron.base.errors import CronError
from ticketing_cron.migrate.import_env import fingerprint, imported_values

URL = "https://tickets.acme.test/app"
NEW = f'"{URL}"'


@pytest.mark.parametrize("before,after", [
    ('[api]\nbase_url = "https://old.test"\n', f"[api]\nbase_url = {NEW}\n"),
    ('# head\n[api]\n  base_url   =  "https://old.test"   # the app  \n[alerts]\n',
     f"# head\n[api]\n  base_url   =  {NEW}   # the app  \n[alerts]\n"),
    ("[api]\r\nbase_url = 'https://old.test' # c\r\nx = 1\r\n",
     f"[api]\r\nbase_url = {NEW} # c\r\nx = 1\r\n"),
    ('[api]\n"base_url" = "https://o\\"ld.test#x"\n', f'[api]\n"base_url" = {NEW}\n'),
    ('[ "api" ]  # table\nbase_url="a"\n', f'[ "api" ]  # table\nbase_url={NEW}\n'),
    ('api.base_url = "https://old.test"\n[jobs.x]\npath = "/x"\n',
     f'api.base_url = {NEW}\n[jobs.x]\npath = "/x"\n'),
    ('[api]\nca_file = "/x.pem"\n\n[jobs.sla-check]\npath = "/p"\n',
     f'[api]\nbase_url = {NEW}\nca_file = "/x.pem"\n\n[jobs.sla-check]\npath = "/p"\n'),
    ('[api] # t\r\ndeadline = 5\r\n', f'[api] # t\r\nbase_url = {NEW}\r\ndeadline = 5\r\n'),
    ('# only a comment', f"# only a comment\n\n[api]\nbase_url = {NEW}\n"),
    ('', f"\n[api]\nbase_url = {NEW}\n"),
    ('[jobs.x]\nbase_url = "not this"\n[api]\nbase_url = "this"\n',
     f'[jobs.x]\nbase_url = "not this"\n[api]\nbase_url = {NEW}\n'),
    ('[api]\nnote = """\n[api]\nbase_url = "in a string"\n"""\nbase_url = "real"\n',
     f'[api]\nnote = """\n[api]\nbase_url = "in a string"\n"""\nbase_url = {NEW}\n'),
    ("[api]\nnote = '''x\nbase_url = 'lit'\n'''\n", f"[api]\nbase_url = {NEW}\nnote = '''x\n"
     "base_url = 'lit'\n'''\n"),
    ('[api.extra]\nbase_url = "sub"\n',
     f'[api.extra]\nbase_url = "sub"\n\n[api]\nbase_url = {NEW}\n'),
], ids=["plain", "spacing-comment", "crlf-literal", "quoted-key-escapes", "quoted-header",
        "dotted-root", "key-missing", "key-missing-crlf", "no-table-no-newline", "empty",
        "other-table-first", "multiline-basic", "multiline-literal", "subtable"])
def test_only_base_url_changes(before, after):
    assert set_base_url(before, URL, "c.toml") == after


def test_the_shipped_config_keeps_every_other_byte():
    text = (REPO / "config.toml.example").read_text()
    edited = set_base_url(text, URL, "c.toml")
    assert edited == text.replace('base_url = "https://tickets.example.com"', f"base_url = {NEW}")


@pytest.mark.parametrize("value", ['a"b', "a\\b", "a\tb\x7f", "üñí", "x'''y", '"""'])
def test_toml_string_round_trips(value):
    assert tomllib.loads(f"k = {toml_string(value)}")["k"] == value
    text = set_base_url("[api]\nbase_url = 'x'\n", value, "c.toml")
    assert tomllib.loads(text)["api"]["base_url"] == value


@pytest.mark.parametrize("text,expected", [
    ('[api]\nbase_url = """\nhttps://old\n"""\n', "base_url is a multi-line string"),
    ('api = { base_url = "x" }\n', "the edit would change more than base_url"),
    ('api = "x"\n', "api is not a table"),
    ('[api]\nbase_url = \n', "not valid TOML"),
])
def test_what_cannot_be_edited_safely_is_refused(text, expected):
    with pytest.raises(CronError, match=expected):
        set_base_url(text, URL, "c.toml")


def entries(text):
    return parse_envfile(text.encode(), ".env e")


def test_imported_values_are_validated_like_the_config_and_the_secret():
    url, secret = imported_values(entries("API_BASE_URL=https://t.acme.test/\nCRON_SECRET=s-1\n"),
                                  ".env e")
    assert (url, secret) == ("https://t.acme.test", "s-1")
    url, _ = imported_values(entries("API_BASE_URL=http://127.0.0.1:3000\nCRON_SECRET=s\n"),
                             ".env e")
    assert url == "http://127.0.0.1:3000"


@pytest.mark.parametrize("text,expected", [
    ("CRON_SECRET=s\n", ".env e: API_BASE_URL: missing"),
    ("API_BASE_URL=https://t.acme.test\n", ".env e: CRON_SECRET: missing"),
    ("API_BASE_URL=\nCRON_SECRET=s\n", "line 1: API_BASE_URL: empty"),
    ("API_BASE_URL=http://tickets.acme.test\nCRON_SECRET=s\n",
     "line 1: API_BASE_URL: http:// is only allowed to a loopback host (localhost, 127.0.0.1, "
     "::1), so that the secret never crosses a network in clear text; use the https:// "
     "address, such as https://tickets.acme.test"),
    ("API_BASE_URL=https://tickets.example.com\nCRON_SECRET=s\n", "is the example placeholder"),
    ("API_BASE_URL=https://t.acme.test\n\nCRON_SECRET='a b'\n",
     "line 3: CRON_SECRET: holds whitespace"),
    ("API_BASE_URL=https://t.acme.test\nCRON_SECRET=\n", "line 2: CRON_SECRET: is empty"),
    ('API_BASE_URL=https://t.acme.test\nCRON_SECRET="a\\tb"\n', "holds whitespace"),
    ('API_BASE_URL=https://t.acme.test\nCRON_SECRET="a\\"b"\n',
     "line 2: CRON_SECRET: holds backslash escapes in double quotes"),
    ("API_BASE_URL=https://t.acme.test\nCRON_SECRET=a#b\n",
     "line 2: CRON_SECRET: holds '#' unquoted"),
    ("API_BASE_URL=https://t.acme.test\nCRON_SECRET=" + "x" * 4097 + "\n", "longer than 4096"),
])
def test_bad_values_are_refused_with_their_line(text, expected):
    with pytest.raises(CronError) as caught:
        imported_values(entries(text), ".env e")
    assert expected in caught.value.message
    assert caught.value.message.endswith("; nothing was written")


def test_every_problem_is_reported_at_once():
    with pytest.raises(CronError) as caught:
        imported_values(entries("NODE_ENV=production\n"), ".env e")
    assert caught.value.message.startswith("2 problems: (1) .env e: API_BASE_URL: missing")
    assert len(caught.value.details) == 2


def test_fingerprint_is_length_and_sha256_prefix():
    # printf %s abc | sha256sum -> ba7816bf8f01cfea...
    assert fingerprint("abc") == "3 characters, sha256 ba7816bf8f01"


def test_the_dropin_is_the_shipped_example():
    assert DROPIN_TEXT == (REPO / "systemd" / "encrypted-secret.conf").read_text()


def test_a_staged_file_is_complete_and_private_before_it_has_its_name(tmp_path):
    target = tmp_path / "cron-secret"
    old_umask = os.umask(0)
    try:
        staged = atomic.stage(str(target), b"s3cret\n", 0o600, os.getuid(), os.getgid())
    finally:
        os.umask(old_umask)
    assert not target.exists()
    temp = os.stat(staged.temp)
    assert stat.S_IMODE(temp.st_mode) == 0o600 and temp.st_size == 7
    staged.commit()
    assert target.read_bytes() == b"s3cret\n" and stat.S_IMODE(target.stat().st_mode) == 0o600
    assert os.listdir(tmp_path) == ["cron-secret"]


def test_a_discarded_stage_leaves_nothing_and_keeps_the_old_file(tmp_path):
    target = tmp_path / "config.toml"
    target.write_bytes(b"old")
    staged = atomic.stage(str(target), b"new", 0o640, os.getuid(), os.getgid())
    assert stat.S_IMODE(os.stat(staged.temp).st_mode) == 0o640
    staged.discard()
    assert target.read_bytes() == b"old" and os.listdir(tmp_path) == ["config.toml"]


def test_stage_never_follows_a_planted_symlink(tmp_path, monkeypatch):
    victim = tmp_path / "victim"
    monkeypatch.setattr(atomic.secrets, "token_hex", lambda n: "fixed")
    (tmp_path / ".cron-secret.fixed.tmp").symlink_to(victim)
    with pytest.raises(FileExistsError):
        atomic.stage(str(tmp_path / "cron-secret"), b"s", 0o600, os.getuid(), os.getgid())
    assert not victim.exists()


def test_the_secret_is_never_readable_by_others_not_even_empty(tmp_path, monkeypatch):
    """Every moment the temporary file exists, from its creation on, it is 0600."""
    seen = []
    real_fchown, real_write = os.fchown, os.write

    def fchown(fd, uid, gid):
        seen.append(("created", stat.S_IMODE(os.fstat(fd).st_mode)))
        return real_fchown(fd, uid, gid)

    def write(fd, data):
        seen.append(("write", stat.S_IMODE(os.fstat(fd).st_mode)))
        return real_write(fd, data)
    monkeypatch.setattr(os, "fchown", fchown)
    monkeypatch.setattr(os, "write", write)
    old_umask = os.umask(0)
    try:
        staged = atomic.stage(str(tmp_path / "cron-secret"), b"s3cret\n", 0o600,
                              os.getuid(), os.getgid())
    finally:
        os.umask(old_umask)
        monkeypatch.undo()
    staged.commit()
    assert seen[0] == ("created", 0o600) and ("write", 0o600) in seen
    assert all(mode == 0o600 for _, mode in seen), seen
