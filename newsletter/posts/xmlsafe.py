"""Parsing untrusted XML: no DTD entities (billion laughs), no external references (XXE).

Every XML format (feeds, WXR) passes through here first, so a hostile or broken
document fails with its line and column before any other parser sees it. Before the
parse the document is decoded from its own charset (charsets.py) and HTML named
entities become numeric references (entities.py); the parse itself stays as strict.
"""

from __future__ import annotations

import re
from xml.etree.ElementTree import Element, ParseError, TreeBuilder

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from .charsets import decode_xml
from .entities import html_entities_to_refs
from .errors import PostImportError

_POSITION_SUFFIX = re.compile(r": line \d+, column \d+$")
_ENCODING_DECLARATION = re.compile(r"""^(\s*<\?xml[^>]*?\bencoding\s*=\s*)(["'])[^"']*\2""")


def prepare_xml(data: bytes, *, content_type: str | None = None) -> bytes:
    """The document as UTF-8 bytes that say so, HTML entities as numeric references.

    `content_type` is the HTTP Content-Type when the source came over HTTP. Raises
    PostImportError (with line and column) when the bytes are not in the charset found.
    """
    text = html_entities_to_refs(decode_xml(data, content_type=content_type))
    text = _ENCODING_DECLARATION.sub(r'\1"utf-8"', text, count=1)
    return text.encode("utf-8", "surrogatepass")


def load_xml(data: bytes, *, content_type: str | None = None) -> tuple[Element, bytes]:
    """(root element, the prepared UTF-8 document) after the safe parse (defusedxml).

    Raises PostImportError, positioned at a line and column, for bytes the charset cannot
    decode (see charsets.decode_xml), malformed XML, or an entity declaration or external
    reference (refused: no billion laughs, no XXE).
    """
    prepared = prepare_xml(data, content_type=content_type)
    return _parse(prepared), prepared


def parse_xml(data: bytes, *, content_type: str | None = None) -> Element:
    """The document's root element, or PostImportError naming the line and column."""
    return load_xml(data, content_type=content_type)[0]


def _parse(data: bytes) -> Element:
    parser = DefusedXMLParser(
        target=TreeBuilder(), forbid_dtd=False, forbid_entities=True, forbid_external=True
    )
    try:
        parser.feed(data)
        return parser.close()  # type: ignore[no-any-return]
    except ParseError as exc:
        line, column = exc.position
        message = _POSITION_SUFFIX.sub("", str(exc))
        raise PostImportError(
            f"malformed XML: {message}", position=f"line {line}, column {column + 1}"
        ) from exc
    except DefusedXmlException as exc:
        # The pure-Python parser keeps its expat instance, which knows where it stopped.
        expat = parser.parser
        position = f"line {expat.CurrentLineNumber}, column {expat.CurrentColumnNumber + 1}"
        raise PostImportError(f"unsafe XML refused: {_describe(exc)}", position=position) from exc


def _describe(exc: DefusedXmlException) -> str:
    name = type(exc).__name__
    if name == "EntitiesForbidden":
        return f"entity declaration {getattr(exc, 'name', '?')!r} is not allowed"
    if name == "ExternalReferenceForbidden":
        return f"external reference {getattr(exc, 'sysid', '?')!r} is not allowed"
    return str(exc)


_ROOT_START = re.compile(rb"<(?![?!])")


def root_position(prepared: bytes) -> str:
    """Where the root element starts in a prepared document: "line L, column C"."""
    at = _ROOT_START.search(prepared)
    start = at.start() if at else 0
    line_start = prepared.rfind(b"\n", 0, start) + 1
    column = len(prepared[line_start:start].decode("utf-8", "replace")) + 1
    line = prepared.count(b"\n", 0, start) + 1
    return f"line {line}, column {column}"


def local(tag: str) -> str:
    """`{namespace}name` -> `name`."""
    return tag.rsplit("}", 1)[-1]
