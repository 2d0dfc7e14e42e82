"""Log sinks: the journal or stderr, redacted and printable."""

import io
import os

from ticketing_cron.base.log import Log, stderr_is_journal


def test_journal_stream_must_match_fd_2(tmp_path):
    path = tmp_path / "f"
    path.write_text("")
    with open(path) as f:
        st = os.fstat(f.fileno())
        assert stderr_is_journal({"JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}"}, f.fileno())
        assert not stderr_is_journal({"JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino + 1}"},
                                     f.fileno())
    assert not stderr_is_journal({}, 2)
    assert not stderr_is_journal({"JOURNAL_STREAM": "garbage"}, 2)


def test_stderr_lines_and_redaction():
    out = io.StringIO()
    log = Log(verbose=False, journal=False, stream=out)
    log.hide("s3cret")
    log.record("sla-check auth: got s3cret back", "err", {"JOB": "sla-check"})
    log.debug("not shown")
    assert out.getvalue() == "ticketing-cron: err: sla-check auth: got [secret] back\n"


def test_escaped_and_cut_secrets_are_redacted_on_both_paths():
    secret = "tc-4f\"9a\\c1'7e/d2b0c83a5e6f"
    escaped = "".join(f"\\u{ord(c):04x}" for c in secret)
    out, sent = io.StringIO(), []
    for log in (Log(verbose=True, journal=False, stream=out), Log(journal=True)):
        log._send = lambda *items: sent.append("\n".join(items))
        log.hide(secret)
        log.record(f"got {secret[:14]}… and {escaped}", "err",
                   {"ERR": repr(secret), "URL": "https://x.test/?s=" + secret.replace("/", "%2F")})
    for text in (out.getvalue(), *sent):
        assert text.count("[secret]") == 4, text
        assert secret[:12] not in text and "\\u0074" not in text and "%2F" not in text


HOSTILE = "text/html\x1b[2K\rsla-check ok: fine\u202egnp.exe\x9b31m\x00\u2028end\ttab\nline"


def test_control_and_format_characters_never_reach_stderr():
    out = io.StringIO()
    log = Log(verbose=True, journal=False, stream=out)
    log.record(f"sla-check protocol: {HOSTILE}", "err", {"ALERT_TEXT": HOSTILE})
    line = out.getvalue()
    assert line.count("\n") == 1 and line.endswith("\n")
    assert not any(c in line[:-1] for c in "\x1b\r\x00\x9b\u202e\u2028\n\t")
    assert "text/html\ufffd[2K sla-check ok: fine\ufffdgnp.exe\ufffd31m\ufffd end tab line" in line


def test_control_and_format_characters_never_reach_the_journal():
    sent = []
    log = Log(journal=True)
    log._send = lambda *items: sent.append(items)
    log.record(f"sla-check protocol: {HOSTILE}", "err", {"ALERT_TEXT": "first\n" + HOSTILE})
    (items,) = sent
    message, alert_text = items[0], items[3]
    assert message == ("MESSAGE=sla-check protocol: text/html\ufffd[2K sla-check ok: fine"
                       "\ufffdgnp.exe\ufffd31m\ufffd end tab line")
    # Multi-line fields keep their newlines, and nothing else.
    assert alert_text == ("ALERT_TEXT=first\ntext/html\ufffd[2K sla-check ok: fine"
                          "\ufffdgnp.exe\ufffd31m\ufffd end tab\nline")


def test_verbose_adds_fields():
    out = io.StringIO()
    log = Log(verbose=True, journal=False, stream=out)
    log.record("x ok: fine", "info", {"JOB": "x", "N": None, "A": 1})
    assert out.getvalue() == "ticketing-cron: x ok: fine [JOB=x A=1]\n"


def test_journal_records_are_sent_with_identifier_and_priority():
    sent = []
    log = Log(journal=True, stream=io.StringIO())
    log._send = lambda *items: sent.append(items)
    log.hide("s3cret")
    log.record("m s3cret", "err", {"JOB": "sla-check", "X": None})
    assert sent == [("MESSAGE=m [secret]", "PRIORITY=3", "SYSLOG_IDENTIFIER=ticketing-cron",
                     "JOB=sla-check")]


def test_journal_gone_falls_back_to_stderr():
    out = io.StringIO()
    log = Log(journal=True, stream=out)

    def refuse(*items):
        raise FileNotFoundError(2, "No such file or directory")
    log._send = refuse
    log.record("x ok: fine", "info", {})
    assert out.getvalue() == "ticketing-cron: x ok: fine\n" and not log.journal


def test_the_journal_sender_is_systemd_pythons():
    from ticketing_cron.base.log import load_journal_sender
    from systemd import journal
    assert load_journal_sender() is journal.sendv


# -- the journal stream hand-over (journald keeps a run's unit on its last record)


def test_the_stream_hand_over_is_one_empty_line_and_read_means_read():
    import socket

    from ticketing_cron.base.log import hand_over_stream_context, wait_until_read

    ours, journald = socket.socketpair()
    with ours, journald:
        assert hand_over_stream_context(ours.fileno())
        assert not wait_until_read(ours.fileno(), 0), "journald has not read the line yet"
        assert journald.recv(16) == b"\n"
        assert wait_until_read(ours.fileno(), 0)


def test_the_first_record_is_sent_only_after_journald_read_the_stream():
    import socket
    import threading

    ours, journald = socket.socketpair()
    read = threading.Event()

    def slow_journald():
        read.wait(0.2)  # journald busy elsewhere
        journald.recv(16)
        read.set()
    with ours, journald:
        log = Log(journal=True, journal_stream_fd=ours.fileno(), stream=io.StringIO())
        seen = []
        log._send = lambda *items: seen.append(read.is_set())
        reader = threading.Thread(target=slow_journald)
        reader.start()
        log.record("sla-check ok: fine", "info", {"OUTCOME": "ok"})
        log.record("a second record", "info", {})
        reader.join()
    assert seen == [True, True]


def test_a_journald_that_never_reads_holds_one_record_back_at_most_the_budget(monkeypatch):
    import socket

    import ticketing_cron.base.log as log_module

    waits = []
    real_wait = log_module.wait_until_read

    def counted(fd, budget_s):
        waits.append(budget_s)
        return real_wait(fd, 0.05)
    monkeypatch.setattr(log_module, "wait_until_read", counted)
    ours, journald = socket.socketpair()
    with ours, journald:
        log = Log(journal=True, journal_stream_fd=ours.fileno(), stream=io.StringIO())
        sent = []
        log._send = lambda *items: sent.append(items)
        log.record("first", "info", {})
        log.record("second", "info", {})
    assert len(sent) == 2 and waits == [log_module.STREAM_WAIT_S]


def test_a_stream_that_cannot_tell_what_was_read_is_not_waited_for():
    from ticketing_cron.base.log import wait_until_read

    r, w = os.pipe()
    try:
        assert not wait_until_read(w, 30)  # ioctl refused: returns at once
    finally:
        os.close(r)
        os.close(w)


def test_no_hand_over_without_a_journal_stream(monkeypatch):
    import ticketing_cron.base.log as log_module

    monkeypatch.delenv("JOURNAL_STREAM", raising=False)
    written = []
    monkeypatch.setattr(log_module, "hand_over_stream_context", written.append)
    log = Log(stream=io.StringIO())
    assert not log.journal and written == [] and log.journal_stream_fd is None


def test_the_ioctl_number_matches_termios():
    import termios

    from ticketing_cron.base.log import unread_request

    assert unread_request() == termios.TIOCOUTQ


def test_journald_gone_with_its_stream_costs_the_records_not_the_exit_status():
    """journald stopped with its sockets: the native send is refused and the journal
    stream (stderr) is a closed pipe. The records are lost, but nothing raises and the
    process still exits with its own status (Python exits 120 when it cannot flush
    stderr at exit)."""
    import subprocess
    import sys

    code = ("import sys\n"
            "from ticketing_cron.base.log import Log\n"
            "def refused(*items):\n"
            "    raise ConnectionRefusedError(111, 'Connection refused')\n"
            "log = Log(journal=True)\n"
            "log._send = refused\n"
            "log.record('sla-check ok: 0 requests unassigned', 'info', {'OUTCOME': 'ok'})\n"
            "log.record('a warning', 'warning', {})\n"
            "print('still here', file=sys.stdout, flush=True)\n"
            "sys.exit(0)\n")
    read_end, write_end = os.pipe()
    os.close(read_end)  # no reader: every write to stderr is EPIPE
    proc = subprocess.run([sys.executable, "-c", code], stderr=write_end,
                          stdout=subprocess.PIPE, text=True, timeout=60,
                          cwd=os.path.dirname(os.path.dirname(os.path.dirname(
                              os.path.dirname(os.path.abspath(__file__))))))
    os.close(write_end)
    assert proc.stdout == "still here\n"
    assert proc.returncode == 0


def test_a_buffer_stream_that_fails_is_left_alone():
    class Full(io.StringIO):
        def write(self, text):
            raise OSError(28, "No space left on device")
    log = Log(journal=False, stream=Full(), json_lines=False)
    log.record("a warning", "warning", {})
    log.record("another", "err", {})
