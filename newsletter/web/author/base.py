"""The composer's blueprint (endpoints `compose.*` under /author/) and the helpers its pages share.

Every page works without JavaScript: the editor is one form whose buttons (save,
up, down, remove, add) each save everything first. compose.js only adds drag to
reorder, autosave and live preview refresh on top.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import Blueprint, abort, render_template
from sqlalchemy import select

from newsletter.compose import InvalidTransition, IssueNotFound, get_issue
from newsletter.compose.posts import most_specific
from newsletter.db import get_session
from newsletter.models import Category
from newsletter.models.base import MAX_ID

bp = Blueprint("compose", __name__, url_prefix="/author")
# `post.categories | most_specific`: "AI: Large Language Models · China", not "AI · AI: ...".
bp.add_app_template_filter(most_specific, "most_specific")


def issue_or_404(issue_id: int, *, with_posts: bool = False) -> Any:
    """The issue `issue_id` (with its posts' rows when `with_posts`), for a view.

    Aborts with 404 when the id is outside 1..MAX_ID or no such issue exists
    (IssueNotFound).
    """
    if not 0 < issue_id <= MAX_ID:
        abort(404)
    try:
        return get_issue(get_session(), issue_id, with_posts=with_posts)
    except IssueNotFound:
        abort(404)


def int_list(values: Sequence[str]) -> list[int]:
    """The values that are ids (digits, 1..MAX_ID), as ints in the given order; the rest
    are dropped silently.
    """
    out = []
    for value in values:
        if value.strip().isdigit() and 0 < int(value) <= MAX_ID:
            out.append(int(value))
    return out


def category_list() -> list[Category]:
    """Every category, by name (for the pages' filters and choices)."""
    return list(get_session().scalars(select(Category).order_by(Category.name)))


def conflict_page(exc: InvalidTransition) -> tuple[str, int]:
    """The 409 answer for a change to an issue that is no longer a draft: web/error.html
    with the InvalidTransition's message, as (html, 409).
    """
    message = f"{exc}. Only drafts can be edited."
    return render_template("web/error.html", status=409, title="Not a draft", message=message), 409
