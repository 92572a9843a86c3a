"""The subscriber lifecycle: every status, every action, and where each action may lead.

One table (`RULES`) answers "may this happen, and to which status?" for every place
that changes a subscriber's status: signup, confirm, import, unsubscribe,
preferences, admin actions, erase, bounces and complaints. The services do the
writing (timestamps, events, the suppression list); they ask here first.

The rules, in words:
- only the person confirming makes an address `active` (an admin or an import
  marked `--confirmed` may confirm a `pending` one: consent was given elsewhere);
- `unsubscribed`, `bounced` and `complained` come back only by confirming again;
  `blocked` (the admin's decision) never comes back by itself;
- a stop (unsubscribe, bounce, complaint, block) never weakens a stronger one:
  pending < active < unsubscribed < bounced < complained < blocked
  (RFC 8058 §4 asks that an unsubscribe stay in effect; a complaint must stop all
  mail, EMAIL-REFERENCE.md 1.3);
- only `pending` and `active` subscribers may edit their preferences;
- erasure (GDPR Art. 17) is allowed from every status and deletes the row.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

from newsletter.models import SubscriberStatus

from .errors import Conflict

S = SubscriberStatus


class Action(enum.StrEnum):
    """Everything that can change a subscriber's status; `moves_to` says what each does."""

    SIGNUP = "signup"  # the person signs up again with an existing address
    CONFIRM = "confirm"  # the person presses the button on the confirm page
    ADMIN_CONFIRM = "admin_confirm"  # an admin or API client: consent given elsewhere
    IMPORT_CONFIRMED = "import_confirmed"  # an import with --confirmed names the address
    IMPORT_UNSUBSCRIBED = "import_unsubscribed"  # the file's status column holds it back
    IMPORT_BOUNCED = "import_bounced"
    IMPORT_COMPLAINED = "import_complained"
    IMPORT_BLOCKED = "import_blocked"
    EDIT_PREFERENCES = "edit_preferences"
    UNSUBSCRIBE = "unsubscribe"  # the person (link, one-click, page) or an admin
    BOUNCE = "bounce"  # hard bounce, or soft bounces over the limit
    COMPLAIN = "complain"  # a spam complaint (feedback loop, provider webhook)
    BLOCK = "block"  # an admin's decision
    ERASE = "erase"  # GDPR Art. 17: the row is deleted, a hash stays suppressed


@dataclass(frozen=True, slots=True)
class Rule:
    """Where `action` leads from each status it allows; `None` means the row is deleted.

    `refusal` explains, in one line a person can act on, why any other status refuses.
    """

    moves: Mapping[SubscriberStatus, SubscriberStatus | None]
    refusal: str


_STOPPABLE = (S.PENDING, S.ACTIVE)
_RECONFIRMABLE = (S.PENDING, S.UNSUBSCRIBED, S.BOUNCED, S.COMPLAINED)


def _to(target: SubscriberStatus | None, *sources: SubscriberStatus) -> dict[S, S | None]:
    return dict.fromkeys(sources, target)


RULES: Mapping[Action, Rule] = {
    Action.SIGNUP: Rule(
        # Signing up again changes no status: it (re)sends a confirmation link.
        {s: s for s in _RECONFIRMABLE},
        "is already subscribed, or was blocked",
    ),
    Action.CONFIRM: Rule(
        _to(S.ACTIVE, *_RECONFIRMABLE),
        "is already active, or was blocked",
    ),
    Action.ADMIN_CONFIRM: Rule(
        _to(S.ACTIVE, S.PENDING),
        "can only come back by confirming again",
    ),
    Action.IMPORT_CONFIRMED: Rule(
        _to(S.ACTIVE, S.PENDING),
        "is never re-activated by an import; only by confirming again",
    ),
    Action.IMPORT_UNSUBSCRIBED: Rule(_to(S.UNSUBSCRIBED, *_STOPPABLE), "is already off the list"),
    Action.IMPORT_BOUNCED: Rule(_to(S.BOUNCED, *_STOPPABLE), "is already off the list"),
    Action.IMPORT_COMPLAINED: Rule(_to(S.COMPLAINED, *_STOPPABLE), "is already off the list"),
    Action.IMPORT_BLOCKED: Rule(_to(S.BLOCKED, *_STOPPABLE), "is already off the list"),
    Action.EDIT_PREFERENCES: Rule(
        {s: s for s in _STOPPABLE},
        "is unsubscribed; sign up again to choose what you get",
    ),
    Action.UNSUBSCRIBE: Rule(_to(S.UNSUBSCRIBED, *_STOPPABLE), "is already off the list"),
    Action.BOUNCE: Rule(
        _to(S.BOUNCED, S.PENDING, S.ACTIVE, S.UNSUBSCRIBED),
        "is already stopped for a stronger reason",
    ),
    Action.COMPLAIN: Rule(
        _to(S.COMPLAINED, S.PENDING, S.ACTIVE, S.UNSUBSCRIBED, S.BOUNCED),
        "is already stopped for a stronger reason",
    ),
    Action.BLOCK: Rule(_to(S.BLOCKED, *(s for s in S if s is not S.BLOCKED)), "is already blocked"),
    Action.ERASE: Rule(_to(None, *S), "cannot be erased"),
}

# Which import action the file's `status` column asks for.
IMPORT_ACTIONS: Mapping[SubscriberStatus, Action] = {
    S.ACTIVE: Action.IMPORT_CONFIRMED,
    S.UNSUBSCRIBED: Action.IMPORT_UNSUBSCRIBED,
    S.BOUNCED: Action.IMPORT_BOUNCED,
    S.COMPLAINED: Action.IMPORT_COMPLAINED,
    S.BLOCKED: Action.IMPORT_BLOCKED,
}


class TransitionRefused(Conflict):
    """`action` is not allowed from `status`; the message says why in one line."""

    def __init__(self, status: SubscriberStatus, action: Action) -> None:
        self.status = status
        self.action = action
        super().__init__(f"a {status.value} subscriber {RULES[action].refusal}")


def allows(status: SubscriberStatus, action: Action) -> bool:
    """True if `action` may be taken on a subscriber in `status`."""
    return status in RULES[action].moves


def target(status: SubscriberStatus, action: Action) -> SubscriberStatus | None:
    """The status `action` moves a `status` subscriber to (`None`: the row is deleted).

    Raises TransitionRefused (a Conflict, so HTTP 409) when the table does not allow it.
    """
    moves = RULES[action].moves
    if status not in moves:
        raise TransitionRefused(status, action)
    return moves[status]


def sources(action: Action) -> list[SubscriberStatus]:
    """The statuses `action` is allowed from, in declaration order (for SQL `IN (...)`)."""
    return [s for s in S if s in RULES[action].moves]


def moves_to(status: SubscriberStatus, action: Action) -> SubscriberStatus | None:
    """The new status if `action` changes `status`, else None (refused or unchanged).

    For bulk paths (imports, suppressions) where a refused move is simply skipped.
    """
    new = RULES[action].moves.get(status, status)
    return new if new is not None and new is not status else None
