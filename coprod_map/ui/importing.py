"""The upload wizard: files in, detected format and preview, column matching, problems, one-step import."""

from __future__ import annotations

import dataclasses
import hashlib

import streamlit as st

from coprod_map import labels
from coprod_map.errors import CoprodError, ImportRejected
from coprod_map.io.read import check_files, detect, read_files
from coprod_map.model import TABLES, Project
from coprod_map.record_store import import_with_record
from coprod_map.store import ProjectInfo
from coprod_map.ui.auth import actor
from coprod_map.ui.cache import keep_loaded, load_project
from coprod_map.ui.state import store
from coprod_map.ui.widgets import safe_text, show_problems

__all__ = ["merged_match", "save_match", "upload_wizard"]

_NONCE = "_upload_nonce"
_MESSAGE = "_upload_message"
_KEEP = "(keep this name)"
_IGNORE = "(leave this column out)"
_NO_SAVED = "(none: match by hand)"
SAVED_PICKER = "import_saved_match"
SAVE_NAME = "import_save_match_name"
MAX_SAVED_NAME = 80
#: every column name coprod_map knows, for the matching drop-downs
KNOWN_COLUMNS = sorted({c for columns in TABLES.values() for c in columns})
#: what matching does for an attendance list (``coprod_map.io.attendance``): it reads only these columns
ATTENDANCE_MATCH_HELP = ("An attendance list brings who took part (name), in what (event, session or course) and when "
                         "(date), and notes on taking part (notes). If a heading holds the name, the date or notes, "
                         "choose name, date or notes here. Other columns are not imported: keep them in a stakeholder "
                         "list (with id and name columns) and import that too.")


def _nonce() -> int:
    return int(st.session_state.get(_NONCE, 0))


def _column_choice(column: str) -> str:
    if column in (_KEEP, _IGNORE):
        return column
    tables = [labels.TABLE_LABELS[t] for t, cols in TABLES.items() if column in cols]
    return f"{column} ({', '.join(tables)})"


def _choice_index(column: str, saved: dict[str, str], options: list[str]) -> int:
    """Where the drop-down for ``column`` starts: the saved match when there is one, else 'keep'."""
    if column not in saved:
        return 0
    wanted = saved[column] or _IGNORE
    return options.index(wanted) if wanted in options else 0


def _file_card(name: str, data: bytes, index: int, saved: dict[str, str] | None = None,
               saved_name: str = "") -> dict[str, str]:
    """Detected format, a preview and the column-matching controls of one file; returns its mapping.

    ``saved`` (their header -> our column, ``""`` = leave out) sets where each drop-down starts.
    """
    saved = saved or {}
    mapping: dict[str, str] = {}
    with st.container(border=True):
        st.text(f"File {index + 1}: {name}")
        try:
            found = detect(name, data)
        except ImportRejected as rejected:
            show_problems(rejected.problems, intro="This file cannot be read:")
            return mapping
        st.caption(safe_text(f"Looks like: {found.description}"))
        if len(found.preview):
            st.dataframe(found.preview, hide_index=True, width="stretch", height=min(35 * (len(found.preview) + 1) + 3, 250))
        unknown = [c for c in found.columns if c not in KNOWN_COLUMNS]
        # the saved match chosen is part of the key: choosing another one starts every drop-down afresh
        digest = hashlib.sha1(f"{name}|{index}|{saved_name}".encode()).hexdigest()[:10]
        applies = bool(saved) and any(c in saved for c in found.columns)
        expanded = (found.table is None and bool(unknown)) or applies
        with st.expander("Match columns", icon=":material/swap_horiz:", expanded=expanded):
            if found.format == "attendance":
                st.caption(ATTENDANCE_MATCH_HELP)
            else:
                st.caption("If a heading in your file means one of coprod_map's columns, choose it here. "
                           "Columns you keep under their own name become attributes.")
            options = [_KEEP, _IGNORE, *KNOWN_COLUMNS]
            for column in found.columns:
                choice = st.selectbox(
                    column if len(column) < 80 else column[:77] + "...",
                    options,
                    index=_choice_index(column, saved, options),
                    key=f"map_{_nonce()}_{digest}_{column}",
                    format_func=_column_choice,
                    help="Which coprod_map column this heading holds.",
                    label_visibility="visible",
                )
                if choice == _IGNORE:
                    mapping[column] = ""
                elif choice != _KEEP:
                    mapping[column] = choice
    return mapping


def _existing(info: ProjectInfo, *, replace: bool) -> Project | None:
    """What the files are read against: the saved project when merging (names match saved people, ids stay);
    nothing when replacing, since everything saved goes (as the CLI does)."""
    return None if replace else load_project(info.id, info.revision)


def _import(info: ProjectInfo, files: list[tuple[str, bytes]], column_map: dict, replace: bool) -> None:
    existing = _existing(info, replace=replace)
    try:
        staged = read_files(files, column_map=column_map or None, existing=existing)
        import_with_record(store(), info.id, staged.project, staged.record, tables=staged.record_tables,
                           replace=replace,  # the map and the record it carries, in one transaction
                           loaded=keep_loaded(info.id))  # the pages open on it without reading it back
    except ImportRejected as rejected:
        st.session_state[_MESSAGE] = ("problems", rejected.problems)
        return
    except CoprodError as error:
        st.session_state[_MESSAGE] = ("error", f"Nothing was imported: {error}")
        return
    counts = staged.project.counts()
    read = ", ".join(f"{n:,} {labels.TABLE_LABELS[t].lower()}" for t, n in counts.items() if n)
    verb = "Replaced the project with" if replace else "Imported"
    st.session_state[_MESSAGE] = ("success", f"{verb} {read or 'nothing'} from {len(files)} file(s).", staged.notices)
    st.session_state[_NONCE] = _nonce() + 1  # a fresh, empty uploader


def _show_message() -> None:
    message = st.session_state.pop(_MESSAGE, None)
    if not message:
        return
    if message[0] == "problems":
        show_problems(message[1], intro="Nothing was imported. Fix these problems in your files and try again.")
    elif message[0] == "error":
        st.error(safe_text(message[1]))
    else:
        st.success(safe_text(message[1]), icon=":material/check_circle:")
        for notice in message[2]:
            st.info(safe_text(notice))


def upload_wizard(info: ProjectInfo) -> None:
    """Upload, check and import files into the open project."""
    _show_message()
    uploads = st.file_uploader(
        "Choose one or more files",
        accept_multiple_files=True,
        key=f"uploader_{_nonce()}",
        help="CSV or Excel files made from the templates below, a zip of CSV files, a Kumu or Gephi export, "
        "GraphML, GEXF, or an attendance sheet. Nothing is saved until you press Import.",
    )
    if not uploads:
        return
    files = [(u.name, u.getvalue()) for u in uploads]
    saved_name, saved = _saved_match_picker(info)
    column_map = {}
    for i, (name, data) in enumerate(files):
        mapping = _file_card(name, data, i, saved, saved_name)
        if mapping:
            column_map[name] = mapping
    _save_match_form(info, column_map)
    mode = st.radio(
        "How to import",
        ["merge", "replace"],
        format_func={"merge": "Add to the project (rows with the same ID are updated)",
                     "replace": "Replace everything in the project with these files"}.get,
        key=f"import_mode_{_nonce()}",
        help="Adding keeps everything already saved. Replacing deletes what is saved first.",
    )
    # a merge resolves names and ids against what is saved; a replace starts from nothing, so it must not
    with st.spinner("Checking the files..."):
        problems = check_files(files, column_map=column_map or None, existing=_existing(info, replace=mode == "replace"))
    if problems:
        show_problems(problems, intro=f"{len(problems)} problem(s) found. Nothing will be imported until they are fixed.")
    else:
        st.success("No problems found. Ready to import.", icon=":material/task_alt:")
    confirmed = True
    if mode == "replace":
        confirmed = st.checkbox(
            "Yes, delete everything saved in this project and use only these files",
            key=f"import_confirm_{_nonce()}",
            help="Download an export first if you may need what is there now.",
        )
    if st.button("Import", type="primary", disabled=bool(problems) or not confirmed, icon=":material/upload:"):
        with st.spinner("Importing... A file with a million rows takes a few seconds. Nothing is saved "
                        "unless all of it is."):
            _import(info, files, column_map, replace=mode == "replace")
        st.rerun()


# --- saved column matches -----------------------------------------------------------------------

def merged_match(column_map: dict[str, dict[str, str]]) -> dict[str, str]:
    """One match (their header -> our column) from every file's matches; the first file wins a clash.

    >>> merged_match({"a.csv": {"Ref": "id", "Who": "name"}, "b.csv": {"Who": "notes", "Org": ""}})
    {'Ref': 'id', 'Who': 'name', 'Org': ''}
    """
    merged: dict[str, str] = {}
    for mapping in column_map.values():
        for header, ours in mapping.items():
            merged.setdefault(str(header), str(ours))
    return merged


def _saved_match_picker(info: ProjectInfo) -> tuple[str, dict[str, str]]:
    """A drop-down of the project's saved column matches; returns the chosen name and match."""
    saved = info.settings.column_maps
    if not saved:
        return "", {}
    names = [_NO_SAVED, *sorted(saved, key=str.lower)]
    chosen = st.selectbox(
        "Use a saved column match",
        names,
        key=SAVED_PICKER,
        help="Matches saved from earlier files. The drop-downs under 'Match columns' start from the one you "
        "choose; you can still change any of them.",
    )
    if chosen == _NO_SAVED or chosen not in saved:
        return "", {}
    st.caption(safe_text(f"Using the saved match '{chosen}' for {len(saved[chosen])} heading(s)."))
    return chosen, dict(saved[chosen])


def save_match(info: ProjectInfo, name_key: str, column_map: dict[str, dict[str, str]]) -> None:
    """Button callback: keep the current files' column matches in the project settings under a name."""
    name = " ".join(str(st.session_state.get(name_key) or "").split())
    match = merged_match(column_map)
    if not name:
        st.session_state[_MESSAGE] = ("error", "Type a name for the column match first. Nothing was saved.")
        return
    if len(name) > MAX_SAVED_NAME:
        st.session_state[_MESSAGE] = ("error", f"Keep the name under {MAX_SAVED_NAME} characters. Nothing was saved.")
        return
    if not match:
        st.session_state[_MESSAGE] = ("error", "Choose at least one column match first (under 'Match columns'). "
                                      "Nothing was saved.")
        return
    db = store()
    try:
        settings = db.project_info(info.id).settings  # the latest saved settings, not the page's copy
        existed = name in settings.column_maps
        maps = {**settings.column_maps, name: match}
        db.save_settings(info.id, dataclasses.replace(settings, column_maps=maps), actor=actor())
    except CoprodError as error:
        st.session_state[_MESSAGE] = ("error", f"The column match was not saved: {error}")
        return
    st.session_state[name_key] = ""
    st.session_state[SAVED_PICKER] = name
    verb = "Updated" if existed else "Saved"
    st.session_state[_MESSAGE] = ("success", f"{verb} the column match '{name}' ({len(match)} heading(s)). "
                                  "Choose it under 'Use a saved column match' for later files.", [])


def _save_match_form(info: ProjectInfo, column_map: dict[str, dict[str, str]]) -> None:
    with st.expander("Save these column matches for later files", icon=":material/bookmark_add:"):
        st.caption("Useful when the same kind of file comes back each month: next time, choose the saved "
                   "match instead of matching every heading again. Saving a name that exists replaces it.")
        left, right = st.columns([3, 1], vertical_alignment="bottom")
        left.text_input("Name for this column match", key=SAVE_NAME, max_chars=MAX_SAVED_NAME,
                        placeholder="For example: council contact list")
        right.button("Save column match", on_click=save_match, args=(info, SAVE_NAME, column_map),
                     icon=":material/bookmark:", disabled=not column_map)
