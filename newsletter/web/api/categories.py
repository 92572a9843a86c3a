"""GET /api/v1/categories."""

from __future__ import annotations

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import aliased

from newsletter.db import get_session
from newsletter.models import Category

from . import api


class CategoryOut(BaseModel):
    id: int
    name: str
    slug: str
    parent: str | None


class CategoryList(BaseModel):
    items: list[CategoryOut]
    next: str | None = None


@api.operation(
    "/categories", summary="All post categories", tag="categories", response=CategoryList
)
def list_categories() -> CategoryList:
    """GET /api/v1/categories: every post category by name, with its parent's name (or null).

    200 with `{"items": [...], "next": null}`; 401 without a valid bearer token.
    """
    parent = aliased(Category)
    rows = get_session().execute(
        select(Category, parent.name)
        .outerjoin(parent, Category.parent_id == parent.id)
        .order_by(Category.name)
    )
    return CategoryList(
        items=[CategoryOut(id=c.id, name=c.name, slug=c.slug, parent=p) for c, p in rows]
    )
