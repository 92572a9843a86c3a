"""Importing blog posts: RSS/Atom feeds, WordPress exports, Markdown folders, text scrapes.

Parsing never touches the database; `import_posts` parses a whole source first
and then writes it in one transaction, so a bad source changes nothing.
"""

from .errors import PostImportError
from .mojibake import repair_mojibake
from .parsed import ParsedPost
from .parsing import DEFAULT_MAX_BYTES, parse_source
from .sources import FORMATS
from .store import ImportResult, get_or_create_categories, import_posts, save_posts

__all__ = [
    "DEFAULT_MAX_BYTES",
    "FORMATS",
    "ImportResult",
    "ParsedPost",
    "PostImportError",
    "get_or_create_categories",
    "import_posts",
    "parse_source",
    "repair_mojibake",
    "save_posts",
]
