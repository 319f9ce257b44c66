"""The quick paths of undo, revert and time travel (``coprod_map.history_replay``) give what the general paths give,
on awkward data: ids holding " / ", quotes, backslashes and accents, rows changed and changed back, a person
erased, entries purged, and participation history mixing schema-6 JSON rows with schema-7 batches.

- ``blocking`` with ``action_id`` compares only rows some later change row touched (``changed_since``); without it,
  every planned row is compared with the database. Both must refuse the same rows with the same words.
- ``tables_changes`` reads several tables' change rows in one query; ``table_changes`` one table at a time.
- ``read_frame`` builds columns from one object grid; ``pd.read_sql`` is the independent reading."""

from __future__ import annotations

import copy
import json

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from coprod_map import history, history_replay, privacy, schema
from coprod_map.model import TABLES, Project, ProjectSettings, normalise_frame
from coprod_map.store import Store
from tests.unit.test_history_participation import build_v6

AWKWARD = ["s / 1", 'q"uote', "Zoë ü", "back\\slash", "plain", "tab\tid"]


def assert_same(a: Project, b: Project) -> None:
    for table in TABLES:
        pd.testing.assert_frame_equal(a.table(table).reset_index(drop=True), b.table(table).reset_index(drop=True),
                                      check_dtype=True, obj=table)


def awkward_project() -> Project:
    return Project(
        stakeholders=normalise_frame("stakeholders", pd.DataFrame({
            "id": AWKWARD, "name": ["Slash", "Quote", "Zoë", "Back", "Plain", "Tab"],
            "kind": ["person"] * 6, "age band": ["16-24", "25-64", "", "65+", "16-24", ""]})),
        relationships=normalise_frame("relationships", pd.DataFrame({
            "id": ["r / 1", 'r"2', "r3"], "source": ["s / 1", 'q"uote', "plain"],
            "target": ['q"uote', "Zoë ü", "s / 1"], "type": ["knows"] * 3, "direction": ["mutual"] * 3})),
        activities=normalise_frame("activities", pd.DataFrame({
            "id": ["a / 1", "ä2"], "title": ["Workshop", "Walk"], "date": ["2026-03-01", "2026-03-08"],
            "kind": ["workshop", "visit"]})),
        participation=normalise_frame("participation", pd.DataFrame({
            "stakeholder_id": ["s / 1", 'q"uote', "Zoë ü", "plain", "s / 1"],
            "activity_id": ["a / 1", "a / 1", "ä2", "ä2", "ä2"],
            "notes": ["", 'said "hi"', "Zoë came", "Plain was there", "line\nbreak"]})),
        settings=ProjectSettings(attributes={"age band": ["16-24", "25-64", "65+"]}),
    )


def rename(store: Store, pid: str, sid: str, name: str) -> int:
    return store.apply_edits(pid, "stakeholders", upserts=pd.DataFrame({"id": [sid], "name": [name]}))


def note(store: Store, pid: str, sid: str, aid: str, text: str) -> int:
    return store.apply_edits(pid, "participation", upserts=normalise_frame("participation", pd.DataFrame(
        {"stakeholder_id": [sid], "activity_id": [aid], "notes": [text]})))


def both_ways(store: Store, pid: str) -> dict[int, tuple[list[str], dict]]:
    """For every entry that has a plan: the refusals of the quick path, checked equal to the general path's, and
    what ``changed_since`` said of each table with planned rows."""
    out = {}
    with store.engine.connect() as conn:
        for action in store.history(pid)["id"].tolist():
            plan, _ = history_replay.plan_revert(conn, pid, int(action))
            if not plan:
                continue
            quick = history_replay.blocking(conn, pid, plan, action_id=int(action))
            general = history_replay.blocking(conn, pid, plan)
            assert quick == general, (action, quick, general)
            since = history_replay.changed_since(conn, pid, plan, int(action))
            out[int(action)] = (general, {t: keys for t, keys in since.items() if len(plan[t])})
    return out


@pytest.fixture
def awkward(any_store, monkeypatch):
    """An awkward project with a history: import; rename twice; rename and rename back; a participation note
    changed; a tie removed. Returns (store, pid, entries by name)."""
    from coprod_map import store as store_module

    day = ["2026-01-01T10:00:00+00:00"]
    monkeypatch.setattr(store_module, "_now", lambda: day[0])
    store = any_store
    pid = store.create_project("Awkward", settings=awkward_project().settings)
    store.import_project(pid, awkward_project())
    day[0] = "2026-02-01T10:00:00+00:00"
    entries = {}
    for name, call in [("rename", lambda: rename(store, pid, "s / 1", "Slash 2")),
                       ("rename again", lambda: rename(store, pid, "s / 1", "Slash 3")),
                       ("quote away", lambda: rename(store, pid, 'q"uote', "Changed")),
                       ("quote back", lambda: rename(store, pid, 'q"uote', "Quote")),
                       ("note", lambda: note(store, pid, 'q"uote', "a / 1", "new ü note")),
                       ("tie", lambda: store.apply_edits(pid, "relationships", deletes=["r3"]))]:
        call()
        entries[name] = int(store.history(pid)["id"].iloc[0])
    entries["import"] = int(store.history(pid).query("kind == 'import'")["id"].item())
    return store, pid, entries


def test_quick_refusals_equal_the_general_ones_on_awkward_ids(awkward):
    store, pid, entries = awkward
    found = both_ways(store, pid)
    # latest entry: nothing since, so nothing compared at all
    latest, since = found[entries["tie"]]
    assert latest == [] and all(keys == set() for keys in since.values())
    # renamed again since: refused, naming the row (the " / " inside the id is kept)
    refusals, since = found[entries["rename"]]
    assert len(refusals) == 1 and "stakeholder 's / 1' was changed again" in refusals[0], refusals
    assert since["stakeholders"] == {"s / 1", 'q"uote'}
    # changed and changed back by later entries: a candidate, compared, found as the entry left it
    back = store.history(pid).set_index("id").at[entries["quote back"], "summary"]
    assert found[entries["quote away"]][0] == [
        f"stakeholder 'q\"uote' was changed again on 2026-02-01 by local user (edit: {back})."]
    assert found[entries["quote back"]][0] == []
    # the import: every row touched since is named, participation included
    refusals, since = found[entries["import"]]
    assert since["participation"] == {'q"uote / a / 1'}
    assert any("participation record 'q\"uote / a / 1'" in r for r in refusals), refusals
    assert any("tie 'r3'" in r for r in refusals), refusals
    assert not any("stakeholder 'q\"uote'" in r for r in refusals), refusals  # changed back: as the import left it


def test_many_later_rows_for_a_small_entry_compare_every_row(awkward, monkeypatch):
    store, pid, entries = awkward
    monkeypatch.setattr(history_replay, "CHANGED_SINCE_ROWS", 0)
    found = both_ways(store, pid)  # still the same refusals
    assert found[entries["rename"]][1]["stakeholders"] is None  # 1 planned row, 3 later: not keyed
    assert found[entries["import"]][1]["stakeholders"] == {"s / 1", 'q"uote'}  # more planned rows than later
    assert len(found[entries["rename"]][0]) == 1


def test_after_an_erasure_or_a_purge_every_row_is_compared(awkward, monkeypatch):
    store, pid, entries = awkward
    privacy.erase_person(store, pid, "plain")
    erase = int(store.history(pid)["id"].iloc[0])
    found = both_ways(store, pid)
    assert set(entries.values()) <= set(found)
    assert sum(bool(since) for since in found.values()) >= 6
    assert all(since == {t: None for t in since} for action, (_, since) in found.items() if action != erase), found
    # a later entry purged (its change rows gone): no key can be trusted either
    from coprod_map import store as store_module

    monkeypatch.setattr(store_module, "_now", lambda: "2026-03-01T10:00:00+00:00")
    rename(store, pid, "Zoë ü", "Zoë 2")
    store.purge_history(pid, before="2026-02-15")
    with store.engine.connect() as conn:
        a = schema.METADATA.tables["actions"]
        conn.execute(a.update().where(a.c.id == entries["tie"]).values(purged=False))  # as if it had been kept
        conn.commit()
        plan, _ = history_replay.plan_revert(conn, pid, entries["tie"])
        assert history_replay.changed_since(conn, pid, plan, entries["tie"]) == {t: None for t in plan}


def test_undo_through_the_quick_path_gives_every_earlier_state(awkward):
    """Undo entry by entry from the newest: each undo is refused or gives exactly the map before that entry."""
    store, pid, entries = awkward
    states = {r: copy.deepcopy(store.state_at(pid, revision=r)) for r in range(0, store.revision(pid) + 1)}
    while True:
        open_ = store.history(pid).query("kind != 'undo' and undone_by.isna() and kind != 'create'")
        if not len(open_):
            break
        revision = int(open_["revision"].iloc[0])
        store.undo(pid)
        assert_same(store.load(pid), states[revision - 1])
    assert store.load(pid).stakeholders.empty


def test_one_read_of_several_tables_equals_one_read_per_table(awkward):
    store, pid, entries = awkward
    privacy.erase_person(store, pid, "plain")  # tombstoned rows: no key, erased
    tables = ["stakeholders", "stakeholder_attributes", "relationships", "activities", "reference"]
    c = schema.METADATA.tables["changes"]
    with store.engine.connect() as conn:
        for condition in (sa.true(), c.c.action_id == entries["import"], c.c.seq < 0):
            together = history_replay.tables_changes(conn, pid, tables, condition, values=("old",), present=("new",))
            for table in tables:
                alone = history_replay.table_changes(conn, pid, table, condition, values=("old",), present=("new",))
                pd.testing.assert_frame_equal(together[table], alone, obj=table)
        every = history_replay.tables_changes(conn, pid, tables, sa.true())
    stakeholders = every["stakeholders"]
    assert stakeholders["erased"].sum() >= 1 and stakeholders.loc[stakeholders["erased"], "key"].isna().all()
    assert set(stakeholders["key"].dropna()) == set(AWKWARD) - {"plain"}
    attributes = every["stakeholder_attributes"]
    assert "Zoë ü / age band" not in set(attributes["key"])  # a blank value is no row
    assert {"s / 1 / age band", "back\\slash / age band"} <= set(attributes["key"])
    # has_new says what the JSON says
    new = every["relationships"]["new"].notna().to_numpy()
    with store.engine.connect() as conn:
        flags = history_replay.tables_changes(conn, pid, ["relationships", "stakeholders"], sa.true(), values=(),
                                              present=("new",))["relationships"]["has_new"].to_numpy()
    assert (flags == new).all() and flags.dtype == bool


def test_first_and_last_positions_equal_drop_duplicates():
    rng = np.random.default_rng(7)
    keys = pd.Series(rng.choice(["a / b", 'q"', "ü", "x", "y / z"], size=200).astype(object), dtype=object)
    firsts, lasts = history_replay._first_last(keys)
    frame = pd.DataFrame({"key": keys, "at": np.arange(len(keys))})
    first = frame.drop_duplicates("key", keep="first")
    last = frame.drop_duplicates("key", keep="last").set_index("key").reindex(first["key"])
    assert firsts.tolist() == first["at"].tolist() and lasts.tolist() == last["at"].tolist()
    unique = pd.Series(["b", "a", "c"], dtype=object)
    assert [x.tolist() for x in history_replay._first_last(unique)] == [[0, 1, 2], [0, 1, 2]]


def test_read_frame_keeps_values_as_the_driver_gives_them(any_store):
    store = any_store
    pid = store.create_project("Frame", settings=awkward_project().settings)
    store.import_project(pid, awkward_project())
    c = schema.METADATA.tables["changes"]
    query = (sa.select(c.c.seq, c.c.action_id, c.c.table_name, c.c.old, c.c.new)
             .where(c.c.project_id == pid, c.c.op != "batch").order_by(c.c.seq))
    with store.engine.connect() as conn:
        ours = history_replay.read_frame(conn, query)
        theirs = pd.read_sql(query, conn)
    assert list(ours.columns) == list(theirs.columns) and len(ours) == len(theirs) > 10
    for name in ours.columns:
        assert ours[name].dtype == object
        assert ours[name].tolist() == [None if v is None or v != v else v for v in theirs[name].tolist()], name
    assert json.loads([t for t in ours["new"] if t and '"Zoë ü"' in t][0])["id"] == "Zoë ü"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def v6_store(request, tmp_path):
    url = f"sqlite:///{tmp_path / 'v6.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    build_v6(url)
    store = Store(url)
    yield store
    store.close()


def test_legacy_json_participation_mixed_with_batches(v6_store):
    """A schema-6 history (participation as JSON rows) edited under schema 7 (batches): the quick refusals equal
    the general ones for every entry, and the keys said changed since are those a later entry touched."""
    store, pid = v6_store, "p6"
    note(store, pid, "s3", "a2", "batch note")
    found = both_ways(store, pid)
    old_import = int(store.history(pid).query("revision == 1")["id"].item())
    old_edit = int(store.history(pid).query("revision == 2")["id"].item())
    assert found[old_import][1]["participation"] == {"s1 / a1", "s2 / a1", "s1 / a2", "s3 / a2"}
    assert found[old_edit][1]["participation"] == {"s3 / a2"}
    assert found[old_edit][0] == []  # s3 / a2 was not the edit's: nothing to refuse
    refusals = found[old_import][0]
    assert any("participation record 's3 / a2'" in r for r in refusals), refusals
    assert any("participation record 's1 / a1'" in r for r in refusals), refusals
    # the legacy rows read in one pass agree with the per-table reading
    c = schema.METADATA.tables["changes"]
    with store.engine.connect() as conn:
        together = history_replay.tables_changes(conn, pid, ["stakeholders", "activities"], sa.true())
        for table in ("stakeholders", "activities"):
            pd.testing.assert_frame_equal(together[table], history_replay.table_changes(conn, pid, table, sa.true()))
        keys = history_replay.participation_changes(conn, pid, c.c.action_id == old_edit)["key"].tolist()
    assert sorted(keys) == ["s1 / a1", "s1 / a2", "s2 / a1"]
    assert history.describe_row("participation", "s1 / a1") == "participation record 's1 / a1'"
