"""Projects in a real database: SQLAlchemy 2 over SQLite by default, PostgreSQL through the same code.

Every change runs in one transaction and moves the project's revision on by one. Imports and edits
are validated as the project would be after them (``coprod_map.validate.check_project``) before a
single row is written; refused changes raise ``ImportRejected`` / ``EditRejected`` and write nothing.

SQLite is opened in WAL mode with ``synchronous=FULL`` and foreign keys on; writers start with
``BEGIN IMMEDIATE`` so two writers queue (up to the busy timeout) instead of failing half-way.
Database errors reach callers as ``StoreError`` with a plain message that never holds row values.

History (schema 4): triggers log every row change; ``_bump`` closes each change as one audit-trail action
(see ``coprod_map.history``). Every changing method takes ``actor`` (``None``: ``acting_as``'s actor, else
"local user"); undo, revert, time travel, named snapshots, retention and export logging live here too.
"""

from __future__ import annotations

import base64
import contextlib
import contextvars
import gc
import json
import os
import re
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy import event, exc
from sqlalchemy.engine import Connection
from sqlalchemy.pool import StaticPool

from coprod_map import conflicts, history, history_replay, participation_sets, schema, validate
from coprod_map.errors import CoprodError, EditRejected, ImportRejected, Problem, ProjectNotFound, StoreError
from coprod_map.model import (
    NOT_RECORDED,
    PREFER_NOT_TO_SAY,
    TABLES,
    Project,
    ProjectSettings,
    attribute_columns,
    join_list,
    normalise_frame,
)

__all__ = ["ProjectInfo", "Store", "acting_as", "default_database_url"]

#: Parents before children: the order rows are inserted in (deletes run the other way). Participation is not a row
#: table (schema 7): it is written as one set through ``participation_sets`` after these.
_INSERT_ORDER = ("stakeholders", "activities", "relationships", "reference")
_PARTICIPATION = "participation"
_VERSIONED = frozenset({"stakeholders", "relationships", "activities"})
_TABLE_WORDS = {
    "stakeholders": "Stakeholders table",
    "relationships": "Relationships table",
    "activities": "Activities table",
    "participation": "Participation table",
    "reference": "Reference population table",
}
_KEY_SEP = "\x1f"  # joins composite keys into one string; ids never hold it (control characters are refused)
_PROVENANCE = ("_file", "_row")
#: Tables whose ids a table's rows point at.
_PARENTS = {"relationships": ("stakeholders",), "participation": ("stakeholders", "activities")}


LOCAL_USER = "local user"
_ACTOR: contextvars.ContextVar[str | None] = contextvars.ContextVar("coprod_actor", default=None)
_ACTION = "coprod_action"  # conn.info key: what the open change is (kind, actor, what it takes back)


@contextlib.contextmanager
def acting_as(actor: str | None) -> Iterator[None]:
    """Changes made inside (by any caller of the store, record edits included) are recorded as ``actor``'s."""
    token = _ACTOR.set(actor)
    try:
        yield
    finally:
        _ACTOR.reset(token)


def default_database_url() -> str:
    """``COPROD_MAP_DB`` if set, else SQLite at ``~/.local/share/coprod_map/coprod_map.db``
    (``$XDG_DATA_HOME`` respected). The folder is created when missing."""
    configured = os.environ.get("COPROD_MAP_DB", "").strip()
    if configured:
        return configured
    xdg = os.environ.get("XDG_DATA_HOME", "").strip()
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".local" / "share"
    folder = base / "coprod_map"
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'coprod_map.db'}"


@dataclass(frozen=True)
class ProjectInfo:
    id: str
    name: str
    description: str
    revision: int
    created_at: str  # ISO 8601 UTC, seconds
    updated_at: str
    settings: ProjectSettings


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Store:
    """One database holding many projects, each kept apart by ``project_id``.

    Every method that changes data runs in one transaction and returns the project's new
    revision (an int that grows by one with each change). Bad edits raise ``EditRejected``,
    bad imports ``ImportRejected``; in both cases nothing was written.
    """

    def __init__(self, url: str | None = None, *, busy_timeout: float = 5.0) -> None:
        try:
            self._url = sa.engine.make_url(url or default_database_url())
        except exc.ArgumentError:
            raise StoreError("The database address is not a valid SQLAlchemy URL (expected e.g. sqlite:///path/to/file.db).") from None
        self._sqlite = self._url.get_backend_name() == "sqlite"
        options: dict[str, Any] = {"hide_parameters": True}
        if self._sqlite:
            database = self._url.database or ""
            if database in ("", ":memory:") or "mode=memory" in database:
                options.update(poolclass=StaticPool, connect_args={"check_same_thread": False})
            elif not database.startswith("file:"):
                folder = Path(database).expanduser().resolve().parent
                if not folder.is_dir():
                    raise StoreError(f"The folder for the database does not exist: {folder}. "
                                     "Create it first or choose another location; nothing was created.")
        try:
            self._engine = sa.create_engine(self._url, **options)
        except (exc.ArgumentError, exc.NoSuchModuleError, ImportError):
            raise StoreError(f"This kind of database is not supported here: {self.url_display}.") from None
        self._dbapi_error: type[BaseException] = getattr(self._engine.dialect, "loaded_dbapi", None).Error
        if self._sqlite:
            _configure_sqlite(self._engine, busy_timeout_ms=int(busy_timeout * 1000))
        try:
            self._prepare_schema()
        except BaseException:
            self._engine.dispose()
            raise

    # --- plumbing ---------------------------------------------------------------------------

    @property
    def url_display(self) -> str:
        """The database URL with any password masked."""
        return self._url.render_as_string(hide_password=True)

    @property
    def engine(self) -> sa.Engine:
        """The SQLAlchemy engine (for tests and maintenance; the app goes through the methods)."""
        return self._engine

    def close(self) -> None:
        self._engine.dispose()

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except CoprodError:
            raise
        except exc.DBAPIError as error:
            raise StoreError(self._plain_message(error.orig, error)) from None
        except exc.SQLAlchemyError as error:
            raise StoreError(f"The database could not be used ({type(error).__name__}); nothing was saved.") from None
        except self._dbapi_error as error:  # raised straight from our connect-time PRAGMAs
            raise StoreError(self._plain_message(error, error)) from None

    def _plain_message(self, orig: BaseException | None, error: BaseException) -> str:
        text = str(orig or "").lower()
        if "locked" in text or "busy" in text:
            return "The database is busy: someone else is saving. Please try again in a moment; nothing was saved."
        if "full" in text or "no space" in text or "disk i/o" in text:
            return ("The disk is full or could not be written, so nothing was saved. "
                    "Free some space and try again; earlier data is safe.")
        if "readonly" in text or "read-only" in text or "read only" in text:
            return ("The database is read-only, so nothing can be saved. "
                    "Check the file's permissions or choose another location.")
        if "not a database" in text or "malformed" in text or "corrupt" in text:
            return ("The database file is damaged or is not a coprod_map database. It was left untouched: "
                    "restore it from a backup or choose another file.")
        if "unable to open" in text:
            return "The database file could not be opened. Check that its folder exists and can be written."
        if isinstance(error, exc.IntegrityError):
            return "The change broke a database rule (a duplicate or a missing link), so nothing was saved."
        if not self._sqlite and ("connect" in text or "connection" in text):
            return f"Could not connect to the database at {self.url_display}."
        return f"The database reported an error ({type(orig or error).__name__}); nothing was saved."

    @contextlib.contextmanager
    def _read(self) -> Iterator[Connection]:
        with self._errors(), self._engine.connect() as conn, conn.begin():
            yield conn

    @contextlib.contextmanager
    def _write(self) -> Iterator[Connection]:
        with self._errors(), self._engine.connect() as conn:
            conn.execution_options(coprod_write=True)
            conn.info.pop(_ACTION, None)  # conn.info outlives a checkout: never inherit an earlier change's intent
            with conn.begin():
                yield conn

    def _prepare_schema(self) -> None:
        with self._read() as conn:
            version = schema.read_version(conn)
            foreign = version is None and bool(sa.inspect(conn).get_table_names())
        if foreign:
            raise StoreError("This database holds tables that are not coprod_map's. "
                             "Choose an empty database or a coprod_map one; nothing was changed.")
        if version == schema.SCHEMA_VERSION:
            return
        if version is not None and version > schema.SCHEMA_VERSION:
            raise StoreError(f"This database was made by a newer coprod_map (schema version {version}; this one "
                             f"understands up to {schema.SCHEMA_VERSION}). Upgrade coprod_map to open it; "
                             "the database was left untouched.")
        with self._write() as conn:  # re-read under the write lock: another process may have done it
            version = schema.read_version(conn)
            if version is None:
                schema.create_schema(conn)
            elif version < schema.SCHEMA_VERSION:
                schema.upgrade(conn, version)

    def schema_version(self) -> int:
        with self._read() as conn:
            return int(schema.read_version(conn) or 0)

    # --- projects ---------------------------------------------------------------------------

    def list_projects(self) -> pd.DataFrame:
        """Columns: id, name, description, revision, updated_at, and the row count of each table."""
        p = schema.METADATA.tables["projects"]
        with self._read() as conn:
            frame = pd.read_sql(sa.select(p.c.id, p.c.name, p.c.description, p.c.revision, p.c.updated_at)
                                .order_by(sa.func.lower(p.c.name), p.c.id), conn)
            for table in TABLES:
                if table == _PARTICIPATION:
                    t = schema.METADATA.tables["participation_sets"]
                    counts = pd.read_sql(sa.select(t.c.project_id, t.c.rows.label("n")), conn)
                    frame[table] = frame["id"].map(dict(zip(counts["project_id"], counts["n"], strict=True))).fillna(0).astype(int)
                    continue
                t = schema.METADATA.tables[table]
                counts = pd.read_sql(sa.select(t.c.project_id, sa.func.count().label("n")).group_by(t.c.project_id), conn)
                frame[table] = frame["id"].map(dict(zip(counts["project_id"], counts["n"], strict=True))).fillna(0).astype(int)
        for name in ("id", "name", "description", "updated_at"):
            frame[name] = frame[name].astype(object)
        frame["revision"] = frame["revision"].astype(int)
        return frame

    def create_project(self, name: str, *, description: str = "", settings: ProjectSettings | None = None,
                       actor: str | None = None) -> str:
        name = self._checked_name(name)
        settings = settings or ProjectSettings()
        p = schema.METADATA.tables["projects"]
        with self._write() as conn:
            self._refuse_duplicate_name(conn, name)
            project_id = secrets.token_hex(4)
            while conn.execute(sa.select(p.c.id).where(p.c.id == project_id)).first():
                project_id = secrets.token_hex(4)
            now = _now()
            conn.execute(p.insert().values(id=project_id, name=name, description=str(description or ""), revision=0,
                                           created_at=now, updated_at=now, settings=_settings_json(settings)))
            self._intend(conn, "create", actor, summary="project created")
            _finish_action(conn, project_id, 0)
        return project_id

    def find_project(self, name_or_id: str) -> str:
        p = schema.METADATA.tables["projects"]
        wanted = str(name_or_id).strip()
        with self._read() as conn:
            rows = conn.execute(sa.select(p.c.id, p.c.name)).all()
        for match in (lambda r: r.id == wanted, lambda r: r.name == wanted,
                      lambda r: r.name.casefold() == wanted.casefold()):
            found = [r.id for r in rows if match(r)]
            if len(found) == 1:
                return found[0]
        raise ProjectNotFound(f"No project is called '{wanted}' or has that id.")

    def project_info(self, project_id: str) -> ProjectInfo:
        with self._read() as conn:
            row = self._project_row(conn, project_id)
        return ProjectInfo(id=row.id, name=row.name, description=row.description, revision=int(row.revision),
                           created_at=row.created_at, updated_at=row.updated_at,
                           settings=ProjectSettings.from_dict(json.loads(row.settings or "{}")))

    def revision(self, project_id: str) -> int:
        with self._read() as conn:
            return int(self._project_row(conn, project_id).revision)

    def rename_project(self, project_id: str, name: str, *, description: str | None = None,
                       actor: str | None = None) -> int:
        name = self._checked_name(name)
        with self._write() as conn:
            self._project_row(conn, project_id)
            self._refuse_duplicate_name(conn, name, other_than=project_id)
            values: dict[str, Any] = {"name": name}
            if description is not None:
                values["description"] = str(description)
            self._intend(conn, "rename", actor)
            return self._bump(conn, project_id, **values)

    def copy_project(self, project_id: str, name: str, *, actor: str | None = None) -> str:
        name = self._checked_name(name)
        p = schema.METADATA.tables["projects"]
        with self._write() as conn:
            source = self._project_row(conn, project_id)
            self._refuse_duplicate_name(conn, name)
            new_id = secrets.token_hex(4)
            while conn.execute(sa.select(p.c.id).where(p.c.id == new_id)).first():
                new_id = secrets.token_hex(4)
            now = _now()
            conn.execute(p.insert().values(id=new_id, name=name, description=source.description, revision=0,
                                           created_at=now, updated_at=now, settings=source.settings))
            for t in _copied_tables():  # every project-keyed table, parents first: new tables are never forgotten
                others = [c for c in t.columns if c.name != "project_id"]
                select = sa.select(sa.literal(new_id, sa.Text), *others).where(t.c.project_id == project_id)
                conn.execute(t.insert().from_select(["project_id", *(c.name for c in others)], select))
            participation_sets.write(conn, new_id, participation_sets.read(conn, project_id),
                                     before=participation_sets.empty())  # through history, like the rows above
            self._intend(conn, "copy", actor, summary=f"copied from project {project_id}")
            _finish_action(conn, new_id, 0)
        return new_id

    def delete_project(self, project_id: str, *, actor: str | None = None) -> None:
        """Delete a project, its history and snapshots; one audit row (without the name) outlives it."""
        with self._write() as conn:
            self._project_row(conn, project_id)
            # Children first, explicitly: correct even where a database ignores ON DELETE CASCADE.
            for table in ("participation_sets", "relationships", "stakeholder_attributes", "reference",
                          "stakeholders", "activities"):
                t = schema.METADATA.tables[table]
                conn.execute(t.delete().where(t.c.project_id == project_id))
            p = schema.METADATA.tables["projects"]
            conn.execute(p.delete().where(p.c.id == project_id))
            _forget_project(conn, project_id, actor=self._actor(actor))

    def save_settings(self, project_id: str, settings: ProjectSettings, *, actor: str | None = None) -> int:
        with self._write() as conn:
            self._project_row(conn, project_id)
            self._intend(conn, "settings", actor)
            return self._bump(conn, project_id, settings=_settings_json(settings))

    # --- reading ----------------------------------------------------------------------------

    def load(self, project_id: str) -> Project:
        with self._read() as conn:
            row = self._project_row(conn, project_id)
            settings = ProjectSettings.from_dict(json.loads(row.settings or "{}"))
            raw = _read_raw(conn, project_id, versions=False)
        return _project_from_raw(raw, settings, name=row.name)

    def row_versions(self, project_id: str, table: str) -> pd.DataFrame:
        """``id`` and ``version`` of every row of a versioned table (for spotting edits made meanwhile)."""
        if table not in _VERSIONED:
            raise ValueError(f"{table} has no row versions")
        t = schema.METADATA.tables[table]
        with self._read() as conn:
            self._project_row(conn, project_id)
            frame = pd.read_sql(sa.select(t.c.id, t.c.version).where(t.c.project_id == project_id).order_by(t.c.seq), conn)
        return frame.astype({"id": object, "version": int})

    # --- writing ----------------------------------------------------------------------------

    def import_project(self, project_id: str, incoming: Project, *, replace: bool = False,
                       actor: str | None = None, then: Any = None,
                       loaded: Callable[[int, Project], None] | None = None) -> int:
        """Merge ``incoming`` into the project (rows with a known key replace that row) or replace it all.

        The merged result is checked first; ``ImportRejected`` carries every problem, located by the
        ``_file``/``_row`` columns of the incoming frames. New relationship types, activity kinds and
        attributes are added to the project's settings, and review cycles it names that the project lacks.
        ``then(conn, settings)``, when given, runs in the same transaction after the map is written (the
        record's import, ``record_store.import_with_record``): if it raises, nothing at all is saved.
        ``loaded(revision, project)``, when given, is called once the change has been committed (never for a
        refused or rolled-back import) with the new revision and the project exactly as ``load`` would now
        return it, built from the frames already in memory rather than read back. It runs outside the
        transaction: if it raises, the import stays saved and the error reaches the caller.
        """
        try:
            incoming = incoming.normalised()
        except (ValueError, TypeError) as error:
            raise ImportRejected([Problem("import", None, None, f"A number column holds text: {error}")]) from None
        with self._write() as conn:
            _lock_project(conn, project_id)  # the participation set is one row: a second writer must wait, not overwrite
            row = self._project_row(conn, project_id)
            settings = _merged_settings(ProjectSettings.from_dict(json.loads(row.settings or "{}")), incoming)
            raw = _read_raw(conn, project_id)
            current = _project_from_raw(raw, settings, name=row.name)
            if replace:
                final = {t: incoming.table(t) for t in TABLES}
            else:
                final = {t: _merge_rows(t, _saved_provenance(current.table(t), t, like=incoming.table(t)),
                                        incoming.table(t)) for t in TABLES}
            merged = Project(**final, settings=settings, name=row.name)
            texts = validate.Texts()  # each text column encoded once: the checks share it, participation is written from it
            problems = _check(merged, cells_of=incoming, texts=texts)
            if problems:
                raise ImportRejected(problems)
            stored = _stored_form(merged)
            _write_project(conn, project_id, raw, merged, replace=replace, stored=stored,
                           known=texts.known(_PARTICIPATION))
            if then is not None:
                then(conn, settings)
            self._intend(conn, "import", actor)
            saved_settings = _settings_json(settings)
            revision = self._bump(conn, project_id, settings=saved_settings)
        if loaded is not None:  # committed: hand over the project as load() would now read it
            loaded(revision, _loaded_form(stored, saved_settings, name=row.name))
        return revision

    def apply_edits(
        self,
        project_id: str,
        table: str,
        *,
        upserts: pd.DataFrame | None = None,
        deletes: list | None = None,
        actor: str | None = None,
        expected_versions: Any = None,
    ) -> int:
        """Upsert whole rows of ``table`` and delete rows by key, as one checked change.

        Keys: stakeholders/relationships/activities ``id``; participation ``(stakeholder_id,
        activity_id)``; reference ``(attribute, category)``. Deleting a stakeholder removes its
        relationships and participation too; deleting an activity removes its participation.
        Columns missing from ``upserts`` keep their saved values on existing rows.

        ``expected_versions`` (stakeholders, relationships, activities): the ``{id: version}`` (or the
        ``row_versions`` frame) the editor was built from. If a row being changed or deleted was changed,
        deleted or added by someone else since, ``coprod_map.conflicts.EditConflict`` names it and nothing
        is written; the check runs inside this transaction, under the project's lock.
        """
        if table not in TABLES:
            raise EditRejected([Problem("edit", None, None, f"'{table}' is not a table. Expected one of: {', '.join(TABLES)}.")])
        given = [] if upserts is None else list(upserts.columns)  # the rest keep their saved values (below)
        upserts = _clean_upserts(table, upserts)
        delete_keys = _delete_keys(table, deletes or [])
        with self._write() as conn:
            if expected_versions is not None:  # first, under the project's lock: no save can slip in between
                conflicts.check_versions(conn, project_id, table, expected_versions,
                                         touched=[*upserts.get("id", []), *delete_keys])
            _lock_project(conn, project_id)  # see import_project
            row = self._project_row(conn, project_id)
            settings = ProjectSettings.from_dict(json.loads(row.settings or "{}"))
            raw = _read_raw(conn, project_id, tables=(table,))
            frame = _project_from_raw(raw, settings, name=row.name).table(table)
            if delete_keys:  # what depends on a deleted row goes by ON DELETE CASCADE (participation: _write_participation)
                frame = frame.loc[~_rows_with_keys(table, frame, delete_keys)].reset_index(drop=True)
            if len(upserts):
                frame = _merge_rows(table, frame, _with_saved(table, upserts, frame, given=given))
            # What an edit can break: its own table, and ids it points at. The rest was checked when saved.
            scope = {table: frame, **{parent: _read_ids(conn, project_id, parent) for parent in _PARENTS.get(table, ())}}
            merged = Project(**scope, settings=settings, name=row.name)
            problems = _check(merged, cells_of=Project(**{table: upserts}) if len(upserts) else None)
            if problems:
                raise EditRejected(problems)
            if not delete_keys and not len(upserts):
                return int(row.revision)
            touched = {*delete_keys, *(_key_series(table, upserts) if len(upserts) else ())}
            _write_project(conn, project_id, raw, merged, replace=False, only=frozenset({table}),
                           touched=touched if len(touched) < _FEW_KEYS else None)
            self._intend(conn, "edit", actor)
            return self._bump(conn, project_id)

    # --- history, undo, time travel, snapshots, retention (schema 4; see coprod_map.history) -----------

    def log_export(self, project_id: str, fmt: str, *, actor: str | None = None) -> None:
        """Record in the audit trail that the project was exported (format only; the revision does not move)."""
        fmt = str(fmt) if re.fullmatch(r"[A-Za-z0-9_.-]{1,20}", str(fmt)) else "another format"
        with self._write() as conn:
            row = self._project_row(conn, project_id)
            self._intend(conn, "export", actor, summary=f"exported as {fmt}")
            _finish_action(conn, project_id, int(row.revision))

    def history(self, project_id: str) -> pd.DataFrame:
        """The audit trail of a project, newest first: id, at, actor, kind, summary, fields (names only),
        revision, reverts (the entry an undo took back), undone_by, purged."""
        a = schema.METADATA.tables["actions"]
        with self._read() as conn:
            self._project_row(conn, project_id)
            frame = pd.read_sql(sa.select(a.c.id, a.c.at, a.c.actor, a.c.kind, a.c.summary, a.c.fields, a.c.revision,
                                          a.c.reverts, a.c.purged).where(a.c.project_id == project_id)
                                .order_by(a.c.id.desc()), conn)
        return _actions_frame(frame)

    def audit_trail(self) -> pd.DataFrame:
        """Every action of every project, deleted projects' rows included (``project_id`` "")."""
        a = schema.METADATA.tables["actions"]
        with self._read() as conn:
            frame = pd.read_sql(sa.select(a.c.project_id, a.c.id, a.c.at, a.c.actor, a.c.kind, a.c.summary,
                                          a.c.fields, a.c.revision, a.c.reverts, a.c.purged).order_by(a.c.id), conn)
        return _actions_frame(frame)

    def changes(self, project_id: str, action_id: int | None = None, *, can_see_private: bool = False,
                limit: int | None = None, offset: int = 0, text: bool = False) -> pd.DataFrame:
        """The row changes of one action (or all), oldest first: seq, action_id, table_name, op, key, old, new
        (dicts), erased. Private values show as ``(private)`` unless ``can_see_private``. ``limit``/``offset``: only
        those rows (dicts are built only for those: an import's million rows need not all be shown, and a download
        can take them a window at a time). ``text``: old and new as the text ``history.details_table`` shows
        (``str`` of each dict, None when absent), made without keeping a dict per row.

        A participation batch row (schema 7) comes back as one row per participation row it changed, shaped like
        the rows written before it (they all share the batch's seq)."""
        limit = None if limit is None else max(int(limit), 0)
        offset = max(int(offset), 0)
        c = schema.METADATA.tables["changes"]
        mine = sa.and_(c.c.project_id == project_id, c.c.action_id.is_not(None),
                       sa.true() if action_id is None else c.c.action_id == int(action_id))
        plain = sa.and_(mine, c.c.op != participation_sets.BATCH)
        query = sa.select(c.c.seq, c.c.action_id, c.c.table_name, c.c.op, c.c.old, c.c.new).where(plain).order_by(c.c.seq)
        batches = (sa.select(c.c.seq, c.c.action_id, c.c.payload)
                   .where(mine, c.c.op == participation_sets.BATCH).order_by(c.c.seq))
        with self._read() as conn:
            self._project_row(conn, project_id)
            payloads = [(int(seq), int(action), bytes(payload)) for seq, action, payload
                        in history_replay.driver_rows(conn, batches) if payload is not None]
            # the window, walked in seq order: runs of JSON rows between batches, then each batch's rows
            sizes = [history_replay.payload_rows(payload) for _, _, payload in payloads]
            before = history_replay.rows_before(conn, plain, [seq for seq, _, _ in payloads])
            stop = None if limit is None else offset + limit
            pieces: list[pd.DataFrame] = []
            at, json_at = 0, 0  # merged position, JSON rows passed
            for k in range(len(payloads) + 1):
                run = (before[k] if k < len(payloads) else None)  # JSON rows up to this batch (None: all the rest)
                length = None if run is None else run - json_at
                lo = max(offset - at, 0)
                hi = length if stop is None else (stop - at if length is None else min(length, stop - at))
                if hi is None or hi > lo:
                    window = query.offset(json_at + lo)
                    if hi is not None:
                        window = window.limit(hi - lo)
                    raw = (history_replay.read_frame(conn, window) if text else pd.read_sql(window, conn))
                    if len(raw):
                        pieces.append(history.change_texts(raw, can_see_private=can_see_private) if text else
                                      history.mask_private(history.parse_changes(raw), can_see_private=can_see_private))
                if length is None:
                    break
                at, json_at = at + length, json_at + length
                seq, action, payload = payloads[k]
                lo, hi = max(offset - at, 0), sizes[k] if stop is None else min(sizes[k], stop - at)
                if hi > lo:
                    diff = participation_sets.decode(payload).iloc[lo:hi].reset_index(drop=True)
                    expand = history.batch_texts if text else history.expand_batch
                    pieces.append(expand(diff, seq=seq, action_id=action, can_see_private=can_see_private))
                at += sizes[k]
            if not pieces:  # nothing in the window: the columns, no rows
                raw = history_replay.read_frame(conn, query.limit(0)) if text else pd.read_sql(query.limit(0), conn)
                return history.change_texts(raw) if text else history.parse_changes(raw)
        frame = pd.concat(pieces, ignore_index=True) if len(pieces) > 1 else pieces[0].reset_index(drop=True)
        if len(payloads):
            frame = frame.astype({"seq": np.int64, "action_id": np.int64})
        return frame

    def change_count(self, project_id: str, action_id: int) -> int:
        """How many rows ``action_id`` changed (the rows ``changes`` gives for it), counted without building them."""
        c = schema.METADATA.tables["changes"]
        with self._read() as conn:
            self._project_row(conn, project_id)
            return _rows_changed(conn, c.c.project_id == project_id, c.c.action_id == int(action_id))

    def undo(self, project_id: str, *, actor: str | None = None) -> int:
        """Take back the latest action not already taken back (undos themselves are skipped: undo again
        steps further back; revert an undo to redo). Returns the new revision."""
        actions = self.history(project_id)
        open_ = actions.loc[(actions["kind"] != "undo") & actions["undone_by"].isna() & ~actions["purged"]
                            & actions["kind"].isin(_UNDOABLE)]
        if not len(open_):
            raise EditRejected([Problem("History", None, None, "there is nothing left to undo.")])
        return self.revert(project_id, int(open_["id"].iloc[0]), actor=actor, kind="undo")

    def revert(self, project_id: str, action_id: int, *, actor: str | None = None, kind: str = "revert") -> int:
        """Put every row ``action_id`` touched back as it was before, as one new action.

        Refused (``EditRejected``, nothing written) when a row changed again since, naming the row, when
        and who; when restoring would take other rows with it; or when the entry's values were erased or purged.
        """
        with self._write() as conn:
            _lock_project(conn, project_id)  # see import_project: a revert may rewrite the participation set
            self._project_row(conn, project_id)
            a = schema.METADATA.tables["actions"]
            action = conn.execute(sa.select(a).where(a.c.id == int(action_id), a.c.project_id == project_id)).first()
            if action is None:
                raise EditRejected([Problem("History", None, None, f"there is no history entry {action_id} in this project.")])
            refuse = _why_not_revertable(action)
            plan, erased = ({}, False) if refuse else history_replay.plan_revert(conn, project_id, int(action_id))
            if not refuse and not plan:
                refuse = "it changed no data, so there is nothing to take back."
            if not refuse and erased:
                refuse = "it holds data of a person who was erased, so it can no longer be taken back."
            if refuse:
                raise EditRejected([Problem("History", None, None, f"entry {action_id} cannot be taken back: {refuse}")])
            blocks = history_replay.blocking(conn, project_id, plan, action_id=int(action_id))
            if blocks:
                raise EditRejected([Problem("History", None, None, f"entry {action_id} cannot be taken back: {b}")
                                    for b in blocks])
            done = history_replay.apply_plan(conn, project_id, plan)
            extra = history_replay.unplanned(conn, project_id, plan, done)
            if extra:
                raise EditRejected([Problem("History", None, None, f"entry {action_id} cannot be taken back: {x}")
                                    for x in extra])
            self._intend(conn, kind, actor, reverts=int(action_id), summary=f"took back entry {action_id}")
            return self._bump(conn, project_id)

    def state_at(self, project_id: str, *, revision: int | None = None, when: str | None = None) -> Project:
        """The map as it was at ``revision`` or at ``when`` (ISO date = the end of that day, UTC; or an ISO
        timestamp): read-only, rebuilt by rewinding every later change from the current rows."""
        if (revision is None) == (when is None):
            raise ValueError("give exactly one of revision or when")
        a = schema.METADATA.tables["actions"]
        if when is not None:
            cutoff = str(when).strip()
            cutoff = cutoff + "T23:59:59+00:00" if len(cutoff) == 10 else cutoff
            later = a.c.at > cutoff
        else:
            later = a.c.revision > int(revision)
        with self._read() as conn:
            row = self._project_row(conn, project_id)
            raw = _read_raw(conn, project_id)
            c = _changes_table()
            since = c.c.action_id.in_(sa.select(a.c.id).where(a.c.project_id == project_id, later).scalar_subquery())
            current = {**{t: raw[t] for t in TABLES}, "stakeholder_attributes": raw["attributes"]}
            rewound = history_replay.rewind_tables(conn, project_id, since, current)
            first = conn.execute(sa.select(c.c.old).where(c.c.project_id == project_id, c.c.table_name == "projects",
                                                          since).order_by(c.c.seq).limit(1)).scalar()
        details = {c: getattr(row, c) for c in schema.PROJECT_LOGGED}
        details.update(json.loads(first) if first else {})
        settings = ProjectSettings.from_dict(json.loads(details["settings"] or "{}"))
        raw_then = {**{t: rewound[t] for t in TABLES}, "attributes": rewound["stakeholder_attributes"]}
        return _project_from_raw(raw_then, settings, name=str(details["name"]))

    def take_snapshot(self, project_id: str, name: str, *, actor: str | None = None) -> int:
        """Save the whole project (map, record, settings) under ``name``; returns the snapshot's id.

        The data is one JSON text: ``name``, ``description``, ``settings``, ``tables`` (each SQL table's rows)
        and ``participation_set``: the stored Parquet set as it is (base64; ``None`` when there is no
        participation), not a million row dicts. Snapshots taken before have participation under ``tables``
        instead (no ``participation_set`` key); ``restore_snapshot`` and the erasure read both forms."""
        name = self._checked_name(name)
        s = schema.METADATA.tables["named_snapshots"]
        with self._write() as conn:
            row = self._project_row(conn, project_id)
            payload = participation_sets.read_payload(conn, project_id)
            data = {"name": row.name, "description": row.description, "settings": row.settings,
                    "tables": {t: _plain_rows(conn, t, project_id) for t in schema.HISTORY_TABLES
                               if t != _PARTICIPATION},
                    "participation_set": None if payload is None else base64.b64encode(payload).decode("ascii")}
            result = conn.execute(s.insert().values(project_id=project_id, name=name, taken_at=_now(),
                                                    actor=self._actor(actor), data=json.dumps(data, ensure_ascii=False)))
            snapshot_id = int(result.inserted_primary_key[0])
            self._intend(conn, "snapshot", actor, summary=f"named snapshot {snapshot_id} taken")
            _finish_action(conn, project_id, int(row.revision))
        return snapshot_id

    def snapshots(self, project_id: str) -> pd.DataFrame:
        """The project's named snapshots, newest first: id, name, taken_at, actor."""
        s = schema.METADATA.tables["named_snapshots"]
        with self._read() as conn:
            self._project_row(conn, project_id)
            frame = pd.read_sql(sa.select(s.c.id, s.c.name, s.c.taken_at, s.c.actor)
                                .where(s.c.project_id == project_id).order_by(s.c.id.desc()), conn)
        return frame.astype({"name": object, "taken_at": object, "actor": object})

    def restore_snapshot(self, project_id: str, snapshot_id: int, name: str, *, actor: str | None = None) -> str:
        """A NEW project called ``name`` holding the snapshot (the original is never overwritten); its id."""
        name = self._checked_name(name)
        s = schema.METADATA.tables["named_snapshots"]
        p = schema.METADATA.tables["projects"]
        with self._write() as conn:
            self._project_row(conn, project_id)
            self._refuse_duplicate_name(conn, name)
            found = conn.execute(sa.select(s.c.data).where(s.c.id == int(snapshot_id), s.c.project_id == project_id)).first()
            if found is None:
                raise EditRejected([Problem("Snapshots", None, None, f"there is no snapshot {snapshot_id} in this project.")])
            data = json.loads(found.data)
            new_id = secrets.token_hex(4)
            while conn.execute(sa.select(p.c.id).where(p.c.id == new_id)).first():
                new_id = secrets.token_hex(4)
            now = _now()
            conn.execute(p.insert().values(id=new_id, name=name, description=data.get("description", ""), revision=0,
                                           created_at=now, updated_at=now, settings=data.get("settings") or "{}"))
            for table in schema.HISTORY_TABLES:
                rows = data["tables"].get(table) or []
                if table == _PARTICIPATION and "participation_set" in data:  # a snapshot holding the Parquet set
                    if data["participation_set"]:
                        frame = participation_sets.decode(base64.b64decode(data["participation_set"]))
                        participation_sets.write(conn, new_id, participation_sets.normalised(frame),
                                                 before=participation_sets.empty())
                elif rows and table == _PARTICIPATION:  # an older snapshot: rows; a set since schema 7, with its batch
                    frame = pd.DataFrame(rows)
                    participation_sets.write(conn, new_id, frame.reindex(columns=list(participation_sets.COLUMNS)),
                                             before=participation_sets.empty())
                elif rows:
                    conn.execute(schema.METADATA.tables[table].insert(),
                                 [_typed_row(table, r, project_id=new_id) for r in rows])
            self._intend(conn, "restore", actor, summary=f"restored from snapshot {snapshot_id} of project {project_id}")
            _finish_action(conn, new_id, 0)
        return new_id

    def retention_until(self, project_id: str) -> str:
        """The date (ISO) until which this project's personal data may be kept; "" when none is set."""
        with self._read() as conn:
            return str(self._project_row(conn, project_id).retention_until or "")

    def set_retention(self, project_id: str, until: str, *, actor: str | None = None) -> int:
        until = str(until or "").strip()
        if until and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", until):
            raise EditRejected([Problem("Project", None, "retention_until",
                                        f"'{until[:40]}' is not a date written YYYY-MM-DD.")])
        if until:
            try:
                datetime.fromisoformat(until)
            except ValueError:
                raise EditRejected([Problem("Project", None, "retention_until", f"'{until}' is not a real date.")]) from None
        with self._write() as conn:
            self._project_row(conn, project_id)
            self._intend(conn, "retention", actor)
            return self._bump(conn, project_id, retention_until=until)

    def purge_history(self, project_id: str, *, before: str, actor: str | None = None) -> int:
        """Delete the old and new values of every change made before ``before`` (ISO date). The audit rows
        stay (they hold no values), marked purged: those entries can no longer be undone. Returns rows purged."""
        before = str(before or "").strip()
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", before):
            raise EditRejected([Problem("History", None, None, "give the date to purge before as YYYY-MM-DD.")])
        a, c = schema.METADATA.tables["actions"], schema.METADATA.tables["changes"]
        with self._write() as conn:
            row = self._project_row(conn, project_id)
            old = sa.select(a.c.id).where(a.c.project_id == project_id, a.c.at < before)
            gone = (c.c.project_id == project_id, c.c.action_id.in_(old))
            purged = _rows_changed(conn, *gone)
            conn.execute(c.delete().where(*gone))
            conn.execute(a.update().where(a.c.project_id == project_id, a.c.at < before).values(purged=True))
            self._intend(conn, "purge", actor, summary=f"history before {before} purged ({purged:,} row changes)")
            _finish_action(conn, project_id, int(row.revision))
        return purged

    # --- helpers ----------------------------------------------------------------------------

    @staticmethod
    def _checked_name(name: str) -> str:
        name = str(name or "").strip()
        if not name:
            raise EditRejected([Problem("Project", None, "name", "the project name is blank. Give the project a name.")])
        if len(name) > 200:
            raise EditRejected([Problem("Project", None, "name", "the project name is longer than 200 characters.")])
        if validate.refused_characters(name):
            raise EditRejected([Problem("Project", None, "name", "the project name holds a control or invisible "
                                        "character (for example a text-direction override). Type the name again.")])
        return name

    @staticmethod
    def _refuse_duplicate_name(conn: Connection, name: str, *, other_than: str | None = None) -> None:
        p = schema.METADATA.tables["projects"]
        rows = conn.execute(sa.select(p.c.id, p.c.name)).all()
        if any(r.name.casefold() == name.casefold() and r.id != other_than for r in rows):
            raise EditRejected([Problem("Project", None, "name",
                                        f"a project called '{name}' already exists. Choose another name.")])

    @staticmethod
    def _project_row(conn: Connection, project_id: str) -> sa.Row:
        p = schema.METADATA.tables["projects"]
        row = conn.execute(sa.select(p).where(p.c.id == str(project_id))).first()
        if row is None:
            raise ProjectNotFound(f"No project has the id '{project_id}'.")
        return row

    @staticmethod
    def _bump(conn: Connection, project_id: str, **values: Any) -> int:
        p = schema.METADATA.tables["projects"]
        conn.execute(p.update().where(p.c.id == project_id)
                     .values(revision=p.c.revision + 1, updated_at=_now(), **values))
        revision = int(conn.execute(sa.select(p.c.revision).where(p.c.id == project_id)).scalar_one())
        _finish_action(conn, project_id, revision)  # every data change ends here: its audit row and history
        return revision

    @staticmethod
    def _actor(actor: str | None) -> str:
        chosen = actor if actor is not None else _ACTOR.get()
        return str(chosen).strip()[:200] if chosen and str(chosen).strip() else LOCAL_USER

    def _intend(self, conn: Connection, kind: str, actor: str | None, *, summary: str = "",
                reverts: int | None = None) -> None:
        """Say what the change open on ``conn`` is, for the action ``_bump`` writes when it ends."""
        conn.info[_ACTION] = {"kind": kind, "actor": self._actor(actor), "summary": summary, "reverts": reverts}


# --- SQLite set-up ------------------------------------------------------------------------------

def _configure_sqlite(engine: sa.Engine, *, busy_timeout_ms: int) -> None:
    """SQLAlchemy's pysqlite recipe: we emit BEGIN ourselves, IMMEDIATE for writers."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # noqa: ANN001
        dbapi_connection.isolation_level = None  # stop pysqlite's own implicit BEGIN
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = FULL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("coprod_write") else "BEGIN")


# --- rows in and out ----------------------------------------------------------------------------

def _settings_json(settings: ProjectSettings) -> str:
    return json.dumps(settings.to_dict(), ensure_ascii=False)


def _read_raw(conn: Connection, project_id: str, *, tables: tuple[str, ...] = tuple(TABLES),
              versions: bool = True) -> dict[str, pd.DataFrame]:
    """Tables of one project as stored (DB form, ordered by ``seq``), plus the attribute rows.

    Tables not asked for come back empty; ``versions=False`` leaves out the row ``version`` columns."""
    raw = {}
    for table in TABLES:
        if table == _PARTICIPATION:
            raw[table] = participation_sets.read(conn, project_id) if table in tables else participation_sets.empty()
            continue
        t = schema.METADATA.tables[table]
        names = [*TABLES[table], "seq", *(["version"] if table in _VERSIONED and versions else [])]
        raw[table] = _read_table(conn, t, names, project_id, wanted=table in tables)
        seq = raw[table]["seq"].to_numpy(dtype=np.int64)  # ordered here: an ORDER BY sorts in a temporary b-tree
        if len(seq) > 1 and (np.diff(seq) < 0).any():
            raw[table] = raw[table].take(np.argsort(seq, kind="stable")).reset_index(drop=True)
    a = schema.METADATA.tables["stakeholder_attributes"]
    raw["attributes"] = _read_table(conn, a, ["stakeholder_id", "attribute", "value"], project_id,
                                    wanted="stakeholders" in tables)
    return raw


def _read_table(conn: Connection, t: sa.Table, names: list[str], project_id: str, *, wanted: bool) -> pd.DataFrame:
    """One table's rows of ``project_id`` (columns ``names``, as the driver gives them); empty when not ``wanted``."""
    query = sa.select(*(t.c[n] for n in names)).where(t.c.project_id == project_id)
    if not wanted:
        return _fetch_frame(conn, query.where(sa.false()))
    rows, scan = _scan_plan(conn, t, project_id)
    frame = _concat_frame(conn, t, names, project_id, rows=rows, scan=scan) if rows else None
    return frame if frame is not None else _fetch_frame(conn, query, scan=scan)


def _scan_plan(conn: Connection, t: sa.Table, project_id: str) -> tuple[int, bool]:
    """SQLite: this project's row count, and whether to read the table start to end rather than through its
    ``project_id`` index (when this project holds a large share of it: the index walk fetches rows in random
    order, 3x slower at 1,000,000 rows). Elsewhere ``(0, False)``."""
    if conn.dialect.name != "sqlite":
        return 0, False
    mine = int(conn.execute(sa.select(sa.func.count()).select_from(t).where(t.c.project_id == project_id)).scalar())
    if mine < 20_000:
        return mine, False
    total = conn.exec_driver_sql(f'SELECT max(rowid) FROM "{t.name}"').scalar()  # every table here has rowids
    return mine, mine * 4 >= int(total or 0)


_CONCAT_SEP = "\x1f"  # never stored: control characters are refused in every cell


def _concat_frame(conn: Connection, t: sa.Table, names: list[str], project_id: str, *, rows: int,
                  scan: bool) -> pd.DataFrame | None:
    """SQLite: the same frame ``_fetch_frame`` gives, read as one ``group_concat`` text per column in one pass and
    split in Python (at 1,000,000 rows about 3x quicker than fetching a million row tuples).

    Nullable numbers travel as integer text ("" for NULL): exact for integers and for decimals that are whole
    numbers (checked in the same pass); other decimals are fetched row by row and matched by ``seq``. ``None``
    when this cannot be done exactly (a value holding the separator, a NULL text ...): the caller reads rows."""
    numeric = [n for n in names if isinstance(t.c[n].type, (sa.Float, sa.Integer)) and t.c[n].nullable]
    decimals = [n for n in numeric if isinstance(t.c[n].type, sa.Float)]
    source = f'"{t.name}"' + (" NOT INDEXED" if scan else "")
    where = "WHERE project_id = ?"

    def aggregate(n: str) -> str:
        if n in decimals:
            return f'group_concat(coalesce(CAST("{n}" AS INTEGER), \'\'), ?)'
        return f'group_concat(coalesce("{n}", \'\'), ?)' if n in numeric else f'group_concat("{n}", ?)'

    checks = [f'coalesce(sum("{n}" <> CAST("{n}" AS INTEGER) OR abs("{n}") >= 9007199254740992.0), 0)'
              for n in decimals]  # 2**53: every integer below it is an exact double
    try:
        first = history_replay.driver_fetch(conn, f"SELECT count(*), {', '.join([*map(aggregate, names), *checks])} "
                                    f"FROM {source} {where}", (*[_CONCAT_SEP] * len(names), project_id))[0]
    except conn.dialect.loaded_dbapi.Error:  # e.g. "string or blob too big": the row-by-row read still works
        return None
    count, texts, inexact = int(first[0]), first[1:1 + len(names)], first[1 + len(names):]
    if count != rows:
        return None
    columns: dict[str, Any] = {}
    for name, text in zip(names, texts, strict=True):
        parts = text.split(_CONCAT_SEP) if text is not None else []
        if len(parts) != count:
            return None
        if name in numeric:
            values = _numbers_from_text(parts, decimal=name in decimals)
            if values is None:
                return None
        elif isinstance(t.c[name].type, sa.Integer):
            try:
                values = np.array(parts, dtype=np.int64).astype(object)
            except (ValueError, OverflowError):
                return None
        else:
            values = parts
        columns[name] = pd.Series(values, dtype=object)
    fetch = [n for n, bad in zip(decimals, inexact, strict=True) if bad]
    if fetch:  # fractions: their text form is not exact, so as the driver gives them
        if "seq" not in columns:
            return None
        fetched = history_replay.driver_fetch(conn, f'SELECT seq, {", ".join(chr(34) + n + chr(34) for n in fetch)} '
                                      f"FROM {source} {where}", (project_id,))
        cells = np.array(fetched, dtype=object).reshape(len(fetched), len(fetch) + 1)
        if len(cells) != count or not np.array_equal(cells[:, 0].astype(np.int64),
                                                     columns["seq"].to_numpy(dtype=np.int64)):
            return None  # the two reads walked the rows in different orders
        for i, name in enumerate(fetch, start=1):
            columns[name] = pd.Series(cells[:, i], dtype=object)
    return pd.DataFrame(columns, columns=names, copy=False)  # fresh columns: no need to copy them into one block


def _numbers_from_text(texts: list[str], *, decimal: bool) -> np.ndarray | None:
    """Integer texts ("" for NULL) -> Python ints (floats when ``decimal``) and None; None if one is not an integer."""
    codes, uniques = pd.factorize(np.asarray(texts, dtype=object))
    values = np.empty(len(uniques), dtype=object)
    try:
        for i, u in enumerate(uniques):
            values[i] = None if u == "" else float(int(u)) if decimal else int(u)
    except ValueError:
        return None
    return values[codes] if len(codes) else np.empty(0, dtype=object)


def _fetch_frame(conn: Connection, query: sa.Select, *, scan: bool = False) -> pd.DataFrame:
    """A select's rows as a frame of plain Python values (object columns; numbers as int/float/None).

    What ``pd.read_sql`` gives, minus its cost at 1,000,000 rows (SQLAlchemy row objects and a per-value
    type inference, about 5x slower): the driver's own cursor on this connection and transaction."""
    rewrite = None
    if scan:  # SQLite's planner hint; the FROM clause names exactly one table here
        table = query.get_final_froms()[0].name

        def rewrite(sql: str) -> str:
            return re.sub(rf"\bFROM {re.escape(table)}\b", f"FROM {table} NOT INDEXED", sql, count=1)

    collecting = gc.isenabled()
    gc.disable()  # a million row tuples would trigger collections that find nothing to free
    try:
        rows = history_replay.driver_rows(conn, query, rewrite=rewrite)
        names = [c.name for c in query.selected_columns]
        cells = np.array(rows, dtype=object).reshape(len(rows), len(names))
        del rows
    finally:
        if collecting:
            gc.enable()
    return pd.DataFrame({name: pd.Series(cells[:, i], dtype=object) for i, name in enumerate(names)}, columns=names)


def _read_ids(conn: Connection, project_id: str, table: str) -> pd.DataFrame:
    t = schema.METADATA.tables[table]
    return _fetch_frame(conn, sa.select(t.c.id).where(t.c.project_id == project_id))  # object str, as read_sql's


def _model_frame(table: str, frame: pd.DataFrame) -> pd.DataFrame:
    """DB form -> the model's canonical frame (core columns only), without per-row normalisation."""
    out = {}
    for name, kind in TABLES[table].items():
        series = frame[name]
        if kind == "str":
            out[name] = pd.Series(_filled_text(series), dtype=object)
        elif kind == "list":
            out[name] = pd.Series(_split_lists(_filled_text(series)), dtype=object)
        elif kind == "Int64":
            out[name] = pd.to_numeric(series).astype("Float64").round().astype("Int64").reset_index(drop=True)
        else:
            out[name] = pd.to_numeric(series).astype("Float64").reset_index(drop=True)
    return pd.DataFrame(out, index=pd.RangeIndex(len(frame)), copy=False)


def _filled_text(series: pd.Series) -> np.ndarray:
    """The column's values as an object array, missing values as ``""``."""
    values = series.to_numpy(dtype=object)
    missing = pd.isna(values)
    return np.where(missing, "", values) if missing.any() else values


def _split_lists(values: np.ndarray) -> list[list[str]]:
    """``a|b`` text -> a list per cell (blank -> ``[]``). Each distinct text is split once; every cell still
    gets a list of its own (callers may change one cell's list without touching another's)."""
    if not len(values):
        return []
    codes, uniques = pd.factorize(values)
    split = [u.split("|") if u else [] for u in uniques]
    collecting = gc.isenabled()
    gc.disable()  # 100,000s of new lists would trigger collections that find nothing to free (2-3x slower)
    try:
        return [split[c][:] for c in codes.tolist()]
    finally:
        if collecting:
            gc.enable()


def _project_from_raw(raw: dict[str, pd.DataFrame], settings: ProjectSettings, *, name: str) -> Project:
    frames = {table: _model_frame(table, raw[table]) for table in TABLES}
    frames["stakeholders"] = _with_attributes(frames["stakeholders"], raw["attributes"], settings)
    return Project(**frames, settings=settings, name=name)


def _with_attributes(stakeholders: pd.DataFrame, attributes: pd.DataFrame, settings: ProjectSettings) -> pd.DataFrame:
    """Pivot the attribute rows back into one column per attribute: settings order first, then by name.

    Placed by position (``get_indexer``) rather than ``DataFrame.pivot``: several times quicker at 500,000 rows."""
    found = sorted(set(attributes["attribute"]))
    order = [a for a in settings.attributes if a not in TABLES["stakeholders"]]
    order += [a for a in found if a not in order and a not in TABLES["stakeholders"]]
    if not order:
        return stakeholders
    ids = pd.Index(stakeholders["id"].to_numpy(dtype=object), dtype=object)
    if not ids.is_unique:
        return _with_attributes_pivot(stakeholders, attributes, order)
    rows = ids.get_indexer(_object_index(attributes["stakeholder_id"]))
    names = pd.Index(found, dtype=object)  # every attribute present: a duplicate pair is a duplicate cell
    columns = names.get_indexer(_object_index(attributes["attribute"]))
    cells = rows.astype(np.int64) * len(names) + columns
    if (rows < 0).any() or pd.Series(cells).duplicated().any():  # rows of unknown stakeholders, repeated rows
        return _with_attributes_pivot(stakeholders, attributes, order)
    wide = np.full((len(order), len(stakeholders)), "", dtype=object)  # one contiguous row per attribute
    place = names.get_indexer(pd.Index(order, dtype=object))  # column of each shown attribute among ``found``
    shown = np.full(len(found), -1, dtype=np.int64)
    shown[place[place >= 0]] = np.flatnonzero(place >= 0)
    target = shown[columns] if len(columns) else columns
    kept = target >= 0
    wide[target[kept], rows[kept]] = _filled_text(attributes["value"])[kept]
    out = {c: stakeholders[c] for c in stakeholders.columns}
    out.update({a: pd.Series(wide[i], index=stakeholders.index, dtype=object) for i, a in enumerate(order)})
    return pd.DataFrame(out, index=stakeholders.index, copy=False)


def _object_index(series: pd.Series) -> pd.Index:
    """An object-dtype index of the values: a plain array given to ``get_indexer`` is first turned into a
    pandas ``str`` index and back (a third of the lookup's time at 500,000 rows)."""
    return pd.Index(series.to_numpy(dtype=object), dtype=object, copy=False)


def _with_attributes_pivot(stakeholders: pd.DataFrame, attributes: pd.DataFrame, order: list[str]) -> pd.DataFrame:
    """``DataFrame.pivot`` (raises on duplicate attribute rows, as it always did)."""
    if len(attributes):
        wide = attributes.pivot(index="stakeholder_id", columns="attribute", values="value")
        wide = wide.reindex(index=stakeholders["id"], columns=order)
    else:
        wide = pd.DataFrame(index=stakeholders["id"], columns=order)
    wide = wide.astype(object).where(wide.notna(), "").reset_index(drop=True)
    wide.columns = list(order)
    return pd.concat([stakeholders, wide], axis=1)


def _db_frame(table: str, frame: pd.DataFrame) -> pd.DataFrame:
    """A canonical model frame -> DB form: lists as ``a|b`` text, numbers as Python values or None."""
    out = {}
    for name, kind in TABLES[table].items():
        series = frame[name]
        if kind == "list":  # an empty list (most cells of most list columns) is "" without a call
            out[name] = pd.Series(["" if type(v) is list and not v else join_list(v) for v in series.to_numpy(dtype=object)],
                                  index=frame.index, dtype=object)
        elif kind in ("Int64", "Float64"):
            values = series.astype(object)
            out[name] = values.where(series.notna(), None)
        else:
            out[name] = series.astype(object)  # object text already: the same cells, no copy
    return pd.DataFrame(out, index=frame.index, copy=False)


def _db_from_raw(table: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Rows as read (``pd.read_sql``) -> the same DB form ``_db_frame`` gives, without splitting lists."""
    out = {}
    for name, kind in TABLES[table].items():
        series = frame[name]
        if kind in ("Int64", "Float64"):
            numbers = pd.to_numeric(series).astype("Float64")
            numbers = numbers.round().astype("Int64") if kind == "Int64" else numbers
            out[name] = numbers.astype(object).where(numbers.notna(), None)
        else:
            out[name] = series.astype(object).where(series.notna(), "")
    return pd.DataFrame(out, index=frame.index)


def _long_attributes(stakeholders: pd.DataFrame) -> pd.DataFrame:
    """Attribute columns -> (stakeholder_id, attribute, value) rows; blanks are not stored."""
    names = attribute_columns(stakeholders)
    if not names:
        return pd.DataFrame({"stakeholder_id": [], "attribute": [], "value": []}, dtype=object)
    long = stakeholders[["id", *names]].melt(id_vars="id", var_name="attribute", value_name="value")
    long = long.rename(columns={"id": "stakeholder_id"})
    long["value"] = long["value"].astype(object).where(long["value"].notna(), "").astype(str)
    return long.loc[long["value"] != ""].reset_index(drop=True).astype(object)


def _key_series(table: str, frame: pd.DataFrame) -> pd.Series:
    return _joined_keys(frame, schema.KEYS[table])


#: Below this many keys, rows are found through their first key column (``_key_positions``) instead of joining
#: every row's key into one string: an edit of a few rows then costs what it touches, not the table's size.
_FEW_KEYS = 1_000


def _key_positions(table: str, frame: pd.DataFrame, keys: Any) -> np.ndarray | None:
    """Where each of ``keys`` (joined key strings, ``_key_series``) sits in ``frame``: one position per key, -1
    when absent. Only rows whose first key column holds one of the keys' first parts get a joined key built.
    ``None`` when a key is found twice (the caller's whole-table path decides what that means)."""
    wanted = pd.Index(np.asarray(list(keys), dtype=object), dtype=object)
    if not len(wanted) or not len(frame):
        return np.full(len(wanted), -1, dtype=np.int64)
    columns = schema.KEYS[table]
    firsts = pd.unique(np.asarray([k.split(_KEY_SEP, 1)[0] for k in wanted], dtype=object))
    first = pd.Series(frame[columns[0]].to_numpy(dtype=object), dtype=object, copy=False)
    hit = first.isin(firsts).to_numpy() | first.isna().to_numpy()  # a missing id joins as "nan"/"None"
    near = np.flatnonzero(hit)
    found = _key_series(table, frame.iloc[near]).to_numpy(dtype=object)
    index = pd.Index(found, dtype=object)
    if not index.is_unique:
        inside = index[index.isin(wanted)]
        if not inside.is_unique:
            return None
        keep = index.isin(wanted)
        near, index = near[keep], index[keep]
    at = index.get_indexer(wanted)
    if not len(near):
        return np.full(len(wanted), -1, dtype=np.int64)
    return np.where(at >= 0, near[np.maximum(at, 0)], -1).astype(np.int64)


def _rows_with_keys(table: str, frame: pd.DataFrame, keys: Any) -> np.ndarray:
    """A boolean mask of ``frame``'s rows whose joined key is one of ``keys`` (few keys: see ``_key_positions``)."""
    keys = list(keys)
    if len(keys) >= _FEW_KEYS or not len(frame):
        return _key_series(table, frame).isin(set(keys)).to_numpy() if len(frame) else np.zeros(0, dtype=bool)
    columns = schema.KEYS[table]
    firsts = {k.split(_KEY_SEP, 1)[0] for k in keys}
    first = pd.Series(frame[columns[0]].to_numpy(dtype=object), dtype=object, copy=False)
    near = np.flatnonzero(first.isin(firsts).to_numpy() | first.isna().to_numpy())
    mask = np.zeros(len(frame), dtype=bool)
    mask[near[_key_series(table, frame.iloc[near]).isin(set(keys)).to_numpy()]] = True
    return mask


def _joined_keys(frame: pd.DataFrame, keys: tuple[str, ...] | list[str]) -> pd.Series:
    """Key columns as one object-dtype string per row (object: hash lookups in ``isin`` stay fast)."""
    out = frame[keys[0]].astype(object).map(str).astype(object)
    for key in keys[1:]:
        out = (out + _KEY_SEP + frame[key].astype(object).map(str)).astype(object)
    return out


def _records(frame: pd.DataFrame, **constants: Any) -> list[dict[str, Any]]:
    """Rows as dicts of plain Python values (no numpy scalars, no pd.NA) for executemany."""
    if not len(frame):
        return []
    plain = frame.astype(object)
    plain = plain.where(frame.notna(), None)
    rows = plain.to_dict("records")
    if constants:
        for row in rows:
            row.update(constants)
    return rows


@dataclass(frozen=True)
class _Rows:
    """Rows for one INSERT executemany: column names and plain tuples (dicts through SQLAlchemy's
    per-row parameter processing cost several times more at 100,000s of rows)."""

    columns: tuple[str, ...] = ()
    values: list[tuple] = ()  # type: ignore[assignment]

    def __len__(self) -> int:
        return len(self.values)

    def column(self, name: str) -> list[Any]:
        i = self.columns.index(name)
        return [row[i] for row in self.values]


def _rows(frame: pd.DataFrame, **constants: Any) -> _Rows:
    """``frame`` (plus constant columns) as plain Python tuples, built column by column."""
    if not len(frame):
        return _Rows()
    columns = [*constants, *frame.columns]
    values = [[value] * len(frame) for value in constants.values()]
    for name in frame.columns:
        cells = frame[name].to_numpy(dtype=object)
        missing = pd.isna(cells)
        values.append((np.where(missing, None, cells) if missing.any() else cells).tolist())
    return _Rows(tuple(columns), list(zip(*values, strict=True)))


def _insert(conn: Connection, t: sa.Table, rows: _Rows) -> None:
    """One driver-level executemany; the history triggers still log every row."""
    quote = conn.dialect.identifier_preparer.quote
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    sql = (f"INSERT INTO {quote(t.name)} ({', '.join(quote(c) for c in rows.columns)}) "
           f"VALUES ({', '.join([mark] * len(rows.columns))})")
    conn.exec_driver_sql(sql, rows.values)


@contextlib.contextmanager
def _big_cache(conn: Connection, rows: int) -> Iterator[None]:
    """SQLite: a larger page cache for the duration of a big write (random-order key inserts into the
    primary-key indexes thrash the default 2 MiB cache: 5x slower at 200,000 rows), then the old size."""
    if conn.dialect.name != "sqlite" or rows < 20_000:
        yield
        return
    before = conn.exec_driver_sql("PRAGMA cache_size").scalar()
    conn.exec_driver_sql(f"PRAGMA cache_size = {-min(512 * 1024, 64 + rows // 2)}")  # KiB: ~0.5 KiB a row
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size = {int(before)}")


def _stored_form(final: Project) -> dict[str, pd.DataFrame]:
    """``final`` as the database will hold it: each table in DB form (``_db_frame``) and the attribute rows."""
    out = {table: _db_frame(table, final.table(table).reset_index(drop=True)) for table in TABLES}
    out["attributes"] = _long_attributes(final.stakeholders)
    return out


def _loaded_form(stored: dict[str, pd.DataFrame], settings_json: str, *, name: str) -> Project:
    """What ``load`` returns once ``stored`` (``_stored_form``) is saved: the same conversion from DB form,
    with the settings as they come back from their saved JSON."""
    settings = ProjectSettings.from_dict(json.loads(settings_json or "{}"))
    return _project_from_raw(stored, settings, name=name)


def _write_project(conn: Connection, project_id: str, raw: dict[str, pd.DataFrame], final: Project,
                   *, replace: bool, only: frozenset[str] = frozenset(TABLES),
                   stored: dict[str, pd.DataFrame] | None = None, touched: set[str] | None = None,
                   known: participation_sets.Known = ()) -> None:
    """Make the stored rows equal ``final``, touching only what differs; changed rows get version + 1.

    Inserts and updates run parents first, deletes last and children first: a row re-pointed at a
    new stakeholder is saved before the old one goes, so ON DELETE CASCADE only removes rows that
    ``final`` no longer holds. ``stored``: ``_stored_form(final)`` when the caller has it already.
    ``touched`` (a merge of one table, ``only``): the joined keys of the only rows that may differ (an edit's
    upserts and deletes); the plans then look at those rows alone, so a one-row edit costs one row.
    ``known``: encodings of ``final``'s participation text made while validating it (``validate.Texts.known``).
    """
    stored = stored if stored is not None else {}
    nothing: dict[str, Any] = {"delete": [], "update": [], "insert": _Rows()}
    if touched is not None and (replace or len(only) != 1):
        touched = None
    if touched is not None:
        raw, final, stored = _only_touched(raw, final, stored, next(iter(only)), touched)
    plans = {table: _plan(table, raw[table], final.table(table), project_id, replace=replace,
                          new=stored.get(table), start=_next_seq(raw, table)) if table in only else nothing
             for table in _INSERT_ORDER}
    if "stakeholders" in only:
        long = stored["attributes"] if "attributes" in stored else _long_attributes(final.stakeholders)
        attributes = _attribute_plan(raw["attributes"], long, project_id)
    else:
        attributes = {**nothing, "touched": set()}
    if not replace and attributes["touched"]:
        plans["stakeholders"]["update"] += _rows_for_version_bump(
            raw["stakeholders"], final.stakeholders, attributes["touched"], plans["stakeholders"], project_id)
    size = sum(len(p[op]) for p in plans.values() for op in ("delete", "update", "insert"))
    with _big_cache(conn, size + len(attributes["insert"])):
        _run_plans(conn, plans, attributes, replace=replace)
    _write_participation(conn, project_id, raw, final, plans, replace=replace, only=only, stored=stored,
                         touched=touched if only == {_PARTICIPATION} else None, known=known)


#: ``raw`` key holding, after ``_only_touched``, the largest saved ``seq`` of each table (new rows follow it).
_SEQ_AFTER = "_next_seq"


def _next_seq(raw: dict[str, Any], table: str) -> int:
    if _SEQ_AFTER in raw:
        return int(raw[_SEQ_AFTER][table])
    seq = raw[table]["seq"] if len(raw[table]) else None
    return int(seq.max()) + 1 if seq is not None else 0


def _only_touched(raw: dict[str, Any], final: Project, stored: dict[str, pd.DataFrame], table: str,
                  touched: set[str]) -> tuple[dict[str, Any], Project, dict[str, pd.DataFrame]]:
    """``raw``, ``final`` and ``stored`` cut down to the rows of ``table`` with a ``touched`` key (and, for
    stakeholders, their attribute rows): every other row is the same before and after, so the plans agree.
    Participation keeps its whole saved set (``_write_participation`` diffs only the touched keys)."""
    if table == _PARTICIPATION:
        return raw, final, stored
    saved = raw[table].loc[_rows_with_keys(table, raw[table], touched)].reset_index(drop=True)
    wanted = final.table(table)
    wanted = wanted.loc[_rows_with_keys(table, wanted, touched)].reset_index(drop=True)
    out = {**raw, table: saved, _SEQ_AFTER: {table: _next_seq(raw, table)}}
    if table == "stakeholders":
        ids = set(saved["id"]) | set(wanted["id"])
        attributes = raw["attributes"]
        out["attributes"] = attributes.loc[attributes["stakeholder_id"].isin(ids).to_numpy()].reset_index(drop=True)
        stored = {k: v for k, v in stored.items() if k not in ("attributes", table)}
    return out, Project(**{table: wanted}, settings=final.settings, name=final.name), stored


def _lock_project(conn: Connection, project_id: str) -> None:
    """PostgreSQL: hold the project's row until this transaction ends, so writers of one project queue before they
    read (a participation set is rewritten whole: two overlapping saves would lose one's rows). SQLAlchemy leaves
    FOR UPDATE out on SQLite, where BEGIN IMMEDIATE has already serialised writers."""
    p = schema.METADATA.tables["projects"]
    conn.execute(sa.select(p.c.id).where(p.c.id == str(project_id)).with_for_update())


def _write_participation(conn: Connection, project_id: str, raw: dict[str, pd.DataFrame], final: Project,
                         plans: dict[str, dict[str, Any]], *, replace: bool, only: frozenset[str],
                         stored: dict[str, pd.DataFrame], touched: set[str] | None = None,
                         known: participation_sets.Known = ()) -> None:
    """Participation as one set (``participation_sets.write``: one batch change row): ``final``'s rows when the
    change covers participation, and in every case without the rows of stakeholders and activities this change
    deletes (the cascade SQL no longer does for participation). ``touched``: an edit of participation alone,
    whose only rows that may differ have these joined keys (diffed alone: ``participation_sets.write_keys``).
    ``known``: encodings of the participation text already made (``participation_sets.write`` uses one only for a
    column holding the very cells it was made of)."""
    people = [r["k_id"] for r in plans["stakeholders"]["delete"]]
    events = [r["k_id"] for r in plans["activities"]["delete"]]
    if touched is not None and not replace and _write_touched(conn, project_id, raw[_PARTICIPATION], final, touched):
        return
    if _PARTICIPATION in only:
        before = raw[_PARTICIPATION]
        new = stored.get(_PARTICIPATION)
        new = new if new is not None else _db_frame(_PARTICIPATION, final.participation.reset_index(drop=True))
        rows = _participation_rows(before, new, replace=replace)
    elif people or events:  # only the cascade: done on the stored set itself
        participation_sets.drop_rows(conn, project_id, stakeholders=people, activities=events)
        return
    else:
        return
    if (people or events) and len(rows):
        gone = rows["stakeholder_id"].isin(people).to_numpy() | rows["activity_id"].isin(events).to_numpy()
        rows = rows.loc[~gone]
    participation_sets.write(conn, project_id, rows, before=before, known=known)


def _write_touched(conn: Connection, project_id: str, before: pd.DataFrame, final: Project, touched: set[str]) -> bool:
    """An edit of a few participation rows: the final rows of ``touched`` keys (saved ones keep their seq, new
    ones follow the largest in the final order, as ``_participation_rows`` numbers them) written over the saved
    set by ``participation_sets.write_keys``. False (nothing done) when the saved set is empty or holds a touched
    key twice: the caller's whole-set path handles those."""
    if not len(before):
        return False
    wanted = final.participation
    new = _db_frame(_PARTICIPATION, wanted.loc[_rows_with_keys(_PARTICIPATION, wanted, touched)]
                    .reset_index(drop=True))
    at = _key_positions(_PARTICIPATION, before, _key_series(_PARTICIPATION, new)) if len(new) else np.empty(0, int)
    if at is None:
        return False
    fresh = at < 0
    seq = np.empty(len(new), dtype=np.int64)
    seq[~fresh] = before["seq"].to_numpy(dtype=np.int64)[at[~fresh]]
    start = int(before["seq"].max()) + 1
    seq[fresh] = np.arange(start, start + int(fresh.sum()), dtype=np.int64)
    rows = pd.DataFrame({c: pd.Series(new[c].to_numpy(dtype=object), dtype=object, copy=False)
                         for c in ("stakeholder_id", "activity_id", "notes")}, index=pd.RangeIndex(len(new)), copy=False)
    keys = [tuple(k.split(_KEY_SEP, 1)) for k in touched]
    participation_sets.write_keys(conn, project_id, rows.assign(seq=seq), keys=keys, before=before)
    return True


def _participation_rows(stored: pd.DataFrame, new: pd.DataFrame, *, replace: bool) -> pd.DataFrame:
    """``new`` (DB form, in the final order) with its seq: the incoming order on a first import or a replace; on a
    merge, saved rows keep their seq and new ones follow the largest, in order (as ``_plan`` numbers rows)."""
    frame = pd.DataFrame({c: pd.Series(new[c].to_numpy(dtype=object), dtype=object, copy=False)  # not pandas' str
                          for c in ("stakeholder_id", "activity_id", "notes")}, index=pd.RangeIndex(len(new)), copy=False)
    if replace or not len(stored):
        return frame.assign(seq=np.arange(len(frame), dtype=np.int64))
    old_pairs, new_pairs = participation_sets.pair_codes(stored, frame)
    at = pd.Index(old_pairs).get_indexer(new_pairs)
    fresh = at < 0
    seq = np.empty(len(frame), dtype=np.int64)
    seq[~fresh] = stored["seq"].to_numpy(dtype=np.int64)[at[~fresh]]
    start = int(stored["seq"].max()) + 1
    seq[fresh] = np.arange(start, start + int(fresh.sum()), dtype=np.int64)
    return frame.assign(seq=seq)


def _run_plans(conn: Connection, plans: dict[str, dict[str, Any]], attributes: dict[str, Any], *,
               replace: bool) -> None:
    for table in _INSERT_ORDER:
        t = schema.METADATA.tables[table]
        if plans[table]["insert"]:
            _insert(conn, t, plans[table]["insert"])
        if plans[table]["update"]:
            values: dict[str, Any] = {c: sa.bindparam(c) for c in TABLES[table] if c not in schema.KEYS[table]}
            if replace:
                values["seq"] = sa.bindparam("seq")
            if table in _VERSIONED:
                values["version"] = t.c.version + 1
            conn.execute(t.update().where(_key_clause(t, schema.KEYS[table])).values(values), plans[table]["update"])
        if table == "stakeholders":
            a = schema.METADATA.tables["stakeholder_attributes"]
            if attributes["insert"]:
                _insert(conn, a, attributes["insert"])
            if attributes["update"]:
                conn.execute(a.update().where(_key_clause(a, ("stakeholder_id", "attribute")))
                             .values(value=sa.bindparam("value")), attributes["update"])
    a = schema.METADATA.tables["stakeholder_attributes"]
    if attributes["delete"]:
        conn.execute(a.delete().where(_key_clause(a, ("stakeholder_id", "attribute"))), attributes["delete"])
    for table in reversed(_INSERT_ORDER):
        if plans[table]["delete"]:
            t = schema.METADATA.tables[table]
            conn.execute(t.delete().where(_key_clause(t, schema.KEYS[table])), plans[table]["delete"])


def _key_clause(t: sa.Table, keys: tuple[str, ...]) -> sa.ColumnElement[bool]:
    # "k_" names: UPDATE reserves the column names themselves for the SET values
    return sa.and_(t.c.project_id == sa.bindparam("k_project_id"), *(t.c[k] == sa.bindparam(f"k_{k}") for k in keys))


def _plan(table: str, stored: pd.DataFrame, wanted: pd.DataFrame, project_id: str,
          *, replace: bool, new: pd.DataFrame | None = None, start: int | None = None) -> dict[str, list[dict[str, Any]]]:
    """executemany parameters to delete, update and insert so ``stored`` (DB form) becomes ``wanted``
    (``new``: ``wanted`` in DB form, when the caller has it already). ``start``: the seq of the first new row
    (default: after ``stored``'s largest; given when ``stored`` is only part of the saved rows)."""
    keys = list(schema.KEYS[table])
    new = new if new is not None else _db_frame(table, wanted.reset_index(drop=True))
    if not len(stored):  # nothing saved yet (a first import): every row is new, no diff to work out
        first = 0 if start is None or replace else start
        return {"delete": [], "update": [], "insert": _rows(new.assign(seq=range(first, first + len(new))),
                                                             project_id=project_id)}
    old = _db_from_raw(table, stored)
    old_keys, new_keys = _key_series(table, old), _key_series(table, new)
    gone = ~old_keys.isin(new_keys)
    fresh = ~new_keys.isin(old_keys)
    values = [c for c in TABLES[table] if c not in keys]
    both = new.loc[~fresh]
    if replace:  # the incoming order becomes the stored order
        positions = pd.Series(range(len(new)), index=new.index)
        changed = both.assign(seq=positions[~fresh])
        fresh_seq = positions[fresh]
    else:
        before = _comparable(old.set_index(old_keys)[values].loc[new_keys[~fresh]])
        after = _comparable(both[values])
        changed = both.loc[(before != after).any(axis=1)] if len(both) else both
        start = start if start is not None else int(stored["seq"].max()) + 1 if len(stored) else 0
        fresh_seq = pd.Series(range(start, start + int(fresh.sum())), index=new.index[fresh])
    renamed = {k: f"k_{k}" for k in keys}
    return {
        "delete": _records(old.loc[gone, keys].rename(columns=renamed), k_project_id=project_id),
        "update": _records(changed.rename(columns=renamed), k_project_id=project_id),
        "insert": _rows(new.loc[fresh].assign(seq=fresh_seq), project_id=project_id),
    }


def _comparable(frame: pd.DataFrame) -> Any:
    # pandas' str conversion keeps None missing (and NaN != NaN), so mark missing values first
    return frame.astype(object).where(frame.notna(), "\x00").astype(str).to_numpy()


def _attribute_plan(stored: pd.DataFrame, wanted: pd.DataFrame, project_id: str) -> dict[str, Any]:
    if not len(stored):
        return {"delete": [], "update": [], "insert": _rows(wanted, project_id=project_id),
                "touched": set(wanted["stakeholder_id"])}
    old_keys = _joined_keys(stored, ("stakeholder_id", "attribute"))
    new_keys = _joined_keys(wanted, ("stakeholder_id", "attribute"))
    gone = ~old_keys.isin(new_keys)
    fresh = ~new_keys.isin(old_keys)
    old_values = pd.Series(stored["value"].to_numpy(), index=old_keys.to_numpy())
    changed = ~fresh & (new_keys.map(old_values) != wanted["value"])
    touched = set(stored.loc[gone, "stakeholder_id"]) | set(wanted.loc[fresh | changed, "stakeholder_id"])
    renamed = {"stakeholder_id": "k_stakeholder_id", "attribute": "k_attribute"}
    return {
        "delete": _records(stored.loc[gone, ["stakeholder_id", "attribute"]].rename(columns=renamed),
                           k_project_id=project_id),
        "update": _records(wanted.loc[changed].rename(columns=renamed), k_project_id=project_id),
        "insert": _rows(wanted.loc[fresh], project_id=project_id),
        "touched": touched,
    }


def _rows_for_version_bump(stored: pd.DataFrame, final: pd.DataFrame, touched: set[str],
                           plan: dict[str, list[dict[str, Any]]], project_id: str) -> list[dict[str, Any]]:
    """Stakeholders whose only change is an attribute: rewrite them unchanged so their version moves on."""
    already = {row["k_id"] for row in plan["update"]} | set(plan["insert"].column("id") if plan["insert"] else [])
    ids = (touched - already) & set(stored["id"]) & set(final["id"])
    if not ids:
        return []
    rows = _db_frame("stakeholders", final.loc[final["id"].isin(ids)].reset_index(drop=True))
    return _records(rows.rename(columns={"id": "k_id"}), k_project_id=project_id)


# --- building the project as it would be after a change --------------------------------------------

def _check(project: Project, *, cells_of: Project | None, texts: validate.Texts | None = None) -> list[Problem]:
    """The validator's checks on the whole result; character/length checks only on the rows coming in.
    ``texts``: the encoded-columns cache both share (a column the result and the rows coming in hold alike, as on a
    first import, is encoded once); the caller may write participation from it afterwards."""
    from coprod_map.validate import check_cells, check_project

    texts = texts if texts is not None else validate.Texts()
    problems = check_project(project, cells=False, texts=texts)
    if cells_of is not None:
        for table in TABLES:
            frame = cells_of.table(table)
            if len(frame):
                problems += check_cells(frame.reset_index(drop=True), table=table, texts=texts)
    return problems


def _has_provenance(frame: pd.DataFrame) -> bool:
    return all(c in frame.columns for c in _PROVENANCE)


def _saved_provenance(frame: pd.DataFrame, table: str, *, like: pd.DataFrame) -> pd.DataFrame:
    """Saved rows get a location too when the incoming rows have one, so every problem names a place."""
    if not _has_provenance(like) or not len(frame):
        return frame
    return frame.assign(_file=f"{_TABLE_WORDS[table]} (already saved)", _row=None)


def _merge_rows(table: str, current: pd.DataFrame, incoming: pd.DataFrame) -> pd.DataFrame:
    """Upsert by key: incoming rows replace saved rows in place (keeping saved values of columns the
    incoming frame lacks), new rows go at the end in their incoming order."""
    if not len(incoming):
        return current
    if not len(current):
        return incoming.reset_index(drop=True)
    incoming = incoming.reset_index(drop=True)
    inc_keys = _key_series(table, incoming)
    at = _key_positions(table, current, inc_keys) if len(incoming) < _FEW_KEYS else None
    if at is not None:  # a few rows coming in: only the saved rows holding their keys are looked at
        return _merge_few(table, current, incoming, at)
    cur_keys = _key_series(table, current).to_numpy()
    missing = [c for c in current.columns if c not in incoming.columns and c not in _PROVENANCE]
    if missing:
        saved = current[missing].set_index(pd.Index(cur_keys)).reindex(inc_keys.to_numpy())
        incoming = incoming.assign(**{c: saved[c].to_numpy() for c in missing})
    position = pd.Series(range(len(current)), index=cur_keys)
    order = inc_keys.map(position)
    new = order.isna()
    order[new] = range(len(current), len(current) + int(new.sum()))
    replaced = pd.Series(cur_keys).isin(inc_keys).to_numpy()
    kept = current.loc[~replaced].assign(_order=pd.Series(range(len(current)))[~replaced].to_numpy())
    merged = pd.concat([kept, incoming.assign(_order=order.astype(float))], ignore_index=True)
    merged = merged.sort_values("_order", kind="stable").drop(columns="_order").reset_index(drop=True)
    for name in attribute_columns(merged) if table == "stakeholders" else []:
        merged[name] = merged[name].astype(object).where(merged[name].notna(), "")
    return merged


def _merge_few(table: str, current: pd.DataFrame, incoming: pd.DataFrame, at: np.ndarray) -> pd.DataFrame:
    """``_merge_rows`` when the saved keys are unique where it matters: ``at`` holds each incoming row's position
    in ``current`` (-1: new). The same frame, without a key string or a sort over every saved row."""
    missing = [c for c in current.columns if c not in incoming.columns and c not in _PROVENANCE]
    if missing:  # as the whole path: saved values by key, missing (reindex's NaN) for new keys
        saved = current[missing].reset_index(drop=True).reindex(at)
        incoming = incoming.assign(**{c: saved[c].to_numpy() for c in missing})
    order = at.astype(float)
    new = at < 0
    order[new] = np.arange(len(current), len(current) + int(new.sum()))
    replaced = np.zeros(len(current), dtype=bool)
    replaced[at[~new]] = True
    kept = current.loc[~replaced].assign(_order=np.flatnonzero(~replaced).astype(np.int64))
    merged = pd.concat([kept, incoming.assign(_order=order)], ignore_index=True)
    merged = merged.sort_values("_order", kind="stable").drop(columns="_order").reset_index(drop=True)
    for name in attribute_columns(merged) if table == "stakeholders" else []:
        merged[name] = merged[name].astype(object).where(merged[name].notna(), "")
    return merged


def _merged_settings(settings: ProjectSettings, incoming: Project) -> ProjectSettings:
    """Settings plus the relationship types, activity kinds and attributes an import brings."""
    merged = ProjectSettings.from_dict(settings.to_dict())
    merged.relationship_types += _new_values(incoming.relationships["type"], merged.relationship_types)
    merged.activity_kinds += _new_values(incoming.activities["kind"], merged.activity_kinds)
    named = {str(c.get("name", "")) for c in merged.cycles}
    merged.cycles += [dict(c) for c in incoming.settings.cycles
                      if str(c.get("name", "")).strip() and str(c.get("name", "")) not in named]
    stakeholders = incoming.stakeholders
    for name in attribute_columns(stakeholders):
        if name not in merged.attributes:
            found = _new_values(stakeholders[name], [NOT_RECORDED, PREFER_NOT_TO_SAY])
            merged.attributes[name] = sorted(found, key=str.casefold)
    return merged


def _new_values(series: pd.Series, known: list[str]) -> list[str]:
    values = pd.unique(series.astype(object).where(series.notna(), "").astype(str).str.strip())
    return [v for v in values if v and v not in known]


def _clean_upserts(table: str, upserts: pd.DataFrame | None) -> pd.DataFrame:
    """Edited rows in canonical form; text in a number column is refused here, naming row id and column."""
    if upserts is None or not len(upserts):
        return normalise_frame(table, pd.DataFrame(columns=list(TABLES[table])))
    upserts = upserts.reset_index(drop=True)
    words = _TABLE_WORDS[table]
    missing = [k for k in schema.KEYS[table] if k not in upserts.columns]
    if missing:
        raise EditRejected([Problem(words, None, k, f"the edited rows have no '{k}' column.") for k in missing])
    problems = []
    ids = _key_series(table, upserts.astype({k: str for k in schema.KEYS[table]})).str.replace(_KEY_SEP, " / ")
    for name, kind in TABLES[table].items():
        if kind not in ("Int64", "Float64") or name not in upserts.columns:
            continue
        values = upserts[name].astype(object)
        blank = values.isna() | values.map(lambda v: isinstance(v, str) and not v.strip())
        numbers = pd.to_numeric(values.where(~blank, None), errors="coerce")
        bad = ~blank & numbers.isna()
        problems += [Problem(words, None, name, f"'{i}': '{v}' is not a number.") for i, v in zip(ids[bad], values[bad], strict=True)]
        if kind == "Int64":
            fraction = ~blank & numbers.notna() & (numbers.astype(float) % 1 != 0)
            problems += [Problem(words, None, name, f"'{i}': '{v}' is not a whole number.")
                         for i, v in zip(ids[fraction], values[fraction], strict=True)]
    if problems:
        raise EditRejected(problems)
    return normalise_frame(table, upserts)


def _with_saved(table: str, upserts: pd.DataFrame, saved: pd.DataFrame, *, given: list[str]) -> pd.DataFrame:
    """Core columns the edit did not send take their saved values on rows that exist (new rows keep blanks):
    ``_clean_upserts`` had to add them blank to give the frame its canonical shape."""
    absent = [c for c in TABLES[table] if c not in given]
    if not absent or not len(saved) or not len(upserts):
        return upserts
    keys = _key_series(table, upserts)
    at = _key_positions(table, saved, keys) if len(keys) < _FEW_KEYS else None
    if at is not None:  # a few edited rows: their saved rows found without keying the whole table
        known = at >= 0
        if not known.any():
            return upserts
        aligned = saved[absent].reset_index(drop=True).reindex(at)
    else:
        known = keys.isin(_key_series(table, saved)).to_numpy()
        if not known.any():
            return upserts
        aligned = saved[absent].set_index(_key_series(table, saved).to_numpy()).reindex(keys.to_numpy())
    out = upserts.copy()
    for name in absent:
        column = aligned[name].set_axis(out.index)
        out[name] = column.where(known, out[name]).astype(out[name].dtype)
    return out


def _delete_keys(table: str, deletes: list) -> set[str]:
    keys = schema.KEYS[table]
    out = set()
    for item in deletes:
        parts = (item,) if isinstance(item, str) or not isinstance(item, (tuple, list)) else tuple(item)
        if len(parts) != len(keys):
            raise EditRejected([Problem(_TABLE_WORDS[table], None, None,
                                        f"a row to delete must be given by {' and '.join(keys)}.")])
        out.add(_KEY_SEP.join(str(p) for p in parts))
    return out


# --- history (schema 4): closing actions, reading changes, taking them back ------------------------------

#: What ``undo`` steps back over (exports, snapshots, purges and erasures change no map data, or must not return).
_UNDOABLE = frozenset({"import", "edit", "settings", "rename", "record", "revert", "undo", "retention"})
_NEVER_REVERTED = {"erase": "an erasure is final", "purge": "a purge is final", "export": "it changed no data",
                   "snapshot": "it changed no data", "create": "delete the project instead",
                   "copy": "delete the copy instead", "restore": "delete the restored project instead"}


def _changes_table() -> sa.Table:
    return schema.METADATA.tables["changes"]


def _copied_tables() -> list[sa.Table]:
    """Tables ``copy_project`` copies, in foreign-key order: keyed by ``project_id`` (so not the audit trail,
    change log or named snapshots, whose keys are their own) and holding nothing unique beyond the project
    (a participant link's token must not be shared by two projects)."""
    def copied(t: sa.Table) -> bool:
        unique = [c for c in t.constraints if isinstance(c, sa.UniqueConstraint) and "project_id" not in c.columns]
        return ("project_id" in t.primary_key.columns and not unique
                and t.name not in ("changes", "actions", "participation_sets")  # the set: written with history
                and not t.name.startswith(("history_", "audit_")))
    return [t for t in schema.METADATA.sorted_tables if copied(t)]


def _finish_action(conn: Connection, project_id: str, revision: int) -> None:
    """Write the audit row for the change open on ``conn`` and tie its waiting change rows to it."""
    intent = conn.info.pop(_ACTION, None) or {}
    c, a = _changes_table(), schema.METADATA.tables["actions"]
    waiting = c.c.project_id == project_id, c.c.action_id.is_(None)
    # one pass counts every waiting row by (table, op); only updates are read (their field names), and only
    # when there are any: added/removed rows are counted, never parsed (2,000,000 of them after a big import)
    counted = conn.execute(sa.select(c.c.table_name, c.c.op, sa.func.count()).where(*waiting)
                           .group_by(c.c.table_name, c.c.op)).all()
    batches = [r for r in counted if r[1] == participation_sets.BATCH]
    counted = [r for r in counted if r[1] != participation_sets.BATCH]
    if batches:  # participation (schema 7): one row per save, its counts in ``new``; updates read from the payload
        counted, batch_updates = _batch_counts(conn, waiting, counted)
    else:
        batch_updates = None
    if any(r[1] == "update" for r in counted):
        updates = history.parse_changes(pd.read_sql(
            sa.select(c.c.seq, c.c.table_name, c.c.op, c.c.old, c.c.new).where(*waiting, c.c.op == "update"), conn))
    else:
        updates = history.parse_changes(pd.DataFrame({n: pd.Series([], dtype=object)
                                                      for n in ("seq", "table_name", "op", "old", "new")}))
    if batch_updates is not None and len(batch_updates):
        updates = pd.concat([updates, batch_updates], ignore_index=True) if len(updates) else batch_updates
    added_removed = [(str(t), str(op), int(n)) for t, op, n in counted if op != "update" and int(n)]
    anything = bool(len(updates) or added_removed)
    if not anything and not intent.get("summary"):
        return  # a save that changed nothing (same settings saved again) is not worth an entry
    summary, fields = history.summarise(updates, counts=added_removed)
    if intent.get("summary"):
        summary = intent["summary"] if not anything else f"{intent['summary']}: {summary}"
    kind = intent.get("kind") or _inferred_kind(_with_counted(updates, added_removed))
    result = conn.execute(a.insert().values(
        project_id=project_id, at=_now(), actor=intent.get("actor") or (_ACTOR.get() or LOCAL_USER), kind=kind,
        summary=summary, fields="|".join(fields), revision=int(revision), reverts=intent.get("reverts")))
    if anything:
        conn.execute(c.update().where(*waiting).values(action_id=int(result.inserted_primary_key[0])))


def _batch_counts(conn: Connection, waiting: tuple, counted: list) -> tuple[list, pd.DataFrame]:
    """Participation batch rows waiting on ``conn``: their added/removed counts joined to ``counted`` (``(table,
    op, n)`` triples), and their updates as parsed update rows for ``history.summarise`` (old/new holding only
    what changed, with placeholders: never values): one per row whose notes changed, or a single seq-only row."""
    c = _changes_table()
    found = conn.execute(sa.select(c.c.table_name, c.c.new, c.c.payload).where(
        *waiting, c.c.op == participation_sets.BATCH).order_by(c.c.seq)).all()
    totals: dict[tuple[str, str], int] = {(r[0], r[1]): int(r[2]) for r in counted}
    frames = []
    for table, new, payload in found:
        numbers = json.loads(new or "{}")
        for op in ("insert", "delete"):
            if int(numbers.get(op, 0)):
                totals[(table, op)] = totals.get((table, op), 0) + int(numbers[op])
        if int(numbers.get("update", 0)) and payload is not None:
            diff = participation_sets.decode(bytes(payload))
            diff = diff.loc[diff["op"] == "update"]
            notes = (diff["old_notes"].to_numpy(dtype=object) != diff["new_notes"].to_numpy(dtype=object))
            keys = (diff["stakeholder_id"].astype(object) + " / " + diff["activity_id"].astype(object)).to_numpy()
            if notes.any():
                old, new_ = [{"notes": "a"}] * int(notes.sum()), [{"notes": "b"}] * int(notes.sum())
                chosen = keys[notes]
            else:  # only the order moved: bookkeeping, which summarise leaves out
                old, new_, chosen = [{"seq": 0}], [{"seq": 1}], keys[:1]
            frames.append(pd.DataFrame({"seq": -1, "table_name": table, "op": "update", "old": old, "new": new_,
                                        "key": pd.Series(chosen, dtype=object), "erased": False}))
    updates = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return [(t, op, n) for (t, op), n in totals.items()], updates


def _with_counted(updates: pd.DataFrame, counted: list) -> pd.DataFrame:
    """The tables ``_inferred_kind`` looks at: those of the parsed update rows and of the counted added/removed rows
    (``(table, op, n)`` triples, summarised by number: ``history.summarise(..., counts=)``), one row per table."""
    names = [*(updates["table_name"].unique() if len(updates) else ()), *(r[0] for r in counted)]
    return pd.DataFrame({"table_name": pd.Series(list(dict.fromkeys(names)), dtype=object)})


def _inferred_kind(pending: pd.DataFrame) -> str:
    tables = set(pending["table_name"])
    if tables and all(t.startswith("record_") for t in tables):
        return "record"
    if tables == {"projects"}:
        return "settings"
    return "edit"


def _rows_changed(conn: Connection, *where: sa.ColumnElement[bool]) -> int:
    """Rows changed by the change rows matching ``where``: one per row written before schema 7 or for another
    table, and for each participation batch the counts it keeps beside its diff."""
    c = _changes_table()
    plain = conn.execute(sa.select(sa.func.count()).where(*where, c.c.op != participation_sets.BATCH)).scalar()
    batches = conn.execute(sa.select(c.c.new).where(*where, c.c.op == participation_sets.BATCH)).scalars().all()
    return int(plain or 0) + sum(sum(int(json.loads(n or "{}").get(op, 0)) for op in participation_sets.OPS)
                                 for n in batches)


def _forget_project(conn: Connection, project_id: str, *, actor: str) -> None:
    """A deleted project's history and snapshots go too; one project-less audit row says it happened."""
    c, a = _changes_table(), schema.METADATA.tables["actions"]
    s = schema.METADATA.tables["named_snapshots"]
    conn.execute(c.delete().where(c.c.project_id == project_id))
    conn.execute(s.delete().where(s.c.project_id == project_id))
    entries = conn.execute(a.delete().where(a.c.project_id == project_id)).rowcount
    conn.execute(a.insert().values(project_id="", at=_now(), actor=actor, kind="delete project", fields="",
                                   summary=f"project {project_id} deleted with its {entries:,} history entries",
                                   revision=0))


def _actions_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Typed audit rows plus ``undone_by``: the action that took this one back and is itself still in effect."""
    out = frame.astype({"at": object, "actor": object, "kind": object, "summary": object})
    out["id"] = out["id"].astype(int)
    out["revision"] = out["revision"].astype(int)
    out["reverts"] = pd.to_numeric(out["reverts"]).astype("Int64")
    out["purged"] = out["purged"].astype(bool)
    out["fields"] = pd.Series([[f for f in str(v or "").split("|") if f] for v in out["fields"]], index=out.index,
                              dtype=object)
    reverters: dict[int, list[int]] = {}
    for action, target in zip(out["id"], out["reverts"], strict=True):
        if target is not pd.NA:
            reverters.setdefault(int(target), []).append(int(action))
    memo: dict[int, int | None] = {}

    def undone_by(action: int) -> int | None:  # the latest reverter still in effect, if any
        if action not in memo:
            memo[action] = None
            for reverter in sorted(reverters.get(action, []), reverse=True):
                if undone_by(reverter) is None:
                    memo[action] = reverter
                    break
        return memo[action]

    out["undone_by"] = pd.array([undone_by(int(i)) for i in out["id"]], dtype="Int64")
    return out


def _why_not_revertable(action: sa.Row) -> str:
    if action.purged:
        return "its details were purged under the project's retention date."
    reason = _NEVER_REVERTED.get(action.kind)
    return f"entries of this kind ({action.kind}) cannot be taken back: {reason}." if reason else ""


def _typed_row(table: str, row: dict[str, Any], *, project_id: str) -> dict[str, Any]:
    """A history/snapshot row ready to insert: only the table's columns, booleans as bool."""
    t = schema.METADATA.tables[table]
    out = {"project_id": project_id}
    for column in t.columns:
        if column.name == "project_id" or column.name not in row:
            continue
        value = row[column.name]
        out[column.name] = bool(value) if isinstance(column.type, sa.Boolean) and value is not None else value
    return out


def _plain_rows(conn: Connection, table: str, project_id: str) -> list[dict[str, Any]]:
    if table == _PARTICIPATION:  # the set, as the rows the table held before schema 7 (older snapshots' form)
        frame = participation_sets.read(conn, project_id)
        return [{"stakeholder_id": s, "activity_id": a, "seq": int(q), "notes": n} for s, a, q, n in zip(
            frame["stakeholder_id"], frame["activity_id"], frame["seq"].tolist(), frame["notes"], strict=True)]
    t = schema.METADATA.tables[table]
    return [{k: v for k, v in r.items() if k != "project_id"}
            for r in conn.execute(sa.select(t).where(t.c.project_id == project_id)).mappings()]
