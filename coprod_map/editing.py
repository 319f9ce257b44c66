"""Turn what a user did in an editable table into rows to save and keys to delete.

Streamlit's ``st.data_editor`` reports a change-set ``{"edited_rows", "added_rows",
"deleted_rows"}`` by *position* in the frame it was shown. This module is pure: it takes that
change-set and the frame that was shown and returns ``(upserts, deletes)`` for
``Store.apply_edits``. It also chooses which rows to show (search and pages) so the page and the
commit callback agree on positions.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from coprod_map.errors import EditRejected, Problem
from coprod_map.model import TABLES, normalise_frame

__all__ = [
    "ID_PREFIX",
    "KEY_COLUMNS",
    "PAGE_SIZE",
    "edits_from_changes",
    "filter_rows",
    "has_changes",
    "next_ids",
    "page_count",
    "shown_rows",
]

KEY_COLUMNS: dict[str, tuple[str, ...]] = {
    "stakeholders": ("id",),
    "relationships": ("id",),
    "activities": ("id",),
    "participation": ("stakeholder_id", "activity_id"),
    "reference": ("attribute", "category"),
}

#: New rows with a blank id get ``<prefix><number>``.
ID_PREFIX: dict[str, str] = {"stakeholders": "s", "relationships": "r", "activities": "a"}

PAGE_SIZE = 200


def has_changes(changes: dict | None) -> bool:
    """Whether a data_editor change-set holds anything at all."""
    if not changes:
        return False
    return bool(changes.get("edited_rows") or changes.get("added_rows") or changes.get("deleted_rows"))


def next_ids(existing: pd.Series | list[str], prefix: str, n: int) -> list[str]:
    """``n`` new ids ``<prefix><k>`` numbered after the highest such id already used.

    >>> next_ids(["s1", "s7", "x99", "s03"], "s", 2)
    ['s8', 's9']
    >>> next_ids([], "r", 1)
    ['r1']
    """
    values = pd.Series(existing, dtype=object).astype(str)
    numbers = values.str.extract(rf"^{re.escape(prefix)}(\d+)$", expand=False).dropna()
    start = int(numbers.astype(int).max()) + 1 if len(numbers) else 1
    return [f"{prefix}{k}" for k in range(start, start + n)]


def filter_rows(frame: pd.DataFrame, query: str) -> pd.DataFrame:
    """Rows where any column contains ``query`` (case-insensitive, plain text, not a pattern).

    >>> df = pd.DataFrame({"id": ["s1", "s2"], "name": ["Youth club", "Library"], "roles": [["host"], []]})
    >>> filter_rows(df, "CLUB")["id"].tolist()
    ['s1']
    >>> filter_rows(df, "host")["id"].tolist()
    ['s1']
    """
    query = query.strip().lower()
    if not query or frame.empty:
        return frame
    hit = pd.Series(False, index=frame.index)
    for column in frame.columns:
        if str(column).startswith("_"):
            continue
        values = frame[column]
        if values.map(lambda v: isinstance(v, list)).any():
            values = values.map(lambda v: "|".join(map(str, v)) if isinstance(v, list) else v)
        text = values.astype(object).where(values.notna(), "").astype(str).str.lower()
        hit |= text.str.contains(query, regex=False)
    return frame[hit]


def page_count(n_rows: int, page_size: int = PAGE_SIZE) -> int:
    """How many pages ``n_rows`` need (at least one).

    >>> page_count(0), page_count(200), page_count(201)
    (1, 1, 2)
    """
    return max(1, -(-n_rows // page_size))


def shown_rows(frame: pd.DataFrame, *, query: str = "", page: int = 1, page_size: int = PAGE_SIZE) -> pd.DataFrame:
    """The rows the editor shows: filtered by ``query``, then page ``page`` (1-based), index reset."""
    filtered = filter_rows(frame, query)
    page = min(max(1, int(page)), page_count(len(filtered), page_size))
    start = (page - 1) * page_size
    return filtered.iloc[start : start + page_size].reset_index(drop=True)


def _key(row: pd.Series | dict, columns: tuple[str, ...]) -> Any:
    values = tuple("" if row.get(c) is None else str(row.get(c)) for c in columns)
    return values[0] if len(values) == 1 else values


def edits_from_changes(
    table: str,
    shown: pd.DataFrame,
    changes: dict,
    *,
    existing: pd.DataFrame | None = None,
    file: str | None = None,
) -> tuple[pd.DataFrame, list]:
    """``(upserts, deletes)`` for ``Store.apply_edits`` from a data_editor change-set.

    ``upserts`` holds whole rows (the shown row with the edits applied, and added rows) in
    canonical form, without provenance columns: problems found later name the row by its id,
    which is what a user sees in the table. ``deletes`` holds the keys of deleted
    rows, and the old key of a row whose key was changed (single-column keys as ``str``,
    others as tuples). ``existing`` is the whole saved table (not only the shown page): new rows
    with a blank id get the next free id, and a new or changed key that another saved row already
    has is refused (an upsert would otherwise overwrite that row). Raises ``EditRejected`` for
    such keys and for number columns holding something that is not a number.

    >>> shown = pd.DataFrame({"id": ["s1", "s2"], "name": ["Ann", "Bo"]})
    >>> ups, dels = edits_from_changes("stakeholders", shown,
    ...     {"edited_rows": {"1": {"name": "Bob"}}, "added_rows": [{"name": "Cy"}], "deleted_rows": [0]})
    >>> ups[["id", "name"]].values.tolist(), dels
    ([['s2', 'Bob'], ['s3', 'Cy']], ['s1'])
    """
    keys = KEY_COLUMNS[table]
    file = file or table
    edited = {int(pos): dict(values) for pos, values in (changes.get("edited_rows") or {}).items()}
    added = [dict(row) for row in (changes.get("added_rows") or [])]
    deleted = sorted({int(pos) for pos in (changes.get("deleted_rows") or [])})

    rows: list[dict] = []
    new_key_rows: list[int] = []  # positions in ``rows`` whose key is new (added, or changed)
    deletes: list = [_key(shown.iloc[pos], keys) for pos in deleted if pos < len(shown)]
    for pos, values in sorted(edited.items()):
        if pos in deleted or pos >= len(shown):
            continue
        before = shown.iloc[pos].to_dict()
        after = {**before, **values, "_file": file, "_row": pos + 2}
        rows.append(after)
        if _key(after, keys) != _key(before, keys):
            deletes.append(_key(before, keys))
            new_key_rows.append(len(rows) - 1)
    for i, values in enumerate(added):
        new_key_rows.append(len(rows))
        rows.append({**values, "_file": file, "_row": len(shown) + i + 2})

    columns = [c for c in shown.columns if not str(c).startswith("_")]
    frame = pd.DataFrame(rows, columns=list(dict.fromkeys([*columns, *TABLES[table], "_file", "_row"])))
    saved = existing if existing is not None else shown
    frame = _fill_ids(table, frame, saved.get("id", []))
    problems = _key_problems(table, frame, new_key_rows, saved, deletes, file) + _number_problems(table, frame, file)
    if problems:
        raise EditRejected(problems)
    return normalise_frame(table, frame.drop(columns=["_file", "_row"])), deletes


def _fill_ids(table: str, frame: pd.DataFrame, existing: Any) -> pd.DataFrame:
    prefix = ID_PREFIX.get(table)
    if prefix is None or frame.empty:
        return frame
    ids = frame["id"].astype(object).where(frame["id"].notna(), "").astype(str).str.strip()
    blank = ids == ""
    if blank.any():
        taken = pd.concat([pd.Series(list(existing), dtype=object), ids[~blank]], ignore_index=True)
        ids[blank] = next_ids(taken, prefix, int(blank.sum()))
    frame = frame.copy()
    frame["id"] = ids
    return frame


def _key_problems(
    table: str, frame: pd.DataFrame, new_rows: list[int], saved: pd.DataFrame, deletes: list, file: str
) -> list[Problem]:
    keys = KEY_COLUMNS[table]
    if not new_rows or not all(k in saved for k in keys):
        return []
    taken = {_key(row, keys) for row in saved[list(keys)].to_dict("records")} - set(deletes)
    problems, seen = [], set()
    for pos in new_rows:
        key = _key(frame.iloc[pos], keys)
        if key in taken or key in seen:
            shown_key = key if isinstance(key, str) else " / ".join(key)
            what = "id" if keys == ("id",) else " and ".join(keys)
            problems.append(Problem(file, None, keys[0], f"{what} '{shown_key}' is used more than once. "
                                    "Choose one that no other row has."))
        seen.add(key)
    return problems


def _number_problems(table: str, frame: pd.DataFrame, file: str) -> list[Problem]:
    problems = []
    for column, kind in TABLES[table].items():
        if kind not in ("Int64", "Float64") or column not in frame:
            continue
        raw = frame[column].astype(object)
        blank = raw.isna() | raw.map(lambda v: isinstance(v, str) and not v.strip())
        bad = pd.to_numeric(raw.where(~blank, None), errors="coerce").isna() & ~blank
        where = frame[bad].apply(lambda row: ", ".join(str(row[k]) for k in KEY_COLUMNS[table]), axis=1)
        problems += [
            Problem(file, None, column, f"row '{key}': '{value}' is not a number. Type a number.")
            for key, value in zip(where, frame.loc[bad, column], strict=True)
        ]
    return problems
