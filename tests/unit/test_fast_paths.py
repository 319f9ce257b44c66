"""The fast paths added for speed at scale give the same answers as the slow ways they replace.

Each test compares the fast path with an independent, slower calculation: the csv module for the
pandas CSV parser, a hand count for the bubble grid, networkx's own ``add_edge`` for ``to_graph``,
and the history log's own rows for the driver-level import."""

from __future__ import annotations

import json

import networkx as nx
import pandas as pd
import pytest
import sqlalchemy as sa

from coprod_map import model
from coprod_map.analysis import network as nw
from coprod_map.io import text as textio
from coprod_map.io.read import read_files
from coprod_map.viz import network_charts as charts

CSV_TEXTS = [
    "id,name\n1,Ann\n2,Bo\n",
    "id,name\r\n1,Ann\r\n\r\n2,Bo\r\n",  # Windows line ends and a blank line: rows 1, 2, 4
    "id;name;notes\n1;Ann;\n\n  ;  ;\n2;Bo;x\n",  # whitespace-only record skipped, like the csv module
    'id,name\n1,"Smith, Ann"\n2,"say ""hi"""\n',  # quoted delimiter and doubled quotes on one line
    "id,name,\n1,Ann,\n",  # trailing comma: an empty third column
    "name\n'=1+2\nBo\n",
]


@pytest.mark.parametrize("text", CSV_TEXTS)
def test_fast_csv_grid_matches_the_csv_module(text):
    delimiter = textio.choose_delimiter(text)
    frame, rows = textio.grid(text, delimiter, file="f.csv")
    records, starts = textio.records(text, delimiter, file="f.csv")
    width = frame.shape[1]
    assert frame.astype(object).values.tolist() == [r + [""] * (width - len(r)) for r in records]
    assert rows.tolist() == starts


@pytest.mark.parametrize("text", [
    'id,name\n1,"two\nlines"\n',  # a quoted newline: only the csv module knows where the record starts
    "id,name\r1,Ann\r",  # CR-only line ends
    "id,name\n1,Ann,extra\n",  # a row longer than the header
    'id,name\n1,"ab"c\n',  # quoting the csv module refuses
])
def test_fast_csv_grid_leaves_the_hard_cases_to_the_csv_module(text):
    assert textio.grid(text, ",", file="f.csv") is None


def test_a_big_attendance_import_is_logged_in_the_history(store):
    """Map rows one change row each; participation (schema 7) one batch row holding every row added."""
    from coprod_map import participation_sets

    lines = ["person,event,date"] + [f"Person {i % 700},Session {i % 40},2025-01-{1 + i % 28:02d}" for i in range(25_000)]
    staged = read_files([("att.csv", ("\n".join(lines) + "\n").encode())])
    pid = store.create_project("Big import")
    store.import_project(pid, staged.project)
    loaded = store.load(pid)
    expected = staged.project.participation[["stakeholder_id", "activity_id"]].reset_index(drop=True)
    assert loaded.participation[["stakeholder_id", "activity_id"]].equals(expected.astype(object))
    with store.engine.connect() as conn:
        logged = dict(conn.execute(sa.text(
            "SELECT table_name, count(*) FROM changes WHERE project_id = :p AND op = 'insert' GROUP BY table_name"),
            {"p": pid}).fetchall())
        batches = conn.execute(sa.text("SELECT new, payload FROM changes WHERE project_id = :p AND op = 'batch'"),
                               {"p": pid}).fetchall()
    counts = staged.project.counts()
    assert "participation" not in logged and len(batches) == 1
    assert json.loads(batches[0].new) == {"insert": counts["participation"], "update": 0, "delete": 0}
    diff = participation_sets.decode(bytes(batches[0].payload))
    assert diff[["stakeholder_id", "activity_id"]].equals(expected.astype(object))
    assert (diff["op"] == "insert").all() and diff["new_seq"].tolist() == list(range(len(expected)))
    assert f"{len(expected):,} participation records added" in store.history(pid)["summary"].iloc[0]
    assert logged["stakeholders"] == counts["stakeholders"] == 700
    assert logged["activities"] == counts["activities"]
    assert sorted(store.history(pid)["kind"]) == ["create", "import"]  # one audit row for the whole import


def test_big_power_grid_counts_each_cell_like_a_hand_count():
    rows = []
    for i in range(3000):
        rows.append({"row": i, "id": f"s{i}", "name": f"P{i}", "kind": "person",
                     "involvement": ["", "informed", "co_producing"][i % 3], "affected": i % 4, "influence": i % 6})
    grid = pd.DataFrame(rows)
    grid["highlight"] = ""
    fig = charts.power_interest_chart(grid, selected="s7")
    bubbles = [t for t in fig.data if t.name != "Selected"]
    shown = sum(int(c[3].replace(",", "")) for t in bubbles for c in t.customdata)
    assert shown == len(grid)
    hand = sum(1 for r in rows if r["involvement"] == "informed" and r["affected"] == 1 and r["influence"] == 1)
    informed = next(t for t in bubbles if t.name == model.INVOLVEMENT_LEVELS["informed"])
    cell = [c for c, x, y in zip(informed.customdata, informed.x, informed.y, strict=True) if round(x) == 1 and y == 1]
    assert int(cell[0][3]) == hand
    assert [t.name for t in fig.data][-1] == "Selected"
    assert charts.selected_rows({"selection": {"points": [{"customdata": list(informed.customdata[0])}]}}) == []


def test_to_graph_equals_networkx_add_edge_row_by_row(sample_project):
    store, pid = sample_project
    project = store.load(pid)
    G = model.to_graph(project)
    H = nx.MultiDiGraph()
    people = project.stakeholders
    for row in people.to_dict("records"):
        H.add_node(row.pop("id"), **model._plain_attrs(row.items()))
    for row in project.relationships.to_dict("records"):
        u, v, k = row.pop("source"), row.pop("target"), row.pop("id")
        H.add_edge(u, v, key=k, **model._plain_attrs(row.items()))
    assert list(G.nodes(data=True)) == list(H.nodes(data=True))
    assert list(G.edges(keys=True, data=True)) == list(H.edges(keys=True, data=True))
    assert list(G.in_edges(keys=True, data=True)) == list(H.in_edges(keys=True, data=True))
    assert model.from_graph(G).relationships.equals(project.relationships)


def test_name_matches_puts_names_starting_with_the_text_first():
    names = {"1": "Zara Amin", "2": "Amira Khan", "3": "Sam", "4": "amy"}
    assert nw.name_matches(names, "am") == ["2", "4", "3", "1"]  # amira, amy; then sam, zara amin
    assert nw.name_matches(names, "  ") == []
    assert nw.name_matches(names, "am", limit=2) == ["2", "4"]
