"""Cached network analysis for the Relationships page, keyed on ``(project_id, revision, options)``.

Graph objects live in ``cache_resource`` (shared, never copied: 40 times faster than pickling them
through ``cache_data`` at 100,000 stakeholders); tables and HTML are small enough for either.
Cached values are shared between sessions: never mutate them.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from coprod_map.analysis import network as nw
from coprod_map.ui.cache import load_project
from coprod_map.viz.network_html import NetworkView, network_view


@st.cache_resource(max_entries=8, show_spinner=False)
def tie_graph_for(project_id: str, revision: int) -> nw.TieGraph:
    project = load_project(project_id, revision)
    return nw.tie_graph(project.stakeholders, project.relationships)


@st.cache_data(max_entries=16, show_spinner="Measuring the network...")
def metrics_for(project_id: str, revision: int) -> pd.DataFrame:
    return nw.metrics_table(load_project(project_id, revision))


@st.cache_data(max_entries=32, show_spinner=False)
def mixing_for(project_id: str, revision: int, by: str) -> pd.DataFrame:
    project = load_project(project_id, revision)
    order = project.settings.attributes.get(by, [])
    return nw.mixing_matrix(tie_graph_for(project_id, revision), project.stakeholders, by=by, order=order)


@st.cache_data(max_entries=32, show_spinner=False)
def overview_for(project_id: str, revision: int, by: str) -> dict[str, object]:
    project = load_project(project_id, revision)
    return nw.network_overview(tie_graph_for(project_id, revision), project.stakeholders, by=by)


@st.cache_resource(max_entries=16, show_spinner="Drawing the network...")
def view_for(project_id: str, revision: int, options: tuple[tuple[str, object], ...]) -> NetworkView:
    """``options`` are ``network_view``'s keyword options as sorted (name, value) pairs (hashable)."""
    project = load_project(project_id, revision)
    kwargs = dict(options)
    needs_metrics = kwargs.get("size_by") in ("degree", "betweenness") or kwargs.get("group_by") == "community"
    metrics = metrics_for(project_id, revision) if needs_metrics else None
    return network_view(project, metrics=metrics, **kwargs)


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
