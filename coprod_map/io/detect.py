"""What a file holds, decided from its content (magic bytes, XML root, sheet names, headers), never its name."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from coprod_map.errors import ImportRejected, Problem
from coprod_map.io import tables
from coprod_map.io.tables import Sheet, header_key

__all__ = ["ATTENDANCE_DATE", "ATTENDANCE_EVENT", "ATTENDANCE_FIRST_NAME", "ATTENDANCE_LAST_NAME", "ATTENDANCE_NOTES",
           "ATTENDANCE_PERSON", "Detection", "classify_headers", "detect_content", "has_attendance_person",
           "rename_headers"]

# Headers (``header_key`` forms) an attendance list may use for each of its columns, the most specific first:
# when two headers could fill one column, the first in its list is used (and a notice names the other).
#: one column with the person's whole name
ATTENDANCE_PERSON = ("full_name", "participant_name", "attendee_name", "person_name", "participant", "attendee",
                     "attendees", "person", "name", "who")
#: a first name and a last name column, joined with a space (used when no column has the whole name)
ATTENDANCE_FIRST_NAME = ("first_name", "firstname", "forename", "given_name")
ATTENDANCE_LAST_NAME = ("last_name", "lastname", "surname", "family_name")
ATTENDANCE_EVENT = ("session_name", "session_title", "event_name", "event_title", "activity_name", "activity_title",
                    "course_name", "course_title", "group_session", "session", "meeting", "workshop", "event",
                    "activity", "course")
ATTENDANCE_DATE = ("date_attended", "attended_on", "attendance_date", "date_of_attendance", "session_date",
                   "date_of_session", "event_date", "date_of_event", "meeting_date", "date_of_meeting",
                   "activity_date", "date_of_activity", "date", "when")
#: notes on one person's taking part (participation notes)
ATTENDANCE_NOTES = ("notes", "note", "comments", "comment")


def has_attendance_person(keys: set[str]) -> bool:
    """Whether headers (``header_key`` forms) name who took part: a whole-name column, or first and last name.

    >>> has_attendance_person({"first_name", "surname"}), has_attendance_person({"first_name", "session"})
    (True, False)
    """
    return bool(keys & set(ATTENDANCE_PERSON)) or bool(keys & set(ATTENDANCE_FIRST_NAME) and
                                                       keys & set(ATTENDANCE_LAST_NAME))


BUNDLE_SIGNATURES = (
    ("participation", ("stakeholder_id", "activity_id")),
    ("reference", ("attribute", "category")),
    ("activities", ("id", "title")),
    ("stakeholders", ("id", "name")),
)


@dataclass
class Detection:
    format: str
    table: str | None              # bundle table, or "elements"/"connections" for Kumu sheets
    sheets: list[tuple[Sheet, str, str | None]] = field(default_factory=list)  # (sheet, format, table)
    graph: object | None = None    # parsed graph file (graphfiles.GraphData)
    project: object | None = None  # a whole project read from the JSON backup
    settings: dict | None = None
    notices: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def classify_headers(headers: list[str]) -> tuple[str, str | None]:
    """(format, table) from a sheet's headers; ``("bundle_csv", None)`` when nothing matches.

    >>> classify_headers(["Label", "Type", "Tags"])
    ('kumu', 'elements')
    >>> classify_headers(["Source", "Target", "Weight"])
    ('gephi_edges', None)
    >>> classify_headers(["id", "name", "age band"])
    ('bundle_csv', 'stakeholders')
    >>> classify_headers(["Participant", "Session", "Date"])
    ('attendance', None)
    >>> classify_headers(["First name", "Surname", "Course", "Date attended"])
    ('attendance', None)
    """
    keys = [header_key(h) for h in headers]
    found = set(keys)
    if {"from", "to"} <= found:
        return "kumu", "connections"
    if {"source", "target"} <= found:
        gephi = "weight" in found or "Source" in [h.strip() for h in headers]
        return ("gephi_edges", None) if gephi else ("bundle_csv", "relationships")
    for table, required in BUNDLE_SIGNATURES:
        if set(required) <= found:
            return "bundle_csv", table
    if keys and keys[0] == "label":
        return "kumu", "elements"
    if "id" in found and ("label" in found or "Id" in [h.strip() for h in headers]):
        return "gephi_nodes", None
    if "id" in found:
        return "bundle_csv", "stakeholders"
    if has_attendance_person(found) and found & set(ATTENDANCE_EVENT):
        return "attendance", None
    if "label" in found:
        return "kumu", "elements"
    return "bundle_csv", None


def rename_headers(sheet: Sheet, column_map: dict[str, str] | None) -> Sheet:
    """Apply the user's column mapping ({their header: our column}; blank = drop) to a sheet."""
    if not column_map:
        return sheet
    renames = {h: column_map[h] for h in sheet.headers if h in column_map and column_map[h]}
    dropped = [h for h in sheet.headers if h in column_map and not column_map[h]]
    frame = sheet.frame.drop(columns=dropped).rename(columns=renames)
    headers = [renames.get(h, h) for h in sheet.headers if h not in dropped]
    problems = list(sheet.problems)
    seen: set[str] = set()
    for h in headers:
        if header_key(h) in seen:
            problems.append(Problem(sheet.file, 1, h, f"two columns are mapped to '{h}'. Map only one of them."))
        seen.add(header_key(h))
    codes, kept = {}, set()
    for h in sheet.headers:  # each column's encoding follows it; of two mapped to one name, the first is kept
        if h not in dropped and renames.get(h, h) not in kept:
            kept.add(renames.get(h, h))
            if h in sheet.codes:
                codes[renames.get(h, h)] = sheet.codes[h]
    return Sheet(sheet.file, sheet.name, headers, frame.loc[:, ~frame.columns.duplicated()], problems,
                 list(sheet.notices), sheet.hidden, sheet.delimiter, sheet.encoding, codes)


_XML_START = re.compile(rb"^\s*(<\?xml[^>]*\?>\s*)?(<!--.*?-->\s*)*<", re.DOTALL)

KUMU_SHEETS = {"elements": "elements", "connections": "connections"}


def detect_content(name: str, data: bytes, *, column_map: dict[str, str] | None = None) -> Detection:
    """Parse a file just enough to know its format; the parsed sheets/graph are kept for reading."""
    kind = tables.textio.binary_kind(data)
    if kind == "ole":
        raise ImportRejected([Problem(name, None, None, tables.LEGACY_MESSAGE)])
    if kind == "zip":
        archive = tables.open_zip(name, data)
        members = {i.filename for i in archive.infolist()}
        if "xl/workbook.xml" in members:
            return _detect_workbook(name, data, column_map)
        from coprod_map.io import bundle

        return bundle.detect_zip(name, archive, column_map)
    if kind:
        raise ImportRejected([Problem(name, None, None, tables._binary_message(kind))])
    head = data[:4096]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        head = data[:8192].decode("utf-16", errors="ignore").encode("utf-8")
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    if head.lstrip().startswith(b"{"):
        return _detect_json(name, data)
    if _XML_START.match(head):
        from coprod_map.io import graphfiles

        graph = graphfiles.read_graph_file(name, data)
        return Detection(graph.format, None, graph=graph)
    sheet = rename_headers(tables.read_csv(name, data), column_map)
    fmt, table = classify_headers(sheet.headers)
    return Detection(fmt, table if fmt in ("bundle_csv", "kumu") else None, sheets=[(sheet, fmt, table)])


def _detect_workbook(name: str, data: bytes, column_map: dict[str, str] | None) -> Detection:
    from coprod_map.model import TABLES

    listing = tables.sheet_names(name, data)
    notices: list[str] = []
    problems: list[Problem] = []
    usable = [(title, hidden) for title, hidden in listing if "(ignore)" not in title.casefold()]
    skipped = [title for title, _ in listing if "(ignore)" in title.casefold()]
    if skipped:
        notices.append(f"{name}: sheets skipped because they are marked (ignore): {', '.join(skipped)}")
    by_key = {header_key(title): (title, hidden) for title, hidden in usable}
    kumu = [by_key[k] for k in KUMU_SHEETS if k in by_key]
    bundle = [by_key[k] for k in (*TABLES, "settings") if k in by_key]
    if kumu:
        fmt, chosen = "kumu", kumu
    elif bundle:
        fmt, chosen = "workbook", bundle
    else:
        visible = [(t, h) for t, h in usable if not h]
        if len(visible) != 1:
            titles = ", ".join(f"'{t}'" for t, _ in usable) or "none"
            raise ImportRejected([Problem(name, None, None,
                                          f"this workbook has sheets {titles}, and none is named after a table "
                                          "(stakeholders, relationships, activities, participation, reference) or "
                                          "Kumu's Elements/Connections. Rename the sheet to import, or save it as CSV.")])
        fmt, chosen = None, visible
    for title, hidden in chosen:
        if hidden:
            problems.append(Problem(f"{name} (sheet {title})", None, None,
                                    "this sheet is hidden. Unhide it to import it, or add (ignore) to its name."))
    other = [t for t, _ in usable if (t, False) not in chosen and (t, True) not in chosen
             and not (fmt == "workbook" and t.casefold().startswith("record_"))]  # read by io.record_io
    if other:
        notices.append(f"{name}: sheets not read: {', '.join(other)}")
    sheets = tables.read_workbook(name, data, sheets=[title for title, hidden in chosen if not hidden])
    out: list[tuple[Sheet, str, str | None]] = []
    settings = None
    for sheet in sheets:
        sheet = rename_headers(sheet, column_map)
        key = header_key(sheet.name)
        if fmt == "kumu":
            out.append((sheet, "kumu", KUMU_SHEETS[key]))
        elif fmt == "workbook" and key == "settings":
            settings, settings_problems = _settings_sheet(sheet)
            problems += settings_problems
        elif fmt == "workbook":
            out.append((sheet, "workbook", key))
        else:
            sheet_format, table = classify_headers(sheet.headers)
            out.append((sheet, sheet_format, table))
    if fmt is None:
        fmt = out[0][1] if out else "workbook"
        if fmt == "bundle_csv":
            fmt = "workbook"
    return Detection(fmt, None, sheets=out, notices=notices, problems=problems,
                     settings=settings if fmt == "workbook" else None)


def _settings_sheet(sheet: Sheet) -> tuple[dict | None, list[Problem]]:
    """The exporter's ``settings`` sheet: JSON in the cell under the ``settings_json`` header."""
    import json

    if "settings_json" not in sheet.headers or not len(sheet.frame):
        return None, [Problem(sheet.file, 1, None, "the settings sheet needs a 'settings_json' column with the "
                              "settings in row 2. Export the project again, or rename the sheet.")]
    text = sheet.frame["settings_json"].iloc[0]
    try:
        loaded = json.loads(text)
    except json.JSONDecodeError:
        loaded = None
    if not isinstance(loaded, dict):
        return None, [Problem(sheet.file, int(sheet.frame["_row"].iloc[0]), "settings_json",
                              "the settings are not valid JSON. Export the project again.")]
    return loaded, []


def _detect_json(name: str, data: bytes) -> Detection:
    """The exporter's JSON backup (the whole project, types included)."""
    from coprod_map.io.export import read_project_json

    try:
        project = read_project_json(data.decode("utf-8-sig"))
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as error:
        message = str(error) if isinstance(error, ValueError) and "coprod_map" in str(error) or "version" in str(error) \
            else "This JSON file is not a coprod_map project export, or it is damaged."
        raise ImportRejected([Problem(name, None, None, message)]) from None
    return Detection("project_json", None, project=project, settings=project.settings.to_dict())
