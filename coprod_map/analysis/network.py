"""Network measures: who is connected, who brokers, who mixes with whom, and who could reach the missing.

NetworkX stays the model (``coprod_map.model.to_graph``), but the measures here run on edge arrays
and igraph, which are 10 to 1,000 times faster on big maps: stakeholder ids are factorised once into
row positions (``tie_graph``) and every measure reads that. The graph is treated as undirected and
simple (one tie per pair, whatever its type or direction) unless a measure says otherwise.
Tie ``strength`` is closeness (5 = very close); it is never used as a distance.

Every public function returns a DataFrame with one row per stakeholder (or per group), never a dict.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import chain, repeat

import igraph as ig
import networkx as nx
import numpy as np
import pandas as pd

from coprod_map.model import (
    EXPERIENCES,
    INVOLVEMENT_LEVELS,
    KINDS,
    LIST_COLUMNS,
    Project,
    split_list,
)

__all__ = [
    "BLANK",
    "EXACT_BETWEENNESS_LIMIT",
    "name_matches",
    "INVOLVED_LEVELS",
    "NOT_INVOLVED_LEVELS",
    "TieGraph",
    "active_ties",
    "affected_not_involved",
    "aggregate_map",
    "assortativity",
    "betweenness_table",
    "bridge_ties",
    "broker_table",
    "category_labels",
    "community_table",
    "component_table",
    "cycle_dropouts",
    "cycle_tie_changes",
    "cycle_ties_formed",
    "cycle_participants",
    "degree_table",
    "introducers",
    "introducers_sentence",
    "metrics_table",
    "mixing_matrix",
    "mixing_sentence",
    "network_overview",
    "ordered_labels",
    "power_interest_table",
    "select_view",
    "split_lists",
    "text_values",
    "tie_changes",
    "tie_changes_sentence",
    "tie_graph",
]

#: Above this many stakeholders betweenness is estimated from sampled sources.
EXACT_BETWEENNESS_LIMIT = 2000
#: Number of sampled sources for estimated betweenness.
BETWEENNESS_SAMPLES = 256
#: Above this many stakeholders Burt's constraint is left blank (it grows with degree squared).
CONSTRAINT_LIMIT = 20000
#: Up to this many stakeholders communities come from networkx's Louvain (seeded, thread-safe).
SMALL_COMMUNITY_LIMIT = 2000

#: How a blank category is shown.
BLANK = "(blank)"

#: Rungs of the involvement ladder that count as taking part in the work (can make introductions).
INVOLVED_LEVELS = ("consulted", "involved", "co_designing", "co_producing")
#: Rungs that count as "not involved" when looking for who is missing (being informed is not taking part).
NOT_INVOLVED_LEVELS = ("", "not_involved", "informed")

_CODED = {"kind": KINDS, "involvement": INVOLVEMENT_LEVELS, "experience": EXPERIENCES}


# --- the factorised graph ---------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class TieGraph:
    """Stakeholders as row positions ``0..n-1`` and their ties as undirected, de-duplicated pairs.

    ``ids[i]`` is the stakeholder id of position ``i``; ``src < dst`` for every tie; ``graph`` is the
    same simple undirected graph in igraph. Build it with ``tie_graph``; treat it as read-only.
    """

    ids: pd.Index
    src: np.ndarray
    dst: np.ndarray
    graph: ig.Graph

    @property
    def n(self) -> int:
        return len(self.ids)

    @property
    def degree(self) -> np.ndarray:
        return np.bincount(self.src, minlength=self.n) + np.bincount(self.dst, minlength=self.n)


def tie_graph(stakeholders: pd.DataFrame, relationships: pd.DataFrame) -> TieGraph:
    """Factorise ids once and build the undirected simple graph of ties (vectorised).

    Ties naming an unknown stakeholder and ties from someone to themselves are left out.

    >>> people = pd.DataFrame({"id": ["a", "b", "c"]})
    >>> ties = pd.DataFrame({"source": ["a", "b", "b", "a"], "target": ["b", "a", "c", "zz"]})
    >>> tg = tie_graph(people, ties)
    >>> tg.src.tolist(), tg.dst.tolist(), tg.degree.tolist()
    ([0, 1], [1, 2], [1, 2, 1])
    """
    id_values = text_values(stakeholders["id"])
    n = len(id_values)
    if len(relationships) and n:
        # one hash pass over ids and both ends: ids take codes 0..n-1, unknown ends get codes >= n
        codes, _ = pd.factorize(np.concatenate([id_values, text_values(relationships["source"]),
                                                text_values(relationships["target"])]))
        if not np.array_equal(codes[:n], np.arange(n)):
            raise ValueError("stakeholder ids must be unique")
        src, dst = codes[n:n + len(relationships)], codes[n + len(relationships):]
        ok = (src < n) & (dst < n) & (src != dst)
        low = np.minimum(src[ok], dst[ok]).astype(np.int64)
        high = np.maximum(src[ok], dst[ok]).astype(np.int64)
        pairs = pd.unique(low * n + high)
        src, dst = pairs // n, pairs % n
    else:
        src = dst = np.zeros(0, dtype=np.int64)
    graph = ig.Graph(n=n, directed=False)
    if len(src):
        graph.add_edges(np.column_stack([src, dst]))
    ids = pd.Index(id_values, dtype=object)
    return TieGraph(ids=ids, src=src, dst=dst, graph=graph)


def text_values(values: pd.Series) -> np.ndarray:
    """``values.astype(str)`` as an object array, without the copy when every value already is a ``str``
    (``astype(str)`` converts value by value: 80 ms for 500,000 ids)."""
    return values.to_numpy(dtype=object) if _is_text(values) else values.astype(str).to_numpy(dtype=object)


def _is_text(values: pd.Series) -> bool:
    """Whether ``values`` is an object column holding nothing but ``str`` (no blanks, no numbers)."""
    return values.dtype == object and pd.api.types.infer_dtype(values.to_numpy(dtype=object), skipna=False) == "string"


def split_lists(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Every cell of a list column through ``split_list``, flattened: (``rows``, ``items``) object arrays,
    one pair per listed value (row positions, not index labels), in row then list order.

    Lists and tuples are cleaned without a Python loop over them; other cells (text ``a|b``, blanks)
    go through ``split_list`` one by one.

    >>> rows, items = split_lists(pd.Series([["a", " b "], [], "c|d", None]))
    >>> rows.tolist(), items.tolist()
    ([0, 0, 2, 2], ['a', 'b', 'c', 'd'])
    """
    cells = values.to_numpy(dtype=object)
    n = len(cells)
    is_list = np.fromiter(map(isinstance, cells, repeat((list, tuple))), dtype=bool, count=n)
    if not is_list.all():
        cells = cells.copy()
        for i in np.flatnonzero(~is_list).tolist():
            cells[i] = split_list(cells[i])
    lengths = np.fromiter(map(len, cells), dtype=np.int64, count=n)
    rows = np.repeat(np.arange(n, dtype=np.int64), lengths)
    items = np.empty(int(lengths.sum()), dtype=object)
    items[:] = list(map(str.strip, map(str, chain.from_iterable(cells))))
    keep = items != ""
    if not keep.all():
        rows, items = rows[keep], items[keep]
    return rows, items


def _graph(data: TieGraph | Project) -> TieGraph:
    return data if isinstance(data, TieGraph) else tie_graph(data.stakeholders, data.relationships)


def _nx_graph(tg: TieGraph) -> nx.Graph:
    G = nx.Graph()
    G.add_nodes_from(range(tg.n))
    G.add_edges_from(zip(tg.src.tolist(), tg.dst.tolist(), strict=True))
    return G


@contextmanager
def _igraph_seed(seed: int) -> Iterator[None]:
    """igraph draws from Python's ``random`` by default: give it a seeded generator for one call."""
    ig.set_random_number_generator(random.Random(seed))
    try:
        yield
    finally:
        ig.set_random_number_generator(random)


# --- measures, one row per stakeholder --------------------------------------------------------------

def degree_table(data: TieGraph | Project) -> pd.DataFrame:
    """``id``, ``degree`` (how many different stakeholders each one has a tie with) and ``isolated``.

    >>> people = pd.DataFrame({"id": ["a", "b", "c"]})
    >>> degree_table(tie_graph(people, pd.DataFrame({"source": ["a"], "target": ["b"]})))["degree"].tolist()
    [1, 1, 0]
    """
    tg = _graph(data)
    degree = tg.degree
    return pd.DataFrame({"id": tg.ids.to_numpy(), "degree": degree.astype("int64"), "isolated": degree == 0})


def betweenness_table(
    data: TieGraph | Project,
    *,
    exact_limit: int = EXACT_BETWEENNESS_LIMIT,
    samples: int = BETWEENNESS_SAMPLES,
    seed: int = 0,
) -> pd.DataFrame:
    """``id``, ``betweenness`` (0-1, share of shortest paths between others that pass through someone)
    and ``betweenness_estimated``.

    Normalised as networkx does for undirected graphs. Above ``exact_limit`` stakeholders the value is
    estimated from ``samples`` randomly chosen sources (scaled by n/k) and flagged as an estimate.
    """
    tg = _graph(data)
    n = tg.n
    estimated = n > exact_limit and samples < n
    if n < 3:
        raw = np.zeros(n)
    elif estimated:
        sources = np.sort(np.random.default_rng(seed).choice(n, size=samples, replace=False))
        raw = np.asarray(tg.graph.betweenness(directed=False, sources=sources.tolist()), dtype=float) * (n / samples)
    else:
        raw = np.asarray(tg.graph.betweenness(directed=False), dtype=float)
    scale = 2.0 / ((n - 1) * (n - 2)) if n > 2 else 1.0
    return pd.DataFrame({
        "id": tg.ids.to_numpy(),
        "betweenness": raw * scale,
        "betweenness_estimated": np.full(n, estimated),
    })


def community_table(data: TieGraph | Project, *, seed: int = 0) -> pd.DataFrame:
    """``id`` and ``community``: 1 is the largest community, 2 the next ...; blank for isolated stakeholders.

    Small maps use networkx's Louvain method (seeded); larger ones igraph's Leiden method optimising
    modularity, which is about ten times faster at 100,000 stakeholders.
    """
    tg = _graph(data)
    membership = np.full(tg.n, -1, dtype=np.int64)
    if len(tg.src):
        if tg.n <= SMALL_COMMUNITY_LIMIT:
            for i, members in enumerate(nx.community.louvain_communities(_nx_graph(tg), seed=seed)):
                membership[list(members)] = i
        else:
            with _igraph_seed(seed):
                membership = np.asarray(
                    tg.graph.community_leiden(objective_function="modularity", n_iterations=1).membership
                )
    membership[tg.degree == 0] = -1
    return pd.DataFrame({"id": tg.ids.to_numpy(), "community": _rank_labels(membership)})


def component_table(data: TieGraph | Project) -> pd.DataFrame:
    """``id``, ``component`` (1 = the largest connected part of the map) and ``component_size``."""
    tg = _graph(data)
    membership = np.asarray(tg.graph.connected_components().membership, dtype=np.int64)
    ranked = _rank_labels(membership)
    sizes = np.bincount(membership, minlength=membership.max() + 1 if len(membership) else 0)
    return pd.DataFrame({
        "id": tg.ids.to_numpy(),
        "component": ranked,
        "component_size": pd.array(sizes[membership] if len(membership) else [], dtype="Int64"),
    })


def _rank_labels(membership: np.ndarray) -> pd.Series:
    """Renumber groups 1, 2, ... by size (largest first, ties by first appearance); -1 becomes blank."""
    out = pd.array(np.zeros(len(membership), dtype=np.int64), dtype="Int64")
    valid = membership >= 0
    if not valid.any():
        return pd.Series(pd.array([pd.NA] * len(membership), dtype="Int64"))
    groups, first, counts = np.unique(membership[valid], return_index=True, return_counts=True)
    order = np.lexsort((first, -counts))
    rank = np.empty(len(groups), dtype=np.int64)
    rank[order] = np.arange(1, len(groups) + 1)
    values = np.zeros(len(membership), dtype=np.int64)
    values[valid] = rank[np.searchsorted(groups, membership[valid])]
    out = pd.array(values, dtype="Int64")
    out[~valid] = pd.NA
    return pd.Series(out)


def bridge_ties(data: TieGraph | Project) -> pd.DataFrame:
    """Ties whose loss would split the map (``source``, ``target`` ids): they are the only link between two parts."""
    tg = _graph(data)
    edges = np.asarray(tg.graph.bridges(), dtype=np.int64)
    return pd.DataFrame({"source": tg.ids.to_numpy()[tg.src[edges]], "target": tg.ids.to_numpy()[tg.dst[edges]]})


def broker_table(
    data: TieGraph | Project,
    *,
    exact_limit: int = EXACT_BETWEENNESS_LIMIT,
    samples: int = BETWEENNESS_SAMPLES,
    seed: int = 0,
    betweenness: bool = True,
) -> pd.DataFrame:
    """Who connects otherwise separate parts of the map.

    Columns: ``id``, ``betweenness``, ``betweenness_estimated``, ``constraint`` (Burt's: low means
    someone's contacts are not tied to each other, so they broker between them; blank for isolated
    stakeholders and on very large maps), ``articulation_point`` (removing them splits the map) and
    ``bridge_ties`` (how many of their ties are the only link between two parts).
    """
    tg = _graph(data)
    if betweenness:
        out = betweenness_table(tg, exact_limit=exact_limit, samples=samples, seed=seed)
    else:  # not worked out (seconds at 100,000 stakeholders): blank, and not flagged as an estimate
        out = pd.DataFrame({"id": tg.ids.to_numpy(), "betweenness": pd.array(np.full(tg.n, np.nan), dtype="Float64"),
                            "betweenness_estimated": np.zeros(tg.n, dtype=bool)})
    constraint = np.full(tg.n, np.nan)
    if tg.n <= CONSTRAINT_LIMIT and len(tg.src):
        constraint = np.asarray(tg.graph.constraint(), dtype=float)
    constraint[tg.degree == 0] = np.nan
    out["constraint"] = pd.array(constraint, dtype="Float64")
    articulation = np.zeros(tg.n, dtype=bool)
    articulation[np.asarray(tg.graph.articulation_points(), dtype=np.int64)] = True
    out["articulation_point"] = articulation
    bridges = np.asarray(tg.graph.bridges(), dtype=np.int64)
    out["bridge_ties"] = (np.bincount(tg.src[bridges], minlength=tg.n) + np.bincount(tg.dst[bridges], minlength=tg.n))
    return out


def metrics_table(project: Project, *, seed: int = 0, betweenness: bool = True, communities: bool = True,
                  tg: TieGraph | None = None) -> pd.DataFrame:
    """Every measure, one row per stakeholder, in stakeholder order: what the CLI ``metrics`` writes.

    Columns: ``id``, ``name``, ``degree``, ``betweenness``, ``betweenness_estimated``, ``community``,
    ``constraint``, ``articulation_point``, ``bridge_ties``, ``isolated``, ``component``.
    ``betweenness=False`` leaves brokerage blank (the slow measure on big maps: about 10 s at 100,000);
    ``communities=False`` leaves ``community`` blank (about 1 s at 100,000);
    ``tg``: the project's working graph when the caller already has it.
    """
    tg = tie_graph(project.stakeholders, project.relationships) if tg is None else tg
    degree = degree_table(tg)
    brokers = broker_table(tg, seed=seed, betweenness=betweenness)
    community = community_table(tg, seed=seed)["community"].array if communities else \
        pd.array([pd.NA] * tg.n, dtype="Int64")
    out = pd.DataFrame({
        "id": tg.ids.to_numpy(),
        "name": text_values(project.stakeholders["name"]),
        "degree": degree["degree"].to_numpy(),
        "betweenness": brokers["betweenness"].to_numpy(),
        "betweenness_estimated": brokers["betweenness_estimated"].to_numpy(),
        "community": community,
        "constraint": brokers["constraint"].array,
        "articulation_point": brokers["articulation_point"].to_numpy(),
        "bridge_ties": brokers["bridge_ties"].to_numpy(),
        "isolated": degree["isolated"].to_numpy(),
        "component": component_table(tg)["component"].array,
    })
    return out


# --- categories and mixing --------------------------------------------------------------------------

def category_labels(stakeholders: pd.DataFrame, by: str, *, order: Iterable[str] = ()) -> pd.DataFrame:
    """Each stakeholder's categories for ``by`` as (``row``, ``category``) pairs, plus the category order.

    Single-valued columns give one pair per stakeholder; list columns (roles, experience, speaks_for)
    give one pair per listed value, and none for an empty list. Coded columns (kind, involvement,
    experience) use the words users see; a blank becomes ``"(blank)"``. The result's ``category`` is an
    ordered Categorical: ``order`` first, then the coded order, then the rest alphabetically.
    """
    values = stakeholders[by]
    coded = _CODED.get(by)
    if by in LIST_COLUMNS:
        rows, cats = split_lists(values)
    else:
        rows = np.arange(len(values))
        cats = values.to_numpy(dtype=object) if _is_text(values) else \
            values.astype(str).fillna("").to_numpy(dtype=object)
        cats = np.where(cats == "", BLANK, cats)
    # hash the values once; the words, the order and the Categorical work on the distinct values only
    codes, uniques = pd.factorize(cats)
    labels = np.asarray(uniques, dtype=object)
    codes_order = list(coded) if coded else []
    if coded:
        labels = np.array([coded.get(u, u) for u in labels.tolist()], dtype=object)
        codes_order = [coded[c] for c in codes_order]
    merged, present = pd.factorize(labels)  # two codes can share a word ("lived" and "Lived experience")
    present = list(present)
    wanted = [c for c in [*order, *codes_order] if c in set(present)]
    rest = sorted(set(present) - set(wanted), key=lambda c: (c == BLANK, c.lower()))
    categories = list(dict.fromkeys([*wanted, *rest]))
    position = pd.Index(categories, dtype=object).get_indexer(present)
    final = position[merged][codes] if len(codes) else np.zeros(0, dtype=np.int64)
    return pd.DataFrame({"row": rows.astype(np.int64),
                         "category": pd.Categorical.from_codes(final, categories=categories)})


def ordered_labels(labels: pd.DataFrame, order: Iterable[str] = ()) -> pd.DataFrame:
    """``category_labels(stakeholders, by)``'s result as ``category_labels(stakeholders, by, order=order)``
    gives it: the categories in ``order`` that are present move to the front.

    >>> people = pd.DataFrame({"area": ["N", "S", ""]})
    >>> ordered_labels(category_labels(people, "area"), ["S", "W"])["category"].cat.categories.tolist()
    ['S', 'N', '(blank)']
    """
    categories = list(labels["category"].cat.categories)
    present = set(categories)
    first = list(dict.fromkeys(c for c in order if c in present))
    if not first:
        return labels
    moved = [*first, *[c for c in categories if c not in set(first)]]
    return labels.assign(category=labels["category"].cat.reorder_categories(moved))


def mixing_matrix(
    data: TieGraph | Project, stakeholders: pd.DataFrame, *, by: str, order: Iterable[str] = (),
    labels: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Ties between categories of ``by``: a square, symmetric table of counts.

    Off the diagonal, cell (a, b) counts ties with one end in a and the other in b (so each such tie
    appears in (a, b) and in (b, a)); on the diagonal, ties with both ends in a. For list columns such as
    ``experience`` a tie counts once for every pair of categories its two ends hold.

    >>> people = pd.DataFrame({"id": ["a", "b", "c", "d"], "area": ["N", "N", "S", ""]})
    >>> ties = pd.DataFrame({"source": ["a", "a", "c"], "target": ["b", "c", "d"]})
    >>> mixing_matrix(tie_graph(people, ties), people, by="area").to_numpy().tolist()
    [[1, 1, 0], [1, 0, 1], [0, 1, 0]]

    ``labels``: ``category_labels(stakeholders, by)`` when the caller already has it (``order`` is applied to it).
    """
    tg = _graph(data)
    pairs = category_labels(stakeholders, by, order=order) if labels is None else ordered_labels(labels, order)
    cats = pairs["category"].cat.categories
    k = len(cats)
    codes = pairs["category"].cat.codes.to_numpy().astype(np.int64)
    rows = pairs["row"].to_numpy()
    if len(rows) == tg.n and np.array_equal(rows, np.arange(tg.n)):
        cu, cv = codes[tg.src], codes[tg.dst]
    else:  # list column: every pair of categories across each tie, as (stakeholder x category) sparse products
        cu = cv = None
    if cu is not None:
        counts = np.bincount(cu * k + cv, minlength=k * k).reshape(k, k) if k else np.zeros((0, 0), dtype=np.int64)
    else:
        from scipy import sparse

        held = sparse.csr_matrix((np.ones(len(rows), dtype=np.int64), (rows, codes)), shape=(tg.n, k))
        ties = sparse.csr_matrix((np.ones(len(tg.src), dtype=np.int64), (tg.src, tg.dst)), shape=(tg.n, tg.n))
        counts = np.asarray((held.T @ (ties @ held)).todense(), dtype=np.int64).reshape(k, k)
    matrix = counts + counts.T - np.diag(np.diag(counts))
    labels = [str(c) for c in cats]
    return pd.DataFrame(matrix.astype(np.int64), index=pd.Index(labels, name=by), columns=labels)


def assortativity(matrix: pd.DataFrame) -> float:
    """Newman's assortativity from a mixing matrix: 1 = ties only within categories, 0 = as if at random,
    negative = ties mostly between different categories. NaN when it is undefined (one category)."""
    m = matrix.to_numpy(dtype=float)
    both_ways = m + np.diag(np.diag(m))  # each tie counted from both ends
    total = both_ways.sum()
    if total == 0:
        return float("nan")
    e = both_ways / total
    a = e.sum(axis=1)
    expected = float((a * a).sum())
    if np.isclose(expected, 1.0):
        return float("nan")
    return float((np.trace(e) - expected) / (1 - expected))


def mixing_sentence(matrix: pd.DataFrame, *, by: str) -> str:
    """Plain words on whether ties stay within the same category, then the figures behind them.

    The words come first ("People mostly link with others of the same experience"); Newman's assortativity
    follows for analysts. A strong tendency is 0.3 or more either way, a slight one over 0.05.

    >>> m = pd.DataFrame([[8, 1], [1, 8]], index=["a", "b"], columns=["a", "b"])
    >>> mixing_sentence(m, by="area").split(".")[0]
    'People mostly link with others of the same area'
    """
    m = matrix.to_numpy(dtype=float)
    total = np.triu(m).sum()
    if total == 0:
        return f"There are no ties between stakeholders with a recorded {by} to compare."
    within = np.trace(m) / total
    both_ways = m + np.diag(np.diag(m))
    a = both_ways.sum(axis=1) / both_ways.sum()
    expected = float((a * a).sum())
    r = assortativity(matrix)
    lead = (
        f"People link with others of the same {by} about as often as chance would." if np.isnan(r) or abs(r) <= 0.05
        else f"People mostly link with others of the same {by}." if r >= 0.3
        else f"People link with others of the same {by} a little more often than chance would." if r > 0
        else f"People mostly link with others of a different {by}." if r <= -0.3
        else f"People link with others of a different {by} a little more often than chance would."
    )
    figures = (
        f" {within:.0%} of {int(total):,} ties link stakeholders with the same {by}; if ties formed at random "
        f"it would be about {expected:.0%}."
    )
    if np.isnan(r):
        return figures.strip()  # one category only: there is no mixing to describe
    return (f"{lead}{figures} For analysts: assortativity {r:.2f} (1: ties only within the same {by}; "
            "0: as if at random; below 0: mostly across).")


# --- the page's metric set ---------------------------------------------------------------------------

def network_overview(tg: TieGraph, stakeholders: pd.DataFrame, *, by: str) -> dict[str, object]:
    """The headline figures the Relationships page shows: cheap even at 100,000 stakeholders.

    Keys: ``stakeholders``, ``ties``, ``isolated``, ``components``, ``largest_component``,
    ``bridges``, ``articulation_points``, ``mixing`` (DataFrame), ``assortativity``.
    """
    degree = tg.degree
    components = np.asarray(tg.graph.connected_components().membership)
    sizes = np.bincount(components) if len(components) else np.zeros(0, dtype=np.int64)
    mixing = mixing_matrix(tg, stakeholders, by=by)
    return {
        "stakeholders": tg.n,
        "ties": len(tg.src),
        "isolated": int((degree == 0).sum()),
        "components": int((sizes > 1).sum()),
        "largest_component": int(sizes.max()) if len(sizes) else 0,
        "bridges": len(tg.graph.bridges()),
        "articulation_points": len(tg.graph.articulation_points()),
        "mixing": mixing,
        "assortativity": assortativity(mixing),
    }


# --- reach the missing -------------------------------------------------------------------------------

def affected_not_involved(stakeholders: pd.DataFrame, *, by: str | None = None,
                          categories: Iterable[str] = ()) -> pd.DataFrame:
    """Stakeholders who are affected (``affected`` 1 or more) but not taking part, optionally only those
    in ``categories`` of ``by``. Columns ``id`` and ``group`` (the category, or ``""``)."""
    affected = stakeholders["affected"].astype("Float64").fillna(0).to_numpy(dtype=float) > 0
    not_involved = stakeholders["involvement"].astype(str).isin(NOT_INVOLVED_LEVELS).to_numpy()
    mask = affected & not_involved
    if by is None:
        return pd.DataFrame({"id": stakeholders["id"].to_numpy()[mask].astype(object), "group": ""})
    wanted = set(categories)
    pairs = category_labels(stakeholders, by)
    pairs = pairs[mask[pairs["row"].to_numpy()] & pairs["category"].astype(str).isin(wanted).to_numpy()]
    return pd.DataFrame({
        "id": stakeholders["id"].to_numpy()[pairs["row"].to_numpy()].astype(object),
        "group": pairs["category"].astype(str).to_numpy(dtype=object),
    }).reset_index(drop=True)


def introducers(
    data: TieGraph | Project,
    stakeholders: pd.DataFrame,
    targets: pd.DataFrame,
    *,
    max_steps: int = 3,
    involved_levels: Iterable[str] = INVOLVED_LEVELS,
) -> pd.DataFrame:
    """The involved people closest to the stakeholders the work is missing, ranked per group.

    ``targets`` holds the affected-but-not-involved stakeholders' ``id`` and optionally a ``group``
    (for example the under-represented category they belong to). For each group and each involved
    person within ``max_steps`` of at least one target: ``within_1`` ... ``within_<max_steps>`` (how
    many targets they reach in at most that many steps) and ``nearest`` (steps to the closest target).
    Ranked by ``within_1``, then ``within_2`` ...; ``rank`` restarts at 1 in each group.
    """
    tg = _graph(data)
    steps = range(1, max_steps + 1)
    columns = ["group", "rank", "id", "name", *[f"within_{s}" for s in steps], "nearest"]
    involved = stakeholders["involvement"].astype(str).isin(tuple(involved_levels)).to_numpy()
    if targets.empty or not involved.any():
        return pd.DataFrame(columns=columns)
    groups = targets["group"].astype(str) if "group" in targets else pd.Series([""] * len(targets))
    target_rows = tg.ids.get_indexer(targets["id"].astype(str).to_numpy(dtype=object))
    found = target_rows >= 0
    target_rows, groups = target_rows[found], groups.to_numpy(dtype=object)[found]
    unique_targets, inverse = np.unique(target_rows, return_inverse=True)
    hits = []
    for s in steps:
        rings = tg.graph.neighborhood(unique_targets.tolist(), order=s, mindist=s)
        lengths = np.fromiter((len(r) for r in rings), dtype=np.int64, count=len(rings))
        people = np.fromiter((v for r in rings for v in r), dtype=np.int64, count=int(lengths.sum()))
        owner = np.repeat(np.arange(len(unique_targets)), lengths)
        hits.append(pd.DataFrame({"target": owner, "person": people, "steps": s}))
    reach = pd.concat(hits, ignore_index=True)
    reach = reach[involved[reach["person"].to_numpy()]]
    # a target listed in several groups counts in each of them
    membership = pd.DataFrame({"target": inverse, "group": groups}).drop_duplicates()
    reach = reach.merge(membership, on="target")
    if reach.empty:
        return pd.DataFrame(columns=columns)
    table = pd.crosstab([reach["group"], reach["person"]], reach["steps"]).reindex(columns=list(steps), fill_value=0)
    cumulative = table.cumsum(axis=1)
    cumulative.columns = [f"within_{s}" for s in steps]
    nearest = reach.groupby(["group", "person"])["steps"].min()
    out = cumulative.assign(nearest=nearest).reset_index()
    out["id"] = tg.ids.to_numpy()[out["person"].to_numpy()]
    names = stakeholders["name"].astype(str).to_numpy(dtype=object)
    out["name"] = names[out["person"].to_numpy()]
    out = out.sort_values(["group", *[f"within_{s}" for s in steps], "name"],
                          ascending=[True, *[False] * max_steps, True], kind="stable")
    out["rank"] = out.groupby("group").cumcount() + 1
    return out[columns].reset_index(drop=True)


# --- power and interest ------------------------------------------------------------------------------

#: The two groups the power and interest grid points out.
OVERLOOKED = "Highly affected, little power, not involved"
OVERHEARD = "Much power, little affected, heavily involved"


def power_interest_table(stakeholders: pd.DataFrame) -> pd.DataFrame:
    """Stakeholders with both an ``affected`` (0-3) and an ``influence`` (0-5) score, flagged.

    ``highlight`` is ``OVERLOOKED`` for affected 2-3, influence 0-2 and not taking part (blank,
    not involved or only informed); ``OVERHEARD`` for influence 4-5, affected 0-1 and co-designing or
    co-producing; otherwise ``""``. Columns: ``row`` (position in ``stakeholders``), ``id``, ``name``,
    ``kind``, ``involvement``, ``affected``, ``influence``, ``highlight``.
    """
    affected = stakeholders["affected"].astype("Float64")
    influence = stakeholders["influence"].astype("Float64")
    placed = (affected.notna() & influence.notna()).to_numpy(dtype=bool)
    out = pd.DataFrame({
        "row": np.flatnonzero(placed),
        "id": stakeholders["id"].to_numpy()[placed],
        "name": stakeholders["name"].to_numpy()[placed],
        "kind": text_values(stakeholders["kind"])[placed],
        "involvement": text_values(stakeholders["involvement"])[placed],
        "affected": affected.to_numpy(dtype=float, na_value=np.nan)[placed].astype(int),
        "influence": influence.to_numpy(dtype=float, na_value=np.nan)[placed].astype(int),
    })
    overlooked = (out["affected"] >= 2) & (out["influence"] <= 2) & out["involvement"].isin(NOT_INVOLVED_LEVELS)
    overheard = (out["influence"] >= 4) & (out["affected"] <= 1) & out["involvement"].isin(
        ("co_designing", "co_producing"))
    out["highlight"] = np.where(overlooked, OVERLOOKED, np.where(overheard, OVERHEARD, ""))
    return out


# --- choosing what the network view shows ------------------------------------------------------------

def cycle_participants(project: Project, cycle: str) -> pd.Index:
    """Ids of stakeholders who took part in at least one activity of review cycle ``cycle``."""
    activities = project.activities
    ids = activities.loc[activities["cycle"].astype(str) == cycle, "id"].astype(str)
    part = project.participation
    return pd.Index(part.loc[part["activity_id"].astype(str).isin(ids), "stakeholder_id"].astype(str).unique())


def select_view(
    project: Project,
    *,
    kinds: Iterable[str] = (),
    roles: Iterable[str] = (),
    attribute: str | None = None,
    values: Iterable[str] = (),
    types: Iterable[str] = (),
    cycle: str | None = None,
    focus: str | None = None,
    steps: int = 1,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The stakeholders and relationships a filtered network view shows.

    Empty filters keep everything. ``kinds``/``roles``/``values`` keep stakeholders matching any of the
    listed values (``values`` of ``attribute``); ``types`` keeps relationship types; ``cycle`` keeps those
    who took part in that review cycle. ``focus`` (an id) keeps that stakeholder's neighbourhood within
    ``steps`` ties (through the kept relationship types); the focused stakeholder is always kept.
    Relationships are kept when both ends are.
    """
    people, ties = project.stakeholders, project.relationships
    keep = np.ones(len(people), dtype=bool)
    kinds, roles, values, types = set(kinds), set(roles), set(values), set(types)
    if kinds:
        keep &= people["kind"].astype(str).isin(kinds).to_numpy()
    if roles:
        keep &= people["roles"].map(lambda r: bool(roles.intersection(split_list(r)))).to_numpy(dtype=bool)
    if attribute and values:
        if attribute in LIST_COLUMNS:
            keep &= people[attribute].map(lambda r: bool(values.intersection(split_list(r)))).to_numpy(dtype=bool)
        else:
            column = people[attribute].astype(str)
            keep &= column.where(column != "", BLANK).isin(values).to_numpy()
    if cycle:
        keep &= people["id"].astype(str).isin(cycle_participants(project, cycle)).to_numpy()
    if types:
        ties = ties[ties["type"].astype(str).isin(types)]
    if focus is not None:
        tg = tie_graph(people, ties)
        row = tg.ids.get_indexer([str(focus)])[0]
        if row >= 0:
            near = np.zeros(len(people), dtype=bool)
            near[tg.graph.neighborhood(int(row), order=max(0, int(steps)))] = True
            keep &= near
            keep[row] = True
    kept = people[keep].reset_index(drop=True)
    kept_ids = kept["id"].astype(str).astype(object)  # object hashing: isin on str dtype goes value by value
    both = ties["source"].astype(str).astype(object).isin(kept_ids) & ties["target"].astype(str).astype(object).isin(kept_ids)
    return kept, ties[both.to_numpy()].reset_index(drop=True)


def aggregate_map(
    tg: TieGraph, groups: pd.Series | np.ndarray
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Groups as nodes: (``group``, ``count``, ``ties_within``) and ties between groups (``a``, ``b``, ``ties``).

    ``groups`` gives each stakeholder's group in ``tg`` row order (any hashable; missing values form
    the group ``"(blank)"``).
    """
    labels = pd.Series(np.asarray(groups, dtype=object)).where(pd.notna(pd.Series(np.asarray(groups, dtype=object))),
                                                               BLANK).astype(str)
    codes, uniques = pd.factorize(labels, sort=False)
    k = len(uniques)
    counts = np.bincount(codes, minlength=k)
    cu, cv = codes[tg.src], codes[tg.dst]
    low, high = np.minimum(cu, cv), np.maximum(cu, cv)
    pair_counts = np.bincount(low.astype(np.int64) * k + high, minlength=k * k).reshape(k, k) if k else \
        np.zeros((0, 0), dtype=np.int64)
    nodes = pd.DataFrame({"group": list(uniques), "count": counts, "ties_within": np.diag(pair_counts)})
    a, b = np.nonzero(np.triu(pair_counts, k=1))
    edges = pd.DataFrame({"a": np.asarray(uniques, dtype=object)[a], "b": np.asarray(uniques, dtype=object)[b],
                          "ties": pair_counts[a, b]})
    return nodes.sort_values(["count", "group"], ascending=[False, True], ignore_index=True), \
        edges.sort_values("ties", ascending=False, ignore_index=True)


# --- networks that last --------------------------------------------------------------------------------

def active_ties(relationships: pd.DataFrame, *, start: str, end: str) -> pd.DataFrame:
    """Relationships active at some point between ``start`` and ``end`` (ISO dates; blank = open-ended).

    A tie is active when it began (``since``) on or before ``end`` and had not ended (``until``) before
    ``start``; a blank ``since`` or ``until`` counts as "always was" / "still is".
    """
    since = relationships["since"].astype(str)
    until = relationships["until"].astype(str)
    began = (since == "") | (end == "") | (since <= end)
    not_ended = (until == "") | (start == "") | (until >= start)
    return relationships[(began & not_ended).to_numpy()]


class _TieHistory:
    """A project's ties on integer codes, worked out once and shared by every pair of cycles compared.

    Stakeholder ids and both ends of every tie are factorised together (stakeholders first, so a
    stakeholder's code is its row); a tie's pair (either direction) and its ordered ends become one
    integer each; roles and experience become (row, item) codes. Which ties were active in a cycle is
    kept per distinct (start, end).
    """

    def __init__(self, project: Project) -> None:
        ties, people = project.relationships, project.stakeholders
        self.ties = ties
        self.source, self.target = text_values(ties["source"]), text_values(ties["target"])
        ids = text_values(people["id"])
        n, m = len(ids), len(ties)
        codes, uniques = pd.factorize(np.concatenate([ids, self.source, self.target]), use_na_sentinel=False)
        k = max(len(uniques), 1)
        # the stakeholder row of each code (the first row holding that id); -1 for ids not on the map
        self.row_of = np.full(k, n, dtype=np.int64)
        np.minimum.at(self.row_of, codes[:n], np.arange(n, dtype=np.int64))
        self.row_of[self.row_of == n] = -1
        src, dst = codes[n:n + m].astype(np.int64), codes[n + m:].astype(np.int64)
        self.pair, pairs = pd.factorize(np.minimum(src, dst) * k + np.maximum(src, dst))
        self.n_pairs = len(pairs)
        self.ordered, ordered = pd.factorize(src * k + dst)
        self.n_ordered = len(ordered)
        self.src_row, self.dst_row = self.row_of[src], self.row_of[dst]
        self.since, self.until = _DateColumn(ties["since"]), _DateColumn(ties["until"])
        self.names = text_values(people["name"]) if n else np.zeros(0, dtype=object)
        self.held = {column: _held(people[column]) for column in ("roles", "experience")}
        self._active: dict[tuple[str, str], np.ndarray] = {}

    def active(self, cycle: dict[str, str]) -> np.ndarray:
        """Whether each tie was active in ``cycle`` (as ``active_ties`` decides)."""
        key = (cycle.get("start", ""), cycle.get("end", ""))
        if key not in self._active:
            start, end = key
            began = self.since.blank | (end == "") | self.since.at_most(end)
            not_ended = self.until.blank | (start == "") | self.until.at_least(start)
            self._active[key] = np.asarray(began & not_ended, dtype=bool)
        return self._active[key]

    def _only_in(self, mask: np.ndarray, other: np.ndarray) -> np.ndarray:
        """Positions of ties in ``mask`` whose pair is in no tie of ``other``, first of each (source, target)."""
        seen = np.zeros(self.n_pairs, dtype=bool)
        seen[self.pair[other]] = True
        rows = np.flatnonzero(mask & ~seen[self.pair])
        first = np.full(self.n_ordered, len(mask), dtype=np.int64)
        np.minimum.at(first, self.ordered[rows], rows)  # each (source, target)'s first row
        return rows[first[self.ordered[rows]] == rows]

    def formed(self, earlier: dict[str, str], later: dict[str, str]) -> tuple[int, int]:
        """How many ties are new in ``later`` and how many of those link different roles or experience."""
        new = self._only_in(self.active(later), self.active(earlier))
        u, v = self.src_row[new], self.dst_row[new]
        across = _share_nothing(self.held["roles"], u, v) | _share_nothing(self.held["experience"], u, v)
        return len(new), int(across.sum())

    def changes(self, earlier: dict[str, str], later: dict[str, str]) -> pd.DataFrame:
        before, after = self.active(earlier), self.active(later)
        new, ended = self._only_in(after, before), self._only_in(before, after)
        rows = np.concatenate([new, ended])
        change = np.empty(len(rows), dtype=object)
        change[:len(new)], change[len(new):] = "new", "ended"
        u, v = self.src_row[rows], self.dst_row[rows]
        return pd.DataFrame({
            "change": change,
            "source": self.source[rows],
            "source_name": _names_at(self.names, u),
            "target": self.target[rows],
            "target_name": _names_at(self.names, v),
            "type": text_values(self.ties["type"].iloc[rows]) if len(rows) else np.zeros(0, dtype=object),
            "across_roles": _share_nothing(self.held["roles"], u, v),
            "across_experience": _share_nothing(self.held["experience"], u, v),
        })


class _DateColumn:
    """A text column compared with ISO dates as ``active_ties`` compares it (``column.astype(str)`` against
    ``str``), on integer ranks: the distinct values are sorted once, each comparison is then one integer
    comparison per row instead of one string comparison."""

    def __init__(self, values: pd.Series) -> None:
        if _is_text(values):
            self.ranks, uniques = pd.factorize(text_values(values), sort=True)
            self.sorted = np.asarray(uniques, dtype=object)
            self.text = None
            self.blank = self.ranks == (0 if len(self.sorted) and self.sorted[0] == "" else -1)
        else:  # blanks, numbers or pandas' text dtype: compare as text, as active_ties does
            self.text = values.astype(str)
            self.blank = np.asarray(self.text == "", dtype=bool)

    def at_most(self, bound: str) -> np.ndarray:
        if self.text is not None:
            return np.asarray(self.text <= bound, dtype=bool)
        return self.ranks < np.searchsorted(self.sorted, bound, side="right")

    def at_least(self, bound: str) -> np.ndarray:
        if self.text is not None:
            return np.asarray(self.text >= bound, dtype=bool)
        return self.ranks >= np.searchsorted(self.sorted, bound, side="left")


_Held = tuple[np.ndarray, np.ndarray, np.ndarray, int]
_BITMAP_LIMIT = 50_000_000  # (stakeholder, item) pairs: above this, look pairs up in a sorted array instead


def _held(values: pd.Series) -> _Held:
    """A list column as (``start``, ``items``, ``member``, ``width``): row ``r`` holds the item codes
    ``items[start[r]:start[r + 1]]``; ``member`` marks every ``row * width + item`` held (a boolean array, or
    the sorted keys when that would be too big)."""
    rows, items = split_lists(values)
    codes, uniques = pd.factorize(items)
    codes = codes.astype(np.int64)
    width = max(len(uniques), 1)
    start = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=len(values)))]).astype(np.int64)
    keys = rows * width + codes
    if len(values) * width <= _BITMAP_LIMIT:
        member = np.zeros(len(values) * width, dtype=bool)
        member[keys] = True
    else:
        member = np.unique(keys)
    return start, codes, member, width


def _names_at(names: np.ndarray, rows: np.ndarray) -> np.ndarray:
    out = np.full(len(rows), "", dtype=object)
    known = rows >= 0
    out[known] = names[rows[known]]
    return out


def _share_nothing(held: _Held, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """For each pair of stakeholder rows: both hold at least one item and they hold none in common
    (false when either end is not on the map)."""
    start, items, member, width = held
    known = (u >= 0) & (v >= 0)
    count = np.zeros(len(u), dtype=np.int64)
    count[known] = start[u[known] + 1] - start[u[known]]
    has_v = np.zeros(len(v), dtype=bool)
    has_v[known] = start[v[known] + 1] > start[v[known]]
    # every item of u, checked against v's items
    pair = np.repeat(np.arange(len(u)), count)
    offset = np.arange(len(pair)) - np.repeat(np.cumsum(count) - count, count)
    item = items[np.repeat(np.where(known, start[np.maximum(u, 0)], 0), count) + offset]
    keys = v[pair] * width + item
    shared = member[keys] if member.dtype == bool else np.isin(keys, member)
    common = np.bincount(pair[shared], minlength=len(u)) > 0
    return (count > 0) & has_v & ~common


def cycle_tie_changes(project: Project, pairs: Iterable[tuple[dict[str, str], dict[str, str]]]) -> list[pd.DataFrame]:
    """``tie_changes`` for each (``earlier``, ``later``) pair of cycles, sharing the work on the ties between them
    (factorised ids, pair codes, roles and experience, and each cycle's active ties, worked out once)."""
    pairs = list(pairs)
    if not pairs:
        return []
    history = _TieHistory(project)
    return [history.changes(earlier, later) for earlier, later in pairs]


def cycle_ties_formed(
    project: Project, pairs: Iterable[tuple[dict[str, str], dict[str, str]]]
) -> list[tuple[int, int]]:
    """For each (``earlier``, ``later``) pair of cycles: how many ``"new"`` rows ``tie_changes`` gives, and how
    many of them are ``across_roles`` or ``across_experience`` (the counts without building the table)."""
    pairs = list(pairs)
    if not pairs:
        return []
    history = _TieHistory(project)
    return [history.formed(earlier, later) for earlier, later in pairs]


def tie_changes(project: Project, *, earlier: dict[str, str], later: dict[str, str]) -> pd.DataFrame:
    """Ties active in the ``later`` cycle but not the ``earlier`` one (``change="new"``) and the reverse
    (``change="ended"``), comparing pairs of stakeholders whatever the tie type.

    ``earlier``/``later`` are cycles as in ``project.settings.cycles`` (``name``, ``start``, ``end``).
    ``across_roles`` is true when the two ends share no role, ``across_experience`` when they share no
    kind of experience (both false when either end has none recorded or is not on the map). Columns:
    ``change``, ``source``, ``source_name``, ``target``, ``target_name``, ``type``, ``across_roles``,
    ``across_experience``. New ties come first, each kind in the order of the relationships table, one row
    per (source, target). Worked on integer codes (see ``_TieHistory``): a few tenths of a second at 500,000 ties.
    """
    return cycle_tie_changes(project, [(earlier, later)])[0]


def cycle_dropouts(project: Project, *, earlier: str, later: str) -> pd.DataFrame:
    """People who took part in cycle ``earlier`` but in nothing in cycle ``later`` (``id``, ``name``, ``kind``)."""
    before = cycle_participants(project, earlier)
    after = cycle_participants(project, later)
    gone = before.difference(after)
    people = project.stakeholders
    out = people[people["id"].astype(str).astype(object).isin(gone)][["id", "name", "kind"]]
    return out.reset_index(drop=True)


def tie_changes_sentence(changes: pd.DataFrame, dropouts: pd.DataFrame, *, earlier: str, later: str) -> str:
    """One plain paragraph on what changed between two review cycles."""
    new = changes[changes["change"] == "new"]
    ended = int((changes["change"] == "ended").sum())
    across = int((new["across_roles"] | new["across_experience"]).sum())
    return (
        f"Between {earlier} and {later}, {len(new)} new ties formed"
        f" ({across} of them between people with different roles or kinds of experience),"
        f" {ended} ties ended, and {len(dropouts)} people who took part in {earlier}"
        f" took part in nothing in {later}."
    )


def introducers_sentence(table: pd.DataFrame, targets: pd.DataFrame, *, max_steps: int = 3) -> str:
    """One plain sentence on how many missing stakeholders the involved people can reach."""
    if targets.empty:
        return "No affected stakeholders outside the work were found in the chosen groups."
    if table.empty:
        return (f"{len(targets):,} affected stakeholders are not taking part, and no one involved in the work is "
                f"within {max_steps} steps of any of them on the map.")
    return (
        f"{targets['id'].nunique():,} affected stakeholders in the chosen groups are not taking part. "
        f"{table['id'].nunique():,} involved people are within {max_steps} steps of at least one of them; "
        "the table ranks them by how many they know directly, then within more steps."
    )


def name_matches(names: dict[str, str], query: str, *, limit: int = 50) -> list[str]:
    """Ids whose name holds ``query`` (any case): names starting with it first, then A to Z; none for a blank query.

    >>> name_matches({"a": "Amira Khan", "b": "Sam Amis", "c": "Bo"}, "am")
    ['a', 'b']
    """
    query = query.strip().casefold()
    if not query:
        return []
    text = pd.Series(list(names.values()), index=list(names.keys()), dtype=object).astype(str)
    folded = text.str.casefold()
    found = folded[folded.str.contains(query, regex=False)]
    order = pd.DataFrame({"later": ~found.str.startswith(query), "name": found}).sort_values(["later", "name"])
    return order.index[:limit].tolist()
