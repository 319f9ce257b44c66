"""Editable tables and the quick-add form, wired to the store.

Every change in an editor is written in its own transaction by the ``on_change`` callback
before the page says "Saved". The editor's key carries the project revision and a per-table
counter, so after each commit the editor is rebuilt from what the database holds: nothing is
applied twice.

A change that breaks a rule writes nothing, but the editor keeps its key and its edit state, so
what the user typed stays on screen under the table of problems: fixing the cell saves the whole
change, and "Discard my changes" rebuilds the editor from the database. While a refused change is
pending, search and paging are locked (the change is tied to the rows on screen).

No lost updates: when an editor is built, the version of every row of its table is remembered
(``Store.row_versions``) and each save passes them as ``expected_versions``. If someone else changed,
deleted or added a row this change touches meanwhile, nothing is written (``EditConflict``): the
page says who changed it and when, keeps the typed change in the same editor, and offers "Discard
my changes" (theirs stays) or "Save mine anyway" (the cells you changed replace theirs). Changes to
other rows save as usual, even when the project moved on since the editor was built.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pandas as pd
import streamlit as st

from coprod_map import labels
from coprod_map.conflicts import EditConflict
from coprod_map.editing import (
    KEY_COLUMNS,
    PAGE_SIZE,
    edits_from_changes,
    has_changes,
    next_ids,
    page_count,
    shown_rows,
)
from coprod_map.errors import EditRejected, Problem, StoreError
from coprod_map.model import (
    AFFECTED_LEVELS,
    BASES,
    DIRECTIONS,
    EXPERIENCES,
    INFLUENCE_RANGE,
    INVOLVEMENT_LEVELS,
    KINDS,
    NOT_RECORDED,
    PREFER_NOT_TO_SAY,
    STRENGTH_RANGE,
    Project,
    attribute_columns,
    normalise_frame,
)
from coprod_map.store import ProjectInfo
from coprod_map.ui.auth import actor, allowed
from coprod_map.ui.cache import load_project
from coprod_map.ui.state import store
from coprod_map.ui.widgets import safe_text, show_problems

__all__ = ["attribute_words", "column_config", "discard_changes", "editor_key", "quick_add_stakeholder", "save_mine_anyway", "table_editor"]

#: Above this many stakeholders, "From"/"To"/"Stakeholder" columns are typed ids, not drop-downs.
MAX_ID_OPTIONS = 2000
_DATE_PATTERN = r"^(\d{4}-\d{2}-\d{2})?$"
#: Tables with a version per row (the others fall back to "the project changed: make the change again").
_VERSIONED = ("stakeholders", "relationships", "activities")
_NOT_ALLOWED = "Nothing was saved: your role in this project does not let you change it."


def attribute_words(attribute: str) -> str:
    """An attribute's name as a heading: ``age_band`` -> ``Age band`` (as the other pages show it).

    >>> attribute_words("age_band"), attribute_words("BME status")
    ('Age band', 'BME status')
    """
    words = attribute.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def _nonce_key(table: str) -> str:
    return f"_editor_nonce_{table}"


def _message_key(table: str) -> str:
    return f"_editor_message_{table}"


def editor_key(table: str, project_id: str, revision: int) -> str:
    """The key of a table's editor for this project, revision and reset counter."""
    nonce = st.session_state.get(_nonce_key(table), 0)
    return f"editor_{table}_{project_id}_{revision}_{nonce}"


def _refused_key(table: str) -> str:
    return f"_editor_refused_{table}"


def _seen_key(table: str) -> str:
    """What the editor on screen was built from: its key, revision, rows (a reference to the shared cached
    project, not a copy), search and page, and the row versions (``None``: not known, or not versioned)."""
    return f"_editor_seen_{table}"


def _handled_key(table: str) -> str:
    """The last change-set a commit was tried for (key and content), so none is tried twice."""
    return f"_editor_handled_{table}"


def _reset_editor(table: str) -> None:
    st.session_state[_nonce_key(table)] = st.session_state.get(_nonce_key(table), 0) + 1
    st.session_state.pop(_refused_key(table), None)


def discard_changes(table: str) -> None:
    """Button callback: forget a refused change and show the table as saved."""
    _reset_editor(table)
    st.session_state[_message_key(table)] = ("info", "Your changes were discarded. The table shows what is saved.")


def _pending_refusal(table: str, project_id: str) -> dict | None:
    """The refused change still in the editor it was typed in (None when there is none, or it was changed since)."""
    refused = st.session_state.get(_refused_key(table))
    seen = st.session_state.get(_seen_key(table))
    if not refused or not seen or seen["key"] != refused["key"] or seen["project_id"] != project_id:
        return None
    if _same_changes(refused["changes"], st.session_state.get(refused["key"])):
        return refused
    return None


def _canon(changes: dict | None) -> tuple:
    changes = changes or {}
    edited = {str(k): dict(v) for k, v in (changes.get("edited_rows") or {}).items()}
    return (repr(sorted(edited.items())), repr(list(changes.get("added_rows") or [])),
            repr(sorted(changes.get("deleted_rows") or [])))


def _same_changes(a: dict | None, b: dict | None) -> bool:
    return _canon(a) == _canon(b)


def _handled(table: str, key: str, changes: dict | None) -> bool:
    return st.session_state.get(_handled_key(table)) == (key, _canon(changes))


def _versions_at(project_id: str, table: str, revision: int) -> pd.DataFrame | None:
    """The row versions of ``table`` as they were at ``revision`` (``None`` when the table has none, or a save
    slipped in while reading: then the revision check stands in)."""
    if table not in _VERSIONED:
        return None
    db = store()
    try:
        versions = db.row_versions(project_id, table)
        if db.revision(project_id) != revision:  # a later save: these versions are newer than the rows shown
            return None
    except (StoreError, ValueError):
        return None
    return versions


def _remember(table: str, info: ProjectInfo, key: str, project: Project) -> dict:
    """Note what the editor ``key`` is built from (once per key: the revision fixes the versions)."""
    seen = st.session_state.get(_seen_key(table))
    if seen and seen["key"] == key and seen["project_id"] == info.id:
        return seen
    seen = {"key": key, "project_id": info.id, "revision": info.revision, "project": project, "query": "", "page": 1,
            "versions": _versions_at(info.id, table, info.revision)}
    st.session_state[_seen_key(table)] = seen
    return seen


def _seen_for(table: str, key: str) -> dict | None:
    seen = st.session_state.get(_seen_key(table))
    return seen if seen and seen["key"] == key else None


def _saved_now() -> str:
    return f"Saved at {datetime.now().strftime('%H:%M:%S')}"


# --- column configuration --------------------------------------------------------------------

def _selectbox(table: str, column: str, options: list, coded: dict | None = None, **kw: Any) -> Any:
    return st.column_config.SelectboxColumn(
        labels.column_label(table, column),
        help=labels.field_help(table, column),
        options=options,
        format_func=(lambda code: str(coded.get(code, code))) if coded else None,
        **kw,
    )


def _options(preferred: list[str], present: pd.Series | None) -> list[str]:
    """The settings' choices first, then any other value already in the data (so no row looks broken)."""
    extra: list[str] = []
    if present is not None and len(present):
        extra = [v for v in pd.unique(present.astype(str)) if v and v not in preferred]
    return [*preferred, *sorted(extra)]


def _stakeholder_choice(project: Project, table: str, column: str, present: pd.Series | None) -> Any:
    stakeholders = project.stakeholders
    if len(stakeholders) > MAX_ID_OPTIONS:
        return st.column_config.TextColumn(
            labels.column_label(table, column), help=labels.field_help(table, column) + " Type the stakeholder's ID."
        )
    names = dict(zip(stakeholders["id"], stakeholders["name"], strict=True))
    options = _options(list(names), present)
    return st.column_config.SelectboxColumn(
        labels.column_label(table, column),
        help=labels.field_help(table, column),
        options=options,
        format_func=lambda sid: f"{names[sid]} ({sid})" if names.get(sid) else str(sid),
    )


def column_config(table: str, project: Project, shown: pd.DataFrame | None = None) -> dict[str, Any]:
    """Column types, plain-word headers and help for one table of ``project``."""
    cc = st.column_config
    settings = project.settings

    def text(column: str, **kw: Any) -> Any:
        return cc.TextColumn(labels.column_label(table, column), help=labels.field_help(table, column), **kw)

    def number(column: str, lo: float, hi: float, step: float) -> Any:
        return cc.NumberColumn(
            labels.column_label(table, column), help=labels.field_help(table, column),
            min_value=lo, max_value=hi, step=step,
        )

    def multi(column: str, options: list[str], coded: dict | None = None, new: bool = True) -> Any:
        return cc.MultiselectColumn(
            labels.column_label(table, column), help=labels.field_help(table, column),
            options=options, accept_new_options=new,
            format_func=(lambda code: str(coded.get(code, code))) if coded else None,
        )

    def present(column: str) -> pd.Series | None:
        return shown[column] if shown is not None and column in shown else None

    def list_values(column: str) -> list[str]:
        frame = project.stakeholders
        if column not in frame or frame.empty:
            return []
        return sorted({v for items in frame[column] for v in items})[:500]

    if table == "stakeholders":
        config: dict[str, Any] = {
            "id": text("id", max_chars=64),
            "name": text("name", required=True),
            "kind": _selectbox(table, "kind", list(KINDS), KINDS, required=True, default="person"),
            "roles": multi("roles", list_values("roles")),
            "experience": multi("experience", list(EXPERIENCES), EXPERIENCES, new=False),
            "affected": number("affected", 0, 3, 1),
            "influence": number("influence", *INFLUENCE_RANGE, 1),
            "involvement": _selectbox(table, "involvement", list(INVOLVEMENT_LEVELS), INVOLVEMENT_LEVELS),
            "speaks_for": multi("speaks_for", list_values("speaks_for")),
            "speaks_basis": _selectbox(table, "speaks_basis", list(BASES), BASES),
            "notes": text("notes"),
        }
        for attribute in attribute_columns(project.stakeholders):
            categories = list(settings.attributes.get(attribute, []))
            for special in (NOT_RECORDED, PREFER_NOT_TO_SAY):
                if special not in categories:
                    categories.append(special)
            config[attribute] = cc.SelectboxColumn(
                attribute_words(attribute), help=labels.field_help(table, attribute), options=_options(categories, present(attribute))
            )
        return config
    if table == "relationships":
        return {
            "id": text("id", max_chars=64),
            "source": _stakeholder_choice(project, table, "source", present("source")),
            "target": _stakeholder_choice(project, table, "target", present("target")),
            "type": _selectbox(table, "type", _options(list(settings.relationship_types), present("type"))),
            "direction": _selectbox(table, "direction", list(DIRECTIONS), DIRECTIONS),
            "strength": number("strength", *STRENGTH_RANGE, 0.5),
            "since": text("since", validate=_DATE_PATTERN),
            "until": text("until", validate=_DATE_PATTERN),
            "notes": text("notes"),
        }
    if table == "activities":
        cycles = [str(c.get("name", "")) for c in settings.cycles if c.get("name")]
        return {
            "id": text("id", max_chars=64),
            "title": text("title", required=True),
            "date": text("date", validate=_DATE_PATTERN),
            "kind": _selectbox(table, "kind", _options(list(settings.activity_kinds), present("kind"))),
            "cycle": _selectbox(table, "cycle", _options(cycles, present("cycle"))),
            "notes": text("notes"),
        }
    if table == "participation":
        activities = project.activities
        titles = dict(zip(activities["id"], activities["title"], strict=True))
        return {
            "stakeholder_id": _stakeholder_choice(project, table, "stakeholder_id", present("stakeholder_id")),
            "activity_id": cc.SelectboxColumn(
                labels.column_label(table, "activity_id"), help=labels.field_help(table, "activity_id"),
                options=_options(list(titles), present("activity_id")),
                format_func=lambda aid: f"{titles[aid]} ({aid})" if titles.get(aid) else str(aid),
                required=True,
            ),
            "notes": text("notes"),
        }
    return {c: text(c) for c in project.table(table).columns if not str(c).startswith("_")}


# --- the editor and its commit ---------------------------------------------------------------

def _commit(table: str, project_id: str, revision: int, query: str, page: int, key: str) -> None:
    """on_change: write the editor's change-set to the database in one transaction."""
    changes = st.session_state.get(key)
    if not has_changes(changes):
        return
    st.session_state[_handled_key(table)] = (key, _canon(changes))
    message_key = _message_key(table)
    if not allowed("edit"):  # callbacks run before the page's guard: a stale editor writes nothing
        _reset_editor(table)
        st.session_state[message_key] = ("error", _NOT_ALLOWED)
        return
    seen = _seen_for(table, key)
    versions = seen["versions"] if seen else None
    try:
        db = store()
        if versions is None and db.revision(project_id) != revision:
            st.session_state[message_key] = (
                "warning",
                "Someone (perhaps you, in another tab) changed this project a moment ago, so this edit was "
                "not saved. The table now shows the latest data: please make the change again.",
            )
            _reset_editor(table)
            return
        # the rows as they were on screen (positions in the change-set refer to them), not as saved now
        frame = (seen["project"] if seen else load_project(project_id, revision)).table(table)
        shown = shown_rows(frame, query=query, page=page)
        upserts, deletes = edits_from_changes(
            table, shown, changes,
            existing=frame,
            file=f"{labels.TABLE_LABELS[table]} table",
        )
        db.apply_edits(project_id, table, upserts=upserts, deletes=deletes, actor=actor(),
                       expected_versions=versions)
    except EditConflict as conflict:
        _keep_refused(table, key, changes, "conflict", (str(conflict), conflict.details()), query=query, page=page)
        return
    except EditRejected as error:
        _keep_refused(table, key, changes, "problems", error.problems, query=query, page=page)
        return
    except StoreError as error:
        _keep_refused(table, key, changes, "error", f"Nothing was saved: {error}", query=query, page=page)
        return
    _reset_editor(table)
    st.session_state[message_key] = ("saved", _saved_now())


def _rebased(shown: pd.DataFrame, current: pd.DataFrame, *, keys: tuple[str, ...] = ("id",)) -> pd.DataFrame:
    """``shown`` (rows as they were on screen) with each row replaced by its saved version now, where it still
    exists, in the same positions: applying a change-set to this keeps other people's changes to cells the
    change-set does not touch. ``keys``: the columns that name a row (the record's tables have other keys).

    >>> then = pd.DataFrame({"id": ["s1", "s2"], "name": ["Ann", "Bo"], "notes": ["", ""]})
    >>> now = pd.DataFrame({"id": ["s2", "s3"], "name": ["Bob", "Cy"], "notes": ["theirs", ""]})
    >>> _rebased(then, now).values.tolist()
    [['s1', 'Ann', ''], ['s2', 'Bob', 'theirs']]
    """
    if shown.empty or any(k not in shown or k not in current for k in keys):
        return shown

    def names(frame: pd.DataFrame) -> pd.Series:
        out = frame[keys[0]].astype(str)
        for key in keys[1:]:
            out = out + "\x1f" + frame[key].astype(str)
        return out

    latest = current.set_index(names(current).to_numpy())
    latest = latest.loc[~latest.index.duplicated()]
    ids = names(shown)
    have = ids.isin(latest.index).to_numpy()
    if not have.any():
        return shown
    fresh = latest.reindex(ids[have].to_numpy()).reset_index(drop=True).reindex(columns=shown.columns)
    fresh.index = shown.index[have]
    return pd.concat([shown.loc[~have], fresh]).sort_index()


def save_refused_anyway(refused: dict, save: Callable[[], bool]) -> bool:
    """Run ``save`` for a change kept after a conflict; True once it is saved.

    A further refusal keeps the change and records the new reason in ``refused`` (``save`` returns False
    when it stopped on its own and has said why).
    """
    try:
        return save()
    except EditConflict as conflict:  # a third change, made since the choice was offered
        refused["body"] = (str(conflict), conflict.details())
    except EditRejected as error:
        refused.update(kind="problems", body=error.problems)
    except StoreError as error:
        refused.update(kind="error", body=f"Nothing was saved: {error}")
    return False


def save_mine_anyway(table: str, project_id: str) -> None:
    """Button callback after a conflict: save the refused change over the other person's, checked against the
    versions saved now (a third change made meanwhile is still caught)."""
    refused = st.session_state.get(_refused_key(table))
    seen = st.session_state.get(_seen_key(table))
    message_key = _message_key(table)
    if not refused or refused.get("kind") != "conflict" or not seen or seen["key"] != refused["key"]:
        return
    if not allowed("edit"):
        _reset_editor(table)
        st.session_state[message_key] = ("error", _NOT_ALLOWED)
        return
    changes = refused["changes"]

    def save() -> bool:
        db = store()
        revision = db.revision(project_id)
        versions = _versions_at(project_id, table, revision)
        if versions is None:  # someone saved again while the versions were read: offer the choice again
            refused["body"] = ("The table was saved again just now, so nothing was saved.",
                               "Press Save mine anyway again, or discard your changes.")
            return False
        current = load_project(project_id, revision).table(table)
        shown = _rebased(shown_rows(seen["project"].table(table), query=refused["query"], page=refused["page"]),
                         current)
        upserts, deletes = edits_from_changes(table, shown, changes, existing=current,
                                              file=f"{labels.TABLE_LABELS[table]} table")
        db.apply_edits(project_id, table, upserts=upserts, deletes=deletes, actor=actor(), expected_versions=versions)
        return True

    if not save_refused_anyway(refused, save):
        return
    _reset_editor(table)
    st.session_state[message_key] = ("saved", f"Your changes were saved in place of theirs. {_saved_now()}")


def _keep_refused(table: str, key: str, changes: dict, kind: str, body: Any, *, query: str = "", page: int = 1) -> None:
    """Nothing was written: keep the editor (and what the user typed) and remember why it was refused."""
    st.session_state[_refused_key(table)] = {"key": key, "changes": _copy_changes(changes), "kind": kind, "body": body,
                                             "query": query, "page": page}


def _copy_changes(changes: dict) -> dict:
    return {
        "edited_rows": {k: dict(v) for k, v in (changes.get("edited_rows") or {}).items()},
        "added_rows": [dict(r) for r in (changes.get("added_rows") or [])],
        "deleted_rows": list(changes.get("deleted_rows") or []),
    }


def _show_refusal(table: str, refused: dict, project_id: str, *, save_anyway: Any = None) -> None:
    """The problems of the refused change, above the editor that still shows it, and a way out
    (``save_anyway(table, project_id)``: the "Save mine anyway" callback; the map's by default)."""
    if refused["kind"] == "conflict":
        message, details = refused["body"]
        st.warning(safe_text(message), icon=":material/group:")
        st.text(details)  # who changed which row, and when (ids and names of people signed in: shown as text)
        st.caption("Your change is still in the table below, over the rows as they were when you opened it. "
                   "Discard it to see their change, or save yours in its place.")
        left, right = st.columns(2)
        left.button("Discard my changes", key=f"discard_{table}", on_click=discard_changes, args=(table,),
                    icon=":material/undo:", help="Keep their change: forget yours and show the table as saved now.")
        right.button("Save mine anyway", key=f"save_anyway_{table}", on_click=save_anyway or save_mine_anyway,
                     args=(table, project_id), icon=":material/save:",
                     help="The cells you changed replace theirs; the cells you did not change keep their version.")
        return
    if refused["kind"] == "problems":
        count = len(refused["body"])
        show_problems(refused["body"], intro=(
            f"{count} problem(s) found. Nothing was saved. Your change is still in the table below: "
            "fix the cells named here and it is saved, or discard it."))
    else:
        st.error(safe_text(refused["body"] + " Your change is still in the table below; change a cell to try "
                           "again, or discard it."))
    st.button("Discard my changes", key=f"discard_{table}", on_click=discard_changes, args=(table,),
              icon=":material/undo:", help="Forget the change that was not saved and show the table as saved.")


def show_message(table: str) -> None:
    """The outcome of the last commit of ``table`` (once)."""
    message = st.session_state.pop(_message_key(table), None)
    if not message:
        return
    kind, body = message
    if kind == "saved":
        st.success(safe_text(body), icon=":material/check_circle:")
    elif kind == "problems":
        show_problems(body, intro=f"{len(body)} problem(s) found. Nothing was saved; the table shows what is saved.")
    elif kind == "warning":
        st.warning(body)
    elif kind == "info":
        st.info(body)
    else:
        st.error(safe_text(body))


def table_editor(table: str, project: Project, info: ProjectInfo) -> pd.DataFrame:
    """Search box, pager and an editable table for one table of the open project."""
    if _commit_stale(table, info.id, info.revision):
        st.rerun()
    st.caption(labels.TABLE_HELP[table])
    refused = _pending_refusal(table, info.id)
    if refused is None:
        st.session_state.pop(_refused_key(table), None)
        key = editor_key(table, info.id, info.revision)
        seen = _remember(table, info, key, project)
    else:  # keep the editor the change was typed in (same key, rows and choices), so what was typed stays
        seen = st.session_state[_seen_key(table)]
        key, project = refused["key"], seen["project"]
    frame = project.table(table)
    locked = "Save or discard the change below first." if refused else None
    left, right = st.columns([3, 1])
    query = left.text_input(
        "Search", key=f"search_{table}", placeholder="Type to find rows", disabled=bool(refused),
        help=locked or "Shows only rows where any column contains this text (capitals ignored).",
    )
    if refused:
        query = refused["query"]
    filtered_count = len(frame) if not query.strip() else len(shown_rows(frame, query=query, page_size=len(frame) or 1))
    pages = page_count(filtered_count)
    page = 1
    if pages > 1:
        page = int(right.number_input(
            f"Page (of {pages})", min_value=1, max_value=pages, step=1, key=f"page_{table}",
            disabled=bool(refused), help=locked or f"Large tables are shown {PAGE_SIZE} rows at a time.",
        ))
    if refused:
        page = refused["page"]
    seen.update(query=query, page=page)
    shown = shown_rows(frame, query=query, page=page)
    visible = shown[[c for c in shown.columns if not str(c).startswith("_")]]
    show_message(table)
    if refused:
        _show_refusal(table, refused, info.id)
    st.data_editor(
        visible,
        key=key,
        num_rows="dynamic",
        hide_index=True,
        width="stretch",
        column_config=column_config(table, project, visible),
        column_order=list(visible.columns),
        on_change=_commit,
        args=(table, info.id, seen["revision"], query, page, key),
    )
    if has_changes(st.session_state.get(key)) and not _handled(table, key, st.session_state.get(key)):
        # The callback commits edits made in the browser before this run. A change-set that is
        # still here, and was not tried yet, reached the editor another way (session state set by
        # code or a test): commit it the same way, then draw the page again.
        _commit(table, info.id, seen["revision"], query, page, key)
        st.rerun()
    total = f"{len(frame):,} {labels.TABLE_LABELS[table].lower()} in this project"
    if query.strip():
        total += f"; {filtered_count:,} match the search"
    if pages > 1:
        total += f"; showing page {page} of {pages}"
    st.caption(total + ". Each change is saved as soon as you leave the cell.")
    return visible


def _commit_stale(table: str, project_id: str, revision: int, *, commit: Any = None) -> bool:
    """A change-set left in the editor of an earlier revision and not tried yet (the browser's callback tries
    it before the page runs; code and tests set it without one): try it now, against that editor's rows and
    versions, as the callback would have (``commit(key)``: the record's editors bring their own). True when it
    did (the page then runs again)."""
    seen = st.session_state.get(_seen_key(table))
    if not seen or seen["project_id"] != project_id:
        return False
    key = seen["key"]
    changes = st.session_state.get(key)
    if key == editor_key(table, project_id, revision) or not has_changes(changes):
        return False
    if _handled(table, key, changes):
        return False
    if commit is not None:
        commit(key)
    else:
        _commit(table, project_id, seen["revision"], seen["query"], seen["page"], key)
    return True


# --- quick add -------------------------------------------------------------------------------

def quick_add_stakeholder(project: Project, info: ProjectInfo) -> None:
    """A short form for adding one stakeholder at a time (made for workshops)."""
    h = labels.FIELD_HELP["stakeholders"]
    with st.form("quick_add", clear_on_submit=True, border=True):
        name = st.text_input("Stakeholder name", help=h["name"], max_chars=200)
        c1, c2, c3 = st.columns(3)
        kind = c1.selectbox("Kind", list(KINDS), format_func=KINDS.get, help=h["kind"])
        involvement = c2.selectbox(
            "Involvement", list(INVOLVEMENT_LEVELS), format_func=INVOLVEMENT_LEVELS.get, help=h["involvement"]
        )
        affected = c3.selectbox(
            "How affected", [0, 1, 2, 3], index=2, help=h["affected"],
            format_func=lambda v: f"{v} - {AFFECTED_LEVELS[v]}",
        )
        roles = st.text_input("Roles (separate with |)", help=h["roles"])
        attributes = {}
        attribute_names = attribute_columns(project.stakeholders) or list(project.settings.attributes)
        if attribute_names:
            columns = st.columns(min(3, len(attribute_names)))
            for i, attribute in enumerate(attribute_names):
                categories = list(project.settings.attributes.get(attribute, []))
                choices = ["", *categories, *[c for c in (NOT_RECORDED, PREFER_NOT_TO_SAY) if c not in categories]]
                attributes[attribute] = columns[i % len(columns)].selectbox(
                    safe_text(attribute_words(attribute)), choices, help=labels.field_help("stakeholders", attribute),
                    format_func=lambda c: c or "(leave blank)", key=f"quick_add_attr_{attribute}",
                )
        notes = st.text_input("Notes", help=h["notes"])
        submitted = st.form_submit_button("Add stakeholder", type="primary")
    if not submitted:
        return
    if not name.strip():
        show_problems([Problem("Add a stakeholder", None, "name", "A name is needed. Type a name or a role.")])
        return
    new_id = next_ids(project.stakeholders["id"], "s", 1)[0]
    row = {"id": new_id, "name": name.strip(), "kind": kind, "involvement": involvement, "affected": affected,
           "roles": roles, "notes": notes, **attributes}
    frame = pd.DataFrame([row])
    try:
        store().apply_edits(info.id, "stakeholders", upserts=normalise_frame("stakeholders", frame), deletes=[],
                            actor=actor())
    except EditRejected as error:
        show_problems(error.problems)
        return
    except StoreError as error:
        st.error(safe_text(f"Nothing was saved: {error}"))
        return
    st.session_state[_message_key("stakeholders")] = ("saved", f"Added: {name.strip()}. {_saved_now()}")
    st.rerun()


__all__ += ["KEY_COLUMNS", "show_message"]

# Public names for other editors (the record page's) that follow the same commit pattern.
message_key = _message_key
reset_editor = _reset_editor
saved_now = _saved_now
# ... and the conflict handling they share with the map's editors (one place for it, not two).
seen_key = _seen_key
refused_key = _refused_key
handled_key = _handled_key
canon = _canon
handled = _handled
pending_refusal = _pending_refusal
keep_refused = _keep_refused
show_refusal = _show_refusal
rebased = _rebased
commit_stale = _commit_stale
