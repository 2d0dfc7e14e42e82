"""Where records go: native journald fields under systemd, plain lines on a terminal.

A run writes exactly one summary record (the one with an OUTCOME field); debug
records (-v) carry no OUTCOME so that `journalctl OUTCOME=...` counts runs.

Everything written is first redacted (the secret, escaped or in fragments, becomes
[secret]: the last line of defence behind the runner's redaction of the raw reply),
then made harmless for terminals: no control, format or bidi character survives,
so a reply cannot move the cursor, erase a line or reorder what a reader sees.

With TICKETING_CRON_LOG_FORMAT=json in the environment (a container's, for a cluster's
log collector) every record is one JSON object on a line of stderr instead, with the
journal record's fields (MESSAGE, PRIORITY, SYSLOG_IDENTIFIER and the rest) and a
TIMESTAMP; it wins over the journal, since whoever sets it wants JSON.

Under systemd a run first writes an empty line to its journal stream and sends its
first native record only once journald has read that line (or after STREAM_WAIT_S).
journald 252 learns a record's unit (_SYSTEMD_UNIT, _SYSTEMD_INVOCATION_ID) from the
sender's /proc entry when it takes the record in; under load it took a run's summary
in after the run was gone, and the record lost its unit (journalctl -u, status and the
alert handler then missed it). Reading a stream's line, journald caches the process's
unit, pins it while the stream is open and uses it for the process's later records;
an empty line it logs as nothing.
"""

import os
import sys
import time

from ticketing_cron.base.text import printable

IDENTIFIER = "ticketing-cron"
LOG_FORMAT_VARIABLE = "TICKETING_CRON_LOG_FORMAT"
PRIORITY = {"crit": 2, "err": 3, "warning": 4, "notice": 5, "info": 6, "debug": 7}
STREAM_FD = 2
STREAM_WAIT_S = 1.0          # the longest a process waits for journald, once
STREAM_POLL_S = 0.002
# TIOCOUTQ (SIOCOUTQ for sockets) where Linux uses the generic ioctl numbers; other
# architectures (ppc64el, mips64el) ask termios, which costs a run 0.3 ms to import.
GENERIC_TIOCOUTQ = 0x5411
GENERIC_IOCTL_MACHINES = ("x86_64", "i686", "i386", "aarch64", "armv7l", "armv8l",
                          "riscv64", "s390x", "loongarch64")


def stderr_is_journal(environ=os.environ, fd=2):
    """True when fd 2 is the journal stream systemd connected ($JOURNAL_STREAM=dev:ino)."""
    value = environ.get("JOURNAL_STREAM", "")
    dev, _, ino = value.partition(":")
    if not (dev.isdigit() and ino.isdigit()):
        return False
    try:
        st = os.fstat(fd)
    except OSError:
        return False
    return (st.st_dev, st.st_ino) == (int(dev), int(ino))


def unread_request():
    """The ioctl request that tells how many bytes written to a socket its reader has
    not read yet (SIOCOUTQ)."""
    if os.uname().machine in GENERIC_IOCTL_MACHINES:
        return GENERIC_TIOCOUTQ
    import termios

    return termios.TIOCOUTQ


def hand_over_stream_context(fd=STREAM_FD):
    """Write an empty line to the journal stream on ``fd``; True if it was written.
    journald logs nothing for it, but reading it caches this process's unit."""
    try:
        return os.write(fd, b"\n") == 1
    except OSError:
        return False


def wait_until_read(fd, budget_s, clock=time.monotonic, sleep=time.sleep):
    """Wait until the reader of the socket ``fd`` has read everything written to it.

    Args:
        fd: a connected socket (the journal stream).
        budget_s: the longest to wait.
    Returns:
        True once nothing is left unread; False when the budget ran out or the fd
        cannot tell (not a socket, closed).
    """
    import fcntl

    request = unread_request()
    give_up_at = clock() + budget_s
    while True:
        try:
            unread = int.from_bytes(fcntl.ioctl(fd, request, bytes(4)), sys.byteorder,
                                    signed=True)
        except OSError:
            return False
        if unread <= 0:
            return True
        if clock() >= give_up_at:
            return False
        sleep(STREAM_POLL_S)


class Log:
    """Writes records to the journal or to stderr, hiding a registered secret.

    Args:
        verbose: also write debug records.
        journal: send native journal records instead of stderr lines.
        stream: where stderr lines go (tests pass a buffer).
        json_lines: write one JSON object per record to the stream (default: when
            $TICKETING_CRON_LOG_FORMAT is "json").
        quiet: write nothing to the stream for a record below warning (the journal
            still gets every record).
        journal_stream_fd: the journal stream to hand journald this process's unit
            through (default: stderr, when it is the stream systemd connected).
    """

    def __init__(self, verbose=False, journal=None, stream=None, json_lines=None,
                 quiet=False, journal_stream_fd=None):
        self.verbose = verbose
        self.quiet = quiet
        if json_lines is None:
            json_lines = os.environ.get(LOG_FORMAT_VARIABLE, "").strip().lower() == "json"
        self.json_lines = json_lines
        if journal is None:
            journal = stderr_is_journal()
            if journal and journal_stream_fd is None:
                journal_stream_fd = STREAM_FD
        self.journal = journal and not json_lines
        self.stream = stream or sys.stderr
        self.redactors = []
        self._send = None
        self.journal_stream_fd = journal_stream_fd if self.journal else None
        self._stream_handed_over = self.journal_stream_fd is not None and \
            hand_over_stream_context(self.journal_stream_fd)

    def hide(self, secret):
        """Never write ``secret``: it, its escaped forms and its fragments of
        redact.FRAGMENT_CHARS or more characters become [secret] in every record."""
        if secret:
            from ticketing_cron.base.redact import Redactor

            self.redactors.append(Redactor(secret))

    def redact(self, text):
        """``text`` with every registered secret replaced."""
        for redactor in self.redactors:
            text = redactor.text(text)
        return text

    def debug(self, message, **fields):
        """A debug record, written only with -v."""
        if self.verbose:
            self.record(message, "debug", fields)

    def record(self, message, priority, fields):
        """Write one record.

        Args:
            message: one line of text.
            priority: a key of PRIORITY.
            fields: extra journal fields (upper-case names); values become text.
        """
        message = printable(self.redact(message))
        fields = {k: self.redact(str(v)) for k, v in fields.items() if v is not None}
        if self.journal:
            # Field values may span lines (ALERT_TEXT); MESSAGE stays one line.
            journal_fields = {k: printable(v, keep_newlines=True) for k, v in fields.items()}
            if self.send_journal(message, priority, journal_fields):
                return
        if self.quiet and priority in ("notice", "info", "debug"):
            return
        if self.json_lines:
            self.write_json(message, priority, fields)
            return
        fields = {k: printable(v) for k, v in fields.items()}
        prefix = "" if priority in ("notice", "info", "debug") else f"{priority}: "
        if self.verbose and fields:
            message += " [" + " ".join(f"{k}={v}" for k, v in fields.items()) + "]"
        self.write_line(f"{IDENTIFIER}: {prefix}{message}\n")

    def write_line(self, line):
        """Write a line to the stream. When the stream is gone (journald stopped along
        with its sockets: EPIPE) it is pointed at /dev/null: there is nowhere left to
        say anything, and the run's exit status must still be its outcome's, not
        Python's 120 for output it could not flush at exit."""
        try:
            self.stream.write(line)
            self.stream.flush()
        except OSError:
            discard_stream(self.stream)

    def write_json(self, message, priority, fields):
        """One record as a JSON object on one line, its values text as in the journal."""
        import json  # only containers ask for it

        now = time.time()
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + \
            f".{int(now * 1000) % 1000:03d}Z"
        record = {"TIMESTAMP": stamp, "MESSAGE": message, "PRIORITY": str(PRIORITY[priority]),
                  "SYSLOG_IDENTIFIER": IDENTIFIER,
                  **{k: printable(v, keep_newlines=True) for k, v in fields.items()}}
        self.write_line(json.dumps(record, ensure_ascii=True) + "\n")

    def send_journal(self, message, priority, fields):
        """Send a native journal record; False if the journal cannot take it."""
        if self._send is None:
            self._send = load_journal_sender()
            if self._send is None:
                self.journal = False
                return False
        if self._stream_handed_over:
            self._stream_handed_over = False
            wait_until_read(self.journal_stream_fd, STREAM_WAIT_S)
        items = {"MESSAGE": message, "PRIORITY": PRIORITY[priority],
                 "SYSLOG_IDENTIFIER": IDENTIFIER, **fields}
        try:
            self._send(*(f"{k}={v}" for k, v in items.items()))
        except OSError:
            self.journal = False  # journald is gone: say it on stderr instead
            return False
        return True


def discard_stream(stream):
    """Point the file descriptor under ``stream`` at /dev/null, so that what is left in
    its buffer, and whatever is written later, goes nowhere without an error."""
    try:
        fd = stream.fileno()
        null = os.open(os.devnull, os.O_WRONLY | os.O_CLOEXEC)
    except (OSError, ValueError, AttributeError):  # a buffer, or a closed stream
        return
    try:
        os.dup2(null, fd)
    except OSError:
        pass
    finally:
        os.close(null)
    try:
        stream.flush()
    except (OSError, ValueError):
        pass


def load_journal_sender():
    """systemd-python's sendv(*"FIELD=value"), or None if systemd-python is missing.

    The C extension directly: the public systemd.journal module imports logging,
    uuid and traceback, which would add some 15 ms to every run, while its send()
    only formats the same strings and calls sendv.
    """
    try:
        from systemd._journal import sendv
    except ImportError:
        try:
            from systemd.journal import sendv
        except ImportError:
            return None
    return sendv
