"""Render once per content variant: a distinct set of posts, never once per person.

A subscriber's message is their variant's `MessageTemplate` personalised by a byte
join (about 25 µs, against milliseconds for one render). Templates are cached per
worker process by (database, issue, post ids); an issue's content cannot change once its send
has started (only drafts are editable), so the cache never goes stale.
"""

from __future__ import annotations

import functools
import hashlib
import threading
from collections import OrderedDict

from sqlalchemy.orm import Session

from newsletter.compose.content import archive_url, post_block
from newsletter.compose.issues import get_issue
from newsletter.config import Settings
from newsletter.mail import envelope
from newsletter.mail.message import MessageTemplate
from newsletter.models import IssueKind
from newsletter.render import IssueContent, branding_from_settings, render_issue
from newsletter.tracking.links import track_variant
from newsletter.tracking.tokens import tracking_on

MAX_CACHED = 64  # variants are few (combinations of chosen categories), each ~100 kB

_lock = threading.Lock()
_cache: OrderedDict[tuple[str, int, tuple[int, ...]], MessageTemplate] = OrderedDict()


@functools.lru_cache(maxsize=1024)  # asked once per message sent
def variant_key(post_ids: tuple[int, ...]) -> str:
    """A short stable name for a content variant: the first 12 hex digits of the SHA-256
    of its sorted post ids (`(3, 1)` and `(1, 3)` are one variant). Stored on each sent
    delivery (`Delivery.variant`) so stats and tracking can group recipients by content;
    "" means no content (a skipped row)."""
    if not post_ids:
        return ""
    canonical = ",".join(str(p) for p in sorted(post_ids)).encode("ascii")
    return hashlib.sha256(canonical).hexdigest()[:12]


def render_variant(
    session: Session, settings: Settings, *, issue_id: int, post_ids: tuple[int, ...]
) -> MessageTemplate:
    """The issue with only `post_ids` (issue order kept), as a template with list headers;
    a digest gets its table of contents and excerpts (`automations.digests`). With
    tracking on (TRACKING and the issue's own flag; digests too) its links are rewritten
    and the pixel added, the delivery's token left as the `track` placeholder (commits
    the links)."""
    issue = get_issue(session, issue_id, with_posts=True)
    wanted = set(post_ids)
    if issue.kind is IssueKind.DIGEST:
        from newsletter.automations.digests import digest_content

        content = digest_content(session, settings, issue_id=issue_id, post_ids=post_ids)
    else:
        content = IssueContent(
            subject=issue.subject,
            preheader=issue.preheader,
            intro_markdown=issue.intro,
            outro_markdown=issue.outro,
            posts=tuple(post_block(i) for i in issue.items if i.post_id in wanted),
            web_url=archive_url(settings.base_url, issue),
        )
    rendered = render_issue(content, branding_from_settings(settings))
    if tracking_on(settings, issue.tracking):
        rendered = track_variant(session, settings, rendered, issue_id=issue_id)
    return envelope.issue_template(rendered, settings, issue_id=issue_id)


def template_for(
    session: Session, settings: Settings, *, issue_id: int, post_ids: tuple[int, ...]
) -> MessageTemplate:
    """The cached template of a variant, rendered on first use in this process."""
    # The database is part of the key: issue ids repeat across databases (a test suite,
    # a worker process that serves a second app), content never does within one.
    key = (settings.database_url, issue_id, post_ids)
    with _lock:
        found = _cache.get(key)
        if found is not None:
            _cache.move_to_end(key)
            return found
    template = render_variant(session, settings, issue_id=issue_id, post_ids=post_ids)
    with _lock:
        _cache[key] = template
        while len(_cache) > MAX_CACHED:
            _cache.popitem(last=False)
    return template
