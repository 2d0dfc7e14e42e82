"""A summary record as status.journal_runs returns it, for the status tests."""

REQUEST_ID = "0123456789abcdef0123456789abcdef"


def run(at, outcome="ok", duration=100, unassigned=0):
    """One run's record at epoch ``at``."""
    return {"at": at, "outcome": outcome, "duration_ms": duration, "unassigned": unassigned,
            "message": f"sla-check {outcome}: x", "exit_status": 0, "http_status": 200,
            "request_id": REQUEST_ID}
