"""The category tree, name lookup, and the one audience rule built on them.

Categories are named by their full name (`AI: Large Language Models`) and point at
their parent (`AI`). The rule every reader of an issue depends on lives here and
only here: **a category includes its subcategories**, so a subscriber of `AI`
gets posts filed under `AI: Large Language Models`, and a subscriber who chose no
category gets everything. The preview, the send and the composer's filters all
call these functions, so they cannot disagree.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.models import Category, subscriber_categories
from newsletter.sql import among


class UnknownCategory(ValueError):
    """A category name that names no category; `.name` is the name as given."""

    def __init__(self, name: str) -> None:
        super().__init__(f"unknown category: {name!r}")
        self.name = name


def all_categories(session: Session) -> list[Category]:
    """Every category, by full name."""
    return list(session.scalars(select(Category).order_by(Category.name)))


def normalize_name(name: str) -> str:
    """The lookup form of a full name: whitespace runs collapsed, case folded."""
    return " ".join(name.split()).lower()


def name_index(session: Session) -> dict[str, int]:
    """normalized full name -> id; categories are few, so one query serves a whole import."""
    return {
        normalize_name(name): cid
        for cid, name in session.execute(select(Category.id, Category.name))
    }


def category_ids_by_name(session: Session, names: Iterable[str]) -> list[int]:
    """Ids for full names, in the order given (case-insensitive, blank names ignored).

    Raises UnknownCategory for the first name that matches nothing: an unknown name
    is an error, never an empty filter that would silently mean "everything".
    """
    wanted = [n for n in names if n and n.strip()]
    if not wanted:
        return []
    index = name_index(session)
    ids: list[int] = []
    for name in wanted:
        cid = index.get(normalize_name(name))
        if cid is None:
            raise UnknownCategory(" ".join(name.split()))
        if cid not in ids:
            ids.append(cid)
    return ids


def category_tree(session: Session) -> dict[int, list[int]]:
    """Children ids by parent id; the category table is small enough to read whole."""
    children: dict[int, list[int]] = {}
    for cat_id, parent_id in session.execute(select(Category.id, Category.parent_id)):
        if parent_id is not None:
            children.setdefault(parent_id, []).append(cat_id)
    return children


def expand_with_tree(tree: dict[int, list[int]], category_ids: Iterable[int]) -> set[int]:
    """The given ids and all their descendants, from a tree already read."""
    found: set[int] = set()
    stack = list(category_ids)
    while stack:
        current = stack.pop()
        if current in found:
            continue  # a cycle in parent links must not loop forever
        found.add(current)
        stack.extend(tree.get(current, ()))
    return found


def expand_categories(session: Session, category_ids: Iterable[int]) -> set[int]:
    """The given categories and all their descendants ("AI" also means "AI: LLMs")."""
    return expand_with_tree(category_tree(session), category_ids)


def allowed_from_choice(
    tree: dict[int, list[int]], chosen: Sequence[int] | Iterable[int]
) -> set[int] | None:
    """What a subscriber's choice lets through: None (chose nothing = everything) or the
    chosen ids with all their descendants."""
    chosen = list(chosen)
    if not chosen:
        return None
    return expand_with_tree(tree, chosen)


def allowed_categories(session: Session, category_ids: Iterable[int]) -> set[int] | None:
    """`allowed_from_choice` reading the tree itself."""
    return allowed_from_choice(category_tree(session), list(category_ids))


def post_matches(post_category_ids: Iterable[int], allowed: set[int] | None) -> bool:
    """A post reaches a reader when `allowed` is None (everything) or shares a category."""
    if allowed is None:
        return True
    return any(c in allowed for c in post_category_ids)


def subscriber_choices(session: Session, subscriber_ids: Sequence[int]) -> dict[int, list[int]]:
    """Chosen category ids per subscriber (absent key: chose nothing), one query per call."""
    chosen: dict[int, list[int]] = {}
    if not subscriber_ids:
        return chosen
    rows = session.execute(
        select(subscriber_categories.c.subscriber_id, subscriber_categories.c.category_id).where(
            among(session, subscriber_categories.c.subscriber_id, subscriber_ids)
        )
    )
    for subscriber_id, category_id in rows:
        chosen.setdefault(subscriber_id, []).append(category_id)
    return chosen
