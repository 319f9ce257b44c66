"""Shared set-up for the page tests: a real SQLite file holding a small project, pages run by AppTest."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from streamlit.testing.v1 import AppTest

from coprod_map.model import Project, ProjectSettings, normalise_frame
from coprod_map.store import Store

ROOT = Path(__file__).resolve().parents[2]
#: The ``[auth]`` section a deployment puts in ``.streamlit/secrets.toml`` (set as ``at.secrets["auth"]``).
AUTH = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "a-long-random-secret-for-tests-only-0123456789",
    "client_id": "coprod-test",
    "client_secret": "not-a-real-secret",
    "server_metadata_url": "https://idp.invalid/.well-known/openid-configuration",
}


def small_project() -> Project:
    """Three stakeholders, one tie, one activity, two participation records, one attribute."""
    return Project(
        stakeholders=normalise_frame("stakeholders", pd.DataFrame({
            "id": ["s1", "s2", "s3"], "name": ["Ann", "Youth club", "Council"],
            "kind": ["person", "group", "organisation"], "involvement": ["consulted", "involved", "informed"],
            "affected": [3, 2, 1], "influence": [1, 2, 5], "age band": ["16-24", "25-64", ""],
        })),
        relationships=normalise_frame("relationships", pd.DataFrame({
            "id": ["r1"], "source": ["s1"], "target": ["s2"], "type": ["knows"], "direction": ["mutual"],
        })),
        activities=normalise_frame("activities", pd.DataFrame({
            "id": ["a1"], "title": ["First workshop"], "date": ["2026-03-01"], "kind": ["workshop"],
        })),
        participation=normalise_frame("participation", pd.DataFrame({
            "stakeholder_id": ["s1", "s2"], "activity_id": ["a1", "a1"],
        })),
        settings=ProjectSettings(attributes={"age band": ["16-24", "25-64", "65+"]}),
    )


def make_store(url: str, monkeypatch) -> tuple[Store, str]:
    """Point the app at ``url`` and fill it with ``small_project`` (returns the store and project id)."""
    monkeypatch.setenv("COPROD_MAP_DB", url)
    store = Store(url)
    project_id = store.create_project("Riverside test", settings=small_project().settings)
    store.import_project(project_id, small_project())
    return store, project_id


def page(name: str, project_id: str | None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / f"{name}.py"), default_timeout=30)
    if project_id:
        at.session_state["project_id"] = project_id
    return at.run()


def texts(at: AppTest) -> str:
    """Every piece of text on the page, joined (for 'is this shown' checks)."""
    parts = []
    for kind in ("markdown", "text", "caption", "success", "error", "warning", "info", "title", "subheader", "header"):
        parts += [str(e.value) for e in getattr(at, kind)]
    return "\n".join(parts).replace("\\", "")
