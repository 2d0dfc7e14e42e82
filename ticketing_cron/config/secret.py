"""Read the shared secret that the app expects in the x-cron-secret header."""

import errno
import os
import stat

from ticketing_cron.base.errors import ConfigError, unreadable
from ticketing_cron.config.keys import DEFAULT_CONFIG_PATH

CREDENTIAL_NAME = "cron-secret"
MAX_SECRET_BYTES = 4096
SHORT_SECRET_CHARS = 16
# Example values that documentation printed (the Node.js app's README, the Kubernetes
# example): anyone can send them, so a secret equal to one is refused.
PLACEHOLDERS = frozenset({b"your-secure-random-secret-key-here", b"your-secret",
                          b"replace-with-the-apps-cron_secret"})
MAKE_ONE = "make a random one (openssl rand -hex 32) and set it as the app's CRON_SECRET"


def secret_file(config_path=DEFAULT_CONFIG_PATH):
    """The secret file that belongs to a config: ``cron-secret`` beside it
    (/etc/ticketing-cron/cron-secret for the packaged config, which the units'
    LoadCredential= loads). So `--config` means the same to every command.

    Args:
        config_path: the config file's path (str).
    Returns:
        The path (str) of the file the administrator writes.
    """
    return os.path.join(os.path.dirname(config_path) or ".", CREDENTIAL_NAME)


def secret_path(environ=os.environ, config_path=DEFAULT_CONFIG_PATH):
    """Where the secret is read from: systemd's credentials directory, else the file
    beside the config (secret_file).

    Args:
        environ: the process environment (a mapping).
        config_path: the config file's path (str).
    Returns:
        The path (str) to read.
    """
    directory = environ.get("CREDENTIALS_DIRECTORY")
    if directory:
        return os.path.join(directory, CREDENTIAL_NAME)
    return secret_file(config_path)


def fingerprint(secret):
    """How output names a secret without showing it: its length and the first 12 hex
    digits (48 bits) of its SHA-256, which the app's side can compute the same way:
    printf %s "$CRON_SECRET" | sha256sum.

    Args:
        secret: the secret (str).
    Returns:
        e.g. "40 characters, sha256 1a2b3c4d5e6f".
    """
    import hashlib  # only on the paths that name a secret

    return f"{len(secret)} characters, sha256 {hashlib.sha256(secret.encode()).hexdigest()[:12]}"


def write_it(source):
    """The fix that writes the secret file anew."""
    return f"write the secret to a regular file with: install -m 0600 /dev/stdin {source}"


def read_secret(environ=os.environ, warnings=None, config_path=DEFAULT_CONFIG_PATH):
    """Read and validate the secret.

    One trailing newline is stripped (what `echo` and here-strings add). The file is
    opened without following a symbolic link and without blocking (a FIFO must not
    hang the run), then judged by what the open descriptor is, so nothing can be
    swapped in between the check and the read.

    Args:
        environ: the process environment (a mapping).
        warnings: a list to which problems that do not stop a run are appended
            (group access, a short secret), or None to ignore them.
        config_path: the config file, beside which the secret file is (when
            $CREDENTIALS_DIRECTORY is unset).
    Returns:
        The secret (str).
    Raises:
        ConfigError if it is missing, unreadable, a symbolic link, not a
        regular file, readable or writable by other users, owned by someone other
        than root or the running user, empty, too long, or holds whitespace, control
        or non-ASCII characters. The message never holds the secret.
    """
    path = secret_path(environ, config_path)
    source = secret_file(config_path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY
                     | os.O_CLOEXEC)
    except OSError as e:
        raise open_error(path, e, source) from None
    try:
        problem = file_problem(os.fstat(fd), path, os.geteuid(), warnings, source)
        if problem:
            raise ConfigError(f"secret {path}: {problem}")
        raw = read_at_most(fd, MAX_SECRET_BYTES + 1)
    except OSError as e:
        raise ConfigError(f"secret {path}: cannot read: {e.strerror}") from None
    finally:
        os.close(fd)
    if raw.endswith(b"\n"):
        raw = raw[:-1]
    problem = secret_problem(raw)
    if problem:
        raise ConfigError(f"secret {path}: {problem}; write it again with: "
                          f"install -m 0600 /dev/stdin {source}")
    if warnings is not None and len(raw) >= 2 and raw[:1] == raw[-1:] and raw[:1] in b"\"'":
        warnings.append(f"secret {path}: starts and ends with a quote ({raw[:1].decode()}); "
                        f"a .env file's quotes are not part of the value, so unless the "
                        f"app's CRON_SECRET has them too, write it again without them")
    if warnings is not None and len(raw) < SHORT_SECRET_CHARS:
        warnings.append(f"secret {path}: only {len(raw)} characters; a secret under "
                        f"{SHORT_SECRET_CHARS} is easy to guess and too short to keep out "
                        f"of logs reliably (shorter runs of it than 12 characters are not "
                        f"redacted); set a long random CRON_SECRET in the app and here, "
                        f"e.g. from: openssl rand -hex 32")
    return raw.decode("ascii")


def open_error(path, error, source):
    """The config error for a secret file that could not be opened (source: the
    file the fix writes, see secret_file)."""
    if error.errno == errno.ELOOP and os.path.islink(path):
        return ConfigError(f"secret {path}: is a symbolic link, which is not "
                         f"followed (whoever may change its target could swap the secret); "
                         f"replace the symlink by the file: cp --remove-destination "
                         f"\"$(readlink -f {path})\" {path} && chmod 0600 {path}")
    if error.errno == errno.ENXIO:
        return ConfigError(f"secret {path}: is a socket or a device, not a regular "
                           f"file; {write_it(source)}")
    return unreadable(f"secret {path}", error, "write the app's CRON_SECRET there with: "
                      f"install -m 0600 /dev/stdin {source}",
                      "run as root, or through the service, which receives it with "
                      "LoadCredential=")


def file_problem(st, path, euid, warnings=None, source=None):
    """Say what is unsafe about the secret file, from its fstat() result.

    Args:
        st: os.stat_result of the open file.
        path: its path, for the fix in the message.
        euid: the running user's id (root, or the service's user for a credential).
        warnings: a list for what is only worth a warning (group access), or None.
        source: the file that a fix writes anew (default: path).
    Returns:
        A description with the fix, or None when the file is fine to read.
    """
    if stat.S_ISDIR(st.st_mode):
        return "is a directory, not a file"
    if not stat.S_ISREG(st.st_mode):
        kind = "a FIFO" if stat.S_ISFIFO(st.st_mode) else "a device or other special file"
        return f"is {kind}, not a regular file; {write_it(source or path)}"
    mode = stat.S_IMODE(st.st_mode)
    if st.st_uid not in (0, euid):
        return (f"is owned by {user_name(st.st_uid)}, not by root (or the user running "
                f"ticketing-cron), who could change it; chown root:root {path}")
    if mode & (stat.S_IROTH | stat.S_IWOTH):
        what = " and ".join(w for w, bit in (("readable", stat.S_IROTH),
                                             ("writable", stat.S_IWOTH)) if mode & bit)
        return (f"is {what} by every user (mode {mode:04o}); chmod 0600 {path}, and as "
                f"others may have read it, consider changing CRON_SECRET")
    if mode & (stat.S_IRGRP | stat.S_IWGRP) and warnings is not None:
        what = " and ".join(w for w, bit in (("readable", stat.S_IRGRP),
                                             ("writable", stat.S_IWGRP)) if mode & bit)
        warnings.append(f"secret {path}: is {what} by group {group_name(st.st_gid)} "
                        f"(mode {mode:04o}); unless every member may know the secret, "
                        f"chmod 0600 {path}")
    return None


def read_at_most(fd, limit):
    """Up to ``limit`` bytes from fd, until end of file."""
    chunks, size = [], 0
    while size < limit:
        chunk = os.read(fd, limit - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def user_name(uid):
    """'uid 1000 (alice)' or 'uid 1000' (rare path: pwd is imported here)."""
    import pwd

    try:
        return f"uid {uid} ({pwd.getpwuid(uid).pw_name})"
    except KeyError:
        return f"uid {uid}"


def group_name(gid):
    """'adm' or '1234' (rare path: grp is imported here)."""
    import grp

    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def secret_problem(raw):
    """Say what is wrong with a secret, without quoting it.

    Args:
        raw: the secret's bytes, trailing newline already stripped.
    Returns:
        A short description of the problem, or None when the secret is usable.
    """
    if not raw:
        return "is empty"
    if len(raw) > MAX_SECRET_BYTES:
        return f"is longer than {MAX_SECRET_BYTES} bytes"
    if any(b > 0x7E for b in raw):
        return "holds non-ASCII bytes, which an HTTP header cannot carry"
    if any(b in b" \t\r\n\v\f" for b in raw):
        return "holds whitespace (only one trailing newline is allowed)"
    if any(b < 0x20 or b == 0x7F for b in raw):
        return "holds control characters"
    if raw.lower() in PLACEHOLDERS:
        return f"is an example value from documentation, which anyone can send; {MAKE_ONE}"
    if is_unexpanded(raw):
        return ("is a shell variable's name, not its value (nothing expanded it); write "
                "the value itself")
    return None


def is_unexpanded(raw):
    """True for $NAME or ${NAME} (bytes): a variable that nothing substituted."""
    inner = raw[2:-1] if raw.startswith(b"${") and raw.endswith(b"}") else \
        raw[1:] if raw.startswith(b"$") else b""
    return bool(inner) and (inner[:1].isalpha() or inner[:1] == b"_") and \
        all(c.isalnum() or c == "_" for c in inner.decode("ascii", "replace"))
