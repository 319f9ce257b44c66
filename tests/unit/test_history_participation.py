"""Participation history in schema 7 (one batch change row per save, the diff as Parquet): time travel, undo and
revert, details of an entry and refusals, on SQLite and PostgreSQL; and a project upgraded from schema 6 whose
participation history is JSON rows, edited under 7 (both kinds mixed in one history)."""

from __future__ import annotations

import copy
import json

import pandas as pd
import pytest
import sqlalchemy as sa

from coprod_map import history, participation_sets, schema
from coprod_map.errors import EditRejected
from coprod_map.model import TABLES, Project, normalise_frame
from coprod_map.store import Store, acting_as
from tests.pages._helpers import small_project


def assert_same(a: Project, b: Project) -> None:
    for table in TABLES:
        pd.testing.assert_frame_equal(a.table(table).reset_index(drop=True), b.table(table).reset_index(drop=True),
                                      check_dtype=True, obj=table)


def refused(call, *args, expect: str, **kwargs) -> str:
    with pytest.raises(EditRejected) as error:
        call(*args, **kwargs)
    assert expect in error.value.details(), error.value.details()
    return error.value.details()


def pairs(project: Project) -> list[tuple[str, str, str]]:
    p = project.participation
    return list(zip(p["stakeholder_id"], p["activity_id"], p["notes"], strict=True))


def base_project() -> Project:
    """Four people, three activities, six participation rows with awkward notes."""
    project = small_project()
    project.stakeholders = normalise_frame("stakeholders", pd.concat([project.stakeholders, pd.DataFrame(
        {"id": ["s4"], "name": ["Zoë"], "kind": ["person"]})], ignore_index=True))
    project.activities = normalise_frame("activities", pd.DataFrame({
        "id": ["a1", "a2", "a3"], "title": ["First workshop", "Walk", "Survey"],
        "date": ["2026-03-01", "2026-03-08", "2026-04-01"], "kind": ["workshop", "visit", "survey"]}))
    project.participation = normalise_frame("participation", pd.DataFrame({
        "stakeholder_id": ["s1", "s2", "s3", "s1", "s4", "s3"], "activity_id": ["a1", "a1", "a1", "a2", "a2", "a3"],
        "notes": ["", "came late", 'said "yes"', "Zoë helped", "", "line\nbreak"]}))
    return project


def live_set(store: Store, pid: str) -> pd.DataFrame:
    """The stored participation set itself (DB form: with seq)."""
    with store.engine.connect() as conn:
        return participation_sets.read(conn, pid)


def participation_rows(**values) -> pd.DataFrame:
    return normalise_frame("participation", pd.DataFrame(values))


@pytest.fixture
def timeline(any_store):
    """Import, edit notes, add and remove participation, delete a stakeholder and an activity; a deep copy of
    ``store.load`` and the stored set kept after each step (the independent record of every revision)."""
    store = any_store
    pid = store.create_project("Participation history", settings=base_project().settings)
    states = {0: copy.deepcopy(store.load(pid))}
    sets = {0: live_set(store, pid)}

    def keep(revision: int) -> None:
        states[revision] = copy.deepcopy(store.load(pid))
        sets[revision] = live_set(store, pid)

    keep(store.import_project(pid, base_project()))  # 1
    keep(store.apply_edits(pid, "participation", upserts=participation_rows(  # 2: two notes changed, one added
        stakeholder_id=["s2", "s4", "s4"], activity_id=["a1", "a2", "a3"],
        notes=["came on time", "brought a friend", "new row"])))
    keep(store.apply_edits(pid, "participation", deletes=[("s3", "a1")]))  # 3
    keep(store.apply_edits(pid, "stakeholders", deletes=["s1"]))  # 4: its two participation rows go with it
    keep(store.apply_edits(pid, "activities", deletes=["a3"]))  # 5: (s3, a3) and (s4, a3) go with it
    return store, pid, states, sets


def test_each_save_of_participation_is_one_batch_row_and_no_row_table(timeline):
    store, pid, states, sets = timeline
    with store.engine.connect() as conn:
        assert "participation" not in sa.inspect(conn).get_table_names()
        c = schema.METADATA.tables["changes"]
        rows = conn.execute(sa.select(c.c.op, c.c.new, c.c.payload).where(
            c.c.project_id == pid, c.c.table_name == "participation").order_by(c.c.seq)).all()
    assert [r.op for r in rows] == ["batch"] * 5  # one per save that touched participation, never one per row
    counts = [json.loads(r.new) for r in rows]
    assert counts == [{"insert": 6, "update": 0, "delete": 0}, {"insert": 1, "update": 2, "delete": 0},
                      {"insert": 0, "update": 0, "delete": 1}, {"insert": 0, "update": 0, "delete": 2},
                      {"insert": 0, "update": 0, "delete": 2}]
    # the payload decodes to the diff: the hand-made list of what the notes edit did
    edit = participation_sets.decode(bytes(rows[1].payload))
    got = sorted(zip(edit["op"], edit["stakeholder_id"], edit["activity_id"], edit["old_notes"], edit["new_notes"],
                     strict=True))
    assert got == [("insert", "s4", "a3", None, "new row"), ("update", "s2", "a1", "came late", "came on time"),
                   ("update", "s4", "a2", "", "brought a friend")]


def test_time_travel_equals_the_project_as_loaded_at_each_revision(timeline):
    store, pid, states, sets = timeline
    for revision, state in states.items():
        assert_same(store.state_at(pid, revision=revision), state)


def test_undo_step_by_step_gives_every_earlier_state_exactly(timeline):
    store, pid, states, sets = timeline
    for revision in range(max(states) - 1, -1, -1):
        store.undo(pid)
        assert_same(store.load(pid), states[revision])
        pd.testing.assert_frame_equal(live_set(store, pid), sets[revision])  # seq and notes exactly
        if revision == 3:  # the stakeholder delete undone: s1 and both its rows are back, seq order and notes kept
            assert pairs(store.load(pid))[:2] == [("s1", "a1", ""), ("s2", "a1", "came on time")]
    # and redo (revert the last undo) puts the import back exactly
    store.revert(pid, int(store.history(pid)["id"].iloc[0]))
    assert_same(store.load(pid), states[1])


def test_details_of_an_entry_expand_a_batch_into_rows(timeline):
    store, pid, states, sets = timeline
    actions = store.history(pid)
    edit = int(actions.query("revision == 2")["id"].item())
    rows = store.changes(pid, edit, can_see_private=True)
    assert set(rows["table_name"]) == {"participation"} and rows["seq"].nunique() == 1
    by_key = {k: (op, o, n) for k, op, o, n in zip(rows["key"], rows["op"], rows["old"], rows["new"], strict=True)}
    assert by_key["s2 / a1"] == ("update", {"stakeholder_id": "s2", "activity_id": "a1", "seq": 1, "notes": "came late"},
                                 {"stakeholder_id": "s2", "activity_id": "a1", "seq": 1, "notes": "came on time"})
    assert by_key["s4 / a3"][0] == "insert" and by_key["s4 / a3"][1] is None
    hidden = store.changes(pid, edit)
    assert {r["notes"] for r in hidden["new"]} == {"(private)"}
    # the summary in the audit trail is the summary of these rows, with the changed field named
    summary, fields = history.summarise(rows)
    top = actions.query("revision == 2").iloc[0]
    assert top["summary"] == summary == "1 participation record added; 2 participation records changed (notes)"
    assert top["fields"] == fields == ["participation.notes"]
    # a stakeholder delete lists its participation rows with the rest of the cascade
    delete = store.changes(pid, int(actions.query("revision == 4")["id"].item()))
    assert sorted(delete.loc[delete["table_name"] == "participation", "key"]) == ["s1 / a1", "s1 / a2"]
    assert set(delete.loc[delete["table_name"] == "participation", "op"]) == {"delete"}
    everything = store.changes(pid)
    assert everything["seq"].is_monotonic_increasing and len(everything.query("table_name == 'participation'")) == 14


def test_revert_is_refused_when_a_participation_row_changed_since(timeline):
    store, pid, states, sets = timeline
    with acting_as("Priya"):
        store.apply_edits(pid, "participation", upserts=participation_rows(
            stakeholder_id=["s2"], activity_id=["a1"], notes=["left early"]))
    kept = store.load(pid)
    edit = int(store.history(pid).query("revision == 2")["id"].item())
    text = refused(store.revert, pid, edit, expect="participation record 's2 / a1' was changed again on")
    assert "by Priya" in text and "s4 / a2" not in text  # only the row changed since is named
    assert_same(store.load(pid), kept)


def test_revert_is_refused_when_later_participation_points_at_what_would_go(any_store):
    store = any_store
    pid = store.create_project("Depends", settings=base_project().settings)
    store.import_project(pid, base_project())
    store.apply_edits(pid, "stakeholders", upserts=normalise_frame("stakeholders", pd.DataFrame(
        {"id": ["s9"], "name": ["New"], "kind": ["person"]})))
    added = int(store.history(pid)["id"].iloc[0])
    store.apply_edits(pid, "participation", upserts=participation_rows(stakeholder_id=["s9"],
                                                                       activity_id=["a2"], notes=["x"]))
    kept = store.load(pid)
    refused(store.revert, pid, added, expect="participation record 's9 / a2', added or changed since, depends on it")
    assert_same(store.load(pid), kept)


def test_revert_is_refused_when_the_rows_stakeholder_has_gone_since(any_store):
    store = any_store
    pid = store.create_project("Gone since", settings=base_project().settings)
    store.import_project(pid, base_project())
    store.apply_edits(pid, "participation", deletes=[("s1", "a2")])
    removed = int(store.history(pid)["id"].iloc[0])
    store.apply_edits(pid, "stakeholders", deletes=["s1"])
    kept = store.load(pid)
    refused(store.revert, pid, removed, expect="participation record 's1 / a2' cannot come back: stakeholder 's1'")
    assert_same(store.load(pid), kept)


def test_compare_two_revisions_lists_participation_added_and_removed(timeline):
    store, pid, states, sets = timeline
    diff = history.compare_projects(store.state_at(pid, revision=1), store.state_at(pid, revision=5))
    added = diff["participation added"].values.tolist()
    removed = sorted(diff["participation removed"].values.tolist())
    assert added == [] and removed == [["s1", "a1"], ["s1", "a2"], ["s3", "a1"], ["s3", "a3"]]


# --- a project upgraded from schema 6 -------------------------------------------------------------------

V6_AT = "2025-01-01T00:00:00+00:00"


def build_v6(url: str) -> None:
    """A schema-6 database as the schema-6 store left it: rows written through its triggers (JSON change rows),
    each save closed as an action (audit row, change rows tied to it, revision moved on)."""
    engine = sa.create_engine(url)
    t = schema.V6_METADATA.tables
    with engine.begin() as conn:
        schema.create_schema(conn, version=6)
        conn.execute(t["projects"].insert(), [{"id": "p6", "name": "Version six", "description": "", "revision": 0,
                                               "created_at": V6_AT, "updated_at": V6_AT, "settings": "{}"}])

        def close(kind: str, revision: int, summary: str) -> None:
            result = conn.execute(t["actions"].insert().values(project_id="p6", at=V6_AT, actor="Sam", kind=kind,
                                                               summary=summary, fields="", revision=revision))
            conn.execute(t["changes"].update().where(t["changes"].c.action_id.is_(None))
                         .values(action_id=int(result.inserted_primary_key[0])))
            conn.execute(t["projects"].update().values(revision=revision))

        conn.execute(t["stakeholders"].insert(), [
            {"project_id": "p6", "id": f"s{i}", "seq": i, "name": f"Person {i}", "kind": "person"} for i in (1, 2, 3)])
        conn.execute(t["activities"].insert(), [
            {"project_id": "p6", "id": f"a{i}", "seq": i, "title": f"Event {i}"} for i in (1, 2)])
        conn.execute(t["participation"].insert(), [
            {"project_id": "p6", "stakeholder_id": "s1", "activity_id": "a1", "seq": 0, "notes": "first"},
            {"project_id": "p6", "stakeholder_id": "s2", "activity_id": "a1", "seq": 1, "notes": ""},
            {"project_id": "p6", "stakeholder_id": "s3", "activity_id": "a2", "seq": 2, "notes": "note ü"}])
        close("import", 1, "imported")
        p = t["participation"]
        conn.execute(p.update().where(p.c.stakeholder_id == "s1", p.c.activity_id == "a1").values(notes="changed"))
        conn.execute(p.delete().where(p.c.stakeholder_id == "s2", p.c.activity_id == "a1"))
        conn.execute(p.insert().values(project_id="p6", stakeholder_id="s1", activity_id="a2", seq=3, notes=""))
        close("edit", 2, "edited")
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def v6_url(request, tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'v6.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    build_v6(url)
    return url


#: The participation at each schema-6 revision, by hand: (stakeholder, activity, notes) in seq order.
V6_STATES = {0: [], 1: [("s1", "a1", "first"), ("s2", "a1", ""), ("s3", "a2", "note ü")],
             2: [("s1", "a1", "changed"), ("s3", "a2", "note ü"), ("s1", "a2", "")]}


def test_schema_6_history_keeps_working_after_the_upgrade_and_mixes_with_batches(v6_url):
    store = Store(v6_url)
    try:
        assert store.schema_version() == schema.SCHEMA_VERSION
        pid = "p6"
        assert pairs(store.load(pid)) == V6_STATES[2]
        for revision, expected in V6_STATES.items():
            assert pairs(store.state_at(pid, revision=revision)) == expected
        old_edit = int(store.history(pid).query("revision == 2")["id"].item())
        rows = store.changes(pid, old_edit, can_see_private=True)  # JSON rows, as written before the upgrade
        assert sorted(zip(rows["op"], rows["key"], strict=True)) == [
            ("delete", "s2 / a1"), ("insert", "s1 / a2"), ("update", "s1 / a1")]
        states = {r: copy.deepcopy(store.state_at(pid, revision=r)) for r in (0, 1, 2)}
        # edits under schema 7: batch rows after the JSON rows
        r3 = store.apply_edits(pid, "participation", upserts=participation_rows(
            stakeholder_id=["s3", "s2"], activity_id=["a2", "a2"], notes=["note ü, changed", "new"]),
            deletes=[("s1", "a2")])
        states[r3] = copy.deepcopy(store.load(pid))
        r4 = store.apply_edits(pid, "stakeholders", deletes=["s3"])
        states[r4] = copy.deepcopy(store.load(pid))
        assert pairs(states[r4]) == [("s1", "a1", "changed"), ("s2", "a2", "new")]
        for revision, state in states.items():
            assert_same(store.state_at(pid, revision=revision), state)
        # a schema-6 entry touched again under 7 cannot be taken back, naming the row
        text = refused(store.revert, pid, old_edit, expect="participation record 's1 / a2' was changed again on")
        assert "participation record 's1 / a1'" not in text  # untouched since: not named
        # undo across the boundary: batch entries, then JSON entries, each giving the earlier state exactly
        for revision in (3, 2, 1, 0):
            store.undo(pid)
            assert_same(store.load(pid), states[revision])
            assert pairs(store.load(pid)) == (V6_STATES[revision] if revision < 3 else pairs(states[3]))
    finally:
        store.close()


def test_revert_is_refused_when_later_participation_points_at_an_activity_that_would_go(any_store):
    store = any_store
    pid = store.create_project("Activity depends", settings=base_project().settings)
    store.import_project(pid, base_project())
    store.apply_edits(pid, "activities", upserts=normalise_frame("activities", pd.DataFrame(
        {"id": ["a9"], "title": ["Later event"]})))
    added = int(store.history(pid)["id"].iloc[0])
    store.apply_edits(pid, "participation", upserts=participation_rows(stakeholder_id=["s2", "s3"],
                                                                       activity_id=["a9", "a9"], notes=["", ""]))
    kept, kept_set = store.load(pid), live_set(store, pid)
    text = refused(store.revert, pid, added, expect="participation record 's2 / a9', added or changed since")
    assert "participation record 's3 / a9'" in text
    assert_same(store.load(pid), kept)
    pd.testing.assert_frame_equal(live_set(store, pid), kept_set)


def test_reordering_participation_is_not_counted_as_changed_in_the_summary(any_store):
    store = any_store
    pid = store.create_project("Reorder", settings=base_project().settings)
    store.import_project(pid, base_project())
    again = base_project()
    again.participation = again.participation.iloc[::-1].reset_index(drop=True)  # every seq moves
    again.participation.loc[0, "notes"] = "changed"  # (s3, a3): the one real change
    store.import_project(pid, again, replace=True)
    top = store.history(pid).iloc[0]
    rows = store.changes(pid, int(top["id"]), can_see_private=True)
    part = rows.loc[rows["table_name"] == "participation"]
    assert len(part) == 6 and set(part["op"]) == {"update"}  # the details list every row rewritten
    assert top["summary"] == history.summarise(rows)[0] == "1 participation record changed (notes)"
    assert pairs(store.load(pid))[0] == ("s3", "a3", "changed")


def test_time_travel_by_date_rewinds_participation(any_store, monkeypatch):
    from coprod_map import store as store_module

    today = ["2026-01-05T10:00:00+00:00"]
    monkeypatch.setattr(store_module, "_now", lambda: today[0])
    store = any_store
    pid = store.create_project("Dated participation", settings=base_project().settings)
    store.import_project(pid, base_project())
    january = copy.deepcopy(store.load(pid))
    today[0] = "2026-02-10T09:00:00+00:00"
    store.apply_edits(pid, "participation", upserts=participation_rows(
        stakeholder_id=["s1"], activity_id=["a1"], notes=["February note"]), deletes=[("s4", "a2")])
    february = copy.deepcopy(store.load(pid))
    assert_same(store.state_at(pid, when="2026-01-31"), january)
    assert_same(store.state_at(pid, when="2026-02-10"), february)
    assert store.state_at(pid, when="2026-01-04").participation.empty
    assert ("s1", "a1", "February note") in pairs(february) and ("s1", "a1", "") in pairs(january)


def test_details_can_be_limited_to_the_first_rows_oldest_first(timeline):
    store, pid, states, sets = timeline
    everything = store.changes(pid, can_see_private=True)
    inside = int((everything["table_name"] == "participation").to_numpy().argmax()) + 2  # cuts the first batch
    for limit in (0, 1, 3, inside, 10_000):
        first = store.changes(pid, can_see_private=True, limit=limit)
        expected = everything.iloc[:limit].reset_index(drop=True)
        columns = ["seq", "table_name", "op", "key"]
        assert first[columns].values.tolist() == expected[columns].values.tolist() and len(first) == len(expected)
        assert first["new"].tolist() == expected["new"].tolist()
    edit = int(store.history(pid).query("revision == 2")["id"].item())
    assert len(store.changes(pid, edit, limit=2)) == 2 and len(store.changes(pid, edit)) == 3
