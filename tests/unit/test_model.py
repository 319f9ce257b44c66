"""The data model: canonical frames and the lossless round trip through a NetworkX graph."""

from __future__ import annotations

import networkx as nx
import pandas as pd
import pytest

from coprod_map import model


def hostile_project() -> model.Project:
    stakeholders = pd.DataFrame(
        {
            "id": ["007", "7", "x<1>"],
            "name": ["NA", "Zoë O’Brien", "<img src=x onerror=alert(1)>"],
            "kind": ["person", "group", "community_asset"],
            "roles": ["carer|peer worker", "", ["library"]],
            "experience": ["lived", "lived|professional", ""],
            "affected": ["3", "", 0],
            "influence": [1, None, "5"],
            "involvement": ["co_producing", "informed", ""],
            "speaks_for": ["carers", "young people|carers", ""],
            "speaks_basis": ["lived_experience", "proxy", ""],
            "notes": ["line one\nline two", "=1+2", ""],
            "age_band": ["18-24", model.NOT_RECORDED, ""],
            "gender": [model.PREFER_NOT_TO_SAY, "woman", ""],
        }
    )
    relationships = pd.DataFrame(
        {
            "id": ["r1", "r2", "r3"],
            "source": ["007", "7", "007"],
            "target": ["7", "007", "7"],  # r1 and r3: two different ties between the same pair
            "type": ["knows", "supports", "works with"],
            "direction": ["mutual", "directed", "undirected"],
            "strength": [2.5, None, "4"],
            "since": ["2025-01-01", "", ""],
        }
    )
    settings = model.ProjectSettings(attributes={"age_band": ["18-24", "25-64"], "gender": ["woman", "man"]})
    return model.Project(stakeholders=stakeholders, relationships=relationships, settings=settings, name="T").normalised()


def test_normalised_frames_keep_text_exactly():
    project = hostile_project()
    s = project.stakeholders
    assert s["id"].tolist() == ["007", "7", "x<1>"]
    assert s["name"].tolist()[0] == "NA"
    assert s.loc[0, "roles"] == ["carer", "peer worker"] and s.loc[2, "roles"] == ["library"]
    assert s["affected"].tolist()[0] == 3 and s["affected"].isna().tolist() == [False, True, False]
    assert str(s["influence"].dtype) == "Int64"
    assert s["age_band"].tolist() == ["18-24", "not recorded", ""]
    assert model.attribute_columns(s) == ["age_band", "gender"]


def test_graph_round_trip_is_lossless():
    project = hostile_project()
    G = model.to_graph(project)
    assert isinstance(G, nx.MultiDiGraph)
    assert G.number_of_nodes() == 3 and G.number_of_edges() == 3
    assert G.nodes["007"]["name"] == "NA"
    assert G.edges["007", "7", "r1"]["strength"] == 2.5
    assert "strength" not in G.edges["7", "007", "r2"]  # a blank number is left out, not NA
    back = model.from_graph(G)
    for table in model.TABLES:
        pd.testing.assert_frame_equal(back.table(table), project.table(table), check_dtype=True)
    assert back.settings == project.settings and back.name == "T"


def test_graph_attributes_are_plain_python_values():
    G = model.to_graph(hostile_project())
    for _, data in G.nodes(data=True):
        for value in data.values():
            assert type(value) in (str, int, float, list), (value, type(value))
    for *_, data in G.edges(keys=True, data=True):
        for value in data.values():
            assert type(value) in (str, int, float, list), (value, type(value))


def test_from_plain_graph_makes_ids_text():
    G = nx.Graph()
    G.add_node(1, name="One")
    G.add_edge(1, 2, weight=3)
    project = model.from_graph(G)
    assert project.stakeholders["id"].tolist() == ["1", "2"]
    assert project.relationships[["source", "target"]].values.tolist() == [["1", "2"]]


@pytest.mark.parametrize(
    ("text", "coded", "expected"),
    [
        ("Co-Producing", model.INVOLVEMENT_LEVELS, "co_producing"),
        ("not involved", model.INVOLVEMENT_LEVELS, "not_involved"),
        ("Organisation", model.KINDS, "organisation"),
        ("Lived experience of the group", model.BASES, "lived_experience"),
        ("carer", model.KINDS, None),
    ],
)
def test_normalise_code_accepts_codes_and_words(text, coded, expected):
    assert model.normalise_code(text, coded) == expected


# --- to_graph's direct fill equals networkx's public API, row by row ------------------------------

def _plain(value):
    """An independent spelling of the graph's value rule: missing left out, lists copied, numpy made plain."""
    if isinstance(value, list):
        return list(value)
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return _MISSING
    return value.item() if hasattr(value, "item") and not isinstance(value, str) else value


_MISSING = object()


def _slow_graph(project: model.Project) -> nx.MultiDiGraph:
    """The graph built the plain way: ``add_node`` per stakeholder, then ``add_edge`` per relationship."""
    H = nx.MultiDiGraph(name=project.name, settings=project.settings.to_dict())
    for table in ("activities", "participation", "reference"):
        H.graph[table] = project.table(table)
    H.graph["stakeholder_columns"] = [c for c in project.stakeholders.columns if c != "id"]
    H.graph["relationship_order"] = project.relationships["id"].tolist()
    for row in project.stakeholders.to_dict("records"):
        node = row.pop("id")
        H.add_node(node, **{k: v for k, v in ((k, _plain(v)) for k, v in row.items()) if v is not _MISSING})
    for row in project.relationships.to_dict("records"):
        u, v, key = row.pop("source"), row.pop("target"), row.pop("id")
        H.add_edge(u, v, key=key, **{k: x for k, x in ((k, _plain(x)) for k, x in row.items()) if x is not _MISSING})
    return H


def _assert_same_graph(G: nx.MultiDiGraph, H: nx.MultiDiGraph) -> None:
    assert type(G) is type(H) is nx.MultiDiGraph
    assert list(G.nodes(data=True)) == list(H.nodes(data=True))
    assert [list(d) for _, d in G.nodes(data=True)] == [list(d) for _, d in H.nodes(data=True)]  # attribute order
    assert list(G.edges(keys=True, data=True)) == list(H.edges(keys=True, data=True))
    assert [list(d) for *_, d in G.edges(keys=True, data=True)] == [list(d) for *_, d in H.edges(keys=True, data=True)]
    assert list(G.in_edges(keys=True, data=True)) == list(H.in_edges(keys=True, data=True))
    for n in H:  # neighbour order both ways, and one shared keydict per pair as networkx keeps it
        assert list(G.succ[n]) == list(H.succ[n]) and list(G.pred[n]) == list(H.pred[n])
        for m in G.succ[n]:
            assert G._succ[n][m] is G._pred[m][n]
    assert G.adj is not None and G._adj is G._succ
    assert list(G.graph) == list(H.graph)
    assert {k: v for k, v in G.graph.items() if not isinstance(v, pd.DataFrame)} == \
        {k: v for k, v in H.graph.items() if not isinstance(v, pd.DataFrame)}
    for name in ("activities", "participation", "reference"):
        pd.testing.assert_frame_equal(G.graph[name], H.graph[name])
    assert G.number_of_edges() == H.number_of_edges() and G.number_of_nodes() == H.number_of_nodes()


def _awkward_project() -> model.Project:
    """Unicode and look-alike ids, blanks and NA, lists, parallel ties, a self-loop, a repeated tie id."""
    stakeholders = pd.DataFrame({
        "id": ["007", "7", "x<1>", "Zoë", " 7", "lonely"],
        "name": ["NA", "", "<b>x</b>", "Zoë O’Brien", "seven", "nobody knows me"],
        "kind": ["person", "group", "", "person", "organisation", "person"],
        "roles": ["carer|peer worker", "", ["library"], "a|b|c", "", ""],
        "affected": ["3", "", 0, None, "5", ""],
        "influence": [1, None, "5", "", 2, 0],
        "notes": ["line one\nline two", "=1+2", "", "", "null", "None"],
        "age_band": ["18-24", model.NOT_RECORDED, "", "25-64", "", ""],
    })
    relationships = pd.DataFrame({
        "id": ["r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9"],
        "source": ["007", "7", "007", "Zoë", "Zoë", "x<1>", "007", " 7", "Zoë"],
        "target": ["7", "007", "7", "Zoë", "Zoë", "7", "7", "x<1>", "x<1>"],
        "type": ["knows", "supports", "works with", "", "knows", "funds", "", "knows", "funds"],
        "strength": [2.5, None, "4", "", 1, None, 0, 5, 3],
        "since": ["2025-01-01", "", "", "", "", "2024-12-31", "", "", ""],
    })  # r1/r3/r7: three ties one way; r4/r5: two self-loops
    return model.Project(stakeholders=stakeholders, relationships=relationships, name="Ä").normalised()


def _awkward_cases() -> dict[str, model.Project]:
    awkward = _awkward_project()
    rel = awkward.relationships
    repeated = model.Project(  # the same tie id twice on one pair: networkx merges its attributes into the first
        stakeholders=awkward.stakeholders,
        relationships=pd.concat([rel, rel.iloc[[0, 6]].assign(type="", strength=pd.NA, since="2026-01-01")],
                                ignore_index=True))
    shared = model.Project(  # one tie id on two different pairs: fine for networkx, keys are per pair
        stakeholders=awkward.stakeholders, relationships=rel.assign(id=rel["id"].replace({"r9": "r1"})))
    stranger = model.Project(  # an end that is not a stakeholder: networkx adds it as a bare node
        stakeholders=awkward.stakeholders,
        relationships=pd.concat([rel, rel.iloc[[1]].assign(id="r9", target="nobody")], ignore_index=True))
    twice = model.Project(  # a stakeholder id twice: networkx merges the second row into the first
        stakeholders=pd.concat([awkward.stakeholders, awkward.stakeholders.iloc[[1]].assign(name="again", kind="")],
                               ignore_index=True),
        relationships=rel)
    bare = model.Project(  # no attribute columns at all
        stakeholders=pd.DataFrame({"id": ["a", "b"]}),
        relationships=pd.DataFrame({"id": ["e"], "source": ["b"], "target": ["a"]}))
    return {"awkward": awkward, "repeated tie id": repeated, "shared tie id": shared, "stranger end": stranger, "repeated stakeholder": twice,
            "bare": bare, "empty": model.empty_project("nothing"),
            "no ties": model.Project(stakeholders=awkward.stakeholders, name="solo")}


@pytest.mark.parametrize("case", list(_awkward_cases()))
def test_to_graph_equals_the_plain_networkx_build(case):
    project = _awkward_cases()[case]
    G = model.to_graph(project)
    _assert_same_graph(G, _slow_graph(project))
    for _, data in G.nodes(data=True):  # lists are the graph's own, not the frame's
        for value in data.values():
            if isinstance(value, list):
                value.append("changed")
    assert "changed" not in str(project.stakeholders.to_dict("list"))


def test_to_graph_keeps_parallel_ties_and_their_order():
    G = model.to_graph(_awkward_project())
    assert list(G["007"]["7"]) == ["r1", "r3", "r7"] and list(G["Zoë"]["Zoë"]) == ["r4", "r5"]
    assert G.edges["007", "7", "r3"]["strength"] == 4.0 and "strength" not in G.edges["x<1>", "7", "r6"]
    assert G.number_of_edges() == 9 and list(G.pred["7"]) == ["007", "x<1>"]


def test_to_graph_merges_a_repeated_tie_id_like_networkx():
    G = model.to_graph(_awkward_cases()["repeated tie id"])
    assert list(G["007"]["7"]) == ["r1", "r3", "r7"]
    assert G.edges["007", "7", "r1"] == {"type": "", "direction": "", "strength": 2.5, "since": "2026-01-01",
                                         "until": "", "notes": ""}


@pytest.mark.parametrize("case", ["awkward", "no ties", "empty"])
def test_graph_round_trip_of_awkward_projects(case):
    project = _awkward_cases()[case]
    back = model.from_graph(model.to_graph(project))
    for table in model.TABLES:
        pd.testing.assert_frame_equal(back.table(table), project.table(table), check_dtype=True)
