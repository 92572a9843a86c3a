"""Transactional emails (confirm, welcome): one template folder entry each, small context."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .branding import Branding
from .content import RenderedEmail
from .environment import environment
from .issue import FALLBACK_NAME, clean_line, placeholders, postal_html, postal_text
from .pipeline import mjml_to_html, tidy_text

# Which context keys each email reads; anything else in the context is ignored so
# that a caller cannot hand a template more than it was written for.
_KEYS: dict[str, tuple[str, ...]] = {
    "confirm": ("confirm_url", "name"),
    "welcome": ("preferences_url", "unsubscribe_url", "name"),
    # To the authors: an automation left a draft (newsletter/automations/notify.py).
    "draft_ready": ("editor_url", "issue_subject", "automation_name", "post_count", "name"),
}
# Keys shown as plain values in the body (escaped by the template like any text).
_VALUE_KEYS = ("editor_url", "issue_subject", "automation_name", "post_count")
# Keys that may be left to the mail layer as per-recipient placeholders.
_RECIPIENT_KEYS = ("name", "unsubscribe_url", "preferences_url")


def _recipient(context: Mapping[str, object], *, html: bool) -> dict[str, str]:
    """Values from the context where given, placeholders for the rest."""
    values = placeholders(html=html)
    values["open_pixel"] = ""  # transactional mail is never tracked
    for key in _RECIPIENT_KEYS:
        if key in context:
            given = clean_line(str(context[key] or ""))
            values[key] = given or (FALLBACK_NAME if key == "name" else "")
    return values


def render_transactional(
    name: str, context: Mapping[str, object], branding: Branding
) -> RenderedEmail:
    """Render `confirm`, `welcome` or `draft_ready`; the subject comes from `<name>.subject.txt`.

    Context values given (name, unsubscribe_url, preferences_url) are filled in now, the
    rest stay placeholders; transactional mail is never tracked (no open pixel). Raises
    ValueError for an unknown `name`, and for `confirm` without a non-blank `confirm_url`.
    """
    if name not in _KEYS:
        raise ValueError(f"unknown transactional email: {name!r}")
    if name == "confirm" and not str(context.get("confirm_url") or "").strip():
        raise ValueError("confirm email needs confirm_url")
    env = environment()
    shared: dict[str, Any] = {
        "branding": {
            "site_name": clean_line(branding.site_name),
            "base_url": clean_line(branding.base_url),
        },
        "web_url": None,
        "confirm_url": clean_line(str(context.get("confirm_url") or "")),
        # The confirm email goes to someone not yet on the list: no list links.
        "list_links": name not in ("confirm", "draft_ready"),
    }
    for key in _VALUE_KEYS:
        if key in _KEYS[name]:
            shared[key] = clean_line(str(context.get(key) or ""))
    subject = clean_line(env.get_template(f"{name}.subject.txt").render(shared))
    mjml = env.get_template(f"{name}.mjml").render(
        shared,
        subject=subject,
        postal_address=postal_html(branding.postal_address),
        r=_recipient(context, html=True),
    )
    text = env.get_template(f"{name}.txt").render(
        shared,
        postal_address=postal_text(branding.postal_address),
        r=_recipient(context, html=False),
    )
    return RenderedEmail(subject=subject, html=mjml_to_html(mjml), text=tidy_text(text))
