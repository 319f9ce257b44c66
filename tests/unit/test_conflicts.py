"""Two people saving the same rows: every interleaving of reads and saves, edits and deletes, on real databases.

Each "session" is its own ``Store`` (its own engine and connections) on one database file, the way two
app processes are. A session *reads* the row versions an editor is built from (``row_versions``) and
later *saves* with ``expected_versions``. Whoever saves second, having read before the first save, must
get ``EditConflict`` naming the row, and the database must hold the first save.
"""

from __future__ import annotations

import itertools
import threading

import pandas as pd
import pytest

from coprod_map.conflicts import Conflict, EditConflict, find_conflicts
from coprod_map.model import Project, normalise_frame
from coprod_map.store import Store

STEPS = ("A reads", "B reads", "A saves", "B saves")


def valid_orders() -> list[tuple[str, ...]]:
    """Every order of the four steps in which each session reads before it saves."""
    return [order for order in itertools.permutations(STEPS)
            if order.index("A reads") < order.index("A saves") and order.index("B reads") < order.index("B saves")]


def test_there_are_six_valid_orders():
    orders = valid_orders()
    assert len(orders) == 6  # 4! / (2 * 2): each session's read fixed before its save
    assert len(set(orders)) == 6


def _project() -> Project:
    return Project(
        stakeholders=normalise_frame("stakeholders", pd.DataFrame({
            "id": ["s1", "s2"], "name": ["Ann", "Bo"], "kind": ["person", "person"]})),
        relationships=normalise_frame("relationships", pd.DataFrame({
            "id": ["r1"], "source": ["s1"], "target": ["s2"], "type": ["knows"]})),
    )


@pytest.fixture
def two_sessions(sqlite_url):
    first = Store(sqlite_url)
    pid = first.create_project("Conflicts")
    first.import_project(pid, _project())
    second = Store(sqlite_url)
    yield first, second, pid
    first.close()
    second.close()


def _row(table: str, row_id: str, **changes) -> pd.DataFrame:
    """A whole row as the editor sends it (the fixture's values, with ``changes``)."""
    frame = _project().table(table)
    frame = frame.loc[frame["id"] == row_id].reset_index(drop=True)
    if not len(frame):
        frame = normalise_frame(table, pd.DataFrame({"id": [row_id], "kind": ["person"]}))
    return frame.assign(**{k: [v] for k, v in changes.items()})


def _save(store: Store, pid: str, who: str, action: str, versions: pd.DataFrame) -> None:
    if action == "edit":
        store.apply_edits(pid, "stakeholders", upserts=_row("stakeholders", "s1", name=f"Named by {who}"),
                          expected_versions=versions, actor=who)
    else:
        store.apply_edits(pid, "stakeholders", deletes=["s1"], expected_versions=versions, actor=who)


def _play(stores: dict, pid: str, order: tuple[str, ...], actions: dict[str, str]) -> dict:
    """Run the steps in ``order``; returns what each save did ("ok" or the EditConflict)."""
    read: dict[str, pd.DataFrame] = {}
    outcome: dict[str, object] = {}
    for step in order:
        who, verb = step.split()
        if verb == "reads":
            read[who] = stores[who].row_versions(pid, "stakeholders")
        else:
            try:
                _save(stores[who], pid, who, actions[who], read[who])
                outcome[who] = "ok"
            except EditConflict as conflict:
                outcome[who] = conflict
    return outcome


def _first_saver(order: tuple[str, ...]) -> str:
    return "A" if order.index("A saves") < order.index("B saves") else "B"


def _second_read_before_first_save(order: tuple[str, ...]) -> bool:
    first = _first_saver(order)
    second = "B" if first == "A" else "A"
    return order.index(f"{second} reads") < order.index(f"{first} saves")


@pytest.mark.parametrize("order", valid_orders(), ids=lambda o: ", ".join(o))
@pytest.mark.parametrize("actions", [{"A": "edit", "B": "edit"}, {"A": "delete", "B": "edit"},
                                     {"A": "edit", "B": "delete"}], ids=lambda a: f"A {a['A']}s, B {a['B']}s")
def test_no_interleaving_loses_an_update(two_sessions, order, actions):
    first_store, second_store, pid = two_sessions
    stores = {"A": first_store, "B": second_store}
    revision_before = first_store.revision(pid)
    outcome = _play(stores, pid, order, actions)

    first = _first_saver(order)
    second = "B" if first == "A" else "A"
    assert outcome[first] == "ok"
    saved = first_store.load(pid).stakeholders.set_index("id")
    if _second_read_before_first_save(order):
        # the second saver worked from a stale copy: refused, naming the row and who got there first
        conflict = outcome[second]
        assert isinstance(conflict, EditConflict), f"{second} overwrote silently in {order}"
        assert conflict.ids == ["s1"]
        only = conflict.conflicts[0]
        assert only.what == ("deleted" if actions[first] == "delete" else "changed")
        assert only.by == first  # the audit trail's actor for the first save
        assert only.at.startswith(str(pd.Timestamp.now(tz="UTC").year))
        assert "'s1'" in str(conflict.details()) and f"by {first}" in conflict.details()
        assert first_store.revision(pid) == revision_before + 1  # only the first save was written
        if actions[first] == "delete":
            assert "s1" not in saved.index  # no resurrection by the later edit
        else:
            assert saved.loc["s1", "name"] == f"Named by {first}"
    else:
        # the second saver read after the first save, so it knowingly builds on it
        if actions[first] == "delete" and actions[second] == "edit":
            # it read after the delete, so its editor had no s1: saving one is adding a new row on purpose
            assert outcome[second] == "ok"
            assert saved.loc["s1", "name"] == f"Named by {second}"
        elif actions[first] == "edit" and actions[second] == "delete":
            assert outcome[second] == "ok"
            assert "s1" not in saved.index
        else:
            assert outcome[second] == "ok"
            assert saved.loc["s1", "name"] == f"Named by {second}"
    assert saved.loc["s2", "name"] == "Bo"  # a row nobody touched is untouched


def test_a_conflict_writes_nothing_at_all(two_sessions):
    a, b, pid = two_sessions
    stale = b.row_versions(pid, "stakeholders")
    a.apply_edits(pid, "stakeholders", upserts=_row("stakeholders", "s1", name="Ann A"), actor="alice")
    before = (b.revision(pid), b.load(pid).stakeholders.to_dict("records"), len(b.history(pid)))
    with pytest.raises(EditConflict) as raised:
        # s2 is fine, s1 is stale: the whole change is refused, s2 included
        b.apply_edits(pid, "stakeholders", upserts=pd.concat([_row("stakeholders", "s1", name="Ann B"),
                                                         _row("stakeholders", "s2", name="Bo B")]),
                      expected_versions=stale, actor="bob")
    assert raised.value.ids == ["s1"]
    assert (b.revision(pid), b.load(pid).stakeholders.to_dict("records"), len(b.history(pid))) == before


def test_a_row_added_by_someone_else_with_the_same_id_is_a_conflict(two_sessions):
    a, b, pid = two_sessions
    stale = b.row_versions(pid, "stakeholders")
    a.apply_edits(pid, "stakeholders", upserts=_row("stakeholders", "s3", name="Cy"),
                  actor="alice")
    with pytest.raises(EditConflict) as raised:
        b.apply_edits(pid, "stakeholders", upserts=_row("stakeholders", "s3", name="Di"),
                      expected_versions=stale, actor="bob")
    assert [(c.id, c.what, c.by) for c in raised.value.conflicts] == [("s3", "added", "alice")]
    assert a.load(pid).stakeholders.set_index("id").loc["s3", "name"] == "Cy"


def test_relationships_and_activities_are_checked_too(two_sessions):
    a, b, pid = two_sessions
    stale = b.row_versions(pid, "relationships")
    a.apply_edits(pid, "relationships", upserts=_row("relationships", "r1", notes="met at the fair"), actor="alice")
    with pytest.raises(EditConflict, match="1 row was changed"):
        b.apply_edits(pid, "relationships", deletes=["r1"], expected_versions=stale, actor="bob")
    assert a.load(pid).relationships["notes"].tolist() == ["met at the fair"]


def test_an_attribute_change_counts_as_a_change_of_the_person(two_sessions):
    a, b, pid = two_sessions
    stale = b.row_versions(pid, "stakeholders")
    a.apply_edits(pid, "stakeholders", upserts=_row("stakeholders", "s1", **{"age band": "16-24"}), actor="alice")
    with pytest.raises(EditConflict):
        b.apply_edits(pid, "stakeholders", upserts=_row("stakeholders", "s1", name="Ann B"),
                      expected_versions=stale, actor="bob")


def test_fresh_versions_save_and_a_plain_dict_works(two_sessions):
    a, _b, pid = two_sessions
    versions = dict(zip(*a.row_versions(pid, "stakeholders").to_dict("list").values(), strict=True))
    revision = a.apply_edits(pid, "stakeholders", upserts=_row("stakeholders", "s1", name="Ann 2"),
                             expected_versions=versions)
    assert revision == a.revision(pid)
    assert a.row_versions(pid, "stakeholders").set_index("id")["version"]["s1"] == versions["s1"] + 1


def test_tables_without_versions_are_refused_clearly(two_sessions):
    a, _b, pid = two_sessions
    with pytest.raises(ValueError, match="no row versions"):
        a.apply_edits(pid, "participation", deletes=[("s1", "a1")], expected_versions={})


def test_find_conflicts_by_hand():
    now = pd.DataFrame({"id": ["a", "b", "d"], "version": [1, 3, 1]})
    found = find_conflicts(pd.DataFrame({"id": ["a", "b", "c"], "version": [1, 2, 1]}), now, ["a", "b", "c", "d", "e"])
    assert found[["id", "what"]].to_dict("list") == {"id": ["b", "c", "d"], "what": ["changed", "deleted", "added"]}
    assert found["expected"].tolist()[:2] == [2, 1] and pd.isna(found["expected"].iloc[2])
    assert found["current"].iloc[0] == 3 and pd.isna(found["current"].iloc[1]) and found["current"].iloc[2] == 1
    assert find_conflicts({}, now.iloc[:0], []).empty
    assert Conflict("activities", "a1", "changed", 1, 2, "ann", "2026-05-01T10:02:33+00:00").describe() == (
        "Activity 'a1' was changed by ann at 2026-05-01 10:02 (UTC).")


def _race(url: str, workers: int = 4) -> tuple[list, Store, str]:
    """``workers`` sessions read the same versions, then all save at once; returns outcomes."""
    setup = Store(url)
    pid = setup.create_project("Race")
    setup.import_project(pid, _project())
    stores = [Store(url, busy_timeout=30) for _ in range(workers)]
    versions = [s.row_versions(pid, "stakeholders") for s in stores]
    barrier = threading.Barrier(workers)
    outcomes: list = [None] * workers

    def save(i: int) -> None:
        barrier.wait()
        try:
            stores[i].apply_edits(pid, "stakeholders", upserts=_row("stakeholders", "s1", name=f"W{i}"),
                                  expected_versions=versions[i], actor=f"w{i}")
            outcomes[i] = "ok"
        except EditConflict as conflict:
            outcomes[i] = conflict
        except Exception as error:  # noqa: BLE001 - recorded and asserted on below
            outcomes[i] = error

    threads = [threading.Thread(target=save, args=(i,)) for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for s in stores:
        s.close()
    return outcomes, setup, pid


def _assert_one_winner(outcomes: list, store: Store, pid: str) -> None:
    winners = [i for i, o in enumerate(outcomes) if o == "ok"]
    assert len(winners) == 1, outcomes
    assert all(isinstance(o, EditConflict) for i, o in enumerate(outcomes) if i != winners[0]), outcomes
    assert store.load(pid).stakeholders.set_index("id").loc["s1", "name"] == f"W{winners[0]}"
    assert store.row_versions(pid, "stakeholders").set_index("id")["version"]["s1"] == 2  # written exactly once


def test_simultaneous_saves_on_sqlite_have_exactly_one_winner(sqlite_url):
    outcomes, store, pid = _race(sqlite_url)
    _assert_one_winner(outcomes, store, pid)
    store.close()


@pytest.mark.postgres
def test_simultaneous_saves_on_postgresql_have_exactly_one_winner(pg_url):  # noqa: F811
    outcomes, store, pid = _race(pg_url)
    _assert_one_winner(outcomes, store, pid)
    store.close()


@pytest.mark.postgres
@pytest.mark.parametrize("order", valid_orders()[:3], ids=lambda o: ", ".join(o))
def test_interleavings_on_postgresql(pg_url, order):  # noqa: F811
    a = Store(pg_url)
    pid = a.create_project("Conflicts")
    a.import_project(pid, _project())
    b = Store(pg_url)
    try:
        outcome = _play({"A": a, "B": b}, pid, order, {"A": "edit", "B": "edit"})
        first = _first_saver(order)
        second = "B" if first == "A" else "A"
        assert outcome[first] == "ok"
        assert isinstance(outcome[second], EditConflict) == _second_read_before_first_save(order)
        winner = second if outcome[second] == "ok" else first
        assert a.load(pid).stakeholders.set_index("id").loc["s1", "name"] == f"Named by {winner}"
    finally:
        a.close()
        b.close()
