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
