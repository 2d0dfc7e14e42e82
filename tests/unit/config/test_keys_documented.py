"""config.keys.KEYS is the one list of config keys: config.toml.example and the
table of keys in docs/configuration.md say the same, and validation knows no other key."""

import re
from pathlib import Path

import pytest

from ticketing_cron.config.keys import KEYS, TABLES
from ticketing_cron.config.validate import READERS, validate

REPO = Path(__file__).resolve().parents[3]
DECLARED = {f"{k.table}.{k.name}" for k in KEYS}


def example_keys(text):
    """Every key of config.toml.example, set or commented out ('# key = value')."""
    found, table = set(), None
    for line in text.splitlines():
        line = line.strip()
        header = re.fullmatch(r"#?\s*\[([a-z.\-]+)\]", line)
        if header:
            name = header.group(1)
            table = "jobs.NAME" if name.startswith("jobs.") else name
            continue
        setting = re.fullmatch(r"#?\s*([a-z_]+)\s*=\s*\S.*", line)
        if setting and table:
            found.add(f"{table}.{setting.group(1)}")
    return found


def guide_keys(text):
    """The keys in the first column of the configuration guide's table of keys."""
    return set(re.findall(r"^\| `((?:api|jobs\.NAME|alerts)\.[a-z_]+)` \|", text, re.M))


def test_the_example_config_names_exactly_the_declared_keys():
    assert example_keys((REPO / "config.toml.example").read_text()) == DECLARED


def test_the_configuration_guide_table_names_exactly_the_declared_keys():
    assert guide_keys((REPO / "docs" / "configuration.md").read_text()) == DECLARED


def test_every_key_has_a_reader_a_table_and_a_description():
    for key in KEYS:
        assert key.kind in READERS, key
        assert key.table.split(".")[0] in TABLES, key
        assert key.description and "\n" not in key.description, key


@pytest.mark.parametrize("key", KEYS, ids=lambda k: f"{k.table}.{k.name}")
def test_every_declared_key_is_accepted_and_no_other(key):
    """An unknown key next to each declared one: only the unknown one is refused."""
    table = "jobs.sla-check" if key.table == "jobs.NAME" else key.table
    problems = []
    data = {"api": {"base_url": "https://tickets.acme.test"},
            "jobs": {"sla-check": {"path": "/api/cron/sla-check"}}}
    section = data["jobs"]["sla-check"] if table.startswith("jobs") else \
        data.setdefault(table, {})
    section["zz_not_a_key"] = 1
    validate(data, "/c.toml", problems)
    assert [p for p in problems if "unknown key" in p] == [f"{table}.zz_not_a_key: unknown "
                                                          f"key; known keys: " +
                                                          ", ".join(sorted(
                                                              k.name for k in KEYS
                                                              if k.table == key.table))]
