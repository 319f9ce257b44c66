"""Export a project to the files people already use: our CSV bundle, Excel, Kumu, Gephi, GraphML, GEXF, JSON.

What each format carries:

- ``bundle`` (zip) and ``xlsx``: every table and the settings. Zip members / sheets are
  ``stakeholders``, ``relationships``, ``activities``, ``participation``, ``reference`` and
  ``settings`` (``settings.json`` in the zip; in the workbook a sheet whose cell A2 holds the same
  JSON under the header ``settings_json``). Stakeholder columns are the core columns then the
  project's attribute columns. Lists are written ``a|b``; blank numbers are empty cells.
  CSVs are UTF-8 with a byte-order mark so Excel reads accents right.
- ``json``: the whole project exactly (types included); ``read_project_json`` reads it back.
- The co-production record, when ``export_project`` is given one, goes into those three as well
  (``record/<table>.csv``, sheets ``record_<table>``, a ``"record"`` object; see ``coprod_map.io.record_io``);
  ``private=False`` leaves people's stated needs out.
- ``kumu``, ``gephi``, ``graphml``, ``gexf``: stakeholders and relationships only (with their
  attributes). Activities, participation and the reference population are **not** carried by
  these network formats.

Spreadsheet cells that would run as formulas are neutralised (see ``coprod_map.io.cells``): CSV
cells get a leading apostrophe, XLSX text is always a string cell with Excel's quote prefix.
GraphML, GEXF and JSON are not opened by spreadsheets and hold the text as it is.
"""

from __future__ import annotations

import io
import json
import re
import unicodedata
import zipfile
from collections.abc import Iterable
from typing import Any

import networkx as nx
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from coprod_map.io import record_io
from coprod_map.io.cells import json_value, neutralise_series, number_text, strip_illegal_xml, xlsx_text
from coprod_map.model import (
    KINDS,
    LIST_COLUMNS,
    STAKEHOLDER_COLUMNS,
    TABLES,
    Project,
    ProjectSettings,
    attribute_columns,
    join_list,
    label_for,
    normalise_frame,
    to_graph,
)
from coprod_map.record import Record

__all__ = [
    "FORMATS",
    "GRAPH_ONLY_FORMATS",
    "JSON_FORMAT",
    "csv_bytes",
    "export_project",
    "project_json",
    "read_project_json",
    "slug",
    "table_rows",
    "workbook_bytes",
    "writable_graph",
]

FORMATS: dict[str, str] = {
    "bundle": "CSV files in a zip: every table and the settings (opens in any spreadsheet)",
    "xlsx": "Excel workbook: every table on its own sheet, and the settings",
    "kumu": "Kumu workbook: stakeholders and relationships, ready for Kumu's import",
    "gephi": "Gephi spreadsheets in a zip: stakeholders as nodes, relationships as edges",
    "graphml": "GraphML network file: stakeholders and relationships (for Gephi, yEd, Cytoscape, NetworkX)",
    "gexf": "GEXF network file: stakeholders and relationships (Gephi's own format)",
    "json": "JSON backup: the whole project exactly as stored",
}

#: Formats that also carry the co-production record (when one is given).
RECORD_FORMATS = frozenset({"bundle", "xlsx", "json"})

#: Formats that hold only stakeholders and relationships.
GRAPH_ONLY_FORMATS = frozenset({"kumu", "gephi", "graphml", "gexf"})

JSON_FORMAT = "coprod_map project"
JSON_VERSION = 1

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_ZIP_DATE = (2025, 1, 1, 0, 0, 0)  # fixed member dates: the same project gives the same bytes
_BOM = "\ufeff"


# --- names ----------------------------------------------------------------------------------

def slug(name: str, *, default: str = "project", max_length: int = 60) -> str:
    """A safe file-name stem from any text: ASCII letters, digits and single hyphens.

    >>> slug("Sample: Riverside mental health redesign")
    'sample-riverside-mental-health-redesign'
    >>> slug("../../etc/passwd"), slug("=1+2"), slug("   ")
    ('etc-passwd', '1-2', 'project')
    """
    text = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode("ascii").lower()
    text = re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:max_length].strip("-")
    return text or default


# --- tables as plain rows -------------------------------------------------------------------

def _export_frame(project: Project, table: str) -> pd.DataFrame:
    """The table in canonical form without provenance columns, core columns first."""
    frame = normalise_frame(table, project.table(table))
    return frame[[c for c in frame.columns if not str(c).startswith("_")]]


def table_rows(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    """Every cell as file text (lists joined ``a|b``, numbers as plain text, blanks ``""``), not neutralised."""
    kinds = TABLES[table]
    out = {}
    for column in frame.columns:
        kind = kinds.get(column, "str")
        values = frame[column]
        if kind == "list" or column in LIST_COLUMNS:
            out[column] = values.map(join_list)
        elif kind in ("Int64", "Float64"):
            out[column] = values.astype(object).map(number_text)
        else:
            out[column] = values.astype(object).where(values.notna(), "").astype(str)
    return pd.DataFrame(out, columns=list(frame.columns), index=frame.index)


def csv_bytes(frame: pd.DataFrame, numeric: Iterable[str] = ()) -> bytes:
    """CSV text with every non-number cell neutralised; UTF-8 with BOM, CRLF line ends."""
    numeric = set(numeric)
    safe = pd.DataFrame(
        {c: frame[c] if c in numeric else neutralise_series(frame[c].astype(object)) for c in frame.columns},
        index=frame.index,
    )
    safe.columns = neutralise_series(pd.Series([str(c) for c in frame.columns], dtype=object)).tolist()
    text = safe.to_csv(index=False, lineterminator="\r\n")
    return (_BOM + text).encode("utf-8")


def table_csv(frame: pd.DataFrame) -> bytes:
    """Any table shown on a page as a CSV download: ``csv_bytes`` with its number columns kept as numbers."""
    return csv_bytes(frame, numeric=[c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])])


def _numeric_columns(table: str) -> list[str]:
    return [c for c, kind in TABLES[table].items() if kind in ("Int64", "Float64")]


def _zip(members: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def _settings_json(settings: ProjectSettings) -> str:
    return json.dumps(settings.to_dict(), ensure_ascii=False, indent=2)


# --- XLSX -----------------------------------------------------------------------------------

_HEADER_FONT = Font(bold=True)


def _xlsx_cell(sheet, value: Any, *, header: bool = False):
    """A value ready to append: numbers as numbers, text as a string cell (quote prefix when dangerous)."""
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, bool):
        return value
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if isinstance(value, (int, float)):
        return value
    text = strip_illegal_xml(str(value))
    if text == "" and not header:
        return None
    stored, quote_prefix = xlsx_text(text)
    if not (quote_prefix or header):
        return stored  # plain text: openpyxl writes it as a string cell
    cell = WriteOnlyCell(sheet, value=stored)
    cell.data_type = "s"  # never a formula, whatever the first character
    if quote_prefix:
        cell.quotePrefix = True
    if header:
        cell.font = _HEADER_FONT
    return cell


def _add_sheet(workbook: Workbook, title: str, columns: list[str], rows: Iterable[Iterable[Any]]) -> None:
    sheet = workbook.create_sheet(title)
    sheet.freeze_panes = "A2"
    sheet.append([_xlsx_cell(sheet, c, header=True) for c in columns])
    for row in rows:
        sheet.append([_xlsx_cell(sheet, v) for v in row])


def _typed_rows(frame: pd.DataFrame, kinds: dict[str, str]) -> Iterable[list[Any]]:
    """Rows for XLSX: lists joined, numbers kept as int/float, anything else as it is."""
    columns = []
    for column in frame.columns:
        kind, values = kinds.get(column, "str"), frame[column]
        if kind == "list":
            columns.append(values.map(join_list).tolist())
        elif kind in ("Int64", "Float64"):
            cast = int if kind == "Int64" else float
            columns.append([None if pd.isna(v) else cast(v) for v in values])
        else:
            columns.append(values.tolist())
    return zip(*columns, strict=True) if columns else iter(())


def workbook_bytes(sheets: list[tuple[str, list[str], Iterable[Iterable[Any]]]]) -> bytes:
    """An XLSX file: one sheet per ``(title, header, rows)``; text cells are spreadsheet-safe."""
    workbook = Workbook(write_only=True)
    for title, columns, rows in sheets:
        _add_sheet(workbook, title, columns, rows)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- the formats ----------------------------------------------------------------------------

def _bundle(project: Project, record: tuple | None = None) -> bytes:
    members = []
    for table in TABLES:
        frame = _export_frame(project, table)
        members.append((f"{table}.csv", csv_bytes(table_rows(frame, table), _numeric_columns(table))))
    members.append(("settings.json", _settings_json(project.settings).encode("utf-8")))
    if record is not None:
        members += record_io.record_members(*record)
    return _zip(members)


def _xlsx(project: Project, record: tuple | None = None) -> bytes:
    sheets = []
    for table in TABLES:
        frame = _export_frame(project, table)
        sheets.append((table, list(frame.columns), _typed_rows(frame, TABLES[table])))
    sheets.append(("settings", ["settings_json"], [[_settings_json(project.settings)]]))
    if record is not None:
        sheets += record_io.record_sheets(*record)
    return workbook_bytes(sheets)


_KUMU_ELEMENT_EXTRAS = ["experience", "affected", "influence", "involvement", "speaks_for", "speaks_basis"]


def _kumu(project: Project) -> bytes:
    people = _export_frame(project, "stakeholders")
    ties = _export_frame(project, "relationships")
    attrs = attribute_columns(people)
    elements = pd.DataFrame({
        "Label": people["name"],
        "Type": people["kind"].map(lambda k: label_for(k, KINDS) if k else ""),
        "Description": people["notes"],
        "Tags": people["roles"],
        "ID": people["id"],
        **{c: people[c] for c in _KUMU_ELEMENT_EXTRAS},
        **{c: people[c] for c in attrs},
    })
    element_kinds = {"Tags": "list", **{c: STAKEHOLDER_COLUMNS[c] for c in _KUMU_ELEMENT_EXTRAS}}
    # From/To name element IDs, not labels: names need not be unique.
    connections = pd.DataFrame({
        "From": ties["source"],
        "To": ties["target"],
        "Type": ties["type"],
        "Direction": ties["direction"],
        "Strength": ties["strength"],
        "Description": ties["notes"],
        "ID": ties["id"],
        "since": ties["since"],
        "until": ties["until"],
    })
    return workbook_bytes([
        ("Elements", list(elements.columns), _typed_rows(elements, element_kinds)),
        ("Connections", list(connections.columns), _typed_rows(connections, {"Strength": "Float64"})),
    ])



_GEPHI_TYPE = {"directed": "Directed", "undirected": "Undirected", "mutual": "Undirected", "": "Directed"}


def _gephi(project: Project) -> bytes:
    people = table_rows(_export_frame(project, "stakeholders"), "stakeholders")
    ties_frame = _export_frame(project, "relationships")
    ties = table_rows(ties_frame, "relationships")
    node_columns = [c for c in people.columns if c not in ("id", "name")]
    nodes = pd.DataFrame({"Id": people["id"], "Label": people["name"], **{c: people[c] for c in node_columns}})
    edges = pd.DataFrame({
        "Source": ties["source"],
        "Target": ties["target"],
        # Our own direction first: readers that take the first matching column keep "mutual",
        # which Gephi's Type (Directed/Undirected) cannot say.
        "direction": ties["direction"],
        "Type": ties["direction"].map(lambda d: _GEPHI_TYPE.get(d, "Directed")),
        "Id": ties["id"],
        "Label": ties["type"],
        "Weight": ties["strength"],
        "since": ties["since"],
        "until": ties["until"],
        "notes": ties["notes"],
    })
    return _zip([
        ("nodes.csv", csv_bytes(nodes, ["affected", "influence"])),
        ("edges.csv", csv_bytes(edges, ["Weight"])),
    ])


def writable_graph(project: Project, *, fmt: str = "graphml") -> nx.MultiDiGraph:
    """``to_graph`` made writable by GraphML/GEXF writers.

    Lists become ``a|b`` text, ``strength`` becomes ``weight``, project tables and settings are
    dropped (those formats cannot hold them). For GEXF, whose writer reads an edge's ``type`` as
    the edge's direction, the relationship type is written as the edge ``label`` (what Gephi shows
    on an edge); ``direction`` stays an attribute and the GEXF edge type is left at the graph's
    default (directed), because networkx refuses undirected edges in a directed GEXF graph. Each
    node gets ``label`` = its name and each edge ``id`` = its relationship id.
    """
    clean = Project(
        stakeholders=_export_frame(project, "stakeholders"),
        relationships=_export_frame(project, "relationships"),
        settings=project.settings,
        name=project.name,
    )
    G = to_graph(clean)
    out = nx.MultiDiGraph(name=str(project.name))
    for node, data in G.nodes(data=True):
        attrs = {k: join_list(v) if isinstance(v, list) else v for k, v in data.items()}
        if fmt == "gexf":
            attrs["label"] = str(attrs.get("name", node))
        out.add_node(node, **attrs)
    for u, v, key, data in G.edges(keys=True, data=True):
        attrs = {k: join_list(v) if isinstance(v, list) else v for k, v in data.items()}
        if "strength" in attrs:
            attrs["weight"] = float(attrs.pop("strength"))
        if fmt == "gexf":
            attrs["label"] = attrs.pop("type", "")
            attrs["id"] = key
        out.add_edge(u, v, key=key, **attrs)
    return out


def _graphml(project: Project) -> bytes:
    buffer = io.BytesIO()
    nx.write_graphml(writable_graph(project, fmt="graphml"), buffer, encoding="utf-8")
    return buffer.getvalue()


def _gexf(project: Project) -> bytes:
    buffer = io.BytesIO()
    nx.write_gexf(writable_graph(project, fmt="gexf"), buffer, encoding="utf-8")
    return buffer.getvalue()


# --- JSON -----------------------------------------------------------------------------------

def project_json(project: Project) -> dict[str, Any]:
    """The whole project as plain JSON-ready data (tables as column lists and row lists)."""
    tables = {}
    for table in TABLES:
        frame = _export_frame(project, table)
        tables[table] = {
            "columns": [str(c) for c in frame.columns],
            "rows": [[json_value(v) for v in row] for row in frame.itertuples(index=False, name=None)],
        }
    return {
        "format": JSON_FORMAT,
        "version": JSON_VERSION,
        "name": project.name,
        "settings": project.settings.to_dict(),
        "tables": tables,
    }


def read_project_json(data: bytes | str) -> Project:
    """The inverse of the ``json`` export. Raises ``ValueError`` (plain words) when the data is not such a file."""
    doc = json.loads(data)
    if not isinstance(doc, dict) or doc.get("format") != JSON_FORMAT:
        raise ValueError("This JSON file is not a coprod_map project export.")
    if doc.get("version") != JSON_VERSION:
        raise ValueError(f"This project file is version {doc.get('version')!r}; this app reads version {JSON_VERSION}.")
    try:
        return _project_from_doc(doc)
    except (TypeError, KeyError, AttributeError, IndexError) as error:
        raise ValueError(f"This coprod_map project file is damaged ({type(error).__name__}).") from None


def _project_from_doc(doc: dict[str, Any]) -> Project:
    tables = doc.get("tables", {})
    if not isinstance(tables, dict):
        raise TypeError("tables")
    frames = {}
    for table in TABLES:
        part = tables.get(table) or {"columns": list(TABLES[table]), "rows": []}
        columns, rows = part["columns"], part["rows"]
        if not (isinstance(columns, list) and isinstance(rows, list) and all(isinstance(c, str) for c in columns)):
            raise TypeError(table)
        if any(not isinstance(row, list) or len(row) != len(columns) for row in rows):
            raise ValueError(f"This coprod_map project file is damaged: a row of '{table}' has the wrong length.")
        frames[table] = normalise_frame(table, pd.DataFrame(rows, columns=columns, dtype=object))
    settings = doc.get("settings") or {}
    if not isinstance(settings, dict):
        raise TypeError("settings")
    parsed = ProjectSettings.from_dict(settings)
    parsed = ProjectSettings.from_dict(parsed.to_dict())  # fails here, not later, if the shapes are wrong
    return Project(**frames, settings=parsed, name=str(doc.get("name", "")))


def _json(project: Project, record: tuple | None = None) -> bytes:
    doc = project_json(project)
    if record is not None:
        doc[record_io.JSON_KEY] = record_io.record_json(*record)
    return json.dumps(doc, ensure_ascii=False, indent=1).encode("utf-8")


# --- entry point ----------------------------------------------------------------------------

_WRITERS = {
    "bundle": (_bundle, "zip", "application/zip", ""),
    "xlsx": (_xlsx, "xlsx", XLSX_MIME, ""),
    "kumu": (_kumu, "xlsx", XLSX_MIME, "-kumu"),
    "gephi": (_gephi, "zip", "application/zip", "-gephi"),
    "graphml": (_graphml, "graphml", "application/xml", ""),
    "gexf": (_gexf, "gexf", "application/xml", ""),
    "json": (_json, "json", "application/json", ""),
}


def export_project(project: Project, fmt: str, *, name: str = "project", record: Record | None = None,
                   private: bool = True) -> tuple[str, bytes, str]:
    """``(file name, bytes, MIME type)`` of the project in format ``fmt`` (a key of ``FORMATS``).

    The file name is a slug of ``name`` plus the format's extension; it is never a path. ``record`` (the
    co-production record) goes into ``bundle``, ``xlsx`` and ``json`` (see ``coprod_map.io.record_io``);
    without ``private`` its needs tables are left out.
    """
    if fmt not in _WRITERS:
        raise ValueError(f"'{fmt}' is not an export format. Expected one of: {', '.join(FORMATS)}.")
    writer, extension, mime, suffix = _WRITERS[fmt]
    if record is not None and fmt in RECORD_FORMATS:
        return (f"{slug(name)}{suffix}.{extension}",
                writer(project, record_io.record_for_export(record, private=private)), mime)
    return f"{slug(name)}{suffix}.{extension}", writer(project), mime
