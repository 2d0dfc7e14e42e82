"""Reading summary records back from the journal."""




NOW = 1_764_417_600.0  # 2025-11-29 12:00:00 UTC
PING = "https://hc-ping.com/3f1c2a9e-8b7d-4c6e-9f0a-1b2c3d4e5f60"
REQUEST_ID = "0123456789abcdef0123456789abcdef"


# ------------------------------------------------------------- journal reading


class FakeReader:
    """Records in journal order, walked like python-systemd's reader (_next/_previous,
    _get, _get_realtime in microseconds); matches are recorded, not applied."""

    def __init__(self, records):
        self.records = records
        self.pos = -1
        self.matches = {}
        self.closed = False

    def add_match(self, **kwargs):
        self.matches.update(kwargs)

    def seek_realtime(self, seconds):
        self.pos = next((i for i, r in enumerate(self.records) if r["at"] >= seconds),
                        len(self.records)) - 1
        self.seek_at = self.pos + 1

    def _next(self):
        self.pos += 1
        return self.pos < len(self.records)

    def _previous(self):
        self.pos = (self.seek_at if self.pos == self.seek_at - 1 else self.pos) - 1
        return self.pos >= 0

    def _get(self, name):
        value = self.records[self.pos]["fields"][name]
        return value.encode()

    def _get_all(self):
        return {name: value.encode() for name, value in self.records[self.pos]["fields"].items()}

    def _get_realtime(self):
        return int(self.records[self.pos]["at"] * 1e6)

    def close(self):
        self.closed = True


def record(at, **fields):
    """A record as the run's DynamicUser= process writes it (a uid in systemd's range)."""
    return {"at": at, "fields": {"MESSAGE": f"sla-check {fields.get('OUTCOME')}: x",
                                 "_UID": "61234", "JOB": "sla-check", **fields}}


def test_records_not_written_by_the_units_user_are_not_runs(monkeypatch):
    """The fields status matches on (_SYSTEMD_UNIT above all) come from journald's
    per-PID cache: a local user's process that reuses a just-exited run's PID can be
    given the run's unit. _UID cannot be inherited that way, so it decides."""
    from ticketing_cron.status import journal_runs

    records = [
        record(NOW - 300, OUTCOME="ok", DURATION_MS="50"),
        record(NOW - 200, OUTCOME="auth", DURATION_MS="60", _UID="1000"),   # a local user
        record(NOW - 100, OUTCOME="ok", DURATION_MS="70", _UID="0"),        # root
        record(NOW - 50, OUTCOME="ok", DURATION_MS="80", _UID="61234x"),    # not a number
    ]
    monkeypatch.setattr(journal_runs, "open_reader", lambda job, **extra:
                        FakeReader(records))
    history = journal_runs.job_history("ticketing-cron.service", "sla-check", NOW)
    assert [r["duration_ms"] for r in history["day"]] == [50]
    assert history["last_run"]["duration_ms"] == 50
    # A unit with User=: only that user's records count.
    history = journal_runs.job_history("ticketing-cron.service", "sla-check", NOW,
                                       uids=range(1000, 1001))
    assert [r["outcome"] for r in history["day"]] == ["auth"]


def test_a_record_counts_for_its_own_unit_or_none_but_never_for_another(monkeypatch):
    """journald, far behind, takes a run's record in after the run is gone and cannot
    tell its unit: the record still counts (its _UID is the unit's). A record that
    journald gave another unit does not."""
    from ticketing_cron.status import journal_runs

    records = [
        record(NOW - 300, OUTCOME="ok", DURATION_MS="1", _SYSTEMD_UNIT="ticketing-cron.service"),
        record(NOW - 200, OUTCOME="ok", DURATION_MS="2"),                  # journald too late
        record(NOW - 100, OUTCOME="ok", DURATION_MS="3",
               _SYSTEMD_UNIT="ticketing-cron@nightly.service"),           # another job's unit
        record(NOW - 90, OUTCOME="ok", DURATION_MS="4", _SYSTEMD_UNIT="session-3.scope"),
        record(NOW - 80, OUTCOME="ok", DURATION_MS="5", _UID="1000"),      # a user, too late
    ]
    monkeypatch.setattr(journal_runs, "open_reader", lambda job, **extra:
                        FakeReader(records))
    history = journal_runs.job_history("ticketing-cron.service", "sla-check", NOW)
    assert [r["duration_ms"] for r in history["day"]] == [1, 2]


def test_journal_runs_read_only_summary_records_and_validate_fields(monkeypatch):
    from ticketing_cron.status import journal_runs

    records = [
        record(NOW - 90000, OUTCOME="ok", DURATION_MS="50"),            # before the day
        record(NOW - 3000, OUTCOME="auth", DURATION_MS="70", EXIT_STATUS="77"),
        record(NOW - 2000, MESSAGE_ONLY="debug line"),                  # no OUTCOME
        record(NOW - 1000, OUTCOME="fine-really", DURATION_MS="1"),     # not an outcome
        record(NOW - 60, OUTCOME="ok", DURATION_MS="1e9", UNASSIGNED_COUNT="-3"),
    ]
    readers = []

    def open_reader(job, **extra):
        reader = FakeReader(records)
        reader.add_match(JOB=job, **extra)
        readers.append(reader)
        return reader

    monkeypatch.setattr(journal_runs, "open_reader", open_reader)
    history = journal_runs.job_history("ticketing-cron.service", "sla-check", NOW)
    assert [r["outcome"] for r in history["day"]] == ["auth", "ok"]
    auth, ok = history["day"]
    assert auth["duration_ms"] == 70 and ok["exit_status"] is None
    assert ok["duration_ms"] is None and ok["unassigned"] is None, "junk is not a number"
    assert history["last_run"] is ok and history["last_success"] is ok
    assert readers[0].matches == {"JOB": "sla-check"}
    assert all(r.closed for r in readers)
    # No run in the day: the last run and success are looked up before it.
    records[-1]["fields"]["OUTCOME"] = "timeout"
    records[1]["fields"]["OUTCOME"] = "timeout"
    history = journal_runs.job_history("ticketing-cron.service", "sla-check", NOW)
    assert history["last_run"]["outcome"] == "timeout"
    assert history["last_success"]["at"] == NOW - 90000


# ------------------------------------------------------- every job in one pass


class CountingReader(FakeReader):
    """A FakeReader that counts the records read whole; a field given as a list is
    repeated in the record (python-systemd gives it as a list)."""

    whole_reads = 0

    def _get(self, name):
        value = self.records[self.pos]["fields"][name]
        return (value[0] if isinstance(value, list) else value).encode()

    def _get_all(self):
        CountingReader.whole_reads += 1
        return {name: [v.encode() for v in value] if isinstance(value, list) else value.encode()
                for name, value in self.records[self.pos]["fields"].items()}


def test_every_jobs_day_is_read_in_one_pass_each_record_for_its_own_job(monkeypatch):
    from ticketing_cron.status import journal_runs

    records = [
        record(NOW - 500, OUTCOME="ok", DURATION_MS="1"),
        record(NOW - 400, OUTCOME="ok", DURATION_MS="2", JOB="nightly",
               _SYSTEMD_UNIT="ticketing-cron@nightly.service"),
        record(NOW - 300, OUTCOME="auth", DURATION_MS="3", JOB="nightly",
               _SYSTEMD_UNIT="ticketing-cron.service"),                  # sla-check's unit
        record(NOW - 200, OUTCOME="ok", DURATION_MS="4", JOB="gone"),    # not in the config
        record(NOW - 100, OUTCOME="timeout", DURATION_MS="5", EXIT_STATUS="75",
               REQUEST_ID="r5", JOB="nightly"),
        record(NOW - 50, OUTCOME="ok", DURATION_MS="6", REQUEST_ID="r6", HTTP_STATUS="200"),
    ]
    readers = []

    def open_reader(job, **extra):
        readers.append(CountingReader(records))
        readers[-1].job = job
        return readers[-1]

    monkeypatch.setattr(journal_runs, "open_reader", open_reader)
    found = journal_runs.histories({"sla-check": ("ticketing-cron.service", range(61184, 65520)),
                                    "nightly": ("ticketing-cron@nightly.service",
                                                range(61184, 65520))}, NOW)
    assert [r.job for r in readers] == [None], "one reader, for every job"
    assert [r["duration_ms"] for r in found["sla-check"]["day"]] == [1, 6]
    assert [r["duration_ms"] for r in found["nightly"]["day"]] == [2, 5]
    nightly = found["nightly"]
    assert nightly["last_run"] == {"at": NOW - 100, "outcome": "timeout", "duration_ms": 5,
                                   "unassigned": None, "message": "sla-check timeout: x",
                                   "exit_status": 75, "http_status": None, "request_id": "r5"}
    assert nightly["last_success"]["at"] == NOW - 400
    assert "request_id" not in nightly["day"][0], "only the newest run keeps its details"
    assert found["sla-check"]["last_run"]["http_status"] == 200


def test_other_users_records_cost_one_field_and_repeated_fields_count_once(monkeypatch):
    from ticketing_cron.status import journal_runs

    flood = [record(NOW - 1000 + i, OUTCOME="ok", DURATION_MS="9", _UID="1000",
                    **{f"X{n}": "y" * 100 for n in range(50)}) for i in range(200)]
    records = flood + [record(NOW - 10, OUTCOME=["auth", "ok"], DURATION_MS=["7", "8"])]
    monkeypatch.setattr(journal_runs, "open_reader", lambda job, **extra:
                        CountingReader(records))
    CountingReader.whole_reads = 0
    found = journal_runs.histories({"sla-check": ("ticketing-cron.service",
                                                  range(61184, 65520)),
                                    "nightly": ("ticketing-cron@nightly.service",
                                                range(61184, 65520))}, NOW)
    assert CountingReader.whole_reads == 1
    (run,) = found["sla-check"]["day"]
    assert run["outcome"] == "auth" and run["duration_ms"] == 7
