"""Fixtures shared by every test layer: real SQLite files, the sample project."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_DIR = ROOT / "sample_data"


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A URL for a fresh SQLite database file of this test's own."""
    return f"sqlite:///{tmp_path / 'coprod_map.db'}"


@pytest.fixture
def store(sqlite_url: str):
    from coprod_map.store import Store

    s = Store(sqlite_url)
    yield s
    s.close()


@pytest.fixture
def sample_project(store):
    """(store, project_id) holding the sample project, loaded the way the app loads it."""
    from coprod_map.sample import load_sample

    return store, load_sample(store)
