"""Turning an XML source's bytes into text in whatever charset it was written in.

expat, under the safe parser, knows only UTF-8, UTF-16, ISO-8859-1 and US-ASCII, so a
GB2312, Big5, Shift_JIS or KOI8-R feed is refused with "multi-byte encodings are not
supported". We decode here with Python's codecs instead (every charset Python knows)
and hand the parser text that is UTF-8 and says so.

Which charset, in this order (XML 1.0 appendix F; RFC 7303 section 3):
  1. a byte order mark;
  2. the `charset` of the HTTP Content-Type, when the source came over HTTP;
  3. the `encoding` in the XML declaration;
  4. UTF-8.
A charset that does not decode the bytes falls through to the next candidate, and
a generic server default (ISO-8859-1, US-ASCII, windows-1252) does not overrule a
document that declares its own charset: misconfigured servers send those for
everything, while the declaration is written by the software that wrote the bytes.
"""

from __future__ import annotations

import codecs
import re
from email.message import Message

from .errors import PostImportError

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE: it starts with the same bytes
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# A document without a BOM still shows its width in how `<?` is written (appendix F).
_NO_BOM = (
    (b"\x00\x00\x00<", "utf-32-be"),
    (b"<\x00\x00\x00", "utf-32-le"),
    (b"\x00<\x00?", "utf-16-be"),
    (b"<\x00?\x00", "utf-16-le"),
)
_DECLARATION = re.compile(rb"""^\s*<\?xml[^>]*?\bencoding\s*=\s*["']([A-Za-z][\w.:-]*)["']""")
_SERVER_DEFAULTS = {"ascii", "cp1252", "iso8859-1"}
# Real "GB2312" files hold GBK characters, which is why browsers (WHATWG Encoding) read
# both labels as GBK; likewise Big5, Shift_JIS and EUC-KR as their common supersets, and
# ISO-8859-1 as windows-1252 (whose 80..9F are the curly quotes ISO-8859-1 lacks). The
# label's own codec is the last resort: latin-1 decodes any byte.
_SUPERSETS = {
    "gb2312": ("gb18030",),
    "gbk": ("gb18030",),
    "big5": ("big5hkscs", "big5"),
    "shift_jis": ("cp932", "shift_jis"),
    "euc_kr": ("cp949", "euc_kr"),
    "iso8859-1": ("cp1252", "latin-1"),
}


def http_charset(content_type: str | None) -> str | None:
    """The `charset` parameter of a Content-Type header value, if any."""
    if not content_type:
        return None
    message = Message()
    message["content-type"] = content_type
    charset = message.get_param("charset")
    return charset.strip() if isinstance(charset, str) and charset.strip() else None


def decode_xml(data: bytes, *, content_type: str | None = None) -> str:
    """The document as text, without its byte order mark.

    The charset comes from the BOM or the first bytes (XML 1.0 appendix F), else the HTTP
    Content-Type (unless it is a server default and the document declares one), the XML
    declaration, then UTF-8 (RFC 7303 section 3). Raises PostImportError (the first candidate's) naming the line
    and column of the first byte that is not valid in the chosen charset, or naming the
    unknown charset (line 1).
    """
    for bom, name in _BOMS:
        if data.startswith(bom):
            return _decode(data[len(bom) :], name, source="its byte order mark")
    for start, name in _NO_BOM:
        if data.startswith(start):
            return _decode(data, name, source="its first bytes")
    declared = _declared(data)
    try:
        from_http = _known(http_charset(content_type), source="the HTTP Content-Type")
    except PostImportError:
        from_http = None  # a server's typo must not hide the document's own declaration
    candidates: list[tuple[str, str]] = []
    if from_http and not (declared and from_http in _SERVER_DEFAULTS):
        candidates.append((from_http, "the HTTP Content-Type"))
    if declared:
        candidates.append((declared, "the XML declaration"))
    candidates.append(("utf-8", "the XML default"))
    first_error: PostImportError | None = None
    for name, source in candidates:
        try:
            return _decode(data, name, source=source)
        except PostImportError as exc:
            first_error = first_error or exc
    assert first_error is not None
    raise first_error


def _declared(data: bytes) -> str | None:
    match = _DECLARATION.match(data[:1024])
    if match is None:
        return None
    name = _known(match.group(1).decode("ascii"), source="the XML declaration")
    if name and name.startswith(("utf-16", "utf-32")):
        return None  # the declaration was just read as ASCII bytes, so it is mistaken
    return name


def _known(label: str | None, *, source: str) -> str | None:
    """Python's canonical codec name for a charset label; text codecs only."""
    if not label:
        return None
    try:
        info = codecs.lookup(label)
    except LookupError:
        raise PostImportError(
            f"unknown character encoding {label!r} in {source}", position="line 1, column 1"
        ) from None
    if not getattr(info, "_is_text_encoding", True):
        raise PostImportError(
            f"{label!r} in {source} is not a character encoding", position="line 1, column 1"
        )
    return info.name


def _decode(data: bytes, name: str, *, source: str) -> str:
    *wider, codec = _SUPERSETS.get(name, (name,))
    for superset in wider:
        try:
            return data.decode(superset)
        except UnicodeDecodeError:
            continue
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        column = len(data[line_start : exc.start].decode(codec, "replace")) + 1
        bad = data[exc.start : min(exc.end, exc.start + 4)]
        noun = "bytes" if len(bad) > 1 else "byte"
        raise PostImportError(
            f"{noun} {bad.hex(' ').upper()} not valid in {name} (the charset named by {source})",
            position=f"line {line}, column {column}",
        ) from None
