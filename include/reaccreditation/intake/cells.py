"""Cell text as typed and as kept: what reading removes from a value, recorded so the answer can say so.

Control characters cannot be stored (NUL in PostgreSQL) or written to an .xlsx, and invisible characters
(zero-width space, bidirectional overrides) hide or reorder text; both are removed. Zero-width joiners and
direction marks are kept in text (emoji and right-to-left scripts need them) but refused in a link, where
any invisible character may make it go somewhere other than it seems.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
INVISIBLE = re.compile(r"[\u00ad\u180e\u200b\u2060-\u2064\ufeff\u202a-\u202e\u2066-\u2069]")
HEADER_JUNK = re.compile(r"[\x00-\x1f\x7f-\x9f\u00ad\u180e\u200b-\u200f\u2060-\u2064\ufeff\u202a-\u202e\u2066-\u2069\u061c]")
# Excel's error values: a formula that could not be worked out, shown in the cell instead of a value.
ERROR_VALUES = {
    "#NULL!": "two ranges that do not meet",
    "#DIV/0!": "a division by zero",
    "#VALUE!": "a formula that could not be worked out",
    "#REF!": "a formula that refers to cells that were deleted",
    "#NAME?": "a formula with a name Excel does not know",
    "#NUM!": "a number that cannot be worked out",
    "#N/A": "a lookup that found nothing",
    "#SPILL!": "a formula whose results do not fit",
    "#CALC!": "a calculation error",
    "#GETTING_DATA": "a value still being fetched",
}


@dataclass(frozen=True)
class Change:
    """One cell whose kept value differs from what was typed; ``kind`` says how (see :mod:`.changes`)."""

    row: int
    key: str
    kind: str
    typed: str
    kept: str


def char_name(ch: str) -> str:
    return f"{unicodedata.name(ch, 'control character').lower()}, U+{ord(ch):04X}"


def visible(text: str) -> str:
    """``text`` with every invisible or control character shown as ``[U+200B]`` (for messages)."""
    return HEADER_JUNK.sub(lambda m: f"[U+{ord(m.group()):04X}]", text)


def clean(text: str) -> tuple[str, list[tuple[str, str]]]:
    """The text as kept, and what was removed: ``[(kind, detail)]`` with kind control | invisible | spaces."""
    if text.isascii() and text.isprintable():  # the common cell: no control or invisible character is possible
        stripped = text.strip()
        return stripped, [("spaces", "")] if stripped != text and stripped else []
    removed: list[tuple[str, str]] = []
    for kind, pattern in (("control", CONTROL), ("invisible", INVISIBLE)):
        found = sorted(set(pattern.findall(text)))
        if found:
            removed.append((kind, "; ".join(char_name(c) for c in found)))
            text = pattern.sub("", text)
    stripped = text.strip()
    if stripped != text and stripped:
        removed.append(("spaces", ""))
    return stripped, removed


def hidden_in_link(text: str) -> str | None:
    """The first invisible or control character in a link, named; None when there is none."""
    if text.isascii() and text.isprintable():  # printable ASCII holds no format (Cf) or control (Cc) character
        return None
    for ch in text:
        if unicodedata.category(ch) in ("Cf", "Cc") and ch not in "\t\n\r":
            return char_name(ch)
    return None


def column_letters(number: int) -> str:
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters
