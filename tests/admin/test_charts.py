"""The SVG charts: accessible names and text equivalents, escaped labels, no style attributes."""

from __future__ import annotations

from plugin.web.charts import Series, funnel_chart, line_chart


def test_line_chart_has_a_title_a_description_and_the_numbers_as_a_table() -> None:
    html = str(
        line_chart(
            "Clicks <per> day",
            ["01 Mar", "02 Mar", "03 Mar"],
            [Series("Clicks", [3, 0, 7]), Series("Target", [0, 5, 10], dashed=True)],
        )
    )
    assert 'role="img"' in html
    assert "<title id=" in html
    assert "Clicks &lt;per&gt; day" in html
    assert "<desc id=" in html
    assert "highest 7 on 03 Mar" in html
    assert '<td class="num">7</td>' in html
    assert '<th scope="row">02 Mar</th>' in html
    assert 'class="chart-line chart-series-1 dashed"' in html
    assert "style=" not in html
    assert "<script" not in html


def test_funnel_shows_each_step_share_of_the_first() -> None:
    html = str(funnel_chart("From click to order", [("Clicks", 200), ("Orders", 10)]))
    assert "10 (5.0%)" in html
    assert "Clicks: 200; Orders: 10" in html


def test_an_empty_chart_says_so() -> None:
    assert "no data for this period yet" in str(line_chart("Revenue", [], []))
