"""`status` text and JSON against golden files (tests/golden/status/CASE/).

Each case is a directory with the administrator's ``config.toml`` and a
``scenario.json``: what systemd says of the units (``units``: properties per unit over
the defaults of a loaded, enabled, active timer), each job's runs (``runs``: per job a
list of [seconds before now, outcome, duration ms, requests unassigned]) and the alert
handler's streak file (``streak``: its contents, or null; ``streak_readable``).
``expected/status.txt`` and ``expected/status.json`` are what `status` and
`status --json` print. See tests/golden_files.py to regenerate.
"""

import json

import pytest

from golden_files import cases, compare
from ticketing_cron.config.load import load_config
from ticketing_cron.status import status
from ticketing_cron.status.status_text import render

from .records import run

NOW = 1_764_417_600.0  # 2025-11-29 12:00:00 UTC


def show_from(scenario):
    """A units.show stand-in answering from the scenario's ``units``."""
    def show(names):
        result = {}
        for name in names:
            if name.endswith(".timer"):
                props = {"Id": name, "LoadState": "loaded", "UnitFileState": "enabled",
                         "ActiveState": "active", "LastTriggerUSec": NOW - 30,
                         "NextElapseUSecRealtime": NOW + 30}
            else:
                props = {"Id": name, "LoadState": "loaded", "ActiveState": "inactive"}
            props.update(scenario.get("units", {}).get(name, {}))
            result[name] = props
        return result
    return show


def history_from(scenario):
    """A journal_runs.job_history stand-in answering from the scenario's ``runs``."""
    def history(service, job, now, uids):
        day = [run(now - ago, outcome, duration, unassigned)
               for ago, outcome, duration, unassigned in scenario.get("runs", {}).get(job, [])]
        good = [r for r in day if r["outcome"] == "ok"]
        return {"day": day, "last_run": day[-1] if day else None,
                "last_success": good[-1] if good else None}
    return history


@pytest.mark.parametrize("case", cases("status"), ids=lambda p: p.name)
def test_status_matches_golden_files(case, tmp_path):
    scenario = json.loads((case / "scenario.json").read_text())
    config_path = tmp_path / "config.toml"
    config_path.write_text((case / "config.toml").read_text())
    config = load_config(str(config_path))
    streak = scenario.get("streak")
    report = status.collect(config, [config.jobs[n] for n in sorted(config.jobs)], NOW,
                            show=show_from(scenario), history=history_from(scenario),
                            load_streak=lambda service: (
                                streak, scenario.get("streak_readable", True)))
    compare(case / "expected", {"status.txt": render(report, NOW),
                                "status.json": json.dumps(report, indent=2) + "\n"})
