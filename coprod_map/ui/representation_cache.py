"""Cached representation figures for the "Who is involved" page.

Every function is keyed on ``(project_id, revision, options)``, where ``options`` is a sorted
tuple of ``(name, value)`` pairs of plain values (see :func:`options_key`): the cache is shared by
every user, and a save moves the revision on, so results are never stale and projects never share
an entry. Results are small tables (one row per category), so ``st.cache_data`` copies are cheap;
the project itself comes from ``load_project`` (a shared, read-only ``cache_resource``), and the
participation records matched to it once (:func:`participation`) serve every figure of the page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from coprod_map.analysis import representation
from coprod_map.ui.cache import load_project
from coprod_map.viz import charts, summaries

__all__ = ["ChartView", "choices", "gap_table_for", "gap_views", "gaps", "missing", "missing_csv", "options_key", "pair_view",
           "participation", "trend", "trend_view", "voices"]

Options = tuple[tuple[str, Any], ...]


def options_key(**options: Any) -> Options:
    """Options as a hashable, order-free cache key (lists become tuples)."""
    return tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in options.items()))


def _kwargs(options: Options, *allowed: str) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in options if k in allowed}


@st.cache_resource(max_entries=8, show_spinner=False)
def participation(project_id: str, revision: int) -> representation.Participation:
    """The project's participation records as row positions, and who is involved per set of options,
    worked out once per (project, revision) and shared by every function below (read-only)."""
    return representation.prepare_participation(load_project(project_id, revision))


def _project(project_id: str, revision: int) -> tuple[Any, representation.Participation]:
    project, prepared = load_project(project_id, revision), participation(project_id, revision)
    if not prepared.matches(project):  # the project was evicted and read back: match it afresh
        participation.clear(project_id, revision)
        prepared = participation(project_id, revision)
    return project, prepared


_GAP_OPTIONS = ("mode", "affected_level", "involvement", "rung", "start", "end", "cycles", "min_cell")
_WHO_OPTIONS = ("affected_level", "involvement", "rung", "start", "end", "cycles")


@st.cache_data(max_entries=128, show_spinner=False)
def gaps(project_id: str, revision: int, by: tuple[str, ...], options: Options) -> pd.DataFrame:
    """``representation.gap_table`` for one attribute (``by`` of one name) or pair."""
    project, prepared = _project(project_id, revision)
    return representation.gap_table(project, by=by, prepared=prepared, **_kwargs(options, *_GAP_OPTIONS))


def gap_table_for(project_id: str, revision: int) -> Callable[..., pd.DataFrame]:
    """``gap_table(by=..., mode=..., min_cell=...)`` served from ``gaps``: the health check and the report ask for
    tables this page may already have worked out, so each is worked out once per revision."""

    def gap_table(*, by: str, mode: str, min_cell: int) -> pd.DataFrame:
        return gaps(project_id, revision, (by,), options_key(mode=mode, min_cell=int(min_cell)))

    return gap_table


@st.cache_data(max_entries=64, show_spinner=False)
def trend(project_id: str, revision: int, by: tuple[str, ...], period: str, options: Options) -> pd.DataFrame:
    """``representation.trend_table`` for one attribute or pair, per cycle or quarter."""
    project, prepared = _project(project_id, revision)
    kwargs = _kwargs(options, "mode", "affected_level", "start", "end", "cycles", "min_cell")
    return representation.trend_table(project, by=by, period=period, prepared=prepared, **kwargs)


@st.cache_resource(max_entries=64, show_spinner=False)
def missing(project_id: str, revision: int, options: Options) -> pd.DataFrame:
    """``representation.missing_stakeholders`` (one row per person: shared and read-only, never copied)."""
    project, prepared = _project(project_id, revision)
    return representation.missing_stakeholders(project, prepared=prepared, **_kwargs(options, *_WHO_OPTIONS))


@st.cache_data(max_entries=64, show_spinner=False)
def voices(project_id: str, revision: int, options: Options) -> pd.DataFrame:
    """``representation.voice_table``."""
    project, prepared = _project(project_id, revision)
    return representation.voice_table(project, prepared=prepared, **_kwargs(options, *_WHO_OPTIONS))


@st.cache_data(max_entries=32, show_spinner=False)
def choices(project_id: str, revision: int) -> dict[str, Any]:
    """What the widgets offer: attributes per mode, cycle names, whether there is a reference."""
    project = load_project(project_id, revision)
    cycles = [c.get("name", "") for c in project.settings.cycles]
    from_activities = representation.activity_periods(project, period="cycle")
    cycles = list(dict.fromkeys([*cycles, *sorted(set(from_activities) - {""})]))
    return {
        "population": representation.attribute_choices(project, mode="population"),
        "register": representation.attribute_choices(project, mode="register"),
        "cycles": [c for c in cycles if c],
        "min_cell": int(project.settings.min_cell),
        "has_reference": bool(len(project.reference)),
    }


# --- whole charts: built once per (project, revision, options), shared read-only -----------------------

@dataclass(frozen=True)
class ChartView:
    """A chart with its table (small-cell suppressed) and its plain-language summary."""

    figure: go.Figure
    table: pd.DataFrame
    summary: str


@st.cache_resource(max_entries=64, show_spinner=False)
def gap_views(project_id: str, revision: int, attribute: str, options: Options,
              min_cell: int) -> tuple[ChartView, ChartView, list[str]]:
    """The Gaps tab: the gap chart, the share chart and the findings in sentences."""
    table = gaps(project_id, revision, (attribute,), options)
    readable = summaries.readable_table(representation.suppress_small_cells(table))
    share_summary = (summaries.suppressed_caption(table, min_cell=min_cell)
                     or "Grey striped bars: those affected. Blue bars: those involved, with their likely range.")
    return (ChartView(charts.gap_chart(table), readable, summaries.gap_summary(table, min_cell=min_cell)),
            ChartView(charts.share_chart(table), readable, share_summary),
            list(summaries.gap_sentences(table, min_cell=min_cell, findings_only=True)))


@st.cache_resource(max_entries=64, show_spinner=False)
def pair_view(project_id: str, revision: int, pair: tuple[str, str], options: Options,
              min_cell: int) -> tuple[ChartView, bool]:
    """The Intersections tab, and whether it fell back to the register (no reference for the pair)."""
    table = gaps(project_id, revision, pair, options)
    fallback = dict(options).get("mode") == "population" and bool(table["affected_share"].isna().all())
    if fallback:
        table = gaps(project_id, revision, pair, options_key(**{**dict(options), "mode": "register"}))
    return ChartView(charts.intersection_heatmap(table),
                     summaries.readable_table(representation.suppress_small_cells(table)),
                     summaries.gap_summary(table, min_cell=min_cell)), fallback


@st.cache_resource(max_entries=64, show_spinner=False)
def trend_view(project_id: str, revision: int, attribute: str, period: str, options: Options,
               min_cell: int) -> tuple[ChartView, str] | None:
    """The Over time tab (None: no activities with dates or cycles), and its suppression caption."""
    over_time = trend(project_id, revision, (attribute,), period, options)
    if over_time.empty:
        return None
    view = ChartView(charts.trend_chart(over_time),
                     summaries.readable_table(representation.suppress_small_cells(over_time)),
                     summaries.trend_summary(over_time))
    return view, summaries.suppressed_caption(over_time, min_cell=min_cell) or ""


def missing_csv(project_id: str, revision: int, options: Options) -> bytes:
    """The whole "affected but not involved" list as CSV (UTF-8 with BOM, for Excel), every text cell
    spreadsheet-safe; built only when someone asks for the download."""
    from coprod_map.io.export import table_csv

    return table_csv(missing(project_id, revision, options))
