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
    """Read and parse a dotenv file.

    Args:
        path: the file.
    Returns:
        dict of name -> Entry, in file order (a duplicate keeps its first position,
        with the last value).
    Raises:
        ConfigError for an unreadable, oversized, non-UTF-8 or malformed file.
    """
    what = f".env {path}"
    try:
        # O_NONBLOCK: a FIFO must not hang the command; it is refused below.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as e:
        raise unreadable(what, e, "give the path of the old app's .env file",
                         "run as root") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise ConfigError(f"{what}: not a regular file")
    with os.fdopen(fd, "rb") as f:
        try:
            data = f.read(MAX_BYTES + 1)
        except OSError as e:
            raise unreadable(what, e, "", "run as root") from None
    if len(data) > MAX_BYTES:
        raise ConfigError(f"{what}: larger than {MAX_BYTES // 1024} KiB; "
                        f"that is not a .env file")
    return parse_envfile(data, what)


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
