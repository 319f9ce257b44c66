"""Power and interest grid and mixing heatmap: the figures carry the data, escaped, with fixed hover text."""

from __future__ import annotations

import html

import numpy as np
import pandas as pd

from coprod_map.analysis import network as nw
from coprod_map.model import normalise_frame
from coprod_map.viz import network_charts as charts

IMG = "<img src=x onerror=alert(1)>"


def _people() -> pd.DataFrame:
    return normalise_frame("stakeholders", pd.DataFrame({
        "id": ["x", "y", "z", "w", "v"], "name": [IMG, "=1+2", "Zed", "Wendy", "Vic"],
        "kind": ["person", "organisation", "group", "person", "martian"],
        "affected": [3, 0, 2, None, 1], "influence": [1, 5, 2, 3, 4],
        "involvement": ["not_involved", "co_producing", "co_producing", "", ""]}))


def test_grid_points_match_the_table_within_the_jitter():
    grid = nw.power_interest_table(_people())
    fig = charts.power_interest_chart(grid, seed=3)
    points = []
    for trace in fig.data:
        for x, y, data in zip(trace.x, trace.y, trace.customdata, strict=True):
            points.append((int(data[5]), x, y, data[0]))
        assert trace.hovertemplate == charts._HOVER  # fixed text, never user words
    assert sorted(p[0] for p in points) == list(range(len(grid)))  # every placed stakeholder once (w has no score)
    for row, x, y, name in points:
        assert abs(x - grid["affected"].iloc[row]) < 0.2 and abs(y - grid["influence"].iloc[row]) < 0.3
        assert name == html.escape(grid["name"].iloc[row])
    assert any(p[3] == "&lt;img src=x onerror=alert(1)&gt;" for p in points)
    assert {t.name for t in fig.data} == {"Not involved", "Co-producing", "Not recorded"}


def test_highlighted_points_get_a_thick_outline():
    grid = nw.power_interest_table(_people())
    fig = charts.power_interest_chart(grid)
    widths = {int(d[5]): w for t in fig.data for d, w in zip(t.customdata, t.marker.line.width, strict=True)}
    highlighted = set(np.flatnonzero((grid["highlight"] != "").to_numpy()))
    assert highlighted == {0, 1}
    assert {r for r, w in widths.items() if w == 3} == highlighted


def test_selected_rows_reads_the_event_dict_style():
    event = {"selection": {"points": [{"customdata": ["a", "b", "c", "d", "e", "4"]}], "point_indices": [0]}}
    assert charts.selected_rows(event) == [4]
    assert charts.selected_rows({"selection": {"points": []}}) == []
    assert charts.selected_rows(None) == []


def test_sentence_counts_groups_and_missing_scores():
    people = _people()
    text = charts.power_interest_sentence(nw.power_interest_table(people), total=len(people))
    assert text.startswith("4 stakeholders have both") and "1 are highly affected" in text
    assert "1 have much power" in text and "1 more are not shown" in text


def test_mixing_heatmap_escapes_labels_and_keeps_counts():
    matrix = pd.DataFrame([[2, 1], [1, 0]], index=[IMG, "B"], columns=[IMG, "B"])
    fig = charts.mixing_heatmap(matrix, by="area")
    trace = fig.data[0]
    assert list(trace.x) == [html.escape(IMG), "B"] and list(trace.y) == list(trace.x)
    assert np.array_equal(np.asarray(trace.z), matrix.to_numpy())


def _point_ys(fig) -> np.ndarray:
    return np.concatenate([np.asarray(t.y, dtype=float) for t in fig.data])


def test_region_labels_sit_in_strips_no_point_can_reach_with_a_background():
    people = _people()
    grid = nw.power_interest_table(people)
    many = pd.concat([grid] * 3, ignore_index=True)  # above the limit below: the counted-bubble chart
    many["id"] = [f"s{i}" for i in range(len(many))]
    for fig in (charts.power_interest_chart(grid, seed=5, selected="x"),
                charts.power_interest_chart(many, points_limit=5, selected="s0")):
        ys = _point_ys(fig)
        low, high = fig.layout.yaxis.range
        labels = {a.text: a for a in fig.layout.annotations}
        below, above = labels["Highly affected, little power"], labels["Much power, little affected"]
        # points keep to their scores (0-5) give or take the jitter (0.25); the labels are beyond that, inside
        # the axis range, with room for the largest marker (a 40 px bubble is under 0.4 of a unit at 520 px)
        assert ys.min() >= -0.25 and ys.max() <= 5.25
        assert low < below.y < -0.25 - 0.4 and 5.25 + 0.4 < above.y < high
        units_per_px = (high - low) / (fig.layout.height - fig.layout.margin.t - fig.layout.margin.b)
        assert 20 * units_per_px < 0.4  # the biggest bubble's radius, in axis units, really is under 0.4
        for label in (below, above):
            assert label.bgcolor and not label.showarrow
        # each label still sits in the shaded region it names
        rects = [(s.x0, s.x1, s.y0, s.y1) for s in fig.layout.shapes]
        for label in (below, above):
            assert any(x0 <= label.x <= x1 and y0 <= label.y <= y1 for x0, x1, y0, y1 in rects)
        # the axis still shows only the scores 0-5
        assert list(fig.layout.yaxis.tickvals) == [0, 1, 2, 3, 4, 5]
