"""The record page's Streamlit side: cached record and figures, the private-view check, and editors.

Cached values are keyed on ``(project_id, revision)``: every record edit moves the revision on, so
nothing is stale and projects never share an entry. Editors follow ``coprod_map.ui.editing``: the
key carries the revision and a reset counter, and ``on_change`` writes each change in its own
transaction before "Saved" shows.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from coprod_map.analysis import health
from coprod_map.analysis import record as rec
from coprod_map.components import COMPONENTS
from coprod_map.editing import has_changes
from coprod_map.errors import EditRejected, StoreError
from coprod_map.model import Project
from coprod_map.record import (
    ACTION_STATUSES,
    CHANGE_STATUSES,
    FIELDS,
    MET,
    NEED_CATEGORIES,
    RECORD_TABLES,
    RETURNED_KINDS,
    SCORE_RANGE,
    TABLE_WORDS,
    Record,
    cycle_names,
    edits_from_changes,
)
from coprod_map.record_store import apply_record_edits, load_record
from coprod_map.store import ProjectInfo, acting_as
from coprod_map.ui.auth import actor, allowed, may_see_private
from coprod_map.ui.cache import load_project
from coprod_map.ui.editing import editor_key, message_key, reset_editor, saved_now, show_message
from coprod_map.ui.state import store

__all__ = [
    "PRIVATE_TOGGLE_KEY",
    "can_see_private",
    "health_for",
    "private_toggle",
    "record_editor",
    "record_for",
    "take_snapshot",
]

PRIVATE_TOGGLE_KEY = "record_show_private"


@st.cache_resource(max_entries=16, show_spinner=False)
def record_for(project_id: str, revision: int) -> Record:
    """The project's record at ``revision`` (read-only: shared between sessions)."""
    del revision  # part of the cache key only
    return load_record(store(), project_id)


@st.cache_data(max_entries=16, show_spinner="Checking the ten components...")
def health_for(project_id: str, revision: int) -> pd.DataFrame:
    return health.health_table(load_project(project_id, revision), record_for(project_id, revision))


# --- who may see private fields -------------------------------------------------------------

def private_toggle() -> bool:
    """The clearly labelled "show private fields" switch (only for people who may see them); returns whether
    private fields are shown."""
    if may_see_private():
        st.toggle(
            "Show private fields (needs)",
            key=PRIVATE_TOGGLE_KEY,
            help="Tick this only when everyone who can see the screen may see each person's stated needs. "
            "Private fields never go into shared reports.",
        )
    return can_see_private()


def can_see_private() -> bool:
    """Whether this session shows private fields now: the membership allows it (``may_see_private``, checked
    against the database on every call) AND the person switched them on. The one rule for every page."""
    return may_see_private() and bool(st.session_state.get(PRIVATE_TOGGLE_KEY, False))


# --- editors ---------------------------------------------------------------------------------

def _label(table: str, column: str) -> str:
    return FIELDS[table][column][0]


def _help(table: str, column: str) -> str:
    return FIELDS[table][column][1]


def _column_config(table: str, project: Project, record: Record) -> dict[str, Any]:
    cc = st.column_config
    people = dict(zip(project.stakeholders["id"], project.stakeholders["name"], strict=True))
    activities = dict(zip(project.activities["id"], project.activities["title"], strict=True))
    cycles = cycle_names(project.settings)
    components = {c.key: c.name for c in COMPONENTS}
    date = r"^(\d{4}-\d{2}-\d{2})?$"

    def text(column: str, **kw: Any) -> Any:
        return cc.TextColumn(_label(table, column), help=_help(table, column), **kw)

    def choice(column: str, options: dict | list, **kw: Any) -> Any:
        words = options if isinstance(options, dict) else {o: o for o in options}
        return cc.SelectboxColumn(_label(table, column), help=_help(table, column), options=list(words),
                                  format_func=lambda code: str(words.get(code, code)), **kw)

    config: dict[str, Any] = {}
    for column, kind in RECORD_TABLES[table].items():
        if column in ("stakeholder_id",):
            config[column] = choice(column, {k: f"{v} ({k})" for k, v in people.items()}, required=True)
        elif column == "made_by":
            config[column] = cc.MultiselectColumn(_label(table, column), help=_help(table, column),
                                                  options=list(people), accept_new_options=False,
                                                  format_func=lambda sid: f"{people.get(sid, sid)} ({sid})")
        elif column == "activity_id":
            config[column] = choice(column, {k: f"{v} ({k})" for k, v in activities.items()})
        elif column == "cycle":
            config[column] = choice(column, cycles, required=True)
        elif column == "component":
            config[column] = choice(column, components, required=True)
        elif column == "need_id":
            config[column] = choice(column, {n: f"{n}: {c}" for n, c in zip(record.needs["id"], record.needs["category"],
                                                                          strict=True)}, required=True)
        elif (table, column) in _CODES:
            config[column] = choice(column, _CODES[(table, column)], required=True)
        elif kind == "bool":
            config[column] = cc.CheckboxColumn(_label(table, column), help=_help(table, column), default=True)
        elif kind in ("Int64", "Float64"):
            low, high = (SCORE_RANGE if column == "score" else (0, None))
            config[column] = cc.NumberColumn(_label(table, column), help=_help(table, column), min_value=low,
                                             max_value=high, step=1 if kind == "Int64" else 0.5)
        elif column in ("date", "reported_back_on", "due"):
            config[column] = text(column, validate=date)
        else:
            config[column] = text(column, max_chars=64 if column == "id" else None)
    return config


_CODES: dict[tuple[str, str], dict] = {
    ("changeables", "status"): CHANGE_STATUSES,
    ("reciprocity", "returned_kind"): RETURNED_KINDS,
    ("needs", "category"): NEED_CATEGORIES,
    ("need_met", "met"): MET,
    ("actions", "status"): ACTION_STATUSES,
}


def _editor_table(table: str) -> str:
    return f"record_{table}"


def _commit(table: str, project_id: str, revision: int, key: str, shown: pd.DataFrame) -> None:
    """on_change: write the editor's change-set in one transaction; leave a message for the page."""
    changes = st.session_state.get(key)
    if not has_changes(changes):
        return
    name = _editor_table(table)
    key_of_message = message_key(name)
    if not allowed("edit"):  # callbacks run before the page's guard: a stale editor writes nothing
        st.session_state[key_of_message] = ("error", "Nothing was saved: your role does not let you change this.")
        reset_editor(name)
        return
    try:
        db = store()
        if db.revision(project_id) != revision:
            st.session_state[key_of_message] = (
                "warning", "Someone (perhaps you, in another tab) changed this project a moment ago, so this edit "
                "was not saved. The table now shows the latest data: please make the change again.")
            return
        existing = record_for(project_id, revision).table(table)
        upserts, deletes = edits_from_changes(table, shown, changes, existing=existing)
        with acting_as(actor()):  # record edits take no actor: name the signed-in person for the audit trail
            apply_record_edits(db, project_id, table, upserts=upserts, deletes=deletes)
        st.session_state[key_of_message] = ("saved", saved_now())
    except EditRejected as error:
        st.session_state[key_of_message] = ("problems", error.problems)
    except StoreError as error:
        st.session_state[key_of_message] = ("error", f"Nothing was saved: {error}")
    finally:
        reset_editor(name)


def record_editor(table: str, project: Project, record: Record, info: ProjectInfo, *,
                  rows: pd.DataFrame | None = None, columns: list[str] | None = None) -> pd.DataFrame:
    """An editable table of one record table (``rows``: a subset to show; ``columns``: the order)."""
    frame = (record.table(table) if rows is None else rows).reset_index(drop=True)
    shown = frame[columns or list(RECORD_TABLES[table])].copy()
    if "private" in shown:
        shown["private"] = shown["private"].astype("boolean").fillna(True).astype(bool)
    name = _editor_table(table)
    key = editor_key(name, info.id, info.revision)
    show_message(name)
    st.data_editor(
        shown, key=key, num_rows="dynamic", hide_index=True, width="stretch",
        column_config=_column_config(table, project, record), column_order=list(shown.columns),
        on_change=_commit, args=(table, info.id, info.revision, key, shown),
    )
    if has_changes(st.session_state.get(key)):
        # A change-set set by code or a test (not the browser): commit it the same way, then redraw.
        _commit(table, info.id, info.revision, key, shown)
        st.rerun()
    st.caption(f"{len(frame):,} rows in {TABLE_WORDS[table][0].lower()}. Each change is saved as soon as you "
               "leave the cell.")
    return shown


def take_snapshot(info: ProjectInfo, cycle: str, taken_at: str) -> None:
    """Keep the representation and network figures of ``cycle`` as they are now (replacing an earlier snapshot)."""
    name = _editor_table("snapshots")
    if not allowed("edit"):
        st.session_state[message_key(name)] = ("error", "Nothing was saved: your role does not let you change this.")
        return
    try:
        project = load_project(info.id, info.revision)
        rows = rec.snapshot_rows(project, cycle=cycle, taken_at=taken_at)
        with acting_as(actor()):
            apply_record_edits(store(), info.id, "snapshots", upserts=rows)
        st.session_state[message_key(name)] = ("saved", f"Snapshot of {cycle} kept. {saved_now()}")
    except EditRejected as error:
        st.session_state[message_key(name)] = ("problems", error.problems)
    except StoreError as error:
        st.session_state[message_key(name)] = ("error", f"Nothing was saved: {error}")
