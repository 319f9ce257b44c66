"""Network measures against networkx's own results on its bundled graphs, and hand counts."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from coprod_map.analysis import network as nw
from coprod_map.model import Project, ProjectSettings, normalise_frame


def _frames(G: nx.Graph, **attributes) -> tuple[pd.DataFrame, pd.DataFrame]:
    nodes = [str(n) for n in G.nodes]
    people = pd.DataFrame({"id": nodes, "name": nodes, **attributes})
    ties = pd.DataFrame({"source": [str(u) for u, _ in G.edges], "target": [str(v) for _, v in G.edges]})
    return people, ties


def _project(people: pd.DataFrame, ties: pd.DataFrame, **tables) -> Project:
    ties = ties.assign(id=[f"r{i}" for i in range(len(ties))])
    return Project(stakeholders=normalise_frame("stakeholders", people),
                   relationships=normalise_frame("relationships", ties), **tables)


@pytest.fixture(params=["karate", "florentine"])
def graph(request) -> nx.Graph:
    return nx.karate_club_graph() if request.param == "karate" else nx.florentine_families_graph()


def test_degree_and_betweenness_match_networkx(graph):
    people, ties = _frames(graph)
    tg = nw.tie_graph(people, ties)
    degree = nw.degree_table(tg).set_index("id")["degree"]
    assert degree.to_dict() == {str(n): d for n, d in graph.degree}
    between = nw.betweenness_table(tg).set_index("id")
    expected = {str(n): v for n, v in nx.betweenness_centrality(graph).items()}
    assert between["betweenness"].to_dict() == pytest.approx(expected, abs=1e-12)
    assert not between["betweenness_estimated"].any()


def test_brokers_match_networkx_constraint_articulation_and_bridges(graph):
    people, ties = _frames(graph)
    brokers = nw.broker_table(nw.tie_graph(people, ties)).set_index("id")
    constraint = {str(n): v for n, v in nx.constraint(graph).items()}
    assert brokers["constraint"].astype(float).to_dict() == pytest.approx(constraint, abs=1e-12)
    assert set(brokers.index[brokers["articulation_point"]]) == {str(n) for n in nx.articulation_points(graph)}
    bridges = list(nx.bridges(graph))
    expected = pd.Series(0, index=brokers.index)
    for u, v in bridges:
        expected[str(u)] += 1
        expected[str(v)] += 1
    assert brokers["bridge_ties"].to_dict() == expected.to_dict()
    found = nw.bridge_ties(nw.tie_graph(people, ties))
    assert {frozenset(p) for p in zip(found["source"], found["target"], strict=True)} == \
        {frozenset((str(u), str(v))) for u, v in bridges}


def test_florentine_hand_facts():
    """The Medici are the cut point joining the Acciaiuoli, Pazzi (via Salviati) and others: a textbook broker."""
    people, ties = _frames(nx.florentine_families_graph())
    brokers = nw.broker_table(nw.tie_graph(people, ties)).set_index("id")
    assert brokers["betweenness"].idxmax() == "Medici"
    assert brokers.loc["Medici", "articulation_point"]
    assert brokers.loc["Pazzi", "bridge_ties"] == 1  # Pazzi - Salviati is their only tie


def test_sampled_betweenness_is_flagged_and_close_to_exact():
    G = nx.powerlaw_cluster_graph(600, 3, 0.1, seed=3)
    people, ties = _frames(G)
    tg = nw.tie_graph(people, ties)
    exact = nw.betweenness_table(tg)
    sampled = nw.betweenness_table(tg, exact_limit=100, samples=300, seed=1)
    assert sampled["betweenness_estimated"].all() and not exact["betweenness_estimated"].any()
    # an unbiased estimate: the same ordering at the top, totals within a few percent
    assert sampled["betweenness"].sum() == pytest.approx(exact["betweenness"].sum(), rel=0.1)
    top_exact = set(exact.nlargest(5, "betweenness")["id"])
    assert len(top_exact & set(sampled.nlargest(10, "betweenness")["id"])) >= 4


def test_communities_are_ranked_by_size_and_isolated_are_blank():
    G = nx.karate_club_graph()
    G.add_node(99)
    people, ties = _frames(G)
    table = nw.community_table(nw.tie_graph(people, ties), seed=1).set_index("id")
    assert table.loc["99", "community"] is pd.NA
    sizes = table["community"].value_counts()
    assert list(sizes.index) == sorted(sizes.index)  # 1 is the largest, then 2 ...
    assert sizes.is_monotonic_decreasing
    # same partition quality as networkx's own Louvain with the same seed
    groups = [set(int(i) for i in table.index[table["community"] == c]) for c in sizes.index]
    assert nx.community.modularity(nx.karate_club_graph(), groups) > 0.35


def test_large_map_communities_use_leiden_and_are_reproducible():
    G = nx.connected_caveman_graph(300, 8)  # 2,400 nodes in 300 obvious cliques
    people, ties = _frames(G)
    tg = nw.tie_graph(people, ties)
    first = nw.community_table(tg, seed=5)["community"]
    assert first.equals(nw.community_table(tg, seed=5)["community"])
    groups = [set(np.flatnonzero((first == c).to_numpy())) for c in first.dropna().unique()]
    reference = nx.community.louvain_communities(G, seed=5)
    assert nx.community.modularity(G, groups) >= 0.95 * nx.community.modularity(G, reference)


def test_tie_graph_ignores_duplicates_self_ties_and_unknown_ends():
    people = pd.DataFrame({"id": ["a", "b", "c"]})
    ties = pd.DataFrame({"source": ["a", "b", "a", "c", "x"], "target": ["b", "a", "a", "b", "a"]})
    tg = nw.tie_graph(people, ties)
    assert sorted(zip(tg.src.tolist(), tg.dst.tolist(), strict=True)) == [(0, 1), (1, 2)]
    with pytest.raises(ValueError, match="unique"):
        nw.tie_graph(pd.DataFrame({"id": ["a", "a"]}), ties)


def test_mixing_matrix_hand_count_and_assortativity_matches_networkx():
    # lived: a, b; professional: c, d; decision-maker e (blank experience list)
    people = pd.DataFrame({"id": list("abcde"), "group": ["L", "L", "P", "P", "D"]})
    ties = pd.DataFrame({"source": ["a", "a", "b", "c", "d", "e"], "target": ["b", "c", "c", "d", "e", "a"]})
    tg = nw.tie_graph(people, ties)
    m = nw.mixing_matrix(tg, people, by="group", order=["L", "P", "D"])
    # hand count: L-L 1 (a-b), L-P 2 (a-c, b-c), P-P 1 (c-d), P-D 1 (d-e), D-L 1 (e-a)
    assert m.to_numpy().tolist() == [[1, 2, 1], [2, 1, 1], [1, 1, 0]]
    G = nx.Graph(list(zip(ties["source"], ties["target"], strict=True)))
    nx.set_node_attributes(G, dict(zip(people["id"], people["group"], strict=True)), "group")
    assert nw.assortativity(m) == pytest.approx(nx.attribute_assortativity_coefficient(G, "group"), abs=1e-12)


def test_mixing_of_a_list_column_counts_every_pair():
    people = normalise_frame("stakeholders", pd.DataFrame({
        "id": ["a", "b", "c"], "experience": ["lived|professional", "lived", ""]}))
    ties = pd.DataFrame({"source": ["a", "b"], "target": ["b", "c"]})
    m = nw.mixing_matrix(nw.tie_graph(people, ties), people, by="experience")
    # a-b: (lived, lived) and (professional, lived); b-c: c has none listed, so nothing
    assert m.loc["Lived experience", "Lived experience"] == 1
    assert m.loc["Professional experience", "Lived experience"] == 1
    assert m.to_numpy().sum() == 3  # 1 on the diagonal + 1 twice off it
    sentence = nw.mixing_sentence(m, by="experience")
    assert "2 ties" in sentence


def test_metrics_table_has_one_row_per_stakeholder_in_order():
    people, ties = _frames(nx.florentine_families_graph())
    metrics = nw.metrics_table(_project(people, ties))
    assert metrics["id"].tolist() == people["id"].tolist()
    assert {"id", "name", "degree", "betweenness", "community", "constraint", "articulation_point",
            "bridge_ties", "betweenness_estimated", "isolated", "component"} <= set(metrics.columns)


def test_introducers_rank_by_targets_within_each_step():
    # path: t1 - a - b - t2 ; c - t1 ; d isolated. a, b, c are involved; t1, t2 affected, not involved
    people = normalise_frame("stakeholders", pd.DataFrame({
        "id": ["t1", "t2", "a", "b", "c", "d"], "name": ["T1", "T2", "A", "B", "C", "D"],
        "involvement": ["not_involved", "informed", "co_producing", "involved", "consulted", "involved"],
        "affected": [3, 2, 0, 0, 0, 0], "area": ["North", "North", "", "", "", ""],
    }))
    ties = pd.DataFrame({"source": ["t1", "a", "b", "c"], "target": ["a", "b", "t2", "t1"]})
    targets = nw.affected_not_involved(people, by="area", categories=["North"])
    assert sorted(targets["id"]) == ["t1", "t2"]
    table = nw.introducers(nw.tie_graph(people, ties), people, targets)
    rows = table.set_index("id")
    # a: t1 at 1 step, t2 at 2; b: t2 at 1, t1 at 2; c: t1 at 1, t2 at 3 (c-t1-a-b-t2 is 4; c-t1... )
    assert rows.loc["a", ["within_1", "within_2", "within_3"]].tolist() == [1, 2, 2]
    assert rows.loc["b", ["within_1", "within_2", "within_3"]].tolist() == [1, 2, 2]
    assert rows.loc["c", ["within_1", "within_2", "within_3"]].tolist() == [1, 1, 1]
    assert "d" not in rows.index
    assert table["rank"].tolist() == [1, 2, 3] and table["id"].iloc[-1] == "c"
    assert (table["group"] == "North").all()


def test_select_view_filters_and_focus():
    people = normalise_frame("stakeholders", pd.DataFrame({
        "id": list("abcde"), "name": list("ABCDE"), "kind": ["person", "person", "group", "person", "person"],
        "roles": ["carer", "", "carer|staff", "", ""]}))
    ties = pd.DataFrame({"source": ["a", "b", "c", "d"], "target": ["b", "c", "d", "e"],
                         "type": ["knows", "knows", "funds", "knows"]})
    project = _project(people, ties)
    kept, kept_ties = nw.select_view(project, kinds=["person"])
    assert kept["id"].tolist() == ["a", "b", "d", "e"] and len(kept_ties) == 2
    kept, _ = nw.select_view(project, roles=["carer"])
    assert kept["id"].tolist() == ["a", "c"]
    kept, _ = nw.select_view(project, focus="c", steps=1)
    assert kept["id"].tolist() == ["b", "c", "d"]
    kept, _ = nw.select_view(project, focus="c", steps=2, types=["knows"])
    assert kept["id"].tolist() == ["a", "b", "c"]


def test_aggregate_map_counts_groups_and_ties():
    people = pd.DataFrame({"id": list("abcd"), "area": ["N", "N", "S", "S"]})
    ties = pd.DataFrame({"source": ["a", "a", "b", "c"], "target": ["b", "c", "d", "d"]})
    tg = nw.tie_graph(people, ties)
    groups, group_ties = nw.aggregate_map(tg, people["area"])
    assert groups.set_index("group")[["count", "ties_within"]].to_dict("index") == {
        "N": {"count": 2, "ties_within": 1}, "S": {"count": 2, "ties_within": 1}}
    assert group_ties[["a", "b", "ties"]].to_numpy().tolist() == [["N", "S", 2]]


def test_power_interest_flags_the_two_groups():
    people = normalise_frame("stakeholders", pd.DataFrame({
        "id": ["x", "y", "z", "w"], "name": ["X", "Y", "Z", "W"],
        "affected": [3, 0, 2, None], "influence": [1, 5, 2, 3],
        "involvement": ["not_involved", "co_producing", "co_producing", ""]}))
    grid = nw.power_interest_table(people).set_index("id")
    assert grid["highlight"].to_dict() == {"x": nw.OVERLOOKED, "y": nw.OVERHEARD, "z": ""}


def test_ties_and_dropouts_between_cycles():
    people = normalise_frame("stakeholders", pd.DataFrame({
        "id": ["a", "b", "c"], "name": ["A", "B", "C"],
        "roles": ["resident", "officer", "resident"], "experience": ["lived", "professional", "lived"]}))
    ties = pd.DataFrame({"source": ["a", "a", "b"], "target": ["c", "b", "c"], "type": "knows",
                         "since": ["", "2026-05-01", "2025-01-01"], "until": ["", "", "2026-02-01"]})
    activities = normalise_frame("activities", pd.DataFrame({"id": ["w1", "w2"], "cycle": ["One", "Two"]}))
    participation = normalise_frame("participation", pd.DataFrame({
        "stakeholder_id": ["a", "b", "a"], "activity_id": ["w1", "w1", "w2"]}))
    project = _project(people, ties, activities=activities, participation=participation,
                       settings=ProjectSettings())
    one = {"name": "One", "start": "2026-01-01", "end": "2026-03-31"}
    two = {"name": "Two", "start": "2026-04-01", "end": "2026-06-30"}
    changes = nw.tie_changes(project, earlier=one, later=two).set_index("change")
    assert changes.loc["new", ["source", "target"]].tolist() == ["a", "b"]
    assert bool(changes.loc["new", "across_roles"]) and bool(changes.loc["new", "across_experience"])
    assert changes.loc["ended", ["source", "target"]].tolist() == ["b", "c"]
    dropouts = nw.cycle_dropouts(project, earlier="One", later="Two")
    assert dropouts["id"].tolist() == ["b"]
    text = nw.tie_changes_sentence(nw.tie_changes(project, earlier=one, later=two), dropouts,
                                   earlier="One", later="Two")
    assert "1 new ties formed (1 of them" in text and "1 people" in text


def test_overview_counts():
    G = nx.Graph([(0, 1), (1, 2), (3, 4)])
    G.add_node(5)
    people, ties = _frames(G, area=["N", "N", "S", "S", "S", "N"])
    tg = nw.tie_graph(people, ties)
    out = nw.network_overview(tg, people, by="area")
    assert (out["stakeholders"], out["ties"], out["isolated"], out["components"], out["largest_component"],
            out["bridges"], out["articulation_points"]) == (6, 3, 1, 2, 3, 3, 1)
    assert not np.isnan(out["assortativity"])
