"""Participation kept as one columnar set per project (schema 7).

A project's participation rows (often a million after an attendance import) are not SQL rows: they are one
Parquet payload in ``participation_sets`` (columns ``COLUMNS``, ordered by ``seq``). Every write that changes them
adds ONE ``changes`` row (``table_name='participation'``, ``op='batch'``, ``new`` = the counts as JSON text,
``payload`` = the net per-row diff, columns ``DIFF_COLUMNS``), so history stays complete while an import costs
a few Parquet encodes instead of a million trigger-logged inserts.

Nothing here cascades in SQL: whoever deletes stakeholders or activities calls ``drop_rows`` (or ``write``) in
the same transaction, so the removal is in history too. Everything is vectorised (1,000,000 rows encode, decode
and diff in well under a second each).

Frames in and out:
- the live set (``read``, ``write``): ``stakeholder_id``, ``activity_id``, ``notes`` as object columns of ``str``
  ("" for blanks), ``seq`` int64;
- a diff (``diff``): ``op`` ("insert"/"update"/"delete"), ``stakeholder_id``, ``activity_id`` (object ``str``;
  "" when erased), ``old_seq``/``new_seq`` (``Int64``, missing for an insert's old and a delete's new),
  ``old_notes``/``new_notes`` (object ``str`` or ``None`` when missing), ``erased`` (bool).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from coprod_map.validate import same_cells

__all__ = ["COLUMNS", "DIFF_COLUMNS", "OPS", "counts_of", "decode", "diff", "drop_rows", "empty", "encode",
           "normalised", "pair_codes", "read", "read_payload", "record_batch", "store_set", "write", "write_keys"]

COLUMNS = ("stakeholder_id", "activity_id", "seq", "notes")
DIFF_COLUMNS = ("op", "stakeholder_id", "activity_id", "old_seq", "new_seq", "old_notes", "new_notes", "erased")
OPS = ("insert", "update", "delete")
#: The ``changes.table_name`` and ``changes.op`` of a batch row.
TABLE_NAME, BATCH = "participation", "batch"
_COMPRESSION, _LEVEL = "zstd", 1


# --- frames <-> Parquet --------------------------------------------------------------------------

#: Encodings already made of a frame's text columns: (column, cells, codes, distinct) as
#: ``validate.Texts.known`` gives them (``distinct[codes]`` equals the cells, missing ones as "").
Known = Iterable[tuple[str, Any, np.ndarray, pa.Array]]


def _known_array(name: str, values: np.ndarray, known: Known) -> pa.Array | None:
    """``values`` (column ``name``) as a dictionary array from an encoding in ``known`` made of these very cells
    (``validate.same_cells``: the same memory, never a value comparison), or None when there is none."""
    for column, cells, codes, distinct in known:
        if column == name and len(codes) == len(values) and same_cells(cells, values):
            dictionary = distinct if distinct.type == pa.string() else distinct.cast(pa.string())
            return pa.DictionaryArray.from_arrays(pa.array(codes.astype(np.int32, copy=False)), dictionary)
    return None


def _text_array(values: Any) -> tuple[pa.Array, bool]:
    """Object values (``str``; ``None``/NA where missing) -> a dictionary array (each distinct text converted
    once) and whether any is missing."""
    codes, uniques = pd.factorize(np.asarray(values, dtype=object), use_na_sentinel=True)
    missing = codes < 0
    has_nulls = bool(missing.any())
    dictionary = pa.array(np.asarray(uniques, dtype=object), type=pa.string())
    indices = pa.array(codes.astype(np.int32), mask=missing if has_nulls else None)
    return pa.DictionaryArray.from_arrays(indices, dictionary), has_nulls


def _arrow_column(series: pd.Series, known: Known = ()) -> tuple[pa.Array, bool]:
    """A column as an Arrow array and whether it may hold nulls (kept in the Parquet schema for ``decode``).
    ``known``: encodings already made (``_known_array``), used for text columns holding those very cells."""
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return pa.array(series.to_numpy(dtype=bool)), False
    if pd.api.types.is_integer_dtype(dtype):
        if isinstance(dtype, pd.api.extensions.ExtensionDtype):  # Int64: nullable
            missing = series.isna().to_numpy()
            values = series.to_numpy(dtype=np.int64, na_value=0)
            return pa.array(values, type=pa.int64(), mask=missing if missing.any() else None), True
        return pa.array(series.to_numpy(dtype=np.int64), type=pa.int64()), False
    values = series.to_numpy(dtype=object)
    if known:
        found = _known_array(str(series.name), values, known)
        if found is not None:
            return found, False
    return _text_array(values)


_NULLABLE = frozenset({"old_seq", "new_seq", "old_notes", "new_notes"})


def _arrow_table(frame: pd.DataFrame, known: Known = ()) -> pa.Table:
    arrays, fields = [], []
    for name in frame.columns:
        array, has_nulls = _arrow_column(frame[name], known)
        arrays.append(array)
        fields.append(pa.field(str(name), array.type, nullable=has_nulls or name in _NULLABLE))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def encode(frame: pd.DataFrame) -> bytes:
    """Parquet bytes of a frame (a live set or a diff): text dictionary-encoded, zstd level 1.

    Which columns may be missing is kept in the schema (the diff's ``old_*``/``new_*`` always are), so
    ``decode`` gives back the same dtypes."""
    return _parquet(_arrow_table(frame))


def _parquet(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink, compression=_COMPRESSION, compression_level=_LEVEL, use_dictionary=True,
                   write_statistics=False)
    return sink.getvalue()


def _python_text(column: pa.ChunkedArray) -> np.ndarray:
    """A (dictionary) string column -> an object array of ``str`` (``None`` for nulls); each distinct text is one
    Python object shared by its rows."""
    if not pa.types.is_dictionary(column.type):
        column = column.dictionary_encode()
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    words = np.asarray(array.dictionary.to_pylist() + [None], dtype=object)
    codes = array.indices.to_numpy(zero_copy_only=False) if array.null_count == 0 else \
        array.indices.fill_null(len(words) - 1).to_numpy(zero_copy_only=False)
    return words[codes.astype(np.int64, copy=False)] if len(codes) else np.empty(0, dtype=object)


def decode(payload: bytes) -> pd.DataFrame:
    """Parquet bytes (from ``encode``) -> the frame: text as object ``str`` (``None`` where missing), integers
    int64 (``Int64`` when the column may be missing), booleans bool."""
    source = pa.BufferReader(bytes(payload))
    names = pq.read_schema(source).names
    table = pq.read_table(pa.BufferReader(bytes(payload)), read_dictionary=names)
    out: dict[str, Any] = {}
    for field, column in zip(table.schema, table.columns, strict=True):
        kind = field.type.value_type if pa.types.is_dictionary(field.type) else field.type
        if pa.types.is_string(kind) or pa.types.is_large_string(kind):
            out[field.name] = pd.Series(_python_text(column), dtype=object)
        elif pa.types.is_boolean(kind):
            out[field.name] = pd.Series(column.to_numpy(zero_copy_only=False), dtype=bool)
        elif pa.types.is_integer(kind):
            if field.nullable:
                values = column.combine_chunks()
                numbers = values.fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
                mask = values.is_null().to_numpy(zero_copy_only=False)
                out[field.name] = pd.Series(pd.arrays.IntegerArray(numbers, mask))
            else:
                out[field.name] = pd.Series(column.to_numpy().astype(np.int64, copy=False))
        else:
            out[field.name] = pd.Series(column.to_pandas())
    return pd.DataFrame(out, columns=names, index=pd.RangeIndex(table.num_rows), copy=False)


# --- the live set --------------------------------------------------------------------------------

def empty() -> pd.DataFrame:
    """No participation, in DB form."""
    return pd.DataFrame({"stakeholder_id": pd.Series([], dtype=object), "activity_id": pd.Series([], dtype=object),
                         "seq": pd.Series([], dtype=np.int64), "notes": pd.Series([], dtype=object)})


def normalised(rows: pd.DataFrame) -> pd.DataFrame:
    """``rows`` in DB form exactly: ``COLUMNS`` only, text as object ``str`` (missing -> ""), seq int64, ordered by seq."""
    if not len(rows):
        return empty()
    out = {}
    for name in ("stakeholder_id", "activity_id", "notes"):
        values = rows[name].to_numpy(dtype=object)
        if pd.api.types.infer_dtype(values, skipna=False) != "string":  # a quick scan: all str, nothing to fill
            missing = pd.isna(values)
            values = np.where(missing, "", values).astype(str).astype(object) if missing.any() else \
                np.array([str(v) for v in values], dtype=object)
        out[name] = pd.Series(values, dtype=object, copy=False)  # the caller's cells when already clean: no copy
    seq = rows["seq"]
    out["seq"] = pd.Series(seq.to_numpy(dtype=np.int64) if seq.dtype == np.int64 else
                           pd.to_numeric(seq).to_numpy(dtype=np.int64))
    frame = pd.DataFrame({c: out[c] for c in COLUMNS}, index=pd.RangeIndex(len(rows)), copy=False)
    seq = frame["seq"].to_numpy()
    if len(seq) > 1 and (np.diff(seq) < 0).any():
        frame = frame.take(np.argsort(seq, kind="stable")).reset_index(drop=True)
    return frame


def _sets() -> sa.Table:
    from coprod_map import schema

    return schema.METADATA.tables["participation_sets"]


def _changes() -> sa.Table:
    from coprod_map import schema

    return schema.METADATA.tables["changes"]


def read_payload(conn: Connection, project_id: str) -> bytes | None:
    """The stored Parquet payload of the project's set (``None``: no participation)."""
    t = _sets()
    found = conn.execute(sa.select(t.c.payload).where(t.c.project_id == str(project_id))).scalar()
    return None if found is None else bytes(found)


def read(conn: Connection, project_id: str) -> pd.DataFrame:
    """The project's live participation in DB form, ordered by seq (empty frame with COLUMNS when none)."""
    payload = read_payload(conn, project_id)
    if payload is None:
        return empty()
    return normalised(decode(payload))


def store_set(conn: Connection, project_id: str, rows: pd.DataFrame) -> None:
    """Replace the stored set with ``rows`` (DB form) WITHOUT a change row: for the schema upgrade (not a user's
    change) and for ``write``, which records the change itself."""
    if len(rows):
        frame = normalised(rows)
        _store_payload(conn, project_id, encode(frame), len(frame))
    else:
        _store_payload(conn, project_id, None, 0)


def _store_payload(conn: Connection, project_id: str, payload: bytes | None, rows: int) -> None:
    t = _sets()
    conn.execute(t.delete().where(t.c.project_id == str(project_id)))
    if payload is not None:
        conn.execute(t.insert().values(project_id=str(project_id), payload=payload, rows=int(rows)))


def record_batch(conn: Connection, project_id: str, changes: pd.DataFrame) -> dict[str, int]:
    """Add one batch change row holding ``changes`` (a ``diff``); its counts (all 0: nothing written)."""
    counts = counts_of(changes)
    if len(changes):
        conn.execute(_changes().insert().values(project_id=str(project_id), table_name=TABLE_NAME, op=BATCH, old=None,
                                                new=json.dumps(counts), payload=encode(changes)))
    return counts


def write(conn: Connection, project_id: str, rows: pd.DataFrame, *, before: pd.DataFrame | None = None,
          known: Known = ()) -> dict[str, int]:
    """Make the live set equal ``rows`` (DB form, with seq). When anything differs: store the new set and add one
    batch change row (diff payload). Returns the counts {"insert","update","delete"} (all 0: nothing written).

    ``before``: the live set as the caller has just read it in this transaction (saves reading it again).
    ``known``: encodings of ``rows``' text columns already made (``validate.Texts.known``, an import's validation):
    a first write builds its dictionary columns from them instead of encoding a million cells again. One is used
    only for a column holding the very cells it was made of (``validate.same_cells``); the result is the same."""
    after = normalised(rows)
    before = read(conn, project_id) if before is None else normalised(before)
    if len(before):
        old_pairs, new_pairs = pair_codes(before, after)
        if not pd.Index(new_pairs).is_unique:
            raise ValueError("participation rows must be unique by stakeholder and activity")
        changes = _diff(before, after, old_pairs, new_pairs)
        if not len(changes):
            return counts_of(changes)
        store_set(conn, project_id, after)
        return record_batch(conn, project_id, changes)
    if not len(after):
        return counts_of(diff(before, after))
    # Nothing saved yet (a first import, a copy): every row is an insert, so the diff's columns are the set's own,
    # converted to Arrow once for both payloads.
    table = _arrow_table(after, known)
    people, events = (table.column(n).combine_chunks() for n in ("stakeholder_id", "activity_id"))
    pairs = people.indices.to_numpy().astype(np.int64) * max(len(events.dictionary), 1) + events.indices.to_numpy()
    if not pd.Index(pairs).is_unique:
        raise ValueError("participation rows must be unique by stakeholder and activity")
    _store_payload(conn, project_id, _parquet(table), len(after))
    n = len(after)
    inserts = pa.Table.from_arrays([
        pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, dtype=np.int32)), pa.array(["insert"])),
        table.column("stakeholder_id"), table.column("activity_id"),
        pa.nulls(n, pa.int64()), table.column("seq"), pa.nulls(n, pa.string()), table.column("notes"),
        pa.array(np.zeros(n, dtype=bool)),
    ], schema=_batch_schema(table, old_notes=pa.string(), new_notes=table.schema.field("notes").type))
    counts = {"insert": n, "update": 0, "delete": 0}
    conn.execute(_changes().insert().values(project_id=str(project_id), table_name=TABLE_NAME, op=BATCH, old=None,
                                            new=json.dumps(counts), payload=_parquet(inserts)))
    return counts


def write_keys(conn: Connection, project_id: str, rows: pd.DataFrame, *, keys: Iterable[tuple[str, str]],
               before: pd.DataFrame) -> dict[str, int]:
    """What ``write`` of the whole resulting set does (same stored set, same batch row), for a change confined to
    ``keys`` ((stakeholder_id, activity_id) pairs): the saved rows of those keys become ``rows`` (DB form with seq,
    each row's key among ``keys``; a key without a row is removed), every other row of ``before`` (the live set as
    just read in this transaction) stays. The diff is worked out on those keys alone: an edit of one row of a
    million costs one encode of the set, not a million-row diff."""
    keys = [(str(a), str(b)) for a, b in keys]
    rows = normalised(rows) if len(rows) else empty()
    if not len(before):
        return write(conn, project_id, rows, before=before)
    joined = pd.Index([f"{a}\x1f{b}" for a, b in keys], dtype=object)
    mine = _joined(rows)
    if not mine.is_unique:
        raise ValueError("participation rows must be unique by stakeholder and activity")
    if not mine.isin(joined).all():
        raise ValueError("write_keys: a row's key is not among the keys given")
    people = before["stakeholder_id"]
    near = np.flatnonzero(pd.Series(people.to_numpy(dtype=object), dtype=object, copy=False)
                          .isin({a for a, _ in keys}).to_numpy())
    inside = near[_joined(before.iloc[near]).isin(joined)]
    old = before.iloc[inside].reset_index(drop=True)
    changes = diff(old, rows)
    if not len(changes):
        return counts_of(changes)
    kept = np.ones(len(before), dtype=bool)
    kept[inside] = False
    after = pd.concat([before.loc[kept, list(COLUMNS)], rows[list(COLUMNS)]], ignore_index=True)
    store_set(conn, project_id, after)
    return record_batch(conn, project_id, changes)


def _joined(frame: pd.DataFrame) -> pd.Index:
    """(stakeholder_id, activity_id) of each row as one string (ids never hold the control character)."""
    people = frame["stakeholder_id"].to_numpy(dtype=object)
    events = frame["activity_id"].to_numpy(dtype=object)
    return pd.Index(np.asarray([f"{a}\x1f{b}" for a, b in zip(people, events, strict=True)], dtype=object),
                    dtype=object)


def drop_rows(conn: Connection, project_id: str, *, stakeholders: Iterable[str] = (), activities: Iterable[str] = (),
              before: pd.DataFrame | None = None) -> int:
    """Remove the rows of these stakeholders / activities (the FK cascade, done here), recorded as ``write`` records
    them (one batch row of deletes). Returns how many rows went.

    Without ``before`` this works on the stored Parquet itself (filter the Arrow table, write it back), never
    converting the million rows to Python: deleting one person from a big project stays quick."""
    people, events = [str(s) for s in stakeholders], [str(a) for a in activities]
    if not people and not events:
        return 0
    if before is not None:
        current = normalised(before)
        gone = current["stakeholder_id"].isin(people).to_numpy() | current["activity_id"].isin(events).to_numpy()
        if gone.any():
            write(conn, project_id, current.loc[~gone], before=current)
        return int(gone.sum())
    payload = read_payload(conn, project_id)
    if payload is None:
        return 0
    table = _read_arrow(payload)
    gone = pc.or_(_matches(table.column("stakeholder_id"), people), _matches(table.column("activity_id"), events))
    removed = table.filter(gone)
    if not removed.num_rows:
        return 0
    kept = table.filter(pc.invert(gone))
    _store_payload(conn, project_id, _parquet(kept) if kept.num_rows else None, kept.num_rows)
    n = removed.num_rows
    deletes = pa.Table.from_arrays([
        pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, dtype=np.int32)), pa.array(["delete"])),
        removed.column("stakeholder_id"), removed.column("activity_id"),
        removed.column("seq"), pa.nulls(n, pa.int64()), removed.column("notes"), pa.nulls(n, pa.string()),
        pa.array(np.zeros(n, dtype=bool)),
    ], schema=_batch_schema(removed, old_notes=removed.schema.field("notes").type,
                            new_notes=pa.string()))
    counts = {"insert": 0, "update": 0, "delete": n}
    conn.execute(_changes().insert().values(project_id=str(project_id), table_name=TABLE_NAME, op=BATCH, old=None,
                                            new=json.dumps(counts), payload=_parquet(deletes)))
    return n


def _read_arrow(payload: bytes) -> pa.Table:
    source = pa.BufferReader(bytes(payload))
    names = pq.read_schema(source).names
    table = pq.read_table(pa.BufferReader(bytes(payload)), read_dictionary=[
        n for n in names if n in ("stakeholder_id", "activity_id", "notes")])
    return table.combine_chunks()


def _matches(column: pa.ChunkedArray, values: list[str]) -> pa.Array:
    """Which rows of a (dictionary) string column hold one of ``values``: looked up once per distinct text."""
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if not values or not len(array):
        return pa.array(np.zeros(len(array), dtype=bool))
    if not pa.types.is_dictionary(array.type):
        array = array.dictionary_encode()
    hit = pc.is_in(array.dictionary, value_set=pa.array(values, type=pa.string()))
    return pc.fill_null(hit.take(array.indices), False)


def _batch_schema(keys_from: pa.Table, *, old_notes: pa.DataType, new_notes: pa.DataType) -> pa.Schema:
    """The schema of a batch payload built from Arrow columns (``decode`` reads it as ``diff`` frames)."""
    return pa.schema([pa.field("op", pa.dictionary(pa.int32(), pa.string()), nullable=False),
                      keys_from.schema.field("stakeholder_id"), keys_from.schema.field("activity_id"),
                      pa.field("old_seq", pa.int64()), pa.field("new_seq", pa.int64()),
                      pa.field("old_notes", old_notes), pa.field("new_notes", new_notes),
                      pa.field("erased", pa.bool_(), nullable=False)])


def counts_of(changes: pd.DataFrame) -> dict[str, int]:
    """{"insert": n, "update": n, "delete": n} of a diff."""
    ops = changes["op"].to_numpy(dtype=object) if len(changes) else np.empty(0, dtype=object)
    return {op: int((ops == op).sum()) for op in OPS}


# --- diff ----------------------------------------------------------------------------------------

def pair_codes(before: pd.DataFrame, after: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """One int64 per (stakeholder_id, activity_id) pair, the same in both frames."""
    codes = []
    for name in ("stakeholder_id", "activity_id"):
        both = np.concatenate([before[name].to_numpy(dtype=object), after[name].to_numpy(dtype=object)])
        found, uniques = pd.factorize(both)
        codes.append((found.astype(np.int64), max(len(uniques), 1)))
    (people, _), (events, n_events) = codes
    pair = people * n_events + events
    return pair[:len(before)], pair[len(before):]


def diff(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """The net per-row change from ``before`` to ``after`` (both DB form, unique keys): ``DIFF_COLUMNS``, inserts
    (in ``after``'s order), then updates (seq or notes differ), then deletes (in ``before``'s order)."""
    before = before.reset_index(drop=True)
    after = after.reset_index(drop=True)
    if not len(before):
        return _diff_frame("insert", None, after, np.arange(len(after)))
    return _diff(before, after, *pair_codes(before, after))


def _diff(before: pd.DataFrame, after: pd.DataFrame, old_pairs: np.ndarray, new_pairs: np.ndarray) -> pd.DataFrame:
    before = before.reset_index(drop=True)
    after = after.reset_index(drop=True)
    where_old = pd.Index(old_pairs).get_indexer(new_pairs)  # position in before of each after row, -1 when new
    fresh = where_old < 0
    in_new = np.zeros(len(before), dtype=bool)
    in_new[where_old[~fresh]] = True
    both_new = np.flatnonzero(~fresh)
    both_old = where_old[~fresh]
    old_seq, new_seq = before["seq"].to_numpy(dtype=np.int64), after["seq"].to_numpy(dtype=np.int64)
    old_notes, new_notes = before["notes"].to_numpy(dtype=object), after["notes"].to_numpy(dtype=object)
    changed = (old_seq[both_old] != new_seq[both_new]) | (old_notes[both_old] != new_notes[both_new])
    parts = [
        _diff_frame("insert", None, after, np.flatnonzero(fresh)),
        _diff_frame("update", before, after, both_new[changed], old_rows=both_old[changed]),
        _diff_frame("delete", before, None, np.flatnonzero(~in_new)),
    ]
    parts = [p for p in parts if len(p)]
    if not parts:
        return _diff_frame("insert", None, after, np.arange(0))
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]


def _diff_frame(op: str, before: pd.DataFrame | None, after: pd.DataFrame | None, rows: np.ndarray, *,
                old_rows: np.ndarray | None = None) -> pd.DataFrame:
    """Diff rows of one kind: ``rows`` index ``after`` (inserts, updates) or ``before`` (deletes)."""
    n = len(rows)
    old = before if op != "insert" else None
    new = after if op != "delete" else None
    old_at = (old_rows if op == "update" else rows) if old is not None else None
    keys_from, keys_at = (new, rows) if new is not None else (old, old_at)

    def text(frame: pd.DataFrame | None, name: str, at: np.ndarray | None) -> pd.Series:
        if frame is None:
            return pd.Series(np.full(n, None, dtype=object), dtype=object)
        return pd.Series(frame[name].to_numpy(dtype=object)[at], dtype=object)

    def number(frame: pd.DataFrame | None, at: np.ndarray | None) -> pd.Series:
        if frame is None:
            return pd.Series(pd.arrays.IntegerArray(np.zeros(n, dtype=np.int64), np.ones(n, dtype=bool)))
        return pd.Series(pd.array(frame["seq"].to_numpy(dtype=np.int64)[at], dtype="Int64"))

    return pd.DataFrame({
        "op": pd.Series(np.full(n, op, dtype=object), dtype=object),
        "stakeholder_id": text(keys_from, "stakeholder_id", keys_at),
        "activity_id": text(keys_from, "activity_id", keys_at),
        "old_seq": number(old, old_at),
        "new_seq": number(new, rows),
        "old_notes": text(old, "notes", old_at),
        "new_notes": text(new, "notes", rows),
        "erased": pd.Series(np.zeros(n, dtype=bool)),
    }, columns=list(DIFF_COLUMNS))
