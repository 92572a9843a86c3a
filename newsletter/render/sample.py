"""A demo issue built from the seed posts, for previews, tests and the benchmark.

The seed is plain text scraped with broken encoding; this only undoes the few
sequences it contains (the real importer in `newsletter.posts` does it properly).
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

from .branding import Branding
from .content import IssueContent, PostBlock

_MOJIBAKE = {
    "โ€”": "—",
    "โ€“": "–",
    "โ€™": "’",
    "โ†’": "→",
    "โ€ข": "•",
    "ร—": "×",
}
_KNOWN_CATEGORIES = ("AI: Large Language Models", "AI", "China")
_BULLET = re.compile(r"^\s*•\s*")

SAMPLE_BRANDING = Branding(
    site_name="Cranes on the Horizon",
    base_url="https://news.example.org",
    postal_address="Example Media\n1 Market Street\nSan Francisco, CA 94105",
    from_address="Cranes on the Horizon <news@news.example.org>",
)


def fix_mojibake(text: str) -> str:
    """`text` with the few mis-decoded sequences the seed file holds (`โ€”` for `—` and the
    like, see _MOJIBAKE) put right; anything else is left as it is.
    """
    for bad, good in _MOJIBAKE.items():
        text = text.replace(bad, good)
    return text


def _categories(line: str) -> tuple[str, ...]:
    found: list[str] = []
    rest = line.strip()
    while rest:
        name = next((c for c in _KNOWN_CATEGORIES if rest.startswith(c)), rest.split(" ")[0])
        found.append(name)
        rest = rest[len(name) :].strip()
    return tuple(found)


def _paragraphs_to_html(paragraphs: list[str]) -> str:
    out: list[str] = []
    items: list[str] = []
    for para in paragraphs:
        if _BULLET.match(para):
            items.append(f"<li>{html.escape(_BULLET.sub('', para))}</li>")
            continue
        if items:
            out.append("<ul>" + "".join(items) + "</ul>")
            items = []
        out.append(f"<p>{html.escape(para)}</p>")
    if items:
        out.append("<ul>" + "".join(items) + "</ul>")
    return "\n".join(out)


def parse_seed_posts(text: str, *, mode: str = "full") -> tuple[PostBlock, ...]:
    """Split the seed file ("Categories", their line, title, paragraphs) into posts."""
    text = fix_mojibake(text)
    chunks = [c for c in re.split(r"(?m)^Categories\n", text) if c.strip()]
    posts: list[PostBlock] = []
    for number, chunk in enumerate(chunks, 1):
        lines = [line.strip() for line in chunk.split("\n")]
        paragraphs = [p for p in lines[1:] if p]
        title, body = paragraphs[0], paragraphs[1:]
        slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
        posts.append(
            PostBlock(
                title=title,
                url=f"{SAMPLE_BRANDING.base_url}/posts/{slug}",
                html=_paragraphs_to_html(body),
                excerpt=body[0] if body else "",
                mode=mode,
                categories=_categories(lines[0]),
                author="Demo Author",
                published_at=datetime(2026, 2, 10 + number, 8, 0, tzinfo=UTC),
            )
        )
    return tuple(posts)


def sample_issue(seed_text: str, *, mode: str = "full") -> IssueContent:
    """The demo issue: a fixed subject, preheader, intro and outro around the posts of
    `seed_text` (see parse_seed_posts for `mode`), with a sample web URL.
    """
    return IssueContent(
        subject="Cranes on the horizon: China’s AI labs in February",
        preheader="Two posts on how China builds AI, and what it means.",
        intro_markdown=(
            "This week: **two posts** on China’s AI labs. The first is about culture, "
            "the second a [round-up of releases](https://news.example.org/tags/china)."
        ),
        outro_markdown="Thanks for reading. Reply to this email: I read every answer.",
        posts=parse_seed_posts(seed_text, mode=mode),
        web_url=f"{SAMPLE_BRANDING.base_url}/archive/cranes-on-the-horizon",
    )
