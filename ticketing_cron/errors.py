"""The one user-facing error type and the outcomes it maps to exit statuses."""

# Outcome name -> exit status, from sysexits.h so that systemd and scripts can tell
# the kinds of failure apart without parsing text.
EXIT_STATUS = {
    "ok": 0,
    "config": 78,       # EX_CONFIG
    "auth": 77,         # EX_NOPERM
    "unavailable": 69,  # EX_UNAVAILABLE
    "timeout": 75,      # EX_TEMPFAIL
    "protocol": 76,     # EX_PROTOCOL
    "bug": 70,          # EX_SOFTWARE
}


class CronError(Exception):
    """A failure the administrator can act on.

    Args:
        outcome: one of the keys of EXIT_STATUS other than "ok".
        message: one line saying what went wrong and what to do; never the secret.
        http_status: the HTTP status of the last reply, if any.
        details: the individual problems behind the message, for reports that list
            them one per line (`ticketing-cron check`).
    """

    def __init__(self, outcome, message, http_status=None, details=()):
        if outcome not in EXIT_STATUS or outcome == "ok":
            raise ValueError(f"not a failure outcome: {outcome!r}")
        super().__init__(message)
        self.outcome = outcome
        self.message = message
        self.http_status = http_status
        self.details = tuple(details) or (message,)

    @property
    def exit_status(self):
        """The process exit status for this outcome."""
        return EXIT_STATUS[self.outcome]


def unreadable(what, error, if_missing, if_denied):
    """The config error for a file that could not be opened or read.

    Args:
        what: how messages name the file, e.g. its path.
        error: the OSError raised by open() or read().
        if_missing, if_denied: what to do when it does not exist, or may not be read.
    Returns:
        CronError("config") with a one-line message.
    """
    if isinstance(error, FileNotFoundError):
        problem = f"no such file; {if_missing}"
    elif isinstance(error, IsADirectoryError):
        problem = "is a directory, not a file"
    elif isinstance(error, PermissionError):
        problem = f"permission denied; {if_denied}"
    else:
        problem = f"cannot read: {error.strerror}"
    return CronError("config", f"{what}: {problem}")


class Interrupted(BaseException):
    """Raised from a signal handler: the run's deadline passed, or SIGTERM arrived.

    A BaseException so that no library's ``except Exception`` can swallow it.

    Args:
        message: one line for the summary record.
    """

    def __init__(self, message):
        super().__init__(message)
        self.message = message
