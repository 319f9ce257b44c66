"""Backups taken while someone keeps saving, and restores that check the file first and never overwrite."""

from __future__ import annotations

import sqlite3
import threading
import time

import pandas as pd
import pytest
import sqlalchemy as sa

from coprod_map import access_store, schema
from coprod_map.backup import BackupRejected, backup_bytes, backup_sqlite, inspect_backup, restore_backup
from coprod_map.errors import ImportRejected, StoreError
from coprod_map.model import Project, normalise_frame
from coprod_map.record_store import load_record
from coprod_map.store import Store


def _person(i: int) -> pd.DataFrame:
    return normalise_frame("stakeholders", pd.DataFrame({"id": [f"w{i}"], "name": [f"Writer row {i}"],
                                                         "kind": ["person"]}))


def _state(store: Store) -> tuple:
    """Everything a restore could change: the project list with counts, and the audit trail length."""
    return store.list_projects().drop(columns=["updated_at"]).to_dict("records"), len(store.audit_trail())


def test_backups_taken_during_writes_are_consistent(sample_project, tmp_path):
    store, pid = sample_project
    base_revision, base_count = store.revision(pid), len(store.load(pid).stakeholders)
    stop = threading.Event()
    written = []

    def writer() -> None:
        other = Store(str(store.engine.url), busy_timeout=30)
        i = 0
        while not stop.is_set():
            other.apply_edits(pid, "stakeholders", upserts=_person(i))
            written.append(i)
            i += 1
        other.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        time.sleep(0.3)
        paths = []
        for n in range(3):
            paths.append(backup_sqlite(store, tmp_path / f"b{n}.db"))
            time.sleep(0.2)
    finally:
        stop.set()
        thread.join(30)
    assert len(written) >= 3  # the writer really was writing meanwhile
    counts = []
    for path in paths:
        conn = sqlite3.connect(path)
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        conn.close()
        copy = Store(f"sqlite:///{path}")
        # consistent: every saved edit added one person and one revision, so the two always agree
        revision, count = copy.revision(pid), len(copy.load(pid).stakeholders)
        assert count - base_count == revision - base_revision
        counts.append(count)
        copy.close()
    assert counts == sorted(counts) and counts[-1] > base_count
    assert not list(tmp_path.glob(".*partial"))  # no half-made files left behind


def test_backup_bytes_is_a_whole_database(sample_project):
    store, pid = sample_project
    data = backup_bytes(store)
    assert data.startswith(b"SQLite format 3\x00")
    assert len(data) > 10_000


def test_a_backup_refuses_a_missing_folder_and_the_database_itself(store, tmp_path):
    with pytest.raises(StoreError, match="does not exist"):
        backup_sqlite(store, tmp_path / "no" / "such" / "b.db")
    assert not (tmp_path / "no").exists()
    with pytest.raises(StoreError, match="over the database itself"):
        backup_sqlite(store, store.engine.url.database)


@pytest.mark.postgres
def test_postgresql_gets_pg_dump_advice(pg_url, tmp_path):  # noqa: F811
    store = Store(pg_url)
    try:
        with pytest.raises(StoreError, match="pg_dump"):
            backup_sqlite(store, tmp_path / "b.db")
        assert not (tmp_path / "b.db").exists()
    finally:
        store.close()


# --- checking a file before anything is touched -----------------------------------------------------

def _bad_files(tmp_path, good) -> dict:
    files = {}
    files["empty"] = tmp_path / "empty.db"
    files["empty"].write_bytes(b"")
    files["text"] = tmp_path / "notes.db"
    files["text"].write_text("id,name\n1,Ann\n")
    data = good.read_bytes()
    files["truncated"] = tmp_path / "truncated.db"
    files["truncated"].write_bytes(data[: len(data) // 3])
    files["damaged"] = tmp_path / "damaged.db"
    damaged = bytearray(data)
    for offset in range(4096 + 100, min(len(damaged), 3 * 4096), 7):  # scribble over b-tree pages
        damaged[offset] = 0xFF
    files["damaged"].write_bytes(bytes(damaged))
    files["foreign"] = tmp_path / "foreign.db"
    conn = sqlite3.connect(files["foreign"])
    conn.execute("CREATE TABLE invoices (id INTEGER)")
    conn.commit()
    conn.close()
    files["newer"] = tmp_path / "newer.db"
    files["newer"].write_bytes(data)
    conn = sqlite3.connect(files["newer"])
    conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    files["incomplete"] = tmp_path / "incomplete.db"
    files["incomplete"].write_bytes(data)
    conn = sqlite3.connect(files["incomplete"])
    conn.execute("PRAGMA foreign_keys = OFF")
    conn.execute("DROP TABLE relationships")
    conn.commit()
    conn.close()
    return files


def test_every_bad_file_is_refused_with_its_reason_and_nothing_changes(sample_project, tmp_path):
    store, _pid = sample_project
    good = backup_sqlite(store, tmp_path / "good.db")
    before = _state(store)
    reasons = {"empty": "empty", "text": "not an SQLite", "truncated": "damaged", "damaged": "damaged",
               "foreign": "not a coprod_map database", "newer": "newer coprod_map", "incomplete": "'relationships'"}
    for kind, path in _bad_files(tmp_path, good).items():
        untouched = path.read_bytes()
        with pytest.raises(BackupRejected, match=reasons[kind]):
            restore_backup(store, path)
        assert path.read_bytes() == untouched, kind  # checking never writes to the file
        assert not path.with_name(path.name + "-wal").exists(), kind
    assert _state(store) == before


# --- restoring -------------------------------------------------------------------------------------

def test_restore_adds_new_projects_and_never_overwrites(sample_project, tmp_path):
    store, pid = sample_project
    name = store.project_info(pid).name
    original = store.load(pid)
    record = load_record(store, pid)
    path = backup_sqlite(store, tmp_path / "b.db")
    store.apply_edits(pid, "stakeholders", upserts=_person(1))  # changed after the backup
    done = restore_backup(store, path, actor="admin@example.org", owner="Admin@Example.org")
    assert len(done) == 1 and done[0].backup_id == pid and done[0].new_id != pid
    assert done[0].name.startswith(f"{name} (restored ")
    # the existing project still has its later change; the restored one is the backup's state
    assert "w1" in set(store.load(pid).stakeholders["id"])
    restored = store.load(done[0].new_id)
    for table in ("stakeholders", "relationships", "activities", "participation", "reference"):
        pd.testing.assert_frame_equal(restored.table(table), original.table(table), check_dtype=False)
    assert restored.settings.to_dict() == original.settings.to_dict()
    restored_record = load_record(store, done[0].new_id)
    for table in ("decisions", "needs"):
        assert len(restored_record.table(table)) == len(record.table(table))
    assert store.history(done[0].new_id)["kind"].tolist() == ["restore", "access"]  # newest first
    assert access_store.membership(store, done[0].new_id, "admin@example.org").role == "owner"
    # restoring again gives yet another name, never the same project twice
    again = restore_backup(store, path)
    assert again[0].name not in {name, done[0].name}
    assert len(store.list_projects()) == 3


def test_restore_one_chosen_project_and_unknown_ids_are_refused(store, tmp_path):
    a = store.create_project("Alpha")
    store.create_project("Beta")
    path = backup_sqlite(store, tmp_path / "b.db")
    target = Store(f"sqlite:///{tmp_path / 'other.db'}")
    try:
        assert [r.name for r in restore_backup(target, path, project_ids=[a])] == ["Alpha"]
        with pytest.raises(BackupRejected, match="no project with the id zz"):
            restore_backup(target, path, project_ids=["zz"])
        assert target.list_projects()["name"].tolist() == ["Alpha"]
    finally:
        target.close()


def test_an_older_backup_is_upgraded_in_a_copy_and_restored(store, tmp_path):
    old = tmp_path / "v4.db"
    engine = sa.create_engine(f"sqlite:///{old}")
    with engine.begin() as conn:
        schema.create_schema(conn, version=4)
        conn.execute(sa.text("INSERT INTO projects (id, name, description, revision, created_at, updated_at, settings, "
                             "retention_until) VALUES ('p1', 'Old one', '', 3, '2026-01-01', '2026-01-01', '{}', '')"))
        conn.execute(sa.text("INSERT INTO stakeholders (project_id, id, seq, name, kind) "
                             "VALUES ('p1', '007', 0, 'Ann', 'person')"))
    engine.dispose()
    untouched = old.read_bytes()
    assert inspect_backup(old).schema_version == 4
    done = restore_backup(store, old)
    assert store.load(done[0].new_id).stakeholders["id"].tolist() == ["007"]
    assert old.read_bytes() == untouched  # the upgrade ran on a private copy


def test_a_backup_with_broken_data_is_refused_whole(store, tmp_path):
    source = Store(f"sqlite:///{tmp_path / 'src.db'}")
    good = source.create_project("Good")
    source.import_project(good, Project(stakeholders=_person(1)))
    bad = source.create_project("Bad")
    source.close()
    conn = sqlite3.connect(tmp_path / "src.db")
    conn.execute("PRAGMA foreign_keys = OFF")  # a hand-edited file: a tie to nobody
    conn.execute("INSERT INTO relationships (project_id, id, seq, source, target) VALUES (?, 'r9', 0, 'x', 'y')",
                 (bad,))
    conn.commit()
    conn.close()
    before = _state(store)
    with pytest.raises(ImportRejected) as raised:
        restore_backup(store, tmp_path / "src.db")
    assert "backup project 'Bad'" in raised.value.details()
    assert _state(store) == before  # not even the good project was added


@pytest.mark.postgres
def test_a_sqlite_backup_restores_into_postgresql(sample_project, tmp_path, pg_url):  # noqa: F811
    store, pid = sample_project
    path = backup_sqlite(store, tmp_path / "b.db")
    target = Store(pg_url)
    try:
        done = restore_backup(target, path)
        assert target.load(done[0].new_id).stakeholders["id"].tolist() == store.load(pid).stakeholders["id"].tolist()
    finally:
        target.close()


def test_the_command_line_backs_up_and_restores(sample_project, tmp_path, capsys):
    from coprod_map.cli import main

    store, pid = sample_project
    url = str(store.engine.url)
    out = tmp_path / "cli-backup.db"
    assert main(["backup", "--db", url, "--out", str(out)]) == 0
    assert inspect_backup(out).projects["id"].tolist() == [pid]
    other = f"sqlite:///{tmp_path / 'other.db'}"
    assert main(["restore", "--db", other, str(out)]) == 0
    assert "Restored" in capsys.readouterr().out
    target = Store(other)
    try:
        assert target.list_projects()["name"].tolist() == [store.project_info(pid).name]
        assert target.history(target.list_projects()["id"][0])["actor"].tolist() == ["command line"]
    finally:
        target.close()
    bad = tmp_path / "bad.db"
    bad.write_text("not a database")
    assert main(["restore", "--db", other, str(bad)]) == 1
    assert "not an SQLite database file" in capsys.readouterr().err
