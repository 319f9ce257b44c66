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
import re
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from coprod_map import history, history_replay, participation_sets, schema, voice_store
from coprod_map.errors import EditRejected, Problem
from coprod_map.io.export import csv_bytes, export_project, slug
from coprod_map.model import NOT_RECORDED, PREFER_NOT_TO_SAY, Project, join_list, split_list
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
        _erase_lone_categories(conn, project_id, person)  # before its attributes go, and before ``_bump``
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


def _erase_lone_categories(conn: sa.Connection, project_id: str, person: str) -> None:
    """Take out of the settings every attribute category only this person held. Call before their rows go.

    An import makes each distinct value of an attribute column one of its categories, so a free-text column (an
    email, the name of someone a person cares for) puts one person's value into the project's settings, where it
    points at them as surely as their row did. A category is erased when the person held it, no other stakeholder
    holds it (then it describes a group, not them), the reference population does not list it (then it describes
    the population) and it is not "not recorded" or "prefer not to say". It leaves the current settings' list; in
    the settings kept by history (``projects`` change rows, old and new) and by named snapshots it becomes
    ``ERASED`` in that attribute's list (once: a list never names a category twice), all else as it was. The
    current settings are written before the erasure's ``_bump``, so their change row belongs to the one "erase"
    entry (written after it, the row would wait and join whichever action came next); that row is rewritten here
    with the rest of history, since its ``old`` holds the value."""
    a, ref = schema.METADATA.tables["stakeholder_attributes"], schema.METADATA.tables["reference"]
    p, c = schema.METADATA.tables["projects"], schema.METADATA.tables["changes"]
    snaps = schema.METADATA.tables["named_snapshots"]
    special = {NOT_RECORDED, PREFER_NOT_TO_SAY}
    held = {(str(r[0]), str(r[1])) for r in conn.execute(sa.select(a.c.attribute, a.c.value).where(
        a.c.project_id == project_id, a.c.stakeholder_id == person)) if r[1] and str(r[1]).strip().casefold() not in special}
    if not held:
        return
    values = sorted({v for _, v in held})
    shared = {(str(r[0]), str(r[1])) for r in conn.execute(sa.select(a.c.attribute, a.c.value).distinct().where(
        a.c.project_id == project_id, a.c.stakeholder_id != person, a.c.value.in_(values)))}
    listed = {(str(r[0]), str(r[1])) for r in conn.execute(sa.select(ref.c.attribute, ref.c.category).where(
        ref.c.project_id == project_id, ref.c.category.in_(values)))}
    lone: dict[str, set[str]] = {}
    for attribute, value in held - shared - listed:
        lone.setdefault(attribute, set()).add(value)
    if not lone:
        return

    def rewritten(text: Any, *, drop: bool) -> str | None:
        """Settings JSON ``text`` with the lone categories dropped (or replaced); ``None`` when nothing changed."""
        settings = json.loads(text or "{}") if isinstance(text, str) else None
        lists = settings.get("attributes") if isinstance(settings, dict) else None
        changed = False
        for attribute, gone in lone.items():
            old = lists.get(attribute) if isinstance(lists, dict) else None
            if not isinstance(old, list) or not any(isinstance(v, str) and v in gone for v in old):
                continue
            if drop:
                new = [v for v in old if not (isinstance(v, str) and v in gone)]
            else:
                new = [ERASED if isinstance(v, str) and v in gone else v for v in old]
                new = [v for i, v in enumerate(new) if v != ERASED or new.index(ERASED) == i]
            lists[attribute], changed = new, True
        return json.dumps(settings, ensure_ascii=False) if changed else None

    # the database narrows the rows when every value is written the same in any JSON (plain ASCII); else all are read
    plain = all(v.isascii() and json.dumps(v)[1:-1] == v for gone in lone.values() for v in gone)

    def holding(column: sa.ColumnElement) -> sa.ColumnElement[bool]:
        return sa.or_(*(column.contains(v, autoescape=True) for gone in lone.values() for v in gone)) if plain else sa.true()

    current = rewritten(conn.execute(sa.select(p.c.settings).where(p.c.id == project_id)).scalar_one(), drop=True)
    if current is not None:
        conn.execute(p.update().where(p.c.id == project_id).values(settings=current))
    updates = []
    for seq, old, new in conn.execute(sa.select(c.c.seq, c.c.old, c.c.new).where(
            c.c.project_id == project_id, c.c.table_name == "projects", sa.or_(holding(c.c.old), holding(c.c.new)))):
        texts = []
        for text in (old, new):
            row = json.loads(text) if text else None
            settings = rewritten(row.get("settings"), drop=False) if isinstance(row, dict) else None
            texts.append(text if settings is None else json.dumps({**row, "settings": settings}, ensure_ascii=False))
        if texts != [old, new]:
            updates.append({"k": int(seq), "o": texts[0], "n": texts[1]})
    if updates:
        conn.execute(c.update().where(c.c.seq == sa.bindparam("k"))
                     .values(old=sa.bindparam("o"), new=sa.bindparam("n")), updates)

    def spliced(text: str) -> str | None:
        """Snapshot data ``text`` with its settings rewritten (``None``: unchanged). A big project's snapshot is
        100+ MB of JSON and its settings come third: only the keys up to them are decoded, the rest kept as text."""
        decode, space = json.JSONDecoder().raw_decode, re.compile(r"[ \t\n\r]*")
        at = space.match(text, 1).end() if text.startswith("{") else -1
        while at >= 0 and text.startswith('"', at):
            key, at = decode(text, at)
            at = space.match(text, space.match(text, at).end() + 1).end()  # past the colon
            if key not in ("name", "description", "settings"):
                break  # another order (or the big tables first): decode it all
            start = at
            value, at = decode(text, at)
            if key == "settings":
                settings = rewritten(value, drop=False)
                return None if settings is None else text[:start] + json.dumps(settings, ensure_ascii=False) + text[at:]
            at = space.match(text, at).end()
            at = space.match(text, at + 1).end() if text.startswith(",", at) else -1
        data = json.loads(text)
        settings = rewritten(data.get("settings"), drop=False)
        return None if settings is None else json.dumps({**data, "settings": settings}, ensure_ascii=False)

    for snap in conn.execute(sa.select(snaps.c.id, snaps.c.data).where(
            snaps.c.project_id == project_id, holding(snaps.c.data))).all():
        data = spliced(snap.data)
        if data is not None:
            conn.execute(snaps.update().where(snaps.c.id == snap.id).values(data=data))


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
