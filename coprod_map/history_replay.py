"""Undo, revert and time travel at scale: the change log read one table at a time, replayed as whole frames.

An import of 20,000 stakeholders and 60,000 ties leaves about 180,000 change rows. Parsing each one into a
dict and restoring it row by row took tens of seconds, so here:

- the database takes each row's key out of its JSON (``json_extract`` in SQLite, ``jsonb_extract_path_text``
  in PostgreSQL), so rows are grouped, matched and deduplicated as pandas columns, and only the JSON that is
  really needed is parsed, in one ``json.loads`` per table;
- "is every row still as the entry left it?" is a column-by-column comparison of two frames;
- rows go back with one ``executemany`` per table and kind of step (parents first for inserts, children
  first for deletes, so foreign keys hold at every step);
- "did the restore take other rows with it?" is a count of the change rows the restore wrote, per table;
  only when a count is off are those rows read to name them.

A change whose values were erased (a tombstone) has no key: ``erased`` is True. These functions read and
write inside the caller's transaction; ``coprod_map.store`` closes the change (``_bump``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from coprod_map import history, schema

__all__ = ["MAX_NAMED", "apply_plan", "blocking", "parse_rows", "plan_revert", "rewind_tables", "table_changes",
           "unplanned"]

#: How many rows a refusal names before it says "and N more".
MAX_NAMED = 20


def _changes() -> sa.Table:
    return schema.METADATA.tables["changes"]


def _key_exprs(conn: Connection, table: str) -> list[sa.ColumnElement]:
    """The key columns of ``table`` read from each change row's JSON (the row after, else before), as k0, k1..."""
    c = _changes()
    doc = sa.func.coalesce(c.c.new, c.c.old)
    out = []
    for i, name in enumerate(history.KEY_COLUMNS[table]):
        if conn.dialect.name == "sqlite":
            expr = sa.func.json_extract(doc, f"$.{name}")
        else:
            from sqlalchemy.dialects.postgresql import JSONB

            expr = sa.func.jsonb_extract_path_text(sa.cast(doc, JSONB), name)
        out.append(expr.label(f"k{i}"))
    return out


def _driver_sql(conn: Connection, statement: sa.Executable) -> tuple[str, Any]:
    """The statement as the database driver's SQL and its parameters (positional or named, as the driver wants)."""
    compiled = statement.compile(dialect=conn.dialect)
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
    columns = list(zip(*rows, strict=True))
    return pd.DataFrame({n: pd.Series(v, dtype=object) for n, v in zip(names, columns, strict=True)})


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
                  *, values: tuple[str, ...] = ("old", "new")) -> pd.DataFrame:
    """Change rows of one table matching ``condition``, oldest first: seq, action_id, op, k0.., key, erased and
    the JSON texts asked for (None when absent). Not for ``projects`` (it has no key)."""
    c = _changes()
    keys = _key_exprs(conn, table)
    query = (sa.select(c.c.seq, c.c.action_id, c.c.op, *keys, *(c.c[v] for v in values))
             .where(c.c.project_id == project_id, c.c.table_name == table, condition).order_by(c.c.seq))
    frame = read_frame(conn, query)
    names = [k.name for k in keys]
    for name in (*names, *values, "op"):
        frame[name] = _text(frame[name]).where(frame[name].notna(), None)
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
    for table, frame in current.items():
        changes = table_changes(conn, project_id, table, condition, values=("old",))
        changes = changes.loc[~changes["erased"]]
        if not len(changes):
            continue
        first = changes.drop_duplicates("key", keep="first")
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
    for table in sorted(tables, key=_rank):
        if table == "projects":
            rows = conn.execute(sa.select(c.c.seq, c.c.old, c.c.new).where(c.c.project_id == project_id, mine,
                                                                          c.c.table_name == "projects")
                                .order_by(c.c.seq)).all()
            plan[table] = pd.DataFrame({"key": [""], "before": [rows[0].old], "after": [rows[-1].new],
                                        "last_seq": [rows[-1].seq]}, dtype=object)
            continue
        changes = table_changes(conn, project_id, table, mine)
        erased = erased or bool(changes["erased"].any())
        changes = changes.loc[~changes["erased"]]
        parts = [f"k{i}" for i in range(len(history.KEY_COLUMNS[table]))]
        first = changes.drop_duplicates("key", keep="first").set_index("key")
        last = changes.drop_duplicates("key", keep="last").set_index("key").reindex(first.index)
        plan[table] = pd.DataFrame({"key": pd.Series(first.index.to_numpy(dtype=object), dtype=object),
                                    **{p: pd.Series(first[p].to_numpy(dtype=object), dtype=object) for p in parts},
                                    "before": pd.Series(first["old"].to_numpy(dtype=object), dtype=object),
                                    "after": pd.Series(last["new"].to_numpy(dtype=object), dtype=object),
                                    "last_seq": last["seq"].to_numpy()})
    return plan, erased


def _rank(table: str) -> int:
    return schema.HISTORY_TABLES.index(table) if table in schema.HISTORY_TABLES else -1


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


def blocking(conn: Connection, project_id: str, plan: dict[str, pd.DataFrame]) -> list[str]:
    """Why rows cannot go back: each row must still be exactly as the action left it (bookkeeping aside)."""
    blocks: list[str] = []
    for table, rows in plan.items():
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
        has_after = rows["after"].notna().to_numpy()
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
    c, a = _changes(), schema.METADATA.tables["actions"]
    what = history.describe_row(table, str(row["key"]))
    condition = sa.and_(c.c.project_id == project_id, c.c.table_name == table, c.c.seq > int(row["last_seq"]))
    for i, expr in enumerate(_key_exprs(conn, table)):
        condition = sa.and_(condition, expr.element == row[f"k{i}"])
    later = conn.execute(sa.select(c.c.action_id).where(condition).order_by(c.c.seq.desc()).limit(1)).first()
    if later is None:
        return f"{what} is no longer as this entry left it."
    if later.action_id is None:
        return f"{what} was changed again by a change still being saved."
    action = conn.execute(sa.select(a).where(a.c.id == int(later.action_id))).first()
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
        values = frame[column.name]
        if isinstance(column.type, sa.Boolean):
            values = values.map(lambda v: None if v is None else bool(v))
        elif isinstance(column.type, sa.Integer):
            values = values.map(lambda v: None if v is None else int(v))
        out[column.name] = values.to_numpy(dtype=object)
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
        back = rows.loc[rows["before"].notna() & rows["after"].isna()]
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
        changed = rows.loc[rows["before"].notna() & rows["after"].notna()]
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
        added = rows.loc[rows["before"].isna() & rows["after"].notna()]
        if table == "projects" or not len(added):
            continue
        t = schema.METADATA.tables[table]
        keys = list(history.KEY_COLUMNS[table])
        params = pd.DataFrame({"k_project_id": project_id,
                               **{f"k_{k}": added[f"k{i}"].to_numpy() for i, k in enumerate(keys)}})
        _executemany(conn, t.delete().where(_where(t, keys)), _dicts(params))
        done[table] = done.get(table, 0) + len(added)
    return done


def _where(t: sa.Table, keys: list[str]) -> sa.ColumnElement[bool]:
    # "k_" names: UPDATE reserves the column names themselves for the SET values
    return sa.and_(t.c.project_id == sa.bindparam("k_project_id"), *(t.c[k] == sa.bindparam(f"k_{k}") for k in keys))


def unplanned(conn: Connection, project_id: str, plan: dict[str, pd.DataFrame], done: dict[str, int]) -> list[str]:
    """Rows the restore changed beyond the plan (a foreign-key cascade): each depends on what goes back."""
    c = _changes()
    waiting = sa.and_(c.c.project_id == project_id, c.c.action_id.is_(None))
    counts = dict(conn.execute(sa.select(c.c.table_name, sa.func.count()).where(waiting).group_by(c.c.table_name)).all())
    counts.pop("projects", None)
    expected = {t: n for t, n in done.items() if t != "projects"}
    if {t: int(n) for t, n in counts.items()} == expected:
        return []
    messages: list[str] = []
    for table in sorted(counts, key=_rank):
        written = table_changes(conn, project_id, table, c.c.action_id.is_(None), values=())
        planned = plan[table]["key"] if table in plan else pd.Series([], dtype=object)
        extra = written.loc[~written["key"].isin(planned), "key"].drop_duplicates()
        messages += [f"{history.describe_row(table, k)}, added or changed since, depends on it." for k in extra]
    return _capped(messages or ["other rows changed with it, added or changed since."])
