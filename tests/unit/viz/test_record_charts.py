"""Record charts: the health check's rating words sit in a column of their own, clear of the markers."""

from __future__ import annotations

import json

import pandas as pd

from coprod_map.viz.record_charts import health_chart

HOSTILE = "<b>x</b>"


def health_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "component": ["equal", "open", "human"],
        "name": ["Equal", "Open", HOSTILE],
        "score": [2, 3, 1],
        "rating": ["some evidence", "strong evidence", "little evidence"],
        # 1-5 means; 3 -> 1.5 on the 0-3 scale, 5 -> 3, 1 -> 0
        "self-assessment: Cycle 1": [3.0, 5.0, None],
        "self-assessment: Cycle 2": [1.0, 4.0, 2.0],
    })


def test_ratings_are_a_column_right_of_the_plot_not_text_on_the_bars():
    fig = health_chart(health_frame())
    bars = [t for t in fig.data if t.type == "bar"]
    assert len(bars) == 1 and bars[0].text is None  # nothing on the bar for a marker to cover
    column = fig.layout.yaxis2
    assert column.side == "right" and column.overlaying == "y" and column.matches == "y" and column.automargin
    assert column.autorange == fig.layout.yaxis.autorange == "reversed"  # same row order as the bars
    assert dict(zip(column.tickvals, column.ticktext, strict=True)) == {
        "Equal": "some evidence", "Open": "strong evidence", "&lt;b&gt;x&lt;/b&gt;": "little evidence"}
    # markers and bars stay inside the x range; the column is outside the plot area, so none can reach it
    markers = [t for t in fig.data if t.type == "scatter" and t.yaxis != "y2"]
    xs = [x for t in markers for x in t.x if x == x] + list(bars[0].x)
    assert sorted(x for t in markers for x in t.x if x == x) == sorted([1.5, 3.0, 0.0, 2.25, 0.75])  # by hand
    assert max(xs) <= fig.layout.xaxis.range[1]
    (helper,) = [t for t in fig.data if t.yaxis == "y2"]
    assert helper.hoverinfo == "skip" and helper.showlegend is False and helper.marker.opacity == 0
    assert "<b>x" not in repr(json.loads(fig.to_json()))  # (to_json writes < as \u003c: read it back first)
