"""The author's posts under /author/posts: the list, one post's date, and import."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from newsletter import current_settings
from newsletter.compose import ComposeError, list_posts
from newsletter.compose.posts import set_post_date
from newsletter.db import get_session
from newsletter.models import Post, Role
from newsletter.models.base import MAX_ID
from newsletter.posts import PostImportError, import_posts

from ..roles import role_required
from .base import bp, category_list
from .forms import ImportForm, PostDateForm

UPLOAD_LIMIT = 20_000_000


@bp.get("/posts")
@role_required(Role.AUTHOR)
def posts() -> str | tuple[str, int]:
    """GET /author/posts: the posts, newest first, `?q=` words in the title or excerpt,
    `?category=` (children too), a page at a time (`?cursor=`).

    Renders web/compose/posts.html; 200; 422 with the message for an unknown category
    or a bad cursor; 302 to the login page when logged out (authors and admins only).
    """
    q = request.args.get("q", "").strip()[:200]
    category = request.args.get("category", "").strip()[:200]
    cursor = request.args.get("cursor") or None
    error = None
    try:
        page = list_posts(get_session(), q=q or None, category=category or None, cursor=cursor)
    except ComposeError as exc:
        error, page = str(exc), None
    return render_template(
        "web/compose/posts.html",
        page=page,
        q=q,
        category=category,
        categories=category_list(),
        error=error,
    ), (422 if error else 200)


@bp.route("/posts/<int:post_id>", methods=["GET", "POST"])
@role_required(Role.AUTHOR)
def post_date(post_id: int) -> BaseResponse | tuple[str, int]:
    """GET, POST /author/posts/<post_id>: a post's publication date (imports leave it
    empty when the source gave none), in the server's timezone.

    GET renders web/compose/post.html; 200. A POST sets the date, or clears it when
    empty, and answers 302 to the post list; 422 with the form and the message for an
    invalid date or one the service refuses (ComposeError); 404 no such post; 400
    without a valid CSRF token; 302 to the login page when logged out (authors and admins only).
    """
    session = get_session()
    post = session.get(Post, post_id) if 0 < post_id <= MAX_ID else None
    if post is None:
        abort(404)
    form = PostDateForm()
    error = None
    if form.validate_on_submit():
        when = form.published_at.data  # naive: set_post_date reads it in the server's timezone
        try:
            set_post_date(session, post_id=post_id, published_at=when)
        except ComposeError as exc:
            error = str(exc)
        else:
            flash("Date saved." if when else "Date cleared: the post has no date.", "info")
            return redirect(url_for("compose.posts"))
    elif request.method == "POST":
        error = "; ".join(f"{k}: {', '.join(v)}" for k, v in form.errors.items())
    else:
        # Shown in the server's timezone, naive, as the datetime-local input wants it.
        shown = post.published_at.astimezone().replace(tzinfo=None) if post.published_at else None
        form.published_at.data = shown
    return render_template("web/compose/post.html", post=post, form=form, error=error), (
        422 if error else 200
    )


@bp.route("/posts/import", methods=["GET", "POST"])
@role_required(Role.AUTHOR)
def import_view() -> BaseResponse | str | tuple[str, int]:
    """GET, POST /author/posts/import: import posts from exactly one source: an uploaded
    file, a URL (http or https) or pasted text, with an optional format and base URL.

    GET renders web/compose/import.html; 200. POST imports (all or nothing) and answers 302 to the
    post list, or 200 with the summary and warnings when there are any; 422 with the message (and
    position) for no source or several, a bad URL, an invalid form or a source that cannot be
    imported (PostImportError); 400 without a valid CSRF token; 302 to the login page when logged
    out (authors and admins only).
    """
    form = ImportForm()
    error: str | None = None
    position: str | None = None
    summary: str | None = None
    warnings: list[str] = []
    if form.validate_on_submit():
        upload = form.file.data
        sources: list[str | bytes] = []
        if upload and upload.filename:
            data = upload.read(UPLOAD_LIMIT + 1)
            sources.append(data)
        if form.url.data:
            sources.append(form.url.data.strip())
        pasted = bool(form.content.data and form.content.data.strip())
        if pasted:
            sources.append((form.content.data or "").encode("utf-8", "replace"))
        if len(sources) != 1:
            error = "Choose one source: a file, a URL or pasted text."
        else:
            source = sources[0]
            if isinstance(source, str) and not source.startswith(("http://", "https://")):
                error = "The URL must start with http:// or https://."
            else:
                try:
                    result = import_posts(
                        get_session(),
                        source,
                        fmt=form.format.data or None,
                        allow_private_urls=current_settings().import_allow_private_urls,
                        # Pasted text is Unicode already, whatever its XML declaration says.
                        content_type="text/plain; charset=utf-8" if pasted else None,
                        base_url=(form.base_url.data or "").strip() or None,
                    )
                except PostImportError as exc:
                    error, position = exc.message, exc.position
                else:
                    noun = "post" if result.total == 1 else "posts"
                    summary = (
                        f"Imported {result.total} {noun} ({result.created} new, "
                        f"{result.updated} updated)."
                    )
                    if not result.warnings:
                        flash(summary, "info")
                        return redirect(url_for("compose.posts"))
                    warnings = result.warnings  # shown here: too many for a flash cookie
    elif request.method == "POST":
        error = "; ".join(f"{k}: {', '.join(v)}" for k, v in form.errors.items()) or None
    status = 422 if error else 200
    return render_template(
        "web/compose/import.html",
        form=form,
        error=error,
        position=position,
        summary=summary,
        warnings=warnings,
    ), status
