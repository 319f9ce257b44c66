"""The Relationships page's cached pieces, shared between tabs, give what the analysis gives on its own."""

from __future__ import annotations

import networkx as nx
import pandas as pd
import pytest
import streamlit as st

from coprod_map.analysis import network as nw
from coprod_map.model import Project, normalise_frame
from coprod_map.store import Store
from coprod_map.ui import network_cache as nc


@pytest.fixture
def karate(sqlite_url, monkeypatch):
    G = nx.karate_club_graph()
    people = normalise_frame("stakeholders", pd.DataFrame({
        "id": [f"k{n}" for n in G.nodes] + ["alone"], "name": [f"Member {n}" for n in G.nodes] + ["Alone"],
        "roles": ["staff|volunteer", "", "staff", " carer |", *[""] * 31],
        "experience": ["lived", "lived|professional", *[""] * 33],
        "area": [("North" if G.nodes[n]["club"] == "Mr. Hi" else "South") for n in G.nodes] + [""],
    }))
    ties = normalise_frame("relationships", pd.DataFrame({
        "id": [f"r{i}" for i in range(G.number_of_edges())], "source": [f"k{u}" for u, _ in G.edges],
        "target": [f"k{v}" for _, v in G.edges], "type": ["knows" if u % 2 else "works with" for u, _ in G.edges]}))
    monkeypatch.setenv("COPROD_MAP_DB", sqlite_url)
    store = Store(sqlite_url)
    project_id = store.create_project("Karate")
    store.import_project(project_id, Project(stakeholders=people, relationships=ties))
    st.cache_data.clear()
    st.cache_resource.clear()
    yield store.load(project_id), project_id
    st.cache_resource.clear()
    store.close()


def _revision(project_id: str) -> int:
    from coprod_map.ui.state import store

    projects = store().list_projects()
    return int(projects.loc[projects["id"] == project_id, "revision"].iloc[0])


def test_communities_added_to_the_quick_table_equal_the_whole_table(karate):
    project, project_id = karate
    revision = _revision(project_id)
    quick = nc.basic_metrics_for(project_id, revision, communities=False)
    assert quick["community"].isna().all()
    with_communities = nc.basic_metrics_for(project_id, revision, communities=True)
    pd.testing.assert_frame_equal(with_communities, nw.metrics_table(project, betweenness=False))
    assert with_communities["community"].notna().sum() == 34  # everyone but the stakeholder with no ties


def test_shared_labels_give_the_same_filters_and_mixing(karate):
    project, project_id = karate
    revision = _revision(project_id)
    people = project.stakeholders
    for by in ["roles", "experience", "area", "kind"]:
        assert nc.categories_for(project_id, revision, by) == \
            nw.category_labels(people, by)["category"].cat.categories.tolist()
        pd.testing.assert_frame_equal(nc.mixing_for(project_id, revision, by),
                                      nw.mixing_matrix(nw.tie_graph(people, project.relationships), people, by=by,
                                                       order=project.settings.attributes.get(by, [])))
    facts = nc.page_facts_for(project_id, revision)
    assert facts.roles == ["carer", "staff", "volunteer"]
    assert facts.types == ["knows", "works with"]
    assert facts.names["k0"] == "Member 0" and len(facts.names) == 35
