"""Change api.base_url in the text of a TOML config, keeping every other byte.

tomllib cannot write TOML, and writing a parsed file back would lose its comments.
So the edit is made on the text: the one line that sets base_url in [api] gets a new
value and keeps its indentation, spacing, trailing comment and line ending. The
result is parsed again and must equal the old config with only base_url changed;
anything this careful line edit cannot handle is refused rather than guessed.
"""

import re
import sys

from ticketing_cron.base.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Debian 12 has Python 3.11
    import tomli as tomllib

KEY = r"""(?:base_url|"base_url"|'base_url')"""
API_KEY_LINE = re.compile(r"[ \t]*" + KEY + r"[ \t]*=[ \t]*")
ROOT_KEY_LINE = re.compile(r"""[ \t]*(?:api|"api"|'api')[ \t]*\.[ \t]*""" + KEY +
                           r"[ \t]*=[ \t]*")
HEADER = re.compile(r"[ \t]*\[(?!\[)[ \t]*([^\]\n]*?)[ \t]*\][ \t]*(?:#.*)?\r?\n?")


def toml_string(value):
    """``value`` as a TOML basic string ("..."), with quotes, backslashes and control
    characters escaped."""
    out = []
    for char in value:
        if char in '"\\':
            out.append("\\" + char)
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04X}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def set_base_url(text, url, what):
    """Return ``text`` with api.base_url set to ``url``.

    Args:
        text: the config file's text (valid TOML).
        url: the new value.
        what: how messages name the file.
    Returns:
        The new text; only the value of base_url differs (or, if the key or the [api]
        table was missing, one added line or table).
    Raises:
        ConfigError when the file is not valid TOML or cannot be edited safely.
    """
    try:
        before = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{what}: not valid TOML: {e}; fix it first") from None
    lines = re.findall(r"[^\n]*\n|[^\n]+$", text)
    edited = edit_lines(lines, url, what)
    result = "".join(edited)
    expected = dict(before)
    api = expected.get("api", {})
    if not isinstance(api, dict):
        refuse(what, "api is not a table")
    expected["api"] = dict(api, base_url=url)
    try:
        after = tomllib.loads(result)
    except tomllib.TOMLDecodeError:
        after = None
    if after != expected:
        refuse(what, "the edit would change more than base_url")
    return result


def refuse(what, why):
    raise ConfigError(f"{what}: cannot change api.base_url safely ({why}); "
                    f"set it by hand and run `ticketing-cron check`")


def edit_lines(lines, url, what):
    """The list of lines with base_url's line changed, or a line or table added."""
    table = None
    api_header = None
    found = []
    for index, (line, in_string) in enumerate(zip(lines, string_states(lines))):
        if in_string:
            continue
        header = HEADER.fullmatch(line)
        if header:
            table = header.group(1).replace(" ", "").strip("\"'")
            if table == "api":
                api_header = index
            continue
        if line.lstrip(" \t").startswith("[["):
            table = "[["
            continue
        pattern = API_KEY_LINE if table == "api" else ROOT_KEY_LINE if table is None else None
        match = pattern.match(line) if pattern else None
        if match:
            found.append((index, match.end()))
    if len(found) > 1:
        refuse(what, "base_url is set more than once")
    lines = list(lines)
    if found:
        index, start = found[0]
        lines[index] = replace_value(lines[index], start, url, what)
    elif api_header is not None:
        newline = "\r\n" if lines[api_header].endswith("\r\n") else "\n"
        if not lines[api_header].endswith("\n"):
            lines[api_header] += newline
        lines.insert(api_header + 1, f"base_url = {toml_string(url)}{newline}")
    else:
        if lines and not lines[-1].endswith("\n"):
            lines[-1] += "\n"
        lines.append(f"\n[api]\nbase_url = {toml_string(url)}\n")
    return lines


def replace_value(line, start, url, what):
    """``line`` with the value that begins at ``start`` replaced by url's string."""
    rest = line[start:]
    if rest.startswith(('"""', "'''")):
        refuse(what, "base_url is a multi-line string")
    if rest.startswith('"'):
        end = closing_quote(rest)
    elif rest.startswith("'"):
        end = rest.find("'", 1) + 1
    else:
        end = len(rest.split("#", 1)[0].rstrip(" \t\r\n"))
    if end <= 0:
        refuse(what, "base_url's value has no closing quote")
    return line[:start] + toml_string(url) + rest[end:]


def closing_quote(rest):
    """The index just past the basic string that starts ``rest`` (0 if unclosed)."""
    i = 1
    while i < len(rest):
        if rest[i] == "\\":
            i += 2
            continue
        if rest[i] == '"':
            return i + 1
        if rest[i] == "\n":
            return 0
        i += 1
    return 0


def string_states(lines):
    """For each line, whether it starts inside a multi-line string (so a line that
    looks like a table header or a key there is text, not TOML)."""
    states, inside = [], None
    for line in lines:
        states.append(inside is not None)
        inside = scan_line(line, inside)
    return states


def scan_line(line, inside):
    """The multi-line string delimiter still open at the end of ``line`` (or None),
    given the one open at its start."""
    i = 0
    while i < len(line):
        if inside:
            if inside == '"""' and line[i] == "\\":
                i += 2
                continue
            if line.startswith(inside, i):
                inside = None
                i += 3
                continue
            i += 1
            continue
        char = line[i]
        if char == "#":
            return None
        if line.startswith(('"""', "'''"), i):
            inside = line[i:i + 3]
            i += 3
        elif char == '"':
            i += closing_quote(line[i:]) or len(line)
        elif char == "'":
            close = line.find("'", i + 1)
            i = len(line) if close < 0 else close + 1
        else:
            i += 1
    return inside
