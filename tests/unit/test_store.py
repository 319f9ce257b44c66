"""The store on real databases: a SQLite file and a real PostgreSQL server (tests/pg.py), same tests."""

from __future__ import annotations

import hashlib

import pandas as pd
import pytest
import sqlalchemy as sa

from coprod_map import schema
from coprod_map.errors import EditRejected, ImportRejected, ProjectNotFound
from coprod_map.model import NOT_RECORDED, PREFER_NOT_TO_SAY, TABLES, Project, ProjectSettings
from coprod_map.store import Store, default_database_url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def db(db_url):
    store = Store(db_url)
    yield store
    store.close()


def digest(store: Store) -> str:
    """A hash of every row of every table, in key order: equal digests mean nothing was written."""
    h = hashlib.sha256()
    with store.engine.connect() as conn:
        for name, table in sorted(schema.METADATA.tables.items()):
            keys = [c for c in table.primary_key.columns]
            for row in conn.execute(sa.select(table).order_by(*keys)):
                h.update(repr((name, tuple(row))).encode())
    return h.hexdigest()


def build_project() -> Project:
    """Awkward values on purpose: leading zeros, 'NA' names, lists, every kind of blank."""
    stakeholders = pd.DataFrame({
        "id": ["007", "NA", "0123456789", "s4"],
        "name": ["James", "NA", "None", "Café Ünïcode <b>"],
        "kind": ["person", "group", "organisation", "community_asset"],
        "roles": [["carer", "parent"], [], ["commissioner"], ["venue"]],
        "experience": [["lived", "professional"], ["personal"], [], []],
        "affected": [3, None, 0, 1],
        "influence": [None, 5, 2, 0],
        "involvement": ["co_producing", "informed", "", "consulted"],
        "speaks_for": [["young people"], [], [], ["carers", "residents"]],
        "speaks_basis": ["lived_experience", "", "", "elected"],
        "notes": ["=HYPERLINK(\"x\")", "", "line one\nline two", ""],
        "age_band": ["18-24", NOT_RECORDED, "", PREFER_NOT_TO_SAY],
        "area": ["north", "south", PREFER_NOT_TO_SAY, ""],
    })
    relationships = pd.DataFrame({
        "id": ["r1", "r2", "r3"],
        "source": ["007", "NA", "0123456789"],
        "target": ["NA", "s4", "007"],
        "type": ["knows", "funds", "works with"],
        "direction": ["directed", "mutual", "undirected"],
        "strength": [2.5, None, 0.0],
        "since": ["2023-01-02", "", ""],
        "until": ["", "", "2024-12-31"],
        "notes": ["", "pays for the room", ""],
    })
    activities = pd.DataFrame({
        "id": ["a1", "a2"], "title": ["First workshop", "Survey"], "date": ["2024-03-05", ""],
        "kind": ["workshop", "survey"], "cycle": ["1", ""], "notes": ["", ""],
    })
    participation = pd.DataFrame({
        "stakeholder_id": ["007", "NA", "007"], "activity_id": ["a1", "a1", "a2"], "notes": ["", "late", ""],
    })
    reference = pd.DataFrame({
        "attribute": ["age_band", "age_band", "area"], "category": ["18-24", "25-34", "north"],
        "count": [120, None, 40], "share": [0.3, 0.25, None], "source": ["census 2021", "", ""],
    })
    return Project(stakeholders=stakeholders, relationships=relationships, activities=activities,
                   participation=participation, reference=reference).normalised()


def assert_same_tables(got: Project, want: Project) -> None:
    for table in TABLES:
        expected = want.table(table).drop(columns=["_file", "_row"], errors="ignore")
        pd.testing.assert_frame_equal(got.table(table), expected, obj=table)


def table_counts(store: Store, project_id: str) -> dict[str, int]:
    with store.engine.connect() as conn:
        return {name: conn.execute(sa.select(sa.func.count()).select_from(t).where(t.c.project_id == project_id)).scalar()
                for name, t in schema.METADATA.tables.items() if "project_id" in t.c}


# --- projects -------------------------------------------------------------------------------------

def test_create_list_rename_copy_delete(db):
    a = db.create_project("Youth panel", description="who shapes the service")
    b = db.create_project("Carers network")
    assert len(a) == 8 and int(a, 16) >= 0 and a != b
    listed = db.list_projects()
    assert list(listed.columns) == ["id", "name", "description", "revision", "updated_at", *TABLES]
    assert listed["name"].tolist() == ["Carers network", "Youth panel"]  # sorted by name
    assert db.find_project("Youth panel") == a and db.find_project(a) == a and db.find_project("youth PANEL") == a
    assert db.rename_project(a, "Youth forum", description="new words") == 1
    info = db.project_info(a)
    assert (info.name, info.description, info.revision) == ("Youth forum", "new words", 1)
    db.import_project(a, build_project())
    c = db.copy_project(a, "Youth forum (copy)")
    assert_same_tables(db.load(c), db.load(a))
    assert db.project_info(c).settings == db.project_info(a).settings
    counts = db.list_projects().set_index("name")
    assert counts.loc["Youth forum (copy)", "stakeholders"] == 4 and counts.loc["Youth forum", "relationships"] == 3
    assert counts.loc["Carers network", "stakeholders"] == 0
    db.delete_project(a)
    assert set(db.list_projects()["id"]) == {b, c}
    assert all(n == 0 for n in table_counts(db, a).values())
    assert table_counts(db, c)["stakeholder_attributes"] == 6  # the copy kept every non-blank attribute value
    with pytest.raises(ProjectNotFound):
        db.find_project("Youth forum")
    with pytest.raises(ProjectNotFound):
        db.load(a)


@pytest.mark.parametrize("name", ["", "   "])
def test_blank_project_name_is_refused(db, name):
    with pytest.raises(EditRejected) as caught:
        db.create_project(name)
    assert caught.value.problems[0].column == "name"
    assert db.list_projects().empty


def test_duplicate_project_name_is_refused(db):
    a = db.create_project("Panel")
    db.create_project("Other")
    with pytest.raises(EditRejected, match="nothing was saved") as caught:
        db.create_project("panel ")
    assert "already exists" in caught.value.details()
    with pytest.raises(EditRejected):
        db.copy_project(a, "Other")
    with pytest.raises(EditRejected):
        db.rename_project(a, "OTHER")
    assert db.list_projects()["name"].tolist() == ["Other", "Panel"] and db.revision(a) == 0


# --- round trip -------------------------------------------------------------------------------------

def test_load_returns_exactly_what_was_saved(db):
    project = build_project()
    pid = db.create_project("Round trip")
    db.import_project(pid, project)
    loaded = db.load(pid)
    assert_same_tables(loaded, project)
    s = loaded.stakeholders.set_index("id")
    assert s.loc["007", "roles"] == ["carer", "parent"] and s.loc["NA", "name"] == "NA"
    assert s.loc["0123456789", "name"] == "None" and s.loc["NA", "age_band"] == NOT_RECORDED
    assert s.loc["0123456789", "age_band"] == "" and s.loc["s4", "age_band"] == PREFER_NOT_TO_SAY
    assert s.loc["NA", "affected"] is pd.NA and loaded.relationships["strength"].isna().tolist() == [False, True, False]
    assert loaded.settings.attributes == {"age_band": ["18-24"], "area": ["north", "south"]}


def test_settings_round_trip_and_fix_the_attribute_order(db):
    settings = ProjectSettings(attributes={"area": ["north", "south"], "age_band": ["18-24", "25-34"]},
                               relationship_types=["knows", "funds", "works with"], min_cell=10,
                               cycles=[{"name": "Cycle 1", "start": "2024-01-01", "end": "2024-06-30"}])
    pid = db.create_project("Settings", settings=settings)
    assert db.project_info(pid).settings == settings
    db.import_project(pid, build_project())
    loaded = db.load(pid)
    assert list(loaded.stakeholders.columns[-2:]) == ["area", "age_band"]  # settings order, not file order
    assert loaded.settings.min_cell == 10 and loaded.settings.cycles[0]["name"] == "Cycle 1"
    new = ProjectSettings.from_dict({**settings.to_dict(), "min_cell": 3})
    assert db.save_settings(pid, new) == db.revision(pid) == 2
    assert db.load(pid).settings.min_cell == 3


def test_import_adds_new_types_and_attributes_to_settings(db):
    pid = db.create_project("Vocab", settings=ProjectSettings(relationship_types=["knows"], attributes={}))
    project = build_project()
    db.import_project(pid, project)
    settings = db.project_info(pid).settings
    assert settings.relationship_types == ["knows", "funds", "works with"]
    assert settings.attributes == {"age_band": ["18-24"], "area": ["north", "south"]}


# --- revisions, merges, edits ---------------------------------------------------------------------------

def test_revision_moves_on_once_per_change(db):
    pid = db.create_project("Revisions")
    assert db.revision(pid) == 0
    assert db.import_project(pid, build_project()) == 1
    assert db.apply_edits(pid, "stakeholders", upserts=pd.DataFrame({"id": ["NA"], "name": ["Renamed"]})) == 2
    assert db.apply_edits(pid, "relationships", deletes=["r1", "r2"]) == 3
    assert db.save_settings(pid, ProjectSettings()) == 4
    assert db.rename_project(pid, "Revisions 2") == 5
    assert db.apply_edits(pid, "stakeholders") == 5  # an empty edit is not a change
    assert db.revision(pid) == db.project_info(pid).revision == 5


def test_merge_import_replaces_rows_by_key_and_appends_new_ones(db):
    pid = db.create_project("Merge")
    db.import_project(pid, build_project())
    incoming = Project(
        stakeholders=pd.DataFrame({"id": ["NA", "new1"], "name": ["Neighbours' group", "Newcomer"],
                                   "kind": ["group", "person"], "area": ["north", "south"]}),
        relationships=pd.DataFrame({"id": ["r9"], "source": ["new1"], "target": ["007"], "type": ["mentors"]}),
    ).normalised()
    assert db.import_project(pid, incoming) == 2
    loaded = db.load(pid)
    s = loaded.stakeholders
    assert s["id"].tolist() == ["007", "NA", "0123456789", "s4", "new1"]  # replaced in place, new at the end
    row = s.set_index("id").loc["NA"]
    assert row["name"] == "Neighbours' group" and row["area"] == "north"
    assert row["age_band"] == NOT_RECORDED  # a column the file did not have keeps its saved value
    assert row["roles"] == []  # whole-row upsert: core columns come from the file
    assert loaded.relationships["id"].tolist() == ["r1", "r2", "r3", "r9"]
    assert "mentors" in loaded.settings.relationship_types
    versions = db.row_versions(pid, "stakeholders").set_index("id")["version"]
    assert versions.to_dict() == {"007": 1, "NA": 2, "0123456789": 1, "s4": 1, "new1": 1}


def test_replace_import_swaps_everything(db):
    pid = db.create_project("Replace")
    db.import_project(pid, build_project())
    incoming = Project(stakeholders=pd.DataFrame({"id": ["s4", "x"], "name": ["Hall", "X"]})).normalised()
    db.import_project(pid, incoming, replace=True)
    loaded = db.load(pid)
    assert loaded.stakeholders["id"].tolist() == ["s4", "x"]
    assert loaded.stakeholders.set_index("id").loc["s4", "area"] == ""  # replaced whole
    assert loaded.counts() == {"stakeholders": 2, "relationships": 0, "activities": 0, "participation": 0,
                               "reference": 0}
    assert table_counts(db, pid)["stakeholder_attributes"] == 0


def test_edits_upsert_and_delete_with_every_kind_of_key(db):
    pid = db.create_project("Keys")
    db.import_project(pid, build_project())
    db.apply_edits(pid, "participation", upserts=pd.DataFrame({"stakeholder_id": ["s4"], "activity_id": ["a2"]}),
                   deletes=[("007", "a1")])
    db.apply_edits(pid, "reference", upserts=pd.DataFrame({"attribute": ["area"], "category": ["north"], "count": ["41"]}),
                   deletes=[("age_band", "25-34")])
    loaded = db.load(pid)
    assert list(zip(loaded.participation["stakeholder_id"], loaded.participation["activity_id"], strict=True)) == [
        ("NA", "a1"), ("007", "a2"), ("s4", "a2")]
    ref = loaded.reference.set_index(["attribute", "category"])
    assert ref.index.tolist() == [("age_band", "18-24"), ("area", "north")]
    assert ref.loc[("area", "north"), "count"] == 41 and pd.isna(ref.loc[("area", "north"), "share"])


def test_attribute_only_edit_moves_that_rows_version(db):
    pid = db.create_project("Versions")
    db.import_project(pid, build_project())
    db.apply_edits(pid, "stakeholders", upserts=pd.DataFrame({"id": ["s4"], "name": ["Café Ünïcode <b>"],
                                                              "kind": ["community_asset"], "roles": ["venue"],
                                                              "affected": [1], "influence": [0],
                                                              "involvement": ["consulted"],
                                                              "speaks_for": ["carers|residents"],
                                                              "speaks_basis": ["elected"], "area": ["south"]}))
    versions = db.row_versions(pid, "stakeholders").set_index("id")["version"]
    assert versions.to_dict() == {"007": 1, "NA": 1, "0123456789": 1, "s4": 2}
    assert db.load(pid).stakeholders.set_index("id").loc["s4", "area"] == "south"


def test_deleting_a_stakeholder_removes_its_ties_and_attendance(db):
    pid = db.create_project("Cascade")
    db.import_project(pid, build_project())
    db.apply_edits(pid, "stakeholders", deletes=["007"])
    loaded = db.load(pid)
    assert loaded.relationships["id"].tolist() == ["r2"]  # r1 and r3 touched 007
    assert loaded.participation["stakeholder_id"].tolist() == ["NA"]
    assert table_counts(db, pid)["stakeholder_attributes"] == 4  # 007 had two of the six attribute values
    db.apply_edits(pid, "activities", deletes=["a1"])
    assert db.load(pid).participation.empty


# --- refused changes write nothing ------------------------------------------------------------------

def test_refused_import_changes_nothing(db):
    pid = db.create_project("Refused import")
    db.import_project(pid, build_project())
    before, revision = digest(db), db.revision(pid)
    bad = Project(
        stakeholders=pd.DataFrame({"id": ["n1", "n1"], "name": ["A", "B"], "kind": ["martian", "person"],
                                   "_file": ["people.csv", "people.csv"], "_row": [2, 3]}),
        relationships=pd.DataFrame({"id": ["r7"], "source": ["ghost"], "target": ["007"],
                                    "_file": ["ties.csv"], "_row": [2]}),
    ).normalised()
    with pytest.raises(ImportRejected) as caught:
        db.import_project(pid, bad)
    lines = caught.value.details().splitlines()
    assert any(line.startswith("people.csv, row 3, column 'id'") for line in lines)
    assert any(line.startswith("people.csv, row 2, column 'kind'") and "martian" in line for line in lines)
    assert any(line.startswith("ties.csv, row 2, column 'source'") and "ghost" in line for line in lines)
    assert digest(db) == before and db.revision(pid) == revision


def test_refused_edit_changes_nothing_and_names_table_id_and_column(db):
    pid = db.create_project("Refused edit")
    db.import_project(pid, build_project())
    before = digest(db)
    with pytest.raises(EditRejected) as caught:
        db.apply_edits(pid, "stakeholders", upserts=pd.DataFrame({"id": ["007"], "name": ["J"], "influence": ["9"]}),
                       deletes=["NA"])
    problem = caught.value.problems[0]
    assert (problem.file, problem.column) == ("Stakeholders table", "influence") and "'007'" in problem.message
    with pytest.raises(EditRejected) as caught:
        db.apply_edits(pid, "relationships", upserts=pd.DataFrame({"id": ["r1"], "source": ["007"], "target": ["NA"],
                                                                   "strength": ["strong"]}))
    assert "'r1'" in str(caught.value.problems[0]) and caught.value.problems[0].column == "strength"
    with pytest.raises(EditRejected):  # deleting an activity is fine, pointing attendance at it is not
        db.apply_edits(pid, "participation", upserts=pd.DataFrame({"stakeholder_id": ["s4"], "activity_id": ["a9"]}))
    with pytest.raises(EditRejected):
        db.apply_edits(pid, "nonsense", deletes=["x"])
    assert digest(db) == before and db.revision(pid) == 1


def test_projects_are_kept_apart(db):
    a = db.create_project("A")
    b = db.create_project("B")
    db.import_project(a, build_project())
    db.import_project(b, build_project())  # the very same ids in another project
    db.apply_edits(a, "stakeholders", deletes=["007"])
    db.apply_edits(b, "stakeholders", upserts=pd.DataFrame({"id": ["NA"], "name": ["Only in B"], "kind": ["group"]}))
    assert db.load(a).stakeholders.set_index("id").loc["NA", "name"] == "NA"
    assert "007" in set(db.load(b).stakeholders["id"]) and "007" not in set(db.load(a).stakeholders["id"])
    assert len(db.load(b).relationships) == 3
    db.delete_project(b)
    assert len(db.load(a).stakeholders) == 3 and db.revision(a) == 2


# --- configuration -----------------------------------------------------------------------------------

def test_url_display_hides_the_password(db_url):
    with_password = sa.engine.make_url(db_url)
    if with_password.get_backend_name() == "postgresql":
        with_password = with_password.set(password="s3cret-pw")  # trust auth: the password is ignored
    store = Store(with_password.render_as_string(hide_password=False))
    try:
        assert "s3cret-pw" not in store.url_display
        assert store.engine.hide_parameters is True
    finally:
        store.close()


def test_sqlite_pragmas_are_on(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'p.db'}")
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
    store.close()


def test_default_database_url(monkeypatch, tmp_path):
    monkeypatch.setenv("COPROD_MAP_DB", "postgresql+psycopg://u@h/db")
    assert default_database_url() == "postgresql+psycopg://u@h/db"
    monkeypatch.delenv("COPROD_MAP_DB")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_database_url() == f"sqlite:///{tmp_path / 'xdg' / 'coprod_map' / 'coprod_map.db'}"
    assert (tmp_path / "xdg" / "coprod_map").is_dir()


def test_a_large_project_round_trips_exactly(tmp_path):
    """20k stakeholders with two attributes and 60k relationships come back as saved (speed: see bench/)."""
    n, m = 20_000, 60_000
    ids = [f"s{i:05d}" for i in range(n)]
    stakeholders = pd.DataFrame({"id": ids, "name": ids, "kind": "person", "roles": "a|b",
                                 "area": [f"area {i % 10}" for i in range(n)], "age": "18-24"})
    relationships = pd.DataFrame({"id": [f"r{i}" for i in range(m)], "source": [ids[i % n] for i in range(m)],
                                  "target": [ids[(i * 7 + 1) % n] for i in range(m)], "strength": 1.5})
    project = Project(stakeholders=stakeholders, relationships=relationships).normalised()
    store = Store(f"sqlite:///{tmp_path / 'big.db'}")
    pid = store.create_project("Big")
    store.import_project(pid, project)
    loaded = store.load(pid)
    store.close()
    assert loaded.counts()["relationships"] == m and loaded.stakeholders["area"].iloc[13] == "area 3"
    pd.testing.assert_frame_equal(loaded.relationships, project.relationships)
    pd.testing.assert_frame_equal(loaded.stakeholders[project.stakeholders.columns], project.stakeholders)
