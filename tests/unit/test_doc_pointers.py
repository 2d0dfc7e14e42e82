"""Every pointer to documentation that the package shows names something it installs.

The program's messages and help, the journal catalog, the units' Documentation=, the
example config, NEWS and the manual pages point at files under
/usr/share/doc/ticketing-cron/ and at manual pages; each must be a file of the package's
doc list (debian/ticketing-cron.docs, README.Debian, what debian/rules,
.install and .links install there)
or a page it ships (or systemd's), and a section named beside it must exist there. The
system test (tests/system/test_package.py) checks the installed package against the
same doc list. And the README, HACKING.md and the guides link to each other by
relative paths and anchors that resolve.
"""

import re

from doc_pointers import (
    EXTERNAL_PAGES, NOT_DOCUMENTS, TOP, doc_files, headings, man_pages, pointers)

POINTERS = sorted(set(pointers()), key=str)


def of_kind(kind):
    return [(source, target) for source, k, target in POINTERS if k == kind]


def test_the_texts_do_point_at_documentation():
    """The scan finds the pointers it is meant to judge (else the tests below pass idly)."""
    assert ("config.toml.example", "docs/monitoring.md") in of_kind("doc")
    assert ("ticketing_cron/cli.py", ("ticketing-cron", "8")) in of_kind("page")
    assert ("ticketing_cron/schedules/report.py",
            ("docs/servers.md", "One key per scheduled run")) in of_kind("part")


def test_every_doc_list_entry_exists():
    for entry in (TOP / "debian" / "ticketing-cron.docs").read_text().split():
        assert (TOP / entry).exists(), entry
    assert (TOP / "debian" / "README.Debian").is_file()


def test_every_documentation_path_shown_is_installed():
    installed = doc_files()
    missing = [(source, path) for source, path in of_kind("doc")
               if path not in installed
               and not (path.endswith("/") and any(f.startswith(path) for f in installed))]
    assert not missing, f"not installed under /usr/share/doc/ticketing-cron/: {missing}"


def test_every_manual_page_named_is_shipped_or_systemds():
    pages = man_pages() | EXTERNAL_PAGES
    names = {name for name, _ in pages}
    missing = [(source, page) for source, page in of_kind("page")
               if (page not in pages if page[1] else page[0] not in names)]
    assert not missing, f"no such manual page in the package or systemd: {missing}"


def test_every_section_named_exists():
    missing = []
    for source, (target, heading) in of_kind("part"):
        if isinstance(target, tuple):
            path, page = TOP / "debian" / ".".join(target), True
            known = target in man_pages()
        else:
            path, page = TOP / target, False
            known = target in doc_files()
        if not known or heading.lower() not in headings(path.read_text(), page):
            missing.append((source, target, heading))
    assert not missing, f"no such section: {missing}"


def test_every_see_names_a_document():
    loose = [(source, words) for source, words in of_kind("see")
             if not words.startswith(NOT_DOCUMENTS)]
    assert not loose, f'"see ..." naming no installed file or manual page: {loose}'


def slug(heading):
    """A Markdown heading's anchor, as GitHub and most renderers make it."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_every_link_between_the_pages_resolves():
    """README, HACKING and the guides link to each other by relative path and anchor."""
    pages = [TOP / "README.md", TOP / "HACKING.md", *sorted((TOP / "docs").glob("*.md"))]
    broken = []
    for page in pages:
        text = re.sub(r"(?ms)^```.*?^```", "", page.read_text())
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+:", target):
                continue
            path, _, anchor = target.partition("#")
            linked = (page.parent / path).resolve() if path else page
            if not linked.exists():
                broken.append((page.name, target))
            elif anchor and anchor not in {slug(h) for h in re.findall(
                    r"^#+\s+(.+)$", linked.read_text(), re.M)}:
                broken.append((page.name, target))
    assert not broken, broken
