"""Hide the secret in text from the app, even when the app echoed it escaped or cut short.

An exact-substring replace misses the secret once the app or a formatter has changed
it: cut to a length, JSON-escaped (\\u0074, \\", \\/), repr-escaped, percent-encoded,
written as HTML entities, in UTF-16, or any mixture. So the text is looked at in
layers: the original, then the same text with the common escape forms decoded (and
control characters dropped), again up to MAX_LAYERS times for escapes of escapes.
Every decoded character remembers the span of the original it came from. Wherever a
layer holds a run of at least FRAGMENT_CHARS characters that occurs in the secret,
the original span of that run is replaced by [secret].

The work is linear in the text: each layer is at most as long as the one below it,
and runs are found by looking up each FRAGMENT_CHARS-long window in a set of the
secret's windows. Nothing here imports more than `re` (already loaded by urllib3 and
json), and the patterns are compiled only for text that needs them.
"""

import re
from bisect import bisect_right

# Why 12: a run of 12 characters of a random secret carries 60 to 96 bits, so it is
# never matched by chance in a normal reply (no false [secret] in a healthy record),
# while whatever the app shows of the secret in runs shorter than that is at most
# 11 characters, leaving a secret of the recommended length (16 or more) unguessable.
FRAGMENT_CHARS = 12
MARK = "[secret]"
MAX_LAYERS = 4
PREFILTER_CHARS = 256

# One escape, or a run of characters that only disturb the view (controls, zero-width
# and bidi format characters, NUL bytes of UTF-16/32), in the forms apps and formatters
# produce: JSON, JavaScript and Python string escapes, percent-encoding, HTML entities.
DISTURBING = (r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
              r"\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff")
ESCAPE_PATTERN = r"""
    (?:\\[uU]|%[uU])(?P<u4>[0-9A-Fa-f]{4})
  | \\U(?P<u8>[0-9A-Fa-f]{8})
  | (?:\\x|%)(?P<x2>[0-9A-Fa-f]{2})
  | \\(?P<oct>[0-7]{1,3})
  | \\(?P<char>["'\\/bfnrtva])
  | &\#[xX](?P<hexref>[0-9A-Fa-f]{1,8});?
  | &\#(?P<decref>[0-9]{1,10});?
  | &(?P<name>[A-Za-z][A-Za-z0-9]{1,31});
  | (?P<drop>[""" + DISTURBING + r"""]+)
"""
# Only the escapes JSON and Python write: decoding any backslash pair would eat the
# backslash of a secret that holds one ("ab\\cd" HTML-escaped stays "ab\\cd").
SIMPLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v",
                  "a": "\a"}
_escape = None


def redact_text(text, secret_windows, fragment_chars, charset_runs=None):
    """Replace every trace of the secret in ``text`` by [secret].

    Args:
        text: a str (bytes go through redact_bytes).
        secret_windows: the set of the secret's substrings of length fragment_chars.
        fragment_chars: the shortest run that counts as the secret.
        charset_runs: optional compiled pattern matching runs of at least
            fragment_chars characters of the secret's alphabet (speeds up long text).
    Returns:
        The text with each original span that shows a fragment of the secret, in any
        layer, replaced by [secret]; the text itself when there is none.
    """
    if len(text) < fragment_chars:
        return text
    spans = []
    layer, chain = text, []
    for _ in range(MAX_LAYERS + 1):
        for start, end in covered(layer, secret_windows, fragment_chars, charset_runs):
            for segments in reversed(chain):
                start, end = to_source(segments, start, end)
            spans.append((start, end))
        if len(chain) == MAX_LAYERS or not may_hold_escapes(layer):
            break
        decoded = decode_layer(layer)
        if decoded is None:
            break
        layer, segments = decoded
        chain.append(segments)
    if not spans:
        return text
    return replace_spans(text, spans)


def may_hold_escapes(text):
    """False when ``text`` surely holds nothing decode_layer would change: the common
    case, told by C-speed string methods without compiling any pattern."""
    if text.isascii() and text.isprintable():
        return "\\" in text or "%" in text or "&" in text
    return True


def redact_bytes(data, secret_windows, fragment_chars, charset_runs=None):
    """redact_text for bytes (a raw HTTP body): each byte is one character (latin-1),
    so offsets stay exact and the non-ASCII bytes of UTF-8 text come back unchanged."""
    text = data.decode("latin-1")
    redacted = redact_text(text, secret_windows, fragment_chars, charset_runs)
    return data if redacted is text else redacted.encode("latin-1")


def covered(text, secret_windows, fragment_chars, charset_runs=None):
    """Yield (start, end) of each stretch of ``text`` covered by windows of the secret.

    A stretch is a union of overlapping fragment_chars-long windows that each occur
    in the secret, so it contains every run of the secret at least that long.
    """
    if charset_runs is not None and len(text) > PREFILTER_CHARS:
        candidates = ((m.start(), m.end()) for m in charset_runs.finditer(text))
    else:
        candidates = ((0, len(text)),)
    k = fragment_chars
    for lo, hi in candidates:
        start = end = -1
        for i in range(lo, hi - k + 1):
            if text[i:i + k] in secret_windows:
                if i > end:
                    if end >= 0:
                        yield start, end
                    start = i
                end = i + k
        if end >= 0:
            yield start, end


def decode_layer(text):
    """Decode one level of escapes in ``text``.

    Returns:
        (decoded text, segments), or None when nothing was decoded. Segments are two
        lists: the decoded offset where each segment starts, and for each segment
        (decoded start, source start, source end, literal?), literal segments mapping
        character for character and escapes mapping as a whole.
    """
    global _escape
    if _escape is None:
        _escape = re.compile(ESCAPE_PATTERN, re.VERBOSE)
    pieces, starts, segments = [], [], []
    pos = out = 0
    matched = False
    for m in _escape.finditer(text):
        matched = True
        a, b = m.span()
        if a > pos:
            starts.append(out)
            segments.append((out, pos, a, True))
            pieces.append(text[pos:a])
            out += a - pos
        value = decode_escape(m)
        if value:
            starts.append(out)
            segments.append((out, a, b, False))
            pieces.append(value)
            out += len(value)
        pos = b
    if not matched:
        return None
    if pos < len(text):
        starts.append(out)
        segments.append((out, pos, len(text), True))
        pieces.append(text[pos:])
    return "".join(pieces), (starts, segments)


def decode_escape(m):
    """The text one escape match stands for ('' for characters that are dropped)."""
    kind = m.lastgroup
    value = m.group(kind)
    if kind == "drop":
        return ""
    if kind == "char":
        return SIMPLE_ESCAPES.get(value, value)
    if kind == "name":
        return named_entity(value) or m.group(0)
    base = {"u4": 16, "u8": 16, "x2": 16, "hexref": 16, "oct": 8, "decref": 10}[kind]
    code = int(value, base)
    return chr(code) if code <= 0x10FFFF else "\ufffd"


def named_entity(name):
    """The text of an HTML entity such as &quot; or &sol;, or None (rare: lazy import)."""
    from html.entities import html5

    return html5.get(name + ";")


def to_source(segments, start, end):
    """Map the span [start, end) of a decoded layer to a span of the layer below."""
    starts, table = segments
    d0, s0, e0, literal = table[bisect_right(starts, start) - 1]
    source_start = s0 + (start - d0) if literal else s0
    d1, s1, e1, literal = table[bisect_right(starts, end - 1) - 1]
    source_end = s1 + (end - 1 - d1) + 1 if literal else e1
    return source_start, source_end


def replace_spans(text, spans):
    """``text`` with each span (overlapping or touching ones merged) replaced by [secret]."""
    spans.sort()
    out, pos = [], 0
    start, end = spans[0]
    for s, e in spans[1:]:
        if s <= end:
            end = max(end, e)
            continue
        out += (text[pos:start], MARK)
        pos, start, end = end, s, e
    out += (text[pos:start], MARK, text[end:])
    return "".join(out)


def secret_windows(secret, fragment_chars=FRAGMENT_CHARS):
    """(windows, k): the set of the secret's k-character substrings, k being
    fragment_chars or the secret's whole length when it is shorter."""
    k = min(fragment_chars, len(secret))
    return {secret[i:i + k] for i in range(len(secret) - k + 1)}, k


class Redactor:
    """Hides one secret in text and bytes; see redact_text.

    Args:
        secret: the secret (a non-empty str).
    """

    def __init__(self, secret):
        self.windows, self.k = secret_windows(secret)
        self.alphabet = "".join(sorted(set(secret)))
        self._runs = None

    def charset_runs(self, length):
        """The prefilter pattern, compiled only for long text."""
        if length <= PREFILTER_CHARS:
            return None
        if self._runs is None:
            chars = "".join(re.escape(c) for c in self.alphabet)
            self._runs = re.compile(f"[{chars}]{{{self.k},}}")
        return self._runs

    def text(self, text):
        """``text`` with the secret, its escaped forms and long fragments replaced."""
        return redact_text(text, self.windows, self.k, self.charset_runs(len(text)))

    def bytes(self, data):
        """The same for bytes (an HTTP body), byte offsets kept."""
        return redact_bytes(data, self.windows, self.k, self.charset_runs(len(data)))
