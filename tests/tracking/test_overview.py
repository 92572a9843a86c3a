"""List growth per day and subscribers per category (newsletter/tracking/overview.py),
on SQLite and PostgreSQL, and the SVG charts that draw them."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import text

from newsletter.models import Category, Event, EventKind, Subscriber, SubscriberStatus
from newsletter.tracking.overview import category_counts, list_growth
from newsletter.web.admin.charts import Series, bar_chart, line_chart, nice_ceiling

DAY = date(2026, 3, 10)


def at(day_offset: int, hour: int, minute: int = 0) -> datetime:
    return datetime(DAY.year, DAY.month, DAY.day, hour, minute, tzinfo=UTC) + timedelta(
        days=day_offset
    )


def person(session, email, status=SubscriberStatus.ACTIVE, categories=()):  # type: ignore[no-untyped-def]
    sub = Subscriber(email=email, status=status, attributes={})
    sub.categories = list(categories)
    session.add(sub)
    session.flush()
    return sub


def event(session, sub, kind, when, **fields):  # type: ignore[no-untyped-def]
    session.add(Event(kind=kind, subscriber_id=sub.id, occurred_at=when, data={}, **fields))


def test_list_growth_counts_people_per_utc_day(db_session):
    a, b, c, d = (person(db_session, f"{n}@example.org") for n in "abcd")
    # Day -2: a and b sign up; a signs up twice (counts once) and confirms.
    event(db_session, a, EventKind.SUBSCRIBE, at(-2, 8))
    event(db_session, a, EventKind.SUBSCRIBE, at(-2, 9))
    event(db_session, b, EventKind.SUBSCRIBE, at(-2, 23, 59))
    event(db_session, a, EventKind.CONFIRM, at(-2, 10))
    # Day -1, just after midnight UTC: b confirms; an import creates c and updates d.
    event(db_session, b, EventKind.CONFIRM, at(-1, 0, 1))
    db_session.add(
        Event(kind=EventKind.IMPORT, subscriber_id=c.id, occurred_at=at(-1, 12),
              data={"source": "import", "result": "created", "status": "active"})
    )  # fmt: skip
    db_session.add(
        Event(kind=EventKind.IMPORT, subscriber_id=d.id, occurred_at=at(-1, 12),
              data={"source": "import", "result": "updated", "status": "active"})
    )  # fmt: skip
    # Today: a unsubscribes; c bounces hard twice, d soft and "not its fault" (not counted).
    event(db_session, a, EventKind.UNSUBSCRIBE, at(0, 7))
    event(db_session, c, EventKind.BOUNCE, at(0, 8), hard=True)
    event(db_session, c, EventKind.BOUNCE, at(0, 9), hard=True)
    event(db_session, d, EventKind.BOUNCE, at(0, 8), hard=False)
    event(db_session, d, EventKind.BOUNCE, at(0, 8, 30), hard=None)
    # Outside the window (4 days ago) and other kinds: never counted.
    event(db_session, d, EventKind.SUBSCRIBE, at(-4, 12))
    event(db_session, d, EventKind.OPEN, at(0, 12))
    db_session.commit()

    growth = list_growth(db_session, days=4, today=DAY)
    assert [g.day for g in growth] == [DAY - timedelta(days=n) for n in (3, 2, 1, 0)]
    figures = [(g.subscribed, g.confirmed, g.unsubscribed, g.bounced) for g in growth]
    assert figures == [(0, 0, 0, 0), (2, 1, 0, 0), (1, 1, 0, 0), (0, 0, 1, 1)]
    # A wider window takes in the older sign-up.
    assert sum(g.subscribed for g in list_growth(db_session, days=5, today=DAY)) == 4


def test_list_growth_days_follow_utc_whatever_the_server_zone(db_session):
    sub = person(db_session, "tz@example.org")
    event(db_session, sub, EventKind.SUBSCRIBE, at(0, 23, 30))
    db_session.commit()
    if db_session.get_bind().dialect.name == "postgresql":
        db_session.execute(text("SET TIME ZONE 'Asia/Tokyo'"))  # UTC+9: already tomorrow
    growth = list_growth(db_session, days=2, today=DAY + timedelta(days=1))
    assert [(g.day, g.subscribed) for g in growth] == [(DAY, 1), (DAY + timedelta(days=1), 0)]


@pytest.mark.parametrize("days", [0, -1, 367])
def test_list_growth_refuses_a_silly_window(db_session, days):
    with pytest.raises(ValueError, match="days must be between 1 and 366"):
        list_growth(db_session, days=days, today=DAY)


def test_category_counts_count_active_subscribers_by_their_choice(db_session):
    ai = Category(name="AI", slug="ai")
    china = Category(name="China", slug="china")
    empty = Category(name="Cooking", slug="cooking")
    db_session.add_all([ai, china, empty])
    db_session.flush()
    person(db_session, "one@example.org", categories=[ai])
    person(db_session, "two@example.org", categories=[ai, china])
    person(db_session, "three@example.org")  # no choice: everything
    person(db_session, "four@example.org")
    person(db_session, "gone@example.org", SubscriberStatus.UNSUBSCRIBED, categories=[china])
    person(db_session, "new@example.org", SubscriberStatus.PENDING, categories=[ai])
    db_session.commit()

    counts = category_counts(db_session)
    assert [(c.name, c.subscribers) for c in counts.categories] == [
        ("AI", 2),
        ("China", 1),
        ("Cooking", 0),
    ]
    assert (counts.everything, counts.active) == (2, 4)


def test_line_chart_is_accessible_escaped_and_scaled():
    svg = str(
        line_chart(
            chart_id="c1",
            title="Growth <b>",
            labels=["2026-03-01", "2026-03-02", "2026-03-03"],
            series=[Series("Subscribed", [1, 7, 2]), Series("<script>", [0, 0, 3])],
        )
    )
    assert svg.startswith('<svg class="chart" id="c1"') and 'role="img"' in svg
    assert 'aria-labelledby="c1-title c1-desc"' in svg
    assert '<title id="c1-title">Growth &lt;b&gt;</title>' in svg
    assert "Subscribed: 10 in total; &lt;script&gt;: 3 in total" in svg
    assert "<script>" not in svg
    # Four gridlines a round step apart above the peak: 7 -> 0, 2, 4, 6, 8.
    axis = re.findall(r'text-anchor="end" fill="currentColor">([\d.]+)</text>', svg.split("<g")[0])
    assert axis == ["0", "2", "4", "6", "8"]
    # One point with a tooltip per non-zero value: 3 + 1.
    assert svg.count("<circle") == 4
    assert "2026-03-02: Subscribed 7" in svg
    with pytest.raises(ValueError, match="has 2 values for 3 labels"):
        line_chart(chart_id="x", title="t", labels=["a", "b", "c"], series=[Series("s", [1, 2])])


def test_bar_chart_shortens_long_labels_but_keeps_them_whole_in_the_tooltip():
    url = "https://blog.example.org/" + "a-very-long-path/" * 5
    svg = str(bar_chart(chart_id="b", title="Clicks", items=[(url, 4), ("short", 2)]))
    assert svg.count('<g class="bar"') == 2
    assert f"<title>{url}</title>" in svg and "…</text>" in svg
    widths = [float(w) for w in re.findall(r'<rect x="210" y="\d+" width="([\d.]+)"', svg)]
    assert len(widths) == 2
    assert widths[0] == pytest.approx(2 * widths[1])  # 4 clicks draw twice as long as 2
    assert "Nothing yet" in str(bar_chart(chart_id="e", title="t", items=[]))


@pytest.mark.parametrize(
    ("value", "ceiling"), [(0, 1), (1, 1), (3, 5), (7, 10), (11, 20), (240, 250), (0.3, 0.5)]
)
def test_nice_ceiling(value, ceiling):
    assert nice_ceiling(value) == ceiling
