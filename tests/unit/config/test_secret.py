"""Secret validation, where the secret is read from, and what the file may be."""

import os
import stat

import pytest

from ticketing_cron.base.errors import CronError
from ticketing_cron.config.secret import file_problem, read_secret, secret_path, secret_problem


def write(directory, data, mode=0o600):
    path = directory / "cron-secret"
    path.write_bytes(data)
    path.chmod(mode)
    return path


def stat_of(mode, uid=0, gid=0):
    """An os.stat_result for a file with this st_mode and owner."""
    return os.stat_result((mode, 0, 0, 1, uid, gid, 10, 0, 0, 0))


def test_path_prefers_the_credentials_directory():
    assert secret_path({"CREDENTIALS_DIRECTORY": "/run/credentials/x"}) == \
        "/run/credentials/x/cron-secret"
    assert secret_path({}) == "/etc/ticketing-cron/cron-secret"
    assert secret_path({"CREDENTIALS_DIRECTORY": ""}) == "/etc/ticketing-cron/cron-secret"
    # The secret follows the config: `--config` means the same to every command.
    assert secret_path({}, "/srv/tc/config.toml") == "/srv/tc/cron-secret"
    assert secret_path({}, "config.toml") == "./cron-secret"
    assert secret_path({"CREDENTIALS_DIRECTORY": "/run/credentials/x"},
                       "/srv/tc/config.toml") == "/run/credentials/x/cron-secret"


@pytest.mark.parametrize("raw", [b"abc", b"A-z_0.9~!$%", b"x" * 4096, b"$1abc", b"${A",
                                 b"abc$", b"${}", b"$a-b", b"your-secret-2"])
def test_good_secrets(raw):
    assert secret_problem(raw) is None


@pytest.mark.parametrize("raw", [b"", b"a b", b"a\nb", b"\x7f", b"\x01", "é".encode(), b"x" * 4097,
                                 b"Your-Secret", b"$SECRET", b"${CRON_SECRET}", b"$_x1"])
def test_bad_secrets(raw):
    assert secret_problem(raw)


def test_message_never_contains_the_secret(tmp_path):
    write(tmp_path, b"hunter2 with space")
    with pytest.raises(CronError) as e:
        read_secret({"CREDENTIALS_DIRECTORY": str(tmp_path)})
    assert "hunter2" not in str(e.value) and e.value.outcome == "config"


def test_one_trailing_newline_is_stripped(tmp_path):
    write(tmp_path, b"s3cret\n")
    assert read_secret({"CREDENTIALS_DIRECTORY": str(tmp_path)}) == "s3cret"


def test_a_credential_as_systemd_hands_it_over_is_fine(tmp_path):
    # systemd 252: mode 0400, owned by the service's (dynamic) user, the running user.
    write(tmp_path, b"tc-0123456789abcdef\n", 0o400)
    warnings = []
    assert read_secret({"CREDENTIALS_DIRECTORY": str(tmp_path)}, warnings) == \
        "tc-0123456789abcdef"
    assert warnings == []
    assert file_problem(stat_of(stat.S_IFREG | 0o400, uid=61234), "p", 61234) is None


@pytest.mark.parametrize("mode,expected", [
    (0o644, "is readable by every user (mode 0644); chmod 0600 p"),
    (0o602, "is writable by every user (mode 0602); chmod 0600 p"),
    (0o606, "is readable and writable by every user (mode 0606); chmod 0600 p"),
])
def test_a_file_other_users_may_read_or_write_is_refused(mode, expected):
    assert expected in file_problem(stat_of(stat.S_IFREG | mode), "p", 0)


def test_a_file_owned_by_someone_else_is_refused():
    problem = file_problem(stat_of(stat.S_IFREG | 0o600, uid=4242), "p", 0)
    assert "is owned by uid 4242" in problem and problem.endswith("chown root:root p")
    assert file_problem(stat_of(stat.S_IFREG | 0o600, uid=4242), "p", 4242) is None


@pytest.mark.parametrize("kind,expected", [
    (stat.S_IFIFO, "is a FIFO, not a regular file"),
    (stat.S_IFCHR, "is a device or other special file, not a regular file"),
    (stat.S_IFDIR, "is a directory"),
])
def test_anything_but_a_regular_file_is_refused(kind, expected):
    assert file_problem(stat_of(kind | 0o600), "p", 0).startswith(expected)


def test_group_access_is_only_a_warning():
    warnings = []
    assert file_problem(stat_of(stat.S_IFREG | 0o640), "p", 0, warnings) is None
    assert len(warnings) == 1 and "readable by group" in warnings[0]
    assert "chmod 0600 p" in warnings[0]


def test_a_symlink_is_not_followed(tmp_path):
    target = write(tmp_path, b"tc-0123456789abcdef\n")
    link_dir = tmp_path / "creds"
    link_dir.mkdir()
    (link_dir / "cron-secret").symlink_to(target)
    with pytest.raises(CronError) as e:
        read_secret({"CREDENTIALS_DIRECTORY": str(link_dir)})
    assert "is a symbolic link" in e.value.message
    assert "replace the symlink by the file" in e.value.message


def test_a_fifo_does_not_hang(tmp_path):
    os.mkfifo(tmp_path / "cron-secret", 0o600)
    with pytest.raises(CronError) as e:
        read_secret({"CREDENTIALS_DIRECTORY": str(tmp_path)})
    assert "is a FIFO, not a regular file" in e.value.message


def test_a_short_secret_is_warned_about(tmp_path):
    write(tmp_path, b"hunter2\n")
    warnings = []
    assert read_secret({"CREDENTIALS_DIRECTORY": str(tmp_path)}, warnings) == "hunter2"
    assert len(warnings) == 1 and "only 7 characters" in warnings[0]
    assert "hunter2" not in warnings[0]
    write(tmp_path, b"x" * 16)
    warnings = []
    read_secret({"CREDENTIALS_DIRECTORY": str(tmp_path)}, warnings)
    assert warnings == []
