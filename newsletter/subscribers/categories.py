"""Categories a subscriber can choose: the post categories, named by their full name."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.models import Category

from .errors import InvalidInput


def all_categories(session: Session) -> list[Category]:
    return list(session.scalars(select(Category).order_by(Category.name)))


def category_ids_by_name(session: Session) -> dict[str, int]:
    """Lower-cased full name -> id; categories are few, so one query serves a whole import."""
    return {name.lower(): cid for cid, name in session.execute(select(Category.id, Category.name))}


def resolve_categories(session: Session, names: Iterable[str]) -> list[Category]:
    """Categories by full name (case-insensitive); an unknown name is an error, not ignored."""
    wanted = [n.strip() for n in names if n and n.strip()]
    if not wanted:
        return []
    by_name = {c.name.lower(): c for c in all_categories(session)}
    unknown = [n for n in wanted if n.lower() not in by_name]
    if unknown:
        raise InvalidInput(f"unknown category: {unknown[0]!r}")
    seen: dict[int, Category] = {}
    for n in wanted:
        category = by_name[n.lower()]
        seen[category.id] = category
    return sorted(seen.values(), key=lambda c: c.name)
