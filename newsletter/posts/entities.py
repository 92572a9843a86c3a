"""HTML named entities in XML sources: `&nbsp;`, `&eacute;`, `&mdash;` ...

XML defines five entities; feeds written by HTML tools use the rest anyway, and RSS
0.91 declares the Latin-1 set in the Netscape DTD, which we never fetch. Feed readers
accept both, so we rewrite each known HTML entity as a numeric character reference
before the safe parse. Nothing is expanded from the document itself: its own entity
declarations are still refused by the safe parser (billion laughs, XXE), and only
names from the fixed HTML5 table (`html.entities.html5`) are replaced.
"""

from __future__ import annotations

import re
from html.entities import html5

_XML_ENTITIES = {"amp", "lt", "gt", "quot", "apos"}
# CDATA sections and comments are copied as they are: `&` means nothing inside them.
_TOKEN = re.compile(r"(<!\[CDATA\[.*?\]\]>|<!--.*?-->)|&([A-Za-z][A-Za-z0-9]{0,31});", re.DOTALL)


def html_entities_to_refs(text: str) -> str:
    """`Caf&eacute;` -> `Caf&#233;`; XML's own five and unknown names are left alone.

    An unknown name is left for the parser to report with its position.
    """
    if "&" not in text:
        return text
    return _TOKEN.sub(_replace, text)


def _replace(match: re.Match[str]) -> str:
    name = match.group(2)
    if name is None or name in _XML_ENTITIES:
        return match.group(0)
    chars = html5.get(name + ";")
    if chars is None:
        return match.group(0)
    # Numeric references, never the characters: `&LT;` must not become markup.
    return "".join(f"&#{ord(c)};" for c in chars)
