"""The Project settings page: saved with the store; bad settings are shown as problems and not saved."""

from __future__ import annotations

import pytest

from tests.pages._helpers import make_store, page, texts


@pytest.fixture
def app(sqlite_url, monkeypatch):
    store, project_id = make_store(sqlite_url, monkeypatch)
    yield store, project_id
    store.close()


def _editor(at, prefix):
    return next(e for e in at.data_editor if e.key.startswith(prefix))


def test_settings_are_shown_and_saved(app):
    store, project_id = app
    at = page("settings", project_id)
    assert not at.exception
    assert _editor(at, "settings_attributes_").value["attribute"].tolist() == ["age band"]
    at.session_state[_editor(at, "settings_attributes_").key] = {
        "edited_rows": {}, "added_rows": [{"attribute": "area", "categories": "North|South"}], "deleted_rows": []}
    at.session_state[_editor(at, "settings_cycles_").key] = {
        "edited_rows": {}, "added_rows": [{"name": "Cycle 1", "start": "2026-01-01", "end": "2026-03-31"}],
        "deleted_rows": []}
    at.text_area[1].input("workshop\nwalkabout")
    at.number_input[0].set_value(10)
    at.button[0].click().run()
    assert not at.exception
    saved = store.project_info(project_id).settings
    assert saved.attributes == {"age band": ["16-24", "25-64", "65+"], "area": ["North", "South"]}
    assert saved.cycles == [{"name": "Cycle 1", "start": "2026-01-01", "end": "2026-03-31"}]
    assert saved.activity_kinds == ["workshop", "walkabout"]
    assert saved.min_cell == 10
    assert "Saved at" in texts(at)


def test_bad_settings_show_problems_and_save_nothing(app):
    store, project_id = app
    before = store.revision(project_id)
    at = page("settings", project_id)
    at.session_state[_editor(at, "settings_cycles_").key] = {
        "edited_rows": {}, "added_rows": [{"name": "Cycle 1", "start": "2026-02-30", "end": ""}], "deleted_rows": []}
    at.button[0].click().run()
    assert not at.exception
    assert store.revision(project_id) == before
    problems = next(d.value for d in at.dataframe if "what to fix" in d.value.columns)
    assert problems["what to fix"].str.contains("2026-02-30").any()
    assert "not saved" in texts(at)
