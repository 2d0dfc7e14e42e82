"""Two servers, one app: two booted containers with the same .deb and config run the SLA
check every minute against one stand-in app that dedupes by Idempotency-Key.

While both run, each minute's work is done exactly once: both servers' runs call the
app with the same key, the first does the work and the second, arriving while the
first is still at it (the stand-in takes 3 s), gets 409 and logs ok with DUPLICATE=1.
No alert fires. Then one container is powered off, and every following minute is
still handled, by the other. Two minutes with both and two with one: about four
minutes in all.
"""

import os
import time

import pytest

from harness import (FAILURE_UNIT, Standin, boot_with_package, next_boundary, report, sleep_until,
                     wait_for)

CONFIG = "/etc/ticketing-cron/config.toml"
SECRET = "/etc/ticketing-cron/cron-secret"
WORK_MS = 3000
BOTH_MINUTES = 2
ONE_MINUTES = 2


def slot_key(boundary):
    return "sla-check:" + time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(boundary))


class Server:
    """One container with the package installed and configured for the stand-in."""

    def __init__(self, machine):
        self.machine = machine
        self.summaries_seen = []

    @classmethod
    def create(cls, own, name, base_rootfs, deb, url, secret):
        machine, _ = boot_with_package(base_rootfs, deb, own / name,
                                       f"tc-{name}-{os.getpid()}")
        try:
            machine.write(CONFIG, f'[api]\nbase_url = "{url}"\ndeadline = 20\n\n'
                                  f'[jobs.sla-check]\npath = "/api/cron/sla-check"\n')
            machine.run(["install", "-m", "0600", "/dev/stdin", SECRET], input=secret + "\n")
        except BaseException:
            machine.discard()
            raise
        return cls(machine)

    def summaries(self):
        return [r for r in self.machine.journal("-t", "ticketing-cron") if "OUTCOME" in r]

    def by_key(self):
        return {r.get("IDEMPOTENCY_KEY"): r for r in self.summaries()}

    def alerts(self):
        return self.machine.handler_records(FAILURE_UNIT)

    def state(self, name):
        """What to look at when a minute went missing: the timer, the service and the
        last run records of this server (or that it is powered off)."""
        if self.machine.pid is None:
            return f"--- {name}: powered off"
        units = self.machine.run(["systemctl", "status", "--no-pager", "--lines=0",
                                  "ticketing-cron.timer", "ticketing-cron.service"],
                                 check=False).stdout
        records = [{k: r.get(k) for k in ("IDEMPOTENCY_KEY", "OUTCOME", "HTTP_STATUS",
                                          "DUPLICATE", "MESSAGE")}
                   for r in self.summaries()[-6:]]
        return f"--- {name}: units\n{units}--- {name}: last run records\n{records}"


def wait_or_explain(predicate, timeout, what, app, servers):
    """wait_for, and on a timeout an error that carries the stand-in's calls and both
    servers' unit states and records, so a missed minute can be told from a late one."""
    try:
        return wait_for(predicate, timeout, what)
    except AssertionError as error:
        calls = [{k: c.get(k) for k in ("idempotency_key", "status", "idempotency",
                                        "received_at")} for c in app.calls()[-8:]]
        states = "\n".join(server.state(name) for name, server in zip("ab", servers))
        raise AssertionError(f"{error}\n--- the stand-in's last calls\n{calls}\n"
                             f"{states}") from None


@pytest.fixture(scope="module")
def two(workdir, base_rootfs, deb, secret):
    own = workdir / "two-servers"
    own.mkdir(exist_ok=True)
    app = Standin(own, secret, dedupe=True)
    servers = []
    try:
        app._request("POST", "/_standin/control", {"delay_ms": WORK_MS})
        started = time.monotonic()
        for name in ("server-a", "server-b"):
            servers.append(Server.create(own, name, base_rootfs, deb, app.url, secret))
        report(f"two servers: booted and installed in {time.monotonic() - started:.0f} s")
        yield app, servers
    finally:
        for server in servers:
            server.machine.discard()
        app.stop()


def test_each_minute_is_done_once_and_survives_one_server_going_down(two):
    app, (a, b) = two
    first = next_boundary(time.time() + 2)
    both = [first + 60 * i for i in range(BOTH_MINUTES)]
    alone = [first + 60 * (BOTH_MINUTES + i) for i in range(ONE_MINUTES)]
    seeded = 0
    for boundary in both + alone:
        if boundary == alone[0]:
            a.machine.poweroff()  # the minute before went by: a is gone for the next ones
        app.seed(expired=1)
        seeded += 1
        sleep_until(boundary + 0.5)
        wait_or_explain(lambda boundary=boundary: len(
                            [c for c in app.calls() if c["idempotency_key"] ==
                             f'"{slot_key(boundary)}"' and c["status"] == 200])
                        >= (2 if boundary in both else 1), 40,
                        f"the calls for {slot_key(boundary)}", app, (a, b))
        time.sleep(WORK_MS / 1000 + 1)  # the first run's reply, both records
        if boundary == both[-1]:
            a_records = wait_or_explain(
                lambda: all(slot_key(t) in a.by_key() for t in both) and a.by_key(), 30,
                "server a's records", app, (a, b))
            a_alerts = a.alerts()

    calls = [c for c in app.calls() if c["received_at"] > first - 1]
    keys = [c["idempotency_key"] for c in calls]
    # Every call is a timer's run that claimed its slot: no catch-up, no manual key.
    assert all(k.startswith('"sla-check:20') and "catchup" not in k for k in keys), keys
    for boundary in both:
        mine = [c for c in calls if c["idempotency_key"] == f'"{slot_key(boundary)}"']
        assert sorted(c["idempotency"] for c in mine) == ["conflict", "new"], mine
    for boundary in alone:
        mine = [c for c in calls if c["idempotency_key"] == f'"{slot_key(boundary)}"']
        assert [c["idempotency"] for c in mine] == ["new"], mine

    # The work was done once per minute: each seeded request unassigned once.
    history = app._request("GET", "/_standin/history")
    ids = [h["request_id"] for h in history]
    assert len(ids) == len(set(ids)) == seeded
    assert all(r["assignee"] is None for r in app.requests())

    b_records = wait_or_explain(
        lambda: all(slot_key(t) in b.by_key() for t in both + alone) and b.by_key(), 30,
        "server b's records", app, (a, b))
    for boundary in both:
        pair = [a_records[slot_key(boundary)], b_records[slot_key(boundary)]]
        assert [r["OUTCOME"] for r in pair] == ["ok", "ok"]
        duplicates = [r for r in pair if r.get("DUPLICATE") == "1"]
        assert len(duplicates) == 1, pair
        assert duplicates[0]["HTTP_STATUS"] == "409"
        assert "another server has this run" in duplicates[0]["MESSAGE"]
        assert duplicates[0]["SCHEDULED_AT"] == slot_key(boundary).split(":", 1)[1]
    for boundary in alone:
        record = b_records[slot_key(boundary)]
        assert record["OUTCOME"] == "ok" and "DUPLICATE" not in record
        assert record["UNASSIGNED_COUNT"] == "1"
    assert a_alerts == [] and b.alerts() == []
    lags = [c["received_at"] - t for t in both + alone for c in calls
            if c["idempotency_key"] == f'"{slot_key(t)}"']
    report(f"two servers: {len(both)} minutes with both (one ok, one 409 duplicate each), "
           f"{len(alone)} with one; request lag after the minute {min(lags) * 1000:.0f}-"
           f"{max(lags) * 1000:.0f} ms")
