"""The only place analysis meets Streamlit's caches.

Every cached function is keyed on ``(project_id, revision, options)``: the cache is shared by
every user of the app, and a save moves the revision on, so results are never stale and
projects never share an entry. Cached values are shared objects: never mutate them.
"""

from __future__ import annotations

import streamlit as st

from coprod_map.model import Project
from coprod_map.ui.state import store


@st.cache_resource(max_entries=16, show_spinner=False)
def load_project(project_id: str, revision: int) -> Project:
    """The whole project as it is at ``revision`` (read-only: shared between sessions)."""
    del revision  # part of the cache key only
    return store().load(project_id)


@st.cache_resource(max_entries=8, show_spinner="Preparing the file...")
def export_file(project_id: str, revision: int, fmt: str, name: str, private: bool = False) -> tuple[str, bytes, str]:
    """``(file name, bytes, MIME type)`` of the project at ``revision`` in export format ``fmt``, with its
    co-production record; people's stated needs only when ``private`` (the app has no sign-in yet)."""
    from coprod_map.io.export import export_project
    from coprod_map.record_store import load_record

    return export_project(load_project(project_id, revision), fmt, name=name,
                          record=load_record(store(), project_id), private=private)
