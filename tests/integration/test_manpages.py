"""The manual pages render without a warning from man (at lintian's 80 columns), with no
word split across lines (unit names, paths and options must be copyable)."""

import os
import subprocess

import pytest

from support import REPO

PAGES = [REPO / "debian" / "ticketing-cron.8", REPO / "debian" / "ticketing-cron.toml.5"]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_the_page_renders_without_warnings_or_split_words(page):
    proc = subprocess.run(["man", "--warnings", "-l", str(page)], capture_output=True,
                          text=True, timeout=60,
                          env={**os.environ, "MANWIDTH": "80", "MAN_KEEP_FORMATTING": "",
                               "LANG": "C.UTF-8", "MANPAGER": "cat", "PAGER": "cat"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "", proc.stderr
    hyphenated = [line for line in proc.stdout.splitlines() if line.endswith(("\u2010", "-"))]
    assert hyphenated == []
