"""The record in a real SQLite database: migration from version 2, round trip, refused edits change nothing."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import sqlalchemy as sa

from coprod_map import schema
from coprod_map.errors import EditRejected, ImportRejected
from coprod_map.model import Project, ProjectSettings, normalise_frame
from coprod_map.record import RECORD_TABLES, Record, normalise_record_frame
from coprod_map.record_store import apply_record_edits, import_record, load_record
from coprod_map.store import Store

CYCLES = [{"name": "Cycle 1", "start": "2026-01-01", "end": "2026-03-31"},
          {"name": "Cycle 2", "start": "2026-04-01", "end": "2026-06-30"}]


def small_map() -> Project:
    return Project(
        stakeholders=normalise_frame("stakeholders", pd.DataFrame({
            "id": ["s1", "s2", "007"], "name": ["Ann", "Bo", "Cy"], "kind": ["person", "person", "person"],
            "experience": [["lived"], ["professional"], ["lived"]]})),
        activities=normalise_frame("activities", pd.DataFrame({
            "id": ["a1", "a2"], "title": ["Workshop", "Meeting"], "date": ["2026-01-10", "2026-04-10"],
            "cycle": ["Cycle 1", "Cycle 2"]})),
        participation=normalise_frame("participation", pd.DataFrame({
            "stakeholder_id": ["s1", "s2"], "activity_id": ["a1", "a2"]})),
        settings=ProjectSettings(cycles=CYCLES),
    )


@pytest.fixture
def project(store):
    pid = store.create_project("Record test", settings=ProjectSettings(cycles=CYCLES))
    store.import_project(pid, small_map())
    return store, pid


def a_record() -> Record:
    return Record(
        decisions=normalise_record_frame("decisions", pd.DataFrame({
            "id": ["D1"], "date": ["2026-01-15"], "title": ["Meet at the library"], "made_by": [["s1", "007"]],
            "reported_back_on": ["2026-01-20"]})),
        changeables=normalise_record_frame("changeables", pd.DataFrame({
            "id": ["W1"], "area": ["Venue"], "status": ["open"], "why": ["Any place will do"]})),
        reciprocity=normalise_record_frame("reciprocity", pd.DataFrame({
            "id": ["C1"], "stakeholder_id": ["007"], "activity_id": ["a1"], "hours": [2.5], "returned_kind": ["voucher"],
            "value": [25.0]})),
        needs=normalise_record_frame("needs", pd.DataFrame({
            "id": ["N1", "N2"], "stakeholder_id": ["s1", "007"], "need": ["Hearing loop", "Large print"],
            "category": ["access", "communication"], "private": [True, False]})),
        need_met=normalise_record_frame("need_met", pd.DataFrame({
            "need_id": ["N1"], "activity_id": ["a1"], "met": ["partly"]})),
        cycles=normalise_record_frame("cycles", pd.DataFrame({"cycle": ["Cycle 1"], "lessons": ["Ask first"]})),
        actions=normalise_record_frame("actions", pd.DataFrame({
            "id": ["T1"], "cycle": ["Cycle 2"], "title": ["Book a room"], "status": ["open"], "due": ["2026-05-01"]})),
        snapshots=normalise_record_frame("snapshots", pd.DataFrame({
            "cycle": ["Cycle 1"], "kind": ["network"], "taken_at": ["2026-03-31"],
            "figures": [json.dumps([{"figure": "ties", "value": 3.0}])]})),
        self_assessment=normalise_record_frame("self_assessment", pd.DataFrame({
            "id": ["S1"], "cycle": ["Cycle 1"], "component": ["equal"], "score": [4], "respondent": ["R1"]})),
    )


def assert_same(left: Record, right: Record) -> None:
    for table in RECORD_TABLES:
        pd.testing.assert_frame_equal(left.table(table), right.table(table), check_dtype=True, obj=table)


def test_a_whole_record_round_trips_through_the_database(project):
    store, pid = project
    before = store.revision(pid)
    incoming = a_record()
    assert import_record(store, pid, incoming) == before + 1
    saved = load_record(store, pid)
    assert_same(saved, incoming)
    assert saved.reciprocity.loc[0, "stakeholder_id"] == "007"  # ids stay text
    assert saved.needs["private"].tolist() == [True, False]
    assert saved.decisions.loc[0, "made_by"] == ["s1", "007"]
    # Reopening the file gives the same record: it is really stored.
    url = store.engine.url.render_as_string(hide_password=False)
    other = Store(url)
    try:
        assert_same(load_record(other, pid), incoming)
    finally:
        other.close()


def test_an_edit_upserts_bumps_revision_and_row_version(project):
    store, pid = project
    import_record(store, pid, a_record())
    rev = store.revision(pid)
    new_rev = apply_record_edits(store, pid, "actions", upserts=pd.DataFrame({"id": ["T1"], "status": ["done"]}))
    assert new_rev == rev + 1
    saved = load_record(store, pid).actions.set_index("id")
    assert saved.loc["T1", "status"] == "done" and saved.loc["T1", "title"] == "Book a room"  # other columns kept
    with store.engine.connect() as conn:
        versions = conn.execute(sa.text("SELECT version FROM record_actions WHERE project_id = :p"), {"p": pid}).all()
    assert versions == [(2,)]
    # the same values again change nothing and keep the revision
    assert apply_record_edits(store, pid, "actions", upserts=pd.DataFrame({"id": ["T1"], "status": ["done"]})) == new_rev
    assert apply_record_edits(store, pid, "actions", deletes=["T1"]) == new_rev + 1
    assert load_record(store, pid).actions.empty


@pytest.mark.parametrize(
    ("table", "rows", "column", "words"),
    [
        ("reciprocity", {"id": ["C9"], "stakeholder_id": ["nobody"]}, "stakeholder_id", "'nobody' is not a known stakeholder"),
        ("reciprocity", {"id": ["C9"], "stakeholder_id": ["s1"], "activity_id": ["a9"]}, "activity_id", "'a9'"),
        ("reciprocity", {"id": ["C9"], "stakeholder_id": ["s1"], "hours": ["lots"]}, "hours", "'lots'"),
        ("reciprocity", {"id": ["C9"], "stakeholder_id": ["s1"], "returned_kind": ["cash"]}, "returned_kind", "'cash'"),
        ("decisions", {"id": ["D9"], "title": ["x"], "made_by": [["s1", "ghost"]]}, "made_by", "'ghost'"),
        ("decisions", {"id": ["D9"], "title": ["x"], "date": ["31/01/2026"]}, "date", "YYYY-MM-DD"),
        ("decisions", {"id": ["D9"], "title": [""]}, "title", "blank"),
        ("self_assessment", {"id": ["S9"], "cycle": ["Cycle 1"], "component": ["equal"], "score": [7]}, "score", "'7'"),
        ("self_assessment", {"id": ["S9"], "cycle": ["Cycle 1"], "component": ["happy"], "score": [3]}, "component",
         "'happy'"),
        ("actions", {"id": ["T9"], "cycle": ["Cycle 9"], "title": ["x"], "status": ["open"]}, "cycle", "'Cycle 9'"),
        ("need_met", {"need_id": ["N9"], "activity_id": ["a1"], "met": ["yes"]}, "need_id", "'N9'"),
        ("needs", {"id": ["N9"], "stakeholder_id": ["s1"], "need": ["bad\x00char"]}, "need", "control"),
        ("needs", {"id": ["N9"], "stakeholder_id": ["s1"], "private": ["maybe"]}, "private", "yes or no"),
    ],
)
def test_a_bad_edit_is_refused_naming_table_row_and_column_and_nothing_is_written(project, table, rows, column, words):
    store, pid = project
    import_record(store, pid, a_record())
    rev = store.revision(pid)
    before = load_record(store, pid)
    with pytest.raises(EditRejected) as caught:
        apply_record_edits(store, pid, table, upserts=pd.DataFrame(rows))
    problems = caught.value.problems
    assert any(p.column == column and words in p.message for p in problems), [str(p) for p in problems]
    key = next(iter(rows.values()))[0]
    assert all(f"'{key}'" in p.message for p in problems)  # the row is named by its id
    assert store.revision(pid) == rev
    assert_same(load_record(store, pid), before)


def test_a_bad_import_is_refused_whole(project):
    store, pid = project
    bad = a_record()
    bad.actions.loc[0, "status"] = "someday"
    with pytest.raises(ImportRejected):
        import_record(store, pid, bad)
    assert sum(load_record(store, pid).counts().values()) == 0 and store.revision(pid) == 1


def test_deleting_a_person_removes_their_needs_and_ledger_and_projects_stay_apart(project):
    store, pid = project
    import_record(store, pid, a_record())
    other = store.create_project("Other", settings=ProjectSettings(cycles=CYCLES))
    store.import_project(other, small_map())
    import_record(store, other, a_record())
    store.apply_edits(pid, "stakeholders", deletes=["007"])
    record = load_record(store, pid)
    assert record.needs["id"].tolist() == ["N1"] and record.reciprocity.empty
    assert load_record(store, other).counts() == a_record().counts()  # the other project is untouched
    store.delete_project(pid)
    with store.engine.connect() as conn:
        for name in schema.RECORD_SQL_TABLES.values():
            left = conn.execute(sa.text(f"SELECT count(*) FROM {name} WHERE project_id = :p"), {"p": pid}).scalar()
            assert left == 0, name


def test_deleting_a_need_removes_whether_it_was_met(project):
    store, pid = project
    import_record(store, pid, a_record())
    apply_record_edits(store, pid, "needs", deletes=["N1"])
    assert load_record(store, pid).need_met.empty


# --- migration from schema version 2 -------------------------------------------------------------

def build_v2(url: str) -> None:
    engine = sa.create_engine(url)
    t = schema.V2_METADATA.tables
    with engine.begin() as conn:
        schema.create_schema(conn, version=2)
        conn.execute(t["projects"].insert(), [{"id": "p1", "name": "Old", "description": "", "revision": 7,
                                               "created_at": "2025-01-01T00:00:00+00:00",
                                               "updated_at": "2025-01-01T00:00:00+00:00",
                                               "settings": json.dumps({"cycles": CYCLES})}])
        conn.execute(t["stakeholders"].insert(), [{"project_id": "p1", "id": "007", "seq": 0, "name": "James",
                                                   "kind": "person", "experience": "lived"}])
        conn.execute(t["stakeholder_attributes"].insert(), [{"project_id": "p1", "stakeholder_id": "007",
                                                             "attribute": "area", "value": "north"}])
        conn.execute(t["activities"].insert(), [{"project_id": "p1", "id": "a1", "seq": 0, "title": "Workshop"}])
    engine.dispose()


def test_version_2_database_gains_the_record_tables_with_its_data_intact(tmp_path):
    url = f"sqlite:///{tmp_path / 'v2.db'}"
    build_v2(url)
    store = Store(url)
    try:
        assert store.schema_version() == schema.SCHEMA_VERSION >= 3
        with store.engine.connect() as conn:
            names = set(sa.inspect(conn).get_table_names())
        assert set(schema.RECORD_SQL_TABLES.values()) <= names
        project = store.load("p1")
        assert project.stakeholders.set_index("id").loc["007", "area"] == "north"
        assert store.revision("p1") == 7
        assert sum(load_record(store, "p1").counts().values()) == 0
        assert apply_record_edits(store, "p1", "needs", upserts=pd.DataFrame(
            {"id": ["N1"], "stakeholder_id": ["007"], "need": ["Quiet room"], "category": ["care"]})) == 8
        assert load_record(store, "p1").needs["need"].tolist() == ["Quiet room"]
    finally:
        store.close()


def test_failed_upgrade_to_version_3_leaves_version_2_untouched(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'v2.db'}"
    build_v2(url)

    def broken(conn):
        schema._upgrade_2_to_3(conn)
        raise RuntimeError("power cut")

    monkeypatch.setitem(schema.MIGRATIONS, 2, broken)
    with pytest.raises(RuntimeError):
        Store(url)
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT value FROM meta WHERE key = 'schema_version'")).scalar() == "2"
        assert not set(schema.RECORD_SQL_TABLES.values()) & set(sa.inspect(conn).get_table_names())
    engine.dispose()
    monkeypatch.undo()
    store = Store(url)
    assert store.schema_version() == schema.SCHEMA_VERSION and store.load("p1").stakeholders["id"].tolist() == ["007"]
    store.close()


# --- copies keep the record ----------------------------------------------------------------------

def test_a_copy_of_a_project_has_an_equal_record_and_is_independent(project):
    store, pid = project
    import_record(store, pid, a_record())
    copy = store.copy_project(pid, "Record test (copy)")
    assert_same(load_record(store, copy), load_record(store, pid))
    assert load_record(store, copy).counts() == a_record().counts()
    with store.engine.connect() as conn:  # the copy's rows are its own, not shared
        for name in schema.RECORD_SQL_TABLES.values():
            n = conn.execute(sa.text(f"SELECT count(*) FROM {name} WHERE project_id = :p"), {"p": copy}).scalar()
            assert n == len(load_record(store, pid).table(next(k for k, v in schema.RECORD_SQL_TABLES.items()
                                                                if v == name))), name
    apply_record_edits(store, copy, "actions", upserts=pd.DataFrame({"id": ["T1"], "status": ["done"]}))
    assert load_record(store, pid).actions["status"].tolist() == ["open"]  # the original is untouched
    store.delete_project(copy)
    assert_same(load_record(store, pid), a_record())


def test_copy_project_copies_every_project_keyed_table_except_history():
    from coprod_map.store import _copied_tables

    copied = {t.name for t in _copied_tables()}
    assert set(schema.RECORD_SQL_TABLES.values()) <= copied
    assert {"stakeholders", "stakeholder_attributes", "relationships", "activities", "reference"} <= copied
    # participation (schema 7) is a set copied through participation_sets.write, so the copy's history holds it
    assert not copied & {"changes", "actions", "named_snapshots", "projects", "meta", "participation_sets"}
    order = [t.name for t in _copied_tables()]
    assert order.index("record_needs") < order.index("record_need_met")  # parents first
    assert order.index("stakeholders") < order.index("record_needs")


# --- the editors' change-sets: a key another row has is refused ---------------------------------

@pytest.mark.parametrize(
    ("table", "shown", "changes", "taken"),
    [
        ("decisions", {"id": ["D1", "D2"], "title": ["a", "b"]}, {"edited_rows": {1: {"id": "D1"}}}, "D1"),
        ("decisions", {"id": ["D1", "D2"], "title": ["a", "b"]}, {"added_rows": [{"id": "D2", "title": "c"}]}, "D2"),
        ("decisions", {"id": ["D1"], "title": ["a"]},
         {"added_rows": [{"id": "D5", "title": "c"}, {"id": "D5", "title": "d"}]}, "D5"),
        ("need_met", {"need_id": ["N1", "N1"], "activity_id": ["a1", "a2"], "met": ["yes", "no"]},
         {"edited_rows": {1: {"activity_id": "a1"}}}, "N1 / a1"),
        ("cycles", {"cycle": ["Cycle 1", "Cycle 2"]}, {"edited_rows": {0: {"cycle": "Cycle 2"}}}, "Cycle 2"),
    ],
)
def test_an_editor_change_to_a_key_already_used_is_refused(table, shown, changes, taken):
    from coprod_map.record import edits_from_changes

    with pytest.raises(EditRejected) as caught:
        edits_from_changes(table, pd.DataFrame(shown), changes)
    assert any(f"'{taken}': this" in p.message and "already used" in p.message for p in caught.value.problems)


def test_an_editor_may_swap_a_key_for_one_it_deletes_or_keep_keys_unchanged():
    from coprod_map.record import edits_from_changes

    shown = pd.DataFrame({"id": ["D1", "D2"], "title": ["a", "b"]})
    ups, dels = edits_from_changes("decisions", shown, {"edited_rows": {1: {"id": "D1"}}, "deleted_rows": [0]})
    assert ups["id"].tolist() == ["D1"] and dels == ["D1", "D2"]  # the store keeps D1 (upserted), drops D2
    ups, dels = edits_from_changes("decisions", shown, {"edited_rows": {0: {"title": "A"}}})
    assert ups["id"].tolist() == ["D1"] and dels == []
    # ``existing`` (the whole saved table) counts, not only the rows on screen
    with pytest.raises(EditRejected):
        edits_from_changes("decisions", shown, {"added_rows": [{"id": "D7", "title": "x"}]},
                           existing=pd.DataFrame({"id": ["D1", "D2", "D7"]}))



# --- the same on PostgreSQL ----------------------------------------------------------------------

@pytest.mark.postgres
def test_the_record_round_trips_edits_copies_and_refuses_on_postgresql(request):
    store = Store(request.getfixturevalue("pg_url"))
    try:
        pid = store.create_project("Record on PostgreSQL", settings=ProjectSettings(cycles=CYCLES))
        store.import_project(pid, small_map())
        incoming = a_record()
        assert import_record(store, pid, incoming) == 2
        assert_same(load_record(store, pid), incoming)
        assert load_record(store, pid).needs["private"].tolist() == [True, False]  # a real boolean column
        assert apply_record_edits(store, pid, "actions", upserts=pd.DataFrame({"id": ["T1"], "status": ["done"]})) == 3
        with pytest.raises(EditRejected):
            apply_record_edits(store, pid, "reciprocity", upserts=pd.DataFrame({"id": ["C9"], "stakeholder_id": ["x"]}))
        assert store.revision(pid) == 3
        copy = store.copy_project(pid, "Record on PostgreSQL (copy)")
        assert_same(load_record(store, copy), load_record(store, pid))
        store.apply_edits(pid, "stakeholders", deletes=["007"])  # the cascade removes their needs and ledger
        assert load_record(store, pid).needs["id"].tolist() == ["N1"] and load_record(store, pid).reciprocity.empty
        assert load_record(store, copy).counts() == a_record().counts()
    finally:
        store.close()
