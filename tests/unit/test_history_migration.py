"""Schema 3 -> 4: a real version-3 database gains history (tables, retention date, triggers) with its data intact."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import sqlalchemy as sa

from coprod_map import schema
from coprod_map.store import Store


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'v3.db'}"
    return request.getfixturevalue("pg_url")


def build_v3(url: str) -> None:
    engine = sa.create_engine(url)
    t = schema.V3_METADATA.tables
    with engine.begin() as conn:
        schema.create_schema(conn, version=3)
        conn.execute(t["projects"].insert(), [{"id": "p1", "name": "Version three", "description": "", "revision": 7,
                                               "created_at": "2025-01-01T00:00:00+00:00",
                                               "updated_at": "2025-02-01T00:00:00+00:00",
                                               "settings": json.dumps({"attributes": {"area": ["north"]}})}])
        conn.execute(t["stakeholders"].insert(), [
            {"project_id": "p1", "id": "s1", "seq": 0, "name": "Ann", "kind": "person", "affected": 2},
            {"project_id": "p1", "id": "s2", "seq": 1, "name": "Club", "kind": "group", "affected": None}])
        conn.execute(t["stakeholder_attributes"].insert(), [{"project_id": "p1", "stakeholder_id": "s1",
                                                             "attribute": "area", "value": "north"}])
        conn.execute(t["relationships"].insert(), [{"project_id": "p1", "id": "r1", "seq": 0, "source": "s1",
                                                    "target": "s2", "type": "knows"}])
        conn.execute(t["record_decisions"].insert(), [{"project_id": "p1", "id": "D1", "seq": 0, "title": "Start"}])
    engine.dispose()


def test_version_3_database_gains_history(db_url):
    build_v3(db_url)
    store = Store(db_url)
    try:
        assert store.schema_version() == schema.SCHEMA_VERSION
        project = store.load("p1")
        assert project.stakeholders[["id", "name", "area"]].values.tolist() == [["s1", "Ann", "north"], ["s2", "Club", ""]]
        assert project.relationships["id"].tolist() == ["r1"] and store.revision("p1") == 7
        assert store.retention_until("p1") == "" and store.history("p1").empty  # history starts at the upgrade
        rows = store.load("p1").stakeholders.iloc[[1]].assign(name="Youth club")
        assert store.apply_edits("p1", "stakeholders", upserts=rows) == 8
        assert store.history("p1")["fields"].iloc[0] == ["stakeholders.name"]
        assert store.state_at("p1", revision=7).stakeholders["name"].tolist() == ["Ann", "Club"]
        store.apply_edits("p1", "stakeholders", deletes=["s1"])
        store.undo("p1")
        pd.testing.assert_frame_equal(store.load("p1").relationships, project.relationships)
        assert store.load("p1").stakeholders.set_index("id").loc["s1", "area"] == "north"
    finally:
        store.close()


def test_failed_upgrade_leaves_version_3_untouched(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'v3.db'}"
    build_v3(url)

    def broken(conn):
        schema._upgrade_3_to_4(conn)
        raise RuntimeError("power cut")

    monkeypatch.setitem(schema.MIGRATIONS, 3, broken)
    with pytest.raises(RuntimeError):
        Store(url)
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT value FROM meta")).scalar() == "3"
        names = sa.inspect(conn).get_table_names()
        assert "changes" not in names and "actions" not in names
        assert conn.execute(sa.text("SELECT count(*) FROM sqlite_master WHERE type = 'trigger'")).scalar() == 0
    engine.dispose()
    monkeypatch.undo()
    store = Store(url)
    assert store.schema_version() == schema.SCHEMA_VERSION and len(store.load("p1").stakeholders) == 2
    store.close()
