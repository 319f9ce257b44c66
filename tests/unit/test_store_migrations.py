"""Schema versions: a real version-1 database is upgraded with its data intact; newer ones are refused."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import sqlalchemy as sa

from coprod_map import schema
from coprod_map.errors import StoreError
from coprod_map.model import NOT_RECORDED
from coprod_map.store import Store


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'old.db'}"
    return request.getfixturevalue("pg_url")


def build_v1(url: str) -> None:
    """A version-1 database made from the stored v1 DDL, holding two projects."""
    engine = sa.create_engine(url)
    t = schema.V1_METADATA.tables
    with engine.begin() as conn:
        schema.create_schema(conn, version=1)
        settings = json.dumps({"attributes": {"area": ["north", "south"]}, "min_cell": 7})
        for pid, name in (("p1", "Old project"), ("p2", "Other")):
            conn.execute(t["projects"].insert(), [{"id": pid, "name": name, "description": "from v1", "revision": 4,
                                                   "created_at": "2024-01-01T00:00:00+00:00",
                                                   "updated_at": "2024-02-01T00:00:00+00:00", "settings": settings}])
            for row in [
                {"project_id": pid, "id": "007", "seq": 0, "name": "James", "kind": "person", "roles": "carer|parent",
                 "affected": 3, "influence": None, "attributes": json.dumps({"area": "north", "age": NOT_RECORDED})},
                {"project_id": pid, "id": "NA", "seq": 1, "name": "NA", "kind": "group", "affected": None,
                 "influence": 2, "attributes": json.dumps({"area": "", "age": "18-24"})},
                {"project_id": pid, "id": "x", "seq": 2, "name": "No attributes", "attributes": ""},
            ]:
                conn.execute(t["stakeholders"].insert(), row)  # one by one: the rows name different columns
            conn.execute(t["relationships"].insert(), [{"project_id": pid, "id": "r1", "seq": 0, "source": "007",
                                                        "target": "NA", "type": "knows", "strength": 2.5}])
            conn.execute(t["activities"].insert(), [{"project_id": pid, "id": "a1", "seq": 0, "title": "Workshop",
                                                     "date": "2024-03-05"}])
            conn.execute(t["participation"].insert(), [{"project_id": pid, "stakeholder_id": "NA", "activity_id": "a1",
                                                        "seq": 0}])
            conn.execute(t["reference"].insert(), [{"project_id": pid, "attribute": "area", "category": "north",
                                                    "seq": 0, "count": 12, "share": None}])
    engine.dispose()


def test_version_1_database_is_upgraded_with_its_data(db_url):
    build_v1(db_url)
    store = Store(db_url)
    try:
        assert store.schema_version() == schema.SCHEMA_VERSION
        with store.engine.connect() as conn:
            columns = {c["name"] for c in sa.inspect(conn).get_columns("stakeholders")}
            assert "attributes" not in columns and "version" in columns
            assert conn.execute(sa.text("SELECT value FROM meta WHERE key = 'schema_version'")).scalar() == str(schema.SCHEMA_VERSION)
        listed = store.list_projects().set_index("id")
        assert listed.loc["p1", "revision"] == 4 and listed.loc["p1", "stakeholders"] == 3
        project = store.load("p1")
        s = project.stakeholders.set_index("id")
        assert list(project.stakeholders.columns[-2:]) == ["area", "age"]  # settings order, then by name
        assert s.loc["007", "area"] == "north" and s.loc["007", "age"] == NOT_RECORDED
        assert s.loc["NA", "area"] == "" and s.loc["NA", "age"] == "18-24" and s.loc["x", "age"] == ""
        assert s.loc["007", "roles"] == ["carer", "parent"] and pd.isna(s.loc["007", "influence"])
        assert project.relationships["strength"].tolist() == [2.5]
        assert project.participation["stakeholder_id"].tolist() == ["NA"]
        assert project.settings.min_cell == 7
        assert store.row_versions("p2", "stakeholders")["version"].tolist() == [1, 1, 1]
        # the upgraded database takes edits like a new one
        assert store.apply_edits("p1", "stakeholders", upserts=pd.DataFrame({"id": ["x"], "name": ["Now named"],
                                                                           "area": ["south"]})) == 5
        assert store.load("p1").stakeholders.set_index("id").loc["x", "area"] == "south"
        assert store.load("p2").stakeholders.set_index("id").loc["x", "area"] == ""
    finally:
        store.close()
    reopened = Store(db_url)  # a second open finds nothing left to do
    assert reopened.schema_version() == schema.SCHEMA_VERSION and len(reopened.load("p1").stakeholders) == 3
    reopened.close()


def test_failed_upgrade_leaves_version_1_untouched(tmp_path, monkeypatch):
    """The upgrade is one transaction: a failure in its last step leaves the v1 data and version as they were."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    build_v1(url)

    def broken(conn):
        schema._upgrade_1_to_2(conn)
        raise RuntimeError("power cut")

    monkeypatch.setitem(schema.MIGRATIONS, 1, broken)
    with pytest.raises(RuntimeError):
        Store(url)
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT value FROM meta")).scalar() == "1"
        assert "stakeholder_attributes" not in sa.inspect(conn).get_table_names()
        rows = conn.execute(sa.text("SELECT attributes FROM stakeholders WHERE project_id='p1' ORDER BY seq")).all()
        assert json.loads(rows[0][0]) == {"area": "north", "age": NOT_RECORDED}
    engine.dispose()
    monkeypatch.undo()
    store = Store(url)  # the next start runs it again, and it completes
    assert store.load("p1").stakeholders.set_index("id").loc["007", "area"] == "north"
    store.close()


def test_newer_schema_is_refused_and_left_alone(tmp_path):
    url = f"sqlite:///{tmp_path / 'new.db'}"
    Store(url).close()
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE meta SET value = '99' WHERE key = 'schema_version'"))
    engine.dispose()
    before = (tmp_path / "new.db").read_bytes()
    with pytest.raises(StoreError, match="newer coprod_map"):
        Store(url)
    assert (tmp_path / "new.db").read_bytes() == before


def test_a_database_of_someone_elses_tables_is_refused(tmp_path):
    url = f"sqlite:///{tmp_path / 'other.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE invoices (id INTEGER)"))
    engine.dispose()
    with pytest.raises(StoreError, match="not coprod_map's"):
        Store(url)


# --- 6 -> 7: participation into columnar sets ---------------------------------------------------------

V6_NOTES = ["", "Zoë said \"yes\"", "line one\nline two", "x" * 5000]


def build_v6(url: str) -> None:
    """A version-6 database with participation written through its history triggers in two audit actions:
    an import (4 rows added) and an edit (one note changed, one row removed)."""
    engine = sa.create_engine(url)
    t = schema.V6_METADATA.tables
    with engine.begin() as conn:
        schema.create_schema(conn, version=6)
        for pid in ("p1", "p2"):
            conn.execute(t["projects"].insert(), [{"id": pid, "name": f"Six {pid}", "description": "", "revision": 0,
                                                   "created_at": "2025-01-01T00:00:00+00:00",
                                                   "updated_at": "2025-01-01T00:00:00+00:00", "settings": "{}"}])
            conn.execute(t["stakeholders"].insert(), [{"project_id": pid, "id": f"s{i}", "seq": i, "name": f"P{i}"}
                                                      for i in range(3)])
            conn.execute(t["activities"].insert(), [{"project_id": pid, "id": f"a{i}", "seq": i, "title": f"E{i}"}
                                                    for i in range(2)])
            rows = [("s2", "a1", V6_NOTES[0]), ("s0", "a0", V6_NOTES[1]), ("s1", "a0", V6_NOTES[2]), ("s1", "a1", V6_NOTES[3])]
            conn.execute(t["participation"].insert(), [{"project_id": pid, "stakeholder_id": s, "activity_id": a,
                                                        "seq": 10 + i, "notes": n} for i, (s, a, n) in enumerate(rows)])
            _close_v6_action(conn, pid, 1, "import")
            conn.execute(sa.text("UPDATE participation SET notes = 'changed' WHERE project_id = :p AND stakeholder_id = 's0'"),
                         {"p": pid})
            conn.execute(sa.text("DELETE FROM participation WHERE project_id = :p AND stakeholder_id = 's2'"), {"p": pid})
            _close_v6_action(conn, pid, 2, "edit")
    engine.dispose()


def _close_v6_action(conn, pid: str, revision: int, kind: str) -> None:  # noqa: ANN001
    a = schema.V6_METADATA.tables["actions"]
    action = conn.execute(a.insert().values(project_id=pid, at=f"2025-01-0{revision + 1}T00:00:00+00:00", actor="me",
                                            kind=kind, summary=kind, fields="", revision=revision)).inserted_primary_key[0]
    conn.execute(sa.text("UPDATE changes SET action_id = :a WHERE project_id = :p AND action_id IS NULL"),
                 {"a": action, "p": pid})
    conn.execute(sa.text("UPDATE projects SET revision = :r WHERE id = :p"), {"r": revision, "p": pid})


def test_version_6_participation_becomes_a_set_and_its_history_stays(db_url):
    from coprod_map import participation_sets

    build_v6(db_url)
    store = Store(db_url)
    try:
        assert store.schema_version() == 7
        with store.engine.connect() as conn:
            names = set(sa.inspect(conn).get_table_names())
            assert "participation" not in names and "participation_sets" in names
            assert "payload" in {c["name"] for c in sa.inspect(conn).get_columns("changes")}
            if conn.dialect.name == "sqlite":
                triggers = {r[0] for r in conn.execute(sa.text("SELECT name FROM sqlite_master WHERE type = 'trigger'"))}
            else:
                triggers = {r[0] for r in conn.execute(sa.text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"))}
            assert not {t for t in triggers if "participation" in t}
            assert {"history_stakeholders_insert", "history_stakeholders"} & triggers  # the others' triggers stay
            assert conn.execute(sa.text("SELECT count(*) FROM changes WHERE op = 'batch'")).scalar() == 0  # not a user change
            legacy = conn.execute(sa.text("SELECT op, count(*) FROM changes WHERE table_name = 'participation' "
                                          "AND project_id = 'p1' GROUP BY op ORDER BY op")).all()
            assert [tuple(r) for r in legacy] == [("delete", 1), ("insert", 4), ("update", 1)]
            stored = participation_sets.read(conn, "p1")
        # the set holds the rows as they were, ordered by seq, with their seq and exact notes
        assert stored.values.tolist() == [["s0", "a0", 11, "changed"], ["s1", "a0", 12, V6_NOTES[2]],
                                          ["s1", "a1", 13, V6_NOTES[3]]]
        for pid in ("p1", "p2"):
            part = store.load(pid).participation
            assert part[["stakeholder_id", "activity_id", "notes"]].values.tolist() == [
                ["s0", "a0", "changed"], ["s1", "a0", V6_NOTES[2]], ["s1", "a1", V6_NOTES[3]]]
        assert store.list_projects().set_index("id").loc["p1", "participation"] == 3
        # history from before the upgrade still lists its participation changes
        changes = store.changes("p1")
        mine = changes.loc[changes["table_name"] == "participation"]
        assert sorted(mine["op"]) == ["delete", "insert", "insert", "insert", "insert", "update"]
        assert set(mine.loc[mine["op"] == "delete", "key"]) == {"s2 / a1"}
        # deleting a stakeholder now drops their participation through a batch
        revision = store.apply_edits("p1", "stakeholders", deletes=["s1"])
        assert revision == 3
        assert store.load("p1").participation["stakeholder_id"].tolist() == ["s0"]
        assert store.load("p2").participation["stakeholder_id"].tolist() == ["s0", "s1", "s1"]  # kept apart
        with store.engine.connect() as conn:
            found = conn.execute(sa.text("SELECT new FROM changes WHERE op = 'batch' AND project_id = 'p1'")).all()
        assert [json.loads(r[0]) for r in found] == [{"insert": 0, "update": 0, "delete": 2}]
        assert "2 participation records removed" in store.history("p1")["summary"].iloc[0]
    finally:
        store.close()


def test_failed_upgrade_6_to_7_leaves_version_6_untouched(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'six.db'}"
    build_v6(url)

    def broken(conn):  # noqa: ANN001
        schema._upgrade_6_to_7(conn)
        raise RuntimeError("power cut")

    monkeypatch.setitem(schema.MIGRATIONS, 6, broken)
    with pytest.raises(RuntimeError):
        Store(url)
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT value FROM meta")).scalar() == "6"
        assert conn.execute(sa.text("SELECT count(*) FROM participation")).scalar() == 6
        assert "participation_sets" not in sa.inspect(conn).get_table_names()
    engine.dispose()
    monkeypatch.undo()
    store = Store(url)
    assert len(store.load("p1").participation) == 3
    store.close()
