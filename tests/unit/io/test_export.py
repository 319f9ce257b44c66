"""Exports: every format writes, spreadsheet cells never run as formulas, network files parse back."""

from __future__ import annotations

import csv
import io
import json
import random
import zipfile

import networkx as nx
import openpyxl
import pandas as pd
import pytest

from coprod_map.io.cells import (
    DANGEROUS_STARTS,
    is_dangerous,
    neutralise,
    neutralise_series,
    restore,
    xlsx_text,
)
from coprod_map.io.export import FORMATS, export_project, slug
from coprod_map.io.templates import COLUMN_HELP, TEMPLATES, template
from coprod_map.model import STAKEHOLDER_COLUMNS, TABLES, Project, empty_project
from tests.unit.io.test_roundtrip import hostile_project

SPREADSHEET_CSV = ("bundle", "gephi")
SPREADSHEET_XLSX = ("xlsx", "kumu")


def zip_members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def csv_cells(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf"), "CSV must start with a UTF-8 byte-order mark for Excel"
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def workbook(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))


# --- cells.py: the neutralise / restore pair --------------------------------------------------

SAMPLES = ["=1+2", "+44 20", "-5", "@SUM(1)", "\tx", "\rx", "\nx", "'=x", "''=x", "'tis", "'", "''", "",
           "plain", "a=b", "Zoë", "=", "'\t"]


@pytest.mark.parametrize("text", SAMPLES)
def test_restore_undoes_neutralise_and_xlsx_text(text):
    assert restore(neutralise(text)) == text
    assert restore(xlsx_text(text)[0]) == text


def test_restore_undoes_neutralise_on_random_text():
    """Random strings over the awkward alphabet (apostrophes, formula starts, letters) all round-trip."""
    rng = random.Random(7)
    alphabet = ["'", "=", "+", "-", "@", "\t", "\r", "\n", "a", " ", "|"]
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 6)))
        neutral = neutralise(text)
        assert restore(neutral) == text
        assert not is_dangerous(neutral)
        value, quote_prefix = xlsx_text(text)
        assert restore(value) == text
        assert quote_prefix == is_dangerous(value.lstrip("'"))


def test_neutralise_leaves_ordinary_text_alone():
    for text in ["Riverside", "'tis", "a-b", "carers|young people", "16-24", "65+"]:
        assert neutralise(text) == text
        assert restore(text) == text
    assert neutralise("=1+2") == "'=1+2"
    assert restore("'+44 20 7946 0000") == "+44 20 7946 0000"


def test_neutralise_series_matches_neutralise():
    values = pd.Series(SAMPLES, dtype=object)
    assert neutralise_series(values).tolist() == [neutralise(t) for t in SAMPLES]


# --- every format ----------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", list(FORMATS))
def test_every_format_exports_the_hostile_project(fmt):
    name, data, mime = export_project(hostile_project(), fmt, name="Hostile =1+2 <b>")
    assert name.startswith("hostile-1-2-b") and "/" not in name and "\\" not in name
    assert len(data) > 100 and mime
    assert FORMATS[fmt]  # every format has plain words for the app


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_every_format_exports_an_empty_project(fmt):
    _, data, _ = export_project(empty_project("empty"), fmt)
    assert data


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_provenance_columns_are_not_exported(fmt):
    project = hostile_project()
    project.stakeholders["_file"] = "secret-upload-name.csv"
    project.stakeholders["_row"] = range(2, 2 + len(project.stakeholders))
    _, data, _ = export_project(project, fmt)
    blobs = zip_members(data).values() if data.startswith(b"PK") else [data]
    if fmt in SPREADSHEET_XLSX or fmt == "xlsx":
        blobs = [b"".join(zip_members(data).values())]
    assert not any(b"secret-upload-name" in blob or b"_row" in blob for blob in blobs)


def test_unknown_format_is_refused_in_plain_words():
    with pytest.raises(ValueError, match="not an export format"):
        export_project(empty_project(), "pdf")


def test_file_names_are_slugs_never_paths():
    for hostile in ["../../etc/passwd", "C:\\Windows\\x", "con", "", "ünïcödé ✓", "a" * 500]:
        name, _, _ = export_project(empty_project(), "json", name=hostile)
        stem = name.removesuffix(".json")
        assert stem and set(stem) <= set("abcdefghijklmnopqrstuvwxyz0123456789-") and len(stem) <= 60
    assert slug("Sample: Riverside mental health redesign") == "sample-riverside-mental-health-redesign"


def test_exports_are_repeatable():
    """The same project gives the same bytes (zip dates are fixed), so exports can be compared."""
    project = hostile_project()
    for fmt in ("bundle", "gephi", "json", "graphml"):
        assert export_project(project, fmt)[1] == export_project(project, fmt)[1]


# --- CSV: neutralised cells --------------------------------------------------------------------

@pytest.mark.parametrize("fmt", SPREADSHEET_CSV)
def test_no_csv_cell_starts_with_a_formula_character(fmt):
    members = zip_members(export_project(hostile_project(), fmt)[1])
    checked = 0
    for member, data in members.items():
        if not member.endswith(".csv"):
            continue
        for row in csv_cells(data):
            for cell in row:
                assert not cell.startswith(DANGEROUS_STARTS), f"{member}: {cell!r}"
                checked += 1
    assert checked > 50


def test_bundle_csv_holds_neutralised_text_and_plain_numbers():
    members = zip_members(export_project(hostile_project(), "bundle")[1])
    assert sorted(members) == sorted([f"{t}.csv" for t in TABLES] + ["settings.json"])
    header, *rows = csv_cells(members["stakeholders.csv"])
    assert header == [*STAKEHOLDER_COLUMNS, "age_band", "area"]  # core columns, then attributes
    by_id = {row[0]: dict(zip(header, row, strict=True)) for row in rows}
    assert set(by_id) == {"007", "'-12", "s3", "s4", "s5", "s6", "s7"}  # "007" keeps its zeros
    assert by_id["'-12"]["name"] == "'=1+2"
    assert by_id["s5"]["name"] == "'+44 20 7946 0000"
    assert by_id["007"]["name"] == "NA"
    assert by_id["007"]["roles"] == "carer|=peer"
    assert by_id["s6"]["roles"] == "'-lead|@x"
    assert by_id["007"]["affected"] == "3" and by_id["s3"]["affected"] == ""
    assert by_id["s7"]["name"] == "Zoë O’Brien 李\nsecond line"
    assert by_id["s3"]["age_band"] == "prefer not to say" and by_id["s4"]["age_band"] == ""
    header, *rows = csv_cells(members["relationships.csv"])
    strengths = [dict(zip(header, r, strict=True))["strength"] for r in rows]
    assert strengths == ["2.5", "", "5", "0.1"]


def test_bundle_settings_json_is_the_project_settings():
    project = hostile_project()
    members = zip_members(export_project(project, "bundle")[1])
    assert json.loads(members["settings.json"]) == project.settings.to_dict()


def test_gephi_csvs_use_gephi_column_names():
    members = zip_members(export_project(hostile_project(), "gephi")[1])
    assert sorted(members) == ["edges.csv", "nodes.csv"]
    nodes_header, *nodes = csv_cells(members["nodes.csv"])
    edges_header, *edges = csv_cells(members["edges.csv"])
    assert nodes_header[:2] == ["Id", "Label"] and len(nodes) == 7
    assert edges_header[:5] == ["Source", "Target", "direction", "Type", "Id"] and "Weight" in edges_header
    types = {row[4]: row[3] for row in edges}
    assert types == {"r1": "Directed", "'=r2": "Undirected", "r3": "Undirected", "r4": "Directed"}


# --- XLSX: string cells, never formulas --------------------------------------------------------

@pytest.mark.parametrize("fmt", SPREADSHEET_XLSX)
def test_no_xlsx_cell_is_a_formula_or_unprotected(fmt):
    book = workbook(export_project(hostile_project(), fmt)[1])
    dangerous = 0
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{sheet.title}!{cell.coordinate} is a formula"
                if isinstance(cell.value, str) and is_dangerous(cell.value.lstrip("'")):
                    assert cell.data_type == "s" and cell.quotePrefix, f"{sheet.title}!{cell.coordinate}"
                    dangerous += 1
    assert dangerous >= 10


def test_xlsx_bundle_sheets_keep_text_exact_and_numbers_numeric():
    project = hostile_project()
    book = workbook(export_project(project, "xlsx")[1])
    assert book.sheetnames == [*TABLES, "settings"]
    sheet = book["stakeholders"]
    header = [c.value for c in sheet[1]]
    rows = {r[0]: dict(zip(header, r, strict=True)) for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert rows["-12"]["name"] == "=1+2"  # the value is the text itself; the quote prefix protects it
    assert rows["007"]["affected"] == 3 and isinstance(rows["007"]["affected"], int)
    assert rows["s3"]["affected"] is None
    assert rows["007"]["roles"] == "carer|=peer"
    strengths = [r[5] for r in book["relationships"].iter_rows(min_row=2, values_only=True)]
    assert strengths == [2.5, None, 5.0, 0.1]
    assert book["settings"]["A1"].value == "settings_json"
    assert json.loads(book["settings"]["A2"].value) == project.settings.to_dict()


def test_kumu_workbook_follows_kumu_import_rules():
    book = workbook(export_project(hostile_project(), "kumu")[1])
    assert book.sheetnames == ["Elements", "Connections"]
    elements, connections = book["Elements"], book["Connections"]
    assert elements["A1"].value == "Label" and connections["A1"].value == "From" and connections["B1"].value == "To"
    element_header = [c.value for c in elements[1]]
    assert element_header[:5] == ["Label", "Type", "Description", "Tags", "ID"]
    ids = {r[4] for r in elements.iter_rows(min_row=2, values_only=True)}
    ends = {v for r in connections.iter_rows(min_row=2, values_only=True) for v in r[:2]}
    assert ends <= ids  # From/To name element IDs (names need not be unique)
    kinds = {r[4]: r[1] for r in elements.iter_rows(min_row=2, values_only=True)}
    assert kinds["s5"] == "Community asset"
    header = [c.value for c in connections[1]]
    assert header[:5] == ["From", "To", "Type", "Direction", "Strength"]


# --- GraphML / GEXF ----------------------------------------------------------------------------

@pytest.mark.parametrize("fmt,reader", [("graphml", nx.read_graphml), ("gexf", nx.read_gexf)])
def test_network_files_parse_back_with_networkx_and_carry_weight(fmt, reader):
    project = hostile_project()
    G = reader(io.BytesIO(export_project(project, fmt)[1]))
    assert sorted(G.nodes) == sorted(project.stakeholders["id"])
    assert G.nodes["-12"]["name"] == "=1+2"
    assert G.nodes["007"]["roles"] == "carer|=peer"  # lists as a|b
    assert G.nodes["007"]["affected"] == 3 and "affected" not in G.nodes["s3"]  # missing numbers omitted
    edges = G.edges(keys=True, data=True) if G.is_multigraph() else ((u, v, None, d) for u, v, d in G.edges(data=True))
    weights = {d.get("id", k): d.get("weight") for _, _, k, d in edges}
    assert weights == {"r1": 2.5, "=r2": None, "r3": 5.0, "r4": 0.1}


def test_graph_formats_do_not_carry_the_project_tables():
    """Activities, participation and reference stay out of GraphML (documented in export.py)."""
    data = export_project(hostile_project(), "graphml")[1]
    assert b"=Workshop" not in data and b"Census (invented)" not in data


def test_export_does_not_change_the_project():
    project = hostile_project()
    before = {t: project.table(t).copy() for t in TABLES}
    for fmt in FORMATS:
        export_project(project, fmt)
    for table in TABLES:
        pd.testing.assert_frame_equal(project.table(table), before[table])
    assert isinstance(project, Project)


# --- templates ---------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", [k for k in TEMPLATES if k not in ("workbook",)])
def test_csv_templates_have_a_header_and_one_safe_example_row(kind):
    name, data = template(kind)
    assert name.endswith(".csv") and "/" not in name
    header, *rows = csv_cells(data)
    if kind in TABLES:
        assert header[: len(TABLES[kind])] == list(TABLES[kind])
        assert len(rows) == 1 and len(rows[0]) == len(header)
    elif kind == "attendance":
        assert header == ["person", "activity", "date", "notes"] and len(rows) == 1
    else:
        assert header == ["sheet", "column", "what to put", "example"]
        assert len(rows) == sum(len(columns) for columns in COLUMN_HELP.values())
    assert not any(cell.startswith(DANGEROUS_STARTS) for row in [header, *rows] for cell in row)


def test_workbook_template_has_every_table_and_a_help_sheet():
    name, data = template("workbook")
    book = workbook(data)
    assert name.endswith(".xlsx") and book.sheetnames == [*TABLES, "help"]
    for table in TABLES:
        header = [c.value for c in book[table][1]]
        assert header[: len(TABLES[table])] == list(TABLES[table])
        assert book[table].max_row == 2
    help_rows = list(book["help"].iter_rows(min_row=2, values_only=True))
    assert {(r[0], r[1]) for r in help_rows} >= {(t, c) for t in TABLES for c in TABLES[t]}
    assert all(r[2] for r in help_rows)  # every column is explained in words
    assert book["stakeholders"]["F2"].value == 3  # example numbers are numbers
    assert not any(c.data_type == "f" for s in book.worksheets for row in s.iter_rows() for c in row)


def test_unknown_template_is_refused():
    with pytest.raises(ValueError, match="not a template"):
        template("pdf")


def test_filled_templates_import_as_they_are():
    """The example rows are valid data: the tables that refer to each other import together."""
    from coprod_map.io.read import read_files

    staged = read_files([template(k) for k in ("stakeholders", "activities", "participation", "reference")])
    assert staged.project.stakeholders["id"].tolist() == ["P001"]
    assert staged.project.participation[["stakeholder_id", "activity_id"]].values.tolist() == [["P001", "A001"]]


@pytest.mark.parametrize("doc", [
    "[]", '{"format": "something else"}', '{"format": "coprod_map project", "version": 99}',
    '{"format": "coprod_map project", "version": 1, "tables": []}',
    '{"format": "coprod_map project", "version": 1, "tables": {"stakeholders": {"columns": ["id"], "rows": [[1, 2]]}}}',
    '{"format": "coprod_map project", "version": 1, "tables": {"stakeholders": {"columns": ["id", "affected"], '
    '"rows": [["a", "lots"]]}}}',
    '{"format": "coprod_map project", "version": 1, "settings": {"attributes": ["x"]}}',
    '{"format": "coprod_map project", "version": 1, "settings": [1]}',
    "{not json",
])
def test_damaged_json_backups_raise_value_error_only(doc):
    """The importer turns ValueError into a message; nothing else may escape."""
    from coprod_map.io.export import read_project_json

    with pytest.raises(ValueError):
        read_project_json(doc)
