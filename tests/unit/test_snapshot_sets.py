"""Named snapshots keep participation as the stored Parquet set (base64 under ``participation_set``), not as row
dicts; snapshots taken before (participation under ``tables``) still restore and are still scrubbed by an erasure."""

from __future__ import annotations

import base64
import json

import pandas as pd
import sqlalchemy as sa

from coprod_map import participation_sets, schema
from coprod_map.model import TABLES, Project, normalise_frame
from coprod_map.privacy import ERASED, erase_person
from coprod_map.record import RECORD_TABLES
from coprod_map.record_store import apply_record_edits, load_record
from coprod_map.sample import load_sample
from coprod_map.store import _plain_rows
from tests.pages._helpers import small_project


def snapshot_data(store, snapshot_id: int) -> dict:
    with store.engine.connect() as conn:
        text = conn.execute(sa.select(schema.METADATA.tables["named_snapshots"].c.data)
                            .where(schema.METADATA.tables["named_snapshots"].c.id == snapshot_id)).scalar_one()
    return json.loads(text)


def snapshot_set(data: dict) -> pd.DataFrame:
    """The participation frame a new-format snapshot holds (decoded from base64 Parquet)."""
    return participation_sets.normalised(participation_sets.decode(base64.b64decode(data["participation_set"])))


def live_set(store, pid: str) -> pd.DataFrame:
    with store.engine.connect() as conn:
        return participation_sets.read(conn, pid)


def assert_same_project(store, restored: str, original: str) -> None:
    """Every map table, the participation set (as frames, seq included), every record table and the settings."""
    a, b = store.load(restored), store.load(original)
    for table in TABLES:
        pd.testing.assert_frame_equal(a.table(table).reset_index(drop=True), b.table(table).reset_index(drop=True),
                                      obj=table)
    pd.testing.assert_frame_equal(live_set(store, restored), live_set(store, original), obj="participation set")
    ra, rb = load_record(store, restored), load_record(store, original)
    for table in RECORD_TABLES:
        pd.testing.assert_frame_equal(ra.table(table).reset_index(drop=True), rb.table(table).reset_index(drop=True),
                                      obj=table)
    assert a.settings.to_dict() == b.settings.to_dict()


def noted_project(store) -> str:
    """small_project with a third participation record whose note names Ann (s1), and a need of Ann's."""
    project = small_project()
    project.participation = normalise_frame("participation", pd.DataFrame({
        "stakeholder_id": ["s1", "s2", "s3"], "activity_id": ["a1", "a1", "a1"],
        "notes": ["Ann's own note", "came with Ann", "no names here"]}))
    pid = store.create_project("Snapshot sets", settings=project.settings)
    store.import_project(pid, project)
    apply_record_edits(store, pid, "needs", upserts=pd.DataFrame(
        {"id": ["N1"], "stakeholder_id": ["s1"], "need": ["step-free access"], "category": ["access"]}))
    return pid


def test_a_new_snapshot_keeps_the_stored_set_and_restores_the_project_equal(any_store):
    store = any_store
    pid = load_sample(store)
    store.apply_edits(pid, "participation", upserts=store.load(pid).participation.iloc[[0]].assign(
        notes="a note with a quote \" and ünïcode"))
    original = store.load(pid)
    assert len(original.participation) > 10 and len(load_record(store, pid).decisions)  # a real map and record
    with store.engine.connect() as conn:
        stored = participation_sets.read_payload(conn, pid)
    sid = store.take_snapshot(pid, "Before workshop 2")
    data = snapshot_data(store, sid)
    assert "participation" not in data["tables"] and set(data["tables"]) == set(schema.HISTORY_TABLES) - {
        "participation"}
    assert base64.b64decode(data["participation_set"]) == stored  # the stored bytes, not encoded again
    assert data["name"] == original.name and json.loads(data["settings"]) == original.settings.to_dict()
    copy = store.copy_project(pid, "Copy for comparison")  # the project as it was, by another path
    store.apply_edits(pid, "participation", deletes=[tuple(original.participation.iloc[1][["stakeholder_id",
                                                                                           "activity_id"]])])
    store.apply_edits(pid, "stakeholders", deletes=[original.stakeholders["id"].iloc[-1]])
    restored = store.restore_snapshot(pid, sid, "Restored")
    assert_same_project(store, restored, copy)
    assert len(store.load(restored).participation) == len(original.participation)
    assert len(store.load(pid).participation) < len(original.participation)  # the original was not touched
    first = store.changes(restored, int(store.history(restored).iloc[0]["id"]))
    assert (first["table_name"] == "participation").sum() == len(original.participation)  # restored with history


def old_format_snapshot(store, pid: str, name: str) -> int:
    """A snapshot written the way take_snapshot did before: participation as row dicts under ``tables``."""
    s = schema.METADATA.tables["named_snapshots"]
    p = schema.METADATA.tables["projects"]
    with store.engine.begin() as conn:
        row = conn.execute(sa.select(p).where(p.c.id == pid)).one()
        data = {"name": row.name, "description": row.description, "settings": row.settings,
                "tables": {t: _plain_rows(conn, t, pid) for t in schema.HISTORY_TABLES}}
        assert [r["stakeholder_id"] for r in data["tables"]["participation"]] == ["s1", "s2", "s3"]
        return int(conn.execute(s.insert().values(project_id=pid, name=name, taken_at="2026-01-01T00:00:00+00:00",
                                                  actor="test", data=json.dumps(data, ensure_ascii=False)))
                   .inserted_primary_key[0])


def test_an_old_format_snapshot_still_restores_and_is_scrubbed(any_store):
    store = any_store
    pid = noted_project(store)
    sid = old_format_snapshot(store, pid, "Old style")
    copy = store.copy_project(pid, "As it was")
    restored = store.restore_snapshot(pid, sid, "Restored old")
    assert_same_project(store, restored, copy)

    erase_person(store, pid, "s1")
    data = snapshot_data(store, sid)
    assert "participation_set" not in data  # scrubbed in its own form
    rows = data["tables"]["participation"]
    assert [(r["stakeholder_id"], r["notes"]) for r in rows] == [("s2", f"came with {ERASED}"), ("s3", "no names here")]
    assert [r["id"] for r in data["tables"]["stakeholders"]] == ["s2", "s3"] and not data["tables"]["record_needs"]
    again = store.restore_snapshot(pid, sid, "Restored after erasure")
    assert store.load(again).participation[["stakeholder_id", "notes"]].values.tolist() == [
        ["s2", f"came with {ERASED}"], ["s3", "no names here"]]


def test_erasure_takes_the_person_out_of_a_new_snapshots_set(any_store):
    store = any_store
    pid = noted_project(store)
    sid = store.take_snapshot(pid, "Before erasure")
    before = snapshot_set(snapshot_data(store, sid))
    assert before["stakeholder_id"].tolist() == ["s1", "s2", "s3"]

    erase_person(store, pid, "s1")
    data = snapshot_data(store, sid)
    after = snapshot_set(data)
    expected = before.loc[before["stakeholder_id"] != "s1"].reset_index(drop=True)  # worked out by hand
    expected["notes"] = pd.Series(["came with [erased]", "no names here"], dtype=object)
    pd.testing.assert_frame_equal(after, expected)
    assert "participation" not in data["tables"] and "Ann" not in json.dumps(data, ensure_ascii=False)
    assert [r["id"] for r in data["tables"]["stakeholders"]] == ["s2", "s3"] and not data["tables"]["record_needs"]
    restored = store.restore_snapshot(pid, sid, "After erasure")
    pd.testing.assert_frame_equal(live_set(store, restored), expected)
    # erasing someone with no participation leaves the set's bytes as they were
    text = data["participation_set"]
    store.apply_edits(pid, "stakeholders", upserts=pd.DataFrame({"id": ["s4"], "name": ["Nobody"]}))
    sid2 = store.take_snapshot(pid, "With s4")
    erase_person(store, pid, "s4")
    assert snapshot_data(store, sid)["participation_set"] == text
    assert snapshot_set(snapshot_data(store, sid2))["stakeholder_id"].tolist() == ["s2", "s3"]


def test_erasing_the_only_participant_leaves_an_empty_set(any_store):
    store = any_store
    project = small_project()
    project.participation = project.participation.iloc[[0]].reset_index(drop=True)  # s1 only
    pid = store.create_project("One participant", settings=project.settings)
    store.import_project(pid, project)
    sid = store.take_snapshot(pid, "Before")
    assert len(snapshot_set(snapshot_data(store, sid))) == 1
    erase_person(store, pid, "s1")
    assert snapshot_data(store, sid)["participation_set"] is None
    assert store.load(store.restore_snapshot(pid, sid, "Restored")).participation.empty


def test_a_snapshot_of_a_project_without_participation(any_store):
    store = any_store
    project = Project(stakeholders=small_project().stakeholders, activities=small_project().activities,
                      settings=small_project().settings)
    pid = store.create_project("No participation", settings=project.settings)
    store.import_project(pid, project)
    sid = store.take_snapshot(pid, "Empty set")
    data = snapshot_data(store, sid)
    assert data["participation_set"] is None and "participation" not in data["tables"]
    assert [r["id"] for r in data["tables"]["stakeholders"]] == ["s1", "s2", "s3"]
    copy = store.copy_project(pid, "Copy")
    restored = store.restore_snapshot(pid, sid, "Restored")
    assert_same_project(store, restored, copy)
    assert store.load(restored).participation.empty
    with store.engine.connect() as conn:
        assert participation_sets.read_payload(conn, restored) is None
    erase_person(store, pid, "s2")
    after = snapshot_data(store, sid)
    assert after["participation_set"] is None and [r["id"] for r in after["tables"]["stakeholders"]] == ["s1", "s3"]


def test_a_name_inside_ids_is_replaced_in_the_set_as_in_the_other_tables(any_store):
    """The row path replaces the name in every text, ids included; the set does too, so a restored snapshot's
    participation still points at its activities."""
    store = any_store
    project = small_project()
    project.stakeholders.loc[0, "name"] = "a1"  # s1 is called "a1", as the activity's id is
    pid = store.create_project("Name in ids", settings=project.settings)
    store.import_project(pid, project)
    sid = store.take_snapshot(pid, "Before")
    erase_person(store, pid, "s1")
    data = snapshot_data(store, sid)
    assert [r["id"] for r in data["tables"]["activities"]] == [ERASED]
    assert snapshot_set(data)[["stakeholder_id", "activity_id"]].values.tolist() == [["s2", ERASED]]
    restored = store.load(store.restore_snapshot(pid, sid, "Restored"))
    assert set(restored.participation["activity_id"]) <= set(restored.activities["id"]) == {ERASED}
