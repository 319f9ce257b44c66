"""A small edit looks only at the rows it touches (``_key_positions``, ``_only_touched``, ``write_keys``): the same
saved rows, versions, participation set and history as the whole-table path, on awkward data."""

from __future__ import annotations

import pandas as pd
import pytest
import sqlalchemy as sa

from coprod_map import participation_sets, schema
from coprod_map import store as store_module
from coprod_map.errors import EditRejected
from coprod_map.store import Store
from tests.unit.test_store import build_project

# Each step: (table, upserts, deletes). Keys with quotes, unicode, "NA" and leading zeros; lists; blanks; columns left
# out (they keep their saved values); new rows next to changed ones; cascades from deleted stakeholders/activities.
STEPS = [
    ("participation", pd.DataFrame({"stakeholder_id": ["NA"], "activity_id": ["a1"], "notes": ["on time\n\"really\""]}),
     None),
    ("participation", pd.DataFrame({"stakeholder_id": ["s4", "0123456789", "007"], "activity_id": ["a2", "a1", "a2"],
                                    "notes": ["new é", "", "changed"]}), [("007", "a1")]),
    ("participation", None, [("s4", "a2"), ("nobody", "a1")]),
    ("participation", pd.DataFrame({"stakeholder_id": ["NA"], "activity_id": ["a1"], "notes": ["on time\n\"really\""]}),
     None),  # the same values again: nothing to write
    ("stakeholders", pd.DataFrame({"id": ["NA"], "name": ["Renamed \"NA\""]}), None),
    ("stakeholders", pd.DataFrame({"id": ["s4"], "area": ["south"]}), None),  # attribute only: version moves
    ("stakeholders", pd.DataFrame({"id": ["new ü", "007"], "name": ["Newcomer", "James"], "kind": ["person", "person"],
                                   "roles": [["a", "b"], ["carer"]], "age_band": ["18-24", ""]}), None),
    ("stakeholders", None, ["0123456789"]),  # its ties, attendance and attribute rows go too
    ("relationships", pd.DataFrame({"id": ["r9", "r2"], "source": ["new ü", "NA"], "target": ["007", "s4"],
                                    "type": ["knows", "funds"], "direction": ["directed", "mutual"],
                                    "strength": [1.5, None]}), ["r1"]),
    ("activities", pd.DataFrame({"id": ["a3"], "title": ["Third"], "kind": ["meeting"]}), ["a1"]),
    ("reference", pd.DataFrame({"attribute": ["area"], "category": ["north"], "count": ["41"]}), [("age_band", "25-34")]),
]


def _state(store: Store, pid: str) -> dict:
    with store.engine.connect() as conn:
        c = schema.METADATA.tables["changes"]
        logged = conn.execute(sa.select(c.c.table_name, c.c.op, c.c.old, c.c.new).where(
            c.c.project_id == pid, c.c.op != participation_sets.BATCH).order_by(c.c.seq)).all()
        batches = [participation_sets.decode(bytes(p)) for (p,) in conn.execute(
            sa.select(c.c.payload).where(c.c.project_id == pid, c.c.op == participation_sets.BATCH).order_by(c.c.seq))]
        live = participation_sets.read(conn, pid)
        attributes = conn.execute(sa.text("SELECT stakeholder_id, attribute, value FROM stakeholder_attributes "
                                          "WHERE project_id = :p ORDER BY 1, 2"), {"p": pid}).all()
        seqs = {t: conn.execute(sa.text(f"SELECT id, seq FROM {t} WHERE project_id = :p ORDER BY seq"), {"p": pid}).all()
                for t in ("stakeholders", "relationships", "activities")}
    return {"load": store.load(pid), "logged": [tuple(r) for r in logged], "batches": batches, "live": live,
            "attributes": [tuple(r) for r in attributes], "seqs": seqs,
            "versions": {t: store.row_versions(pid, t) for t in ("stakeholders", "relationships", "activities")},
            "summaries": store.history(pid)["summary"].tolist(), "revision": store.revision(pid)}


def _run(tmp_path, name: str, monkeypatch, *, whole: bool) -> dict:
    if whole:  # every lookup takes the whole-table path
        monkeypatch.setattr(store_module, "_FEW_KEYS", 0)
    store = Store(f"sqlite:///{tmp_path / name}")
    try:
        pid = store.create_project("Edits")
        store.import_project(pid, build_project())
        for table, upserts, deletes in STEPS:
            store.apply_edits(pid, table, upserts=upserts, deletes=deletes)
        return _state(store, pid)
    finally:
        store.close()
        monkeypatch.undo()


def test_small_edits_write_exactly_what_the_whole_table_path_writes(tmp_path, monkeypatch):
    fast = _run(tmp_path, "fast.db", monkeypatch, whole=False)
    whole = _run(tmp_path, "whole.db", monkeypatch, whole=True)
    for table in ("stakeholders", "relationships", "activities", "participation", "reference"):
        pd.testing.assert_frame_equal(fast["load"].table(table), whole["load"].table(table), obj=table)
    for key in ("logged", "attributes", "seqs", "summaries", "revision"):
        assert fast[key] == whole[key], key
    for table, frame in fast["versions"].items():
        pd.testing.assert_frame_equal(frame, whole["versions"][table], obj=table)
    pd.testing.assert_frame_equal(fast["live"], whole["live"])
    assert len(fast["batches"]) == len(whole["batches"])
    for got, want in zip(fast["batches"], whole["batches"], strict=True):
        pd.testing.assert_frame_equal(got, want)
    # and the expected outcome, counted by hand from STEPS
    part = fast["load"].participation
    assert list(zip(part["stakeholder_id"], part["activity_id"], part["notes"], strict=True)) == [("007", "a2", "changed")]
    assert fast["versions"]["stakeholders"].set_index("id")["version"].to_dict() == {
        "007": 2, "NA": 2, "s4": 2, "new ü": 1}
    assert fast["load"].relationships["id"].tolist() == ["r2", "r9"]


def test_key_positions_finds_each_key_once_or_gives_up_on_a_repeated_one():
    frame = pd.DataFrame({"stakeholder_id": ["a", "b", "a", "c", None], "activity_id": ["x", "x", "y", "x", "x"]})
    sep = store_module._KEY_SEP
    at = store_module._key_positions("participation", frame, [f"a{sep}y", f"c{sep}x", f"z{sep}x", f"b{sep}x"])
    assert at.tolist() == [2, 3, -1, 1]
    assert store_module._key_positions("participation", pd.concat([frame, frame.iloc[:1]]), [f"a{sep}x"]) is None
    assert store_module._rows_with_keys("participation", frame, [f"a{sep}y", f"b{sep}x"]).tolist() == [
        False, True, True, False, False]


def test_a_refused_small_edit_still_writes_nothing(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'r.db'}")
    pid = store.create_project("Refused")
    store.import_project(pid, build_project())
    before = store.revision(pid)
    with pytest.raises(EditRejected):
        store.apply_edits(pid, "participation", upserts=pd.DataFrame({"stakeholder_id": ["ghost"], "activity_id": ["a1"]}))
    with pytest.raises(EditRejected):
        store.apply_edits(pid, "relationships", upserts=pd.DataFrame({"id": ["r1"], "source": ["ghost"]}))
    assert store.revision(pid) == before
    store.close()
