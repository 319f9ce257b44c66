"""Backups of the whole database, and restoring projects from one, safely.

Backing up (SQLite): ``VACUUM INTO`` copies the database as one read transaction, so the copy is
consistent even while other people keep saving (their saves wait a moment or land after the copy).
The copy is written next to the target under a temporary name, checked (``integrity_check``), then
moved into place, so a half-written backup never carries the real name.

Restoring: the file is checked *before anything is touched*: it must be an SQLite file, pass
``integrity_check``, hold coprod_map's tables and a schema version this coprod_map understands. Its
projects are then read from a private copy (upgraded there if it is older), checked like an import,
and added to the open database **as new projects** in one transaction: an existing project is never
overwritten, and a name already in use gets "(restored DATE)" added. What comes back: the map, the
co-production record, settings and the retention date. What does not: the old history (the restore starts
a new one), named snapshots, participant links and submissions, and memberships (the person restoring
becomes the owner when sign-in is set up).

PostgreSQL: use the server's own tools (``pg_dump``/``pg_restore``); see ``POSTGRES_ADVICE``.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from coprod_map import participation_sets, schema
from coprod_map.errors import CoprodError, StoreError

__all__ = ["POSTGRES_ADVICE", "BackupInfo", "BackupRejected", "RestoredProject", "backup_bytes", "backup_name", "backup_sqlite",
           "inspect_backup", "restore_backup"]

SQLITE_MAGIC = b"SQLite format 3\x00"

POSTGRES_ADVICE = (
    "This app keeps its data in PostgreSQL. Back it up with PostgreSQL's own tools, which copy a consistent "
    "state while people keep working: `pg_dump --format=custom --file=coprod_map.dump DATABASE_URL`. "
    "Restore into a new, empty database with `pg_restore --dbname=NEW_DATABASE_URL coprod_map.dump`, check "
    "it, then point COPROD_MAP_DB at it. A backup file from a SQLite coprod_map can still be restored here: "
    "its projects are added as new projects."
)


class BackupRejected(CoprodError):
    """A backup file cannot be used. The message says why, in plain words; nothing was changed."""


@dataclass(frozen=True)
class BackupInfo:
    """What a checked backup file holds."""

    schema_version: int
    projects: pd.DataFrame  # id, name, stakeholders (row count), updated_at


@dataclass(frozen=True)
class RestoredProject:
    backup_id: str
    new_id: str
    name: str


def _sqlite_path(store) -> Path:  # noqa: ANN001 - a coprod_map.store.Store
    url = store.engine.url
    database = url.database or ""
    if url.get_backend_name() != "sqlite":
        raise StoreError(POSTGRES_ADVICE)
    if database in ("", ":memory:") or database.startswith("file:") or "mode=memory" in database:
        raise StoreError("This database lives only in memory (or is opened by URI), so it cannot be backed up "
                         "to a file here.")
    return Path(database).expanduser().resolve()


def backup_sqlite(store, out: str | Path) -> Path:  # noqa: ANN001
    """Write a consistent copy of the whole database to ``out`` (replaced if it exists); returns the path.

    Safe while others write. Raises ``StoreError`` (plain message) for PostgreSQL or when the copy fails;
    a failed copy leaves no file at ``out``.
    """
    source = _sqlite_path(store)
    out = Path(out).expanduser().resolve()
    if not out.parent.is_dir():
        raise StoreError(f"The folder for the backup does not exist: {out.parent}. Nothing was written.")
    if out == source:
        raise StoreError("The backup cannot be written over the database itself. Choose another file name.")
    partial = out.with_name(f".{out.name}.{secrets.token_hex(4)}.partial")
    try:
        conn = sqlite3.connect(str(source), timeout=30, isolation_level=None)
        try:
            conn.execute("PRAGMA busy_timeout = 30000")
            conn.execute("VACUUM INTO ?", (str(partial),))
        finally:
            conn.close()
        _check_integrity(partial)
        with open(partial, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(partial, out)
    except sqlite3.Error as error:
        raise StoreError(_plain(error, "The backup could not be made")) from None
    except OSError as error:
        raise StoreError(f"The backup could not be written ({error.strerror or type(error).__name__}). "
                         "Nothing was changed in the database.") from None
    finally:
        with contextlib.suppress(OSError):
            partial.unlink()
    return out


def backup_bytes(store) -> bytes:  # noqa: ANN001
    """The whole database as one consistent SQLite file, in memory (for a download button)."""
    with tempfile.TemporaryDirectory(prefix="coprod_backup_") as folder:
        path = backup_sqlite(store, Path(folder) / "backup.db")
        return path.read_bytes()


def backup_name(now: datetime | None = None) -> str:
    """A file name for a backup made now: ``coprod_map-backup-2026-05-01-1030.db``."""
    now = now or datetime.now(UTC)
    return f"coprod_map-backup-{now.strftime('%Y-%m-%d-%H%M')}.db"


def _plain(error: sqlite3.Error, what: str) -> str:
    text = str(error).lower()
    if "full" in text or "disk i/o" in text:
        return f"{what}: the disk is full or could not be written. Free some space and try again; the data is safe."
    if "locked" in text or "busy" in text:
        return f"{what}: the database stayed busy. Try again in a moment; the data is safe."
    return f"{what} ({type(error).__name__}). The database itself was not changed."


def _readonly(path: Path) -> sqlite3.Connection:
    """Open an SQLite file strictly for reading: no journal, no -wal/-shm files created, nothing written."""
    return sqlite3.connect(path.resolve().as_uri() + "?mode=ro&immutable=1", uri=True)


def _check_integrity(path: Path) -> None:
    conn = _readonly(path)
    try:
        result = [r[0] for r in conn.execute("PRAGMA integrity_check").fetchall()]
    finally:
        conn.close()
    if result != ["ok"]:
        raise BackupRejected("The file is damaged (SQLite's integrity check failed). Use another backup.")


def inspect_backup(path: str | Path) -> BackupInfo:
    """Check a backup file without changing it; ``BackupRejected`` says what is wrong with it."""
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            head = handle.read(len(SQLITE_MAGIC))
    except OSError:
        raise BackupRejected("The backup file could not be read.") from None
    if not head:
        raise BackupRejected("The file is empty: it is not a coprod_map backup.")
    if head != SQLITE_MAGIC:
        raise BackupRejected("This is not a coprod_map backup: it is not an SQLite database file "
                             "(a backup is the .db file the Backups page or `coprod_map backup` makes).")
    try:
        _check_integrity(path)
        conn = _readonly(path)
        try:
            return _describe(conn)
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        raise BackupRejected("The file is damaged or is not a complete SQLite database. Use another backup.") from None


def _describe(conn: sqlite3.Connection) -> BackupInfo:
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "projects" not in tables:
        raise BackupRejected("This SQLite file is not a coprod_map database (it has no projects table).")
    version = 1
    if "meta" in tables:
        found = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        try:
            version = int(found[0]) if found else -1
        except (TypeError, ValueError):
            version = -1
    if version < 1:
        raise BackupRejected("This SQLite file is not a coprod_map database (its version record is missing).")
    if version > schema.SCHEMA_VERSION:
        raise BackupRejected(f"This backup was made by a newer coprod_map (schema version {version}; this one "
                             f"understands up to {schema.SCHEMA_VERSION}). Upgrade coprod_map, then restore it.")
    expected = schema._HISTORY[version]  # noqa: SLF001 - the table set of each shipped version
    for name, table in expected.tables.items():
        if name not in tables:
            raise BackupRejected(f"This is not a complete coprod_map database: the table '{name}' is missing.")
        have = {r[1] for r in conn.execute(f'PRAGMA table_info("{name}")')}
        missing = [c.name for c in table.columns if c.name not in have]
        if missing:
            raise BackupRejected(f"This is not a complete coprod_map database: table '{name}' lacks "
                                 f"{', '.join(missing)}.")
    projects = pd.read_sql_query(
        "SELECT p.id, p.name, p.updated_at, (SELECT count(*) FROM stakeholders s WHERE s.project_id = p.id) "
        "AS stakeholders FROM projects p ORDER BY lower(p.name), p.id", conn)
    projects = projects.astype({"id": object, "name": object, "updated_at": object})
    return BackupInfo(schema_version=version, projects=projects)


@contextlib.contextmanager
def _private_copy(path: Path) -> Iterator:
    """The backup opened as a Store on a private copy (so an older one can be upgraded without touching it)."""
    from coprod_map.store import Store

    with tempfile.TemporaryDirectory(prefix="coprod_restore_") as folder:
        copy = Path(folder) / "restore.db"
        shutil.copyfile(path, copy)
        source = Store(f"sqlite:///{copy}")
        try:
            yield source
        finally:
            source.close()


def _unique_name(name: str, taken: set[str], today: str) -> str:
    if name.casefold() not in taken:
        return name
    base = f"{name[:150]} (restored {today})"
    candidate, n = base, 2
    while candidate.casefold() in taken:
        candidate, n = f"{base} {n}", n + 1
    return candidate


def restore_backup(store, path: str | Path, *, project_ids: list[str] | None = None, actor: str | None = None,  # noqa: ANN001
                   owner: str | None = None) -> list[RestoredProject]:
    """Add the projects of a backup file (all, or ``project_ids``) to ``store`` as NEW projects.

    Everything is checked first (the file, then each project's map and record, as an import is);
    ``BackupRejected`` / ``ImportRejected`` say what is wrong and nothing is written. The projects are
    then written in ONE transaction, each with a fresh id, an audit entry ("restore") and, when
    ``owner`` is given and the database keeps memberships, ``owner`` as its owner.
    """
    from coprod_map import store as store_module
    from coprod_map.errors import ImportRejected, Problem
    from coprod_map.record import check_record
    from coprod_map.record_store import load_record
    from coprod_map.validate import check_project

    path = Path(path)
    info = inspect_backup(path)
    wanted = list(info.projects["id"]) if project_ids is None else [str(p) for p in project_ids]
    unknown = [p for p in wanted if p not in set(info.projects["id"])]
    if unknown:
        raise BackupRejected(f"The backup holds no project with the id {', '.join(unknown)}.")
    if not wanted:
        raise BackupRejected("The backup holds no projects, so there is nothing to restore.")
    copied: dict[str, dict] = {}
    with _private_copy(path) as source:
        for pid in wanted:
            project = source.load(pid)
            record = load_record(source, pid)
            problems = check_project(project)
            problems += check_record(record, stakeholder_ids=list(project.stakeholders["id"]),
                                     activity_ids=list(project.activities["id"]), settings=project.settings)
            if problems:
                raise ImportRejected([Problem(f"backup project '{project.name}'", p.row, p.column, p.message)
                                      for p in problems])
            with source.engine.connect() as conn:
                p = schema.METADATA.tables["projects"]
                row = conn.execute(sa.select(p).where(p.c.id == pid)).mappings().one()
                rows = {t: [dict(r) for r in conn.execute(sa.select(schema.METADATA.tables[t]).where(
                    schema.METADATA.tables[t].c.project_id == pid)).mappings()] for t in schema.TRIGGER_TABLES}
                participation = participation_sets.read(conn, pid)  # a set since schema 7 (the copy is upgraded)
            copied[pid] = {"project": dict(row), "rows": rows, "participation": participation}
    today = datetime.now(UTC).date().isoformat()
    restored: list[RestoredProject] = []
    p = schema.METADATA.tables["projects"]
    with store._write() as conn:  # noqa: SLF001 - one transaction for every project, like the store's own writers
        taken = {str(n).casefold() for n in conn.execute(sa.select(p.c.name)).scalars()}
        for pid in wanted:
            source_row = copied[pid]["project"]
            name = _unique_name(str(source_row["name"]), taken, today)
            taken.add(name.casefold())
            new_id = secrets.token_hex(4)
            while conn.execute(sa.select(p.c.id).where(p.c.id == new_id)).first():
                new_id = secrets.token_hex(4)
            now = datetime.now(UTC).isoformat(timespec="seconds")
            values = {"id": new_id, "name": name, "description": source_row.get("description") or "", "revision": 0,
                      "created_at": now, "updated_at": now, "settings": source_row.get("settings") or "{}"}
            if "retention_until" in p.c:
                values["retention_until"] = source_row.get("retention_until") or ""
            conn.execute(p.insert().values(**values))
            for table in schema.TRIGGER_TABLES:
                rows = copied[pid]["rows"][table]
                if rows:
                    conn.execute(schema.METADATA.tables[table].insert(),
                                 [{**r, "project_id": new_id} for r in rows])
            participation_sets.write(conn, new_id, copied[pid]["participation"], before=participation_sets.empty())
            if owner and "memberships" in schema.METADATA.tables:
                from coprod_map.access_store import insert_membership

                insert_membership(conn, new_id, owner, role="owner", may_see_private=True, actor=actor or owner)
            store._intend(conn, "restore", actor, summary=f"restored from a backup file (project {pid} there)")  # noqa: SLF001
            store_module._finish_action(conn, new_id, 0)  # noqa: SLF001
            restored.append(RestoredProject(backup_id=pid, new_id=new_id, name=name))
    return restored
