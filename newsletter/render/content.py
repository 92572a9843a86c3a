"""The data a rendered email is made from: plain values, never templates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class PostBlock:
    """One post inside an issue."""

    title: str
    url: str | None
    html: str  # sanitized HTML of the full post
    excerpt: str  # plain text
    mode: str  # "full" or "excerpt" (excerpt shows a "Read more" link to url)
    categories: tuple[str, ...] = ()
    author: str | None = None
    published_at: datetime | None = None
    anchor: str | None = None  # `post-ID`: the id of its title, for `#post-ID` links


@dataclass(frozen=True, slots=True)
class IssueContent:
    """Everything an author wrote for one issue (one content variant)."""

    subject: str
    preheader: str
    intro_markdown: str
    outro_markdown: str
    posts: tuple[PostBlock, ...]
    web_url: str | None = None  # archive page of the issue, if any
    contents: bool = False  # a table of contents before the posts (digests)


@dataclass(frozen=True, slots=True)
class RenderedEmail:
    """One rendered variant; html and text may hold per-recipient placeholders."""

    subject: str
    html: str
    text: str
