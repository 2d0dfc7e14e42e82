"""Telling people: the failure and recovery handlers (notify), when to alert (policy),
the streak on disk (state), the words (message), sending (delivery, channels), and
the failed run's own record (run_record)."""
