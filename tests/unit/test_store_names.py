"""Project names are checked like any other text people type."""

from __future__ import annotations

import pytest

from coprod_map.errors import EditRejected


@pytest.mark.parametrize("name", ["", "   ", "abc\u202edef", "a\x00b", "x" * 201])
def test_bad_project_names_are_refused_and_nothing_is_created(store, name):
    with pytest.raises(EditRejected) as refused:
        store.create_project(name)
    assert refused.value.problems[0].column == "name"
    assert store.list_projects().empty


def test_rename_refuses_a_direction_override(store):
    project_id = store.create_project("Riverside")
    with pytest.raises(EditRejected):
        store.rename_project(project_id, "Riv\u202eerside")
    assert store.project_info(project_id).name == "Riverside"
