"""Faults on a real SQLite file: a writer killed mid-import, a busy database, a full disk, damaged or
missing files. In each case earlier data survives and nothing half-written is left behind."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

from coprod_map.errors import StoreError
from coprod_map.model import Project
from coprod_map.store import Store
from tests.unit.test_store import build_project, digest

ROOT = Path(__file__).resolve().parents[2]
BATCH = 4000

WRITER = textwrap.dedent(
    """
    import sys
    import pandas as pd
    from coprod_map.model import Project
    from coprod_map.store import Store

    store = Store(sys.argv[1])
    pid = store.find_project("Crash")
    batch = int(sys.argv[2])
    for n in range(1, 1000):
        ids = [f"b{n}-{i}" for i in range(batch)]
        incoming = Project(
            stakeholders=pd.DataFrame({"id": ids, "name": ids, "kind": "person", "area": "north"}),
            relationships=pd.DataFrame({"id": [f"r{n}-{i}" for i in range(batch)], "source": ids,
                                        "target": ids[1:] + ids[:1]}),
        ).normalised()
        revision = store.import_project(pid, incoming)
        print(f"committed {revision}", flush=True)
    """
)


def _sqlite_path(url: str) -> str:
    return url.removeprefix("sqlite:///")


def _count(path: str, sql: str) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute(sql).fetchone()[0]


def test_writer_killed_mid_import_leaves_earlier_data_and_no_partial_import(tmp_path):
    url = f"sqlite:///{tmp_path / 'crash.db'}"
    store = Store(url)
    pid = store.create_project("Crash")
    store.close()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    writer = subprocess.Popen([sys.executable, "-c", WRITER, url, str(BATCH)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    try:
        first = writer.stdout.readline()
        assert first.startswith("committed 1"), writer.stderr.read()
        time.sleep(0.35)  # about half-way through the next import
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=10)
    finally:
        if writer.poll() is None:
            writer.kill()
    assert writer.returncode == -signal.SIGKILL
    path = _sqlite_path(url)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    store = Store(url)
    revision = store.revision(pid)
    project = store.load(pid)
    store.close()
    # Whole imports only: every committed import added BATCH people and BATCH ties, and bumped the revision once.
    assert revision >= 1
    assert len(project.stakeholders) == len(project.relationships) == BATCH * revision
    assert _count(path, "SELECT COUNT(*) FROM stakeholder_attributes") == BATCH * revision
    assert set(project.stakeholders["id"].str.split("-").str[0]) == {f"b{n}" for n in range(1, revision + 1)}


def test_busy_database_gives_a_plain_message_and_writes_nothing(tmp_path):
    url = f"sqlite:///{tmp_path / 'busy.db'}"
    store = Store(url, busy_timeout=0.3)
    pid = store.create_project("Busy")
    store.import_project(pid, build_project())
    before = digest(store)
    other = sqlite3.connect(_sqlite_path(url), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another writer holds the lock
    try:
        started = time.perf_counter()
        with pytest.raises(StoreError, match="busy") as caught:
            store.apply_edits(pid, "stakeholders", upserts=pd.DataFrame({"id": ["new"], "name": ["New"]}))
        assert time.perf_counter() - started >= 0.25  # it waited for the busy timeout first
        assert "try again" in str(caught.value) and "nothing was saved" in str(caught.value)
        with pytest.raises(StoreError, match="busy"):
            store.create_project("Another")
        assert store.revision(pid) == 1  # reading still works while someone writes (WAL)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert digest(store) == before
    assert store.apply_edits(pid, "stakeholders", upserts=pd.DataFrame({"id": ["new"], "name": ["New"]})) == 2
    store.close()


FULL_DISK = textwrap.dedent(
    """
    import resource, signal, sys, os
    import pandas as pd
    from coprod_map.errors import StoreError
    from coprod_map.model import Project
    from coprod_map.store import Store

    store = Store(sys.argv[1])
    pid = store.find_project("Full")
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a failed write, not a killed process
    size = os.path.getsize(sys.argv[1].removeprefix("sqlite:///"))
    resource.setrlimit(resource.RLIMIT_FSIZE, (size + 32768, resource.RLIM_INFINITY))
    ids = [f"x{i}" for i in range(5000)]
    incoming = Project(stakeholders=pd.DataFrame({"id": ids, "name": ["a long enough name " * 3] * len(ids)})).normalised()
    try:
        store.import_project(pid, incoming)
    except StoreError as error:
        print(error)
    """
)


def test_full_disk_gives_a_plain_message_and_keeps_earlier_data(tmp_path):
    url = f"sqlite:///{tmp_path / 'full.db'}"
    store = Store(url)
    pid = store.create_project("Full")
    store.import_project(pid, build_project())
    before = digest(store)
    store.close()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-c", FULL_DISK, url], capture_output=True, text=True, env=env,
                            cwd=ROOT, timeout=60)
    assert "disk is full" in result.stdout and "nothing was saved" in result.stdout, (result.stdout, result.stderr)
    store = Store(url)
    assert digest(store) == before and store.revision(pid) == 1
    store.close()
    assert _count(_sqlite_path(url), "SELECT COUNT(*) FROM stakeholders") == 4


def test_damaged_file_is_refused_and_left_untouched(tmp_path):
    path = tmp_path / "damaged.db"
    store = Store(f"sqlite:///{path}")
    store.import_project(store.create_project("Precious"), build_project())
    store.close()
    data = bytearray(path.read_bytes())
    data[:100] = b"\x13" * 100  # the header, including the "SQLite format 3" magic
    path.write_bytes(bytes(data))
    with pytest.raises(StoreError, match="damaged") as caught:
        Store(f"sqlite:///{path}")
    assert "backup" in str(caught.value)
    assert path.read_bytes() == bytes(data)


def test_missing_folder_is_refused_and_not_created(tmp_path):
    folder = tmp_path / "no" / "such"
    with pytest.raises(StoreError, match="folder"):
        Store(f"sqlite:///{folder / 'x.db'}")
    assert not (tmp_path / "no").exists()


def test_read_only_database_refuses_writes_with_a_plain_message(tmp_path):
    path = tmp_path / "ro.db"
    store = Store(f"sqlite:///{path}")
    pid = store.create_project("Read only")
    store.import_project(pid, build_project())
    store.close()
    before = path.read_bytes()
    readonly = Store(f"sqlite:///file:{path}?mode=ro&uri=true")
    try:
        assert len(readonly.load(pid).stakeholders) == 4  # reading still works
        with pytest.raises(StoreError, match="read-only"):
            readonly.rename_project(pid, "Changed")
    finally:
        readonly.close()
    assert path.read_bytes() == before


def test_invalid_url_is_a_store_error():
    with pytest.raises(StoreError):
        Store("not a url at all")


def test_unreachable_postgres_is_a_plain_error_with_the_password_masked():
    with pytest.raises(StoreError) as caught:
        Store("postgresql+psycopg://someone:hunter2@127.0.0.1:1/nowhere?connect_timeout=2")
    assert "hunter2" not in str(caught.value) and "Could not connect" in str(caught.value)


def test_project_built_in_code_survives_a_reopen(tmp_path):
    """Durability: what one Store committed, a new Store (new process-level engine) reads back."""
    url = f"sqlite:///{tmp_path / 'again.db'}"
    first = Store(url)
    pid = first.create_project("Again")
    first.import_project(pid, Project(stakeholders=pd.DataFrame({"id": ["007"], "name": ["J"]})).normalised())
    first.close()
    second = Store(url)
    assert second.load(pid).stakeholders["id"].tolist() == ["007"]
    second.close()
