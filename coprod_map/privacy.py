"""Privacy by design: erase a person everywhere, a pseudonymised export, and the retention reminder.

- ``erase_person`` removes a stakeholder, their ties, participation, attribute values and the record rows
  about them (needs, whether needs were met, contributions; their id is taken out of decisions'
  ``made_by``), all in one transaction. Then every history row about them has its values replaced by a
  tombstone, any other history or snapshot text holding their name has the name replaced by
  ``[erased]``, and named snapshots lose their rows. The audit trail keeps one "erase" entry that says
  how many rows went, never who. Participation (schema 7) is a set, not SQL rows: the person's rows leave it
  through ``participation_sets.drop_rows`` (the erase entry records that batch), and every batch payload
  holding them is rewritten with their diff rows erased (keys and values blanked) and their name taken out
  of notes. An erasure cannot be undone, and entries holding tombstones cannot be
  taken back. Free text in *current* rows of other people (a note mentioning the name) is not changed:
  ``mentions`` finds it so a person can review it.
- ``pseudonymise``/``pseudonymised_export``: names and ids replaced by stable codes (``P001``... in the
  stakeholders' saved order, so codes stay put when people are added), notes dropped; the key linking
  codes to people is a separate file, to be kept apart. Representation attributes stay (they are the
  point of the analysis); share the pseudonymised file only with small-number suppression in mind.
- ``retention_reminder``: what to tell the facilitator when the project's retention date is near or past.
"""

from __future__ import annotations

import base64
import json
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from coprod_map import history, history_replay, participation_sets, schema, voice_store
from coprod_map.errors import EditRejected, Problem
from coprod_map.io.export import csv_bytes, export_project, slug
from coprod_map.model import Project, join_list, split_list
from coprod_map.store import Store, _lock_project

__all__ = ["ERASED", "erase_person", "mentions", "pseudonymise", "pseudonymised_export", "retention_reminder"]

ERASED = "[erased]"
_BY_STAKEHOLDER = ("stakeholder_attributes", "participation", "record_reciprocity", "record_needs")


def _about(table: str, row: dict[str, Any] | None, person: str, needs: set[str]) -> bool:
    if not row or history.is_tombstone(row):
        return False
    if table == "stakeholders":
        return str(row.get("id")) == person
    if table in _BY_STAKEHOLDER:
        return str(row.get("stakeholder_id")) == person
    if table == "relationships":
        return person in (str(row.get("source")), str(row.get("target")))
    if table == "record_need_met":
        return str(row.get("need_id")) in needs
    return False


def _names(row: dict[str, Any] | None, name: str) -> bool:
    """Whether a value of ``row`` holds ``name`` (the values themselves: JSON text would escape a quote in it)."""
    return bool(row) and any(isinstance(v, str) and name in v for v in row.values())


def _without_name(row: dict[str, Any] | None, name: str) -> dict[str, Any] | None:
    if not row or not name:
        return row
    return {k: (v.replace(name, ERASED) if isinstance(v, str) else v) for k, v in row.items()}


def erase_person(store: Store, project_id: str, stakeholder_id: str, *, actor: str | None = None) -> int:
    """Erase one stakeholder from the project, its history and its snapshots. Returns the new revision."""
    s = schema.METADATA.tables["stakeholders"]
    c = schema.METADATA.tables["changes"]
    person = str(stakeholder_id)
    with store._write() as conn:
        _lock_project(conn, project_id)  # the erasure rewrites the participation set: other writers wait
        store._project_row(conn, project_id)
        found = conn.execute(sa.select(s.c.name).where(s.c.project_id == project_id, s.c.id == person)).first()
        if found is None:
            raise EditRejected([Problem("Stakeholders table", None, "id", f"there is no stakeholder '{person}' to erase.")])
        name = str(found.name or "").strip()
        _drop_from_decisions(conn, project_id, person)
        participation_sets.drop_rows(conn, project_id, stakeholders=[person])  # participation has no SQL cascade
        voice_store.erase_person_voice(conn, project_id, person, name)  # before its attributes go by cascade
        conn.execute(s.delete().where(s.c.project_id == project_id, s.c.id == person))  # the rest goes by cascade
        store._intend(conn, "erase", actor, summary="a person was erased")
        revision = store._bump(conn, project_id)
        needles = [person, *([name] if name else [])]
        rows = _history_holding(conn, project_id, needles)
        needs = {str(r.get("id")) for t, o, n in zip(rows["table_name"], rows["old"], rows["new"], strict=True)
                 for r in (o, n) if t == "record_needs" and r and str(r.get("stakeholder_id")) == person}
        if needs:  # whether those needs were met: rows holding a need's id
            rows = _history_holding(conn, project_id, [*needles, *sorted(needs)])
        tomb = json.dumps(history.TOMBSTONE)
        updates = []
        for seq, table, old, new in zip(rows["seq"], rows["table_name"], rows["old"], rows["new"], strict=True):
            if _about(table, old, person, needs) or _about(table, new, person, needs):
                updates.append({"k": int(seq), "o": None if old is None else tomb, "n": None if new is None else tomb})
            elif name and (_names(old, name) or _names(new, name)):
                o, n = _without_name(old, name), _without_name(new, name)
                updates.append({"k": int(seq), "o": None if o is None else json.dumps(o, ensure_ascii=False),
                                "n": None if n is None else json.dumps(n, ensure_ascii=False)})
        if updates:
            conn.execute(c.update().where(c.c.seq == sa.bindparam("k"))
                         .values(old=sa.bindparam("o"), new=sa.bindparam("n")), updates)
        _scrub_batches(conn, project_id, person, name)
        _scrub_snapshots(conn, project_id, person, name, needs)
    return revision


def _history_holding(conn: sa.Connection, project_id: str, texts: list[str]) -> pd.DataFrame:
    """The project's JSON change rows (batches aside) whose old or new text may hold one of ``texts``, parsed.

    The database narrows them first (LIKE: a superset, never parsed in Python beyond it): a 100,000-person
    project has millions of change rows and only a handful are about one person. A text JSON would escape
    (a quote, a backslash) cannot be searched for as written, so then every row is read."""
    c = schema.METADATA.tables["changes"]
    query = sa.select(c.c.seq, c.c.table_name, c.c.op, c.c.old, c.c.new).where(
        c.c.project_id == project_id, c.c.op != participation_sets.BATCH)
    if all(t and json.dumps(t, ensure_ascii=False)[1:-1] == t for t in texts):
        query = query.where(sa.or_(*(column.contains(t, autoescape=True) for t in texts
                                     for column in (c.c.old, c.c.new))))
    return history.parse_changes(pd.read_sql(query, conn))


def _scrub_batches(conn: sa.Connection, project_id: str, person: str, name: str) -> None:
    """Rewrite every participation batch payload holding the person: their diff rows erased (keys and values
    blanked, like a tombstone), their name out of other rows' notes. Payloads without them are left alone."""
    c = schema.METADATA.tables["changes"]
    batches = history_replay.driver_rows(conn, sa.select(c.c.seq, c.c.payload).where(
        c.c.project_id == project_id, c.c.table_name == participation_sets.TABLE_NAME,
        c.c.op == participation_sets.BATCH, c.c.payload.is_not(None)))
    for seq, payload in batches:
        diff = participation_sets.decode(bytes(payload))
        about = diff["stakeholder_id"].to_numpy(dtype=object) == person
        named = False
        for column in ("old_notes", "new_notes"):
            values = diff[column].to_numpy(dtype=object)
            hits = np.flatnonzero(pd.Series(values, dtype=object).str.contains(name, regex=False, na=False)
                                  .to_numpy(dtype=bool)) if name else np.empty(0, dtype=np.int64)
            if len(hits):
                values = values.copy()
                values[hits] = [str(v).replace(name, ERASED) for v in values[hits]]
                diff[column] = pd.Series(values, dtype=object)
                named = True
        if not about.any() and not named:
            continue
        if about.any():
            for column in ("stakeholder_id", "activity_id"):
                diff[column] = pd.Series(np.where(about, "", diff[column].to_numpy(dtype=object)), dtype=object)
            for column in ("old_seq", "new_seq"):
                diff[column] = diff[column].mask(about)
            for column in ("old_notes", "new_notes"):
                diff[column] = pd.Series(np.where(about, None, diff[column].to_numpy(dtype=object)), dtype=object)
            diff["erased"] = diff["erased"].to_numpy(dtype=bool) | about
        conn.execute(c.update().where(c.c.seq == int(seq)).values(payload=participation_sets.encode(diff)))


def _drop_from_decisions(conn: sa.Connection, project_id: str, person: str) -> None:
    d = schema.METADATA.tables[schema.RECORD_SQL_TABLES["decisions"]]
    rows = conn.execute(sa.select(d.c.id, d.c.made_by).where(d.c.project_id == project_id,
                                                             d.c.made_by.contains(person))).all()
    for row in rows:
        kept = [p for p in split_list(row.made_by) if p != person]
        if kept != split_list(row.made_by):
            conn.execute(d.update().where(d.c.project_id == project_id, d.c.id == row.id)
                         .values(made_by=join_list(kept), version=d.c.version + 1))


def _scrub_snapshots(conn: sa.Connection, project_id: str, person: str, name: str, needs: set[str]) -> None:
    snaps = schema.METADATA.tables["named_snapshots"]
    decisions = schema.RECORD_SQL_TABLES["decisions"]
    for snap in conn.execute(sa.select(snaps.c.id, snaps.c.data).where(snaps.c.project_id == project_id)).all():
        data = json.loads(snap.data)
        for table, rows in data["tables"].items():
            kept = [_without_name(r, name) for r in rows if not _about(table, r, person, needs)]
            if table == decisions:
                for r in kept:
                    r["made_by"] = join_list([p for p in split_list(r.get("made_by")) if p != person])
            data["tables"][table] = kept
        if data.get("participation_set"):  # a snapshot holding the Parquet set (older ones: rows, done above)
            data["participation_set"] = _scrubbed_set(data["participation_set"], person, name)
        conn.execute(snaps.update().where(snaps.c.id == snap.id).values(data=json.dumps(data, ensure_ascii=False)))


def _scrubbed_set(text: str, person: str, name: str) -> str | None:
    """A snapshot's participation set (base64 Parquet) without the person's rows and with their name replaced by
    ``ERASED`` in every text of the others, as ``_without_name`` does to a row (ids too, so they still match the
    snapshot's other tables). Vectorised: each distinct text is looked at once. ``None`` when no row is left;
    ``text`` itself when nothing changed."""
    frame = participation_sets.normalised(participation_sets.decode(base64.b64decode(text)))
    theirs = frame["stakeholder_id"].to_numpy(dtype=object) == person
    changed = bool(theirs.any())
    if changed:
        frame = frame.loc[~theirs].reset_index(drop=True)
    if name and len(frame):
        for column in ("stakeholder_id", "activity_id", "notes"):
            codes, distinct = pd.factorize(frame[column].to_numpy(dtype=object))
            distinct = np.asarray(distinct, dtype=object)
            hits = pd.Series(distinct, dtype=object).str.contains(name, regex=False).to_numpy(dtype=bool)
            if hits.any():
                distinct[hits] = [str(v).replace(name, ERASED) for v in distinct[hits]]
                frame[column] = pd.Series(distinct[codes], dtype=object)
                changed = True
    if not changed:
        return text
    return base64.b64encode(participation_sets.encode(frame)).decode("ascii") if len(frame) else None


def mentions(project: Project, text: str) -> pd.DataFrame:
    """Rows of the map whose text holds ``text`` (case-sensitive): table, row id, column. For review after an erasure."""
    found = []
    if not text:
        return pd.DataFrame(columns=["table", "row", "column"])
    for table in ("stakeholders", "relationships", "activities", "participation"):
        frame = project.table(table)
        ids = frame["id"] if "id" in frame else frame["stakeholder_id"] + " / " + frame["activity_id"]
        for column in frame.columns:
            values = frame[column].astype(object).map(lambda v: join_list(v) if isinstance(v, list) else str(v))
            hit = values.str.contains(text, regex=False)
            found += [(table, i, column) for i in ids[hit]]
    return pd.DataFrame(found, columns=["table", "row", "column"])


def pseudonymise(project: Project) -> tuple[Project, pd.DataFrame]:
    """The project with names and stakeholder ids replaced by codes and notes dropped; and the key (code, id, name).

    >>> from coprod_map.model import normalise_frame
    >>> p = Project(stakeholders=normalise_frame("stakeholders", pd.DataFrame({"id": ["a", "b"], "name": ["Ann", "Bo"]})))
    >>> safe, key = pseudonymise(p)
    >>> safe.stakeholders["name"].tolist(), key["name"].tolist()
    (['P001', 'P002'], ['Ann', 'Bo'])
    """
    people = project.stakeholders
    width = max(3, len(str(len(people))))
    codes = [f"P{i:0{width}d}" for i in range(1, len(people) + 1)]
    mapping = dict(zip(people["id"].astype(str), codes, strict=True))
    key = pd.DataFrame({"code": codes, "id": people["id"].astype(object).to_numpy(),
                        "name": people["name"].astype(object).to_numpy()})

    def coded(series: pd.Series) -> pd.Series:
        return series.astype(str).map(mapping).fillna(series).astype(object)

    stakeholders = people.assign(id=codes, name=codes, notes="")
    relationships = project.relationships.assign(source=coded(project.relationships["source"]),
                                                 target=coded(project.relationships["target"]), notes="")
    participation = project.participation.assign(stakeholder_id=coded(project.participation["stakeholder_id"]), notes="")
    activities = project.activities.assign(notes="")
    safe = Project(stakeholders=stakeholders, relationships=relationships, activities=activities,
                   participation=participation, reference=project.reference.copy(), settings=project.settings,
                   name=project.name)
    return safe, key


def pseudonymised_export(project: Project, fmt: str, *, name: str = "project"
                         ) -> tuple[tuple[str, bytes, str], tuple[str, bytes, str]]:
    """``(the pseudonymised file, the key file)``, each ``(file name, bytes, MIME type)``. Keep the key apart."""
    safe, key = pseudonymise(project)
    main = export_project(safe, fmt, name=f"{name} pseudonymised")
    key_file = (f"{slug(name)}-pseudonym-key-KEEP-SEPARATE.csv", csv_bytes(key), "text/csv")
    return main, key_file


def retention_reminder(until: str, *, today: date | None = None, warn_days: int = 30) -> tuple[str, str] | None:
    """``(level, message)`` about the retention date: "past", "near", "unset"; ``None`` when it is comfortably ahead.

    >>> retention_reminder("2026-01-10", today=date(2026, 1, 1))[0]
    'near'
    >>> retention_reminder("2026-06-01", today=date(2026, 1, 1)) is None
    True
    """
    today = today or date.today()
    if not until:
        return ("unset", "No retention date is set for this project. Agree with the people in it how long their "
                         "details are kept, and set the date on the History page.")
    due = date.fromisoformat(until)
    days = (due - today).days
    if days < 0:
        return ("past", f"The retention date ({until}) has passed. Review what is kept: erase people who asked, "
                        "purge old history, or agree a new date.")
    if days <= warn_days:
        return ("near", f"The retention date ({until}) is in {days} day{'s' if days != 1 else ''}. "
                        "Plan what to delete or agree a new date.")
    return None
