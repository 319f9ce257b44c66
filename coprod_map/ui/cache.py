"""The only place analysis meets Streamlit's caches.

Every cached function is keyed on ``(project_id, revision, options)``: the cache is shared by
every user of the app, and a save moves the revision on, so results are never stale and
projects never share an entry. Cached values are shared objects: never mutate them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import streamlit as st

from coprod_map.model import Project
from coprod_map.ui.state import store

#: Projects just imported, as the store now holds them, waiting for their first ``load_project``.
#: At most two are kept (a big project is hundreds of MiB); an unclaimed one is simply read back later.
_handed_off: dict[tuple[str, int], Project] = {}
_handed_off_lock = threading.Lock()
_HAND_OFF_LIMIT = 2


def keep_loaded(project_id: str) -> Callable[[int, Project], None]:
    """The ``loaded`` callback for ``Store.import_project``: the imported project, already in memory,
    becomes the first ``load_project`` of its new revision instead of being read back from the
    database (4 s of a 100,000-stakeholder project's first view)."""

    def keep(revision: int, project: Project) -> None:
        with _handed_off_lock:
            _handed_off[(project_id, revision)] = project
            while len(_handed_off) > _HAND_OFF_LIMIT:
                del _handed_off[next(iter(_handed_off))]

    return keep


@st.cache_resource(max_entries=16, show_spinner=False)
def load_project(project_id: str, revision: int) -> Project:
    """The whole project as it is at ``revision`` (read-only: shared between sessions)."""
    with _handed_off_lock:
        kept = _handed_off.pop((project_id, revision), None)
    return kept if kept is not None else store().load(project_id)


@st.cache_resource(max_entries=8, show_spinner="Preparing the file...")
def export_file(project_id: str, revision: int, fmt: str, name: str, private: bool = False) -> tuple[str, bytes, str]:
    """``(file name, bytes, MIME type)`` of the project at ``revision`` in export format ``fmt``, with its
    co-production record; people's stated needs only when ``private`` (the app has no sign-in yet)."""
    from coprod_map.io.export import export_project
    from coprod_map.record_store import load_record

    return export_project(load_project(project_id, revision), fmt, name=name,
                          record=load_record(store(), project_id), private=private)
