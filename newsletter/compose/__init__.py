"""Turning posts into an issue; per-subscriber content; previews and test sends."""

from newsletter.categories import allowed_categories
from newsletter.render import branding_from_settings

from .content import (
    build_issue_content,
    posts_for_subscriber,
)
from .errors import (
    ComposeError,
    InvalidSchedule,
    InvalidTransition,
    IssueNotFound,
    SubscriberNotFound,
    TestSendError,
)
from .issues import (
    ItemSpec,
    add_posts,
    assign_slug,
    cancel_issue,
    create_issue,
    get_issue,
    last_sent_at,
    list_issues,
    move_item,
    remove_item,
    reorder_items,
    schedule_issue,
    set_item_mode,
    unschedule_issue,
    update_issue,
)
from .posts import list_posts
from .preview import Preview, fill_placeholders, neutral_values, render_preview
from .testsend import MAX_TEST_RECIPIENTS, send_test

__all__ = [
    "MAX_TEST_RECIPIENTS",
    "ComposeError",
    "InvalidSchedule",
    "InvalidTransition",
    "IssueNotFound",
    "ItemSpec",
    "Preview",
    "SubscriberNotFound",
    "TestSendError",
    "add_posts",
    "allowed_categories",
    "assign_slug",
    "branding_from_settings",
    "build_issue_content",
    "cancel_issue",
    "create_issue",
    "fill_placeholders",
    "get_issue",
    "last_sent_at",
    "list_issues",
    "list_posts",
    "move_item",
    "neutral_values",
    "posts_for_subscriber",
    "remove_item",
    "render_preview",
    "reorder_items",
    "schedule_issue",
    "send_test",
    "set_item_mode",
    "unschedule_issue",
    "update_issue",
]
