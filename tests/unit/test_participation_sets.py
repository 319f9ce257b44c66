"""Participation kept as a columnar set (schema 7): Parquet round trips, the diff against a row-by-row
calculation, and write/read/drop on real SQLite and PostgreSQL databases."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from coprod_map import participation_sets as ps
from coprod_map.model import Project
from coprod_map.store import Store

AWKWARD = ["", "Zoë", "a \"quoted\" note", "line one\nline two", "tab\there", "'single'", "😀 emoji", "NA", "None",
           "x" * 100_000, "  spaces  ", "=1+1", "\\back\\slash", "日本語", "null"]


def live(rows: list[tuple[str, str, int, str]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(ps.COLUMNS)) if rows else ps.empty()
    return frame.astype({"stakeholder_id": object, "activity_id": object, "notes": object, "seq": np.int64})


def awkward_set() -> pd.DataFrame:
    rows = [(f"s{i}" if i % 3 else AWKWARD[i % len(AWKWARD)] or "s-blank", f"a{i % 4}", i, AWKWARD[i % len(AWKWARD)])
            for i in range(60)]
    return live(rows).drop_duplicates(["stakeholder_id", "activity_id"]).reset_index(drop=True)


def test_encode_decode_round_trip_awkward_text() -> None:
    frame = awkward_set()
    back = ps.decode(ps.encode(frame))
    pd.testing.assert_frame_equal(back, frame)
    assert back["notes"].map(type).eq(str).all() and back["seq"].dtype == np.int64
    assert set(back["notes"]) == set(AWKWARD) - {""} | {""}  # every awkward note came back, the long one whole
    assert max(back["notes"].map(len)) == 100_000


def test_encode_decode_empty_and_diff_with_missing_values() -> None:
    empty = ps.decode(ps.encode(ps.empty()))
    assert list(empty.columns) == list(ps.COLUMNS) and len(empty) == 0
    changes = ps.diff(live([("s1", "a1", 0, "old"), ("s2", "a1", 1, "")]), live([("s1", "a1", 0, "new"), ("s3", "a1", 2, "")]))
    back = ps.decode(ps.encode(changes))
    assert list(back.columns) == list(ps.DIFF_COLUMNS)
    assert str(back["old_seq"].dtype) == "Int64" and back["erased"].dtype == bool
    pd.testing.assert_frame_equal(back, changes)
    insert = back.loc[back["op"] == "insert"].iloc[0]
    assert insert["old_notes"] is None and insert["old_seq"] is pd.NA and insert["new_notes"] == ""


def row_by_row_diff(before: pd.DataFrame, after: pd.DataFrame) -> set[tuple]:
    """An independent calculation: dicts and a loop."""
    old = {(r.stakeholder_id, r.activity_id): (r.seq, r.notes) for r in before.itertuples()}
    new = {(r.stakeholder_id, r.activity_id): (r.seq, r.notes) for r in after.itertuples()}
    out = set()
    for key in new.keys() - old.keys():
        out.add(("insert", *key, None, new[key][0], None, new[key][1]))
    for key in old.keys() - new.keys():
        out.add(("delete", *key, old[key][0], None, old[key][1], None))
    for key in old.keys() & new.keys():
        if old[key] != new[key]:
            out.add(("update", *key, old[key][0], new[key][0], old[key][1], new[key][1]))
    return out


def as_set(changes: pd.DataFrame) -> set[tuple]:
    def plain(v):  # noqa: ANN001, ANN202
        return None if v is pd.NA or v is None else (int(v) if isinstance(v, (int, np.integer)) else v)
    return {tuple(plain(v) for v in row[:7]) for row in changes.itertuples(index=False)}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_diff_matches_a_row_by_row_calculation(seed: int) -> None:
    rng = np.random.default_rng(seed)
    before = awkward_set()
    after = before.sample(frac=0.7, random_state=seed).copy()
    after.loc[after.index[:5], "notes"] = ["changed", "", "Zoë", "new\nline", "x"]
    after.loc[after.index[5:8], "seq"] = after.loc[after.index[5:8], "seq"] + 100
    extra = live([(f"n{i}", "a9", 500 + i, AWKWARD[int(rng.integers(len(AWKWARD)))]) for i in range(7)])
    after = pd.concat([after, extra], ignore_index=True)
    changes = ps.diff(before, after)
    assert as_set(changes) == row_by_row_diff(before, after)
    assert not changes.duplicated(["stakeholder_id", "activity_id"]).any()
    counts = ps.counts_of(changes)
    assert counts["insert"] == 7 and counts["delete"] == len(before) - int(len(before) * 0.7 + 0.5)
    assert not changes["erased"].any()


def test_diff_of_equal_sets_is_empty_and_order_of_rows_does_not_matter() -> None:
    before = awkward_set()
    assert len(ps.diff(before, before.iloc[::-1])) == 0
    assert as_set(ps.diff(ps.empty(), before)) == row_by_row_diff(ps.empty(), before)
    assert as_set(ps.diff(before, ps.empty())) == row_by_row_diff(before, ps.empty())


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request, tmp_path):
    url = f"sqlite:///{tmp_path / 'sets.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    store = Store(url)
    pid = store.create_project("Sets")
    yield store, pid
    store.close()


def batches(store: Store, pid: str) -> list[tuple[dict, pd.DataFrame]]:
    c = sa.table("changes", sa.column("project_id"), sa.column("table_name"), sa.column("op"), sa.column("new"),
                 sa.column("payload"), sa.column("seq"))
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(c.c.new, c.c.payload).where(c.c.project_id == pid, c.c.op == "batch")
                            .order_by(c.c.seq)).all()
    return [(json.loads(r.new), ps.decode(bytes(r.payload))) for r in rows]


def test_write_read_and_drop_rows_on_a_real_database(db) -> None:
    store, pid = db
    rows = awkward_set()
    with store.engine.begin() as conn:
        assert ps.read(conn, pid).equals(ps.empty())
        assert ps.write(conn, pid, rows) == {"insert": len(rows), "update": 0, "delete": 0}
    with store.engine.begin() as conn:
        pd.testing.assert_frame_equal(ps.read(conn, pid), rows)
        assert ps.write(conn, pid, rows.iloc[::-1]) == {"insert": 0, "update": 0, "delete": 0}  # nothing differs
        person = rows["stakeholder_id"].iloc[1]
        gone = int((rows["stakeholder_id"] == person).sum() + (rows["activity_id"] == "a3").sum()
                   - ((rows["stakeholder_id"] == person) & (rows["activity_id"] == "a3")).sum())
        assert ps.drop_rows(conn, pid, stakeholders=[person], activities=["a3"]) == gone
        left = ps.read(conn, pid)
        assert person not in set(left["stakeholder_id"]) and "a3" not in set(left["activity_id"])
        assert len(left) == len(rows) - gone
        assert ps.write(conn, pid, ps.empty())["delete"] == len(left)
        assert conn.execute(sa.text("SELECT count(*) FROM participation_sets WHERE project_id = :p"), {"p": pid}).scalar() == 0
    found = batches(store, pid)
    assert [f[0] for f in found] == [{"insert": len(rows), "update": 0, "delete": 0},
                                     {"insert": 0, "update": 0, "delete": gone},
                                     {"insert": 0, "update": 0, "delete": len(rows) - gone}]
    pd.testing.assert_frame_equal(found[0][1][["stakeholder_id", "activity_id"]], rows[["stakeholder_id", "activity_id"]])
    assert found[0][1]["new_notes"].tolist() == rows["notes"].tolist()


def test_write_refuses_duplicate_keys(db) -> None:
    store, pid = db
    with store.engine.begin() as conn, pytest.raises(ValueError):
        ps.write(conn, pid, live([("s1", "a1", 0, ""), ("s1", "a1", 1, "")]))


def test_deleting_a_project_deletes_its_set(db) -> None:
    store, pid = db
    store.import_project(pid, Project(
        stakeholders=pd.DataFrame({"id": ["s1"], "name": ["Ann"]}),
        activities=pd.DataFrame({"id": ["a1"], "title": ["Meeting"]}),
        participation=pd.DataFrame({"stakeholder_id": ["s1"], "activity_id": ["a1"]})))
    store.delete_project(pid)
    with store.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM participation_sets")).scalar() == 0


# --- the store's paths: every write goes through the set, with one batch per save ---------------------------

def small_project(notes: list[str] | None = None) -> Project:
    notes = notes or ["", "Zoë \"q\"", "two\nlines", "x" * 3000]
    return Project(
        stakeholders=pd.DataFrame({"id": ["s1", "s2", "s3"], "name": ["Ann", "Bo", "Cy"]}),
        activities=pd.DataFrame({"id": ["a1", "a2"], "title": ["Meeting", "Walk"]}),
        participation=pd.DataFrame({"stakeholder_id": ["s1", "s2", "s3", "s1"], "activity_id": ["a1", "a1", "a2", "a2"],
                                    "notes": notes}))


def pairs(project: Project) -> list[list[str]]:
    return project.participation[["stakeholder_id", "activity_id", "notes"]].values.tolist()


def test_deleting_stakeholders_and_activities_drops_their_participation_in_the_same_entry(db) -> None:
    store, pid = db
    store.import_project(pid, small_project())
    store.apply_edits(pid, "stakeholders", deletes=["s1"])
    assert pairs(store.load(pid)) == [["s2", "a1", "Zoë \"q\""], ["s3", "a2", "two\nlines"]]
    entry = store.history(pid).iloc[0]
    assert "1 stakeholder removed" in entry["summary"] and "2 participation records removed" in entry["summary"]
    found = batches(store, pid)
    assert found[-1][0] == {"insert": 0, "update": 0, "delete": 2}
    assert set(found[-1][1]["stakeholder_id"]) == {"s1"} and found[-1][1]["old_notes"].tolist() == ["", "x" * 3000]
    store.apply_edits(pid, "activities", deletes=["a2"])
    assert pairs(store.load(pid)) == [["s2", "a1", "Zoë \"q\""]]
    with store.engine.connect() as conn:  # each batch is tied to its own audit entry
        ids = conn.execute(sa.text("SELECT action_id FROM changes WHERE project_id = :p AND op = 'batch' ORDER BY seq"),
                           {"p": pid}).scalars().all()
    assert None not in ids and len(set(ids)) == 3


def test_participation_edits_merges_and_replace_imports_keep_load_and_history_exact(db) -> None:
    store, pid = db
    store.import_project(pid, small_project())
    # an edit of one note: one batch, one update, the summary names the field (never the value)
    store.apply_edits(pid, "participation", upserts=pd.DataFrame({"stakeholder_id": ["s2"], "activity_id": ["a1"],
                                                                   "notes": ["new note"]}))
    assert store.history(pid).iloc[0]["fields"] == ["participation.notes"]
    assert batches(store, pid)[-1][0] == {"insert": 0, "update": 1, "delete": 0}
    # a merge import: saved rows keep their place, new ones follow
    more = Project(stakeholders=pd.DataFrame({"id": ["s4"], "name": ["Di"]}),
                   participation=pd.DataFrame({"stakeholder_id": ["s4", "s1"], "activity_id": ["a1", "a1"],
                                               "notes": ["new", "again"]}))
    handed = {}
    store.import_project(pid, more, loaded=lambda r, p: handed.update(project=p))
    loaded = store.load(pid)
    assert pairs(loaded) == [["s1", "a1", "again"], ["s2", "a1", "new note"], ["s3", "a2", "two\nlines"],
                             ["s1", "a2", "x" * 3000], ["s4", "a1", "new"]]
    pd.testing.assert_frame_equal(handed["project"].participation, loaded.participation)
    assert batches(store, pid)[-1][0] == {"insert": 1, "update": 1, "delete": 0}
    # a replace import that leaves people out: their participation goes with them
    store.import_project(pid, Project(
        stakeholders=pd.DataFrame({"id": ["s3", "s1"], "name": ["Cy", "Ann"]}),
        activities=pd.DataFrame({"id": ["a2"], "title": ["Walk"]}),
        participation=pd.DataFrame({"stakeholder_id": ["s1", "s3"], "activity_id": ["a2", "a2"]})), replace=True)
    assert pairs(store.load(pid)) == [["s1", "a2", ""], ["s3", "a2", ""]]
    assert batches(store, pid)[-1][0] == {"insert": 0, "update": 2, "delete": 3}
    with store.engine.connect() as conn:
        assert ps.read(conn, pid)["seq"].tolist() == [0, 1]


def test_snapshots_copies_and_saves_that_change_nothing(db) -> None:
    store, pid = db
    store.import_project(pid, small_project())
    before = len(batches(store, pid))
    store.apply_edits(pid, "stakeholders", upserts=pd.DataFrame({"id": ["s1"], "name": ["Ann B"]}))
    assert len(batches(store, pid)) == before  # a stakeholder edit never rewrites participation
    snap = store.take_snapshot(pid, "Before")
    store.apply_edits(pid, "participation", deletes=[("s1", "a1")])
    restored = store.restore_snapshot(pid, snap, "From snapshot")
    copy = store.copy_project(pid, "Copy")
    assert pairs(store.load(restored)) == pairs(Project(participation=small_project().participation).normalised())
    assert pairs(store.load(copy)) == pairs(store.load(pid)) and len(store.load(copy).participation) == 3
    for new in (restored, copy):  # the new project's history holds its participation, as a batch
        assert batches(store, new)[0][0]["insert"] == len(store.load(new).participation)
    store.apply_edits(copy, "participation", deletes=[("s2", "a1")])
    assert len(store.load(pid).participation) == 3  # the copy is its own
    counts = store.list_projects().set_index("id")["participation"]
    assert counts[pid] == 3 and counts[copy] == 2 and counts[restored] == 4


def test_a_first_write_records_the_same_diff_as_the_general_path(db) -> None:
    """The first write (nothing saved) builds its payloads from one conversion: equal to ``diff`` + ``encode``."""
    store, pid = db
    rows = awkward_set().iloc[::-1].reset_index(drop=True)  # out of seq order: the set is stored ordered by seq
    with store.engine.begin() as conn:
        ps.write(conn, pid, rows)
        pd.testing.assert_frame_equal(ps.read(conn, pid), ps.normalised(rows))
    (counts, payload), = batches(store, pid)
    expected = ps.diff(ps.empty(), ps.normalised(rows))
    pd.testing.assert_frame_equal(payload, expected)
    pd.testing.assert_frame_equal(payload, ps.decode(ps.encode(expected)))
    with store.engine.begin() as conn, pytest.raises(ValueError):
        ps.write(conn, store.create_project("Other"), live([("s1", "a1", 0, ""), ("s1", "a1", 1, "x")]))


def test_drop_rows_on_the_stored_set_records_what_the_general_write_would(db) -> None:
    """``drop_rows`` filters the stored Parquet directly: the set and the batch equal ``write`` of the rows left."""
    store, pid = db
    rows = awkward_set()
    other = store.create_project("Other")
    with store.engine.begin() as conn:
        ps.write(conn, pid, rows)
        ps.write(conn, other, rows)
    person = rows["stakeholder_id"].iloc[2]
    with store.engine.begin() as conn:
        fast = ps.drop_rows(conn, pid, stakeholders=[person, "nobody"], activities=["a1"])
        slow = ps.drop_rows(conn, other, stakeholders=[person, "nobody"], activities=["a1"], before=ps.read(conn, other))
        assert fast == slow > 0
        pd.testing.assert_frame_equal(ps.read(conn, pid), ps.read(conn, other))
        assert ps.drop_rows(conn, pid, stakeholders=["nobody"]) == 0
        assert ps.drop_rows(conn, pid, activities=list(set(rows["activity_id"]))) == len(rows) - fast  # all gone
        assert ps.read_payload(conn, pid) is None
    pd.testing.assert_frame_equal(batches(store, pid)[1][1], batches(store, other)[1][1])
    assert batches(store, pid)[1][0] == {"insert": 0, "update": 0, "delete": fast}


def test_a_reorder_only_is_kept_in_history_but_not_called_a_change(db) -> None:
    store, pid = db
    project = small_project()
    store.import_project(pid, project)
    reordered = Project(stakeholders=project.stakeholders, activities=project.activities,
                        participation=project.participation.iloc[::-1].reset_index(drop=True))
    store.import_project(pid, reordered, replace=True)
    assert pairs(store.load(pid)) == pairs(reordered.normalised())
    counts, payload = batches(store, pid)[-1]
    assert counts == {"insert": 0, "update": 4, "delete": 0}
    assert (payload["old_notes"] == payload["new_notes"]).all() and (payload["old_seq"] != payload["new_seq"]).all()
    entry = store.history(pid).iloc[0]
    assert "participation" not in entry["summary"] and entry["kind"] == "import"
    with store.engine.connect() as conn:  # the batch belongs to that entry all the same
        assert conn.execute(sa.text("SELECT count(*) FROM changes WHERE project_id = :p AND action_id IS NULL"),
                            {"p": pid}).scalar() == 0


def test_a_save_waiting_on_another_keeps_both_sets_of_rows(db) -> None:
    """The set is one row: a writer that started while another held the project must read the set after it."""
    import threading

    from coprod_map.store import _lock_project

    store, pid = db
    store.import_project(pid, small_project())
    extra = Project(stakeholders=pd.DataFrame({"id": ["s9"], "name": ["Ed"]}),
                    participation=pd.DataFrame({"stakeholder_id": ["s9"], "activity_id": ["a1"]}))
    with store._write() as conn:  # noqa: SLF001 - another save, holding the project
        _lock_project(conn, pid)
        done = threading.Thread(target=store.import_project, args=(pid, extra))
        done.start()
        done.join(timeout=0.5)
        assert done.is_alive()  # it waits for this save
        current = ps.read(conn, pid)
        ps.write(conn, pid, pd.concat([current, live([("s2", "a2", 99, "held")])], ignore_index=True), before=current)
    done.join(timeout=30)
    assert not done.is_alive()
    got = {(s, a) for s, a, _ in pairs(store.load(pid))}
    assert {("s2", "a2"), ("s9", "a1")} <= got and len(got) == 6


def test_a_first_write_uses_known_codes_only_for_the_very_same_cells(db) -> None:
    """``write(known=)``: an encoding of these cells gives the same bytes as encoding them again; one made of other
    cells (same column, same length, other values) is never used."""
    from coprod_map import validate

    store, pid = db
    rows = awkward_set()
    texts = validate.Texts()
    for name in ("stakeholder_id", "activity_id", "notes"):
        texts.codes(("participation", name), rows[name])
    other = rows.assign(notes=rows["notes"].to_numpy(dtype=object)[::-1].copy())  # same length, other cells
    lying = validate.Texts()
    lying.codes(("participation", "notes"), other["notes"])
    pids = [pid, store.create_project("Plain"), store.create_project("Other codes")]
    with store.engine.begin() as conn:
        ps.write(conn, pids[0], rows, known=texts.known("participation"))
        ps.write(conn, pids[1], rows)
        ps.write(conn, pids[2], rows, known=[(n, c, codes, d) for n, _, codes, d in lying.known("participation")
                                             for c in [rows["notes"].to_numpy(dtype=object).copy()]])
        payloads = [ps.read_payload(conn, p) for p in pids]
        for p in pids:
            pd.testing.assert_frame_equal(ps.read(conn, p), ps.normalised(rows))
    assert payloads[0] == payloads[1] == payloads[2]
    assert [b[1].equals(batches(store, pids[1])[0][1]) for p in pids for b in batches(store, p)] == [True] * 3
