"""Fixtures shared by every test layer: real SQLite files, the sample project."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.pg import pg_server, pg_url  # noqa: F401  (fixtures: a PostgreSQL server the tests start themselves)

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


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_store(request, sqlite_url: str):
    """A store on a fresh SQLite file, then on a fresh PostgreSQL database: the same test runs on both."""
    from coprod_map.store import Store

    url = sqlite_url if request.param == "sqlite" else request.getfixturevalue("pg_url")
    s = Store(url)
    yield s
    s.close()


@pytest.fixture
def sample_project(store):
    """(store, project_id) holding the sample project, loaded the way the app loads it."""
    from coprod_map.sample import load_sample

    return store, load_sample(store)
