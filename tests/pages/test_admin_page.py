"""The Backups and access page: backup and restore for whoever runs the app, members for owners only."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from coprod_map import access_store
from coprod_map.backup import backup_sqlite
from coprod_map.store import Store
from tests.pages._helpers import AUTH, ROOT, make_store, texts
from tests.pages.test_auth_guard import signed_in


@pytest.fixture
def app(sqlite_url, monkeypatch):
    monkeypatch.delenv("COPROD_MAP_ADMINS", raising=False)
    store, project_id = make_store(sqlite_url, monkeypatch)
    yield store, project_id
    store.close()


def admin_page(project_id: str | None, *, user: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / "admin.py"), default_timeout=60)
    if user is not None:
        at.secrets["auth"] = AUTH
        at.user = user
    if project_id:
        at.session_state["project_id"] = project_id
    return at.run()


def test_locally_the_one_user_can_back_up_and_restore(app, tmp_path):
    store, project_id = app
    at = admin_page(project_id)
    assert not at.exception
    assert len(at.get("download_button")) == 1
    assert "no members" in texts(at)
    # a backup from elsewhere, uploaded: its project is added as a new one, the open one is untouched
    other = Store(f"sqlite:///{tmp_path / 'other.db'}")
    other.create_project("Riverside test")  # the same name as the open project
    data = backup_sqlite(other, tmp_path / "b.db").read_bytes()
    other.close()
    before = store.load(project_id).stakeholders
    at.file_uploader(key="restore_upload").set_value(("evil/../name.db", data, "application/x-sqlite3")).run()
    assert not at.exception
    assert "The backup holds 1 project(s):" in texts(at)
    at.button(key="restore_go").click().run()
    assert not at.exception
    assert "Restored 1 project(s)." in texts(at)
    names = store.list_projects()["name"].tolist()
    assert len(names) == 2 and names[0] == "Riverside test" and names[1].startswith("Riverside test (restored ")
    assert store.load(project_id).stakeholders.equals(before)
    assert not (tmp_path / "name.db").exists()


def test_a_file_that_is_not_a_backup_is_refused_by_name(app):
    store, project_id = app
    at = admin_page(project_id)
    at.file_uploader(key="restore_upload").set_value(("notes.db", b"id,name\n1,Ann\n", "text/csv")).run()
    assert not at.exception
    assert any("notes" in e.value and "not an SQLite database file" in e.value for e in at.error)
    assert not [b for b in at.button if b.key == "restore_go"]
    assert len(store.list_projects()) == 1


def test_with_sign_in_only_owners_manage_members_and_only_admins_back_up(app, monkeypatch):
    store, project_id = app
    access_store.set_member(store, project_id, "owner@example.org", role="owner")
    access_store.set_member(store, project_id, "view@example.org", role="viewer")
    viewer = admin_page(project_id, user=signed_in("view@example.org"))
    assert not viewer.exception
    assert not viewer.get("download_button") and not viewer.file_uploader and not viewer.dataframe
    assert "Only the project's owners" in texts(viewer)

    owner = admin_page(project_id, user=signed_in("owner@example.org"))
    assert not owner.exception and not owner.get("download_button")  # a backup holds every project
    assert owner.dataframe[0].value["email"].tolist() == ["owner@example.org", "view@example.org"]
    owner.text_input[0].input("New.Person@Example.org")
    owner.selectbox[0].select("facilitator")
    form_submit = [b for b in owner.button if b.label == "Give access"]
    form_submit[0].click().run()
    assert not owner.exception
    assert access_store.membership(store, project_id, "new.person@example.org").role == "facilitator"
    assert store.history(project_id)["kind"].iloc[0] == "access"
    assert store.history(project_id)["actor"].iloc[0] == "owner@example.org"

    monkeypatch.setenv("COPROD_MAP_ADMINS", "root@example.org")
    admin = admin_page(None, user=signed_in("root@example.org"))
    assert not admin.exception and len(admin.get("download_button")) == 1
