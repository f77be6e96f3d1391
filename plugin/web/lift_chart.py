"""The actual-vs-counterfactual chart of a lift test, drawn server-side as inline SVG.

No script and no style attribute (the pages' CSP allows neither): lines and labels are plain
SVG elements styled by classes in tastemaker.css. The SVG carries a title and description for
screen readers, and `weekly_rows` gives the same numbers as a table (the text equivalent).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from markupsafe import Markup, escape

from plugin.services.lift_results import Chart

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 14, 30


def _points(values: list[float], top: float) -> str:
    count = max(len(values) - 1, 1)
    plot_width = WIDTH - LEFT - RIGHT
    plot_height = HEIGHT - TOP - BOTTOM
    return " ".join(
        f"{LEFT + plot_width * index / count:.1f},"
        f"{TOP + plot_height * (1 - max(value, 0.0) / top):.1f}"
        for index, value in enumerate(values)
    )


def _nice_top(peak: float) -> float:
    for step in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000):
        if peak <= step * 4:
            return float(step * 4)
    return peak * 1.1


def chart_svg(chart: Chart, title: str) -> Markup:
    if not chart.days:
        return Markup("")
    top = _nice_top(max([*chart.actual, *chart.counterfactual, 1.0]))
    count = max(len(chart.days) - 1, 1)
    plot_width = WIDTH - LEFT - RIGHT
    launch_x = LEFT + plot_width * chart.launch_index / count
    grid = []
    for fraction in (0.0, 0.25, 0.5, 0.75, 1.0):
        y = TOP + (HEIGHT - TOP - BOTTOM) * (1 - fraction)
        grid.append(
            f'<line class="lift-grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="lift-axis" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{top * fraction:.0f}</text>"
        )
    first, last = chart.days[0], chart.days[-1]
    description = (
        f"{chart.measure.capitalize()} from {first:%d %b} to {last:%d %b %Y}: the solid line is "
        "what sold, the dashed line the estimate of what would have sold without the creators; "
        "the vertical line marks the launch. The table below gives the same numbers by week."
    )
    parts = [
        f'<svg class="lift-chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        'aria-labelledby="lift-chart-title lift-chart-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="lift-chart-title">{escape(title)}</title>',
        f'<desc id="lift-chart-desc">{escape(description)}</desc>',
        *grid,
        f'<line class="lift-launch" x1="{launch_x:.1f}" x2="{launch_x:.1f}" y1="{TOP}" '
        f'y2="{HEIGHT - BOTTOM}"/>',
        f'<text class="lift-axis" x="{launch_x + 4:.1f}" y="{TOP + 10}">launch</text>',
        f'<polyline class="lift-counterfactual" points="{_points(chart.counterfactual, top)}"/>',
        f'<polyline class="lift-actual" points="{_points(chart.actual, top)}"/>',
        f'<text class="lift-axis" x="{LEFT}" y="{HEIGHT - 8}">{first:%d %b}</text>',
        f'<text class="lift-axis" x="{WIDTH - RIGHT}" y="{HEIGHT - 8}" text-anchor="end">'
        f"{last:%d %b}</text>",
        "</svg>",
    ]
    return Markup("".join(parts))  # noqa: S704 - every interpolated text is escaped or numeric


@dataclass(frozen=True)
class WeekRow:
    start: date
    end: date
    actual: float
    counterfactual: float


def weekly_rows(chart: Chart, cumulative: bool = False) -> list[WeekRow]:
    """The chart's numbers by week (for a cumulative chart: the value at each week's end)."""
    rows = []
    for offset in range(0, len(chart.days), 7):
        days = chart.days[offset : offset + 7]
        actual = chart.actual[offset : offset + 7]
        counterfactual = chart.counterfactual[offset : offset + 7]
        if cumulative:
            rows.append(WeekRow(days[0], days[-1], actual[-1], counterfactual[-1]))
        else:
            rows.append(WeekRow(days[0], days[-1], sum(actual), sum(counterfactual)))
    return rows
