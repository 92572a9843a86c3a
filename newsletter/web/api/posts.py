"""/api/v1/posts: list and read imported posts, and import more.

POST /api/v1/posts takes one of:
  - JSON {"url": "https://blog.example.org/feed"}      fetch and import a feed or file
  - JSON {"content": "...", "format": "rss"}          import text sent inline
  - a raw body (RSS/Atom/WXR XML, Markdown or plain text) with its Content-Type;
    `?format=` skips detection.
The whole source is parsed before anything is written: an error imports nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from flask import current_app, request
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, HttpUrl, model_validator

from newsletter.compose import ComposeError, list_posts
from newsletter.db import get_session
from newsletter.models import Post
from newsletter.posts import PostImportError, import_posts
from newsletter.posts.sources import FORMATS

from . import api
from .framework import ApiError, _validate

RAW_TYPES = (
    "application/rss+xml",
    "application/atom+xml",
    "application/xml",
    "text/xml",
    "text/markdown",
    "text/plain",
)
Format = Literal["rss", "atom", "feed", "wxr", "markdown", "text"]
assert set(Format.__args__) == set(FORMATS)  # type: ignore[attr-defined]


def _storable(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("is not valid Unicode") from None
    return value


Text = Annotated[str, AfterValidator(_storable)]


class PostOut(BaseModel):
    id: int
    title: str
    slug: str
    url: str | None
    author: str | None
    published_at: datetime | None = Field(
        description="null when the source gave no date we could read (set it in the author pages)"
    )
    categories: list[str]
    excerpt: str
    html: str

    @classmethod
    def of(cls, post: Post) -> PostOut:
        """The API shape of a post; `categories` as full names."""
        return cls(
            id=post.id,
            title=post.title,
            slug=post.slug,
            url=post.url,
            author=post.author,
            published_at=post.published_at,
            categories=[c.name for c in post.categories],
            excerpt=post.excerpt,
            html=post.html,
        )


class PostList(BaseModel):
    items: list[PostOut]
    next: str | None


class PostsQuery(BaseModel):
    q: Text | None = Field(None, max_length=200, description="words in the title or excerpt")
    category: Text | None = Field(
        None, max_length=200, description="full category name; its children match too"
    )
    cursor: str | None = Field(None, max_length=200, description="`next` of the previous page")
    limit: int | None = Field(None, ge=1, le=100)


class PostImportJson(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: HttpUrl | None = Field(None, description="an http(s) feed, export or text file")
    content: Text | None = Field(None, max_length=20_000_000, description="the source itself")
    format: Format | None = Field(None, description="skip format detection")
    base_url: HttpUrl | None = Field(
        None, description="where inline content was published, for its relative links"
    )

    @model_validator(mode="after")
    def _one_source(self) -> PostImportJson:
        if (self.url is None) == (self.content is None):
            raise ValueError("give exactly one of url or content")
        return self


class ImportQuery(BaseModel):
    format: Format | None = Field(None, description="for raw bodies: skip format detection")
    base_url: HttpUrl | None = Field(
        None, description="for raw bodies: where the source was published, for relative links"
    )


class ImportOut(BaseModel):
    created: int
    updated: int
    post_ids: list[int]
    warnings: list[str] = Field(
        description="what could not be kept as the source had it, one line per problem"
    )


_IMPORT_CONTENT = {
    "application/json": {"schema": PostImportJson.model_json_schema()},
    **{kind: {"schema": {"type": "string"}} for kind in RAW_TYPES},
}


@api.operation(
    "/posts", summary="Posts, newest first", tag="posts", query=PostsQuery, response=PostList
)
def list_posts_api(query: PostsQuery) -> PostList:
    """GET /api/v1/posts: posts newest first, `?q=` words in the title or excerpt,
    `?category=` (children match too), keyset-paged (`?cursor=`, `?limit=` 1..100).

    200 with `{"items", "next"}`; 422 for a bad cursor, an unknown category or a bad
    query value; 401 without a valid bearer token.
    """
    try:
        page = list_posts(
            get_session(),
            q=query.q,
            category=query.category,
            cursor=query.cursor,
            limit=query.limit,
        )
    except ComposeError as exc:
        raise ApiError(422, "validation_error", str(exc)) from None
    return PostList(items=[PostOut.of(p) for p in page.items], next=page.next)


@api.operation("/posts/<int:post_id>", summary="One post", tag="posts", response=PostOut)
def get_post(post_id: int) -> PostOut:
    """GET /api/v1/posts/<post_id>: one post with its HTML. 200; 404 when there is none; 401 without
    a valid bearer token.
    """
    post = get_session().get(Post, post_id)  # the Api layer has already refused ids out of range
    if post is None:
        raise ApiError(404, "not_found", f"no post with id {post_id}")
    return PostOut.of(post)


@api.operation(
    "/posts",
    "POST",
    summary="Import posts from a URL, inline content or a raw feed/text body",
    tag="posts",
    query=ImportQuery,
    response=ImportOut,
    request_content=_IMPORT_CONTENT,
)
def import_posts_api(query: ImportQuery) -> ImportOut:
    """POST /api/v1/posts: import posts from JSON `{"url"}` or `{"content", "format"}`, or a
    raw RSS/Atom/WXR, Markdown or text body (`?format=`, `?base_url=`). All or nothing.

    200 with created, updated, post_ids and warnings; 400 for malformed JSON; 415 for another
    Content-Type; 422 `validation_error` (bad fields, an empty body, NUL bytes) or `import_failed`
    (PostImportError, with its position in `details`); 401 without a valid bearer token.
    """
    source: str | bytes
    fmt: str | None = query.format
    content_type = request.content_type  # a raw body's charset says how to read it
    base_url = str(query.base_url) if query.base_url is not None else None
    if request.is_json:
        data = request.get_json(silent=True)
        if data is None:
            raise ApiError(400, "malformed_json", "the body is not valid JSON")
        body = _validated(data)
        source = str(body.url) if body.url is not None else (body.content or "").encode()
        fmt = body.format or fmt
        content_type = "text/plain; charset=utf-8"  # a JSON string is Unicode already
        base_url = str(body.base_url) if body.base_url is not None else base_url
    else:
        kind = request.mimetype
        if kind not in RAW_TYPES:
            raise ApiError(
                415,
                "unsupported_media_type",
                f"send JSON or a raw body as one of: {', '.join(RAW_TYPES)}",
            )
        source = request.get_data()
        if not source.strip():
            raise ApiError(422, "validation_error", "the body is empty")
        if b"\x00" in source and not source.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise ApiError(422, "validation_error", "the body contains NUL bytes")
    try:
        result = import_posts(
            get_session(),
            source,
            fmt=fmt,
            allow_private_urls=current_app.extensions["settings"].import_allow_private_urls,
            content_type=content_type,
            base_url=base_url,
        )
    except PostImportError as exc:
        raise ApiError(
            422, "import_failed", str(exc), [{"position": exc.position, "message": exc.message}]
        ) from None
    return ImportOut(
        created=result.created,
        updated=result.updated,
        post_ids=result.post_ids,
        warnings=result.warnings,
    )


def _validated(data: object) -> PostImportJson:
    # The framework's validator, so errors read the same as for declared bodies.
    return _validate(PostImportJson, data)  # type: ignore[return-value]
