"""Which text encoding a file is in, judged by how plausible the decoded characters are."""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass

from salesml.errors import FileFormatError

# What the Data page and the CLI offer by name; any codec Python knows is accepted too.
KNOWN = {
    "utf-8": "UTF-8",
    "utf-16": "UTF-16",
    "cp1252": "Windows-1252 (Western European)",
    "mac_roman": "Mac Roman",
    "latin-1": "ISO-8859-1 (Latin-1)",
    "iso8859-15": "ISO-8859-15 (Latin-9)",
    "cp850": "DOS Western European (cp850)",
    "cp437": "DOS US (cp437)",
    "cp1250": "Windows-1250 (Central European)",
    "cp1251": "Windows-1251 (Cyrillic)",
}
# Tried, in this order of preference, when a file is not UTF-8; more come from
# charset-normalizer's guesses. Ties go to the earlier one.
_FALLBACKS = ("cp1252", "mac_roman", "cp850", "cp1250", "cp1251", "latin-1")
_HIGH_BYTE = re.compile(rb"[\x80-\xff]")
_SAMPLE_LINES = 2_000
_SAMPLE_BYTES = 1024 * 1024
# Around each non-ASCII byte the sample keeps this much of its line: enough context.
_CONTEXT = 200
_BLOCK = 16 * 1024 * 1024
# Mean penalty per non-ASCII character above which no candidate reads as text.
_IMPLAUSIBLE = 1.5
# Codecs Python lists as text encodings that do not encode a file's characters: host names
# (idna, punycode), escapes of Python literals, and one that refuses everything.
_NOT_CHARACTER_SETS = {"idna", "punycode", "unicode-escape", "raw-unicode-escape", "undefined"}


@dataclass(frozen=True)
class Guess:
    """The encoding chosen for a file, and why."""

    encoding: str
    detected: bool
    reason: str


def label(encoding: str) -> str:
    """A human name for an encoding ('Mac Roman', 'UTF-8')."""
    return KNOWN.get(normalise(encoding), encoding)


def normalise(encoding: str) -> str:
    """The codec's canonical name as KNOWN spells it ('macroman' -> 'mac_roman'); only a
    character set is one (not base64, rot13, zlib or idna)."""
    try:
        name = codecs.lookup(encoding).name
        "".encode(name)  # a LookupError for a codec of bytes to bytes or text to text
    except (LookupError, UnicodeError):
        name = None
    if name is None or name in _NOT_CHARACTER_SETS:
        known = name is not None or _is_codec(encoding)
        raise FileFormatError(
            f"{'' if known else 'unknown encoding '}{encoding[:40]!r}"
            f"{' is not a text encoding' if known else ''}; use e.g. utf-8, cp1252 or mac_roman",
            setting="encoding",
        )
    if name == "utf-8-sig":
        return "utf-8"
    return next((known for known in KNOWN if codecs.lookup(known).name == name), name)


def _is_codec(encoding: str) -> bool:
    try:
        codecs.lookup(encoding)
    except LookupError:
        return False
    return True


def guess(data: bytes, name: str) -> Guess:
    """The encoding of a text file: a byte-order mark, valid UTF-8, else the most plausible."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return Guess("utf-16", True, "byte-order mark")
    if data.startswith(codecs.BOM_UTF8):
        return Guess("utf-8", True, "byte-order mark")
    if data.isascii():
        return Guess("utf-8", True, "plain ASCII")
    sample = _lines_with_high_bytes(data)
    if _decodes(data, "utf-8"):
        return Guess("utf-8", True, "valid UTF-8")
    scored = []
    for rank, encoding in enumerate(_candidates(sample)):
        try:
            text = sample.decode(encoding)
        except UnicodeDecodeError:
            continue
        scored.append((implausibility(text), rank, encoding))
    for penalty, _, encoding in sorted(scored):
        if penalty > _IMPLAUSIBLE:
            break
        if _decodes(data, encoding):
            return Guess(encoding, True, f"most plausible text ({penalty:.2f})")
    raise FileFormatError(
        f"{name}: cannot tell the text encoding (not UTF-8, and no common encoding gives "
        "readable text); save the file as UTF-8 or choose the text encoding",
        setting="encoding",
    )


def _lines_with_high_bytes(data: bytes) -> bytes:
    """Up to _SAMPLE_LINES pieces of lines around non-ASCII bytes: the only evidence there is.

    Each piece is at most 2 x _CONTEXT bytes of its line and the sample at most
    _SAMPLE_BYTES, so that scoring costs the same for a 1 KB file and a 190 MB one.
    """
    pieces, size, position = [], 0, 0
    while len(pieces) < _SAMPLE_LINES and size < _SAMPLE_BYTES:
        found = _HIGH_BYTE.search(data, position)
        if found is None:
            break
        low = max(0, found.start() - _CONTEXT)
        start = max(data.rfind(b"\n", low, found.start()), data.rfind(b"\r", low, found.start()))
        start = low if start < 0 else start + 1
        high = min(len(data), found.end() + _CONTEXT)
        ends = [
            i for i in (data.find(b"\n", found.end(), high), data.find(b"\r", found.end(), high))
        ]
        end = min((i for i in ends if i >= 0), default=high)
        pieces.append(data[start:end])
        size += end - start
        position = end + 1
    return b"\n".join(pieces)


def _candidates(sample: bytes) -> list[str]:
    from charset_normalizer import from_bytes

    suggested = [match.encoding for match in from_bytes(sample)][:5]
    names = []
    for encoding in (*_FALLBACKS, *suggested):
        try:
            canonical = normalise(encoding)
        except FileFormatError:
            continue
        if canonical not in names and not canonical.startswith("utf"):
            names.append(canonical)
    return names


def _decodes(data: bytes, encoding: str) -> bool:
    """Whether all of data decodes, checked in blocks so that no copy of the text is kept."""
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        for start in range(0, len(data), _BLOCK):
            decoder.decode(data[start : start + _BLOCK])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def implausibility(text: str) -> float:
    """Mean penalty per non-ASCII character: 0 for text a person wrote, high for mojibake.

    Wrongly decoded bytes give characters in places text never has them: a capital in the
    middle of a lower-case word ('ConferenceÊphone'), a letter glued to a number ('1/16Ó'),
    accents standing alone ('Gr¨sse'), control characters, or letters of another script
    inside a word.
    """
    total, count = 0.0, 0
    for found in _NON_ASCII.finditer(text):
        index, char = found.start(), found.group()
        before = text[index - 1] if index else " "
        after = text[index + 1] if index + 1 < len(text) else " "
        total += _penalty(char, before, after)
        count += 1
    return total / count if count else 0.0


def _penalty(char: str, before: str, after: str) -> float:
    kind = unicodedata.category(char)
    if kind[0] == "C":
        return 10.0  # control, format, private-use or unassigned
    if kind in ("Lm", "Sk"):
        return 3.0  # spacing accents and modifier letters: ˆ ˜ ¨ ¸
    if kind[0] != "L":
        # Punctuation, symbols and spaces are common (quotes, dashes, no-break spaces, €),
        # but a symbol inside a word is a letter decoded wrongly: 'Jalape¤o'.
        inside_word = before.isalpha() and after.isalpha()
        return 2.0 if inside_word and (kind[0] == "S" or kind in ("Ps", "Pe", "No")) else 0.0
    penalty = 0.0
    if all(_latin1_letter(c) for c in (before, char, after)):
        penalty += 2.0  # runs of accented letters: Cyrillic read as Western ('Ìîëîêî')
    if _script(before) not in (None, _script(char)) or _script(after) not in (None, _script(char)):
        penalty += 3.0
    if kind == "Lu" and before.isalpha() and (before.islower() or after.islower()):
        penalty += 3.0  # a capital inside a word: ConferenceÊphone, MÅller
    if before.isdigit() or after.isdigit():
        penalty += 2.0 if kind == "Lu" else 1.0  # '1/16Ó' is wrong, '2ème' is French
    return penalty


def _latin1_letter(char: str) -> bool:
    return "\u00c0" <= char <= "\u00ff" and char.isalpha()


def _script(char: str) -> str | None:
    """The script of a letter ('LATIN', 'CYRILLIC', ...), None for anything else."""
    if not char.isalpha():
        return None
    return unicodedata.name(char, "UNKNOWN").split(" ", 1)[0]
