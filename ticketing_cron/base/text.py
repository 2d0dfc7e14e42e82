"""Text that is safe to show: for a terminal, for one line of a record, and counted."""

UNPRINTABLE = "\ufffd"


def printable(text, keep_newlines=False):
    """``text`` safe for a terminal: whitespace other than the space (and the newline
    when kept) becomes a space; every other control, format, bidi, private-use or
    unassigned character becomes U+FFFD, visibly. Plain text is returned as it is."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() or (keep_newlines and c == "\n")
                   else " " if c.isspace() else UNPRINTABLE for c in text)


def one_line(text, limit):
    """``text`` as one line of printable text of at most ``limit`` characters: every
    unprintable character a space, runs of white space one space, a longer text cut
    with an ellipsis."""
    text = "".join(c if c.isprintable() else " " for c in text)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def plural(n, word):
    """'1 attempt', '3 attempts'."""
    return f"{n} {word}{'' if n == 1 else 's'}"
