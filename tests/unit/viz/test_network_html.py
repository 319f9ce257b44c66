"""The network page is offline and nothing typed into the map can run as script."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from coprod_map.analysis import layout
from coprod_map.analysis import network as nw
from coprod_map.model import Project, ProjectSettings, normalise_frame
from coprod_map.viz import network_html as nh

IMG = "<img src=x onerror=alert(1)>"
SCRIPT = "</script><script>alert(1)</script>"
HOSTILE = [IMG, SCRIPT, 'see <a href="https://evil.example/">here</a>', "=1+2", "HREF=javascript:alert(1)"]


def hostile_project() -> Project:
    people = normalise_frame("stakeholders", pd.DataFrame({
        "id": ["a", SCRIPT, "=1+2", "d", "e"],
        "name": [IMG, SCRIPT, "=1+2", HOSTILE[2], HOSTILE[4]],
        "kind": ["person", "group", "organisation", IMG, "community_asset"],
        "roles": [f"carer|{IMG}", "href", "", SCRIPT, ""],
        "experience": ["lived", "professional", "lived|trained", "", ""],
        "involvement": ["not_involved", "co_producing", IMG, "", "consulted"],
        "affected": [3, 1, None, 2, 0], "influence": [1, 5, 2, None, 3],
        "notes": HOSTILE,
        "area": [IMG, "North", "", SCRIPT, "href"],
    }))
    ties = normalise_frame("relationships", pd.DataFrame({
        "id": ["r1", "r2", "r3", "r4"], "source": ["a", SCRIPT, "=1+2", "d"], "target": [SCRIPT, "=1+2", "d", "e"],
        "type": [IMG, "href", SCRIPT, "knows"], "direction": ["directed", "mutual", "", IMG], "strength": [1, None, 5, 2],
    }))
    return Project(stakeholders=people, relationships=ties, settings=ProjectSettings(relationship_types=[IMG]))


def _data(html: str, name: str) -> list[dict]:
    line = re.search(rf"{name} = new vis\.DataSet\(([^\n]*)\);", html).group(1)
    return json.loads(line)


def _outside_data(html: str) -> str:
    return re.sub(r"new vis\.DataSet\([^\n]*", "", html)


@pytest.mark.parametrize("colour_by", ["involvement", "area", "experience", "kind", "roles"])
def test_hostile_text_stays_data(colour_by):
    project = hostile_project()
    tg = nw.tie_graph(project.stakeholders, project.relationships)
    out = nh.map_html(project.stakeholders, project.relationships, positions=layout.positions(tg),
                      colour_by=colour_by, size=nw.degree_table(tg).set_index("id")["degree"], size_label="Ties")
    html = out.html
    assert "popup.innerHTML" not in html
    assert not re.search(r"(?:src|href)\s*=\s*[\"']?https?://", _outside_data(html), re.I)
    for payload in (IMG, SCRIPT, "<img", "</script><script>alert"):
        assert payload not in html
    # no user text outside the JSON data; inside it, JSON-escaped and restored exactly (bar the broken "href")
    outside = _outside_data(html)
    for text in ("onerror=alert", "alert(1)", "evil.example", "=1+2"):
        assert text not in outside
    nodes, edges = _data(html, "nodes"), _data(html, "edges")
    assert [n["id"] for n in nodes] == [f"n{i}" for i in range(5)]  # opaque ids
    assert nodes[0]["label"] == IMG and nodes[1]["label"] == SCRIPT
    assert all("href" not in n["title"].lower() for n in nodes)
    assert all("href" not in e["title"].lower() for e in edges)
    assert "h\u200bref" in nodes[3]["title"]
    assert len(edges) == 4 and out.nodes == 5


def test_page_is_offline_and_physics_is_off():
    project = hostile_project()
    tg = nw.tie_graph(project.stakeholders, project.relationships)
    html = nh.map_html(project.stakeholders, project.relationships, positions=layout.positions(tg)).html
    assert "cdn.jsdelivr.net" not in html and "cdnjs" not in _outside_data(html)
    # the only src/href left is a commented-out relative path in pyvis's template: nothing is fetched
    assert re.findall(r"(?:src|href)=\"([^\"]*)\"", _outside_data(html)) == [
        "../node_modules/vis/dist/vis.min.css", "../node_modules/vis/dist/vis.js"]
    assert '"physics": {"enabled": false}' in html
    assert "vis.Network" in html  # vis-network itself is inlined


def test_assert_safe_rejects_remote_and_innerhtml():
    with pytest.raises(ValueError):
        nh.assert_safe('<script src="https://cdn.example/x.js"></script>')
    with pytest.raises(ValueError):
        nh.assert_safe("popup.innerHTML = title")
    nh.assert_safe("nodes = new vis.DataSet([{\"title\":\"src=https://x\"}]);\n")  # user data is not a fetch


def test_colour_sizes_and_positions_follow_the_inputs():
    people = normalise_frame("stakeholders", pd.DataFrame({
        "id": ["a", "b", "c"], "name": ["A", "B", "C"], "kind": ["person", "group", "organisation"],
        "involvement": ["co_producing", "not_involved", ""]}))
    ties = normalise_frame("relationships", pd.DataFrame({"id": ["r"], "source": ["a"], "target": ["b"],
                                                          "type": ["knows"], "direction": ["directed"]}))
    positions = pd.DataFrame({"id": ["c", "b", "a"], "x": [3.0, 2.0, 1.0], "y": [30.0, 20.0, 10.0]})
    out = nh.map_html(people, ties, positions=positions, size=pd.Series({"a": 4.0, "b": 1.0}))
    nodes = _data(out.html, "nodes")
    assert [(n["x"], n["y"]) for n in nodes] == [(1.0, 10.0), (2.0, 20.0), (3.0, 30.0)]
    assert [n["shape"] for n in nodes] == ["dot", "triangle", "square"]
    assert [n["color"] for n in nodes] == ["#08306B", "#D9D9D9", "#F2F2F2"]
    assert nodes[0]["size"] == 40.0 and nodes[1]["size"] == 25.0 and nodes[2]["size"] == 10.0
    edge = _data(out.html, "edges")[0]
    assert (edge["from"], edge["to"], edge["arrows"]) == ("n0", "n1", "to")
    legend = out.legend
    assert set(legend["shows"]) == {"Colour (involvement)", "Shape (kind)", "Line (relationship type)"}


def _big(n: int) -> Project:
    rng = np.random.default_rng(0)
    ids = np.array([f"p{i}" for i in range(n)], dtype=object)
    src, dst = rng.integers(0, n, 3 * n), rng.integers(0, n, 3 * n)
    return Project(
        stakeholders=normalise_frame("stakeholders", pd.DataFrame({
            "id": ids, "name": ids, "kind": "person", "area": rng.choice(["N", "S", "E"], n)})),
        relationships=normalise_frame("relationships", pd.DataFrame({
            "id": np.arange(len(src)).astype(str), "source": ids[src], "target": ids[dst], "type": "knows"})),
    )


def test_large_map_is_aggregated_with_one_node_per_category_and_drills_down():
    project = _big(20_000)
    view = nh.network_view(project, group_by="area")
    assert view.aggregated and view.shown == 20_000
    nodes = _data(view.page.html, "nodes")
    assert len(nodes) == 3 and sorted(view.groups) == ["E", "N", "S"]
    counts = project.stakeholders["area"].value_counts()
    assert sorted(n["label"] for n in nodes) == sorted(f"{k} ({v:,})" for k, v in counts.items())
    edges = _data(view.page.html, "edges")
    assert len(edges) == 3  # every pair of areas is tied
    inside = nh.network_view(project, group_by="area", drill="N")
    assert not inside.aggregated and inside.shown == nh.NODE_LIMIT  # trimmed to the most connected
    assert "most connected" in inside.note


def test_community_aggregation_uses_the_metrics():
    project = _big(1_600)
    metrics = nw.metrics_table(project)
    view = nh.network_view(project, metrics=metrics, group_by="community")
    assert view.aggregated
    assert len(_data(view.page.html, "nodes")) == metrics["community"].nunique() + int(metrics["community"].isna().any())
