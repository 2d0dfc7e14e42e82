"""Atomic file replacement: a temporary file in the same directory, renamed over.

A crash or a full disk leaves either the old file or the new one, never a part of
either; and the file is never, not for a moment, readable by more than its final
mode allows.
"""

import os
import secrets


class Staged:
    """A complete, fsynced temporary file waiting to be renamed over ``path``.

    Made by stage(); commit() puts it in place, discard() removes it.
    """

    def __init__(self, path, temp):
        self.path = path
        self.temp = temp

    def commit(self):
        """Rename over the target and fsync the directory.

        Raises:
            OSError.
        """
        os.rename(self.temp, self.path)
        self.temp = None
        fsync_directory(os.path.dirname(self.path) or ".")

    def discard(self):
        """Remove the temporary file if it was not committed; never raises."""
        if self.temp is not None:
            try:
                os.unlink(self.temp)
            except OSError:
                pass
            self.temp = None


def stage(path, data, mode, uid=0, gid=0):
    """Write ``data`` to a new temporary file beside ``path``.

    The file is created with O_EXCL (so no symlink or existing file is followed) and
    mode 0600, then given its owner and its final ``mode``, written and fsynced.

    Args:
        path: the file it will replace.
        data: bytes.
        mode: the final permission bits.
        uid, gid: the final owner.
    Returns:
        Staged.
    Raises:
        OSError (the temporary file is removed again).
    """
    directory, name = os.path.split(path)
    temp = os.path.join(directory, f".{name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                 0o600)
    staged = Staged(path, temp)
    try:
        os.fchown(fd, uid, gid)
        os.fchmod(fd, mode & 0o7777)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        staged.discard()
        raise
    os.close(fd)
    return staged


def fsync_directory(directory):
    """fsync a directory so that a rename in it survives a crash."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
