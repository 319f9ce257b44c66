"""Session state: which store and which project this browser tab is working on.

``st.session_state`` holds choices (the open project id), never copies of the data: the store
is the only source of truth.
"""

from __future__ import annotations

import contextlib

import streamlit as st
from streamlit.errors import StreamlitAPIException

from coprod_map.errors import ProjectNotFound
from coprod_map.store import ProjectInfo, Store, default_database_url
from coprod_map.ui.auth import guard

PROJECT_KEY = "project_id"


@st.cache_resource(show_spinner="Opening the database. After an update of coprod_map this can take a minute "
                   "the first time, while a big database is brought up to date.")
def _open_store(url: str) -> Store:
    return Store(url)


def store() -> Store:
    """The store this app runs on (``COPROD_MAP_DB`` or the embedded SQLite default)."""
    return _open_store(default_database_url())


def current_project_id() -> str | None:
    return st.session_state.get(PROJECT_KEY)


def set_project(project_id: str | None) -> None:
    if project_id is None:
        st.session_state.pop(PROJECT_KEY, None)
    else:
        st.session_state[PROJECT_KEY] = project_id


def require_project() -> ProjectInfo:
    """The open project's info; otherwise a prompt to choose one, and the page stops.

    The access guard runs first (sign-in, membership, the calling page's role), outside every cache."""
    guard()
    project_id = current_project_id()
    if project_id:
        try:
            return store().project_info(project_id)
        except ProjectNotFound:
            set_project(None)
    st.info("No project is open. Choose or create one on the Projects page first.")
    # outside the app's navigation (a page run on its own) there is no page to link to
    with contextlib.suppress(StreamlitAPIException):
        st.page_link("pages/home.py", label="Go to Projects")
    st.stop()
    raise AssertionError("unreachable")
