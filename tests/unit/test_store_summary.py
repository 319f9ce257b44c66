"""The audit row ``_finish_action`` writes: counted in SQL, yet the same words as summarising every change row."""

from __future__ import annotations

import pandas as pd

from coprod_map import history
from coprod_map.model import Project
from coprod_map.sample import load_sample


def test_import_summary_equals_the_summary_of_its_change_rows(store):
    project_id = load_sample(store)
    before = store.load(project_id)
    first = before.stakeholders["id"].iloc[0]
    people = pd.DataFrame({"id": [first, "N1", "N2"], "name": ["Renamed", "New one", "New two"],
                           "kind": ["person", "person", "person"], "new_attribute": ["x", "", "y"]})
    ties = before.relationships.iloc[1:]  # replace=True below: one tie goes
    incoming = Project(stakeholders=pd.concat([people, before.stakeholders.iloc[1:]], ignore_index=True),
                       relationships=ties, activities=before.activities, participation=before.participation,
                       reference=before.reference)
    store.import_project(project_id, incoming, replace=True)
    latest = store.history(project_id).iloc[0]
    rows = store.changes(project_id, int(latest["id"]), can_see_private=True)
    assert set(rows["op"]) >= {"insert", "update", "delete"}  # every kind of change is in this one action
    expected, fields = history.summarise(rows)
    assert latest["summary"] == expected
    assert latest["fields"] == fields
    assert "2 stakeholders added" in expected and "1 tie removed" in expected
    assert "stakeholders.name" in fields


def test_a_first_import_is_counted_per_table(store):
    project_id = store.create_project("Counted")
    people = pd.DataFrame({"id": [f"s{i}" for i in range(30)], "name": [f"P{i}" for i in range(30)]})
    ties = pd.DataFrame({"id": [f"r{i}" for i in range(29)], "source": [f"s{i}" for i in range(29)],
                         "target": [f"s{i + 1}" for i in range(29)]})
    store.import_project(project_id, Project(stakeholders=people, relationships=ties))
    latest = store.history(project_id).iloc[0]
    assert "30 stakeholders added" in latest["summary"] and "29 ties added" in latest["summary"]
    rows = store.changes(project_id, int(latest["id"]), can_see_private=True)
    assert latest["summary"] == history.summarise(rows)[0]
