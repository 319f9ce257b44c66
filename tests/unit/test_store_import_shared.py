"""A first import writes participation from the codes its validation made (one encoding of the million ids, not
three): the same stored set, the same history and the same ``loaded`` project as encoding them again. Also the
audit summary from counts and the quicker DB form of list columns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from coprod_map import history, participation_sets, validate
from coprod_map import store as store_module
from coprod_map.model import Project, join_list
from coprod_map.store import Store

TEXTS = ["", "Zoë", 'a "quoted" note', "line one\nline two", "😀", "NA", "None", "日本語", "=1+1", "'single'"]


@pytest.fixture
def store(tmp_path):
    s = Store(f"sqlite:///{tmp_path / 'store.db'}")
    yield s
    s.close()


def big_project(rows: int = validate._SHARED_MIN + 5_000) -> Project:
    """Participation made of shared objects (one per distinct id, as a CSV read through Arrow gives them)."""
    rng = np.random.default_rng(7)
    people = np.asarray([f"p-{i}" if i % 9 else f"{TEXTS[i % len(TEXTS)]}-{i}" for i in range(3_000)], dtype=object)
    events = np.asarray([f"ev {i} ✓" for i in range(40)], dtype=object)
    pairs = rng.choice(len(people) * len(events), size=rows, replace=False)
    notes = np.asarray(TEXTS, dtype=object)[rng.integers(0, len(TEXTS), rows)]
    return Project(
        stakeholders=pd.DataFrame({"id": people, "name": [f"Person {i}" for i in range(len(people))]}),
        activities=pd.DataFrame({"id": events, "title": [f"Event {i}" for i in range(len(events))]}),
        participation=pd.DataFrame({"stakeholder_id": pd.Series(people[pairs // len(events)], dtype=object),
                                    "activity_id": pd.Series(events[pairs % len(events)], dtype=object),
                                    "notes": pd.Series(notes, dtype=object)}))


def stored(store: Store, pid: str) -> tuple[bytes, list[tuple[str, bytes]]]:
    c = sa.table("changes", sa.column("project_id"), sa.column("op"), sa.column("new"), sa.column("payload"),
                 sa.column("seq"))
    s = sa.table("participation_sets", sa.column("project_id"), sa.column("payload"))
    with store.engine.connect() as conn:
        live = conn.execute(sa.select(s.c.payload).where(s.c.project_id == pid)).scalar_one()
        batches = conn.execute(sa.select(c.c.new, c.c.payload).where(c.c.project_id == pid, c.c.op == "batch")
                               .order_by(c.c.seq)).all()
    return bytes(live), [(r.new, bytes(r.payload)) for r in batches]


def test_a_first_import_writes_participation_from_the_validation_codes(store, monkeypatch):
    project = big_project()
    assert validate._shares_objects(project.normalised().participation["stakeholder_id"].to_numpy(dtype=object))
    encoded_again = []
    text_array = participation_sets._text_array
    monkeypatch.setattr(participation_sets, "_text_array", lambda values: encoded_again.append(1) or text_array(values))
    handed = []
    quick = store.create_project("Quick")
    store.import_project(quick, project, loaded=lambda revision, p: handed.append(p))
    assert encoded_again == []  # the three text columns came from the validation's codes

    monkeypatch.setattr(validate.Texts, "known", lambda self, table: [])  # the way it was: encoded again
    slow = store.create_project("Slow")
    store.import_project(slow, project)
    assert len(encoded_again) == 3

    assert stored(store, quick) == stored(store, slow)  # the same bytes: set and history
    loaded = store.load(quick)
    for table in ("stakeholders", "activities", "participation"):
        pd.testing.assert_frame_equal(handed[0].table(table), loaded.table(table))
    expected = project.participation.reset_index(drop=True)
    pd.testing.assert_frame_equal(loaded.participation[["stakeholder_id", "activity_id", "notes"]].astype(object),
                                  expected.astype(object), check_dtype=False)
    summary = store.history(quick).iloc[0]["summary"]
    assert f"{len(expected):,} participation records added" in summary
    assert summary == store.history(slow).iloc[0]["summary"]


def test_a_merge_import_does_not_reuse_codes_of_other_cells(store):
    """The second import's validation encodes the merged rows (saved + new): the write must not take them for the
    incoming rows' codes (other cells, same column names)."""
    project = big_project(validate._SHARED_MIN + 100)
    pid = store.create_project("Merge")
    store.import_project(pid, project)
    part = project.participation
    more = Project(participation=pd.DataFrame({"stakeholder_id": part["stakeholder_id"].iloc[:3].tolist(),
                                               "activity_id": part["activity_id"].iloc[:3].tolist(),
                                               "notes": ["changed", "", "Zoë again"]}))
    handed = []
    store.import_project(pid, more, loaded=lambda revision, p: handed.append(p))
    loaded = store.load(pid)
    pd.testing.assert_frame_equal(handed[0].participation, loaded.participation)
    assert loaded.participation["notes"].iloc[:3].tolist() == ["changed", "", "Zoë again"]
    assert len(loaded.participation) == len(part)
    changed = sum(a != b for a, b in zip(part["notes"].iloc[:3], ["changed", "", "Zoë again"], strict=True))
    words = "participation record" if changed == 1 else "participation records"
    assert store.history(pid).iloc[0]["summary"] == f"{changed} {words} changed (notes)"


def stand_ins(updates: pd.DataFrame, counted: list) -> pd.DataFrame:
    """How the audit summary was made before ``counts=``: one row with a key of its own per counted row."""
    extra = [{"table_name": t, "op": op, "key": f"#{t}{op}{i}", "old": None, "new": None}
             for t, op, n in counted for i in range(n)]
    return pd.concat([updates, pd.DataFrame(extra)], ignore_index=True) if extra else updates


def test_summarise_counts_give_the_words_of_the_rows_they_stand_for():
    updates = history.parse_changes(pd.DataFrame({
        "seq": [1, 2, 3], "action_id": [1, 1, 1], "table_name": ["stakeholders", "stakeholders", "activities"],
        "op": ["update", "update", "update"],
        "old": ['{"id": "s1", "name": "A"}', '{"id": "s2", "seq": 1}', '{"id": "a1", "title": "T"}'],
        "new": ['{"id": "s1", "name": "B"}', '{"id": "s2", "seq": 2}', '{"id": "a1", "title": "U"}']}))
    for counted in ([], [("participation", "insert", 1_000_000)],
                    [("relationships", "delete", 3), ("stakeholders", "insert", 1), ("participation", "insert", 2),
                     ("record_decisions", "insert", 1), ("some_table", "insert", 2), ("activities", "delete", 1)]):
        for rows in (updates, updates.iloc[:0]):
            expected = history.summarise(stand_ins(rows, counted))
            assert history.summarise(rows, counts=counted) == expected
    assert history.summarise(updates.iloc[:0], counts=[("participation", "insert", 0)]) == ("nothing changed", [])
    assert history.summarise(updates.iloc[:0], counts=[("participation", "insert", 1_000_000)])[0] == \
        "1,000,000 participation records added"
    with pytest.raises(ValueError):
        history.summarise(updates, counts=[("stakeholders", "update", 2)])


def test_list_columns_in_db_form_are_joined_as_join_list_joins_them():
    cells = [[], ["a", "b"], None, np.nan, [" padded ", "x"], ["", "y"], ("t", "u"), "already|text", "", ["ok"], []]
    frame = pd.DataFrame({"id": [f"s{i}" for i in range(len(cells))], "name": "N", "roles": pd.Series(cells, dtype=object)})
    frame = Project(stakeholders=frame).normalised().stakeholders
    db = store_module._db_frame("stakeholders", frame)
    assert db["roles"].tolist() == [join_list(v) for v in frame["roles"]]
    rows = store_module._rows(db, project_id="p")
    assert rows.column("roles") == db["roles"].tolist()
    assert rows.column("affected") == [None] * len(cells)  # missing numbers as None for the driver
