"""Pages of the composer's lists; the cursor codec is newsletter.paging."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from newsletter.paging import InvalidCursor, decode_cursor, encode_cursor

from .errors import ComposeError

T = TypeVar("T")

DEFAULT_LIMIT = 25
MAX_LIMIT = 100


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list and the cursor of the next one (None on the last page)."""

    items: list[T]
    next: str | None


def read_cursor(cursor: str, *kinds: type) -> tuple[object, ...]:
    """decode_cursor for the composer: raises ComposeError (HTTP 422) for a bad cursor."""
    try:
        return decode_cursor(cursor, *kinds)
    except InvalidCursor as exc:
        raise ComposeError(str(exc)) from None


__all__ = ["Page", "clamp_limit", "encode_cursor", "read_cursor"]


def clamp_limit(limit: int | None) -> int:
    """The page size to use: DEFAULT_LIMIT for None, else `limit` within 1..MAX_LIMIT."""
    if limit is None:
        return DEFAULT_LIMIT
    return max(1, min(MAX_LIMIT, limit))
