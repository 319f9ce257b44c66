"""The report on big maps: brokerage estimated (and said to be) or left out (and said why); shared work changes nothing."""

from __future__ import annotations

import networkx as nx
import pandas as pd
import pytest

from coprod_map import report
from coprod_map.analysis import health
from coprod_map.analysis import network as nw
from coprod_map.analysis import representation as rep
from coprod_map.model import Project, normalise_frame, split_list
from coprod_map.record_store import load_record


def _graph_project(G: nx.Graph) -> Project:
    nodes = [f"s{n}" for n in G.nodes]
    kinds = ["person" if i % 3 else "organisation" for i in range(len(nodes))]
    people = pd.DataFrame({"id": nodes, "name": [f"Name {n}" for n in G.nodes], "kind": kinds,
                           "roles": ["resident" if i % 2 else "" for i in range(len(nodes))]})
    ties = pd.DataFrame({"id": [f"r{i}" for i in range(G.number_of_edges())],
                         "source": [f"s{u}" for u, _ in G.edges], "target": [f"s{v}" for _, v in G.edges]})
    return Project(stakeholders=normalise_frame("stakeholders", people),
                   relationships=normalise_frame("relationships", ties))


def _network(project: Project) -> report.Section:
    return report.report_content(project, sections=["network"], today="2026-03-01").section("network")


def _text(section: report.Section) -> str:
    return " ".join([*section.intro, *(s for b in section.blocks for s in b.sentences)])


def test_small_maps_name_exact_brokers_with_no_word_of_estimates():
    project = _graph_project(nx.barbell_graph(6, 3))
    section = _network(project)
    brokers = section.blocks[-1]
    assert brokers.heading.startswith("Brokers") and brokers.figure is not None
    assert "Share of shortest paths through them" in brokers.table.columns
    assert "estimat" not in _text(section).lower() and "estimat" not in str(brokers.figure.layout.title.text).lower()
    # the middle of the bar is the top broker: hand check against networkx's betweenness
    top = max(nx.betweenness_centrality(nx.barbell_graph(6, 3)).items(), key=lambda kv: kv[1])
    assert brokers.table["Share of shortest paths through them"].iloc[0] == f"{100 * top[1]:.1f}%"


def test_above_the_exact_limit_brokerage_is_an_estimate_and_every_place_says_so():
    G = nx.barabasi_albert_graph(nw.EXACT_BETWEENNESS_LIMIT + 100, 2, seed=1)
    project = _graph_project(G)
    brokers = _network(project).blocks[-1]
    column = "Share of shortest paths through them (estimate)"
    assert column in brokers.table.columns and "Share of shortest paths through them" not in brokers.table.columns
    assert any("estimated from a sample of 256 starting points" in s for s in brokers.sentences)
    assert "estimated share" in brokers.figure.layout.title.text and "estimated share" in brokers.figure_label
    estimate = nw.betweenness_table(nw.tie_graph(project.stakeholders, project.relationships))
    assert estimate["betweenness_estimated"].all()
    assert brokers.table[column].iloc[0] == f"{100 * estimate['betweenness'].max():.1f}%"


def test_above_the_report_limit_brokers_are_left_out_in_plain_words(monkeypatch):
    monkeypatch.setattr(report, "BROKERAGE_LIMIT", 10)
    project = _graph_project(nx.barbell_graph(6, 3))  # 15 stakeholders
    section = _network(project)
    brokers = section.blocks[-1]
    assert brokers.heading.startswith("Brokers") and brokers.figure is None and brokers.table is None
    text = " ".join(brokers.sentences)
    assert "does not say who the main brokers are" in text and "15 stakeholders" in text
    assert "Estimate brokerage" in text and "estimates, not exact" in text
    assert not any("%" in s for s in brokers.sentences)
    # the rest of the section is still there, figures unchanged
    figures = section.blocks[0].table.set_index("Figure")["Number"]
    assert figures["Stakeholders on the map"] == "15" and figures["Relationships between them"] == "34"  # 2 x 15 + 4
    html = report.render_html(report.report_content(project, sections=["network"], today="2026-03-01"))
    assert "does not say who the main brokers are" in html and "Share of shortest paths" not in html


def test_shared_work_passed_in_changes_nothing(sample_project):
    store, project_id = sample_project
    project = store.load(project_id)
    record = load_record(store, project_id)

    def shown(content: report.Report) -> list:
        return [(s.key, s.intro, s.note, [(b.heading, b.sentences, None if b.table is None else b.table.to_dict("list"),
                                           None if b.figure is None else b.figure.to_json()) for b in s.blocks])
                for s in content.sections]

    plain = report.report_content(project, record=record, today="2026-03-01")
    shared = report.report_content(project, record=record, today="2026-03-01",
                                   tg=nw.tie_graph(project.stakeholders, project.relationships),
                                   prepared=rep.prepare_participation(project))
    assert shown(plain) == shown(shared)
    memo: dict[tuple, pd.DataFrame] = {}

    def gap_table(*, by, mode, min_cell):  # a cache as the app's, shared by the health check and the gap section
        key = (by, mode, min_cell)
        if key not in memo:
            memo[key] = rep.gap_table(project, by=by, mode=mode, min_cell=min_cell)
        return memo[key].copy()

    table = health.health_table(project, record, gap_table=gap_table)
    computed = len(memo)
    cached = report.report_content(project, record=record, today="2026-03-01", health=table, gap_table=gap_table)
    assert shown(plain) == shown(cached)
    assert computed and len(memo) == computed  # the gap section found every table the health check had made


@pytest.mark.parametrize("roles", [
    [["carer", "resident"], "", "resident|", " | carer ", [], "zz|aa", None, "aa"],
    ["", "", ""],
    ["b|a", "a|b", "a", "b"],  # equal counts: the order of first appearance decides, as value_counts does
])
def test_role_counts_match_a_person_by_person_count(roles):
    people = pd.DataFrame({"id": [f"p{i}" for i in range(len(roles))], "roles": pd.Series(roles, dtype=object)})
    ids = pd.Series(list(reversed(people["id"].tolist()))[: max(1, len(roles) - 1)])
    expected = (people.set_index("id").loc[ids, "roles"].map(split_list)
                .map(lambda r: r or ["no role recorded"]).explode().value_counts())
    got = report._role_counts(people, ids)
    assert list(got.items()) == list(expected.items())
