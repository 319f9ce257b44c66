"""History on a real SQLite file: every change logged, undo/revert step by step, time travel, snapshots."""

from __future__ import annotations

import pandas as pd
import pytest
import sqlalchemy as sa

from coprod_map import store as store_module
from coprod_map.errors import EditRejected
from coprod_map.history import compare_projects
from coprod_map.model import TABLES, Project, ProjectSettings, normalise_frame
from coprod_map.record_store import apply_record_edits, load_record
from coprod_map.store import acting_as
from tests.pages._helpers import small_project


def assert_same(a: Project, b: Project) -> None:
    for table in TABLES:
        pd.testing.assert_frame_equal(a.table(table).reset_index(drop=True), b.table(table).reset_index(drop=True),
                                      check_dtype=True, obj=table)
    assert a.settings.to_dict() == b.settings.to_dict() and a.name == b.name


def refused(call, *args, expect: str, **kwargs) -> None:
    with pytest.raises(EditRejected) as error:
        call(*args, **kwargs)
    assert expect in error.value.details(), error.value.details()


def row(store, pid, table, key):
    frame = store.load(pid).table(table)
    return frame.loc[frame["id"] == key].iloc[0]


def whole(store, pid, table, key, **changes) -> pd.DataFrame:
    """The saved row ``key`` with ``changes``: a whole-row upsert, as the editor sends."""
    current = store.load(pid).table(table)
    return current.loc[current["id"] == key].assign(**changes).reset_index(drop=True)


@pytest.fixture
def steps(store):
    """A project taken through imports, edits, deletions and a settings change; ``store.load`` kept after each."""
    pid = store.create_project("History test", settings=small_project().settings)
    states = {0: store.load(pid)}
    r = store.import_project(pid, small_project())
    states[r] = store.load(pid)
    r = store.apply_edits(pid, "stakeholders", upserts=whole(store, pid, "stakeholders", "s1", name="Ann B.", influence=4))
    states[r] = store.load(pid)
    more = Project(stakeholders=normalise_frame("stakeholders", pd.DataFrame(
                       {"id": ["s4"], "name": ["Library"], "kind": ["community_asset"], "age band": ["65+"]})),
                   relationships=normalise_frame("relationships", pd.DataFrame(
                       {"id": ["r2"], "source": ["s4"], "target": ["s3"], "type": ["works with"]})))
    r = store.import_project(pid, more)
    states[r] = store.load(pid)
    r = store.apply_edits(pid, "stakeholders", deletes=["s2"])  # takes r1 and s2's participation with it
    states[r] = store.load(pid)
    settings = ProjectSettings.from_dict({**store.load(pid).settings.to_dict(),
                                          "cycles": [{"name": "Cycle 1", "start": "2026-01-01", "end": "2026-03-31"}]})
    r = store.save_settings(pid, settings)
    states[r] = store.load(pid)
    r = store.apply_edits(pid, "relationships", upserts=whole(store, pid, "relationships", "r2", strength=4.5))
    states[r] = store.load(pid)
    return store, pid, states


def test_every_change_is_one_action_with_its_rows(steps):
    store, pid, states = steps
    actions = store.history(pid)
    assert actions["kind"].tolist() == ["edit", "settings", "edit", "import", "edit", "import", "create"]
    assert actions["revision"].tolist() == [6, 5, 4, 3, 2, 1, 0]
    delete = actions.loc[actions["revision"] == 4, "id"].item()
    rows = store.changes(pid, delete)
    # the cascade is caught: s2, its attribute value, tie r1 and its participation record
    assert sorted(zip(rows["table_name"], rows["key"], strict=True)) == sorted([
        ("stakeholders", "s2"), ("stakeholder_attributes", "s2 / age band"), ("relationships", "r1"),
        ("participation", "s2 / a1")])
    assert set(rows["op"]) == {"delete"}
    edit = actions.loc[actions["revision"] == 2]
    assert edit["fields"].item() == ["stakeholders.name", "stakeholders.influence"]
    assert edit["summary"].item() == "1 stakeholder changed (name, influence)"


def test_undo_step_by_step_gives_every_earlier_state(steps):
    store, pid, states = steps
    top = max(states)
    for revision in range(top - 1, -1, -1):
        store.undo(pid)
        assert_same(store.load(pid), states[revision])
    refused(store.undo, pid, expect="nothing left to undo")


def test_undo_can_itself_be_undone(steps):
    store, pid, states = steps
    store.undo(pid)
    undo_id = store.history(pid)["id"].iloc[0]
    store.revert(pid, int(undo_id))  # redo
    assert_same(store.load(pid), states[max(states)])
    assert store.history(pid)["undone_by"].iloc[2] is pd.NA  # the redo put entry back in effect


def test_revert_a_middle_action_when_nothing_later_touched_its_rows(steps):
    store, pid, states = steps
    edit = store.history(pid).query("revision == 2")["id"].item()
    store.revert(pid, int(edit))
    now = store.load(pid)
    # independently: today's state with s1's name and influence as they were before the edit
    expected = states[max(states)].stakeholders.copy()
    expected.loc[expected["id"] == "s1", "name"] = "Ann"
    expected.loc[expected["id"] == "s1", "influence"] = 1
    pd.testing.assert_frame_equal(now.stakeholders, expected)
    pd.testing.assert_frame_equal(now.relationships, states[max(states)].relationships)


def test_revert_is_refused_when_the_row_changed_again(steps):
    store, pid, states = steps
    with acting_as("Priya"):
        store.apply_edits(pid, "stakeholders", upserts=whole(store, pid, "stakeholders", "s1", influence=5))
    edit = store.history(pid).query("revision == 2")["id"].item()
    before = store.revision(pid)
    with pytest.raises(EditRejected) as refused:
        store.revert(pid, int(edit))
    text = refused.value.details()
    assert "stakeholder 's1' was changed again on" in text and "by Priya" in text
    assert store.revision(pid) == before and row(store, pid, "stakeholders", "s1")["influence"] == 5


def test_revert_is_refused_when_later_rows_depend_on_it(steps):
    store, pid, states = steps
    added = store.history(pid).query("revision == 3")["id"].item()  # brought s4 and r2 (r2 was edited later)
    refused(store.revert, pid, int(added), expect="tie 'r2' was changed again")
    pid2 = store.create_project("Depends", settings=small_project().settings)
    store.import_project(pid2, small_project())
    store.apply_edits(pid2, "stakeholders", upserts=normalise_frame("stakeholders", pd.DataFrame(
        {"id": ["s9"], "name": ["New"], "kind": ["person"]})))
    first = int(store.history(pid2)["id"].iloc[0])
    store.apply_edits(pid2, "relationships", upserts=normalise_frame("relationships", pd.DataFrame(
        {"id": ["r9"], "source": ["s9"], "target": ["s1"], "type": ["knows"]})))
    kept = store.load(pid2)
    refused(store.revert, pid2, first, expect="tie 'r9', added or changed since, depends on it")
    assert_same(store.load(pid2), kept)


def test_time_travel_equals_the_state_recorded_at_each_revision(steps):
    store, pid, states = steps
    for revision, state in states.items():
        assert_same(store.state_at(pid, revision=revision), state)


def test_time_travel_by_date(store, monkeypatch):
    today = ["2026-01-05T10:00:00+00:00"]
    monkeypatch.setattr(store_module, "_now", lambda: today[0])
    pid = store.create_project("Dated", settings=small_project().settings)
    store.import_project(pid, small_project())
    january = store.load(pid)
    today[0] = "2026-02-10T09:00:00+00:00"
    store.apply_edits(pid, "stakeholders", deletes=["s3"])
    february = store.load(pid)
    assert_same(store.state_at(pid, when="2026-01-31"), january)
    assert_same(store.state_at(pid, when="2026-02-10"), february)
    assert len(store.state_at(pid, when="2026-01-04").stakeholders) == 0
    diff = compare_projects(store.state_at(pid, when="2026-01-31"), store.state_at(pid, when="2026-02-28"))
    assert diff["stakeholders removed"]["id"].tolist() == ["s3"] and diff["stakeholders added"].empty
    assert diff["ties removed"].empty and diff["participation removed"].empty


def test_compare_counts_match_a_hand_count(steps):
    store, pid, states = steps
    diff = compare_projects(states[1], states[max(states)])
    assert diff["stakeholders added"]["id"].tolist() == ["s4"]
    assert diff["stakeholders removed"]["id"].tolist() == ["s2"]
    assert diff["ties added"]["id"].tolist() == ["r2"] and diff["ties removed"]["id"].tolist() == ["r1"]
    assert diff["participation removed"][["stakeholder_id", "activity_id"]].values.tolist() == [["s2", "a1"]]


def test_record_edits_are_logged_and_undone(sample_project):
    store, pid = sample_project
    decisions = load_record(store, pid).decisions
    before = len(decisions)
    apply_record_edits(store, pid, "decisions", upserts=pd.DataFrame(
        {"id": ["D99"], "title": ["Meet on Saturdays"], "date": ["2026-02-01"]}))
    top = store.history(pid).iloc[0]
    assert top["kind"] in ("record", "edit") and "1 decision added" in top["summary"]
    store.undo(pid)
    assert len(load_record(store, pid).decisions) == before


def test_snapshot_restores_as_a_new_project(steps):
    store, pid, states = steps
    sid = store.take_snapshot(pid, "Before workshop 2")
    kept = store.load(pid)
    store.apply_edits(pid, "stakeholders", deletes=["s1", "s3"])
    assert store.snapshots(pid)["name"].tolist() == ["Before workshop 2"]
    new = store.restore_snapshot(pid, sid, "Restored copy")
    assert new != pid
    restored = store.load(new)
    restored.name = kept.name
    assert_same(restored, kept)
    assert len(store.load(pid).stakeholders) == 1  # the original was not touched
    refused(store.restore_snapshot, pid, sid, "Restored copy", expect="already exists")


def test_private_values_are_hidden_unless_allowed(store):
    pid = store.create_project("Private", settings=small_project().settings)
    store.import_project(pid, small_project())
    store.apply_edits(pid, "stakeholders", upserts=whole(store, pid, "stakeholders", "s1", notes="Uses a wheelchair"))
    top = int(store.history(pid)["id"].iloc[0])
    assert store.changes(pid, top)["new"].iloc[0]["notes"] == "(private)"
    assert store.changes(pid, top, can_see_private=True)["new"].iloc[0]["notes"] == "Uses a wheelchair"
    attrs = store.changes(pid, int(store.history(pid)["id"].iloc[1]))
    values = attrs.loc[attrs["table_name"] == "stakeholder_attributes", "new"].map(lambda r: r["value"])
    assert set(values) == {"(private)"}


def test_retention_and_purge(store, monkeypatch):
    today = ["2025-01-01T00:00:00+00:00"]
    monkeypatch.setattr(store_module, "_now", lambda: today[0])
    pid = store.create_project("Retained", settings=small_project().settings)
    store.import_project(pid, small_project())
    today[0] = "2026-06-01T00:00:00+00:00"
    store.set_retention(pid, "2026-01-01")
    assert store.retention_until(pid) == "2026-01-01"
    refused(store.set_retention, pid, "2026-02-30", expect="not a real date")
    purged = store.purge_history(pid, before="2026-01-01")
    # 3 stakeholders, 1 activity, 2 attribute values, 1 tie, 2 participation records (kept as one batch row)
    assert purged == 9
    assert "(9 row changes)" in store.history(pid).iloc[0]["summary"]
    history = store.history(pid)
    assert history.query("kind == 'import'")["purged"].item()
    refused(store.revert, pid, int(history.query("kind == 'import'")["id"].item()), expect="purged")
    with store.engine.connect() as conn:
        left = conn.execute(sa.text("SELECT count(*) FROM changes WHERE project_id = :p"), {"p": pid}).scalar()
    assert left == 1  # only the retention date's own change


def test_export_and_delete_are_in_the_audit_trail(store):
    pid = store.create_project("Gone soon", settings=small_project().settings)
    store.import_project(pid, small_project(), actor="Sam")
    store.log_export(pid, "xlsx", actor="Sam")
    assert store.history(pid).iloc[0][["kind", "actor", "summary"]].tolist() == ["export", "Sam", "exported as xlsx"]
    store.delete_project(pid, actor="Sam")
    trail = store.audit_trail()
    assert trail["project_id"].tolist() == [""] and trail["kind"].tolist() == ["delete project"]
    with store.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM changes")).scalar() == 0


def test_summary_counts_rows_whose_fields_changed_not_bookkeeping_only_rewrites():
    """Hand count: three stakeholder rows rewritten, one renamed, two only had their row version moved on."""
    from coprod_map import history

    rows = history.parse_changes(pd.DataFrame({
        "seq": [1, 2, 3], "action_id": [1, 1, 1], "table_name": ["stakeholders"] * 3, "op": ["update"] * 3,
        "old": ['{"id": "s1", "name": "A", "version": 1}', '{"id": "s2", "name": "B", "version": 1}',
                '{"id": "s3", "name": "C", "version": 4}'],
        "new": ['{"id": "s1", "name": "Ann", "version": 2}', '{"id": "s2", "name": "B", "version": 2}',
                '{"id": "s3", "name": "C", "version": 5}']}))
    assert history.summarise(rows) == ("1 stakeholder changed (name)", ["stakeholders.name"])


def test_summary_counts_have_thousands_separators():
    """1,234 participation rows added and 1,000 stakeholders removed (hand count); under a thousand: no comma."""
    import numpy as np

    from coprod_map import history

    n = 1234
    diff = pd.DataFrame({"op": "insert", "stakeholder_id": [f"s{i}" for i in range(n)], "activity_id": "a1",
                         "old_seq": pd.array([None] * n, dtype="Int64"), "new_seq": pd.array(np.arange(n), dtype="Int64"),
                         "old_notes": None, "new_notes": "", "erased": False})
    removed = history.parse_changes(pd.DataFrame({
        "seq": range(1000), "action_id": 1, "table_name": "stakeholders", "op": "delete",
        "old": [f'{{"id": "p{i}"}}' for i in range(1000)], "new": None}))
    ties = history.parse_changes(pd.DataFrame({
        "seq": range(999), "action_id": 1, "table_name": "relationships", "op": "insert",
        "old": None, "new": [f'{{"id": "r{i}"}}' for i in range(999)]}))
    rows = pd.concat([history.expand_batch(diff, seq=5000, action_id=1), removed, ties], ignore_index=True)
    assert history.summarise(rows)[0] == ("1,000 stakeholders removed; 999 ties added; "
                                          "1,234 participation records added")


def test_compare_matches_rows_on_whole_keys_on_awkward_ids():
    """Against a plain set of key tuples: ids holding the " / " a joined key would use, unicode, blanks, and
    participation pairs whose joined text collides ("a / b" + "c" against "a" + "b / c")."""
    def project(people: list[str], pairs: list[tuple[str, str]]) -> Project:
        return Project(
            stakeholders=normalise_frame("stakeholders", pd.DataFrame({"id": people, "name": [f"N{p}" for p in people]})),
            participation=normalise_frame("participation", pd.DataFrame(pairs or None, columns=["stakeholder_id",
                                                                                                 "activity_id"])))

    earlier = project(["a / b", "é", "s1", "Zoë"], [("a / b", "c"), ("é", "x"), ("s1", "")])
    later = project(["a", "é", "s1 ", "Zoë"], [("a", "b / c"), ("é", "x"), ("Zoë", "x")])
    diff = compare_projects(earlier, later)

    def naive(a: pd.DataFrame, b: pd.DataFrame, keys: list[str]) -> list[tuple]:
        seen = set(a[keys].itertuples(index=False, name=None))
        return [k for k in b[keys].itertuples(index=False, name=None) if k not in seen]

    pairs = ["stakeholder_id", "activity_id"]
    assert diff["stakeholders added"]["id"].tolist() == ["a", "s1 "] == [k[0] for k in naive(
        earlier.stakeholders, later.stakeholders, ["id"])]
    assert diff["stakeholders removed"]["id"].tolist() == ["a / b", "s1"]
    assert list(diff["participation added"].itertuples(index=False, name=None)) == [("a", "b / c"), ("Zoë", "x")] \
        == naive(earlier.participation, later.participation, pairs)
    assert list(diff["participation removed"].itertuples(index=False, name=None)) == [("a / b", "c"), ("s1", "")] \
        == naive(later.participation, earlier.participation, pairs)
    empty = compare_projects(project([], []), project([], []))
    assert all(frame.empty for frame in empty.values())
    assert diff["ties added"].empty and diff["ties removed"].empty
