"""Partial-column edits keep saved values; undo, revert and time travel on SQLite and PostgreSQL alike,
including exact floats and refusals that name the row."""

from __future__ import annotations

import pandas as pd
import pytest

from coprod_map.errors import EditRejected
from coprod_map.model import TABLES, Project, normalise_frame
from tests.pages._helpers import small_project


def _assert_same(a: Project, b: Project) -> None:
    for table in TABLES:
        pd.testing.assert_frame_equal(a.table(table), b.table(table), obj=table)


def test_partial_column_edit_keeps_the_other_fields(any_store):
    store = any_store
    pid = store.create_project("Partial", settings=small_project().settings)
    store.import_project(pid, small_project())
    before = store.load(pid).stakeholders
    # only id and name: kind, involvement, affected, influence, roles and the attribute must stay as saved
    store.apply_edits(pid, "stakeholders", upserts=pd.DataFrame({"id": ["s1"], "name": ["Ann Renamed"]}))
    after = store.load(pid).stakeholders
    expected = before.copy()
    expected.loc[expected["id"] == "s1", "name"] = "Ann Renamed"
    pd.testing.assert_frame_equal(after, expected)
    assert after.loc[0, ["kind", "involvement", "affected", "influence", "age band"]].tolist() == [
        "person", "consulted", 3, 1, "16-24"]
    # a new row sent with only some columns gets blanks for the rest
    store.apply_edits(pid, "stakeholders", upserts=pd.DataFrame({"id": ["s1", "s9"], "name": ["Ann", "New"]}))
    now = store.load(pid).stakeholders.set_index("id")
    assert now.loc["s1", "kind"] == "person" and now.loc["s1", "influence"] == 1
    assert now.loc["s9", "kind"] == "" and now.loc["s9", "influence"] is pd.NA
    # a partial edit of ties keeps source, target and type
    store.apply_edits(pid, "relationships", upserts=pd.DataFrame({"id": ["r1"], "strength": [2.5]}))
    tie = store.load(pid).relationships.iloc[0]
    assert (tie["source"], tie["target"], tie["type"], tie["strength"]) == ("s1", "s2", "knows", 2.5)


def test_undo_redo_and_time_travel_are_exact_with_awkward_floats(any_store):
    store = any_store
    project = small_project()
    project.reference = normalise_frame("reference", pd.DataFrame({
        "attribute": ["age band"] * 3, "category": ["16-24", "25-64", "65+"],
        "share": [0.13999999999999999, 0.1 + 0.2, 1 / 3]}))
    pid = store.create_project("Floats", settings=project.settings)
    empty = store.load(pid)
    store.import_project(pid, project)
    full = store.load(pid)
    assert full.reference["share"].tolist() == [0.13999999999999999, 0.1 + 0.2, 1 / 3]
    _assert_same(store.state_at(pid, revision=0), empty)
    _assert_same(store.state_at(pid, revision=1), full)
    store.undo(pid)  # refused before: SQLite's json_object rounded 0.13999999999999999 to 0.14
    _assert_same(store.load(pid), empty)
    store.revert(pid, int(store.history(pid)["id"].iloc[0]))  # redo
    _assert_same(store.load(pid), full)


def test_refusal_names_the_row_and_caps_the_list(any_store):
    store = any_store
    pid = store.create_project("Many", settings=small_project().settings)
    people = normalise_frame("stakeholders", pd.DataFrame({"id": [f"p{i:02d}" for i in range(30)],
                                                           "name": [f"Person {i}" for i in range(30)]}))
    store.import_project(pid, Project(stakeholders=people))
    imported = int(store.history(pid)["id"].iloc[0])
    store.apply_edits(pid, "stakeholders", upserts=pd.DataFrame({"id": [f"p{i:02d}" for i in range(25)],
                                                                 "name": ["Changed"] * 25}))
    with pytest.raises(EditRejected) as refused:
        store.revert(pid, imported)
    text = refused.value.details()
    assert "stakeholder 'p00' was changed again on" in text and "and 5 more rows like these." in text
    assert len(store.load(pid).stakeholders) == 30
