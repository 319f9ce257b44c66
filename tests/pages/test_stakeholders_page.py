"""The Stakeholders and ties page: four editable tables; every edit reaches the database or nothing does."""

from __future__ import annotations

import pytest

from coprod_map.editing import has_changes
from tests.pages._helpers import make_store, page, texts


@pytest.fixture
def app(sqlite_url, monkeypatch):
    store, project_id = make_store(sqlite_url, monkeypatch)
    yield store, project_id
    store.close()


def _editor_key(at, table: str) -> str:
    keys = [e.key for e in at.data_editor if e.key and e.key.startswith(f"editor_{table}_")]
    assert len(keys) == 1, keys
    return keys[0]


def test_page_shows_four_tables_with_the_saved_rows(app):
    store, project_id = app
    at = page("stakeholders", project_id)
    assert not at.exception
    assert len(at.data_editor) == 4
    shown = at.data_editor[0].value
    assert shown["id"].tolist() == store.load(project_id).stakeholders["id"].tolist() == ["s1", "s2", "s3"]
    assert "age band" in shown.columns
    assert [t.label for t in at.tabs] == ["Stakeholders", "Relationships", "Activities", "Participation records"]


def test_an_edit_is_written_to_the_database_and_the_page_says_saved(app):
    store, project_id = app
    before = store.revision(project_id)
    at = page("stakeholders", project_id)
    at.session_state[_editor_key(at, "stakeholders")] = {
        "edited_rows": {1: {"influence": 4, "name": "Youth club (north)"}},
        "added_rows": [{"name": "Library", "kind": "community_asset"}],
        "deleted_rows": [],
    }
    at.run()
    assert not at.exception
    saved = store.load(project_id).stakeholders.set_index("id")
    assert saved.loc["s2", "influence"] == 4
    assert saved.loc["s2", "name"] == "Youth club (north)"
    assert saved.loc["s4", "name"] == "Library"  # id made for the new row: next after s3
    assert saved.loc["s4", "kind"] == "community_asset"
    assert store.revision(project_id) == before + 1
    assert "Saved at" in texts(at)
    # the editor was rebuilt from the database: it shows the new row and holds no pending change-set
    assert at.data_editor[0].value["id"].tolist()[-1] == "s4"


def test_a_deleted_stakeholder_is_gone_with_its_ties(app):
    store, project_id = app
    at = page("stakeholders", project_id)
    at.session_state[_editor_key(at, "stakeholders")] = {"edited_rows": {}, "added_rows": [], "deleted_rows": [0]}
    at.run()
    project = store.load(project_id)
    assert "s1" not in project.stakeholders["id"].tolist()
    assert project.relationships.empty  # r1 ran from s1


@pytest.mark.parametrize(
    ("table", "change", "expected"),
    [
        ("stakeholders", {"edited_rows": {1: {"id": "s1"}}}, "more than once"),
        ("relationships", {"edited_rows": {0: {"target": "nobody"}}}, "nobody"),
        ("stakeholders", {"edited_rows": {0: {"involvement": "bossing"}}}, "bossing"),
        ("stakeholders", {"edited_rows": {0: {"influence": "lots"}}}, "not a number"),
    ],
    ids=["duplicate-id", "missing-stakeholder", "outside-coded-list", "not-a-number"],
)
def test_a_bad_edit_shows_its_problems_and_changes_nothing(app, table, change, expected):
    store, project_id = app
    before_rev = store.revision(project_id)
    before = store.load(project_id).table(table)
    at = page("stakeholders", project_id)
    at.session_state[_editor_key(at, table)] = {"edited_rows": {}, "added_rows": [], "deleted_rows": [], **change}
    at.run()
    assert not at.exception
    assert store.revision(project_id) == before_rev
    assert store.load(project_id).table(table).equals(before)
    problems = [d.value for d in at.dataframe if "what to fix" in d.value.columns]
    assert problems, "the problems should be shown as a table"
    assert problems[0]["what to fix"].str.contains(expected).any(), problems[0]
    assert "Nothing was saved" in texts(at)


def test_quick_add_form_adds_a_stakeholder(app):
    store, project_id = app
    at = page("stakeholders", project_id)
    name_box = next(t for t in at.text_input if t.label == "Stakeholder name")
    name_box.input("Food bank")
    next(b for b in at.button if b.label == "Add stakeholder").click()
    at.run()
    assert not at.exception
    saved = store.load(project_id).stakeholders
    assert saved.loc[saved["name"] == "Food bank", "id"].tolist() == ["s4"]


def test_search_box_narrows_the_table(app):
    _, project_id = app
    at = page("stakeholders", project_id)
    next(t for t in at.text_input if t.key == "search_stakeholders").input("club").run()
    assert at.data_editor[0].value["id"].tolist() == ["s2"]


def test_without_an_open_project_the_page_points_to_projects(app):
    from streamlit.testing.v1 import AppTest

    from tests.pages._helpers import ROOT

    # through app.py: the page's link to Projects needs the navigation app.py sets up
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30).run()
    at.switch_page("pages/stakeholders.py").run()
    assert not at.exception
    assert "No project is open" in texts(at)


def _problems(at):
    return [d.value for d in at.dataframe if "what to fix" in d.value.columns]


def test_a_refused_edit_keeps_what_was_typed_and_fixing_it_saves(app):
    store, project_id = app
    before_rev = store.revision(project_id)
    before = store.load(project_id).stakeholders
    at = page("stakeholders", project_id)
    key = _editor_key(at, "stakeholders")
    typed = {"edited_rows": {1: {"name": "Youth club (north)", "involvement": "bossing"}},
             "added_rows": [], "deleted_rows": []}
    at.session_state[key] = typed
    at.run()
    assert not at.exception
    # nothing written, problems shown above the table ...
    assert store.revision(project_id) == before_rev and store.load(project_id).stakeholders.equals(before)
    assert _problems(at) and _problems(at)[0]["what to fix"].str.contains("bossing").any()
    assert "Your change is still in the table below" in texts(at)
    # ... and the same editor still holds the typed change (what the browser draws over the saved rows)
    assert _editor_key(at, "stakeholders") == key
    assert at.session_state[key]["edited_rows"][1] == typed["edited_rows"][1]
    assert next(t for t in at.text_input if t.key == "search_stakeholders").disabled  # rows on screen stay put
    at.run()  # another run (any widget) keeps it, and does not try to save it again
    assert _editor_key(at, "stakeholders") == key and _problems(at)
    assert store.revision(project_id) == before_rev

    # the user fixes the bad cell: the whole change is saved and the table is rebuilt from the database
    at.session_state[key] = {"edited_rows": {1: {"name": "Youth club (north)", "involvement": "co_designing"}},
                             "added_rows": [], "deleted_rows": []}
    at.run()
    assert not at.exception
    saved = store.load(project_id).stakeholders.set_index("id")
    assert saved.loc["s2", "name"] == "Youth club (north)" and saved.loc["s2", "involvement"] == "co_designing"
    assert store.revision(project_id) == before_rev + 1
    assert not _problems(at) and "Saved at" in texts(at)
    assert _editor_key(at, "stakeholders") != key


def test_discard_my_changes_drops_a_refused_edit(app):
    store, project_id = app
    before_rev = store.revision(project_id)
    at = page("stakeholders", project_id)
    key = _editor_key(at, "stakeholders")
    at.session_state[key] = {"edited_rows": {0: {"id": "s2"}}, "added_rows": [], "deleted_rows": []}
    at.run()
    assert _problems(at)
    next(b for b in at.button if b.label == "Discard my changes").click().run()
    assert not at.exception
    assert not _problems(at) and "Your changes were discarded" in texts(at)
    new_key = _editor_key(at, "stakeholders")
    assert new_key != key
    assert new_key not in at.session_state or not has_changes(at.session_state[new_key])
    assert not next(t for t in at.text_input if t.key == "search_stakeholders").disabled
    assert store.revision(project_id) == before_rev
    assert at.data_editor[0].value["id"].tolist() == ["s1", "s2", "s3"]


def test_attribute_names_read_as_words_in_the_quick_add_form(sample_project, monkeypatch):
    store, project_id = sample_project
    monkeypatch.setenv("COPROD_MAP_DB", store.url_display)
    at = page("stakeholders", project_id)
    labels = {s.key: s.label for s in at.selectbox if s.key and s.key.startswith("quick_add_attr_")}
    assert labels["quick_add_attr_age_band"] == "Age band" and "age_band" not in labels.values()
