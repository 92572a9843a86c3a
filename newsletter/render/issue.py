"""Render one issue variant (HTML and text from the same content) with placeholders."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from markupsafe import Markup, escape

from .branding import Branding
from .chars import drop_invalid_chars
from .content import IssueContent, PostBlock, RenderedEmail
from .environment import environment
from .fragments import markdown_to_html, sanitize_html
from .pipeline import mjml_to_html, tidy_text
from .placeholders import neutralize, placeholder
from .text import LinkRefs, html_to_text, wrap

# Invisible filler after the preheader so clients do not pad the inbox preview
# with the first lines of the body ("View in your browser", the site name...).
PREHEADER_PAD = Markup("&#847;&zwnj;&nbsp;" * 60)  # noqa: S704 - a constant
_WS = re.compile(r"\s+")
_ANCHOR = re.compile(r"[^A-Za-z0-9_-]")  # an HTML id that needs no escaping
FALLBACK_NAME = "there"  # "Hi there," when a subscriber gave no name


def clean_line(value: str) -> str:
    """One-line content (titles, subjects): whitespace collapsed, markers broken."""
    return neutralize(_WS.sub(" ", drop_invalid_chars(value)).strip())


def format_date(value: datetime) -> str:
    """A post date as readers see it: `March 3, 2025` (the locale's month name)."""
    return f"{value:%B} {value.day}, {value.year}"


def _byline(post: PostBlock) -> str:
    parts = [clean_line(post.author)] if post.author and post.author.strip() else []
    if post.published_at is not None:
        parts.append(format_date(post.published_at))
    return " · ".join(parts)


def placeholders(*, html: bool) -> dict[str, str]:
    """The per-recipient values every bulk template reads as `r.*`."""
    return {
        "name": placeholder("name", FALLBACK_NAME, html=html),
        "email": placeholder("email", html=html),
        "unsubscribe_url": placeholder("unsubscribe_url", html=html),
        "preferences_url": placeholder("preferences_url", html=html),
        "open_pixel": placeholder("open_pixel", html=html) if html else "",
    }


def postal_html(address: str) -> Markup:
    """The footer's postal address as HTML: each non-blank line escaped, joined by `<br>`."""
    lines = [escape(clean_line(line)) for line in address.splitlines() if line.strip()]
    return Markup("<br>").join(lines)


def postal_text(address: str) -> str:
    """The footer's postal address as text: its non-blank lines, cleaned, one per line."""
    return "\n".join(clean_line(line) for line in address.splitlines() if line.strip())


@dataclass(frozen=True, slots=True)
class _PostView:
    title: str
    url: str | None
    categories: tuple[str, ...]
    byline: str
    full: bool
    read_more: bool
    html: Markup
    excerpt: str
    body: str  # plain text for the text part
    anchor: str | None = None


def _post_view(post: PostBlock, refs: LinkRefs) -> _PostView:
    url = clean_line(post.url) if post.url and post.url.strip() else None
    excerpt = neutralize(_WS.sub(" ", post.excerpt).strip())
    html = sanitize_html(post.html, base_url=url) if post.html.strip() else ""
    full = post.mode == "full" and bool(html)
    body = html_to_text(html, refs) if full else wrap(excerpt)
    return _PostView(
        title=clean_line(post.title),
        url=url,
        categories=tuple(clean_line(c) for c in post.categories if c.strip()),
        byline=_byline(post),
        full=full,
        read_more=bool(url) and not full,
        html=Markup(html),  # noqa: S704 - sanitized by nh3 just above
        excerpt=excerpt,
        body=body,
        anchor=_ANCHOR.sub("", post.anchor or "") or None,
    )


def render_issue(content: IssueContent, branding: Branding) -> RenderedEmail:
    """One full render: Jinja -> MJML -> HTML (CSS inlined) plus the text part.

    Per-recipient values are placeholders (see `placeholders.py`); author text is
    only ever data passed to the templates, never a template itself.
    """
    refs = LinkRefs()
    intro_html = markdown_to_html(content.intro_markdown)
    intro_text = html_to_text(intro_html, refs)
    posts = [_post_view(p, refs) for p in content.posts]
    outro_html = markdown_to_html(content.outro_markdown)
    outro_text = html_to_text(outro_html, refs)
    subject = clean_line(content.subject)
    shared: dict[str, Any] = {
        "subject": subject,
        "branding": {
            "site_name": clean_line(branding.site_name),
            "base_url": clean_line(branding.base_url),
        },
        "web_url": clean_line(content.web_url) if content.web_url else None,
        "posts": posts,
        "contents": content.contents,
        "list_links": True,
    }
    env = environment()
    mjml = env.get_template("issue.mjml").render(
        shared,
        preheader=clean_line(content.preheader),
        preheader_pad=PREHEADER_PAD,
        intro_html=Markup(intro_html),  # noqa: S704 - Markdown without raw HTML, then nh3
        outro_html=Markup(outro_html),  # noqa: S704 - same
        postal_address=postal_html(branding.postal_address),
        r=placeholders(html=True),
    )
    text = env.get_template("issue.txt").render(
        shared,
        intro=intro_text,
        outro=outro_text,
        links=refs.render(),
        postal_address=postal_text(branding.postal_address),
        r=placeholders(html=False),
    )
    return RenderedEmail(subject=subject, html=mjml_to_html(mjml), text=tidy_text(text))
