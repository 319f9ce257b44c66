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
