"""The co-production record in the database: load it, edit one table, import a whole record.

Functions take a :class:`coprod_map.store.Store` and use its transaction helpers, so every change
runs in ONE transaction (SQLite ``BEGIN IMMEDIATE``), is checked before a single row is written
(``EditRejected``/``ImportRejected`` name table, row id and column; nothing is written), and moves the
project's revision on by one, exactly like the map's own edits. Changed rows get ``version + 1``.

No lost updates, as on the map (``coprod_map.conflicts``): an editor remembers ``record_versions`` when it is
built and passes them as ``expected_versions``; a row it changes or deletes that someone else changed, deleted
or added meanwhile raises ``EditConflict`` inside the saving transaction, under the project's row lock, and
nothing is written. A row is named by its key (``"N1 / a1"`` for two-column keys, as the audit trail does).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from coprod_map import conflicts, schema
from coprod_map.conflicts import Conflict, EditConflict, find_conflicts
from coprod_map.errors import EditRejected, ImportRejected, Problem
from coprod_map.model import Project, ProjectSettings
from coprod_map.record import (
    ID_PREFIX,
    RECORD_KEYS,
    RECORD_TABLES,
    TABLE_WORDS,
    Record,
    check_record,
    check_table,
    cycle_names,
    normalise_record_frame,
    record_rows,
)
from coprod_map.store import Store

__all__ = ["RecordConflict", "apply_record_edits", "import_record", "import_with_record", "load_record", "record_table",
           "record_versions"]

_SEP = "\x1f"
#: Parents first (need_met points at needs).
_ORDER = tuple(RECORD_TABLES)


def _sql(table: str) -> sa.Table:
    return schema.METADATA.tables[schema.RECORD_SQL_TABLES[table]]


def _read_table(conn: Connection, project_id: str, table: str) -> pd.DataFrame:
    t = _sql(table)
    query = sa.select(*(t.c[c] for c in RECORD_TABLES[table])).where(t.c.project_id == project_id).order_by(t.c.seq)
    return normalise_record_frame(table, pd.read_sql(query, conn))


def _ids(conn: Connection, project_id: str, table: str, column: str = "id") -> list[str]:
    t = schema.METADATA.tables[table]
    return [str(v) for v in conn.execute(sa.select(t.c[column]).where(t.c.project_id == project_id)).scalars()]


def _settings(row: sa.Row) -> ProjectSettings:
    return ProjectSettings.from_dict(json.loads(row.settings or "{}"))


def load_record(store: Store, project_id: str) -> Record:
    """The project's whole record (raises ``ProjectNotFound`` for an unknown id)."""
    with store._read() as conn:
        store._project_row(conn, project_id)
        return Record(**{table: _read_table(conn, project_id, table) for table in RECORD_TABLES})


def record_table(store: Store, project_id: str, table: str) -> pd.DataFrame:
    """One table of the record."""
    _known(table)
    with store._read() as conn:
        store._project_row(conn, project_id)
        return _read_table(conn, project_id, table)


def record_versions(store: Store, project_id: str, table: str) -> pd.DataFrame:
    """The key columns and ``version`` of every row of record ``table``: what an editor remembers when built."""
    _known(table)
    t = _sql(table)
    keys = RECORD_KEYS[table]
    with store._read() as conn:
        store._project_row(conn, project_id)
        frame = pd.read_sql(sa.select(*(t.c[k] for k in keys), t.c.version).where(t.c.project_id == project_id)
                            .order_by(t.c.seq), conn)
    return frame.astype({**{k: object for k in keys}, "version": int})


@dataclass(frozen=True)
class RecordConflict(Conflict):
    """A conflict on a row of the record, worded with the record's own name for the row ("Decision 'D1' ...")."""

    def describe(self) -> str:
        """
        >>> RecordConflict("decisions", "D1", "changed", 1, 2, "ann", "2026-05-01T10:02:00").describe()
        "Decision 'D1' was changed by ann at 2026-05-01 10:02 (UTC)."
        """
        word = TABLE_WORDS[self.table][1].capitalize() if self.table in TABLE_WORDS else self.table
        return Conflict(word, self.id, self.what, self.expected, self.current, self.by, self.at).describe()


def _key_names(table: str, frame: pd.DataFrame) -> pd.Series:
    """Each row's key in the audit trail's words: ``D1``, or ``N1 / a1`` for a two-column key."""
    keys = RECORD_KEYS[table]
    out = frame[keys[0]].astype(object).map(str).astype(object)
    for key in keys[1:]:
        out = (out + " / " + frame[key].astype(object).map(str)).astype(object)
    return out


def _version_frame(table: str, versions: pd.DataFrame | Mapping) -> pd.DataFrame:
    """``record_versions``' frame (key columns and ``version``), or ``{key: version}`` with a tuple for a two-column
    key -> the ``id``/``version`` frame ``coprod_map.conflicts`` compares."""
    if isinstance(versions, pd.DataFrame):
        keys = RECORD_KEYS[table]
        if "version" not in versions or not all(k in versions for k in keys):
            raise ValueError(f"expected_versions for {table} needs columns {', '.join((*keys, 'version'))}")
        return pd.DataFrame({"id": _key_names(table, versions).to_numpy(), "version": versions["version"].to_numpy()})
    names = [" / ".join(map(str, k)) if isinstance(k, (tuple, list)) else str(k) for k in versions]
    return pd.DataFrame({"id": pd.Series(names, dtype=object), "version": list(versions.values())})


def _check_versions(conn: Connection, project_id: str, table: str, expected: pd.DataFrame | Mapping,
                    touched: Iterable[str]) -> None:
    """Inside the saving transaction: lock the project row, compare, raise ``EditConflict`` naming each row."""
    p = schema.METADATA.tables["projects"]
    # Every versioned save of this project queues behind this one (FOR UPDATE on PostgreSQL; SQLite's
    # BEGIN IMMEDIATE has already serialised writers, and SQLAlchemy leaves FOR UPDATE out there).
    conn.execute(sa.select(p.c.id).where(p.c.id == project_id).with_for_update())
    touched = list(dict.fromkeys(touched))
    if not touched:
        return
    t = _sql(table)
    saved = pd.read_sql(sa.select(*(t.c[k] for k in RECORD_KEYS[table]), t.c.version)
                        .where(t.c.project_id == project_id), conn)
    found = find_conflicts(_version_frame(table, expected), _version_frame(table, saved), touched)
    if not len(found):
        return
    authors = conflicts._authors(conn, project_id, schema.RECORD_SQL_TABLES[table], found["id"].tolist())
    authors = authors.set_index("key")
    raise EditConflict([
        RecordConflict(table=table, id=str(i), what=str(w), expected=None if pd.isna(e) else int(e),
                       current=None if pd.isna(c) else int(c), by=str(authors["by"].get(i, "")),
                       at=str(authors["at"].get(i, "")))
        for i, w, e, c in zip(found["id"], found["what"], found["expected"], found["current"], strict=True)
    ])


def _known(table: str) -> None:
    if table not in RECORD_TABLES:
        raise EditRejected([Problem("edit", None, None,
                                    f"'{table}' is not a table of the record. Expected one of: {', '.join(RECORD_TABLES)}.")])


def _keys(table: str, frame: pd.DataFrame) -> pd.Series:
    keys = RECORD_KEYS[table]
    out = frame[keys[0]].astype(object).map(str).astype(object)
    for key in keys[1:]:
        out = (out + _SEP + frame[key].astype(object).map(str)).astype(object)
    return out


def _delete_keys(table: str, deletes: list) -> list[tuple[str, ...]]:
    keys = RECORD_KEYS[table]
    out = []
    for item in deletes:
        parts = (item,) if isinstance(item, str) or not isinstance(item, (tuple, list)) else tuple(item)
        if len(parts) != len(keys):
            raise EditRejected([Problem(TABLE_WORDS[table][0], None, None,
                                        f"a row to delete must be given by {' and '.join(keys)}.")])
        out.append(tuple(str(p) for p in parts))
    return out


def _with_saved_values(table: str, upserts: pd.DataFrame, current: pd.DataFrame) -> pd.DataFrame:
    """Columns missing from ``upserts`` keep their saved values on existing rows (blank on new ones)."""
    missing = [c for c in RECORD_TABLES[table] if c not in upserts.columns]
    if not missing or not len(current):
        return upserts
    saved = current.set_index(_keys(table, current).to_numpy())
    keys = _keys(table, upserts.astype({k: str for k in RECORD_KEYS[table]}))
    filled = upserts.copy()
    for column in missing:
        filled[column] = pd.Series(saved[column].reindex(keys.to_numpy()).to_numpy(), index=upserts.index, dtype=object)
    return filled


def apply_record_edits(
    store: Store,
    project_id: str,
    table: str,
    *,
    upserts: pd.DataFrame | None = None,
    deletes: list | None = None,
    expected_versions: pd.DataFrame | Mapping | None = None,
    actor: str | None = None,
) -> int:
    """Upsert whole rows of record ``table`` and delete rows by key, as one checked change.

    Keys are :data:`coprod_map.record.RECORD_KEYS` (``id`` for most; ``(need_id, activity_id)``,
    ``cycle``, ``(cycle, kind)``). Stakeholder, activity, need, cycle and component names must exist;
    coded values, numbers and dates must be valid. Returns the project's revision (moved on by one
    when anything changed). Deleting a need removes whether it was met at each activity too.

    ``expected_versions``: the ``record_versions`` the editor was built from (or ``{key: version}``). A row being
    changed or deleted that someone else changed, deleted or added since raises ``EditConflict`` naming the
    row, who and when, and nothing is written. ``actor``: who the audit trail names (else ``acting_as``'s).
    """
    _known(table)
    delete_keys = _delete_keys(table, deletes or [])
    raw = pd.DataFrame(columns=list(RECORD_TABLES[table])) if upserts is None else upserts.reset_index(drop=True)
    raw = raw[[c for c in raw.columns if not str(c).startswith("_")]]
    missing_keys = [k for k in RECORD_KEYS[table] if k not in raw.columns and len(raw)]
    if missing_keys:
        raise EditRejected([Problem(TABLE_WORDS[table][0], None, k, f"the edited rows have no '{k}' column.")
                            for k in missing_keys])
    from coprod_map.components import COMPONENTS

    with store._write() as conn:
        row = store._project_row(conn, project_id)
        if expected_versions is not None:  # first, under the project's lock: no save can slip in between
            touched = [*(_key_names(table, raw) if len(raw) else []), *(" / ".join(k) for k in delete_keys)]
            _check_versions(conn, project_id, table, expected_versions, touched)
        current = _read_table(conn, project_id, table)
        if len(raw):
            filled = _with_saved_values(table, raw, current)
            needs = _read_table(conn, project_id, "needs")["id"].tolist() if table == "need_met" else []
            problems = check_table(
                table, filled,
                stakeholder_ids=_ids(conn, project_id, "stakeholders"),
                activity_ids=_ids(conn, project_id, "activities"),
                cycles=cycle_names(_settings(row)), need_ids=needs,
                components=[c.key for c in COMPONENTS],
            )
            if problems:
                raise EditRejected(problems)
            incoming = normalise_record_frame(table, filled)
        else:
            incoming = normalise_record_frame(table, raw)
        changed = _write(conn, project_id, table, current, incoming, delete_keys)
        if not changed:
            return int(row.revision)
        _intend(store, conn, "edit", f"edited the record: {TABLE_WORDS[table][0].lower()}", actor=actor)
        return store._bump(conn, project_id)


def _write(conn: Connection, project_id: str, table: str, current: pd.DataFrame, incoming: pd.DataFrame,
           delete_keys: list[tuple[str, ...]]) -> bool:
    """Delete, update (version + 1) and insert so the stored table takes the edit. True when anything changed."""
    t = _sql(table)
    keys = RECORD_KEYS[table]
    key_clause = sa.and_(t.c.project_id == sa.bindparam("k_project_id"), *(t.c[k] == sa.bindparam(f"k_{k}") for k in keys))
    incoming_keys = set(_keys(table, incoming)) if len(incoming) else set()
    saved_keys = _keys(table, current)
    gone = [k for k in delete_keys if _SEP.join(k) in set(saved_keys) and _SEP.join(k) not in incoming_keys]
    if gone:
        conn.execute(t.delete().where(key_clause),
                     [{"k_project_id": project_id, **{f"k_{c}": v for c, v in zip(keys, k, strict=True)}} for k in gone])
    if not len(incoming):
        return bool(gone)
    new = record_rows(table, incoming)
    new_keys = _keys(table, incoming)
    old = record_rows(table, current).set_index(saved_keys.to_numpy()) if len(current) else None
    exists = new_keys.isin(set(saved_keys)).to_numpy()
    values = [c for c in RECORD_TABLES[table] if c not in keys]
    updates: list[dict[str, Any]] = []
    if exists.any() and old is not None:
        before = old.loc[new_keys[exists].to_numpy(), values].astype(str).to_numpy()
        after = new.loc[exists, values].astype(str).to_numpy()
        differs = (before != after).any(axis=1)
        for record in new.loc[exists].loc[differs].to_dict("records"):
            updates.append({**{c: record[c] for c in values}, "k_project_id": project_id,
                            **{f"k_{k}": record[k] for k in keys}})
    if updates:
        conn.execute(t.update().where(key_clause).values({**{c: sa.bindparam(c) for c in values},
                                                          "version": t.c.version + 1}), updates)
    inserts = new.loc[~exists].to_dict("records")
    if inserts:
        start = int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(t.c.seq), -1))
                                 .where(t.c.project_id == project_id)).scalar_one()) + 1
        for i, record in enumerate(inserts):
            record.update(project_id=project_id, seq=start + i)
        conn.execute(t.insert(), inserts)
    return bool(gone or updates or inserts)


def import_record(store: Store, project_id: str, record: Record, *, replace: bool = True) -> int:
    """Save a whole record (``replace``: instead of the saved one; else rows upserted by key) in one transaction.

    Checked against the project's stakeholders, activities and review cycles first; ``ImportRejected``
    carries every problem and nothing is written.
    """
    with store._write() as conn:
        row = store._project_row(conn, project_id)
        _save_record(conn, project_id, record, settings=_settings(row), replace=replace, tables=tuple(RECORD_TABLES))
        _intend(store, conn, "import", "imported the co-production record")
        return store._bump(conn, project_id)


def import_with_record(store: Store, project_id: str, project: Project, record: Record | None, *,
                       tables: tuple[str, ...] = tuple(RECORD_TABLES), replace: bool = False,
                       actor: str | None = None, loaded: Callable[[int, Project], None] | None = None) -> int:
    """Import the map and (when not None) its record in ONE transaction: refused anywhere, nothing is saved.

    ``tables`` are the record tables the import holds (``Staged.record_tables``): only those are replaced
    (``replace``) or upserted; the others stay as saved. Returns the project's new revision. ``loaded``: see
    ``Store.import_project`` (called after the commit with the revision and the map as ``load`` would give it).
    """
    if record is None or not tables:
        return store.import_project(project_id, project, replace=replace, actor=actor, loaded=loaded)

    def then(conn: Connection, settings: ProjectSettings) -> None:
        _save_record(conn, project_id, record, settings=settings, replace=replace, tables=tables)

    return store.import_project(project_id, project, replace=replace, actor=actor, then=then, loaded=loaded)


def _save_record(conn: Connection, project_id: str, record: Record, *, settings: ProjectSettings, replace: bool,
                 tables: tuple[str, ...]) -> None:
    """Check ``record`` against what ``conn`` sees now, then write its ``tables`` (raises ``ImportRejected``)."""
    stakeholder_ids = _ids(conn, project_id, "stakeholders")
    activity_ids = _ids(conn, project_id, "activities")
    chosen = Record(**{t: record.table(t) for t in tables})
    problems = check_record(chosen, stakeholder_ids=stakeholder_ids, activity_ids=activity_ids, settings=settings)
    if len(chosen.need_met) and (not replace or "needs" not in tables):  # rows may point at needs already saved
        saved_needs = set(_read_table(conn, project_id, "needs")["id"]) | set(chosen.needs["id"].astype(str))
        problems = [p for p in problems if not (p.column == "need_id" and _need_ok(p, saved_needs))]
    if problems:
        raise ImportRejected(problems)
    normalised = chosen.normalised()
    if replace:
        for table in reversed(_ORDER):
            if table in tables:
                t = _sql(table)
                conn.execute(t.delete().where(t.c.project_id == project_id))
    for table in _ORDER:
        if table in tables:
            current = _read_table(conn, project_id, table)
            _write(conn, project_id, table, current, normalised.table(table), [])


def _intend(store: Store, conn: Connection, kind: str, summary: str, *, actor: str | None = None) -> None:
    """Tell the store's audit trail what this change is, where the store keeps one (the history work)."""
    intend = getattr(store, "_intend", None)
    if intend is not None:
        intend(conn, kind, actor, summary=summary)


def _need_ok(problem: Problem, saved: set[str]) -> bool:
    return any(f"'{need}' is not a known need id" in problem.message for need in saved)


def next_record_ids(existing: pd.Series | list[str], table: str, n: int) -> list[str]:
    """``n`` new ids for ``table`` (``D1``, ``D2`` ... for decisions), after the highest used."""
    from coprod_map.editing import next_ids

    return next_ids(existing, ID_PREFIX[table], n)


__all__ += ["next_record_ids"]
