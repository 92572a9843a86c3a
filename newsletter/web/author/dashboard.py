"""The author's area: posts and issues."""

from __future__ import annotations

from flask import Blueprint, render_template
from sqlalchemy import func, select

from newsletter.db import get_session
from newsletter.models import Issue, Post, Role

from ..roles import role_required

bp = Blueprint("author", __name__, url_prefix="/author")


@bp.get("/")
@role_required(Role.AUTHOR)
def dashboard() -> str:
    """GET /author/: the author's dashboard: the 10 latest posts (undated first), the 10
    latest issues and the number of posts.

    Renders web/author_dashboard.html; 200; 302 to the login page when logged out (authors and
    admins only).
    """
    session = get_session()
    posts = session.scalars(
        select(Post).order_by(Post.published_at.desc().nulls_first(), Post.id.desc()).limit(10)
    ).all()
    issues = session.scalars(select(Issue).order_by(Issue.created_at.desc()).limit(10)).all()
    post_count = session.scalar(select(func.count()).select_from(Post))
    return render_template(
        "web/author_dashboard.html", posts=posts, issues=issues, post_count=post_count
    )
