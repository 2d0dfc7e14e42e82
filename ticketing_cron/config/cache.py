"""config.toml's parsed content, kept for the timers' runs while the file is unchanged.

Every run parses the same config.toml; tomllib and the typing module it imports cost a
run more than its own code does. The units give the run a cache directory
(CacheDirectory=, $CACHE_DIRECTORY): there the run keeps the parsed TOML as JSON with
the identity of the file it came from (device, inode, size, modification and change
times, to the nanosecond). A later run uses it only while config.toml still has that
identity, so a changed file (edited in place, replaced, touched) is parsed again at the
next run. What is kept is the parsed TOML, not the validated config: every run still
validates it, and only a file that validated is kept.

The cache is trusted only when this process's user owns both the directory and the
file, neither is writable by group or others, the file is a regular file (not a
symbolic link, one name), and its content is well-formed and names this version, this
config path and this identity; anything else is ignored (and replaced by the next good
parse). A file changed less than SETTLE_S ago is not kept: a write within the same
clock tick as the parse would leave its times as they were.
"""

import json
import os
import stat
import time

from ticketing_cron import __version__

CACHE_FILE = "config.json"
FORMAT = 1
MAX_BYTES = 1 << 20
SETTLE_S = 2.0


def identity(path):
    """What changes whenever the file at ``path`` does (a list of ints).

    Raises:
        OSError when it cannot be looked at.
    """
    st = os.stat(path)
    return [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]


def open_own(name, flags, dir_fd=None):
    """Open ``name``; the fd if this user owns it and neither group nor others may
    write it, else None."""
    fd = os.open(name, flags | os.O_CLOEXEC, dir_fd=dir_fd)
    st = os.fstat(fd)
    if st.st_uid == os.geteuid() and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return fd
    os.close(fd)
    return None


def open_directory(cache_dir):
    """The cache directory's fd when it can be trusted, else None. For a DynamicUser=
    unit $CACHE_DIRECTORY is systemd's link /var/cache/NAME -> private/NAME (both
    root's to change): the directory it leads to is what must be this user's."""
    try:
        return open_own(cache_dir, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return None


def envelope(path, config_identity):
    """What a cache entry must say about where its content came from."""
    return {"format": FORMAT, "version": __version__, "path": os.path.abspath(path),
            "identity": config_identity}


def lookup(cache_dir, path, config_identity):
    """The parsed TOML kept for ``path`` at ``config_identity``, or None.

    Args:
        cache_dir: the run's cache directory.
        path: the config file.
        config_identity: identity(path), taken before reading anything.
    Returns:
        dict, or None when there is no entry that can be trusted and is current.
    """
    dir_fd = open_directory(cache_dir)
    if dir_fd is None:
        return None
    try:
        fd = open_own(CACHE_FILE, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW, dir_fd=dir_fd)
        if fd is None:
            return None
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode) or st.st_nlink != 1 or st.st_size > MAX_BYTES:
                return None
            raw = os.read(fd, MAX_BYTES + 1)
        finally:
            os.close(fd)
        entry = json.loads(raw)
        if not isinstance(entry, dict) or not isinstance(entry.get("data"), dict):
            return None
        data = entry.pop("data")
        return data if entry == envelope(path, config_identity) else None
    except (OSError, ValueError, RecursionError):
        return None  # missing, unreadable or garbage: parse the file instead
    finally:
        os.close(dir_fd)


def store(cache_dir, path, config_identity, data, now=None):
    """Keep ``data``, the parsed and validated TOML of ``path`` at ``config_identity``.

    Never raises: a cache that cannot be written only costs the next run a parse.
    Nothing is kept when the file changed less than SETTLE_S before ``now`` (default:
    time.time()), or when the directory cannot be trusted.
    """
    now = time.time() if now is None else now
    if max(config_identity[3], config_identity[4]) > (now - SETTLE_S) * 1e9:
        return
    try:
        text = json.dumps({**envelope(path, config_identity), "data": data},
                          ensure_ascii=True)
    except (TypeError, ValueError, RecursionError):
        return  # a value JSON cannot hold (a TOML date): parse every time
    if len(text) > MAX_BYTES:
        return
    dir_fd = open_directory(cache_dir)
    if dir_fd is None:
        return
    partial = f".{CACHE_FILE}.{os.getpid()}"
    try:
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW |
                     os.O_CLOEXEC, 0o600, dir_fd=dir_fd)
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(text)
        os.replace(partial, CACHE_FILE, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except OSError:
        try:
            os.unlink(partial, dir_fd=dir_fd)
        except OSError:
            pass
    finally:
        os.close(dir_fd)
