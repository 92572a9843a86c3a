"""Plain-text blog scrapes: several posts in one file, each introduced by `Categories`.

The shape (see newsletter/demo/seeds/000_484acb04414105e9.txt):

    Categories                              <- a line of its own opens every post
    AI AI: Large Language Models China      <- the post's categories, space-separated
    <blank>
    Cranes on the Horizon                   <- title
    <blank>
    paragraphs separated by blank lines ... <- body, up to the next `Categories` line

The category line loses the boundaries between names, so a name with spaces is
recognised by its colon: `AI: Large Language Models` runs from `AI:` up to the
next word that starts a category known from elsewhere (any single word on a
colon-free category line in the same file, a parent name, or a caller-supplied
name such as the categories already in the database).
"""

from __future__ import annotations

from collections.abc import Iterable

from .cleaning import paragraphs_to_html
from .errors import PostImportError
from .mojibake import repair_mojibake
from .parsed import ParsedPost, make_post, stable_id

MARKER = "Categories"


def parse_text(data: bytes, *, known_categories: Iterable[str] = ()) -> list[ParsedPost]:
    """The posts of a plain-text scrape (the shape in this module's docstring), in file order.

    UTF-8 (a BOM is dropped), mojibake repaired, any line ending. `known_categories` helps
    split the space-separated category lines. Raises PostImportError, with a `line N`
    position, when the bytes are not UTF-8, the file is empty, or the first text is not a
    `Categories` line.
    """
    lines = repair_mojibake(_decode(data)).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    starts = [
        i
        for i, line in enumerate(lines)
        if line.strip() == MARKER and (i == 0 or not lines[i - 1].strip())
    ]
    first_text = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first_text is None:
        raise PostImportError("the file is empty", position="line 1")
    if not starts or starts[0] != first_text:
        raise PostImportError(
            f"expected a '{MARKER}' line to open the first post", position=f"line {first_text + 1}"
        )
    blocks = list(zip(starts, [*starts[1:], len(lines)], strict=True))
    category_lines = [_category_line(lines, start, end) for start, end in blocks]
    known = _known_names([lines[i] for i in category_lines], known_categories)
    return [
        _post(lines, start, end, cat_line, known)
        for (start, end), cat_line in zip(blocks, category_lines, strict=True)
    ]


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise PostImportError("not valid UTF-8 text", position=f"line {line}") from exc


def _category_line(lines: list[str], start: int, end: int) -> int:
    index = start + 1
    if index >= end or not lines[index].strip():
        raise PostImportError(
            f"expected category names on the line after '{MARKER}'", position=f"line {index + 1}"
        )
    return index


def _post(lines: list[str], start: int, end: int, cat_line: int, known: set[str]) -> ParsedPost:
    index = cat_line + 1
    while index < end and not lines[index].strip():
        index += 1
    if index >= end:
        raise PostImportError("this post has no title", position=f"line {start + 1}")
    title = " ".join(lines[index].split())
    body = "\n".join(lines[index + 1 : end])
    return make_post(
        guid=stable_id("text", title),  # scrapes carry no id; the title is what stays put
        title=title,
        url=None,
        author=None,
        published_at=None,
        categories=split_categories(lines[cat_line], known),
        html=paragraphs_to_html(body),
    )


def _known_names(category_lines: list[str], extra: Iterable[str]) -> set[str]:
    """Names we can be sure of: words on colon-free lines, and every parent name."""
    known = {" ".join(name.split()) for name in extra if name.strip()}
    for line in category_lines:
        words = line.split()
        if not any(w.endswith(":") for w in words):
            known.update(words)
            continue
        for word in words:
            if word.endswith(":"):
                known.add(word[:-1])
                break
            known.add(word)  # words before the first `Parent:` stand alone
    return known


def split_categories(line: str, known: set[str]) -> list[str]:
    """`AI AI: Large Language Models China` -> [AI, AI: Large Language Models, China]."""
    words = line.split()
    names: list[str] = []
    i = 0
    while i < len(words):
        length = _known_at(words, i, known)
        if length:
            names.append(" ".join(words[i : i + length]))
            i += length
        elif words[i].endswith(":") and i + 1 < len(words):
            j = i + 2  # a parent always has at least one word of child name
            while j < len(words) and not _starts_name(words, j, known):
                j += 1
            names.append(" ".join(words[i:j]))
            i = j
        else:
            names.append(words[i].rstrip(":"))
            i += 1
    return names


def _starts_name(words: list[str], i: int, known: set[str]) -> bool:
    """A known name, or a known parent opening the next `Parent: Child` name."""
    return bool(_known_at(words, i, known)) or (words[i].endswith(":") and words[i][:-1] in known)


def _known_at(words: list[str], i: int, known: set[str]) -> int:
    """Word count of the longest known name starting at words[i], or 0."""
    for length in range(len(words) - i, 0, -1):
        if " ".join(words[i : i + length]) in known:
            return length
    return 0
