"""The import entry point: detect each file, read every file, validate everything, return it staged.

``read_files`` is all-or-nothing: it raises ``ImportRejected`` with every problem across all files
(capped at ``MAX_PROBLEMS`` plus a final "and N more"), or returns the incoming data normalised,
each frame carrying ``_file``/``_row`` provenance. It writes nothing; the store does.

Cross-references (relationship ends, participation ids) are checked against the ids in the import
plus those of ``existing`` (the project being imported into) when the store passes it. Without it,
a reference is only checked when the import itself holds that table (so a relationships-only file
can be merged into a saved project; the store checks the merged result).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from pandas.api.types import infer_dtype

from coprod_map import model, validate
from coprod_map.errors import ImportRejected, Problem
from coprod_map.io import attendance, bundle, dates, gephi, kumu, record_io
from coprod_map.io.detect import Detection, detect_content
from coprod_map.io.tables import Part, Sheet
from coprod_map.record import Record

__all__ = ["FORMATS", "MAX_PROBLEMS", "DetectedFile", "Staged", "check_files", "detect", "read_files"]

FORMATS = ("bundle_csv", "bundle_zip", "workbook", "kumu", "gephi_nodes", "gephi_edges", "graphml", "gexf",
           "attendance", "project_json")
MAX_PROBLEMS = 200
PREVIEW_ROWS = 10


@dataclass(frozen=True)
class DetectedFile:
    name: str
    format: str
    table: str | None
    description: str
    columns: list[str]
    preview: pd.DataFrame


@dataclass
class Staged:
    project: model.Project
    files: list[DetectedFile]
    notices: list[str] = field(default_factory=list)
    #: The co-production record the files carry (None: they carry none), and which of its tables they hold
    #: (an import leaves the other tables as saved). Save both with ``record_store.import_with_record``.
    record: Record | None = None
    record_tables: tuple[str, ...] = ()


# --- detection -------------------------------------------------------------------------------

_TABLE_WORDS = {"stakeholders": "stakeholders", "relationships": "relationships", "activities": "activities",
                "participation": "participation records", "reference": "reference rows"}


def _describe(name: str, found: Detection) -> DetectedFile:
    if found.project is not None:
        counts = found.project.counts()
        stakeholders = found.project.stakeholders
        text = "Project backup (JSON): " + ", ".join(f"{n} {_TABLE_WORDS[t]}" for t, n in counts.items())
        return DetectedFile(name, found.format, None, text, [str(c) for c in stakeholders.columns],
                            stakeholders.head(PREVIEW_ROWS).astype(str).reset_index(drop=True))
    if found.graph is not None:
        nodes = pd.DataFrame(found.graph.nodes, dtype=object).fillna("")
        return DetectedFile(name, found.format, None, found.graph.describe(), list(nodes.columns),
                            nodes.head(PREVIEW_ROWS).reset_index(drop=True))
    sheets = found.sheets
    first: Sheet | None = sheets[0][0] if sheets else None
    columns = list(first.headers) if first else []
    preview = first.frame[first.headers].head(PREVIEW_ROWS).reset_index(drop=True) if first else pd.DataFrame()
    fmt = found.format
    if fmt == "kumu":
        counts = {t: len(s.frame) for s, _, t in sheets}
        where = "workbook" if len(sheets) != 1 or " (sheet " in sheets[0][0].file else "CSV"
        parts = [f"{counts[t]} {w}" for t, w in (("elements", "elements"), ("connections", "connections")) if t in counts]
        text = f"Kumu {where}: {', '.join(parts)}"
    elif fmt in ("bundle_zip", "workbook"):
        parts = [f"{len(s.frame)} {_TABLE_WORDS.get(t or '', s.name)}" for s, _, t in sheets]
        text = f"{'Zip of CSV files' if fmt == 'bundle_zip' else 'Workbook'}: {', '.join(parts) or 'no tables'}"
    elif fmt == "bundle_csv":
        table = found.table
        rows = len(first.frame) if first else 0
        text = (f"{table.capitalize()} table: {rows} rows" if table else
                f"CSV file with {rows} rows; its columns were not recognised. Match them to ours.")
    elif fmt == "gephi_nodes":
        text = f"Gephi node table: {len(first.frame)} nodes"
    elif fmt == "gephi_edges":
        text = f"Gephi edge table: {len(first.frame)} edges"
    else:
        text = f"Attendance list: {len(first.frame)} rows"
    return DetectedFile(name, fmt, found.table if fmt == "bundle_csv" else None, text, columns, preview)


def detect(name: str, data: bytes) -> DetectedFile:
    """What a file holds, from its content. Raises ImportRejected (one Problem) when it cannot be read."""
    return _describe(name, detect_content(name, data))


# --- reading ---------------------------------------------------------------------------------

@dataclass
class _Collected:
    parts: list[Part] = field(default_factory=list)
    kumu_connections: list[Part] = field(default_factory=list)
    attendance: list[Part] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    files: list[DetectedFile] = field(default_factory=list)
    settings: dict | None = None
    record: record_io.RecordRead = field(default_factory=record_io.RecordRead)


def _sheet_parts(sheet: Sheet, fmt: str, table: str | None, out: _Collected) -> None:
    if fmt in ("bundle_csv", "workbook"):
        if table is None:
            out.problems.append(Problem(sheet.file, 1, None, "could not tell which table this is from its headers "
                                        f"({', '.join(sheet.headers)}). Expected e.g. id and name for stakeholders, "
                                        "source and target for relationships. Match the columns to ours."))
            return
        part, problems, notices = bundle.table_part(sheet, table)
        parts = [part] if part else []
    elif fmt == "kumu":
        if table == "connections":
            part, problems, notices = kumu.connections_part(sheet)
            if part:
                out.kumu_connections.append(part)
            parts = []
        else:
            part, problems, notices = kumu.elements_part(sheet)
            parts = [part] if part else []
    elif fmt == "gephi_nodes":
        part, problems, notices = gephi.nodes_part(sheet)
        parts = [part] if part else []
    elif fmt == "gephi_edges":
        part, problems, notices = gephi.edges_part(sheet)
        parts = [part] if part else []
    else:
        parts, problems, notices = attendance.attendance_parts(sheet)
        out.attendance += parts
        parts = []
    out.parts += parts
    out.problems += problems
    out.notices += notices


def _read_dates(out: _Collected) -> None:
    """Dates written the ways people's files write them (``dates``) -> ISO, per column of each file's table."""
    for group in (out.parts, out.kumu_connections):
        for part in group:
            for column in validate.DATES.get(part.table, ()):
                part.frame, problems, notices = dates.frame_dates(part.frame, column, table=part.table,
                                                                  header=part.source_columns.get(column))
                out.problems += problems
                out.notices += notices


def _collect(files: list[tuple[str, bytes]], column_map: dict[str, dict[str, str]] | None) -> _Collected:
    out = _Collected()
    column_map = column_map or {}
    for name, data in files:
        try:
            found = detect_content(name, data, column_map=column_map.get(name))
        except ImportRejected as rejected:
            out.problems += rejected.problems
            continue
        out.files.append(_describe(name, found))
        out.problems += found.problems
        out.notices += found.notices
        if found.settings is not None:
            out.settings = found.settings
        record = record_io.read_record(name, data, found.format)
        out.record.add(record)
        out.notices += record.notices
        if found.project is not None:
            for table in model.TABLES:
                frame = found.project.table(table).copy()
                frame["_file"] = name
                frame["_row"] = pd.array([pd.NA] * len(frame), dtype="Int64")
                out.parts.append(Part(table, frame))
        if found.graph is not None:
            out.problems += found.graph.problems
            out.parts += found.graph.parts()
            out.notices += found.graph.notices
        for sheet, fmt, table in found.sheets:
            out.problems += sheet.problems
            out.notices += sheet.notices
            try:
                _sheet_parts(sheet, fmt, table, out)
            except ImportRejected as rejected:  # a sheet refused whole (e.g. a date-of-birth column)
                out.problems += rejected.problems
    _read_dates(out)
    return out


def _concat(parts: list[Part], table: str) -> pd.DataFrame:
    frames = [p.frame for p in parts if p.table == table]
    if not frames:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in model.TABLES[table]})
    frame = pd.concat(frames, ignore_index=True, sort=False) if len(frames) > 1 else frames[0].reset_index(drop=True)
    for column in frame.columns:
        if column == "_row":
            frame[column] = frame[column].astype("Int64")
        elif frame[column].dtype == object and infer_dtype(frame[column].to_numpy(), skipna=False) != "string" \
                and frame[column].hasnans:  # all text (one quick C pass) holds no NaN
            frame[column] = frame[column].where(frame[column].notna(), "")
    return frame


def _source_columns(parts: list[Part]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for part in parts:
        for ours, theirs in part.source_columns.items():
            out.setdefault(part.table, {}).setdefault(ours, theirs)
    return out


def _merge_attendance(found: _Collected, stakeholders: pd.DataFrame, activities: pd.DataFrame,
                      existing: model.Project | None) -> tuple[list[Part], dict[str, str], dict[str, str]]:
    """Attendance people/activities that match ones already named (same name / title and date) reuse their id.
    Also returns which ids were swapped for which (people, activities)."""
    if not found.attendance:
        return [], {}, {}
    known_people = pd.concat([stakeholders[["id", "name"]]] +
                             ([existing.stakeholders[["id", "name"]]] if existing is not None else []))
    people_by_name = dict(zip(known_people["name"].astype(str), known_people["id"].astype(str), strict=True))
    known_acts = pd.concat([activities[["id", "title", "date"]]] +
                           ([existing.activities[["id", "title", "date"]]] if existing is not None else []))
    acts_by_key = dict(zip(known_acts["title"].astype(str) + "\x1f" + known_acts["date"].astype(str),
                           known_acts["id"].astype(str), strict=True))
    parts: list[Part] = []
    person_ids: dict[str, str] = {}
    activity_ids: dict[str, str] = {}
    for part in found.attendance:
        frame = part.frame
        if part.table == "stakeholders" and not people_by_name or part.table == "activities" and not acts_by_key:
            parts.append(Part(part.table, frame, part.source_columns))  # nothing already named to match
        elif part.table == "stakeholders":
            reuse = frame["name"].map(people_by_name)
            person_ids.update({a: b for a, b in zip(frame["id"][reuse.notna()], reuse[reuse.notna()], strict=True)})
            parts.append(Part(part.table, frame[reuse.isna()], part.source_columns))
        elif part.table == "activities":
            reuse = (frame["title"] + "\x1f" + frame["date"]).map(acts_by_key)
            activity_ids.update({a: b for a, b in zip(frame["id"][reuse.notna()], reuse[reuse.notna()], strict=True)})
            parts.append(Part(part.table, frame[reuse.isna()], part.source_columns))
        else:
            parts.append(part)
    if not person_ids and not activity_ids:
        return parts, person_ids, activity_ids
    for part in parts:
        if part.table == "participation":
            part.frame = part.frame.assign(stakeholder_id=_swapped(part.frame["stakeholder_id"], person_ids),
                                           activity_id=_swapped(part.frame["activity_id"], activity_ids))
    found.notices.append(f"attendance: {len(person_ids)} people and {len(activity_ids)} activities matched ones "
                         "already named and kept their ids")
    return parts, person_ids, activity_ids


def _swapped(values: pd.Series, new: dict[str, str]) -> pd.Series:
    """``values.replace(new)``, one lookup per distinct value (``replace`` with a dict of thousands of ids
    tests each id against the whole column: minutes at a million rows)."""
    if not new or not len(values):
        return values
    codes, distinct = pd.factorize(values, use_na_sentinel=False)
    swapped = np.array([new.get(v, v) if isinstance(v, str) else v for v in distinct], dtype=object)
    return pd.Series(swapped[codes], index=values.index, dtype=values.dtype)


def _codes(frame: pd.DataFrame, column: str, codes: dict, *, multi: bool = False) -> None:
    """Words or codes -> codes, in place; anything unknown is left for validation to report."""
    if column not in frame.columns or not len(frame):
        return
    if multi:
        items = {i for v in frame[column] for i in model.split_list(v)}
        table = {i: model.normalise_code(i, codes) or i for i in items}
        frame[column] = frame[column].map(lambda v: "|".join(table[i] for i in model.split_list(v)))
    else:
        values = frame[column].astype(str).str.strip()
        table = {v: (model.normalise_code(v, codes) or v) if v else "" for v in values.unique()}
        frame[column] = values.map(table)


def _generate_ids(frame: pd.DataFrame, prefix: str) -> pd.DataFrame:
    """Blank ids -> ``r1``, ``r2`` ... in file order, skipping ids already used."""
    if "id" not in frame.columns:
        frame["id"] = ""
    blank = frame["id"].astype(str).str.strip() == ""
    if not blank.any():
        return frame
    used = set(frame["id"][~blank])
    new, n = [], 0
    for _ in range(int(blank.sum())):
        n += 1
        while f"{prefix}{n}" in used:
            n += 1
        new.append(f"{prefix}{n}")
    frame.loc[blank, "id"] = new
    return frame


def _percent_shares(frame: pd.DataFrame, notices: list[str]) -> None:
    if "share" not in frame.columns or not len(frame):
        return
    text = frame["share"].astype(str).str.strip()
    numbers = pd.to_numeric(text.where(text != "", None), errors="coerce")
    if numbers.notna().any() and (numbers > 1).any() and (numbers <= 100).all() and (numbers >= 0).all():
        frame["share"] = (numbers / 100).map(lambda v: "" if pd.isna(v) else repr(float(v))).where(numbers.notna(), text)
        notices.append("reference shares were written as percentages and were read as fractions (45 -> 0.45)")


def _build(found: _Collected, existing: model.Project | None) -> tuple[model.Project, dict[str, dict[str, str]], bool]:
    """The project the files make, its source columns, and whether its participation table is sound by
    construction (see ``_sound_participation``)."""
    stakeholders = _concat(found.parts, "stakeholders")
    activities = _concat(found.parts, "activities")
    extra_parts, person_ids, activity_ids = _merge_attendance(found, stakeholders, activities, existing)
    parts = found.parts + extra_parts
    if found.kumu_connections:
        known = [stakeholders, *(p.frame for p in extra_parts if p.table == "stakeholders"),
                 *([existing.stakeholders] if existing is not None else [])]
        people, notices = kumu.named_people(found.kumu_connections, known)  # names no element holds: new people
        found.notices += notices
        parts = parts + people + found.kumu_connections
    tables = {name: _concat(parts, name) for name in model.TABLES}
    for attr in ("id", "name"):
        if attr in tables["stakeholders"].columns:
            tables["stakeholders"][attr] = tables["stakeholders"][attr].astype(str)
    tables["relationships"] = _generate_ids(tables["relationships"], "r")
    for (table, column), (codes, _what, multi) in validate.CODED.items():
        _codes(tables[table], column, codes, multi=multi)
    _percent_shares(tables["reference"], found.notices)
    settings = model.ProjectSettings.from_dict(found.settings) if found.settings else model.ProjectSettings()
    project = model.Project(**tables, settings=settings)
    return project, _source_columns(parts), _sound_participation(parts, found.attendance, person_ids, activity_ids)


def _sound_participation(parts: list[Part], attendance_parts: list[Part], person_ids: dict[str, str],
                         activity_ids: dict[str, str]) -> bool:
    """True when the participation table is one attendance list's, as ``attendance.attendance_parts`` made it
    (every row has both ids, no pair comes twice, every id is one of the people and activities made beside
    it), with at most some ids swapped for ids already named (``_merge_attendance``) in a way that keeps
    that: each swapped-in id not blank, and no two ids made one. Such a table is sound by construction:
    ``check_project`` and the reference checks could find nothing in it, so they skip it (at a million
    rows they would be most of the import's time).
    """
    taken = [p for p in parts if p.table == "participation"]
    if len(taken) != 1 or not any(taken[0] is p for p in attendance_parts):
        return False
    for table, swapped in (("stakeholders", person_ids), ("activities", activity_ids)):
        if swapped:
            made = next(p for p in attendance_parts if p.table == table).frame["id"].tolist()
            final = [swapped.get(i, i) for i in made]
            if len(set(final)) != len(final) or not all(i.strip() for i in final):
                return False
    return True


def _reference_problems(project: model.Project, existing: model.Project | None,
                        source_columns: dict[str, dict[str, str]]) -> list[Problem]:
    """Cross-reference checks against the import plus the existing project (see module docstring)."""
    stakeholders = project.stakeholders
    activities = project.activities
    if existing is not None:
        stakeholders = pd.concat([stakeholders, existing.stakeholders[["id"]]], ignore_index=True)
        activities = pd.concat([activities, existing.activities[["id"]]], ignore_index=True)
    check_people = existing is not None or len(project.stakeholders) > 0
    check_acts = existing is not None or len(project.activities) > 0
    probe = model.Project(
        stakeholders=stakeholders,
        activities=activities,
        relationships=project.relationships if check_people else model.empty_frame("relationships"),
        participation=project.participation if check_people or check_acts else model.empty_frame("participation"),
    )
    problems = validate._check_references(probe, source_columns)
    if not check_people:
        problems = [p for p in problems if "stakeholder id" not in p.message]
    if not check_acts:
        problems = [p for p in problems if "activity id" not in p.message]
    return problems


def _all_problems(files, column_map, existing) -> tuple[_Collected, model.Project | None, list[Problem]]:
    found = _collect(files, column_map)
    problems = list(found.problems)
    project = None
    if found.files:
        project, source_columns, sound = _build(found, existing)
        probe = dataclasses.replace(project, participation=project.participation.iloc[:0]) if sound else project
        problems += validate.check_project(probe, cells=False, references=False, source_columns=source_columns)
        problems += _reference_problems(probe, existing, source_columns)
        if found.record.tables or found.record.problems:
            problems += _record_problems(found, project, existing)
    return found, project, _unique(problems)


def _record_problems(found: _Collected, project: model.Project, existing: model.Project | None) -> list[Problem]:
    """The record checked against the ids and review cycles it will be saved with (each only when known)."""
    def ids(table: str) -> list[str] | None:
        if existing is None and not len(project.table(table)):
            return None
        known = [project.table(table)["id"]] + ([existing.table(table)["id"]] if existing is not None else [])
        return pd.concat(known, ignore_index=True).astype(str).tolist()

    settings = None
    if found.settings is not None or existing is not None:
        cycles = list(existing.settings.cycles) if existing is not None else []
        named = {str(c.get("name", "")) for c in cycles}
        cycles += [c for c in project.settings.cycles if str(c.get("name", "")) not in named]
        settings = model.ProjectSettings(cycles=cycles)
    return record_io.record_problems(found.record, stakeholder_ids=ids("stakeholders"),
                                     activity_ids=ids("activities"), settings=settings)


def _blank_lists(project: model.Project) -> model.Project:
    """List columns a table lacks, added as blank text: ``normalised`` gives the same ``[]`` per row for
    a missing column and for ``""``, and the blank text takes its quick path (no call per row)."""
    tables = {}
    for name, columns in model.TABLES.items():
        frame = project.table(name)
        missing = [c for c, kind in columns.items() if kind == "list" and c not in frame.columns]
        tables[name] = frame.assign(**{c: "" for c in missing}) if missing and len(frame) else frame
    return dataclasses.replace(project, **tables)


def _unique(problems: list[Problem]) -> list[Problem]:
    return list(dict.fromkeys(problems))


def _capped(problems: list[Problem]) -> list[Problem]:
    if len(problems) <= MAX_PROBLEMS:
        return problems
    extra = len(problems) - MAX_PROBLEMS
    return problems[:MAX_PROBLEMS] + [Problem("(all files)", None, None, f"and {extra:,} more problems not shown. "
                                              "Fix the ones above and import again to see the rest.")]


def read_files(files: list[tuple[str, bytes]], *, column_map: dict[str, dict[str, str]] | None = None,
               existing: model.Project | None = None) -> Staged:
    """Read, check and stage every file. Raises ImportRejected listing every problem; writes nothing.

    ``column_map``: file name -> {their header: our column} (blank = ignore that column).
    ``existing``: the project being imported into, so references to saved rows count as known.
    """
    if not files:
        raise ImportRejected([Problem("(no files)", None, None, "No files were given. Choose at least one file.")])
    found, project, problems = _all_problems(files, column_map, existing)
    if problems:
        raise ImportRejected(_capped(problems))
    assert project is not None
    try:
        staged = _blank_lists(project).normalised()
    except (ValueError, TypeError):  # validation should have caught it; never show a traceback
        raise ImportRejected([Problem("(all files)", None, None, "some numbers could not be read. "
                                      "Check the number columns.")]) from None
    record = record_io.staged_record(found.record) if found.record.tables else None
    return Staged(staged, found.files, list(dict.fromkeys(found.notices)), record, found.record.tables)


def check_files(files: list[tuple[str, bytes]], *, column_map: dict[str, dict[str, str]] | None = None,
                existing: model.Project | None = None) -> list[Problem]:
    """The same checks as ``read_files``; returns the problems (capped), never raises, changes nothing."""
    if not files:
        return [Problem("(no files)", None, None, "No files were given. Choose at least one file.")]
    return _capped(_all_problems(files, column_map, existing)[2])
