"""The domain model; importing this package registers every table on Base.metadata."""

from .base import Base, utcnow
from .deliveries import Delivery, DeliveryStatus
from .events import Event, EventKind
from .issues import Issue, IssueItem, IssueStatus, ItemMode, Link
from .posts import Category, Post, post_categories
from .subscribers import (
    Frequency,
    Subscriber,
    SubscriberStatus,
    Suppression,
    SuppressionReason,
    subscriber_categories,
)
from .users import ApiToken, Role, User

__all__ = [
    "ApiToken",
    "Base",
    "Category",
    "Delivery",
    "DeliveryStatus",
    "Event",
    "EventKind",
    "Frequency",
    "Issue",
    "IssueItem",
    "IssueStatus",
    "ItemMode",
    "Link",
    "Post",
    "Role",
    "Subscriber",
    "SubscriberStatus",
    "Suppression",
    "SuppressionReason",
    "User",
    "post_categories",
    "subscriber_categories",
    "utcnow",
]
