"""ticketing-cron.toml(5) is made from the table of keys and committed: it must be what
dev/manpage_toml.py makes now, and name exactly the table's keys."""

import importlib.util
import re
from pathlib import Path

from ticketing_cron.config.keys import KEYS

REPO = Path(__file__).resolve().parents[3]

PAGE = REPO / "debian" / "ticketing-cron.toml.5"


def generator():
    spec = importlib.util.spec_from_file_location("manpage_toml", REPO / "dev" /
                                                  "manpage_toml.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_committed_page_is_the_generated_one():
    assert PAGE.read_text() == generator().page(), \
        "the key table changed: run dev/manpage_toml.py and commit the page"


def test_the_page_names_exactly_the_tables_keys_in_their_tables():
    text = PAGE.read_text()
    sections = re.split(r"(?m)^\.SH ", text)
    found = set()
    for section in sections:
        title = section.split("\n", 1)[0]
        table = re.search(r"\[(API|JOBS\.NAME|ALERTS)\]", title)
        if table:
            name = table.group(1).lower().replace("name", "NAME")
            found |= {(name, k.replace("\\-", "-"))
                      for k in re.findall(r"(?m)^\.TP\n\.B (\S+)$", section)}
    assert found == {(k.table, k.name) for k in KEYS}


def test_the_package_installs_it():
    assert "debian/ticketing-cron.toml.5" in \
        (REPO / "debian" / "ticketing-cron.manpages").read_text().split()
