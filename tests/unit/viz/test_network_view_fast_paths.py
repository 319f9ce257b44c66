"""The network view's shortcuts (the project's own graph, cached page shell, shared cells) change nothing."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from coprod_map.analysis import network as nw
from coprod_map.model import Project, normalise_frame
from coprod_map.viz import network_charts as charts
from coprod_map.viz import network_html as nh


def _project(n: int = 400) -> Project:
    rng = np.random.default_rng(1)
    ids = np.array([f"p{i}" for i in range(n)], dtype=object)
    src, dst = rng.integers(0, n, 2 * n), rng.integers(0, n, 2 * n)
    ends = np.concatenate([ids[dst][:-3], ["nobody", "p1", "p2"]])  # a tie to an unknown id, a self-tie
    src_ids = np.concatenate([ids[src][:-2], ["p1", "p2"]])
    return Project(
        stakeholders=normalise_frame("stakeholders", pd.DataFrame({
            "id": ids, "name": [f"Näme <{i}>" for i in range(n)], "kind": "person",
            "area": rng.choice(["N", "S", "", "É"], n), "roles": rng.choice(["a|b", "", "b"], n)})),
        relationships=normalise_frame("relationships", pd.DataFrame({
            "id": np.arange(len(src)).astype(str), "source": src_ids, "target": ends, "type": "knows"})),
    )


def _placeless(html: str) -> str:
    """The page without node positions: igraph's layout is not repeatable from one call to the next."""
    return re.sub(r'"x":-?[0-9.e+-]+,"y":-?[0-9.e+-]+', "", html)


def _same(a: nh.NetworkView, b: nh.NetworkView) -> None:
    assert (a.aggregated, a.shown, a.note, a.groups) == (b.aggregated, b.shown, b.note, b.groups)
    assert (_placeless(a.page.html), a.page.nodes, a.page.edges) == (_placeless(b.page.html), b.page.nodes, b.page.edges)
    pd.testing.assert_frame_equal(a.page.legend, b.page.legend)


def test_unfiltered_aggregated_view_from_the_project_graph_is_the_same_page():
    project = _project()
    tg = nw.tie_graph(project.stakeholders, project.relationships)
    metrics = nw.metrics_table(project, betweenness=False, tg=tg)
    assert metrics["community"].isna().any()  # some stakeholders have no ties: "No ties"
    for group_by, m in [("community", metrics), ("area", None), ("roles", None)]:
        slow = nh.network_view(project, metrics=m, group_by=group_by, limit=100)
        fast = nh.network_view(project, metrics=m, group_by=group_by, limit=100, tg=tg)
        assert fast.aggregated and slow.aggregated
        _same(fast, slow)
    # filtered or drilled views do not take the shortcut, and still match
    for options in [{"kinds": ("person",)}, {"drill": "N"}, {"types": ("knows",)}]:
        slow = nh.network_view(project, group_by="area", limit=100, **options)
        _same(nh.network_view(project, group_by="area", limit=100, tg=tg, **options), slow)


def test_community_labels_follow_ids_when_metrics_are_in_another_order():
    project = _project(300)
    metrics = nw.metrics_table(project, betweenness=False)
    shuffled = metrics.sample(frac=1.0, random_state=0).reset_index(drop=True)
    labels = nh._group_labels(project.stakeholders, "community", shuffled)
    expected = [("No ties" if pd.isna(c) else f"Community {int(c)}") for c in metrics["community"]]
    assert labels.tolist() == expected
    assert nh._group_labels(project.stakeholders, "community", metrics).tolist() == expected


def test_cached_page_shell_depends_on_height_and_edge_count():
    project = _project(60)
    short = nh.network_view(project, height=300).page.html
    tall = nh.network_view(project, height=700).page.html
    again = nh.network_view(project, height=300).page.html
    assert _placeless(short) == _placeless(again)
    assert "height: 300px" in short and "height: 700px" in tall and "height: 700px" not in short
    nh.assert_safe(short)
    many = nh.network_view(_project(1_400), height=300).page  # over 2,000 lines: they hide while dragging
    assert many.edges > 2000
    assert '"hideEdgesOnDrag": true' in many.html and '"hideEdgesOnDrag": false' in short


def test_power_chart_with_shared_cells_is_the_same_chart():
    rng = np.random.default_rng(2)
    n = 3000
    people = normalise_frame("stakeholders", pd.DataFrame({
        "id": [f"p{i}" for i in range(n)], "name": "x", "affected": rng.integers(0, 4, n),
        "influence": rng.integers(0, 6, n), "involvement": rng.choice(["", "informed", "co_producing"], n)}))
    grid = nw.power_interest_table(people)
    plain = charts.power_interest_chart(grid, selected="p3")
    shared = charts.power_interest_chart(grid, selected="p3", cells=charts.power_interest_cells(grid))
    assert plain.to_json() == shared.to_json()


def test_a_big_map_with_no_ties_between_its_groups_still_draws() -> None:
    """Over NODE_LIMIT the map shows groups; with no tie between two groups the page has shapes and no lines
    (this crashed building the lines' hover text from an empty table)."""
    n = nh.NODE_LIMIT + 1
    people = pd.DataFrame({"id": [f"p{i}" for i in range(n)], "name": "x", "kind": "person",
                           "area": ["N", "S"] * (n // 2) + ["N"] * (n % 2)})
    ties = pd.DataFrame({"id": ["r1"], "source": ["p0"], "target": ["p2"], "type": ["knows"]})  # both in N
    project = Project(stakeholders=normalise_frame("stakeholders", people),
                      relationships=normalise_frame("relationships", ties))
    view = nh.network_view(project, group_by="area")
    assert view.aggregated and view.page.nodes == 2 and view.page.edges == 0
