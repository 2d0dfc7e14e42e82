"""The streak file under faults: a full disk mid-write, a crash's leftover temporary
file, the fsyncs that make the rename outlive a power cut."""

import errno
import json
import os
import stat

import pytest

from ticketing_cron.alerts import state as state_module
from ticketing_cron.alerts.state import clear_state, load_state, save_state

STREAK = {"first_failure_at": 1.0, "consecutive_failures": 1, "alerts_sent": 1,
          "last_alert_at": 1.0, "alerted_outcome": "auth", "last_outcome": "auth"}


def test_a_full_disk_mid_write_leaves_the_old_state_whole_and_no_temporary_file(
        tmp_path, monkeypatch):
    path = str(tmp_path / "u.json")
    save_state(path, STREAK)
    real_write = os.write

    def half_then_full(fd, data):
        if len(data) > 8:
            real_write(fd, bytes(data[:8]))
            return 8
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    monkeypatch.setattr(state_module.os, "write", half_then_full)
    with pytest.raises(OSError) as raised:
        save_state(path, dict(STREAK, consecutive_failures=2))
    assert raised.value.errno == errno.ENOSPC
    assert sorted(os.listdir(tmp_path)) == ["u.json"], "a half-written file was left"
    assert load_state(path) == (STREAK, None)


def test_a_temporary_file_left_by_a_crash_is_ignored_overwritten_and_cleared(tmp_path):
    path = str(tmp_path / "u.json")
    leftover = tmp_path / "u.json.tmp"
    leftover.write_bytes(b'{"first_failure_at": 1.0, "consecu')  # cut off by the crash
    assert load_state(path) == (None, None)
    save_state(path, STREAK)
    assert load_state(path) == (STREAK, None)
    assert not leftover.exists()
    leftover.write_bytes(b"\0" * 100)
    assert load_state(path) == (STREAK, None)
    clear_state(path)
    assert os.listdir(tmp_path) == []


def test_the_file_and_then_its_directory_are_synced(tmp_path, monkeypatch):
    path = str(tmp_path / "u.json")
    synced = []
    real_fsync = os.fsync

    def record(fd):
        st = os.fstat(fd)
        synced.append(("dir" if stat.S_ISDIR(st.st_mode) else "file",
                       os.path.exists(path)))
        real_fsync(fd)
    monkeypatch.setattr(state_module.os, "fsync", record)
    save_state(path, STREAK)
    # The file before the rename (the new state is complete before it has the name),
    # the directory after it (the name itself is on disk).
    assert synced == [("file", False), ("dir", True)]
    assert json.loads(open(path).read()) == STREAK
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_the_temporary_file_is_never_followed_through_a_link(tmp_path):
    path = str(tmp_path / "u.json")
    target = tmp_path / "elsewhere"
    target.write_text("keep\n")
    os.symlink(target, f"{path}.tmp")
    with pytest.raises(OSError):
        save_state(path, STREAK)
    assert target.read_text() == "keep\n"
