"""The Projects page: pick, create, rename, copy and delete projects; counts; where data is kept."""

from __future__ import annotations

import pytest

from tests.pages._helpers import make_store, page, texts


@pytest.fixture
def app(sqlite_url, monkeypatch):
    store, project_id = make_store(sqlite_url, monkeypatch)
    yield store, project_id
    store.close()


def _button(at, label):
    return next(b for b in at.button if b.label == label)


def _box(at, key):
    return next(t for t in at.text_input if t.key == key)


def test_home_shows_counts_of_the_open_project(app):
    store, project_id = app
    at = page("home", project_id)
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    counts = store.load(project_id).counts()  # independent: straight from the database
    assert metrics == {
        "Stakeholders": str(counts["stakeholders"]), "Relationships": str(counts["relationships"]),
        "Activities": str(counts["activities"]), "Participation records": str(counts["participation"]),
    }
    assert metrics["Stakeholders"] == "3" and metrics["Participation records"] == "2"
    assert "Last changed" in texts(at)
    assert "coprod_map.db" in texts(at)  # where the data is kept


def test_create_rename_copy_and_delete(app):
    store, first = app
    at = page("home", first)
    _box(at, "new_project_name").input("Second project")
    _button(at, "Create project").click().run()
    assert not at.exception
    created = store.find_project("Second project")
    assert at.session_state["project_id"] == created
    _box(at, "rename_name").input("Renamed project")
    _button(at, "Rename").click().run()
    assert store.project_info(created).name == "Renamed project"
    _box(at, "copy_name").input("Copy of it")
    _button(at, "Make a copy").click().run()
    copy_id = store.find_project("Copy of it")
    assert at.session_state["project_id"] == copy_id
    # deleting needs the exact name typed
    _box(at, "delete_confirm").input("wrong name")
    _button(at, "Delete this project for good").click().run()
    assert copy_id in store.list_projects()["id"].tolist()
    assert "does not match" in texts(at)
    _box(at, "delete_confirm").input("Copy of it")
    _button(at, "Delete this project for good").click().run()
    assert copy_id not in store.list_projects()["id"].tolist()
    assert sorted(store.list_projects()["name"]) == ["Renamed project", "Riverside test"]


def test_a_duplicate_project_name_is_refused_with_a_message(app):
    store, project_id = app
    at = page("home", project_id)
    _box(at, "new_project_name").input("riverside TEST")
    _button(at, "Create project").click().run()
    assert not at.exception
    assert len(store.list_projects()) == 1
    assert "already exists" in texts(at)


def test_choosing_a_project_opens_it(app):
    store, first = app
    other = store.create_project("Other")
    at = page("home", first)
    at.selectbox(key="home_project_picker").select(other).run()
    assert at.session_state["project_id"] == other


def test_sample_button_opens_the_sample(app):
    pytest.importorskip("coprod_map.sample")
    store, project_id = app
    at = page("home", project_id)
    _button(at, "Open the sample project").click().run()
    assert not at.exception
    opened = at.session_state["project_id"]
    assert opened != project_id
    assert store.load(opened).counts()["stakeholders"] > 0


def test_project_names_are_shown_as_text_not_markup(sqlite_url, monkeypatch):
    from coprod_map.store import Store

    monkeypatch.setenv("COPROD_MAP_DB", sqlite_url)
    store = Store(sqlite_url)
    project_id = store.create_project("**Bold** <img src=x onerror=alert(1)>")
    at = page("home", project_id)
    assert not at.exception
    assert "**Bold** <img src=x onerror=alert(1)>" in [t.value for t in at.text]
    assert not any("<img" in m.value for m in at.markdown)
    store.close()
