"""Charts drawn on the server as inline SVG: no script, no request to anywhere.

Each chart is an `<svg role="img">` with a `<title>` and a `<desc>` that says the
figures in words, so a screen reader gets what the picture shows; the pages put the
same numbers in a table beside it. Text uses `currentColor`, so the charts follow the
page's light or dark scheme. Every string that reaches the SVG is escaped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

# Distinguishable in light and dark mode and for the common colour blindnesses
# (Okabe-Ito palette).
PALETTE = ("#0072b2", "#e69f00", "#009e73", "#d55e00", "#cc79a7", "#56b4e9")


@dataclass(frozen=True, slots=True)
class Series:
    name: str
    values: Sequence[float]


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 times a power of ten that is >= value (1 for 0)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= value:
            return float(step * power)
    return float(10 * power)  # pragma: no cover - the loop always returns


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def _attr(value: object) -> Markup:
    return escape(str(value))


def line_chart(
    *,
    chart_id: str,
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    width: int = 600,
    height: int = 240,
) -> Markup:
    """A line per series over the `labels` (x axis, evenly spaced). Every series has
    one value per label; raises ValueError otherwise."""
    for s in series:
        if len(s.values) != len(labels):
            raise ValueError(
                f"series {s.name!r} has {len(s.values)} values for {len(labels)} labels"
            )
    left, right, top, bottom = 44, 12, 34, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    # Four gridlines a round step apart; counts never get a step under 1.
    step = max(1.0, nice_ceiling(max((v for s in series for v in s.values), default=0) / 4))
    peak = 4 * step
    n = len(labels)

    def x(i: int) -> float:
        return left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

    def y(v: float) -> float:
        return top + plot_h - plot_h * v / peak

    totals = "; ".join(f"{s.name}: {_number(sum(s.values))} in total" for s in series)
    span = f"from {labels[0]} to {labels[-1]}" if labels else "no data"
    parts = [
        f'<svg class="chart" id="{_attr(chart_id)}" viewBox="0 0 {width} {height}" role="img"'
        f' aria-labelledby="{_attr(chart_id)}-title {_attr(chart_id)}-desc"'
        ' xmlns="http://www.w3.org/2000/svg" font-size="12" font-family="system-ui, sans-serif">',
        f'<title id="{_attr(chart_id)}-title">{escape(title)}</title>',
        f'<desc id="{_attr(chart_id)}-desc">{escape(span)}. {escape(totals)}.</desc>',
    ]
    for k in range(5):  # gridlines at 0, 1/4 ... 4/4 of the peak
        value = peak * k / 4
        gy = y(value)
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{gy:.1f}" y2="{gy:.1f}"'
            ' stroke="currentColor" stroke-opacity="0.15"/>'
            f'<text x="{left - 6}" y="{gy + 4:.1f}" text-anchor="end" fill="currentColor">'
            f"{escape(_number(value))}</text>"
        )
    if n:
        shown = sorted({0, n // 2, n - 1}) if n > 2 else list(range(n))
        for i in shown:
            anchor = "start" if i == 0 and n > 1 else "end" if i == n - 1 and n > 1 else "middle"
            parts.append(
                f'<text x="{x(i):.1f}" y="{height - 8}" text-anchor="{anchor}"'
                f' fill="currentColor">{escape(labels[i])}</text>'
            )
    for index, s in enumerate(series):
        color = PALETTE[index % len(PALETTE)]
        points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(s.values))
        parts.append(
            f'<g class="series" data-series="{_attr(s.name)}">'
            f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{points}"/>'
        )
        for i, v in enumerate(s.values):
            if v:
                parts.append(
                    f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="3" fill="{color}">'
                    f"<title>{escape(labels[i])}: {escape(s.name)} {escape(_number(v))}</title>"
                    "</circle>"
                )
        parts.append("</g>")
        lx = left + index * 120
        parts.append(
            f'<rect x="{lx}" y="8" width="12" height="12" fill="{color}"/>'
            f'<text x="{lx + 17}" y="18" fill="currentColor">{escape(s.name)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every interpolated string went through escape()


def bar_chart(
    *,
    chart_id: str,
    title: str,
    items: Sequence[tuple[str, float]],
    width: int = 600,
    label_chars: int = 30,
) -> Markup:
    """One horizontal bar per (label, value), in the given order; long labels are
    shortened in the picture (the page's table has them whole)."""
    row, top, label_w, value_w = 26, 8, 210, 50
    height = top * 2 + row * max(len(items), 1)
    peak = max((v for _, v in items), default=0) or 1
    bar_w = width - label_w - value_w
    described = "; ".join(f"{name}: {_number(v)}" for name, v in items) or "nothing yet"
    parts = [
        f'<svg class="chart" id="{_attr(chart_id)}" viewBox="0 0 {width} {height}" role="img"'
        f' aria-labelledby="{_attr(chart_id)}-title {_attr(chart_id)}-desc"'
        ' xmlns="http://www.w3.org/2000/svg" font-size="12" font-family="system-ui, sans-serif">',
        f'<title id="{_attr(chart_id)}-title">{escape(title)}</title>',
        f'<desc id="{_attr(chart_id)}-desc">{escape(described)}.</desc>',
    ]
    for i, (name, value) in enumerate(items):
        ry = top + i * row
        short = name if len(name) <= label_chars else name[: label_chars - 1] + "…"
        w = bar_w * value / peak
        parts.append(
            f'<g class="bar" data-label="{_attr(name)}" data-value="{_attr(_number(value))}">'
            f'<text x="{label_w - 8}" y="{ry + 17}" text-anchor="end" fill="currentColor">'
            f"<title>{escape(name)}</title>{escape(short)}</text>"
            f'<rect x="{label_w}" y="{ry + 4}" width="{w:.1f}" height="{row - 8}"'
            f' fill="{PALETTE[0]}"/>'
            f'<text x="{label_w + w + 6:.1f}" y="{ry + 17}" fill="currentColor">'
            f"{escape(_number(value))}</text></g>"
        )
    if not items:
        parts.append(
            f'<text x="{width / 2}" y="{top + 17}" text-anchor="middle" fill="currentColor">Nothing yet</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every interpolated string went through escape()
