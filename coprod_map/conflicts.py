"""Spotting edits made by someone else meanwhile (optimistic concurrency, one version number per row).

An editor remembers the ``version`` of every row it was built from (``Store.row_versions``). When it
saves, ``Store.apply_edits(..., expected_versions=...)`` compares them with the versions saved now,
inside the saving transaction, and refuses with ``EditConflict`` (nothing written) when a row it
changes or deletes was changed, deleted or added by someone else since. The audit trail
(``actions``, when the database has one) says who and when: "changed by X at T".

The comparison (``find_conflicts``) and the wording (``Conflict.describe``) are pure; ``check_versions``
runs them inside the store's transaction and holds the project's row lock, so no other save can slip in
between the check and the write (SQLite writers already queue on ``BEGIN IMMEDIATE``; PostgreSQL takes
``SELECT ... FOR UPDATE`` on the project).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from coprod_map.errors import CoprodError

__all__ = ["Conflict", "EditConflict", "check_versions", "expected_frame", "find_conflicts", "latest_authors"]

_WORDS = {"stakeholders": "Stakeholder", "relationships": "Relationship", "activities": "Activity"}
_VERSIONED = frozenset(_WORDS)

Versions = Mapping[str, int] | pd.DataFrame


@dataclass(frozen=True)
class Conflict:
    """One row someone else changed (``what``: changed / deleted / added) since the editor read it."""

    table: str
    id: str
    what: str
    expected: int | None  # the version the editor read (None: the editor never saw the row)
    current: int | None  # the version saved now (None: the row is gone)
    by: str = ""
    at: str = ""  # ISO time of that change, when the audit trail knows it

    def describe(self) -> str:
        """Plain words, no row values: "Stakeholder 's1' was changed by ann@example.org at 2026-05-01 10:02."

        >>> Conflict("stakeholders", "s1", "deleted", 2, None).describe()
        "Stakeholder 's1' was deleted by someone else after you opened it."
        """
        thing = f"{_WORDS.get(self.table, self.table)} '{self.id}'"
        verb = {"changed": "was changed", "deleted": "was deleted", "added": "was added"}.get(self.what, "was changed")
        who = f"by {self.by}" if self.by else "by someone else"
        when = f" at {self.at.replace('T', ' ')[:16]} (UTC)" if self.at else " after you opened it"
        return f"{thing} {verb} {who}{when}."

    def __str__(self) -> str:
        return self.describe()


class EditConflict(CoprodError):
    """Someone else saved a change to the same rows first. Nothing was saved; ``conflicts`` lists the rows."""

    def __init__(self, conflicts: Iterable[Conflict]) -> None:
        self.conflicts = list(conflicts)
        count = len(self.conflicts)
        rows = "row was" if count == 1 else "rows were"
        super().__init__(f"{count} {rows} changed by someone else since you opened the table, so nothing was saved. "
                         "Reload to see their change, then make yours again (or keep theirs).")

    def details(self) -> str:
        """One line per row."""
        return "\n".join(c.describe() for c in self.conflicts)

    @property
    def ids(self) -> list[str]:
        return [c.id for c in self.conflicts]


def expected_frame(expected: Versions) -> pd.DataFrame:
    """``{id: version}`` or a frame with ``id`` and ``version`` (as ``row_versions`` gives) -> a clean frame.

    >>> expected_frame({"s1": 2}).to_dict("records")
    [{'id': 's1', 'version': 2}]
    """
    if isinstance(expected, pd.DataFrame):
        missing = {"id", "version"} - set(expected.columns)
        if missing:
            raise ValueError(f"expected_versions needs columns id and version (missing: {', '.join(sorted(missing))})")
        frame = expected[["id", "version"]]
    else:
        frame = pd.DataFrame({"id": list(expected.keys()), "version": list(expected.values())})
    return pd.DataFrame({"id": frame["id"].astype(str).astype(object).to_numpy(),
                         "version": pd.to_numeric(frame["version"]).astype(int).to_numpy()})


def find_conflicts(expected: Versions, current: pd.DataFrame, touched: Iterable[str]) -> pd.DataFrame:
    """Rows in ``touched`` (ids being changed or deleted) that moved on since ``expected`` was read.

    Columns ``id, what, expected, current``: *changed* (versions differ), *deleted* (read, now gone) or
    *added* (not read, but saved now: someone else added the same id meanwhile). Rows the editor
    neither read nor finds saved are new rows: no conflict.

    >>> now = pd.DataFrame({"id": ["a", "b", "d"], "version": [1, 3, 1]})
    >>> find_conflicts({"a": 1, "b": 2, "c": 1}, now, ["a", "b", "c", "d", "e"])[["id", "what"]].values.tolist()
    [['b', 'changed'], ['c', 'deleted'], ['d', 'added']]
    """
    read = expected_frame(expected).set_index("id")["version"]
    saved = expected_frame(current).set_index("id")["version"] if len(current) else pd.Series(dtype=int)
    ids = pd.Index(sorted({str(t) for t in touched}), dtype=object)
    before = read.reindex(ids).astype("Int64")
    now = saved.reindex(ids).astype("Int64")
    what = pd.Series(pd.NA, index=ids, dtype=object)
    what[before.notna() & now.notna() & (before != now).fillna(False)] = "changed"
    what[before.notna() & now.isna()] = "deleted"
    what[before.isna() & now.notna()] = "added"
    hit = what.notna()
    return pd.DataFrame({"id": ids[hit].to_numpy(dtype=object), "what": what[hit].to_numpy(dtype=object),
                         "expected": before[hit].to_numpy(), "current": now[hit].to_numpy()})


def latest_authors(changes: pd.DataFrame, actions: pd.DataFrame) -> pd.DataFrame:
    """Who made the latest logged change to each row: ``changes`` (key, action_id, seq) joined with
    ``actions`` (id, actor, at) -> ``key, by, at``.

    >>> ch = pd.DataFrame({"key": ["s1", "s1"], "action_id": [1, 2], "seq": [1, 2]})
    >>> ac = pd.DataFrame({"id": [1, 2], "actor": ["ann", "bo"], "at": ["t1", "t2"]})
    >>> latest_authors(ch, ac).values.tolist()
    [['s1', 'bo', 't2']]
    """
    if not len(changes):
        return pd.DataFrame({"key": [], "by": [], "at": []}, dtype=object)
    last = changes.sort_values("seq").drop_duplicates("key", keep="last")
    merged = last.merge(actions.rename(columns={"id": "action_id"}), on="action_id", how="left")
    return pd.DataFrame({"key": merged["key"].astype(object),
                         "by": merged["actor"].astype(object).where(merged["actor"].notna(), ""),
                         "at": merged["at"].astype(object).where(merged["at"].notna(), "")})


def _authors(conn: Connection, project_id: str, table: str, ids: list[str]) -> pd.DataFrame:
    """The audit trail's word on who last changed each row; empty when this database keeps none."""
    from coprod_map import history, schema

    tables = schema.METADATA.tables
    if "changes" not in tables or "actions" not in tables:
        return latest_authors(pd.DataFrame(), pd.DataFrame())
    c, a = tables["changes"], tables["actions"]
    raw = pd.read_sql(sa.select(c.c.seq, c.c.action_id, c.c.table_name, c.c.op, c.c.old, c.c.new)
                      .where(c.c.project_id == project_id, c.c.table_name == table, c.c.action_id.is_not(None)), conn)
    if not len(raw):
        return latest_authors(pd.DataFrame(), pd.DataFrame())
    parsed = history.parse_changes(raw)
    parsed = parsed.loc[parsed["key"].isin(ids)]
    acts = pd.read_sql(sa.select(a.c.id, a.c.actor, a.c.at).where(
        a.c.id.in_([int(x) for x in pd.unique(parsed["action_id"])])), conn) if len(parsed) else pd.DataFrame(
        {"id": [], "actor": [], "at": []})
    return latest_authors(parsed[["key", "action_id", "seq"]], acts)


def check_versions(conn: Connection, project_id: str, table: str, expected: Versions, touched: Iterable[str]) -> None:
    """Inside the saving transaction: lock the project, compare, raise ``EditConflict`` naming each row.

    Returns quietly when nothing conflicts (or the project does not exist: the store says so next).
    """
    from coprod_map import schema

    if table not in _VERSIONED:
        raise ValueError(f"{table} has no row versions; expected_versions works for {', '.join(sorted(_VERSIONED))}")
    touched = [str(t) for t in touched]
    p = schema.METADATA.tables["projects"]
    # The row lock makes every versioned save of this project queue behind this one until it commits
    # (SQLAlchemy leaves FOR UPDATE out on SQLite, where BEGIN IMMEDIATE has already serialised writers).
    if conn.execute(sa.select(p.c.id).where(p.c.id == str(project_id)).with_for_update()).first() is None:
        return
    if not touched:
        return
    t = schema.METADATA.tables[table]
    current = pd.read_sql(sa.select(t.c.id, t.c.version).where(t.c.project_id == str(project_id),
                                                                t.c.id.in_(touched)), conn)
    found = find_conflicts(expected, current, touched)
    if not len(found):
        return
    authors = _authors(conn, str(project_id), table, found["id"].tolist()).set_index("key")
    raise EditConflict([
        Conflict(table=table, id=str(i), what=str(w),
                 expected=None if pd.isna(e) else int(e), current=None if pd.isna(c) else int(c),
                 by=str(authors["by"].get(i, "")) if len(authors) else "",
                 at=str(authors["at"].get(i, "")) if len(authors) else "")
        for i, w, e, c in zip(found["id"], found["what"], found["expected"], found["current"], strict=True)
    ])
