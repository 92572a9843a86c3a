"""A folder of Markdown files with YAML front matter (title, date, categories, slug)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from markdown_it import MarkdownIt

from .dates import parse_date
from .errors import PostImportError
from .parsed import ParsedPost, make_post
from .sources import MARKDOWN_SUFFIXES, too_big

# Raw HTML in Markdown is shown as text, never passed through; nh3 runs afterwards anyway.
_MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])
_FENCE = re.compile(r"^(?:---|\.\.\.)[ \t]*$", re.MULTILINE)
_H1 = re.compile(r"^#[ \t]+(.+?)[ \t#]*$", re.MULTILINE)


def parse_markdown_dir(
    directory: Path, *, max_bytes: int, base_url: str | None = None
) -> list[ParsedPost]:
    """Every Markdown file under `directory` (hidden paths skipped), in path order.

    `max_bytes` caps the files' sizes added together. Raises PostImportError when there is
    no *.md or *.markdown file, when the total passes `max_bytes` (position: the file that
    passed it), and for any file parse_markdown_file rejects.
    """
    files = sorted(
        p
        for p in directory.rglob("*")
        if p.is_file()
        and p.suffix.lower() in MARKDOWN_SUFFIXES
        and not any(part.startswith(".") for part in p.relative_to(directory).parts)
    )
    if not files:
        raise PostImportError(f"no Markdown files (*.md, *.markdown) in {directory}")
    total = 0
    posts = []
    for path in files:
        name = path.relative_to(directory).as_posix()
        total += path.stat().st_size
        if total > max_bytes:
            error = too_big(max_bytes)
            raise PostImportError(error.message, position=name)
        posts.append(parse_markdown_file(path.read_bytes(), name=name, base_url=base_url))
    return posts


def parse_markdown_file(data: bytes, *, name: str, base_url: str | None = None) -> ParsedPost:
    """One post from a Markdown file with optional YAML front matter (title, date, categories,
    slug); `name` is the file's name or path, used in error positions and as a fallback.

    CommonMark plus tables and strikethrough; raw HTML is shown as text. With no title in the
    front matter, the first `# heading` is the title. Raises PostImportError (position
    `NAME, line N`) when the file is not UTF-8, its front matter is not closed by `---`, not valid
    YAML (or nested too deeply) or not a mapping, or a field that must be text is a list or mapping.
    """
    text = _decode(data, name)
    meta, body = _split_front_matter(text, name)

    def field(*keys: str) -> str:
        """The first of `keys` that has a value, as text; a list or mapping is an error."""
        for key in keys:
            value = meta.get(key)
            if value is None:
                continue
            if not isinstance(value, str):  # BaseLoader makes str, list or dict only
                raise PostImportError(
                    f"{key} must be text, not a list or mapping",
                    position=f"{name}, line {_key_line(text, key)}",
                )
            if value.strip() not in _NULLS:
                return value.strip()
        return ""

    title = field("title")
    if not title and (heading := _H1.search(body)):
        title = heading.group(1)
        body = body[: heading.start()] + body[heading.end() :]  # the title is not body text
    stem = name.rsplit(".", 1)[0]
    slug = field("slug")
    key = "categories" if "categories" in meta else "category"
    categories = meta.get(key, [])
    if isinstance(categories, str):
        categories = [] if categories.strip() in _NULLS else categories.split(",")
    # Names only: str() of a nested list could be huge (YAML aliases repeat a list cheaply).
    if not isinstance(categories, list) or not all(isinstance(c, str) for c in categories):
        raise PostImportError(
            f"{key} must be a list of names or a comma-separated string",
            position=f"{name}, line {_key_line(text, key)}",
        )
    date_text = field("date")
    return make_post(
        guid=field("guid") or f"markdown:{slug or stem}",
        title=title or Path(stem).name.replace("-", " ").replace("_", " "),
        url=field("url", "canonical_url") or None,
        author=field("author") or None,
        published_at=parse_date(date_text),
        date_text=date_text or None,
        categories=[c.strip() for c in categories if c.strip() not in _NULLS],
        html=_MARKDOWN.render(body),
        summary=field("excerpt", "summary", "description") or None,
        slug_hint=slug or None,
        base_url=base_url,
    )


def _decode(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise PostImportError("not valid UTF-8", position=f"{name}, line {line}") from exc


def _split_front_matter(text: str, name: str) -> tuple[dict[str, Any], str]:
    """(front matter, body); a file may have no front matter."""
    text = text.replace("\r\n", "\n")
    first = text.split("\n", 1)[0].rstrip()
    if first != "---":
        return {}, text
    closing = _FENCE.search(text, len(first) + 1)
    if closing is None:
        raise PostImportError(
            "front matter is not closed by a '---' line", position=f"{name}, line 1"
        )
    raw = text[len(first) + 1 : closing.start()]
    try:
        # BaseLoader keeps every scalar as the author wrote it: YAML 1.1 would read
        # `NO`, `ON`, `yes` as booleans, `2024` and `1.10` as numbers, dates as dates.
        meta = yaml.load(raw, Loader=yaml.BaseLoader)  # noqa: S506 - BaseLoader builds no objects
    except RecursionError:
        raise PostImportError(
            "front matter is nested too deeply", position=f"{name}, line 2"
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1  # +1 for 1-based, +1 for the fence
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise PostImportError(
            f"front matter is not valid YAML: {problem}", position=f"{name}, line {line}"
        ) from exc
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise PostImportError("front matter must be a mapping of keys", position=f"{name}, line 2")
    return meta, text[closing.end() :].lstrip("\n")


def _key_line(text: str, key: str) -> int:
    match = re.search(rf"^{re.escape(key)}\s*:", text, re.MULTILINE)
    return text.count("\n", 0, match.start()) + 1 if match else 1


_NULLS = {"~", "null", "Null", "NULL"}  # YAML's null, which BaseLoader leaves as text
