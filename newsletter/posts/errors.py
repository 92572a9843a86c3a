"""The one error every importer raises for bad input."""

from __future__ import annotations


class PostImportError(ValueError):
    """A source could not be imported; nothing from it was written.

    `position` says where the problem is, in the source's own terms:
    "line 3, column 7" for XML, "line 12" for plain text, "post.md, line 2" for
    a Markdown folder, "byte 20000001" for an oversized source.
    """

    def __init__(self, message: str, *, position: str | None = None) -> None:
        self.message = message
        self.position = position
        super().__init__(f"{position}: {message}" if position else message)
