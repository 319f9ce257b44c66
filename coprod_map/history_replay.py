"""Undo, revert and time travel at scale: the change log read once for all tables, replayed as whole frames.

An import of 20,000 stakeholders and 60,000 ties leaves about 180,000 change rows. Parsing each one into a
dict and restoring it row by row took tens of seconds, so here:

- the database takes each row's key out of its JSON (``json_extract`` in SQLite, ``jsonb_extract_path_text``
  in PostgreSQL), so rows are grouped, matched and deduplicated as pandas columns, and only the JSON that is
  really needed is parsed, in one ``json.loads`` per table;
- the change rows of every table an entry touched are read in ONE query (``tables_changes``), and only what is
  needed: for a revert, each row's JSON before and whether it has one after (not the JSON after itself);
- "is every row still as the entry left it?" is first asked of the change log (``changed_since``): the triggers
  log every change, so a row no later change row names is as the entry left it. Only rows named later (or every
  row, after an erasure or a purge, or when later rows are too many) are read from the database and compared,
  column by column, with the JSON after (read for those rows alone). Undoing the latest import compares none;
- rows go back with one ``executemany`` per table and kind of step (parents first for inserts, children
  first for deletes, so foreign keys hold at every step);
- "did the restore take other rows with it?" is a count of the change rows the restore wrote, per table;
  only when a count is off are those rows read to name them.

A change whose values were erased (a tombstone) has no key: ``erased`` is True. These functions read and
write inside the caller's transaction; ``coprod_map.store`` closes the change (``_bump``).

Participation (schema 7) is kept as one set per project (``coprod_map.participation_sets``), with no row table
and no triggers: a save that changes it writes ONE change row (op "batch") whose Parquet payload holds every
row added, changed or removed. ``participation_changes`` reads those together with the JSON rows written
before schema 7, as one columnar frame ordered by ``changes.seq``; time travel, revert and the checks below
work on it as columns, and a revert writes the restored set back through ``participation_sets.write`` (one
batch). Participation no longer cascades in SQL, so ``unplanned`` checks it explicitly: a restore that would
leave a participation row pointing at a stakeholder or activity that is gone is refused.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from coprod_map import history, participation_sets, schema

__all__ = ["CHANGED_SINCE_ROWS", "MAX_NAMED", "apply_plan", "blocking", "changed_since", "parse_rows",
           "participation_changes", "payload_rows", "plan_revert", "rewind_tables", "rows_before", "table_changes",
           "tables_changes", "unplanned"]

#: How many rows a refusal names before it says "and N more".
MAX_NAMED = 20


def _changes() -> sa.Table:
    return schema.METADATA.tables["changes"]


def _key_exprs(conn: Connection, table: str) -> list[sa.ColumnElement]:
    """The key columns of ``table`` read from each change row's JSON (the row after, else before), as k0, k1..."""
    return [_key_expr(conn, name).label(f"k{i}") for i, name in enumerate(history.KEY_COLUMNS[table])]


def _key_expr(conn: Connection, name: Any) -> sa.ColumnElement:
    """One field of each change row's JSON (the row after, else before); ``name`` a column name or an expression
    giving one."""
    c = _changes()
    doc = sa.func.coalesce(c.c.new, c.c.old)
    if conn.dialect.name == "sqlite":
        return sa.func.json_extract(doc, f"$.{name}" if isinstance(name, str) else "$." + name)
    from sqlalchemy.dialects.postgresql import JSONB

    return sa.func.jsonb_extract_path_text(sa.cast(doc, JSONB), name)


def _driver_sql(conn: Connection, statement: sa.Executable) -> tuple[str, Any]:
    """The statement as the database driver's SQL and its parameters (positional or named, as the driver wants)."""
    compiled = statement.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})  # IN lists too
    params = compiled.construct_params()
    if compiled.positional:
        return str(compiled), tuple(params[name] for name in compiled.positiontup or ())
    return str(compiled), params


def driver_rows(conn: Connection, query: sa.Select, *, rewrite: Callable[[str], str] | None = None) -> list[tuple]:
    """A select's rows as the driver gives them, from its own cursor on this connection and transaction (no
    SQLAlchemy row objects). ``rewrite`` may edit the driver's SQL text (the parameters stay as they are)."""
    sql, params = _driver_sql(conn, query)
    return driver_fetch(conn, rewrite(sql) if rewrite is not None else sql, params)


def driver_fetch(conn: Connection, sql: str, params: Any) -> list[tuple]:
    """Rows of driver-level SQL on this connection and transaction (no SQLAlchemy row objects)."""
    cursor = conn.connection.cursor()
    try:
        cursor.execute(sql, params)
        return cursor.fetchall()
    finally:
        cursor.close()


def read_frame(conn: Connection, query: sa.Select) -> pd.DataFrame:
    """``pd.read_sql`` without SQLAlchemy's per-row objects: straight from the driver's cursor, object columns
    (three times quicker at 100,000 rows; same transaction, same connection)."""
    rows = driver_rows(conn, query)
    names = [c.name for c in query.selected_columns]
    if not rows:
        return pd.DataFrame({n: pd.Series([], dtype=object) for n in names})
    grid = np.empty((len(rows), len(names)), dtype=object)
    grid[:] = rows  # row tuples into one object grid: four times quicker than zip(*rows) at a million rows
    return pd.DataFrame({n: pd.Series(grid[:, i], dtype=object) for i, n in enumerate(names)})


def _executemany(conn: Connection, statement: sa.Executable, rows: list[dict[str, Any]]) -> None:
    """executemany straight on the driver (SQLAlchemy's per-row parameter processing cost seconds here)."""
    if not rows:
        return
    compiled = statement.compile(dialect=conn.dialect, column_keys=list(rows[0]))
    cursor = conn.connection.cursor()
    try:
        if compiled.positional:
            order = compiled.positiontup or ()
            cursor.executemany(str(compiled), [tuple(r[name] for name in order) for r in rows])
        else:
            cursor.executemany(str(compiled), rows)
    finally:
        cursor.close()


def payload_rows(payload: bytes) -> int:
    """How many rows a Parquet payload (a participation batch's diff) holds, read from its footer (nothing decoded)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    return int(pq.ParquetFile(pa.BufferReader(payload)).metadata.num_rows)


def rows_before(conn: Connection, condition: Any, seqs: list[int]) -> list[int]:
    """For each of ``seqs`` (ascending), how many change rows matching ``condition`` come before it: one count
    each for a few, else the matching rows' seqs read once."""
    c = _changes()
    if len(seqs) <= 8:
        return [int(conn.execute(sa.select(sa.func.count()).where(condition, c.c.seq < int(s))).scalar() or 0)
                for s in seqs]
    found = np.sort(np.asarray([r[0] for r in driver_rows(conn, sa.select(c.c.seq).where(condition))], dtype=np.int64))
    return np.searchsorted(found, np.asarray(seqs, dtype=np.int64), side="left").tolist()


def _text(series: pd.Series) -> pd.Series:
    """Object dtype on purpose: pandas' ``str`` dtype makes ``isin`` a Python loop (seconds at 100,000 rows)."""
    return pd.Series(series.to_numpy(dtype=object), index=series.index, dtype=object)


def _joined(frame: pd.DataFrame, columns: list[str]) -> pd.Series:
    """Key parts (text) joined the way ``coprod_map.history`` writes a key (``a / b``)."""
    out = _text(frame[columns[0]]).fillna("")
    for name in columns[1:]:
        out = out + " / " + _text(frame[name]).fillna("")
    return out


def table_changes(conn: Connection, project_id: str, table: str, condition: Any,
                  *, values: tuple[str, ...] = ("old", "new"), present: tuple[str, ...] = ()) -> pd.DataFrame:
    """Change rows of one table matching ``condition``, oldest first: seq, action_id, op, k0.., key, erased and
    the JSON texts asked for (None when absent); for each of ``present``, ``has_<name>``: whether that JSON is
    there (without reading it). Not for ``projects`` (it has no key)."""
    c = _changes()
    keys = _key_exprs(conn, table)
    flags = [c.c[v].is_not(None).label(f"has_{v}") for v in present]
    query = (sa.select(c.c.seq, c.c.action_id, c.c.op, *keys, *(c.c[v] for v in values), *flags)
             .where(c.c.project_id == project_id, c.c.table_name == table, condition).order_by(c.c.seq))
    return _finish_changes(read_frame(conn, query), len(keys), values, [f.name for f in flags])


def tables_changes(conn: Connection, project_id: str, tables: list[str], condition: Any, *,
                   values: tuple[str, ...] = ("old", "new"), present: tuple[str, ...] = ()
                   ) -> dict[str, pd.DataFrame]:
    """``table_changes`` of several tables in ONE read of the change log (each table's key fields picked by
    table name inside the query): reading an import's million change rows once, not once per table."""
    tables = list(dict.fromkeys(tables))
    if len(tables) <= 1:
        return {t: table_changes(conn, project_id, t, condition, values=values, present=present) for t in tables}
    c = _changes()
    width = max(len(history.KEY_COLUMNS[t]) for t in tables)
    keys = []
    for i in range(width):
        names = {t: history.KEY_COLUMNS[t][i] for t in tables if len(history.KEY_COLUMNS[t]) > i}
        keys.append(_key_expr(conn, sa.case(names, value=c.c.table_name, else_=sa.null())).label(f"k{i}"))
    flags = [c.c[v].is_not(None).label(f"has_{v}") for v in present]
    query = (sa.select(c.c.table_name, c.c.seq, c.c.action_id, c.c.op, *keys, *(c.c[v] for v in values), *flags)
             .where(c.c.project_id == project_id, c.c.table_name.in_(tables), condition).order_by(c.c.seq))
    frame = read_frame(conn, query)
    codes, found = pd.factorize(frame["table_name"].to_numpy(dtype=object))
    out = {}
    for table in tables:
        width = len(history.KEY_COLUMNS[table])
        at = np.flatnonzero(codes == list(found).index(table)) if table in set(found) else np.arange(0)
        part = frame.iloc[at].drop(columns=["table_name", *(f"k{i}" for i in range(width, len(keys)))])
        out[table] = _finish_changes(part.reset_index(drop=True), width, values, [f.name for f in flags])
    return out


def _finish_changes(frame: pd.DataFrame, width: int, values: tuple[str, ...], flags: list[str]) -> pd.DataFrame:
    names = [f"k{i}" for i in range(width)]
    for name in (*names, *values, "op"):
        frame[name] = _text(frame[name]).where(frame[name].notna(), None)
    for flag in flags:
        frame[flag] = frame[flag].to_numpy(dtype=object).astype(bool)
    frame["erased"] = frame[names[0]].isna()
    frame["key"] = _joined(frame, names).where(~frame["erased"], None)
    return frame


def parse_rows(texts: pd.Series) -> pd.DataFrame:
    """JSON row texts -> one frame on the same index (object columns: values exactly as the JSON holds them).

    >>> parse_rows(pd.Series(['{"id": "s1", "affected": 2}', '{"id": "s2", "affected": null}'])).to_dict("list")
    {'id': ['s1', 's2'], 'affected': [2, None]}
    """
    if not len(texts):
        return pd.DataFrame(index=texts.index)
    rows = json.loads("[" + ",".join(texts.tolist()) + "]")
    frame = pd.DataFrame(rows, index=texts.index, dtype=object)
    return frame.where(frame.notna(), None)


# --- time travel ---------------------------------------------------------------------------------------

def rewind_tables(conn: Connection, project_id: str, condition: Any,
                  current: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """``current`` (history table name -> rows as read, with ``seq``) as it was before every change matching
    ``condition``: rows changed since get their state before the first of those changes, rows added since go,
    rows removed since come back, in ``seq`` order. Erased changes are skipped."""
    out = dict(current)
    every = tables_changes(conn, project_id, [t for t in current if t != PARTICIPATION], condition, values=("old",))
    for table, frame in current.items():
        if table == PARTICIPATION:
            out[table] = _rewind_participation(conn, project_id, condition, frame)
            continue
        changes = every[table]
        changes = changes.loc[~changes["erased"].to_numpy(dtype=bool)]
        if not len(changes):
            continue
        first = changes.iloc[_first_last(changes["key"])[0]]
        keys = list(history.KEY_COLUMNS[table])
        kept = frame.loc[~_joined(frame, keys).isin(first["key"]).to_numpy()] if len(frame) else frame
        old = first["old"].dropna()
        if len(old):
            back = parse_rows(old).reindex(columns=frame.columns)
            kept = pd.concat([kept.astype(object), back], ignore_index=True)
        if "seq" in kept.columns and len(kept):
            kept = kept.assign(_s=pd.to_numeric(kept["seq"])).sort_values("_s", kind="stable").drop(columns="_s")
        out[table] = kept.reset_index(drop=True)
    return out


# --- revert ---------------------------------------------------------------------------------------------

def plan_revert(conn: Connection, project_id: str, action_id: int) -> tuple[dict[str, pd.DataFrame], bool]:
    """Per table touched by the action: one row per key with its JSON ``before`` the action's first change and
    ``after`` its last, the key parts (k0..) and ``last_seq``. And whether any of its changes were erased."""
    c = _changes()
    mine = c.c.action_id == int(action_id)
    tables = [r[0] for r in conn.execute(sa.select(c.c.table_name).distinct()
                                         .where(c.c.project_id == project_id, mine))]
    plan: dict[str, pd.DataFrame] = {}
    erased = False
    keyed = tables_changes(conn, project_id, [t for t in tables if t not in (PARTICIPATION, "projects")], mine,
                           values=("old",), present=("new",))
    for table in sorted(tables, key=_rank):
        if table == PARTICIPATION:
            plan[table], was_erased = _plan_participation(conn, project_id, mine)
            erased = erased or was_erased
            continue
        if table == "projects":
            rows = conn.execute(sa.select(c.c.seq, c.c.old, c.c.new).where(c.c.project_id == project_id, mine,
                                                                          c.c.table_name == "projects")
                                .order_by(c.c.seq)).all()
            plan[table] = pd.DataFrame({"key": [""], "before": [rows[0].old], "after": [rows[-1].new],
                                        "has_after": [rows[-1].new is not None], "last_seq": [rows[-1].seq]},
                                       dtype=object)
            continue
        # the JSON after is not read here: ``blocking`` reads it for the few rows it must compare (an import's
        # million rows each carried a JSON text nothing else needs)
        changes = keyed[table]
        erased = erased or bool(changes["erased"].any())
        changes = changes.loc[~changes["erased"].to_numpy(dtype=bool)]
        parts = [f"k{i}" for i in range(len(history.KEY_COLUMNS[table]))]
        firsts, lasts = _first_last(changes["key"])
        first, last = changes.iloc[firsts], changes.iloc[lasts]
        plan[table] = pd.DataFrame({"key": pd.Series(first["key"].to_numpy(dtype=object), dtype=object),
                                    **{p: pd.Series(first[p].to_numpy(dtype=object), dtype=object) for p in parts},
                                    "before": pd.Series(first["old"].to_numpy(dtype=object), dtype=object),
                                    "has_after": last["has_new"].to_numpy(dtype=bool),
                                    "last_seq": last["seq"].to_numpy()})
    return plan, erased


def _first_last(keys: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Positions of each key's first and last row (keys in order of first appearance; one factorize, no text
    hashed twice). Usually every key appears once (an import), and then both are every position."""
    codes, uniques = pd.factorize(keys.to_numpy(dtype=object))
    n = len(uniques)
    if n == len(codes):
        every = np.arange(n)
        return every, every
    first = np.full(n, len(codes), dtype=np.int64)
    np.minimum.at(first, codes, np.arange(len(codes)))
    last = np.full(n, -1, dtype=np.int64)
    np.maximum.at(last, codes, np.arange(len(codes)))
    return first, last


def _rank(table: str) -> int:
    """Parents first: the order restores run in (participation, which has no trigger, sits after the ties)."""
    order = list(schema.HISTORY_TABLES)
    if PARTICIPATION not in order:
        order.insert(order.index("relationships") + 1 if "relationships" in order else len(order), PARTICIPATION)
    return order.index(table) if table in order else -1


def _current_json(conn: Connection, project_id: str, table: str) -> pd.DataFrame:
    """Each row of ``table`` now: its key parts and the row as JSON text, rendered exactly as the triggers do."""
    t = schema.METADATA.tables[table]
    if conn.dialect.name == "sqlite":
        columns = [c.name for c in t.columns if c.name != "project_id"]
        floats = frozenset(c.name for c in t.columns if isinstance(c.type, sa.Float))
        row = sa.literal_column(schema._sqlite_json(table, columns, floats=floats))
    else:
        row = sa.literal_column(f"(to_jsonb({table}) - 'project_id')::text")
    keys = [t.c[k] for k in history.KEY_COLUMNS[table]]
    return read_frame(conn, sa.select(*keys, row.label("row")).select_from(t).where(t.c.project_id == project_id))


def _numbers(series: pd.Series) -> np.ndarray:
    return pd.to_numeric(pd.Series(series.to_numpy(dtype=object)), errors="coerce").to_numpy(dtype=float)


def _equal(a: pd.Series, b: pd.Series, kind: sa.types.TypeEngine) -> np.ndarray:
    """Element-wise: the same value, JSON side ``a`` against database side ``b`` (numbers within 1e-14)."""
    if isinstance(kind, (sa.Integer, sa.Float, sa.Boolean, sa.Numeric)):
        x, y = _numbers(a), _numbers(b)
        with np.errstate(invalid="ignore"):
            close = np.isclose(x, y, rtol=1e-14, atol=0.0, equal_nan=True)
        return close
    x = a.astype(object).where(a.notna(), None).to_numpy(dtype=object)
    y = b.astype(object).where(b.notna(), None).to_numpy(dtype=object)
    return np.asarray(x == y, dtype=bool)


def changed_since(conn: Connection, project_id: str, plan: dict[str, pd.DataFrame], action_id: int
                  ) -> dict[str, set[str] | None]:
    """Per planned table, the keys of rows another action has changed since ``action_id`` last touched them (a
    superset: any change row of another action after the plan's earliest ``last_seq``), or None when that cannot
    be told (a later change row's key was erased, a later entry was purged, or a later erasure rewrote names).

    The triggers log every change of a keyed table (raw SQL and cascades too), and every change of participation
    goes through ``participation_sets`` with its batch row, so a key with no later change row is still exactly
    as the action left it: ``blocking`` need only compare the others. Undoing the latest import then reads no
    current rows at all."""
    c, a = _changes(), schema.METADATA.tables["actions"]
    lasts = [int(pd.to_numeric(rows["last_seq"]).min()) for rows in plan.values() if len(rows)]
    if not lasts:
        return {table: set() for table in plan}
    revision = conn.execute(sa.select(a.c.revision).where(a.c.id == int(action_id))).scalar()
    rewritten = conn.execute(sa.select(sa.func.count()).where(
        a.c.project_id == project_id, a.c.revision > int(revision or 0),
        sa.or_(a.c.kind == "erase", a.c.purged.is_(True)))).scalar()
    if rewritten:  # an erasure rewrote names inside change rows, or later change rows were purged: compare values
        return {table: None for table in plan}
    other = sa.and_(c.c.seq > min(lasts), sa.or_(c.c.action_id.is_(None), c.c.action_id != int(action_id)))
    later = dict(conn.execute(sa.select(c.c.table_name, sa.func.count()).where(c.c.project_id == project_id, other)
                              .group_by(c.c.table_name)).all())
    out: dict[str, set[str] | None] = {}
    for table in plan:
        if table not in later:
            out[table] = set()
        elif table == "projects" or int(later[table]) > max(CHANGED_SINCE_ROWS, len(plan[table])):
            out[table] = None  # many later rows for a small entry: comparing every row costs less than keying them
    keyed = tables_changes(conn, project_id, [t for t in plan if t not in out and t != PARTICIPATION], other, values=())
    for table in plan:
        if table in out:
            continue
        found = participation_changes(conn, project_id, other, after=False) if table == PARTICIPATION else keyed[table]
        erased = found["erased"].to_numpy(dtype=bool)
        out[table] = None if erased.any() else set(found["key"].tolist())
    return out


#: Above this many later change rows of a table (and more than the entry's own rows), ``changed_since`` does not key
#: them: ``blocking`` compares every planned row with the database instead, as it would without ``action_id``.
CHANGED_SINCE_ROWS = 20_000


def _after_texts(conn: Connection, seqs: Any) -> np.ndarray:
    """The ``new`` JSON text of the change rows ``seqs`` (None where absent), in that order."""
    c = _changes()
    wanted = np.asarray(pd.to_numeric(pd.Series(np.asarray(seqs, dtype=object))), dtype=np.int64)
    found: dict[int, Any] = {}
    unique = np.unique(wanted).tolist()
    for start in range(0, len(unique), 5_000):
        chunk = unique[start:start + 5_000]
        found.update((int(s), t) for s, t in driver_rows(conn, sa.select(c.c.seq, c.c.new).where(c.c.seq.in_(chunk))))
    return np.asarray([found.get(int(s)) for s in wanted.tolist()], dtype=object)


def blocking(conn: Connection, project_id: str, plan: dict[str, pd.DataFrame], *,
             action_id: int | None = None) -> list[str]:
    """Why rows cannot go back: each row must still be exactly as the action left it (bookkeeping aside).
    ``action_id`` (the planned action): only rows changed since (``changed_since``) are compared."""
    blocks: list[str] = []
    since = changed_since(conn, project_id, plan, action_id) if action_id is not None else {}
    for table, rows in plan.items():
        touched = since.get(table)
        if table in since and touched is not None:
            if not touched:
                continue
            rows = rows.loc[rows["key"].isin(touched).to_numpy()]
            if not len(rows):
                continue
        if table == PARTICIPATION:
            blocks += _participation_blocks(conn, project_id, rows)
            if len(blocks) > MAX_NAMED:
                break
            continue
        if table == "projects":
            p = schema.METADATA.tables["projects"]
            now = conn.execute(sa.select(*(p.c[n] for n in schema.PROJECT_LOGGED)).where(p.c.id == project_id)).first()
            after = json.loads(rows["after"].iloc[0] or "{}")
            if any(str(after.get(n, "")) != str(getattr(now, n) or "") for n in after):
                blocks.append(_who_changed(conn, project_id, table, rows.iloc[0]))
            continue
        t = schema.METADATA.tables[table]
        keys = list(history.KEY_COLUMNS[table])
        now = _current_json(conn, project_id, table)
        now_keys = _joined(now, keys)
        present = rows["key"].isin(now_keys).to_numpy()
        has_after = rows["has_after"].to_numpy(dtype=bool)
        if len(rows):
            rows = rows.assign(after=pd.Series(_after_texts(conn, rows["last_seq"]), index=rows.index, dtype=object))
        bad = present != has_after
        check = np.flatnonzero(present & has_after)
        if len(check):
            now_text = pd.Series(now["row"].to_numpy(dtype=object), index=now_keys.to_numpy(), dtype=object)
            after_text = rows["after"].iloc[check]
            now_text = now_text.reindex(rows["key"].iloc[check].to_numpy())
            same = after_text.to_numpy(dtype=object) == now_text.to_numpy(dtype=object)  # the triggers' own rendering
            check = check[~same]
        if len(check):  # written differently: compare the values, bookkeeping aside
            after = parse_rows(rows["after"].iloc[check])
            aligned = parse_rows(now_text.iloc[np.flatnonzero(~same)].set_axis(after.index))
            differ = np.zeros(len(check), dtype=bool)
            for name in after.columns:
                if name in history.BOOKKEEPING or name not in aligned.columns or name not in t.c:
                    continue
                differ |= ~_equal(after[name], aligned[name], t.c[name].type)
            bad[check[differ]] = True
        blocks += [_who_changed(conn, project_id, table, row) for _, row in rows.loc[bad].iterrows()]
        if len(blocks) > MAX_NAMED:
            break
    return _capped(blocks)


def _capped(messages: list[str]) -> list[str]:
    if len(messages) <= MAX_NAMED:
        return messages
    return [*messages[:MAX_NAMED], f"and {len(messages) - MAX_NAMED} more rows like these."]


def _who_changed(conn: Connection, project_id: str, table: str, row: pd.Series) -> str:
    c = _changes()
    what = history.describe_row(table, str(row["key"]))
    condition = sa.and_(c.c.project_id == project_id, c.c.table_name == table, c.c.seq > int(row["last_seq"]))
    for i, expr in enumerate(_key_exprs(conn, table)):
        condition = sa.and_(condition, expr.element == row[f"k{i}"])
    later = conn.execute(sa.select(c.c.action_id).where(condition).order_by(c.c.seq.desc()).limit(1)).first()
    return _changed_by(conn, what, None if later is None else later.action_id, found=later is not None)


def _changed_by(conn: Connection, what: str, action_id: Any, *, found: bool) -> str:
    """The refusal for a row changed since: when and by whom (``found``: a later change row exists)."""
    a = schema.METADATA.tables["actions"]
    if not found:
        return f"{what} is no longer as this entry left it."
    if action_id is None or (isinstance(action_id, float) and action_id != action_id):
        return f"{what} was changed again by a change still being saved."
    action = conn.execute(sa.select(a).where(a.c.id == int(action_id))).first()
    if action is None:
        return f"{what} is no longer as this entry left it."
    return f"{what} was changed again on {action.at[:10]} by {action.actor} ({action.kind}: {action.summary})."


def _typed(table: str, frame: pd.DataFrame, *, project_id: str) -> pd.DataFrame:
    """Parsed rows ready to write: only the table's columns, booleans as bool, integers as int, None for blanks."""
    t = schema.METADATA.tables[table]
    out = {"project_id": [project_id] * len(frame)}
    for column in t.columns:
        if column.name == "project_id" or column.name not in frame.columns:
            continue
        values = frame[column.name].to_numpy(dtype=object)
        # lists, not Series.map: map infers float64 for [1, None] (1.0, NaN), and PostgreSQL refuses NaN for an integer
        if isinstance(column.type, sa.Boolean):
            values = np.array([None if v is None else bool(v) for v in values.tolist()], dtype=object)
        elif isinstance(column.type, sa.Integer):
            values = np.array([None if v is None else int(v) for v in values.tolist()], dtype=object)
        out[column.name] = values
    return pd.DataFrame(out, dtype=object)


def _dicts(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as plain dicts for executemany; quicker than ``to_dict("records")``. Values must already be plain
    (``parse_rows`` and ``_typed`` give None for blanks, never NaN)."""
    columns = list(frame.columns)
    arrays = []
    for name in columns:
        arrays.append(frame[name].to_numpy(dtype=object))
    return [dict(zip(columns, row, strict=True)) for row in zip(*arrays, strict=True)]


def apply_plan(conn: Connection, project_id: str, plan: dict[str, pd.DataFrame]) -> dict[str, int]:
    """Put every planned row back to ``before``; returns how many rows each table had restored (one change row
    each is what the triggers should log)."""
    p = schema.METADATA.tables["projects"]
    done: dict[str, int] = {}
    ordered = sorted(plan, key=_rank)
    for table in ordered:  # rows the action removed come back, parents first
        rows = plan[table]
        if table == PARTICIPATION:
            continue
        back = rows.loc[rows["before"].notna().to_numpy() & ~rows["has_after"].to_numpy(dtype=bool)]
        if table == "projects" or not len(back):
            continue
        t = schema.METADATA.tables[table]
        typed = _typed(table, parse_rows(back["before"]), project_id=project_id)
        if "version" in typed.columns:
            typed["version"] = [int(v or 1) + 1 for v in typed["version"]]
        _executemany(conn, t.insert(), _dicts(typed))
        done[table] = done.get(table, 0) + len(typed)
    for table in ordered:  # rows the action changed get their old values
        rows = plan[table]
        if table == PARTICIPATION:  # no foreign keys in SQL: the whole set, at once, as one batch
            if len(rows):
                done[table] = _restore_participation(conn, project_id, rows)
            continue
        changed = rows.loc[rows["before"].notna().to_numpy() & rows["has_after"].to_numpy(dtype=bool)]
        if not len(changed):
            continue
        if table == "projects":
            before = json.loads(changed["before"].iloc[0])
            conn.execute(p.update().where(p.c.id == project_id)
                         .values(**{c: before[c] for c in schema.PROJECT_LOGGED if c in before}))
            done[table] = 1
            continue
        t = schema.METADATA.tables[table]
        keys = list(history.KEY_COLUMNS[table])
        typed = _typed(table, parse_rows(changed["before"]), project_id=project_id)
        columns = [c for c in typed.columns if c not in keys and c not in history.BOOKKEEPING and c != "project_id"]
        params = typed[columns].assign(k_project_id=project_id,
                                       **{f"k_{k}": changed[f"k{i}"].to_numpy() for i, k in enumerate(keys)})
        values: dict[str, Any] = {c: sa.bindparam(c) for c in columns}
        if "version" in t.c:
            values["version"] = t.c.version + sa.literal_column("1")  # no bound constant: see _executemany
        _executemany(conn, t.update().where(_where(t, keys)).values(values), _dicts(params))
        done[table] = done.get(table, 0) + len(typed)
    for table in reversed(ordered):  # rows the action added go, children first
        rows = plan[table]
        if table == PARTICIPATION:
            continue
        added = rows.loc[rows["before"].isna().to_numpy() & rows["has_after"].to_numpy(dtype=bool)]
        if table == "projects" or not len(added):
            continue
        _delete_added(conn, project_id, schema.METADATA.tables[table], added)
        done[table] = done.get(table, 0) + len(added)
    return done


#: Above this many rows, the rows an entry added go in one statement (their keys in a temporary table) rather than
#: one statement per row: undoing an import of 492,000 ties took 5.2 s row by row, 2.1 s at once (the triggers'
#: logging is the floor).
SETWISE_ROWS = 50


def _delete_added(conn: Connection, project_id: str, t: sa.Table, added: pd.DataFrame) -> None:
    """Delete the rows of ``t`` keyed by ``added`` (k0, k1..): row by row when few, else in one statement."""
    keys = list(history.KEY_COLUMNS[t.name])
    if len(added) <= SETWISE_ROWS:
        params = pd.DataFrame({"k_project_id": project_id,
                               **{f"k_{k}": added[f"k{i}"].to_numpy() for i, k in enumerate(keys)}})
        _executemany(conn, t.delete().where(_where(t, keys)), _dicts(params))
        return
    temp = sa.Table("coprod_replay_keys", sa.MetaData(), *(sa.Column(f"k{i}", t.c[k].type) for i, k in enumerate(keys)),
                    prefixes=["TEMPORARY"])
    temp.create(conn)  # inside the transaction: a failure's rollback takes it away with everything else
    insert = temp.insert().compile(dialect=conn.dialect)
    columns = [added[f"k{i}"].to_numpy(dtype=object).tolist() for i in range(len(keys))]
    rows: list[Any] = list(zip(*columns, strict=True))
    if not insert.positional:
        rows = [{f"k{i}": v for i, v in enumerate(row)} for row in rows]
    cursor = conn.connection.cursor()
    try:
        cursor.executemany(str(insert), rows)
    finally:
        cursor.close()
    mine = (sa.tuple_(*(t.c[k] for k in keys)) if len(keys) > 1 else t.c[keys[0]]).in_(sa.select(*temp.c))
    conn.execute(t.delete().where(t.c.project_id == project_id, mine))
    temp.drop(conn)


def _where(t: sa.Table, keys: list[str]) -> sa.ColumnElement[bool]:
    # "k_" names: UPDATE reserves the column names themselves for the SET values
    return sa.and_(t.c.project_id == sa.bindparam("k_project_id"), *(t.c[k] == sa.bindparam(f"k_{k}") for k in keys))


def unplanned(conn: Connection, project_id: str, plan: dict[str, pd.DataFrame], done: dict[str, int]) -> list[str]:
    """Rows the restore changed beyond the plan (a foreign-key cascade): each depends on what goes back."""
    c = _changes()
    waiting = sa.and_(c.c.project_id == project_id, c.c.action_id.is_(None))
    counts = dict(conn.execute(sa.select(c.c.table_name, sa.func.count()).where(waiting).group_by(c.c.table_name)).all())
    counts.pop("projects", None)
    counts.pop(PARTICIPATION, None)  # its one batch row is checked below, against the stakeholders and activities
    expected = {t: n for t, n in done.items() if t not in ("projects", PARTICIPATION)}
    messages: list[str] = []
    if {t: int(n) for t, n in counts.items()} != expected:
        for table in sorted(counts, key=_rank):
            written = table_changes(conn, project_id, table, c.c.action_id.is_(None), values=())
            planned = plan[table]["key"] if table in plan else pd.Series([], dtype=object)
            extra = written.loc[~written["key"].isin(planned), "key"].drop_duplicates()
            messages += [f"{history.describe_row(table, k)}, added or changed since, depends on it." for k in extra]
        messages = messages or ["other rows changed with it, added or changed since."]
    return _capped(messages + _dangling_participation(conn, project_id, plan))


# --- participation: batch rows (schema 7) and JSON rows (before it), as columns ----------------------------

PARTICIPATION = "participation"
_P_KEYS = ["stakeholder_id", "activity_id"]
_P_FRAME = ("seq", "action_id", "op", "stakeholder_id", "activity_id", "old_seq", "new_seq", "old_notes", "new_notes",
            "erased", "key")


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    """``frame[name]`` as object values with None for missing (an all-None column when absent)."""
    if name not in frame.columns:
        return pd.Series([None] * len(frame), index=frame.index, dtype=object)
    values = _text(frame[name])
    return values.where(values.notna(), None)


def _whole_numbers(series: pd.Series) -> pd.Series:
    return pd.to_numeric(pd.Series(series.to_numpy(dtype=object), index=series.index)).astype("Float64").astype("Int64")


def _json_field(conn: Connection, column: sa.ColumnElement, name: str) -> sa.ColumnElement:
    """One field of a JSON text column, read by the database (SQLite ``json_extract``, PostgreSQL as text)."""
    if conn.dialect.name == "sqlite":
        return sa.func.json_extract(column, f"$.{name}")
    from sqlalchemy.dialects.postgresql import JSONB

    return sa.func.jsonb_extract_path_text(sa.cast(column, JSONB), name)


def _legacy_participation(conn: Connection, condition: Any, *, after: bool = True) -> pd.DataFrame:
    """JSON participation change rows (one per participation row, written before schema 7) -> the columnar form.
    The database takes the fields out of the JSON: no row is parsed in Python (a schema-6 import left 1,000,000).
    Not ``after``: new_seq and new_notes are left blank (time travel needs only the values before; each field
    taken out of a million JSON texts costs about a second)."""
    c = _changes()

    def field(side: str, name: str) -> sa.ColumnElement:
        return _json_field(conn, c.c[side], name)

    # each key field once, from the row after when it has one (coalesce stops at the first value)
    keys = [sa.func.coalesce(field("new", name), field("old", name)).label(name) for name in _P_KEYS]
    values = [field("old", name).label(f"old_{name}") for name in ("seq", "notes")]
    if after:
        values += [field("new", name).label(f"new_{name}") for name in ("seq", "notes")]
    rows = read_frame(conn, sa.select(c.c.seq, c.c.action_id, c.c.op, *keys, *values).where(condition)
                      .order_by(c.c.seq))
    if not len(rows):
        return rows

    text = partial(_column, rows)  # text already: the triggers wrote these TEXT columns as JSON strings
    sid, aid = text("stakeholder_id"), text("activity_id")
    return pd.DataFrame({"seq": rows["seq"].to_numpy(dtype=np.int64), "action_id": _text(rows["action_id"]),
                         "op": _text(rows["op"]), "stakeholder_id": sid, "activity_id": aid,
                         "old_seq": _whole_numbers(rows["old_seq"]), "new_seq": _whole_numbers(text("new_seq")),
                         "old_notes": text("old_notes"), "new_notes": text("new_notes"),
                         "erased": sid.isna().to_numpy()}, index=rows.index)


def _batch_participation(seq: int, action_id: Any, payload: Any) -> pd.DataFrame:
    diff = participation_sets.decode(bytes(payload))
    n = len(diff)
    return pd.DataFrame({"seq": np.full(n, int(seq), dtype=np.int64),
                         "action_id": pd.Series([action_id] * n, dtype=object),
                         "op": _text(diff["op"]), "stakeholder_id": _text(diff["stakeholder_id"]),
                         "activity_id": _text(diff["activity_id"]),
                         "old_seq": diff["old_seq"].astype("Int64"), "new_seq": diff["new_seq"].astype("Int64"),
                         "old_notes": _column(diff, "old_notes"), "new_notes": _column(diff, "new_notes"),
                         "erased": diff["erased"].to_numpy(dtype=bool)}, index=pd.RangeIndex(n))


def participation_changes(conn: Connection, project_id: str, condition: Any, *, keys: bool = True,
                          after: bool = True) -> pd.DataFrame:
    """Every participation row change matching ``condition`` (a clause on ``changes``), oldest first, whichever
    way it was stored: one row per participation row changed, with the change row's seq and action_id, op
    (insert/update/delete), stakeholder_id, activity_id, old_/new_ seq (Int64) and notes (None when absent),
    erased and key (``s / a``; None when erased; left out when not ``keys``). The rows of one batch share their
    change row's seq. Not ``after``: rows written before schema 7 come without new_seq and new_notes."""
    c = _changes()
    base = sa.and_(c.c.project_id == project_id, c.c.table_name == PARTICIPATION, condition)
    parts = []
    legacy = _legacy_participation(conn, sa.and_(base, c.c.op != participation_sets.BATCH), after=after)
    if len(legacy):
        parts.append(legacy)
    batches = driver_rows(conn, sa.select(c.c.seq, c.c.action_id, c.c.payload)
                          .where(base, c.c.op == participation_sets.BATCH).order_by(c.c.seq))
    parts += [_batch_participation(seq, action, payload) for seq, action, payload in batches if payload is not None]
    parts = [p for p in parts if len(p)]
    if not parts:
        frame = pd.DataFrame({n: pd.Series([], dtype=object) for n in _P_FRAME})
        return frame.astype({"seq": np.int64, "old_seq": "Int64", "new_seq": "Int64", "erased": bool})
    frame = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0].reset_index(drop=True)
    if len(parts) > 1:
        frame = frame.take(np.argsort(frame["seq"].to_numpy(dtype=np.int64), kind="stable")).reset_index(drop=True)
    if keys:
        frame["key"] = _joined(frame, _P_KEYS).where(~frame["erased"].to_numpy(dtype=bool), None)
    return frame


def _pair_codes(*pairs: tuple[Any, Any]) -> list[np.ndarray]:
    """One int64 per (stakeholder, activity) pair, the same pair the same code across ``pairs`` (each a tuple of
    stakeholder and activity columns): a million pairs matched and deduplicated as integers, not as joined text
    (each text is hashed once)."""
    sizes = np.cumsum([len(people) for people, _ in pairs])[:-1]
    codes = []
    for i in (0, 1):
        values = np.concatenate([np.asarray(pair[i], dtype=object) for pair in pairs])
        found, uniques = pd.factorize(values)
        codes.append((found.astype(np.int64), max(len(uniques), 1)))
    (people, _), (events, n_events) = codes
    return np.split(people * n_events + events, sizes)


def _in_set(frame: pd.DataFrame) -> tuple[Any, Any]:
    return frame["stakeholder_id"].to_numpy(dtype=object), frame["activity_id"].to_numpy(dtype=object)


def _in_plan(rows: pd.DataFrame) -> tuple[Any, Any]:
    return rows["k0"].to_numpy(dtype=object), rows["k1"].to_numpy(dtype=object)


def _notes_text(series: pd.Series) -> np.ndarray:
    """Notes as stored in a set: text, "" for none."""
    values = series.to_numpy(dtype=object)
    return np.where(pd.isna(values), "", values).astype(object) if len(values) else values


def _set_frame(stakeholders: Any, activities: Any, seq: Any, notes: Any) -> pd.DataFrame:
    """Rows in ``participation_sets`` DB form."""
    return pd.DataFrame({"stakeholder_id": pd.Series(np.asarray(stakeholders, dtype=object), dtype=object),
                         "activity_id": pd.Series(np.asarray(activities, dtype=object), dtype=object),
                         "seq": pd.Series(np.asarray(seq, dtype=np.int64), dtype=np.int64),
                         "notes": pd.Series(_notes_text(pd.Series(np.asarray(notes, dtype=object))), dtype=object)})


def _rewind_participation(conn: Connection, project_id: str, condition: Any, frame: pd.DataFrame) -> pd.DataFrame:
    changes = participation_changes(conn, project_id, condition, keys=False, after=False)
    changes = changes.loc[~changes["erased"].to_numpy(dtype=bool)]
    if not len(changes):
        return frame
    now_codes, change_codes = _pair_codes(_in_set(frame), _in_set(changes))
    firsts = ~pd.Series(change_codes).duplicated(keep="first").to_numpy()
    first = changes.loc[firsts]
    kept = frame.loc[pd.Index(change_codes[firsts]).get_indexer(now_codes) < 0] if len(frame) else frame
    back = first.loc[first["op"].to_numpy(dtype=object) != "insert"]
    restored = _set_frame(back["stakeholder_id"], back["activity_id"], back["old_seq"].to_numpy(dtype=np.int64),
                          back["old_notes"])
    out = pd.concat([kept.astype(object), restored.reindex(columns=frame.columns).astype(object)], ignore_index=True)
    if "seq" in out.columns and len(out):
        out = out.take(np.argsort(pd.to_numeric(out["seq"]).to_numpy(dtype=np.int64), kind="stable"))
    return out.reset_index(drop=True)


def _plan_participation(conn: Connection, project_id: str, condition: Any) -> tuple[pd.DataFrame, bool]:
    """One row per participation key the action touched: key, k0, k1, has_/before_seq/before_notes as before its
    first change, has_/after_seq/after_notes as after its last, last_seq. And whether any change was erased."""
    changes = participation_changes(conn, project_id, condition)
    erased = bool(changes["erased"].any())
    changes = changes.loc[~changes["erased"].to_numpy(dtype=bool)]
    firsts, lasts = _first_last(changes["key"])
    first, last = changes.iloc[firsts].reset_index(drop=True), changes.iloc[lasts].reset_index(drop=True)
    plan = pd.DataFrame({"key": _text(first["key"]), "k0": _text(first["stakeholder_id"]),
                         "k1": _text(first["activity_id"]),
                         "has_before": first["op"].to_numpy(dtype=object) != "insert",
                         "before_seq": first["old_seq"], "before_notes": _text(first["old_notes"]),
                         "has_after": last["op"].to_numpy(dtype=object) != "delete",
                         "after_seq": last["new_seq"], "after_notes": _text(last["new_notes"]),
                         "last_seq": last["seq"].to_numpy(dtype=np.int64)})
    return plan, erased


def _participation_blocks(conn: Connection, project_id: str, rows: pd.DataFrame) -> list[str]:
    """Participation rows not as the action left them (present or not; notes: seq is bookkeeping)."""
    if not len(rows):
        return []
    now = participation_sets.read(conn, project_id)
    now_codes, plan_codes = _pair_codes(_in_set(now), _in_plan(rows))
    where = pd.Index(now_codes).get_indexer(plan_codes)  # each planned key's row in the set now (-1: absent)
    present = where >= 0
    has_after = rows["has_after"].to_numpy(dtype=bool)
    bad = present != has_after
    check = np.flatnonzero(present & has_after)
    if len(check):
        notes_now = _notes_text(now["notes"])[where[check]]
        after = _notes_text(rows["after_notes"].iloc[check])
        bad[check[np.asarray(notes_now != after, dtype=bool)]] = True
    return _participation_who(conn, project_id, rows.loc[bad])


def _participation_who(conn: Connection, project_id: str, bad: pd.DataFrame) -> list[str]:
    """Name (up to MAX_NAMED) the participation rows changed again since, with who changed them last."""
    if not len(bad):
        return []
    c = _changes()
    named = bad.iloc[:MAX_NAMED + 1]
    later = participation_changes(conn, project_id, c.c.seq > int(named["last_seq"].min()))
    later = later.loc[~later["erased"].to_numpy(dtype=bool)].drop_duplicates("key", keep="last").set_index("key")
    messages = []
    for key, last_seq in zip(named["key"], named["last_seq"], strict=True):
        what = history.describe_row(PARTICIPATION, str(key))
        if key in later.index and int(later.at[key, "seq"]) > int(last_seq):
            messages.append(_changed_by(conn, what, later.at[key, "action_id"], found=True))
        else:
            messages.append(_changed_by(conn, what, None, found=False))
    messages += [""] * (len(bad) - len(named))  # counted by _capped, never shown
    return messages


def _dangling_participation(conn: Connection, project_id: str, plan: dict[str, pd.DataFrame]) -> list[str]:
    """What the foreign-key cascade used to catch: participation rows left pointing at a stakeholder or activity
    the restore removed (added since: they depend on it), or rows put back whose stakeholder or activity is gone."""
    gone: dict[str, set[str]] = {}
    for table in ("stakeholders", "activities"):
        rows = plan.get(table)
        gone[table] = (set(rows.loc[rows["before"].isna().to_numpy() & rows["has_after"].to_numpy(dtype=bool),
                                    "k0"].astype(str))
                       if rows is not None and len(rows) else set())
    mine = plan.get(PARTICIPATION)
    restored = set(mine.loc[mine["has_before"].to_numpy(dtype=bool), "key"]) if mine is not None else set()
    if not (gone["stakeholders"] or gone["activities"] or restored):
        return []
    now = participation_sets.read(conn, project_id)
    restored_people = mine.loc[mine["has_before"].to_numpy(dtype=bool), "k0"] if mine is not None else []
    maybe = (_text(now["stakeholder_id"]).isin([*gone["stakeholders"], *pd.unique(_text(pd.Series(restored_people)))])
             | _text(now["activity_id"]).isin(list(gone["activities"])))
    now = now.loc[maybe.to_numpy()]  # only rows the restore may have left dangling
    if not len(now):
        return []
    ids = {}
    for table in ("stakeholders", "activities"):
        t = schema.METADATA.tables[table]
        ids[table] = read_frame(conn, sa.select(t.c.id).where(t.c.project_id == project_id))["id"]
    sid, aid = _text(now["stakeholder_id"]), _text(now["activity_id"])
    no_person, no_activity = ~sid.isin(ids["stakeholders"]).to_numpy(), ~aid.isin(ids["activities"]).to_numpy()
    keys = _joined(now, _P_KEYS)
    ours = (sid.isin(gone["stakeholders"]) | aid.isin(gone["activities"]) | keys.isin(restored)).to_numpy()
    messages = []
    for i in np.flatnonzero((no_person | no_activity) & ours)[:MAX_NAMED + 1]:
        what = history.describe_row(PARTICIPATION, keys.iloc[i])
        if keys.iloc[i] in restored:
            missing = f"stakeholder '{sid.iloc[i]}'" if no_person[i] else f"activity '{aid.iloc[i]}'"
            messages.append(f"{what} cannot come back: {missing} is no longer in the map.")
        else:
            messages.append(f"{what}, added or changed since, depends on it.")
    return messages


def _restore_participation(conn: Connection, project_id: str, rows: pd.DataFrame) -> int:
    """Make the live set hold every planned key as it was before the action (one batch); rows written."""
    now = participation_sets.read(conn, project_id)
    now_codes, plan_codes = _pair_codes(_in_set(now), _in_plan(rows))
    kept = now.loc[pd.Index(plan_codes).get_indexer(now_codes) < 0]  # every planned key is written afresh
    back = rows.loc[rows["has_before"].to_numpy(dtype=bool)]
    restored = _set_frame(back["k0"], back["k1"], back["before_seq"].to_numpy(dtype=np.int64), back["before_notes"])
    kept = _set_frame(kept["stakeholder_id"], kept["activity_id"], kept["seq"], kept["notes"])
    target = pd.concat([kept, restored], ignore_index=True)
    target = target.take(np.argsort(target["seq"].to_numpy(dtype=np.int64), kind="stable")).reset_index(drop=True)
    counts = participation_sets.write(conn, project_id, target, before=now)
    return int(sum(counts.values()))
