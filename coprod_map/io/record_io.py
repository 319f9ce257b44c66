"""The co-production record in our own files: the zip bundle, the XLSX workbook and the JSON backup.

- zip: one CSV per record table under ``record/`` (``record/decisions.csv`` ...), written like the map's
  CSVs (UTF-8 with BOM, lists ``a|b``, blank numbers empty, risky text neutralised; ``private`` yes/no).
- XLSX: one sheet per table named ``record_<table>`` (``record_decisions`` ...).
- JSON: a ``"record"`` object beside ``"tables"``: ``{table: {"columns": [...], "rows": [[...]]}}``.

Reading gives a :class:`RecordRead`: the raw tables found (text as written, with ``_file``/``_row``), the
problems met while reading, and which tables the files held. :func:`record_problems` checks a read record
against the map it goes with and names file, row and column; :func:`staged_record` normalises it.
A table missing from the files is left as saved by the import (so an export without private needs,
which leaves the needs tables out, never wipes them on the way back in).
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from typing import Any

import pandas as pd

from coprod_map.errors import ImportRejected, Problem
from coprod_map.io.cells import json_value, number_text
from coprod_map.model import ProjectSettings, join_list
from coprod_map.record import (
    _DATES,
    RECORD_KEYS,
    RECORD_TABLES,
    TABLE_WORDS,
    Record,
    check_record,
    normalise_record_frame,
)

__all__ = [
    "FOLDER",
    "JSON_KEY",
    "SHEET_PREFIX",
    "RecordRead",
    "is_record_member",
    "is_record_sheet",
    "read_record",
    "record_for_export",
    "record_json",
    "record_members",
    "record_problems",
    "record_sheets",
    "staged_record",
]

FOLDER = "record"
SHEET_PREFIX = "record_"
JSON_KEY = "record"
#: Tables that hold people's stated needs: left out whole by an export without private fields.
PRIVATE_TABLES = ("needs", "need_met")


# --- writing ----------------------------------------------------------------------------------

def record_for_export(record: Record, *, private: bool) -> tuple[Record, tuple[str, ...]]:
    """``(record, tables to write)``. Without ``private`` the needs and whether they were met are left out
    whole (not blanked: an import of the file then leaves the saved needs as they are)."""
    tables = tuple(t for t in RECORD_TABLES if private or t not in PRIVATE_TABLES)
    return record, tables


def _frame(record: Record, table: str) -> pd.DataFrame:
    frame = normalise_record_frame(table, record.table(table))
    return frame[list(RECORD_TABLES[table])]


def _text_rows(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    """Every cell as file text: lists ``a|b``, numbers plain, ``private`` yes/no, blanks ``""``."""
    out = {}
    for column, kind in RECORD_TABLES[table].items():
        values = frame[column]
        if kind == "list":
            out[column] = values.map(join_list).astype(object)
        elif kind in ("Int64", "Float64"):
            out[column] = values.astype(object).map(number_text)
        elif kind == "bool":
            out[column] = values.astype("boolean").fillna(True).map({True: "yes", False: "no"}).astype(object)
        else:
            out[column] = values.astype(object).where(values.notna(), "").astype(str)
    return pd.DataFrame(out, index=frame.index)


def _numeric(table: str) -> list[str]:
    return [c for c, kind in RECORD_TABLES[table].items() if kind in ("Int64", "Float64")]


def record_members(record: Record, tables: Iterable[str] = tuple(RECORD_TABLES)) -> list[tuple[str, bytes]]:
    """``(record/<table>.csv, bytes)`` for the zip bundle (every text cell spreadsheet-safe)."""
    from coprod_map.io.export import csv_bytes

    return [(f"{FOLDER}/{table}.csv", csv_bytes(_text_rows(_frame(record, table), table), _numeric(table)))
            for table in tables]


def record_sheets(record: Record, tables: Iterable[str] = tuple(RECORD_TABLES)
                  ) -> list[tuple[str, list[str], list[list[Any]]]]:
    """``(record_<table>, header, rows)`` for the workbook: numbers stay numbers, the rest text."""
    sheets = []
    for table in tables:
        frame = _frame(record, table)
        text = _text_rows(frame, table)
        columns = []
        for column, kind in RECORD_TABLES[table].items():
            if kind in ("Int64", "Float64"):
                cast = int if kind == "Int64" else float
                columns.append([None if pd.isna(v) else cast(v) for v in frame[column]])
            else:
                columns.append(text[column].tolist())
        sheets.append((f"{SHEET_PREFIX}{table}", list(RECORD_TABLES[table]), [list(r) for r in zip(*columns, strict=True)]))
    return sheets


def record_json(record: Record, tables: Iterable[str] = tuple(RECORD_TABLES)) -> dict[str, Any]:
    """The record as JSON-ready data, types kept (lists as lists, numbers, ``private`` as true/false)."""
    out = {}
    for table in tables:
        frame = _frame(record, table)
        out[table] = {"columns": list(frame.columns),
                      "rows": [[json_value(v) for v in row] for row in frame.itertuples(index=False, name=None)]}
    return out


# --- reading ----------------------------------------------------------------------------------

@dataclass
class RecordRead:
    """Record tables read from files: raw text frames with ``_file``/``_row``, by table."""

    frames: dict[str, list[pd.DataFrame]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)

    @property
    def tables(self) -> tuple[str, ...]:
        return tuple(t for t in RECORD_TABLES if t in self.frames)

    def add(self, other: RecordRead) -> None:
        for table, frames in other.frames.items():
            self.frames.setdefault(table, []).extend(frames)
        self.problems += other.problems
        self.notices += other.notices

    def raw(self) -> Record:
        """A Record of the raw frames (tables not read are empty), for checking."""
        out = {}
        for table in RECORD_TABLES:
            frames = self.frames.get(table)
            if frames:
                out[table] = pd.concat(frames, ignore_index=True, sort=False)
        return Record(**out)


def is_record_member(path: str) -> bool:
    """Whether a zip member belongs to the record (``record/<something>``)."""
    parts = path.replace("\\", "/").split("/")
    return len(parts) >= 2 and parts[-2].casefold() == FOLDER


def is_record_sheet(title: str) -> bool:
    return str(title).strip().casefold().startswith(SHEET_PREFIX)


def _table_of(stem: str) -> str | None:
    key = stem.strip().casefold().replace(" ", "_")
    return key if key in RECORD_TABLES else None


def _our_columns(table: str, frame: pd.DataFrame, file: str, notices: list[str]) -> pd.DataFrame:
    """Headers matched to the table's columns (case and spaces ignored); other columns dropped."""
    from coprod_map.io.tables import header_key

    wanted = {header_key(c): c for c in RECORD_TABLES[table]}
    renames = {h: wanted[header_key(h)] for h in frame.columns if not str(h).startswith("_") and header_key(h) in wanted}
    extra = [h for h in frame.columns if not str(h).startswith("_") and h not in renames]
    if extra:
        notices.append(f"{file}: columns not read: {', '.join(map(str, extra))}")
    return frame.drop(columns=extra).rename(columns=renames)


def _add_frame(table: str, frame: pd.DataFrame, out: RecordRead) -> None:
    """A table read from one file, its dates read the ways files write them (``dates.frame_dates``)."""
    from coprod_map.io.dates import frame_dates

    for column in _DATES.get(table, ()):
        frame, problems, notices = frame_dates(frame, column, table=table)
        out.problems += problems
        out.notices += notices
    out.frames.setdefault(table, []).append(frame)


def _from_sheet(table: str, sheet, out: RecordRead) -> None:
    notices: list[str] = []
    out.problems += sheet.problems
    frame = _our_columns(table, sheet.frame, sheet.file, notices)
    _add_frame(table, frame, out)


def _read_zip(name: str, data: bytes) -> RecordRead:
    from coprod_map.io import tables

    out = RecordRead()
    archive = tables.open_zip(name, data)
    for info in archive.infolist():
        path = info.filename.replace("\\", "/")
        if info.is_dir() or not is_record_member(path) or not path.lower().endswith(".csv"):
            continue
        display = f"{name}: {path}"
        table = _table_of(path.rsplit("/", 1)[-1][:-4])
        if table is None:
            out.problems.append(Problem(display, None, None, "this is not a table of the record. Expected one of: "
                                        f"{', '.join(f'{t}.csv' for t in RECORD_TABLES)}."))
            continue
        try:
            sheet = tables.read_csv(display, tables._read_member(archive, info, name))
        except ImportRejected as rejected:
            if "empty" in " ".join(p.message for p in rejected.problems).lower():
                out.frames.setdefault(table, []).append(pd.DataFrame(columns=list(RECORD_TABLES[table])))
                continue
            out.problems += rejected.problems
            continue
        _from_sheet(table, sheet, out)
    return out


def _read_workbook(name: str, data: bytes) -> RecordRead:
    from coprod_map.io import tables

    out = RecordRead()
    titles = [(t, hidden) for t, hidden in tables.sheet_names(name, data) if is_record_sheet(t)]
    if not titles:
        return out
    wanted = {}
    for title, hidden in titles:
        table = _table_of(title.strip()[len(SHEET_PREFIX):])
        if table is None:
            out.problems.append(Problem(f"{name} (sheet {title})", None, None, "this is not a table of the record. "
                                        f"Expected one of: {', '.join(SHEET_PREFIX + t for t in RECORD_TABLES)}."))
        elif hidden:
            out.problems.append(Problem(f"{name} (sheet {title})", None, None, "this sheet is hidden. Unhide it to "
                                        "import it."))
        else:
            wanted[title.casefold()] = table
    if not wanted:
        return out
    for sheet in tables.read_workbook(name, data, sheets=list(wanted)):
        table = wanted.get(sheet.name.casefold())
        if table is not None:
            _from_sheet(table, sheet, out)
    return out


def _read_json(name: str, data: bytes) -> RecordRead:
    out = RecordRead()
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return out  # the project reader reports a broken file
    part = doc.get(JSON_KEY) if isinstance(doc, dict) else None
    if part is None:
        return out
    damaged = Problem(name, None, None, "the record in this file is damaged. Export the project again.")
    if not isinstance(part, dict):
        out.problems.append(damaged)
        return out
    for table, content in part.items():
        if table not in RECORD_TABLES:
            out.problems.append(Problem(name, None, None, f"'{str(table)[:60]}' is not a table of the record."))
            continue
        columns = content.get("columns") if isinstance(content, dict) else None
        rows = content.get("rows") if isinstance(content, dict) else None
        if not (isinstance(columns, list) and all(isinstance(c, str) for c in columns) and isinstance(rows, list)
                and all(isinstance(r, list) and len(r) == len(columns) for r in rows)):
            out.problems.append(damaged)
            continue
        frame = pd.DataFrame(rows, columns=columns, dtype=object)
        frame = frame[[c for c in columns if c in RECORD_TABLES[table]]]
        frame["_file"] = name
        frame["_row"] = pd.array([pd.NA] * len(frame), dtype="Int64")
        _add_frame(table, frame, out)
    return out


def read_record(name: str, data: bytes, fmt: str) -> RecordRead:
    """The record tables a file of detected format ``fmt`` holds (none for formats that carry no record)."""
    try:
        if fmt == "bundle_zip":
            return _read_zip(name, data)
        if fmt == "workbook":
            return _read_workbook(name, data)
        if fmt == "project_json":
            return _read_json(name, data)
    except ImportRejected as rejected:
        return RecordRead(problems=list(rejected.problems))
    return RecordRead()


# --- checking and staging --------------------------------------------------------------------

_NOUNS = {words: (table, noun) for table, (words, noun) in TABLE_WORDS.items()}


def _where(raw: Record) -> dict[str, dict[str, tuple[str, Any]]]:
    """table -> row id (keys joined `` / ``) -> (file, row) of its first appearance."""
    out: dict[str, dict[str, tuple[str, Any]]] = {}
    for table in RECORD_TABLES:
        frame = raw.table(table)
        if not len(frame) or "_file" not in frame:
            continue
        keys = [frame[k].astype(object).where(frame[k].notna(), "").astype(str) if k in frame
                else pd.Series("", index=frame.index) for k in RECORD_KEYS[table]]
        joined = keys[0]
        for part in keys[1:]:
            joined = joined + " / " + part
        rows = frame["_row"] if "_row" in frame else pd.Series(pd.NA, index=frame.index)
        located: dict[str, tuple[str, Any]] = {}
        for key, file, row in zip(joined, frame["_file"], rows, strict=True):
            located.setdefault(key, (str(file), None if pd.isna(row) else int(row)))
        out[table] = located
    return out


def _located(problem: Problem, where: dict[str, dict[str, tuple[str, Any]]]) -> Problem:
    """A record problem (named by table and row id) re-pointed at the file and sheet row the row came from."""
    found = _NOUNS.get(problem.file)
    if found is None:
        return problem
    table, noun = found
    prefix = f"{noun} '"
    if not problem.message.startswith(prefix):
        return problem
    rest = problem.message[len(prefix):]
    start = 0
    while (cut := rest.find("': ", start)) >= 0:
        key = rest[:cut]
        if key in where.get(table, {}):
            file, row = where[table][key]
            return Problem(file, row, problem.column, problem.message)
        start = cut + 1
    return problem


def record_problems(read: RecordRead, *, stakeholder_ids: Iterable[str] | None,
                    activity_ids: Iterable[str] | None, settings: ProjectSettings | None) -> list[Problem]:
    """Everything wrong with a read record, each naming file, row and column where it can.

    ``None`` for ids or settings skips the checks that need them (the store checks again when saving).
    """
    raw = read.raw()
    problems = check_record(raw, stakeholder_ids=stakeholder_ids or (), activity_ids=activity_ids or (),
                            settings=settings)
    skip = []
    if stakeholder_ids is None:
        skip.append("stakeholder id")
    if activity_ids is None:
        skip.append("activity id")
    problems = [p for p in problems if not any(f"is not a known {s}" in p.message for s in skip)]
    if "needs" not in read.tables:  # need_met rows may point at needs already saved
        problems = [p for p in problems if not (p.column == "need_id" and "is not a known need id" in p.message)]
    where = _where(raw)
    return [*read.problems, *(_located(p, where) for p in problems)]


def staged_record(read: RecordRead) -> Record:
    """The read record normalised (``_file``/``_row`` kept); tables not read are empty."""
    raw = read.raw()
    return Record(**{f.name: normalise_record_frame(f.name, raw.table(f.name)) for f in fields(Record)})


def zip_has_record(archive: zipfile.ZipFile) -> bool:
    return any(is_record_member(i.filename) and not i.is_dir() for i in archive.infolist())


__all__ += ["PRIVATE_TABLES", "zip_has_record"]
