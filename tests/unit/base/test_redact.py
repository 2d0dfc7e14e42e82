"""Redaction of the secret in every form an app or a formatter may turn it into."""

import html
import json
import secrets
import urllib.parse

import pytest

from ticketing_cron.base.redact import FRAGMENT_CHARS, Redactor

# Characters that JSON, repr, percent-encoding and HTML each escape differently.
SECRET = f"tc-{secrets.token_urlsafe(8)}\"{secrets.token_urlsafe(8)}\\{secrets.token_urlsafe(8)}" \
         f"'{secrets.token_urlsafe(8)}/%&<>{secrets.token_urlsafe(8)}"


def forms(s):
    """The secret (or a part of it) as apps and libraries write it."""
    return {
        "raw": s,
        "json": json.dumps(s)[1:-1],
        "json-every-char": "".join(f"\\u{ord(c):04x}" for c in s),
        "json-slash-escaped": json.dumps(s)[1:-1].replace("/", "\\/"),
        "repr": repr(s)[1:-1],
        "repr-of-bytes": repr(s.encode())[2:-1],
        "json-of-repr": json.dumps(repr(s)[1:-1])[1:-1],
        "percent": urllib.parse.quote(s, safe=""),
        "percent-every-char": "".join(f"%{ord(c):02X}" for c in s),
        "percent-of-json": urllib.parse.quote(json.dumps(s)[1:-1]),
        "html": html.escape(s),
        "html-numeric": "".join(f"&#{ord(c)};" for c in s),
        "html-hex": "".join(f"&#x{ord(c):x};" for c in s),
        "html-of-json": html.escape(json.dumps(s)[1:-1]),
        "mixed": "".join(f"%{ord(c):02x}" if i % 3 == 0 else f"\\u{ord(c):04X}" if i % 3 == 1
                         else c for i, c in enumerate(s)),
        "escape-between-chars": "\x1b".join(s),
        "zero-width-between-chars": "\u200b".join(s),
    }


def leaks(text, secret=SECRET):
    """Each form of each FRAGMENT_CHARS-long fragment of the secret found in text."""
    found = []
    for i in range(len(secret) - FRAGMENT_CHARS + 1):
        for name, form in forms(secret[i:i + FRAGMENT_CHARS]).items():
            if form.lower() in text.lower():
                found.append(name)
    return found


@pytest.mark.parametrize("name", sorted(forms(SECRET)))
def test_every_form_of_the_whole_secret_is_hidden(name):
    text = f"error: {forms(SECRET)[name]} (request 42)"
    redacted = Redactor(SECRET).text(text)
    assert "[secret]" in redacted and not leaks(redacted), redacted
    assert redacted.startswith("error: ") and redacted.endswith(" (request 42)")


@pytest.mark.parametrize("name", sorted(forms(SECRET)))
@pytest.mark.parametrize("cut", [FRAGMENT_CHARS, 20, 200])
def test_cut_short_secrets_are_hidden(name, cut):
    # Cut before escaping (the app truncates) and after (a formatter truncates).
    for text in (forms(SECRET[:cut])[name], forms(SECRET)[name][:cut * 6],
                 forms(SECRET[-cut:])[name]):
        redacted = Redactor(SECRET).text("x" * 150 + text)
        assert not leaks(redacted), (name, cut, redacted)


def test_utf16_and_utf32_bodies_are_hidden():
    redactor = Redactor(SECRET)
    for encoding in ("utf-16", "utf-16-be", "utf-32"):
        body = json.dumps({"success": False, "error": SECRET}).encode(encoding)
        redacted = redactor.bytes(body)
        assert not leaks(redacted.decode(encoding, "replace")), encoding
        assert not leaks(redacted.decode("latin-1").replace("\0", ""))


def test_bytes_keep_everything_else_byte_for_byte():
    body = "{\"error\": \"ungültig: ".encode() + SECRET.encode() + " ✓\"}".encode()
    assert Redactor(SECRET).bytes(body) == "{\"error\": \"ungültig: [secret] ✓\"}".encode()


def test_text_without_the_secret_is_returned_as_it_is():
    text = json.dumps({"success": True, "unassignedCount": 3,
                       "timestamp": "2024-01-01T00:00:00.000Z", "durationMs": 45,
                       "note": "a%20b \\u0041 &amp; \\\\ \x1b[2K"})
    redactor = Redactor(SECRET)
    assert redactor.text(text) is text
    assert redactor.bytes(text.encode()) == text.encode()


def test_fragments_shorter_than_the_limit_stay():
    part = SECRET[5:5 + FRAGMENT_CHARS - 1]
    assert Redactor(SECRET).text(f"a {part} b") == f"a {part} b"


def test_a_secret_shorter_than_the_limit_is_matched_whole_only():
    redactor = Redactor("hunter2")
    assert redactor.text("pw hunter2, hunter 2, hunte") == "pw [secret], hunter 2, hunte"
    assert redactor.text("pw %68unter2") == "pw [secret]"


def test_several_occurrences_and_touching_ones():
    redactor = Redactor(SECRET)
    text = f"{SECRET}{SECRET} and {json.dumps(SECRET)} and {SECRET[:20]}"
    assert redactor.text(text) == '[secret] and "[secret]" and [secret]'


def test_escapes_nested_deeper_than_the_layers_are_bounded():
    # Percent-encoding applied ten times: decoding stops after MAX_LAYERS; no hang,
    # the text comes back (nothing decodable reached the secret).
    text = "x"
    for _ in range(10):
        text = urllib.parse.quote(text + "%")
    assert Redactor(SECRET).text(text) == text


def test_a_megabyte_of_escapes_is_handled():
    body = b"\\u0041%41&#65;" * (1024 * 1024 // 14) + json.dumps(SECRET).encode()
    redacted = Redactor(SECRET).bytes(body)
    assert redacted.endswith(b'"[secret]"')
    assert len(redacted) < len(body)
