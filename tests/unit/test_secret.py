"""Secret validation and where the secret is read from."""

import pytest

from ticketing_cron.errors import CronError
from ticketing_cron.secret import read_secret, secret_path, secret_problem


def test_path_prefers_the_credentials_directory():
    assert secret_path({"CREDENTIALS_DIRECTORY": "/run/credentials/x"}) == \
        "/run/credentials/x/cron-secret"
    assert secret_path({}) == "/etc/ticketing-cron/cron-secret"
    assert secret_path({"CREDENTIALS_DIRECTORY": ""}) == "/etc/ticketing-cron/cron-secret"


@pytest.mark.parametrize("raw", [b"abc", b"A-z_0.9~!$%", b"x" * 4096])
def test_good_secrets(raw):
    assert secret_problem(raw) is None


@pytest.mark.parametrize("raw", [b"", b"a b", b"a\nb", b"\x7f", b"\x01", "é".encode(), b"x" * 4097])
def test_bad_secrets(raw):
    assert secret_problem(raw)


def test_message_never_contains_the_secret(tmp_path):
    (tmp_path / "cron-secret").write_bytes(b"hunter2 with space")
    with pytest.raises(CronError) as e:
        read_secret({"CREDENTIALS_DIRECTORY": str(tmp_path)})
    assert "hunter2" not in str(e.value) and e.value.outcome == "config"


def test_one_trailing_newline_is_stripped(tmp_path):
    (tmp_path / "cron-secret").write_bytes(b"s3cret\n")
    assert read_secret({"CREDENTIALS_DIRECTORY": str(tmp_path)}) == "s3cret"
