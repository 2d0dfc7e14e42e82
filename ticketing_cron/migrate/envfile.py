"""Read a dotenv file (the old Node.js app's .env) strictly.

The grammar is the common one of dotenv readers: `NAME=value` lines, comments and
blank lines, an optional `export ` prefix, single quotes (literal), double quotes
(with backslash escapes), backticks (literal, as Node's dotenv reads them), inline
comments after whitespace, quoted values spanning lines, CRLF or CR line endings and
a UTF-8 byte order mark. The last of duplicate names wins. No `${VAR}` expansion:
Node's dotenv does none either.

Unlike the usual readers, which skip what they cannot parse, anything malformed is an
error naming its line. Messages never quote a value: any of them may be a secret.
"""

import os
import re
import stat
from collections import namedtuple

from ticketing_cron.base.errors import ConfigError, unreadable

# A .env is a handful of lines; anything bigger is not one.
MAX_BYTES = 64 * 1024
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
EXPORT = re.compile(r"export[ \t]+")
DOUBLE_QUOTE_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "a": "\a", "b": "\b", "f": "\f",
                        "v": "\v", "\\": "\\", '"': '"', "'": "'"}

Entry = namedtuple("Entry", "value line quote escaped")
Entry.__doc__ = """One variable: its value, the line it starts on, the quote character
it was written with ("" for none), and whether a backslash escape was decoded."""


def read_envfile(path):
    """Read and parse a dotenv file (read_env_bytes, then parse_envfile).

    Returns:
        dict of name -> Entry, in file order (a duplicate keeps its first position,
        with the last value).
    Raises:
        ConfigError for an unsafe, unreadable, oversized, non-UTF-8 or malformed file.
    """
    return parse_envfile(read_env_bytes(path), f".env {path}")


def read_env_bytes(path):
    """The bytes of a .env file that root may safely read for someone else.

    import-env runs as root on a file another user owns, so the file must be the one
    named: no symbolic link anywhere on its path and no second name (hard link), or
    its owner could point root at a file only root may read; and no one but its owner
    may change it (the file not group- or world-writable, its directory not
    world-writable without the sticky bit). It is read once, through one descriptor.

    Args:
        path: the file.
    Returns:
        bytes, at most MAX_BYTES.
    Raises:
        ConfigError naming the problem and the fix; never quoting the file's content.
    """
    what = f".env {path}"
    absolute = os.path.abspath(path)
    real = os.path.realpath(absolute)
    if real != absolute:
        raise ConfigError(f"{what}: the path goes through a symbolic link (to {real}), "
                          f"which import-env does not follow, since it reads as root what "
                          f"the link's owner chose; give the real path if that is the file")
    try:
        # O_NOFOLLOW: the last component cannot become a link after the check above.
        # O_NONBLOCK: a FIFO must not hang the command; it is refused below.
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY
                     | os.O_CLOEXEC)
    except OSError as e:
        raise unreadable(what, e, "give the path of the old app's .env file",
                         "run as root") from None
    problem = unsafe_file(os.fstat(fd), os.stat(os.path.dirname(absolute)))
    if problem:
        os.close(fd)
        raise ConfigError(f"{what}: {problem}")
    with os.fdopen(fd, "rb") as f:
        try:
            data = f.read(MAX_BYTES + 1)
        except OSError as e:
            raise unreadable(what, e, "", "run as root") from None
    if len(data) > MAX_BYTES:
        raise ConfigError(f"{what}: larger than {MAX_BYTES // 1024} KiB; "
                        f"that is not a .env file")
    return data


def content_digest(data):
    """The SHA-256 of a .env's bytes, in hex: what a dry run shows and an import with
    --expect-sha256 compares."""
    import hashlib

    return hashlib.sha256(data).hexdigest()


def unsafe_file(st, directory_st):
    """Why a .env must not be read (from fstat of the file and stat of its directory),
    with the fix; or None."""
    if not stat.S_ISREG(st.st_mode):
        return "not a regular file"
    if st.st_nlink != 1:
        return ("has other names (hard links), so it may be another file than the one "
                "meant; copy it (cp) and import the copy")
    mode = stat.S_IMODE(st.st_mode)
    if mode & (stat.S_IWGRP | stat.S_IWOTH):
        return (f"writable by others than its owner (mode {mode:04o}), who could change it "
                f"between your review and the import; chmod go-w it first")
    dir_mode = stat.S_IMODE(directory_st.st_mode)
    if dir_mode & stat.S_IWOTH and not dir_mode & stat.S_ISVTX:
        return (f"its directory is writable by every user (mode {dir_mode:04o}), who could "
                f"replace the file; move it to a directory only its owner can change")
    return None


def parse_envfile(data, what):
    """Parse the bytes of a dotenv file.

    Args:
        data: the file's bytes.
        what: how messages name the file.
    Returns:
        dict of name -> Entry.
    Raises:
        ConfigError, naming the line, for anything malformed.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[:e.start].count(b"\n") + 1
        raise ConfigError(f"{what}: line {line}: not UTF-8 text") from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return Parser(text, what).parse()


class Parser:
    """A one-pass scanner over the text (line endings already normalised to \\n)."""

    def __init__(self, text, what):
        self.text = text
        self.what = what
        self.pos = 0
        self.line = 1

    def fail(self, line, problem):
        raise ConfigError(f"{self.what}: line {line}: {problem}")

    def skip_blanks(self):
        while self.pos < len(self.text) and self.text[self.pos] in " \t":
            self.pos += 1

    def skip_to_line_end(self):
        end = self.text.find("\n", self.pos)
        self.pos = len(self.text) if end < 0 else end

    def parse(self):
        entries = {}
        while True:
            self.skip_blanks()
            if self.pos >= len(self.text):
                return entries
            char = self.text[self.pos]
            if char == "\n":
                self.pos += 1
                self.line += 1
                continue
            if char == "#":
                self.skip_to_line_end()
                continue
            name, entry = self.parse_assignment()
            entries[name] = entry

    def parse_assignment(self):
        start = self.line
        export = EXPORT.match(self.text, self.pos)
        if export and NAME.match(self.text, export.end()):
            self.pos = export.end()
        name = NAME.match(self.text, self.pos)
        if not name:
            self.fail(start, "expected NAME=value (a name of letters, digits and _)")
        self.pos = name.end()
        self.skip_blanks()
        if not self.text.startswith("=", self.pos):
            self.fail(start, f"{name.group()}: expected '=' after the name")
        self.pos += 1
        self.skip_blanks()
        quote = self.text[self.pos:self.pos + 1]
        if quote in ("'", "`"):
            value, escaped = self.literal(quote, name.group(), start), False
        elif quote == '"':
            value, escaped = self.double_quoted(name.group(), start)
        else:
            return name.group(), Entry(self.unquoted(), start, "", False)
        self.skip_blanks()
        if self.text.startswith("#", self.pos):
            self.skip_to_line_end()
        if self.pos < len(self.text) and self.text[self.pos] != "\n":
            self.fail(self.line, f"{name.group()}: unexpected text after the closing quote")
        return name.group(), Entry(value, start, quote, escaped)

    def literal(self, quote, name, start):
        end = self.text.find(quote, self.pos + 1)
        if end < 0:
            self.fail(start, f"{name}: the opening {quote} is never closed")
        value = self.text[self.pos + 1:end]
        self.line += value.count("\n")
        self.pos = end + 1
        return value

    def double_quoted(self, name, start):
        out, escaped, i = [], False, self.pos + 1
        text = self.text
        while i < len(text):
            char = text[i]
            if char == '"':
                self.pos = i + 1
                return "".join(out), escaped
            if char == "\\" and i + 1 < len(text) and text[i + 1] in DOUBLE_QUOTE_ESCAPES:
                out.append(DOUBLE_QUOTE_ESCAPES[text[i + 1]])
                escaped = True
                i += 2
                continue
            if char == "\n":
                self.line += 1
            out.append(char)
            i += 1
        self.fail(start, f'{name}: the opening " is never closed')

    def unquoted(self):
        end = self.text.find("\n", self.pos)
        end = len(self.text) if end < 0 else end
        raw = self.text[self.pos:end]
        self.pos = end
        comment = re.search(r"[ \t]#", raw)
        if comment:
            raw = raw[:comment.start()]
        return raw.rstrip(" \t")
