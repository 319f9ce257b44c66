"""Export then import gives back the same project, for every format that can hold it.

Formats that hold everything (bundle zip, Excel workbook, JSON) must give back every table and the
settings; the network formats (Kumu, Gephi, GraphML, GEXF) the stakeholders and relationships with
their attributes. The project is hostile on purpose: ids with leading zeros, text that spreadsheets
run as formulas, markup, unicode, quoted newlines, lists, and blanks beside "not recorded" and
"prefer not to say". Imports go through the real reader entry point, ``coprod_map.io.read.read_files``.
"""

from __future__ import annotations

import io
import zipfile

import pandas as pd
import pytest

from coprod_map.errors import ImportRejected
from coprod_map.io.export import FORMATS, GRAPH_ONLY_FORMATS, export_project, read_project_json
from coprod_map.model import TABLES, Project, ProjectSettings, normalise_frame


def hostile_project() -> Project:
    stakeholders = pd.DataFrame({
        "id": ["007", "-12", "s3", "s4", "s5", "s6", "s7"],
        "name": ["NA", "=1+2", "@SUM(1)", "-5", "+44 20 7946 0000", "<img src=x onerror=alert(1)>", "Zoë O’Brien 李\nsecond line"],
        "kind": ["person", "person", "group", "organisation", "community_asset", "person", "person"],
        "roles": [["carer", "=peer"], [], ["youth club"], ["funder"], [], ["-lead", "@x"], ["'tis", "x"]],
        "experience": [["lived", "personal"], ["professional"], [], ["trained"], [], ["lived"], []],
        "affected": [3, 0, None, 2, 1, None, 3],
        "influence": [1, 5, 2, None, 0, 4, 3],
        "involvement": ["co_producing", "informed", "", "consulted", "not_involved", "involved", "co_designing"],
        "speaks_for": [["carers"], [], ["young people"], [], [], ["=group"], []],
        "speaks_basis": ["lived_experience", "", "proxy", "", "", "nominated", ""],
        "notes": ["'=x", "\tTabbed", "quote \"inside\", comma", "", "=HYPERLINK(\"http://x.invalid\",\"y\")", "a|b", "NULL"],
        "age_band": ["65+", "not recorded", "prefer not to say", "", "16-24", "25-64", "-"],
        "area": ["North", "=Area", "+East", "North", "", "not recorded", "North"],
    })
    relationships = pd.DataFrame({
        "id": ["r1", "=r2", "r3", "r4"],
        "source": ["007", "-12", "s3", "s6"],
        "target": ["-12", "007", "s4", "s7"],
        "type": ["works with", "@knows", "funds", "supports"],
        "direction": ["directed", "mutual", "undirected", "directed"],
        "strength": [2.5, None, 5.0, 0.1],
        "since": ["2025-01-31", "", "2024-12-01", ""],
        "until": ["", "", "2026-06-30", ""],
        "notes": ["", "-note", "x\ny", "+1"],
    })
    activities = pd.DataFrame({
        "id": ["a1", "a2"], "title": ["=Workshop", "Survey, online"], "date": ["2025-03-01", "2025-09-15"],
        "kind": ["workshop", "survey"], "cycle": ["Cycle 1", "Cycle 2"], "notes": ["multi\nline", "@home"],
    })
    participation = pd.DataFrame({
        "stakeholder_id": ["007", "-12", "s7"], "activity_id": ["a1", "a1", "a2"], "notes": ["", "@note", "NA"],
    })
    reference = pd.DataFrame({
        "attribute": ["age_band", "age_band", "age_band", "area", "area"],
        "category": ["16-24", "25-64", "65+", "North", "+East"],
        "count": [120, 480, 200, 300, 50],
        "share": [None, None, None, None, None],
        "source": ["Census (invented)"] * 4 + ["=survey"],
    })
    settings = ProjectSettings(
        attributes={"age_band": ["16-24", "25-64", "65+", "-"], "area": ["North", "=Area", "+East"]},
        relationship_types=["works with", "@knows", "funds", "supports"],
        cycles=[{"name": "Cycle 1", "start": "2025-01-01", "end": "2025-06-30"},
                {"name": "Cycle 2", "start": "2025-07-01", "end": "2025-12-31"}],
    )
    return Project(stakeholders=stakeholders, relationships=relationships, activities=activities,
                   participation=participation, reference=reference, settings=settings,
                   name="Hostile =1+2 <b>").normalised()


#: The key that identifies a row in each table (rows are compared in key order).
KEYS = {
    "stakeholders": ["id"],
    "relationships": ["id"],
    "activities": ["id"],
    "participation": ["stakeholder_id", "activity_id"],
    "reference": ["attribute", "category"],
}


def comparable(table: str, frame: pd.DataFrame) -> pd.DataFrame:
    """The table without provenance columns, canonical dtypes, rows in key order, columns sorted."""
    frame = frame[[c for c in frame.columns if not str(c).startswith("_")]]
    frame = normalise_frame(table, frame)
    frame = frame.sort_values(KEYS[table], kind="stable").reset_index(drop=True)
    return frame[sorted(frame.columns)]


def assert_same_table(table: str, got: pd.DataFrame, expected: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(comparable(table, got), comparable(table, expected), check_dtype=True)


def import_export(project: Project, fmt: str) -> Project:
    """Export ``project`` as ``fmt`` and read the file(s) back through the app's reader."""
    from coprod_map.io.read import read_files

    name, data, _ = export_project(project, fmt, name="round trip")
    if fmt == "gephi":  # Gephi's Data Laboratory takes the node and edge sheets as two files
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            files = [(member, archive.read(member)) for member in archive.namelist()]
    else:
        files = [(name, data)]
    try:
        return read_files(files).project
    except ImportRejected as error:  # show every problem, not just the count
        pytest.fail(f"{fmt} export was refused on import:\n{error.details()}")


FULL_FORMATS = [f for f in FORMATS if f not in GRAPH_ONLY_FORMATS]


@pytest.mark.parametrize("fmt", FULL_FORMATS)
@pytest.mark.parametrize("table", list(TABLES))
def test_full_formats_give_back_every_table(fmt, table):
    project = hostile_project()
    back = import_export(project, fmt)
    assert_same_table(table, back.table(table), project.table(table))


@pytest.mark.parametrize("fmt", FULL_FORMATS)
def test_full_formats_give_back_the_settings(fmt):
    project = hostile_project()
    back = import_export(project, fmt)
    assert back.settings.to_dict() == project.settings.to_dict()


@pytest.mark.parametrize("fmt", sorted(GRAPH_ONLY_FORMATS))
@pytest.mark.parametrize("table", ["stakeholders", "relationships"])
def test_network_formats_give_back_stakeholders_and_relationships(fmt, table):
    project = hostile_project()
    back = import_export(project, fmt)
    assert_same_table(table, back.table(table), project.table(table))


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_formula_text_survives_exactly(fmt):
    """The neutralising apostrophe never reaches the re-imported data (spot check, independent of table compare)."""
    back = import_export(hostile_project(), fmt).stakeholders.set_index("id")
    assert back.loc["-12", "name"] == "=1+2"
    assert back.loc["s3", "name"] == "@SUM(1)"
    assert back.loc["s5", "name"] == "+44 20 7946 0000"
    assert back.loc["007", "name"] == "NA"
    assert back.loc["s7", "name"] == "Zoë O’Brien 李\nsecond line"


def test_json_export_reads_back_exactly_without_the_importer():
    """``read_project_json`` is the exact inverse of the JSON export (types, lists, blanks, settings, name)."""
    project = hostile_project()
    back = read_project_json(export_project(project, "json")[1])
    for table in TABLES:
        pd.testing.assert_frame_equal(back.table(table), project.table(table))
    assert back.settings == project.settings
    assert back.name == project.name


def test_hostile_project_is_really_hostile():
    """Guard: the fixture keeps the cases the round trip is meant to cover."""
    people = hostile_project().stakeholders
    assert people["id"].tolist()[0] == "007"
    assert {"=1+2", "@SUM(1)", "-5", "+44 20 7946 0000", "NA"} <= set(people["name"])
    assert {"", "not recorded", "prefer not to say"} <= set(people["age_band"])
    assert people["affected"].isna().any() and people["roles"].map(len).max() == 2
