"""The Projects page's actions: open, create, rename, copy, delete a project, open the sample.

Each action is a widget callback: it runs before the page is drawn, writes one change through the
store, and leaves a message for the page to show.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pandas as pd
import streamlit as st

from coprod_map.errors import CoprodError
from coprod_map.store import ProjectInfo
from coprod_map.ui.auth import actor, allowed, make_owner, may_create_projects
from coprod_map.ui.state import current_project_id, set_project, store
from coprod_map.ui.widgets import show_once

__all__ = [
    "COUNTED_TABLES",
    "PICKER_KEY",
    "copy_current",
    "create_project",
    "delete_current",
    "open_chosen",
    "open_sample",
    "project_counts",
    "rename_current",
    "show_message",
    "when",
]

PICKER_KEY = "home_project_picker"
_MESSAGE = "_home_message"
COUNTED_TABLES = ("stakeholders", "relationships", "activities", "participation")
_NOT_ALLOWED = "Not done: your role in this project does not allow it. Ask the project's owner."


def _say(kind: str, text: str) -> None:
    st.session_state[_MESSAGE] = (kind, text)


def show_message() -> None:
    """The outcome of the last action (shown once, as text)."""
    show_once(_MESSAGE)


def _open(project_id: str | None) -> None:
    set_project(project_id)
    st.session_state[PICKER_KEY] = project_id


def _guard(action: Callable[[], None]) -> None:
    try:
        action()
    except CoprodError as error:
        problems = getattr(error, "problems", None)
        detail = " ".join(p.message[:1].upper() + p.message[1:] for p in problems) if problems else str(error)
        _say("error", f"That did not work. {detail}")
    except ValueError as error:  # e.g. a blank or duplicate name refused by the store
        _say("error", f"That did not work: {error}")


def open_chosen() -> None:
    set_project(st.session_state.get(PICKER_KEY))  # the page's guard closes it again if this person may not open it


def open_sample() -> None:
    if not may_create_projects():  # widget callbacks run before the page's guard: check again
        return

    def run() -> None:
        from coprod_map.sample import load_sample
        from coprod_map.store import acting_as

        with acting_as(actor()):
            project_id = load_sample(store())
        make_owner(project_id)
        _open(project_id)
        _say("success", "The sample project is open. Have a look around: nothing you change here affects your own projects.")

    _guard(run)


def create_project(name_key: str, description_key: str) -> None:
    if not may_create_projects():
        return
    name = str(st.session_state.get(name_key, "")).strip()
    description = str(st.session_state.get(description_key, "")).strip()
    if not name:
        _say("error", "Type a name for the new project first.")
        return

    def run() -> None:
        project_id = store().create_project(name, description=description, actor=actor())
        make_owner(project_id)  # with sign-in, its creator owns it (and can add others)
        _open(project_id)
        st.session_state[name_key] = ""
        st.session_state[description_key] = ""
        _say("success", f"Created and opened '{name}'.")

    _guard(run)


def _current_and_name(name_key: str, *, blank: str) -> tuple[str, str] | None:
    """The open project and the name typed under ``name_key``; None (and the reason said) when this person may
    not edit it, or nothing is open or typed."""
    if not allowed("edit"):  # widget callbacks run before the page's guard: check again
        _say("error", _NOT_ALLOWED)
        return None
    project_id = current_project_id()
    name = str(st.session_state.get(name_key, "")).strip()
    if not project_id or not name:
        _say("error", blank)
        return None
    return project_id, name


def rename_current(name_key: str, description_key: str) -> None:
    chosen = _current_and_name(name_key, blank="Type the new name first.")
    if chosen is None:
        return
    project_id, name = chosen

    def run() -> None:
        description = st.session_state.get(description_key)
        description = str(description).strip() if description else None  # blank keeps the old one
        store().rename_project(project_id, name, description=description, actor=actor())
        _say("success", f"Renamed to '{name}'.")

    _guard(run)


def copy_current(name_key: str) -> None:
    chosen = _current_and_name(name_key, blank="Type a name for the copy first.")
    if chosen is None:
        return
    project_id, name = chosen

    def run() -> None:
        copied = store().copy_project(project_id, name, actor=actor())
        make_owner(copied)
        _open(copied)
        st.session_state[name_key] = ""
        _say("success", f"Made a copy called '{name}' and opened it.")

    _guard(run)


def delete_current(confirm_key: str, expected_name: str) -> None:
    if not allowed("manage"):
        _say("error", _NOT_ALLOWED)
        return
    project_id = current_project_id()
    typed = str(st.session_state.get(confirm_key, "")).strip()
    if not project_id:
        return
    if typed != expected_name.strip():
        _say("error", "The name you typed does not match, so nothing was deleted.")
        return

    def run() -> None:
        store().delete_project(project_id, actor=actor())
        _open(None)
        st.session_state[confirm_key] = ""
        _say("info", f"Deleted the project '{expected_name}'.")

    _guard(run)


def project_counts(projects: pd.DataFrame, info: ProjectInfo) -> dict[str, int]:
    """Row counts of the open project, from the store's project list (loaded when it lacks them)."""
    row = projects.loc[projects["id"] == info.id]
    if len(row) and all(t in row.columns for t in COUNTED_TABLES):
        return {t: int(row.iloc[0][t]) for t in COUNTED_TABLES}
    from coprod_map.ui.cache import load_project

    counts = load_project(info.id, info.revision).counts()
    return {t: counts[t] for t in COUNTED_TABLES}


def when(iso: str) -> str:
    """An ISO UTC time as '26 Nov 2026, 14:05 UTC' (the text itself when it is not a time)."""
    try:
        moment = datetime.fromisoformat(str(iso).replace("Z", "+00:00"))
    except ValueError:
        return str(iso)
    return moment.strftime("%d %b %Y, %H:%M UTC")
