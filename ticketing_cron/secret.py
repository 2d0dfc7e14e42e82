"""Read the shared secret that the app expects in the x-cron-secret header."""

import os

from ticketing_cron.errors import CronError, unreadable

CREDENTIAL_NAME = "cron-secret"
FALLBACK_PATH = "/etc/ticketing-cron/cron-secret"
MAX_SECRET_BYTES = 4096


def secret_path(environ=os.environ):
    """Where the secret is: systemd's credentials directory, else the file in /etc.

    Args:
        environ: the process environment (a mapping).
    Returns:
        The path (str) to read.
    """
    directory = environ.get("CREDENTIALS_DIRECTORY")
    if directory:
        return os.path.join(directory, CREDENTIAL_NAME)
    return FALLBACK_PATH


def read_secret(environ=os.environ):
    """Read and validate the secret.

    One trailing newline is stripped (what `echo` and here-strings add).

    Args:
        environ: the process environment (a mapping).
    Returns:
        The secret (str).
    Raises:
        CronError("config") if it is missing, unreadable, empty, too long, or holds
        whitespace, control or non-ASCII characters. The message never holds the secret.
    """
    path = secret_path(environ)
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_SECRET_BYTES + 1)
    except OSError as e:
        raise unreadable(f"secret {path}", e, "write the app's CRON_SECRET there with: "
                         f"install -m 0600 /dev/stdin {FALLBACK_PATH}",
                         "run as root, or through the service, which receives it with "
                         "LoadCredential=") from None
    if raw.endswith(b"\n"):
        raw = raw[:-1]
    problem = secret_problem(raw)
    if problem:
        raise CronError("config", f"secret {path}: {problem}; write it again with: "
                        f"install -m 0600 /dev/stdin {FALLBACK_PATH}")
    return raw.decode("ascii")


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
    return None
