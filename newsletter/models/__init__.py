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
from .deliveries import Delivery, DeliveryStatus, Event, EventKind
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
    "Automation",
    "AutomationAction",
    "AutomationRun",
    "Base",
    "Category",
    "Delivery",
    "DeliveryStatus",
    "Event",
    "EventKind",
    "Feed",
    "Frequency",
    "Issue",
    "IssueItem",
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
    "User",
    "automation_categories",
    "post_categories",
    "subscriber_categories",
    "utcnow",
]
