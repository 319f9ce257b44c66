"""Cached network analysis for the Relationships page, keyed on ``(project_id, revision, options)``.

Graph objects live in ``cache_resource`` (shared, never copied: 40 times faster than pickling them
through ``cache_data`` at 100,000 stakeholders); tables and HTML are small enough for either.
Cached values are shared between sessions: never mutate them.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from coprod_map.analysis import network as nw
from coprod_map.model import INVOLVEMENT_LEVELS, KINDS
from coprod_map.ui.cache import load_project
from coprod_map.viz import network_charts as charts
from coprod_map.viz.network_html import NetworkView, network_view


@st.cache_resource(max_entries=8, show_spinner=False)
def tie_graph_for(project_id: str, revision: int) -> nw.TieGraph:
    project = load_project(project_id, revision)
    return nw.tie_graph(project.stakeholders, project.relationships)


@st.cache_resource(max_entries=16, show_spinner="Measuring brokerage across the network...")
def metrics_for(project_id: str, revision: int) -> pd.DataFrame:
    """Every measure including brokerage (betweenness: about 10 s at 100,000 stakeholders). Read-only."""
    return nw.metrics_table(load_project(project_id, revision), tg=tie_graph_for(project_id, revision))


@st.cache_resource(max_entries=16, show_spinner="Measuring the network...")
def basic_metrics_for(project_id: str, revision: int, *, communities: bool) -> pd.DataFrame:
    """Every measure but brokerage (left blank): quick on any map. ``communities=False`` leaves communities
    blank too (about 1 s at 100,000 stakeholders). Read-only.

    Always pass ``communities``: Streamlit keys the cache on the arguments as written, not on defaults."""
    tg = tie_graph_for(project_id, revision)
    if not communities:
        return nw.metrics_table(load_project(project_id, revision), tg=tg, betweenness=False, communities=False)
    # the rest of the table may be there already (a big map's first view): only the communities are new
    quick = basic_metrics_for(project_id, revision, communities=False)
    return quick.assign(community=nw.community_table(tg)["community"].array)


@st.cache_resource(max_entries=16, show_spinner=False)
def measures_table_for(project_id: str, revision: int, *, brokerage: bool, communities: bool = True) -> pd.DataFrame:
    """The Measures tab's table: stakeholder order on small maps, most connected first on big ones (whose
    table shows only the top rows). Read-only."""
    metrics = metrics_for(project_id, revision) if brokerage else \
        basic_metrics_for(project_id, revision, communities=communities)
    if len(metrics) <= 20_000:
        return metrics
    return metrics.sort_values("degree", ascending=False, kind="stable").reset_index(drop=True)


@dataclass(frozen=True)
class PageFacts:
    """What the Relationships page's widgets offer, worked out once per revision."""

    names: dict[str, str]
    roles: list[str]
    types: list[str]


@st.cache_resource(max_entries=16, show_spinner=False)
def page_facts_for(project_id: str, revision: int) -> PageFacts:
    project = load_project(project_id, revision)
    people = project.stakeholders
    types = project.relationships["type"]
    return PageFacts(
        names=dict(zip(nw.text_values(people["id"]).tolist(), nw.text_values(people["name"]).tolist(), strict=True)),
        roles=sorted(set(nw.split_lists(people["roles"])[1].tolist())),
        types=sorted(pd.unique(nw.text_values(types)).tolist()),
    )


@st.cache_resource(max_entries=32, show_spinner=False)
def labels_for(project_id: str, revision: int, by: str) -> pd.DataFrame:
    """``category_labels(stakeholders, by)``, shared by the filters, the mixing table and reach. Read-only."""
    return nw.category_labels(load_project(project_id, revision).stakeholders, by)


@st.cache_resource(max_entries=32, show_spinner=False)
def categories_for(project_id: str, revision: int, by: str) -> list[str]:
    return labels_for(project_id, revision, by)["category"].cat.categories.tolist()


@dataclass(frozen=True)
class PowerView:
    grid: pd.DataFrame  # power_interest_table
    figure: go.Figure
    table: pd.DataFrame  # what the chart's table shows: one row per stakeholder, or per cell on big maps
    summary: str
    points: bool  # one point per stakeholder (selectable), else counts per cell


@st.cache_resource(max_entries=16, show_spinner=False)
def power_for(project_id: str, revision: int, selected: str | None) -> PowerView:
    """The power and interest grid, its chart and table. Shared and read-only: never mutate."""
    people = load_project(project_id, revision).stakeholders
    grid = nw.power_interest_table(people)
    points = len(grid) <= charts.POINTS_LIMIT
    if points:
        fig = charts.power_interest_chart(grid, selected=selected)
        table = grid.drop(columns=["row"]).assign(
            involvement=grid["involvement"].map(lambda v: INVOLVEMENT_LEVELS.get(v, v)),
            kind=grid["kind"].map(lambda v: KINDS.get(v, v)))
    else:
        cells = charts.power_interest_cells(grid)
        fig = charts.power_interest_chart(grid, selected=selected, cells=cells)
        table = cells.assign(involvement=cells["involvement"].map(lambda v: INVOLVEMENT_LEVELS.get(v, v or "")))
    return PowerView(grid, fig, table, charts.power_interest_sentence(grid, total=len(people)), points)


@st.cache_data(max_entries=32, show_spinner=False)
def mixing_for(project_id: str, revision: int, by: str) -> pd.DataFrame:
    project = load_project(project_id, revision)
    order = project.settings.attributes.get(by, [])
    return nw.mixing_matrix(tie_graph_for(project_id, revision), project.stakeholders, by=by, order=order,
                            labels=labels_for(project_id, revision, by))


def view_for(project_id: str, revision: int, options: tuple[tuple[str, object], ...]) -> NetworkView:
    """``options`` are ``network_view``'s keyword options as sorted (name, value) pairs (hashable).

    A map too big to draw person by person shows groups, where the size measure plays no part: that view
    is found under the same key whatever the size measure, so changing it costs nothing there."""
    kwargs = dict(options)
    if kwargs.get("size_by") and not kwargs.get("drill"):
        plain = _view_for(project_id, revision, tuple(sorted({**kwargs, "size_by": ""}.items())))
        if plain.aggregated:
            return plain
    return _view_for(project_id, revision, options)


@st.cache_resource(max_entries=16, show_spinner="Drawing the network...")
def _view_for(project_id: str, revision: int, options: tuple[tuple[str, object], ...]) -> NetworkView:
    project = load_project(project_id, revision)
    kwargs = dict(options)
    metrics = None
    if kwargs.get("size_by") == "betweenness":
        metrics = metrics_for(project_id, revision)
    elif kwargs.get("size_by") == "degree" or kwargs.get("group_by") == "community":
        metrics = basic_metrics_for(project_id, revision, communities=kwargs.get("group_by") == "community")
    return network_view(project, metrics=metrics, tg=tie_graph_for(project_id, revision), **kwargs)


@st.cache_data(max_entries=32, show_spinner=False)
def introducers_for(project_id: str, revision: int, by: str, categories: tuple[str, ...],
                    max_steps: int) -> pd.DataFrame:
    project = load_project(project_id, revision)
    targets = nw.affected_not_involved(project.stakeholders, by=by, categories=categories)
    return nw.introducers(tie_graph_for(project_id, revision), project.stakeholders, targets, max_steps=max_steps)


@st.cache_data(max_entries=16, show_spinner=False)
def changes_for(project_id: str, revision: int, earlier: str, later: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    project = load_project(project_id, revision)
    cycles = {c.get("name", ""): c for c in project.settings.cycles}
    changes = nw.tie_changes(project, earlier=cycles.get(earlier, {}), later=cycles.get(later, {}))
    return changes, nw.cycle_dropouts(project, earlier=earlier, later=later)
