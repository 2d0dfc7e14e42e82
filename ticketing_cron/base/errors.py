"""The one user-facing error family: an error type per outcome, and the exit statuses."""

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
    """A failure the administrator can act on: the base of one subclass per outcome.

    Args:
        message: one line saying what went wrong and what to do; never the secret.
        http_status: the HTTP status of the last reply, if any.
        details: the individual problems behind the message, for reports that list
            them one per line (`ticketing-cron check`).
    """

    outcome = "bug"

    def __init__(self, message, http_status=None, details=()):
        super().__init__(message)
        self.message = message
        self.http_status = http_status
        self.details = tuple(details) or (message,)

    @property
    def exit_status(self):
        """The process exit status for this outcome."""
        return EXIT_STATUS[self.outcome]


class ConfigError(CronError):
    """Bad or missing config or secret, plain http to a remote host, a redirect (78)."""
    outcome = "config"


class AuthError(CronError):
    """The app rejected the secret: HTTP 401 or 403 (77)."""
    outcome = "auth"


class UnavailableError(CronError):
    """No usable reply: DNS, refused, TLS, 5xx/429 after retries (69)."""
    outcome = "unavailable"


class DeadlineError(CronError):
    """The run's deadline passed (75)."""
    outcome = "timeout"


class ProtocolError(CronError):
    """A reply that breaks the contract: not JSON, too big, success not true (76)."""
    outcome = "protocol"


class SoftwareError(CronError):
    """An unexpected failure of the program itself (70)."""
    outcome = "bug"


ERRORS = {cls.outcome: cls for cls in (ConfigError, AuthError, UnavailableError,
                                       DeadlineError, ProtocolError, SoftwareError)}


def error_for(outcome, message, **kwargs):
    """The CronError subclass of ``outcome`` (a key of EXIT_STATUS other than "ok").

    Raises:
        KeyError: for "ok" or an unknown outcome.
    """
    return ERRORS[outcome](message, **kwargs)


def unreadable(what, error, if_missing, if_denied):
    """The config error for a file that could not be opened or read.

    Args:
        what: how messages name the file, e.g. its path.
        error: the OSError raised by open() or read().
        if_missing, if_denied: what to do when it does not exist, or may not be read.
    Returns:
        ConfigError with a one-line message.
    """
    if isinstance(error, FileNotFoundError):
        problem = f"no such file; {if_missing}"
    elif isinstance(error, IsADirectoryError):
        problem = "is a directory, not a file"
    elif isinstance(error, PermissionError):
        problem = f"permission denied; {if_denied}"
    else:
        problem = f"cannot read: {error.strerror}"
    return ConfigError(f"{what}: {problem}")


class Interrupted(BaseException):
    """Raised from a signal handler: the run's deadline passed, or SIGTERM arrived.

    A BaseException so that no library's ``except Exception`` can swallow it.

    Args:
        message: one line for the summary record.
    """

    def __init__(self, message):
        super().__init__(message)
        self.message = message
