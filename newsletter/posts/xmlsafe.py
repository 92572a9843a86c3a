"""Parsing untrusted XML: no DTD entities (billion laughs), no external references (XXE).

Every XML format (feeds, WXR) passes through here first, so a hostile or broken
document fails with its line and column before any other parser sees it.
"""

from __future__ import annotations

import re
from xml.etree.ElementTree import Element, ParseError, TreeBuilder

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from .errors import PostImportError

_POSITION_SUFFIX = re.compile(r": line \d+, column \d+$")


def parse_xml(data: bytes) -> Element:
    """The document's root element, or PostImportError naming the line and column."""
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


def local(tag: str) -> str:
    """`{namespace}name` -> `name`."""
    return tag.rsplit("}", 1)[-1]
