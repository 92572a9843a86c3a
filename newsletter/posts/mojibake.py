"""Undo mojibake: UTF-8 read as cp874 (ours), then every kind ftfy knows.

repair_mojibake runs our cp874 repair first and ftfy after it. ftfy handles UTF-8
read as Windows-1252 or Latin-1 (`â€™`, `Ã©`), read twice, mixed with correct text,
and stray C1 controls, but it does not know the cp874 kind (measured: it misses the
seed's `โ€”`), hence our own table below for exactly that one. ftfy's options that
change correct text (curly quotes, full-width forms, ligatures, HTML entities,
Unicode normalization) are off: we repair damage, we do not restyle text.

The scraper that produced our seed decoded UTF-8 as Windows-874 (Thai) and fell
back to Windows-1252 for the bytes cp874 leaves undefined, so `—` (E2 80 94)
became `โ€”` and `→` (E2 86 92) became `โ†’`. We reverse exactly that: find runs
of characters the hybrid code page can encode, turn them back into bytes, and
decode every complete UTF-8 sequence inside them. Text that is already right
never changes, because correct punctuation (’ “ — …) encodes to UTF-8
continuation bytes only, which can never start a sequence on their own, and real
Thai words are long runs whose bytes do not form valid UTF-8.
"""

from __future__ import annotations

import re
import unicodedata

import ftfy

# UTF-8 lead byte -> total sequence length, and the allowed range of the second
# byte (narrower than 80..BF for E0, ED, F0 and F4: no overlongs, no surrogates).
_LEADS: dict[int, tuple[int, int, int]] = {}
for _b in range(0xC2, 0xE0):
    _LEADS[_b] = (2, 0x80, 0xBF)
for _b in range(0xE0, 0xF0):
    _LEADS[_b] = (3, 0xA0 if _b == 0xE0 else 0x80, 0x9F if _b == 0xED else 0xBF)
for _b in range(0xF0, 0xF5):
    _LEADS[_b] = (4, 0x90 if _b == 0xF0 else 0x80, 0x8F if _b == 0xF4 else 0xBF)


def _build_table() -> dict[str, int]:
    """Character -> the byte the broken decoder read it from."""
    table: dict[str, int] = {}
    for byte in range(0x80, 0x100):
        raw = bytes([byte])
        for codec in ("cp874", "cp1252"):
            try:
                table[raw.decode(codec)] = byte
                break
            except UnicodeDecodeError:
                continue
        else:
            # Bytes neither code page defines come through as C1 controls in
            # lenient decoders (the WHATWG behaviour), e.g. the 8D of U+200D.
            table[chr(byte)] = byte
    return table


_TABLE = _build_table()
_RUN = re.compile("[" + re.escape("".join(sorted(_TABLE))) + "]{2,}")
_THAI = re.compile("[\u0e00-\u0e7f]")

# Letters and marks a repaired sequence may produce. Anything outside these
# scripts (Mongolian, Braille, Syriac, ...) is far likelier to be a real Thai
# word that happens to form valid UTF-8, e.g. "แกง" = E1 A1 A7 = U+1867.
_LETTER_RANGES = (
    (0x00A0, 0x024F),  # Latin-1 supplement, Latin extended A/B
    (0x02B0, 0x036F),  # spacing modifiers, combining diacritics
    (0x0370, 0x052F),  # Greek, Cyrillic
    (0x0590, 0x06FF),  # Hebrew, Arabic
    (0x0900, 0x097F),  # Devanagari
    (0x0E00, 0x0E7F),  # Thai that was itself double-encoded
    (0x1E00, 0x1FFF),  # Latin extended additional (Vietnamese), Greek extended
    (0x2000, 0x27FF),  # punctuation, symbols, arrows, dingbats
    (0x2900, 0x2BFF),  # more arrows and symbols (2800..28FF is Braille)
    (0x2E80, 0x9FFF),  # CJK, kana
    (0xAC00, 0xD7AF),  # Hangul syllables
    (0xF900, 0xFAFF),  # CJK compatibility
    (0xFE00, 0xFE4F),  # variation selectors, CJK compatibility forms
    (0xFF00, 0xFFEF),  # full-width forms
    (0x1F000, 0x1FAFF),  # emoji
)


def _plausible(char: str) -> bool:
    category = unicodedata.category(char)
    if category in ("Cc", "Cn", "Co", "Cs"):
        return False
    code = ord(char)
    return any(low <= code <= high for low, high in _LETTER_RANGES)


def _sequence_length(data: bytes, start: int) -> int:
    """Length of the valid UTF-8 sequence starting at `start`, or 0."""
    lead = _LEADS.get(data[start])
    if lead is None:
        return 0
    length, low, high = lead
    if start + length > len(data) or not low <= data[start + 1] <= high:
        return 0
    if any(not 0x80 <= b <= 0xBF for b in data[start + 2 : start + length]):
        return 0
    return length


def _repair_run(run: str, *, thai_context: bool) -> str:
    data = bytes(_TABLE[c] for c in run)
    pieces: list[str] = []
    i = 0
    repaired = False
    while i < len(data):
        length = _sequence_length(data, i)
        if length:
            decoded = data[i : i + length].decode("utf-8")
            if not all(_plausible(c) for c in decoded):
                return run
            pieces.append(decoded)
            repaired = True
            i += length
        else:
            left = run[i]
            # A Thai letter that is not part of a sequence means this run is
            # real Thai text; touching any of it would damage it.
            if _THAI.match(left):
                return run
            pieces.append(left)
            i += 1
    if not repaired:
        return run
    # In a document that also holds real Thai, a run of Thai letters only (no
    # Windows punctuation such as € or ™) could be a short Thai word; keep it.
    if thai_context and all(_THAI.match(c) for c in run):
        return run
    return "".join(pieces)


_FTFY = ftfy.TextFixerConfig(
    unescape_html=False,  # `&lt;` in HTML is meant; sanitizing comes later anyway
    fix_latin_ligatures=False,
    fix_character_width=False,
    uncurl_quotes=False,
    normalization=None,
    explain=False,
)
_C1 = re.compile("[\x80-\x9f]")


def repair_mojibake(text: str) -> str:
    """Reverse mojibake (cp874, cp1252, Latin-1, double); leave correct text alone.

    Correct text in any script, Thai included, comes back unchanged. No C1 control
    character (U+0080..U+009F) is left: ftfy reads the ones in damaged text as the
    Windows-1252 bytes they were, and any left over are dropped (no charset means them).
    """
    if _RUN.search(text):
        thai_context = _has_real_thai(text)
        text = _RUN.sub(lambda m: _repair_run(m.group(0), thai_context=thai_context), text)
    if text.isascii():
        return text  # nothing for ftfy to do; it is the common case and saves time
    return _C1.sub("", ftfy.fix_text(text, _FTFY))


def _has_real_thai(text: str) -> bool:
    """True when some Thai letters in `text` cannot be explained as mojibake."""
    remains = _RUN.sub(
        lambda m: "" if _repair_run(m.group(0), thai_context=False) != m.group(0) else m.group(0),
        text,
    )
    return bool(_THAI.search(remains))
