"""The record page's Streamlit side: cached record and figures, the private-view check, and editors.

Cached values are keyed on ``(project_id, revision)``: every record edit moves the revision on, so
nothing is stale and projects never share an entry. Editors follow ``coprod_map.ui.editing``: the
key carries the revision and a reset counter, and ``on_change`` writes each change in its own
transaction before "Saved" shows.

No lost updates, with the map editors' own conflict handling (``coprod_map.ui.editing``): an editor remembers
the rows and ``record_versions`` it was built from and saves against them, so edits to different rows both save
even when the project moved on meanwhile. A row someone else changed or deleted first is refused
(``EditConflict``, "changed by X at T"): the typed change stays in the same editor, with "Discard my changes"
and "Save mine anyway". A change that breaks a rule also stays on screen under its problems.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from coprod_map.analysis import health
from coprod_map.analysis import record as rec
from coprod_map.components import COMPONENTS
from coprod_map.conflicts import EditConflict
from coprod_map.editing import has_changes
from coprod_map.errors import EditRejected, StoreError
from coprod_map.labels import GAP_FLAG_WORDS
from coprod_map.model import Project
from coprod_map.record import (
    ACTION_STATUSES,
    CHANGE_STATUSES,
    FIELDS,
    MET,
    NEED_CATEGORIES,
    RECORD_KEYS,
    RECORD_TABLES,
    RETURNED_KINDS,
    SCORE_RANGE,
    TABLE_WORDS,
    Record,
    cycle_names,
    edits_from_changes,
)
from coprod_map.record_store import apply_record_edits, load_record, record_table, record_versions
from coprod_map.store import ProjectInfo
from coprod_map.ui import representation_cache
from coprod_map.ui.auth import actor, allowed, may_see_private
from coprod_map.ui.cache import load_project
from coprod_map.ui.editing import (
    canon,
    commit_stale,
    editor_key,
    handled,
    handled_key,
    keep_refused,
    message_key,
    pending_refusal,
    rebased,
    refused_key,
    reset_editor,
    save_refused_anyway,
    saved_now,
    seen_key,
    show_message,
    show_refusal,
)
from coprod_map.ui.state import store

__all__ = [
    "PRIVATE_TOGGLE_KEY",
    "can_see_private",
    "flags_in_words",
    "gaps_in_points",
    "health_for",
    "private_toggle",
    "record_editor",
    "record_for",
    "save_mine_anyway",
    "take_snapshot",
]

PRIVATE_TOGGLE_KEY = "record_show_private"


def gaps_in_points(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    """Gaps kept as shares (0.14) shown as points (14.0), as the "Who is involved" page shows them.

    >>> gaps_in_points(pd.DataFrame({"gap": [0.1414, None]}), "gap")["gap"].tolist()
    [14.1, <NA>]
    """
    return frame.assign(**{c: (frame[c].astype("Float64") * 100).round(1) for c in columns})


def flags_in_words(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    """Gap flags (``fewer``, ``more``...) in the words the "Who is involved" page uses; unknown flags kept."""
    return frame.assign(**{c: frame[c].map(GAP_FLAG_WORDS).fillna(frame[c]) for c in columns})


@st.cache_resource(max_entries=16, show_spinner=False)
def record_for(project_id: str, revision: int) -> Record:
    """The project's record at ``revision`` (read-only: shared between sessions)."""
    del revision  # part of the cache key only
    return load_record(store(), project_id)


@st.cache_data(max_entries=16, show_spinner="Checking the ten components...")
def health_for(project_id: str, revision: int) -> pd.DataFrame:
    """The ten-components health check at ``revision`` (the Record page's and the report's), its gap tables
    taken from the "Who is involved" page's cache."""
    return health.health_table(load_project(project_id, revision), record_for(project_id, revision),
                               gap_table=representation_cache.gap_table_for(project_id, revision))


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


_NOT_ALLOWED = "Nothing was saved: your role does not let you change this."
_MOVED_ON = ("Someone (perhaps you, in another tab) changed this project a moment ago, so this edit was not saved. "
             "The table now shows the latest data: please make the change again.")


def _versions_at(project_id: str, table: str, revision: int) -> pd.DataFrame | None:
    """The row versions of ``table`` at ``revision`` (``None`` when a save slipped in while reading them: then the
    old "the project moved on" check stands in)."""
    db = store()
    try:
        versions = record_versions(db, project_id, table)
        if db.revision(project_id) != revision:
            return None
    except (StoreError, EditRejected):
        return None
    return versions


def _remember(table: str, info: ProjectInfo, key: str, project: Project, record: Record,
              shown: pd.DataFrame) -> dict:
    """Note what the editor ``key`` is built from (once per key: the key carries the revision)."""
    name = _editor_table(table)
    seen = st.session_state.get(seen_key(name))
    if seen and seen["key"] == key and seen["project_id"] == info.id:
        return seen
    seen = {"key": key, "project_id": info.id, "revision": info.revision, "table": table, "project": project,
            "record": record, "shown": shown, "versions": _versions_at(info.id, table, info.revision)}
    st.session_state[seen_key(name)] = seen
    return seen


def _commit(table: str, project_id: str, key: str) -> None:
    """on_change: write the editor's change-set in one transaction, checked against the row versions the editor
    was built from; a refused change stays in the editor with the reason."""
    name = _editor_table(table)
    changes = st.session_state.get(key)
    if not has_changes(changes):
        return
    st.session_state[handled_key(name)] = (key, canon(changes))
    seen = st.session_state.get(seen_key(name))
    if not allowed("edit") or not seen or seen["key"] != key:  # callbacks run before the page's guard
        reset_editor(name)
        st.session_state[message_key(name)] = ("error", _NOT_ALLOWED) if not allowed("edit") else ("warning", _MOVED_ON)
        return
    try:
        db = store()
        if seen["versions"] is None and db.revision(project_id) != seen["revision"]:
            reset_editor(name)
            st.session_state[message_key(name)] = ("warning", _MOVED_ON)
            return
        existing = record_table(db, project_id, table)  # new ids and taken keys: against what is saved now
        upserts, deletes = edits_from_changes(table, seen["shown"], changes, existing=existing)
        apply_record_edits(db, project_id, table, upserts=upserts, deletes=deletes,
                           expected_versions=seen["versions"], actor=actor())
    except EditConflict as conflict:
        keep_refused(name, key, changes, "conflict", (str(conflict), conflict.details()))
        return
    except EditRejected as error:
        keep_refused(name, key, changes, "problems", error.problems)
        return
    except StoreError as error:
        keep_refused(name, key, changes, "error", f"Nothing was saved: {error}")
        return
    reset_editor(name)
    st.session_state[message_key(name)] = ("saved", saved_now())


def save_mine_anyway(name: str, project_id: str) -> None:
    """Button callback after a conflict: the cells I changed replace theirs, the others keep their saved values;
    checked against the versions saved now, so a third change made meanwhile is still caught."""
    refused = st.session_state.get(refused_key(name))
    seen = st.session_state.get(seen_key(name))
    if not refused or refused.get("kind") != "conflict" or not seen or seen["key"] != refused["key"]:
        return
    if not allowed("edit"):
        reset_editor(name)
        st.session_state[message_key(name)] = ("error", _NOT_ALLOWED)
        return
    table = seen["table"]

    def save() -> bool:
        db = store()
        versions = record_versions(db, project_id, table)  # before the rows: a save in between is then a conflict
        current = record_table(db, project_id, table)
        shown = rebased(seen["shown"], current, keys=RECORD_KEYS[table])
        upserts, deletes = edits_from_changes(table, shown, refused["changes"], existing=current)
        apply_record_edits(db, project_id, table, upserts=upserts, deletes=deletes, expected_versions=versions,
                           actor=actor())
        return True

    if not save_refused_anyway(refused, save):
        return
    reset_editor(name)
    st.session_state[message_key(name)] = ("saved", f"Your changes were saved in place of theirs. {saved_now()}")


def record_editor(table: str, project: Project, record: Record, info: ProjectInfo, *,
                  rows: pd.DataFrame | None = None, columns: list[str] | None = None) -> pd.DataFrame:
    """An editable table of one record table (``rows``: a subset to show; ``columns``: the order)."""
    name = _editor_table(table)
    if commit_stale(name, info.id, info.revision, commit=lambda stale: _commit(table, info.id, stale)):
        st.rerun()
    refused = pending_refusal(name, info.id)
    if refused is None:
        st.session_state.pop(refused_key(name), None)
        frame = (record.table(table) if rows is None else rows).reset_index(drop=True)
        shown = frame[columns or list(RECORD_TABLES[table])].copy()
        if "private" in shown:
            shown["private"] = shown["private"].astype("boolean").fillna(True).astype(bool)
        key = editor_key(name, info.id, info.revision)
        seen = _remember(table, info, key, project, record, shown)
    else:  # keep the editor the change was typed in (same key, rows and choices), so what was typed stays
        seen = st.session_state[seen_key(name)]
        key = refused["key"]
    shown = seen["shown"]
    show_message(name)
    if refused:
        show_refusal(name, refused, info.id, save_anyway=save_mine_anyway)
    st.data_editor(
        shown, key=key, num_rows="dynamic", hide_index=True, width="stretch",
        column_config=_column_config(table, seen["project"], seen["record"]), column_order=list(shown.columns),
        on_change=_commit, args=(table, info.id, key),
    )
    changes = st.session_state.get(key)
    if has_changes(changes) and not handled(name, key, changes):
        # A change-set set by code or a test (not the browser), not tried yet: commit it the same way, then redraw.
        _commit(table, info.id, key)
        st.rerun()
    st.caption(f"{len(shown):,} rows in {TABLE_WORDS[table][0].lower()}. Each change is saved as soon as you "
               "leave the cell.")
    return shown


def take_snapshot(info: ProjectInfo, cycle: str, taken_at: str) -> None:
    """Keep the representation and network figures of ``cycle`` as they are now (replacing an earlier snapshot)."""
    name = _editor_table("snapshots")
    if not allowed("edit"):
        st.session_state[message_key(name)] = ("error", _NOT_ALLOWED)
        return
    try:
        project = load_project(info.id, info.revision)
        rows = rec.snapshot_rows(project, cycle=cycle, taken_at=taken_at)
        apply_record_edits(store(), info.id, "snapshots", upserts=rows, actor=actor())
        st.session_state[message_key(name)] = ("saved", f"Snapshot of {cycle} kept. {saved_now()}")
    except EditRejected as error:
        st.session_state[message_key(name)] = ("problems", error.problems)
    except StoreError as error:
        st.session_state[message_key(name)] = ("error", f"Nothing was saved: {error}")
