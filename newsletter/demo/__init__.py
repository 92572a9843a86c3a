"""Demo content shipped inside the package, so `make run` works without /work/shared."""

from __future__ import annotations

from importlib.resources import as_file, files

from sqlalchemy.orm import Session

from newsletter.posts import ImportResult, import_posts

SEED_FILES = ("000_484acb04414105e9.txt",)


def load_demo_posts(session: Session) -> ImportResult:
    """Import the seed blog posts (plain-text scrapes) and commit; safe to run again (posts
    are updated in place). Returns the combined ImportResult; each undated post adds a
    warning. PostImportError (import_posts) would mean a broken package: the seeds ship
    with it.
    """
    total = ImportResult()
    for name in SEED_FILES:
        with as_file(files(__package__) / "seeds" / name) as path:
            result = import_posts(session, path, fmt="text")
        total.created += result.created
        total.updated += result.updated
        total.post_ids.extend(result.post_ids)
        total.warnings.extend(result.warnings)  # a scrape has no dates: each post says so
    return total
