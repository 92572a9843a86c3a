"""Reading a source's publication date, in whatever language the blog wrote it.

Feeds should use RFC 822 dates in English, yet German, French or Spanish blog
software writes `Do, 31 Okt 2019 23:52:59 -0400`. The strict formats are tried first
(RFC 2822, ISO 8601, then feedparser's own collection); only what they all refuse goes
to dateparser, limited to absolute dates: a relative phrase ("yesterday", "2 hours
ago") or a date missing its day, month or year would be filled in from the import
time, which is exactly what a post must never get. What cannot be read is None.
"""

from __future__ import annotations

from calendar import timegm
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import dateparser
from feedparser.datetimes import _parse_date as feedparser_date

# The languages blogs most often write dates in; dateparser picks the one that fits.
# A short list keeps it fast and keeps numeric dates day-first (European) as written.
LANGUAGES = [
    "en", "de", "fr", "es", "it", "nl", "pt", "sv", "da", "nb", "fi", "pl", "cs", "ru",
    "tr", "ca", "ro", "hu",
]  # fmt: skip
_SETTINGS = {
    "PARSERS": ["absolute-time"],
    "REQUIRE_PARTS": ["day", "month", "year"],
    "RETURN_AS_TIMEZONE_AWARE": True,
    "TIMEZONE": "UTC",  # a date without a zone: UTC is the only fair guess (as parsed.as_utc)
    "TO_TIMEZONE": "UTC",
}
MAX_DATE_TEXT = 200  # characters; a longer "date" is not one, and parsing it costs time


def parse_date(text: str | None) -> datetime | None:
    """The UTC datetime for a date as a source wrote it, or None.

    Accepts RFC 2822 (RSS), ISO 8601 / W3C-DTF (Atom, front matter), the formats
    feedparser knows, and absolute dates in the languages of LANGUAGES.
    """
    text = " ".join((text or "").split())
    if not text or len(text) > MAX_DATE_TEXT:
        return None
    for parse in (_rfc2822, _iso8601, _feedparser, _localized):
        try:
            value = parse(text)
            if value is not None:
                # In UTC here: year 1 at +01:00 cannot be converted, and is no date anyway.
                return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
        except (ValueError, TypeError, OverflowError, IndexError, KeyError):
            continue  # each library has its own way of saying no
    return None


def _rfc2822(text: str) -> datetime | None:
    return parsedate_to_datetime(text)


def _iso8601(text: str) -> datetime | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _feedparser(text: str) -> datetime | None:
    parsed = feedparser_date(text)
    return datetime.fromtimestamp(timegm(parsed), tz=UTC) if parsed else None


def _localized(text: str) -> datetime | None:
    parsed: datetime | None = dateparser.parse(text, languages=LANGUAGES, settings=_SETTINGS)
    return parsed
