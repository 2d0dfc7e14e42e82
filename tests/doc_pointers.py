"""What the package tells its reader to go and read, and what it installs to be read.

pointers() collects, from everything the program and the package show an
administrator (the program's strings, the journal catalog, the units' Documentation=,
the example config, the manual pages, NEWS), every reference to documentation: a path
under /usr/share/doc/ticketing-cron/, a manual page (NAME(N), man NAME, man:NAME(N)),
and the target of every "see ...". doc_files() is the set of files the package installs
under /usr/share/doc/ticketing-cron/, read from debian/ as debhelper reads it.
"""

import ast
import re
from pathlib import Path

TOP = Path(__file__).resolve().parents[1]
DOC = "/usr/share/doc/ticketing-cron/"

# Manual pages of other packages that the texts name: all from systemd, which every
# Debian 12 system has (the system tests check each with man -w in the container).
EXTERNAL_PAGES = {
    ("journalctl", "1"), ("systemctl", "1"), ("systemd-creds", "1"),
    ("systemd.exec", "5"), ("systemd.timer", "5"), ("systemd.time", "7"),
}

# "see ..." that points at no document: the app's own logs, a command's own output.
NOT_DOCUMENTS = ("the app's logs", "what it would do", "the traceback", "new keys",
                 "above")

# What debhelper puts under /usr/share/doc/<package> besides the .docs list.
STANDARD_DOCS = {"copyright", "changelog.gz", "NEWS.Debian.gz"}


def doc_files(top=TOP):
    """The files under /usr/share/doc/ticketing-cron/ that the package installs.

    Takes: the source tree's top directory.
    Returns: a set of paths relative to that directory: the .docs list (a directory
        keeps its name, a file its base name), README.Debian, what debian/rules
        and debian/ticketing-cron.install and .links put there, and debhelper's
        standard files.
    """
    found = set(STANDARD_DOCS)
    for entry in (top / "debian" / "ticketing-cron.docs").read_text().split():
        path = top / entry
        if path.is_dir():
            found |= {f"{path.name}/{f.relative_to(path)}" for f in path.rglob("*")
                      if f.is_file()}
        else:
            found.add(path.name)
    if (top / "debian" / "README.Debian").exists():
        found.add("README.Debian")
    found |= installed_by_rules((top / "debian" / "rules").read_text())
    found |= installed_by_lists(top / "debian")
    return found


def installed_by_lists(debian):
    """What debian/ticketing-cron.install and .links put under the doc directory,
    relative to it: `SRC DIR/` installs DIR/name-of-SRC, dh-exec's `SRC => PATH` installs
    PATH, a link line `TARGET LINK` makes LINK (paths with or without the leading /)."""
    found = set()
    for name in ("ticketing-cron.install", "ticketing-cron.links"):
        path = debian / name
        if not path.exists():
            continue
        for line in path.read_text().splitlines():
            words = line.split("#", 1)[0].split()
            if len(words) == 3 and words[1] == "=>":
                dest = words[2]
            elif len(words) == 2 and name.endswith(".links"):
                dest = words[1]
            elif len(words) == 2:
                dest = words[1].rstrip("/") + "/" + Path(words[0]).name
            else:
                continue
            dest = "/" + dest.lstrip("/")
            if dest.startswith(DOC):
                found.add(dest[len(DOC):])
    return found


def installed_by_rules(rules):
    """What debian/rules' `install` commands put under the doc directory, relative to it
    (`install [-D] [-m MODE] SRC DEST` and `install -t DIR SRC...`)."""
    found = set()
    prefix = "debian/ticketing-cron" + DOC
    for command in rules.replace("\\\n", " ").splitlines():
        words = command.split()
        if not words or words[0] != "install":
            continue
        args, target, i = [], None, 1
        while i < len(words):
            if words[i] in ("-m", "-t", "-o", "-g"):
                if words[i] == "-t":
                    target = words[i + 1]
                i += 2
                continue
            if not words[i].startswith("-"):
                args.append(words[i])
            i += 1
        if target:
            dests = [f"{target}/{Path(src).name}" for src in args]
        else:
            dests = args[-1:]
        found |= {d[len(prefix):] for d in dests if d.startswith(prefix)}
    return found


def man_pages(top=TOP):
    """The manual pages the package ships, as (name, section) pairs."""
    pages = set()
    for entry in (top / "debian" / "ticketing-cron.manpages").read_text().split():
        name, section = Path(entry).name.rsplit(".", 1)
        pages.add((name, section))
    return pages


def program_strings(top=TOP):
    """Every string literal of the package's code that is not a docstring.

    Returns: (file, text) pairs; an f-string's replacement fields read as "{}".
    """
    for path in sorted((top / "ticketing_cron").rglob("*.py")):
        tree = ast.parse(path.read_text())
        docstrings = set()
        for node in ast.walk(tree):
            body = getattr(node, "body", None)
            if isinstance(body, list) and body and isinstance(body[0], ast.Expr) \
                    and isinstance(body[0].value, ast.Constant):
                docstrings.add(id(body[0].value))
        for node in ast.walk(tree):
            if isinstance(node, ast.JoinedStr):
                text = "".join(part.value if isinstance(part, ast.Constant) else "{}"
                               for part in node.values)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) \
                    and id(node) not in docstrings:
                text = node.value
            else:
                continue
            yield f"{path.relative_to(top)}", text


def deroff(text):
    """A manual page's source as its reader sees the words (near enough for names)."""
    text = text.replace("\\-", "-").replace("\\e", "\\")
    text = re.sub(r"\\f[BIRP]", "", text)
    text = re.sub(r'^\.(?:BR|IR|B|I)\s+"?([^"\s]+)"?\s+\((\d)\)', r"\1(\2)", text, flags=re.M)
    return re.sub(r"^\.[A-Z]+\s?", "", text, flags=re.M)


def shown_texts(top=TOP):
    """(source, text) of everything the package shows an administrator."""
    yield from program_strings(top)
    yield "systemd/ticketing-cron.catalog", (top / "systemd" / "ticketing-cron.catalog").read_text()
    for unit in sorted((top / "systemd").glob("ticketing-cron*")):
        if unit.is_file():
            for line in unit.read_text().splitlines():
                if line.startswith("Documentation="):
                    yield f"systemd/{unit.name}", line
    yield "config.toml.example", (top / "config.toml.example").read_text()
    yield "debian/NEWS", (top / "debian" / "NEWS").read_text()
    yield "debian/README.Debian", (top / "debian" / "README.Debian").read_text()
    for page in (top / "debian" / "ticketing-cron.manpages").read_text().split():
        yield page, deroff((top / page).read_text())


PAGE = re.compile(r"(?<![\w.-])(?:man:)?([a-z][a-z0-9_.-]*[a-z0-9])\(([1-8])\)")
MAN_COMMAND = re.compile(r"\bman\s+(?:([1-8])\s+)?(ticketing-cron[a-z.]*[a-z])")
PATH = re.compile(re.escape(DOC) + r"([\w./-]*[\w/])")
SEE = re.compile(r"\b[Ss]ee\s+(?!also\b)([^\n;,]{1,80})")
# A part of a page or guide named beside it: "(ticketing-cron(8), Encrypted secret)",
# "docs/servers.md, "One key per scheduled run"", or a quoted heading after "see".
PAGE_PART = re.compile(r"\b(ticketing-cron[a-z.]*)\(([1-8])\), ([A-Z][\w -]+)\)")
HEADING_IN_PAGE = re.compile(r'"([A-Z][\w -]+)"\s+in\s+(ticketing-cron[a-z.]*)\(([1-8])\)')
DOC_PART = re.compile(re.escape(DOC) + r'([\w./-]*\w),?\s*(?:#\s*)?\(?"([^"]+)"')
QUOTED = re.compile(r'^"([^"]+)"')


def headings(text, page):
    """The section headings of a guide (Markdown) or of a manual page (roff)."""
    if page:
        return {h.strip().strip('"').lower() for h in re.findall(
            r"^\.S[HS]\s+(.+)$", text.replace("\\-", "-"), re.M)}
    return {h.strip().lower() for h in re.findall(r"^#+\s+(.+)$", text, re.M)}


def pointers(top=TOP):
    """Every reference to documentation in what the package shows.

    Returns: (source, kind, target) triples. kind "page": (name, section), section
        None for `man NAME`; "doc": a path under the package's doc directory; "part":
        (page (name, section) or doc path, heading); "see": the words after a "see"
        that named none of these.
    """
    for source, text in shown_texts(top):
        for name, section in PAGE.findall(text):
            yield source, "page", (name, section)
        for section, name in MAN_COMMAND.findall(text):
            yield source, "page", (name, section or None)
        for path in PATH.findall(text):
            yield source, "doc", path
        for name, section, heading in PAGE_PART.findall(text):
            yield source, "part", ((name, section), heading)
        for heading, name, section in HEADING_IN_PAGE.findall(text):
            yield source, "part", ((name, section), heading)
        for path, heading in DOC_PART.findall(text):
            yield source, "part", (path, heading)
        for match in SEE.finditer(text):
            words = match.group(1).strip()
            quoted = QUOTED.match(words)
            if quoted and source.startswith("debian/ticketing-cron."):
                name, section = Path(source).name.rsplit(".", 1)
                yield source, "part", ((name, section), quoted.group(1))
            elif not (PAGE.match(words) or MAN_COMMAND.match(words) or PATH.match(words)
                      or words.startswith("`man ")):
                yield source, "see", words
