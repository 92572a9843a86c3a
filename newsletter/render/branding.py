"""Branding: the site-wide facts every email and public page shows (name, links, footer).

It belongs to rendering: the composer, the sends, the transactional emails and the
archive all take a `Branding` made here from the settings.
"""

from __future__ import annotations

from dataclasses import dataclass

from newsletter.config import Settings


@dataclass(frozen=True, slots=True)
class Branding:
    """Site-wide facts every email shows.

    `site_name`: one line, at most 100 characters (NEWSLETTER_SITE_NAME);
    `base_url`: the public root without a trailing slash; `postal_address`: the
    footer's address (anti-spam laws, e.g. CAN-SPAM 15 U.S.C. 7704(a)(5)), may be
    empty; `from_address`: `Name <addr>`.
    """

    site_name: str
    base_url: str
    postal_address: str
    from_address: str


def branding_from_settings(settings: Settings) -> Branding:
    """The branding the settings describe; SITE_NAME defaults to FROM_ADDRESS's display name."""
    return Branding(
        site_name=settings.site_name,
        base_url=settings.base_url,
        postal_address=settings.postal_address,
        from_address=settings.from_address,
    )
