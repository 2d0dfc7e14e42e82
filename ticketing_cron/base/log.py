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
"""

import os
import sys
import time

from ticketing_cron.base.text import printable

IDENTIFIER = "ticketing-cron"
LOG_FORMAT_VARIABLE = "TICKETING_CRON_LOG_FORMAT"
PRIORITY = {"crit": 2, "err": 3, "warning": 4, "notice": 5, "info": 6, "debug": 7}


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
    """

    def __init__(self, verbose=False, journal=None, stream=None, json_lines=None,
                 quiet=False):
        self.verbose = verbose
        self.quiet = quiet
        if json_lines is None:
            json_lines = os.environ.get(LOG_FORMAT_VARIABLE, "").strip().lower() == "json"
        self.json_lines = json_lines
        self.journal = False if json_lines else \
            stderr_is_journal() if journal is None else journal
        self.stream = stream or sys.stderr
        self.redactors = []
        self._send = None

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
        self.stream.write(f"{IDENTIFIER}: {prefix}{message}\n")
        self.stream.flush()

    def write_json(self, message, priority, fields):
        """One record as a JSON object on one line, its values text as in the journal."""
        import json  # only containers ask for it

        now = time.time()
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + \
            f".{int(now * 1000) % 1000:03d}Z"
        record = {"TIMESTAMP": stamp, "MESSAGE": message, "PRIORITY": str(PRIORITY[priority]),
                  "SYSLOG_IDENTIFIER": IDENTIFIER,
                  **{k: printable(v, keep_newlines=True) for k, v in fields.items()}}
        self.stream.write(json.dumps(record, ensure_ascii=True) + "\n")
        self.stream.flush()

    def send_journal(self, message, priority, fields):
        """Send a native journal record; False if the journal cannot take it."""
        if self._send is None:
            self._send = load_journal_sender()
            if self._send is None:
                self.journal = False
                return False
        items = {"MESSAGE": message, "PRIORITY": PRIORITY[priority],
                 "SYSLOG_IDENTIFIER": IDENTIFIER, **fields}
        try:
            self._send(*(f"{k}={v}" for k, v in items.items()))
        except OSError:
            self.journal = False  # journald is gone: say it on stderr instead
            return False
        return True


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
