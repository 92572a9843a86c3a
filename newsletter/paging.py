"""Opaque keyset cursors, one codec for every list (posts, issues, subscribers, feeds,
automations), and `page_by_id` for lists in id order.

A cursor is the sort key of the last row of a page; the next page starts after it,
so a page deep in a large table costs the same index seek as the first one.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import Session

CURSOR_MESSAGE = "the cursor is not valid; use the `next` value of a previous page"


class InvalidCursor(ValueError):
    """A cursor that no page of ours handed out (garbled, truncated, another list's)."""


def encode_cursor(*values: int | str | datetime) -> str:
    """The sort key of a page's last row as an opaque token: base64url of a JSON array,
    unpadded (`[5]` -> `WzVd`); datetimes travel as ISO 8601 with their offset."""
    plain = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    raw = json.dumps(plain, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, *kinds: type) -> tuple[object, ...]:
    """The values of a cursor made by encode_cursor, checked against `kinds` (int, str, datetime).

    ints must lie in 0..2**63-1 and datetimes carry an offset (returned in UTC).
    Raises InvalidCursor (one message for every way a cursor can be wrong).
    """
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
        if not isinstance(values, list) or len(values) != len(kinds):
            raise ValueError("wrong shape")
        out: list[object] = []
        for value, kind in zip(values, kinds, strict=True):
            if kind is datetime:
                parsed = datetime.fromisoformat(value)
                if parsed.tzinfo is None:
                    raise ValueError("naive datetime")
                out.append(parsed.astimezone(UTC))
            elif kind is int:
                if not isinstance(value, int) or isinstance(value, bool):
                    raise ValueError("not an int")
                if not 0 <= value < 2**63:
                    raise ValueError("out of range")
                out.append(value)
            else:
                out.append(kind(value))
        return tuple(out)
    except (ValueError, TypeError, OverflowError, binascii.Error, UnicodeDecodeError):
        raise InvalidCursor(CURSOR_MESSAGE) from None


DEFAULT_LIMIT = 25
MAX_LIMIT = 100


def page_by_id(
    session: Session, stmt: Select[Any], id_column: Any, *, cursor: str | None, limit: int | None
) -> tuple[list[Any], str | None]:
    """One page of `stmt`'s rows in ascending `id_column` order, after `cursor` (a `next`
    of a previous page), at most `limit` rows (1..MAX_LIMIT, default DEFAULT_LIMIT).
    Returns (rows, next cursor or None on the last page); raises InvalidCursor."""
    size = DEFAULT_LIMIT if limit is None else max(1, min(MAX_LIMIT, limit))
    if cursor:
        (after,) = decode_cursor(cursor, int)
        stmt = stmt.where(id_column > after)
    rows = list(session.scalars(stmt.order_by(id_column).limit(size + 1)))
    if len(rows) <= size:
        return rows, None
    rows = rows[:size]
    return rows, encode_cursor(int(rows[-1].id))
