"""Cached representation figures for the "Who is involved" page.

Every function is keyed on ``(project_id, revision, options)``, where ``options`` is a sorted
tuple of ``(name, value)`` pairs of plain values (see :func:`options_key`): the cache is shared by
every user, and a save moves the revision on, so results are never stale and projects never share
an entry. Results are small tables (one row per category), so ``st.cache_data`` copies are cheap;
the project itself comes from ``load_project`` (a shared, read-only ``cache_resource``).
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from coprod_map.analysis import representation
from coprod_map.ui.cache import load_project

__all__ = ["choices", "gaps", "missing", "options_key", "trend", "voices"]

Options = tuple[tuple[str, Any], ...]


def options_key(**options: Any) -> Options:
    """Options as a hashable, order-free cache key (lists become tuples)."""
    return tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in options.items()))


def _kwargs(options: Options, *allowed: str) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in options if k in allowed}


_GAP_OPTIONS = ("mode", "affected_level", "involvement", "rung", "start", "end", "cycles", "min_cell")
_WHO_OPTIONS = ("affected_level", "involvement", "rung", "start", "end", "cycles")


@st.cache_data(max_entries=128, show_spinner=False)
def gaps(project_id: str, revision: int, by: tuple[str, ...], options: Options) -> pd.DataFrame:
    """``representation.gap_table`` for one attribute (``by`` of one name) or pair."""
    project = load_project(project_id, revision)
    return representation.gap_table(project, by=by, **_kwargs(options, *_GAP_OPTIONS))


@st.cache_data(max_entries=64, show_spinner=False)
def trend(project_id: str, revision: int, by: tuple[str, ...], period: str, options: Options) -> pd.DataFrame:
    """``representation.trend_table`` for one attribute or pair, per cycle or quarter."""
    project = load_project(project_id, revision)
    kwargs = _kwargs(options, "mode", "affected_level", "start", "end", "cycles", "min_cell")
    return representation.trend_table(project, by=by, period=period, **kwargs)


@st.cache_data(max_entries=64, show_spinner=False)
def missing(project_id: str, revision: int, options: Options) -> pd.DataFrame:
    """``representation.missing_stakeholders``."""
    project = load_project(project_id, revision)
    return representation.missing_stakeholders(project, **_kwargs(options, *_WHO_OPTIONS))


@st.cache_data(max_entries=64, show_spinner=False)
def voices(project_id: str, revision: int, options: Options) -> pd.DataFrame:
    """``representation.voice_table``."""
    project = load_project(project_id, revision)
    return representation.voice_table(project, **_kwargs(options, *_WHO_OPTIONS))


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
