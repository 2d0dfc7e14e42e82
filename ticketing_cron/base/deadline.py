"""Bounding a block in time: a deadline as a timer signal, and SIGTERM as an error.

A timer signal rather than socket timeouts alone, because those cannot stop a server
that trickles a byte every few seconds, a slow TLS handshake or a sendmail that hangs.
"""

import signal
import time
from contextlib import contextmanager

from ticketing_cron.base.errors import Interrupted


@contextmanager
def terminate_on_sigterm():
    """Within the block, SIGTERM (systemctl stop, TimeoutStartSec=) raises Interrupted."""
    def handle(signum, frame):
        raise Interrupted("stopped by SIGTERM (systemctl stop, or the unit's "
                          "TimeoutStartSec= passed) before the run finished")

    previous = signal.signal(signal.SIGTERM, handle)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def armed(arm, message):
    """Within the block, SIGALRM raises Interrupted(message); ``arm()`` sets the timer,
    which is cleared (and the previous handler back) when the block ends."""
    def handle(signum, frame):
        raise Interrupted(message)

    previous = signal.signal(signal.SIGALRM, handle)
    arm()
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def alarm_at(deadline_at, message):
    """Within the block, raise Interrupted(message) when time.monotonic() reaches
    ``deadline_at`` (at once if it has passed), to the millisecond."""
    return armed(lambda: signal.setitimer(signal.ITIMER_REAL,
                                          max(0.001, deadline_at - time.monotonic())),
                 message)


def alarm_after(seconds, message):
    """Within the block, raise Interrupted(message) once ``seconds`` (whole, >= 1) have
    passed. alarm(2) rather than a timer: the alert handlers' tests run them on a
    sped-up clock (libfaketime), which scales alarm() but not setitimer()."""
    return armed(lambda: signal.alarm(seconds), message)
