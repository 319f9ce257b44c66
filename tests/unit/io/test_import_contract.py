"""Contract test: every importer reads the same small map and gives the same frames.

The expected frames below are written by hand (not produced by any reader or by the exporter).
Fixture files are generated in code; the people are invented.
"""

from __future__ import annotations

import io
import zipfile

import openpyxl
import pandas as pd
import pytest

from coprod_map.io.read import detect, read_files

# The map: three stakeholders, two ties. Hand-written expectations.
EXPECTED_PEOPLE = pd.DataFrame({"id": ["007", "p2", "NA"], "name": ["Zoë O’Brien", "Riverside Carers", "NA"]},
                               dtype=object)
EXPECTED_TIES = pd.DataFrame({"source": ["007", "p2"], "target": ["p2", "NA"]}, dtype=object).assign(strength=[2.0, 4.0])


def csv_bytes(rows: list[list[str]], *, sep: str = ",", encoding: str = "utf-8") -> bytes:
    out = io.StringIO()
    import csv

    csv.writer(out, delimiter=sep, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_bytes(sheets: dict[str, list[list]]) -> bytes:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        ws = book.create_sheet(title)
        for row in rows:
            ws.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


BUNDLE = {
    "stakeholders": [["id", "name", "kind"], ["007", "Zoë O’Brien", "person"], ["p2", "Riverside Carers", "Group"],
                     ["NA", "NA", "organisation"]],
    "relationships": [["source", "target", "strength"], ["007", "p2", "2"], ["p2", "NA", "4"]],
}
KUMU = {
    "Elements": [["Label", "ID", "Type", "Tags"], ["Zoë O’Brien", "007", "Person", "carer"],
                 ["Riverside Carers", "p2", "group", ""], ["NA", "NA", "Organisation", ""]],
    "Connections": [["From", "To", "Strength"], ["Zoë O’Brien", "Riverside Carers", "2"], ["p2", "NA", "4"]],
}
GRAPHML = """<?xml version="1.0" encoding="UTF-8"?>
<graphml xmlns="http://graphml.graphdrawing.org/xmlns">
  <key id="d0" for="node" attr.name="name" attr.type="string"/>
  <key id="d1" for="edge" attr.name="weight" attr.type="double"/>
  <graph edgedefault="directed">
    <node id="007"><data key="d0">Zoë O’Brien</data></node>
    <node id="p2"><data key="d0">Riverside Carers</data></node>
    <node id="NA"><data key="d0">NA</data></node>
    <edge id="e1" source="007" target="p2"><data key="d1">2</data></edge>
    <edge id="e2" source="p2" target="NA"><data key="d1">4</data></edge>
  </graph>
</graphml>""".encode()
GEXF = """<?xml version="1.0" encoding="UTF-8"?>
<gexf xmlns="http://gexf.net/1.3" version="1.3">
  <graph defaultedgetype="directed">
    <nodes>
      <node id="007" label="Zoë O’Brien"/>
      <node id="p2" label="Riverside Carers"/>
      <node id="NA" label="NA"/>
    </nodes>
    <edges>
      <edge id="0" source="007" target="p2" weight="2"/>
      <edge id="1" source="p2" target="NA" weight="4"/>
    </edges>
  </graph>
</gexf>""".encode()


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


CASES = {
    "bundle_csv": [("people.csv", csv_bytes(BUNDLE["stakeholders"])), ("ties.csv", csv_bytes(BUNDLE["relationships"]))],
    "bundle_csv_cp1252_semicolon": [("people.csv", csv_bytes(BUNDLE["stakeholders"], sep=";", encoding="cp1252")),
                                    ("ties.csv", csv_bytes(BUNDLE["relationships"], sep=";"))],
    "bundle_csv_utf16_tab": [("people.txt", b"\xff\xfe" + "\r\n".join("\t".join(r) for r in BUNDLE["stakeholders"]).encode("utf-16-le")),
                             ("ties.txt", csv_bytes(BUNDLE["relationships"], sep="\t"))],
    "bundle_zip": [("bundle.zip", _zip({"a/stakeholders.csv": csv_bytes(BUNDLE["stakeholders"]),
                                        "a/relationships.csv": csv_bytes(BUNDLE["relationships"])}))],
    "workbook": [("map.xlsx", xlsx_bytes({"stakeholders": BUNDLE["stakeholders"],
                                          "relationships": BUNDLE["relationships"]}))],
    "kumu_xlsx": [("kumu.xlsx", xlsx_bytes({**KUMU, "Notes (ignore)": [["x"], ["y"]]}))],
    "kumu_csv": [("el.csv", csv_bytes(KUMU["Elements"])), ("co.csv", csv_bytes(KUMU["Connections"]))],
    "gephi": [("nodes.csv", csv_bytes([["Id", "Label"], ["007", "Zoë O’Brien"], ["p2", "Riverside Carers"], ["NA", "NA"]])),
              ("edges.csv", csv_bytes([["Source", "Target", "Type", "Weight"], ["007", "p2", "Directed", "2"],
                                       ["p2", "NA", "Directed", "4"]]))],
    "graphml": [("map.graphml", GRAPHML)],
    "gexf": [("map.gexf", GEXF)],
}

FORMATS = {"bundle_csv": "bundle_csv", "bundle_csv_cp1252_semicolon": "bundle_csv", "bundle_csv_utf16_tab": "bundle_csv",
           "bundle_zip": "bundle_zip", "workbook": "workbook", "kumu_xlsx": "kumu", "kumu_csv": "kumu",
           "gephi": "gephi_nodes", "graphml": "graphml", "gexf": "gexf"}


@pytest.mark.parametrize("case", list(CASES))
def test_every_importer_gives_the_same_map(case):
    staged = read_files(CASES[case])
    people = staged.project.stakeholders
    ties = staged.project.relationships
    pd.testing.assert_frame_equal(people[["id", "name"]].reset_index(drop=True), EXPECTED_PEOPLE)
    got = ties[["source", "target"]].assign(strength=ties["strength"].astype(float)).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, EXPECTED_TIES)
    assert {"_file", "_row"} <= set(people.columns)
    assert staged.files[0].format == FORMATS[case]


def test_row_provenance_points_at_sheet_rows():
    staged = read_files(CASES["bundle_csv"])
    assert staged.project.stakeholders["_row"].tolist() == [2, 3, 4]
    assert staged.project.stakeholders["_file"].tolist() == ["people.csv"] * 3


def test_kumu_type_not_a_kind_becomes_a_role_and_tags_are_roles():
    data = xlsx_bytes({"Elements": [["Label", "Type", "Tags", "Age band"], ["Ann", "Carer", "a|b", "18-24"],
                                    ["Bo", "Organisation", "", ""]],
                       "Connections": [["From", "To", "Type"], ["Ann", "Bo|Ann", "knows"]]})
    staged = read_files([("k.xlsx", data)])
    people = staged.project.stakeholders.set_index("id")
    assert people.loc["Ann", "kind"] == "" and people.loc["Ann", "roles"] == ["Carer", "a", "b"]
    assert people.loc["Bo", "kind"] == "organisation"
    assert people.loc["Ann", "Age band"] == "18-24"
    ties = staged.project.relationships
    assert ties[["source", "target"]].values.tolist() == [["Ann", "Bo"], ["Ann", "Ann"]]
    assert ties["id"].tolist() == ["r1", "r2"] and ties["_row"].tolist() == [2, 2]


def test_attendance_list_creates_people_activities_and_participation():
    data = csv_bytes([["Participant", "Session", "Date"], ["Amira Khan", "Workshop 1", "2024-03-05"],
                      ["Ben Ode", "Workshop 1", "2024-03-05"], ["Amira Khan", "Workshop 2", "2024-04-02"],
                      ["Amira Khan", "Workshop 2", "2024-04-02"]])
    staged = read_files([("att.csv", data)])
    p = staged.project
    assert staged.files[0].format == "attendance"
    assert sorted(p.stakeholders["id"]) == ["amira-khan", "ben-ode"]
    assert sorted(p.activities["id"]) == ["workshop-1-2024-03-05", "workshop-2-2024-04-02"]
    assert len(p.participation) == 3  # hand count: the repeated row counts once
    assert any("created 2 people and 2 activities" in n for n in staged.notices)


def test_attendance_reuses_ids_of_people_named_in_the_same_import():
    people = csv_bytes([["id", "name"], ["s1", "Amira Khan"]])
    att = csv_bytes([["Name", "Event"], ["Amira Khan", "Walk"], ["New Person", "Walk"]])
    p = read_files([("people.csv", people), ("att.csv", att)]).project
    assert sorted(p.stakeholders["id"]) == ["new-person", "s1"]
    assert sorted(p.participation["stakeholder_id"]) == ["new-person", "s1"]


def test_gephi_weights_above_five_are_scaled_and_mixed_type_has_no_direction():
    nodes = csv_bytes([["Id", "Label"], ["a", "A"], ["b", "B"]])
    edges = csv_bytes([["Source", "Target", "Type", "Weight"], ["a", "b", "Mixed", "10"], ["b", "a", "Undirected", "4"]])
    staged = read_files([("n.csv", nodes), ("e.csv", edges)])
    ties = staged.project.relationships
    assert ties["strength"].astype(float).tolist() == [5.0, 2.0]  # 10 -> 5, 4 -> 2: divided by 2
    assert ties["direction"].tolist() == ["", "undirected"]


def test_detect_describes_without_reading_everything():
    found = detect("kumu.xlsx", CASES["kumu_xlsx"][0][1])
    assert found.format == "kumu"
    assert found.description == "Kumu workbook: 3 elements, 2 connections"
    assert found.columns == ["Label", "ID", "Type", "Tags"]
    assert len(found.preview) == 3


def test_column_map_lets_unknown_headers_import():
    data = csv_bytes([["Ref", "Full name"], ["x1", "Ann"]])
    assert detect("odd.csv", data).table is None
    staged = read_files([("odd.csv", data)], column_map={"odd.csv": {"Ref": "id", "Full name": "name"}})
    assert staged.project.stakeholders["id"].tolist() == ["x1"]


def test_coded_words_become_codes_and_lists_split():
    data = csv_bytes([["id", "name", "involvement", "experience", "affected"],
                      ["1", "A", "Co-designing", "Lived experience|professional", "3"]])
    people = read_files([("p.csv", data)]).project.stakeholders
    assert people.loc[0, "involvement"] == "co_designing"
    assert people.loc[0, "experience"] == ["lived", "professional"]
    assert people.loc[0, "affected"] == 3


def test_percent_shares_are_read_as_fractions():
    data = csv_bytes([["attribute", "category", "share"], ["age", "young", "45"], ["age", "old", "55"]])
    staged = read_files([("ref.csv", data)])
    assert staged.project.reference["share"].tolist() == pytest.approx([0.45, 0.55])
    assert any("percentages" in n for n in staged.notices)


def test_neutralised_cells_are_restored():
    data = csv_bytes([["id", "name", "notes"], ["1", "'=1+2", "'+44 20"], ["2", "'tis", ""]])
    people = read_files([("p.csv", data)]).project.stakeholders
    assert people["name"].tolist() == ["=1+2", "'tis"] and people.loc[0, "notes"] == "+44 20"


def test_references_to_rows_of_the_existing_project_are_known():
    from coprod_map.model import Project

    existing = Project(stakeholders=pd.DataFrame({"id": ["old"], "name": ["Old"]})).normalised()
    people = csv_bytes([["id", "name"], ["new", "New"]])
    ties = csv_bytes([["source", "target"], ["new", "old"]])
    staged = read_files([("p.csv", people), ("t.csv", ties)], existing=existing)
    assert staged.project.relationships["target"].tolist() == ["old"]
    # A relationships-only file is left for the store to check against the saved project.
    assert read_files([("t.csv", ties)]).project.relationships["source"].tolist() == ["new"]


def test_sample_data_bundle_reads_cleanly():
    """The shipped sample (sample_data/riverside) passes every import check."""
    from pathlib import Path

    folder = Path(__file__).resolve().parents[3] / "sample_data" / "riverside"
    files = [(p.name, p.read_bytes()) for p in sorted(folder.glob("*.csv"))]
    if not files:
        pytest.skip("sample_data/riverside has no CSV files yet")
    staged = read_files(files)
    assert len(staged.project.stakeholders) > 0
    assert {f.format for f in staged.files} == {"bundle_csv"}
