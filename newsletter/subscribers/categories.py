"""Categories a subscriber can choose, by full name; the tree itself is newsletter.categories."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session

from newsletter.categories import UnknownCategory, all_categories, category_ids_by_name
from newsletter.models import Category

from .errors import InvalidInput

__all__ = ["all_categories", "resolve_categories"]


def resolve_categories(session: Session, names: Iterable[str]) -> list[Category]:
    """Categories by full name (case-insensitive), sorted by name; raises InvalidInput for
    an unknown name (never ignored)."""
    try:
        ids = category_ids_by_name(session, names)
    except UnknownCategory as exc:
        raise InvalidInput(str(exc)) from None
    if not ids:
        return []
    by_id = {c.id: c for c in all_categories(session)}
    return sorted((by_id[i] for i in ids), key=lambda c: c.name)
