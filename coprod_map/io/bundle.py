"""Our own bundle: ``stakeholders.csv``, ``relationships.csv``, ``activities.csv``, ``participation.csv``,
``reference.csv`` as separate CSVs, a zip of them (optionally with ``settings.json``), or one XLSX
workbook with those sheet names. Which table a CSV is comes from its headers, not its name.
"""

from __future__ import annotations

import json
import zipfile

from coprod_map.errors import ImportRejected, Problem
from coprod_map.io import record_io, tables
from coprod_map.io.tables import Part, Sheet, header_key, map_columns

__all__ = ["REQUIRED_COLUMNS", "detect_zip", "table_part"]

REQUIRED_COLUMNS = {
    "stakeholders": ("id", "name"),
    "relationships": ("source", "target"),
    "activities": ("id", "title"),
    "participation": ("stakeholder_id", "activity_id"),
    "reference": ("attribute", "category"),
}

MAX_SETTINGS_BYTES = 1024 * 1024


def missing_columns(sheet: Sheet, required: tuple[str, ...], *, shown: tuple[str, ...] | None = None) -> list[Problem]:
    """One problem per required column absent from the sheet's headers (compared by ``header_key``)."""
    found = {header_key(h) for h in sheet.headers}
    listed = ", ".join(sheet.headers) or "no headers"
    return [Problem(sheet.file, 1, None, f"required column '{name}' is missing. Found: {listed}.")
            for name, key in zip(shown or required, required, strict=True) if header_key(key) not in found]


def table_part(sheet: Sheet, table: str) -> tuple[Part | None, list[Problem], list[str]]:
    """A bundle sheet as one of our tables. Extra stakeholder columns become attributes; elsewhere dropped."""
    problems = missing_columns(sheet, REQUIRED_COLUMNS[table])
    if table == "reference" and not {"count", "share"} & {header_key(h) for h in sheet.headers}:
        problems.append(Problem(sheet.file, 1, None, "the reference table needs a 'count' or a 'share' column. "
                                f"Found: {', '.join(sheet.headers)}."))
    if problems:
        return None, problems, []
    part, notices = map_columns(sheet, table, {}, extras="attributes" if table == "stakeholders" else "drop")
    return part, [], notices + tables.scientific_ids(sheet, "id" if "id" in sheet.headers else "")


def detect_zip(name: str, archive: zipfile.ZipFile, column_map: dict[str, str] | None):
    """A zip of bundle CSVs: every ``.csv`` entry read and classified by its headers."""
    from coprod_map.io.detect import Detection, classify_headers, rename_headers

    detection = Detection("bundle_zip", None)
    for info in archive.infolist():
        base = info.filename.replace("\\", "/").rsplit("/", 1)[-1]
        if info.is_dir() or info.filename.startswith("__MACOSX/") or base.startswith("."):
            continue
        if record_io.is_record_member(info.filename):
            continue  # the co-production record: read by coprod_map.io.record_io
        display = f"{name}: {base}"
        lower = base.lower()
        if lower.endswith((".csv", ".tsv", ".txt")):
            content = tables._read_member(archive, info, name)
            sheet = rename_headers(tables.read_csv(display, content), column_map)
            fmt, table = classify_headers(sheet.headers)
            detection.sheets.append((sheet, fmt, table))
        elif lower in ("settings.json", "project.json"):
            if info.file_size > MAX_SETTINGS_BYTES:
                detection.problems.append(Problem(display, None, None, "this settings file is too large to be real."))
                continue
            try:
                loaded = json.loads(tables._read_member(archive, info, name).decode("utf-8-sig"))
            except (UnicodeDecodeError, json.JSONDecodeError) as error:
                detection.problems.append(Problem(display, getattr(error, "lineno", None), None,
                                                  "this settings file is not valid JSON. Export the project again."))
                continue
            if isinstance(loaded, dict):
                detection.settings = loaded.get("settings", loaded) if isinstance(loaded.get("settings"), dict) else loaded
        else:
            detection.notices.append(f"{display}: not a CSV file; skipped")
    if not detection.sheets and not record_io.zip_has_record(archive):
        raise ImportRejected([Problem(name, None, None, "this zip file holds no CSV files. Expected "
                                      "stakeholders.csv, relationships.csv and so on.")])
    return detection
