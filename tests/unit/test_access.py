"""Roles and permissions (pure), memberships in a real database, and the schema 5 -> 6 upgrade."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import sqlalchemy as sa

from coprod_map import access_store, schema
from coprod_map.access import ACTIONS, PAGE_PERMISSIONS, PRIVATE, ROLES, Access, can, check_role, page_permission
from coprod_map.errors import EditRejected, ProjectNotFound
from coprod_map.store import Store

ROOT_PAGES = Path(__file__).resolve().parents[2] / "pages"

#: The rules written out by hand, row by row (an independent statement of the same policy).
EXPECTED = {
    "viewer": {"view", "report"},
    "facilitator": {"view", "report", "edit", "import", "export"},
    "owner": {"view", "report", "edit", "import", "export", "manage"},
}


@pytest.mark.parametrize(("role", "action"), list(itertools.product(ROLES, ACTIONS)))
def test_each_role_may_do_exactly_what_the_table_says(role, action):
    assert can(role, action) is (action in EXPECTED[role])


def test_no_role_or_an_unknown_one_may_do_nothing():
    for action in (*ACTIONS, PRIVATE):
        assert not can(None, action, may_see_private=True)
        assert not can("admin", action, may_see_private=True)  # not a project role
        assert not can("Owner ", action)  # roles are canonical inside the package


def test_private_fields_follow_the_members_flag_not_the_rank():
    assert not can("owner", PRIVATE)
    assert can("viewer", PRIVATE, may_see_private=True)
    assert not Access("a@x", "owner").sees_private
    assert Access("a@x", "viewer", may_see_private=True).sees_private
    assert not Access("root@x", None, admin=True).sees_private  # an admin is not automatically need-to-know
    assert Access("root@x", None, admin=True).can("manage")
    assert Access("local user", None, local=True).sees_private and Access("local user", None, local=True).can("manage")


def test_every_page_has_a_permission_and_new_pages_are_closed():
    pages = {p.stem for p in (ROOT_PAGES).glob("*.py")} - {"participate"}  # the participant form has its own link
    assert pages <= set(PAGE_PERMISSIONS), sorted(pages - set(PAGE_PERMISSIONS))
    assert page_permission("not_a_page_yet") == "edit"
    assert all(v in ACTIONS for v in PAGE_PERMISSIONS.values())


def test_check_role_names_the_roles():
    assert check_role("VIEWER") == "viewer"
    with pytest.raises(ValueError, match="owner, facilitator|viewer, facilitator, owner"):
        check_role("boss")


# --- memberships in the database ------------------------------------------------------------------

@pytest.fixture
def db(store):
    return store, store.create_project("Access"), store.create_project("Other")


def test_members_are_added_changed_listed_and_kept_per_project(db):
    store, pid, other = db
    access_store.set_member(store, pid, "Owner@Example.org", role="owner", may_see_private=True, actor="admin@x")
    access_store.set_member(store, pid, "v@example.org", role="viewer", actor="owner@example.org")
    access_store.set_member(store, pid, "v@example.org", role="facilitator", actor="owner@example.org")
    frame = access_store.members(store, pid)
    assert frame[["subject", "role", "may_see_private"]].values.tolist() == [
        ["owner@example.org", "owner", True], ["v@example.org", "facilitator", False]]
    assert access_store.membership(store, pid, "V@EXAMPLE.ORG").role == "facilitator"
    assert access_store.membership(store, other, "v@example.org") is None
    assert access_store.project_ids_for(store, "v@example.org") == {pid}
    assert access_store.project_ids_for(store, "nobody@example.org") == set()
    # every change is in the audit trail, as kind "access"
    access_kinds = store.history(pid).query("kind == 'access'")
    assert len(access_kinds) == 3 and access_kinds["actor"].iloc[-1] == "admin@x"


def test_the_last_owner_cannot_be_removed_or_demoted(db):
    store, pid, _ = db
    access_store.set_member(store, pid, "o@x.org", role="owner")
    with pytest.raises(EditRejected, match="1 problem"):
        access_store.remove_member(store, pid, "o@x.org")
    with pytest.raises(EditRejected):
        access_store.set_member(store, pid, "o@x.org", role="viewer")
    access_store.set_member(store, pid, "o2@x.org", role="owner")
    access_store.remove_member(store, pid, "o@x.org")
    assert access_store.members(store, pid)["subject"].tolist() == ["o2@x.org"]


def test_bad_input_is_refused_without_writing(db):
    store, pid, _ = db
    for subject, role in (("", "viewer"), ("a\nb@x", "viewer"), ("a@x", "boss")):
        with pytest.raises(EditRejected):
            access_store.set_member(store, pid, subject, role=role)
    with pytest.raises(ProjectNotFound):
        access_store.set_member(store, "nope", "a@x", role="viewer")
    assert access_store.members(store, pid).empty


def test_deleting_a_project_removes_its_memberships(db):
    store, pid, other = db
    access_store.set_member(store, pid, "a@x.org", role="owner")
    access_store.set_member(store, other, "a@x.org", role="viewer")
    store.delete_project(pid)
    assert access_store.project_ids_for(store, "a@x.org") == {other}
    with store.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM memberships WHERE project_id = :p"), {"p": pid}).scalar() == 0


def test_a_version_5_database_gains_memberships_with_its_data_intact(sqlite_url):
    engine = sa.create_engine(sqlite_url)
    with engine.begin() as conn:
        schema.create_schema(conn, version=5)
        conn.execute(sa.text("INSERT INTO projects (id, name, description, revision, created_at, updated_at, settings,"
                             " retention_until) VALUES ('p1', 'Old', '', 3, '2026-01-01', '2026-01-01', '{}', '')"))
        conn.execute(sa.text("INSERT INTO stakeholders (project_id, id, seq, name, kind) "
                             "VALUES ('p1', '007', 0, 'Ann', 'person')"))
    engine.dispose()
    store = Store(sqlite_url)
    try:
        assert store.schema_version() == schema.SCHEMA_VERSION >= 6
        assert "memberships" in sa.inspect(store.engine).get_table_names()
        assert store.load("p1").stakeholders["id"].tolist() == ["007"]
        assert store.revision("p1") == 3
        assert access_store.members(store, "p1").empty  # nobody yet: only admins see it
        access_store.set_member(store, "p1", "a@x.org", role="owner")
        assert access_store.membership(store, "p1", "a@x.org").role == "owner"
    finally:
        store.close()


def test_a_failed_upgrade_leaves_version_5(sqlite_url, monkeypatch):
    engine = sa.create_engine(sqlite_url)
    with engine.begin() as conn:
        schema.create_schema(conn, version=5)
    engine.dispose()

    def broken(conn):
        schema.METADATA.tables["memberships"].create(conn)
        raise RuntimeError("power cut")

    monkeypatch.setitem(schema.MIGRATIONS, 5, broken)
    with pytest.raises(RuntimeError):
        Store(sqlite_url)
    monkeypatch.undo()
    engine = sa.create_engine(sqlite_url)
    with engine.connect() as conn:
        assert schema.read_version(conn) == 5
        assert "memberships" not in sa.inspect(conn).get_table_names()  # all or nothing
    engine.dispose()
    assert Store(sqlite_url).schema_version() == schema.SCHEMA_VERSION  # the next start runs it again


KILLED_MIGRATION = """
import sys, time
from coprod_map import schema
from coprod_map.store import Store

original = schema.MIGRATIONS[5]

def slow(conn):
    original(conn)  # the memberships table now exists inside the open transaction
    print("migrating", flush=True)
    time.sleep(60)

schema.MIGRATIONS[5] = slow
Store(sys.argv[1])
"""


def test_a_process_killed_during_the_upgrade_leaves_version_5_and_the_next_start_upgrades(sqlite_url, tmp_path):
    """F2 with a real SIGKILL: the upgrade is one transaction, so a kill half-way leaves version 5 intact."""
    import os
    import signal
    import subprocess
    import sys

    engine = sa.create_engine(sqlite_url)
    with engine.begin() as conn:
        schema.create_schema(conn, version=5)
        conn.execute(sa.text("INSERT INTO projects (id, name, description, revision, created_at, updated_at, settings,"
                             " retention_until) VALUES ('p1', 'Old', '', 3, '2026-01-01', '2026-01-01', '{}', '')"))
    engine.dispose()
    script = tmp_path / "migrate.py"
    script.write_text(KILLED_MIGRATION)
    proc = subprocess.Popen([sys.executable, str(script), sqlite_url], stdout=subprocess.PIPE, text=True,
                            cwd=Path(__file__).resolve().parents[2],
                            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])})
    try:
        assert proc.stdout.readline().strip() == "migrating"
    finally:
        os.kill(proc.pid, signal.SIGKILL)  # only the process this test started
        proc.wait(10)
    engine = sa.create_engine(sqlite_url)
    with engine.connect() as conn:
        assert schema.read_version(conn) == 5
        assert "memberships" not in sa.inspect(conn).get_table_names()
        assert conn.execute(sa.text("PRAGMA integrity_check")).scalar() == "ok"
    engine.dispose()
    store = Store(sqlite_url)
    try:
        assert store.schema_version() == schema.SCHEMA_VERSION and store.project_info("p1").name == "Old"
    finally:
        store.close()
