"""Charts for the merchant pages as server-rendered SVG: no script, no outside asset, CSP-clean.

Each chart is an `<svg role="img">` with a <title> and <desc> that say what it shows, followed by
a data table (inside <details>) as the text equivalent. Colours come from CSS classes in
tastemaker.css (`chart-series-0`, ...), never from style attributes.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 640
HEIGHT = 220
LEFT = 72  # room for the value axis labels
RIGHT = 12
TOP = 12
BOTTOM = 28
_ids = itertools.count(1)


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[int]
    # Dashed lines mark a target or a second unit next to a measured series.
    dashed: bool = False


Formatter = Callable[[int], str]


def _nice_step(value: float) -> int:
    """The smallest 1/2/5 x 10^n at or above value, so axis labels are round numbers."""
    magnitude = 1
    while magnitude * 10 <= value:
        magnitude *= 10
    for step in (1, 2, 5, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude


def _axis_top(peak: int) -> int:
    """A top for the value axis that four equal, round steps reach."""
    return 4 * _nice_step(max(peak, 1) / 4)


def _table(caption: str, labels: Sequence[str], series: Sequence[Series], fmt: Formatter) -> str:
    head = "".join(f'<th scope="col" class="num">{escape(s.name)}</th>' for s in series)
    rows = "".join(
        f'<tr><th scope="row">{escape(label)}</th>'
        + "".join(f'<td class="num">{escape(fmt(s.values[index]))}</td>' for s in series)
        + "</tr>"
        for index, label in enumerate(labels)
    )
    return (
        '<details class="chart-data"><summary>Show the numbers</summary><div class="scroll">'
        f'<table><caption class="visually-hidden">{escape(caption)}</caption>'
        f'<thead><tr><th scope="col">Day</th>{head}</tr></thead><tbody>{rows}</tbody></table>'
        "</div></details>"
    )


def _legend(series: Sequence[Series]) -> str:
    items = "".join(
        f'<li><span class="chart-key chart-series-{index}{" dashed" if s.dashed else ""}"'
        f' aria-hidden="true"></span>{escape(s.name)}</li>'
        for index, s in enumerate(series)
    )
    return f'<ul class="chart-legend">{items}</ul>'


def line_chart(
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    fmt: Formatter = str,
    axis_fmt: Formatter | None = None,
    summary: str = "",
) -> Markup:
    """Lines over time (labels are the x axis, e.g. days), one per series, on one value axis."""
    if not labels or not series:
        return Markup(f'<p class="empty">{escape(title)}: no data for this period yet.</p>')  # noqa: S704 - every value is escaped
    chart_id = f"chart-{next(_ids)}"
    top = _axis_top(max((max(s.values, default=0) for s in series), default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(labels) - 1, 1)

    def x(index: int) -> float:
        return LEFT + index * step

    def y(value: int) -> float:
        return TOP + plot_h - (max(value, 0) / top) * plot_h

    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{chart_id}-t {chart_id}-d" preserveAspectRatio="xMidYMid meet">',
        f'<title id="{chart_id}-t">{escape(title)}</title>',
        f'<desc id="{chart_id}-d">{escape(summary or _describe(labels, series, fmt))}</desc>',
    ]
    for tick in range(5):
        value = top * tick // 4
        ty = y(value)
        parts.append(
            f'<line class="chart-grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" '
            f'y1="{ty:.1f}" y2="{ty:.1f}"/>'
            f'<text class="chart-axis" x="{LEFT - 6}" y="{ty + 4:.1f}" text-anchor="end">'
            f"{escape((axis_fmt or fmt)(value))}</text>"
        )
    label_every = max(1, len(labels) // 6)
    for index, label in enumerate(labels):
        last = index == len(labels) - 1
        if (index % label_every == 0 and len(labels) - index > label_every // 2) or last:
            anchor = "end" if last and index else ("start" if index == 0 else "middle")
            parts.append(
                f'<text class="chart-axis" x="{x(index):.1f}" y="{HEIGHT - 8}" '
                f'text-anchor="{anchor}">{escape(label)}</text>'
            )
    for number, s in enumerate(series):
        points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(s.values))
        dashed = " dashed" if s.dashed else ""
        parts.append(
            f'<polyline class="chart-line chart-series-{number}{dashed}" points="{points}"/>'
        )
        if len(s.values) == 1:
            parts.append(
                f'<circle class="chart-dot chart-series-{number}" cx="{x(0):.1f}" '
                f'cy="{y(s.values[0]):.1f}" r="3"/>'
            )
    parts.append("</svg>")
    # Every text that reaches the SVG went through escape(); numbers are formatted here.
    return Markup(  # noqa: S704
        f'<figure class="chart-figure"><figcaption>{escape(title)}</figcaption>'
        + "".join(parts)
        + _legend(series)
        + _table(title, labels, series, fmt)
        + "</figure>"
    )


def funnel_chart(title: str, steps: Sequence[tuple[str, int]], *, note: str = "") -> Markup:
    """Horizontal bars for the steps of a funnel (e.g. clicks -> visitors -> orders from clicks)."""
    chart_id = f"chart-{next(_ids)}"
    top = max((value for _, value in steps), default=0) or 1
    row_h, label_w = 34, 170
    height = row_h * len(steps) + 8
    bar_w = WIDTH - label_w - 90
    parts = [
        f'<svg class="chart funnel" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="{chart_id}-t {chart_id}-d">',
        f'<title id="{chart_id}-t">{escape(title)}</title>',
        f'<desc id="{chart_id}-d">'
        + escape("; ".join(f"{name}: {value}" for name, value in steps))
        + "</desc>",
    ]
    first = steps[0][1] if steps else 0
    for index, (name, value) in enumerate(steps):
        y = 4 + index * row_h
        width = max(value / top * bar_w, 1 if value else 0)
        share = f" ({value * 100 / first:.1f}%)" if first and index else ""
        parts.append(
            f'<text class="chart-axis" x="0" y="{y + 21}">{escape(name)}</text>'
            f'<rect class="chart-bar chart-series-{index}" x="{label_w}" y="{y + 4}" '
            f'width="{width:.1f}" height="{row_h - 10}" rx="3"/>'
            f'<text class="chart-value" x="{label_w + width + 6:.1f}" y="{y + 21}">'
            f"{value}{escape(share)}</text>"
        )
    parts.append("</svg>")
    rows = "".join(
        f'<tr><th scope="row">{escape(name)}</th><td class="num">{value}</td></tr>'
        for name, value in steps
    )
    note_html = f'<p class="sub">{escape(note)}</p>' if note else ""
    # Every text that reaches the SVG went through escape(); numbers are formatted here.
    return Markup(  # noqa: S704
        f'<figure class="chart-figure"><figcaption>{escape(title)}</figcaption>'
        + "".join(parts)
        + note_html
        + '<details class="chart-data"><summary>Show the numbers</summary>'
        f"<table><tbody>{rows}</tbody></table></details></figure>"
    )


def _describe(labels: Sequence[str], series: Sequence[Series], fmt: Formatter) -> str:
    """A sentence per series: total-free, so it is true for rates and sums alike."""
    sentences = []
    for s in series:
        if not s.values:
            continue
        peak = max(range(len(s.values)), key=lambda i: s.values[i])
        sentences.append(
            f"{s.name} from {labels[0]} to {labels[-1]}: starts at {fmt(s.values[0])}, "
            f"ends at {fmt(s.values[-1])}, highest {fmt(s.values[peak])} on {labels[peak]}."
        )
    return " ".join(sentences)
