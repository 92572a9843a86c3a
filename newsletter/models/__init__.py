"""The domain model; importing this package registers every table on Base.metadata."""

from .automations import (
    Automation,
    AutomationAction,
    AutomationRun,
    Feed,
    RunOutcome,
    automation_categories,
)
from .base import Base, utcnow
from .deliveries import Delivery, DeliveryStatus
from .digests import DigestRun, digest_sources
from .events import Event, EventKind
from .issues import Issue, IssueItem, IssueKind, IssueStatus, ItemMode, Link
from .posts import Category, Post, post_categories
from .subscribers import (
    Frequency,
    Subscriber,
    SubscriberStatus,
    Suppression,
    SuppressionReason,
    subscriber_categories,
)
from .tracking import NO_LINK, TrackingCount, TrackingFirst
from .users import ApiToken, Role, User

__all__ = [
    "NO_LINK",
    "ApiToken",
    "Automation",
    "AutomationAction",
    "AutomationRun",
    "Base",
    "Category",
    "Delivery",
    "DeliveryStatus",
    "DigestRun",
    "Event",
    "EventKind",
    "Feed",
    "Frequency",
    "Issue",
    "IssueItem",
    "IssueKind",
    "IssueStatus",
    "ItemMode",
    "Link",
    "Post",
    "Role",
    "RunOutcome",
    "Subscriber",
    "SubscriberStatus",
    "Suppression",
    "SuppressionReason",
    "TrackingCount",
    "TrackingFirst",
    "User",
    "automation_categories",
    "digest_sources",
    "post_categories",
    "subscriber_categories",
    "utcnow",
]
