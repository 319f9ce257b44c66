"""Two people saving the same row of the co-production record: every interleaving, on SQLite and PostgreSQL.

Each session is its own ``Store`` on one database (as two app processes are). A session *reads* the row versions
an editor is built from (``record_versions``) and later *saves* with ``expected_versions``. The expected outcome
of each order is worked out from the order alone: the second saver is refused exactly when it read before the
first save, and then the database holds the first save only.
"""

from __future__ import annotations

import itertools

import pandas as pd
import pytest

from coprod_map.conflicts import EditConflict
from coprod_map.model import ProjectSettings
from coprod_map.record_store import (
    RecordConflict,
    apply_record_edits,
    import_record,
    load_record,
    record_versions,
)
from coprod_map.store import Store
from tests.unit.test_record_store import CYCLES, a_record, small_map

STEPS = ("A reads", "B reads", "A saves", "B saves")
ORDERS = [o for o in itertools.permutations(STEPS)
          if o.index("A reads") < o.index("A saves") and o.index("B reads") < o.index("B saves")]
ACTIONS = [{"A": "edit", "B": "edit"}, {"A": "delete", "B": "edit"}, {"A": "edit", "B": "delete"}]
#: record table -> (the row both people touch, the column they edit, the word for the row)
ROWS = {"decisions": ("D1", "title", "Decision"), "actions": ("T1", "title", "Action")}


def _setup(url: str) -> tuple[Store, Store, str]:
    first = Store(url)
    pid = first.create_project("Record conflicts", settings=ProjectSettings(cycles=CYCLES))
    first.import_project(pid, small_map())
    import_record(first, pid, a_record())
    return first, Store(url), pid


@pytest.fixture
def two_sessions(sqlite_url):
    first, second, pid = _setup(sqlite_url)
    yield first, second, pid
    first.close()
    second.close()


def _save(store: Store, pid: str, table: str, who: str, action: str, versions: pd.DataFrame) -> None:
    row, column, _ = ROWS[table]
    if action == "edit":  # the whole row, as the editor sends it (it may have to be added again after a delete)
        whole = a_record().table(table)
        whole = whole.loc[whole["id"] == row].assign(**{column: f"By {who}"})
        apply_record_edits(store, pid, table, upserts=whole,
                           expected_versions=versions, actor=who)
    else:
        apply_record_edits(store, pid, table, deletes=[row], expected_versions=versions, actor=who)


def _play(stores: dict, pid: str, table: str, order: tuple[str, ...], actions: dict[str, str]) -> dict:
    read: dict[str, pd.DataFrame] = {}
    outcome: dict[str, object] = {}
    for step in order:
        who, verb = step.split()
        if verb == "reads":
            read[who] = record_versions(stores[who], pid, table)
        else:
            try:
                _save(stores[who], pid, table, who, actions[who], read[who])
                outcome[who] = "ok"
            except EditConflict as conflict:
                outcome[who] = conflict
    return outcome


def _check(stores: dict, pid: str, table: str, order: tuple[str, ...], actions: dict[str, str]) -> None:
    store = stores["A"]
    revision_before = store.revision(pid)
    outcome = _play(stores, pid, table, order, actions)
    row, column, word = ROWS[table]
    first = "A" if order.index("A saves") < order.index("B saves") else "B"
    second = "B" if first == "A" else "A"
    stale = order.index(f"{second} reads") < order.index(f"{first} saves")
    assert outcome[first] == "ok"
    saved = load_record(store, pid).table(table).set_index("id")
    if stale:
        conflict = outcome[second]
        assert isinstance(conflict, EditConflict), f"{second} overwrote silently in {order}"
        assert conflict.ids == [row]
        only = conflict.conflicts[0]
        assert isinstance(only, RecordConflict) and only.table == table
        assert only.what == ("deleted" if actions[first] == "delete" else "changed")
        assert only.by == first and only.at.startswith(str(pd.Timestamp.now(tz="UTC").year))
        verb = "deleted" if actions[first] == "delete" else "changed"
        assert conflict.details().startswith(f"{word} '{row}' was {verb} by {first} at ")
        assert store.revision(pid) == revision_before + 1  # only the first save was written
        if actions[first] == "delete":
            assert row not in saved.index  # not brought back by the later edit
        else:
            assert saved.loc[row, column] == f"By {first}"
    else:  # the second saver read after the first save: it builds on it knowingly
        assert outcome[second] == "ok"
        assert store.revision(pid) == revision_before + 2
        if actions[second] == "delete":
            assert row not in saved.index
        else:
            assert saved.loc[row, column] == f"By {second}"
    winner = second if outcome[second] == "ok" else first
    assert store.history(pid).iloc[0]["actor"] == winner  # the actor reaches the audit trail


def test_there_are_six_orders():
    assert len(ORDERS) == len(set(ORDERS)) == 6  # 4! / (2 * 2)


@pytest.mark.parametrize("table", list(ROWS))
@pytest.mark.parametrize("order", ORDERS, ids=lambda o: ", ".join(o))
@pytest.mark.parametrize("actions", ACTIONS, ids=lambda a: f"A {a['A']}s, B {a['B']}s")
def test_no_interleaving_loses_a_record_update(two_sessions, table, order, actions):
    first, second, pid = two_sessions
    _check({"A": first, "B": second}, pid, table, order, actions)


@pytest.mark.postgres
@pytest.mark.parametrize("table", list(ROWS))
@pytest.mark.parametrize("order", ORDERS, ids=lambda o: ", ".join(o))
@pytest.mark.parametrize("actions", ACTIONS[:2], ids=lambda a: f"A {a['A']}s, B {a['B']}s")
def test_no_interleaving_loses_a_record_update_on_postgresql(pg_url, table, order, actions):  # noqa: F811
    first, second, pid = _setup(pg_url)
    try:
        _check({"A": first, "B": second}, pid, table, order, actions)
    finally:
        first.close()
        second.close()


def test_edits_to_different_rows_both_save(two_sessions):
    first, second, pid = two_sessions
    apply_record_edits(first, pid, "decisions", upserts=pd.DataFrame({"id": ["D2"], "title": ["New"]}), actor="ann")
    a_read, b_read = record_versions(first, pid, "decisions"), record_versions(second, pid, "decisions")
    apply_record_edits(first, pid, "decisions", upserts=pd.DataFrame({"id": ["D1"], "title": ["Ann's"]}),
                       expected_versions=a_read, actor="ann")
    apply_record_edits(second, pid, "decisions", upserts=pd.DataFrame({"id": ["D2"], "title": ["Bo's"]}),
                       expected_versions=b_read, actor="bo")  # the project moved on, but not this row
    saved = load_record(first, pid).decisions.set_index("id")["title"]
    assert saved.to_dict() == {"D1": "Ann's", "D2": "Bo's"}


def test_a_conflict_writes_nothing_even_beside_rows_that_would_save(two_sessions):
    first, second, pid = two_sessions
    stale = record_versions(second, pid, "actions")
    apply_record_edits(first, pid, "actions", upserts=pd.DataFrame({"id": ["T1"], "status": ["done"]}), actor="ann")
    before = load_record(first, pid)
    revision = first.revision(pid)
    with pytest.raises(EditConflict) as caught:
        apply_record_edits(second, pid, "actions", upserts=pd.DataFrame({
            "id": ["T1", "T2"], "cycle": ["Cycle 2", "Cycle 2"], "title": ["Mine", "Another"]}),
            expected_versions=stale, actor="bo")
    assert caught.value.ids == ["T1"]
    assert first.revision(pid) == revision
    pd.testing.assert_frame_equal(load_record(first, pid).actions, before.actions)


def test_a_row_someone_else_added_with_the_same_key_is_a_conflict(two_sessions):
    first, second, pid = two_sessions
    stale = record_versions(second, pid, "decisions")
    apply_record_edits(first, pid, "decisions", upserts=pd.DataFrame({"id": ["D7"], "title": ["Ann's"]}), actor="ann")
    with pytest.raises(EditConflict) as caught:
        apply_record_edits(second, pid, "decisions", upserts=pd.DataFrame({"id": ["D7"], "title": ["Bo's"]}),
                           expected_versions=stale, actor="bo")
    assert [(c.id, c.what, c.expected, c.current) for c in caught.value.conflicts] == [("D7", "added", None, 1)]
    assert load_record(first, pid).decisions.set_index("id").loc["D7", "title"] == "Ann's"


def test_two_column_keys_are_checked_and_named_as_the_audit_trail_names_them(two_sessions):
    first, second, pid = two_sessions
    stale = record_versions(second, pid, "need_met")
    assert list(stale.columns) == ["need_id", "activity_id", "version"]
    apply_record_edits(first, pid, "need_met", upserts=pd.DataFrame(
        {"need_id": ["N1"], "activity_id": ["a1"], "met": ["yes"]}), actor="ann")
    with pytest.raises(EditConflict) as caught:
        apply_record_edits(second, pid, "need_met", deletes=[("N1", "a1")], expected_versions=stale, actor="bo")
    assert caught.value.details().startswith("Row 'N1 / a1' was changed by ann at ")
    # a plain mapping with a tuple key works too, and fresh versions save
    fresh = record_versions(second, pid, "need_met")
    as_dict = {(n, a): v for n, a, v in fresh.itertuples(index=False)}
    assert as_dict == {("N1", "a1"): 2}  # changed once since the import: version 1 + 1
    apply_record_edits(second, pid, "need_met", deletes=[("N1", "a1")], expected_versions=as_dict, actor="bo")
    assert load_record(first, pid).need_met.empty


def test_without_expected_versions_nothing_is_checked_and_the_actor_is_recorded(two_sessions):
    first, second, pid = two_sessions
    apply_record_edits(first, pid, "decisions", upserts=pd.DataFrame({"id": ["D1"], "title": ["Ann's"]}), actor="ann")
    apply_record_edits(second, pid, "decisions", upserts=pd.DataFrame({"id": ["D1"], "title": ["Bo's"]}))
    assert load_record(first, pid).decisions.set_index("id").loc["D1", "title"] == "Bo's"
    assert list(first.history(pid)["actor"].iloc[:2]) == ["local user", "ann"]


def test_versions_without_the_key_columns_are_refused_clearly(two_sessions):
    first, _, pid = two_sessions
    with pytest.raises(ValueError, match="need_id, activity_id, version"):
        apply_record_edits(first, pid, "need_met", deletes=[("N1", "a1")],
                           expected_versions=pd.DataFrame({"id": ["N1"], "version": [1]}))
