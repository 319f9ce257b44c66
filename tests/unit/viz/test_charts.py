"""Representation charts: the figure's data equals the table; suppressed groups absent; text escaped."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from coprod_map.analysis import representation as rep
from coprod_map.viz import charts
from coprod_map.viz.palette import NEUTRAL, OVER, UNDER

HOSTILE = '<img src=x onerror="alert(1)">'


def gap_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "attribute": ["age"] * 5,
            "category": ["young", "middle", HOSTILE, "tiny", "not recorded"],
            "affected_share": [0.3, 0.3, 0.4, 0.1, None],
            "involved_share": [0.1, 0.35, 0.55, 0.05, None],
            "gap": [-0.2, 0.05, 0.15, -0.05, None],
            "ci_low": [0.05, 0.2, 0.45, 0.01, None],
            "ci_high": [0.2, 0.5, 0.65, 0.2, None],
            "flag": ["under", "within", "over", "within", ""],
            "suppressed": [False, False, False, True, False],
            "known": [True, True, True, True, False],
            "category_a": ["young", "middle", HOSTILE, "tiny", "not recorded"],
            "category_b": ["N", "N", "S", "S", "S"],
            "period": ["C1", "C1", "C2", "C2", "C2"],
        }
    )


def all_traces(fig):
    return [trace for trace in fig.data]


def bar_traces(fig):
    return [trace for trace in fig.data if trace.type == "bar"]


def test_gap_bars_equal_table_gaps_in_points_with_flag_colours():
    fig = charts.gap_chart(gap_frame())
    bars = {y: (x, trace.marker.color) for trace in bar_traces(fig) for x, y in zip(trace.x, trace.y, strict=True)}
    assert bars["young"] == (pytest.approx(-20.0), UNDER)
    assert bars["middle"] == (pytest.approx(5.0), NEUTRAL)
    assert bars["&lt;img src=x onerror=&quot;alert(1)&quot;&gt;"] == (pytest.approx(15.0), OVER)
    # interval error bars: involved share minus ci_low / ci_high minus involved share, in points
    young = next(t for t in fig.data if "young" in t.y)
    assert young.error_x.arrayminus[0] == pytest.approx(5.0) and young.error_x.array[0] == pytest.approx(10.0)
    # colour is not the only carrier: each bar's verdict is in words, in the label column (next test)
    column = dict(zip(fig.layout.yaxis2.tickvals, fig.layout.yaxis2.ticktext, strict=True))
    assert "fewer" in column["young"]


def test_gap_labels_sit_in_a_column_right_of_the_plot_never_on_a_bar_or_whisker():
    fig = charts.gap_chart(gap_frame())
    hostile = "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;"
    # nothing is written on or next to the bars themselves (that is where the labels used to cover the whiskers)
    for trace in bar_traces(fig):
        assert trace.text is None and trace.texttemplate is None
    # the labels are the tick labels of a right-hand axis laid over the category axis: outside the plot area,
    # so past the end of every whisker, for bars left and right of 0, at any width
    column = fig.layout.yaxis2
    assert column.side == "right" and column.overlaying == "y" and column.matches == "y" and column.automargin
    assert fig.layout.xaxis.domain is None or fig.layout.xaxis.domain[1] == 1  # the plot ends where the column starts
    # one label per shown group, the gap in whole points (by hand from gap_frame) and its verdict
    labels = dict(zip(column.tickvals, column.ticktext, strict=True))
    assert labels == {"young": "-20 (fewer)", "middle": "+5 (as expected)", hostile: "+15 (more)"}
    # the column's categories line up with the bars' (same order), and its helper trace is invisible and silent
    assert list(column.categoryarray) == list(fig.layout.yaxis.categoryarray) == [hostile, "middle", "young"]
    (helper,) = [t for t in fig.data if t.type != "bar"]
    assert helper.yaxis == "y2" and helper.marker.opacity == 0 and helper.hoverinfo == "skip"
    assert helper.showlegend is False and sorted(helper.y) == sorted(labels)
    # the legend moved off the right-hand side, where it would sit on the column
    assert fig.layout.legend.orientation == "h" and fig.layout.legend.y > 1


def test_suppressed_and_unknown_groups_are_left_out_not_drawn_as_zero():
    for fig in (charts.gap_chart(gap_frame()), charts.share_chart(gap_frame())):
        labels = [str(v) for trace in fig.data for v in (trace.y if trace.orientation == "h" else trace.x)]
        assert "tiny" not in labels and "not recorded" not in labels
    assert "tiny" not in list(charts.gap_chart(gap_frame()).layout.yaxis2.tickvals)
    heat = charts.intersection_heatmap(gap_frame())
    assert "tiny" not in list(heat.data[0].y)


def test_hostile_names_are_escaped_and_never_in_hovertemplate():
    for fig in (charts.gap_chart(gap_frame()), charts.share_chart(gap_frame()),
                charts.intersection_heatmap(gap_frame()), charts.trend_chart(gap_frame())):
        text = fig.to_json()
        assert "<img" not in text and "onerror=\"" not in json.loads(text).__repr__()
        for trace in fig.data:
            assert "young" not in (trace.hovertemplate or "") and "&lt;" not in (trace.hovertemplate or "")


def test_share_chart_bars_equal_table_shares():
    fig = charts.share_chart(gap_frame())
    affected, involved = fig.data
    assert list(affected.y) == pytest.approx([30.0, 30.0, 40.0])
    assert list(involved.y) == pytest.approx([10.0, 35.0, 55.0])


def test_heatmap_cells_hold_the_gaps_and_a_marker():
    fig = charts.intersection_heatmap(gap_frame())
    heat = fig.data[0]
    assert list(heat.y) == ["young", "middle", "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;"]
    assert list(heat.x) == ["N", "S"]
    assert heat.z[0][0] == pytest.approx(-20.0) and heat.text[0][0].startswith("▼")
    assert pd.isna(heat.z[0][1])  # no such cell: empty, not 0


def test_trend_chart_has_a_line_per_group_with_gaps_per_period():
    table = rep.trend_table(__import__("tests.unit.analysis.test_representation", fromlist=["x"]).make_project(),
                            by="age", period="cycle", min_cell=1)
    fig = charts.trend_chart(table)
    lines = {trace.name: dict(zip(trace.x, trace.y, strict=True)) for trace in fig.data}
    expected = table.loc[(table["category"] == "old") & table["gap"].notna()].set_index("period")["gap"] * 100
    assert lines["old"] == pytest.approx(expected.to_dict())
    symbols = {trace.marker.symbol for trace in fig.data}
    assert len(symbols) == len(fig.data)  # shapes tell the lines apart without colour


def test_hover_numbers_stay_numbers():
    fig = charts.gap_chart(gap_frame())
    young = next(t for t in fig.data if "young" in t.y)
    assert young.customdata[0][0] == "young" and young.customdata[0][1] == pytest.approx(30.0)
