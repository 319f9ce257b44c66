"""The bad inputs of reliability.md §5.1 that apply to files: each gives a located Problem (or imports
correctly where the catalogue says it should). Fixtures are generated here; the names are invented."""

from __future__ import annotations

import io
import time
import zipfile

import openpyxl
import pytest

from coprod_map.errors import ImportRejected
from coprod_map.io import text as textio
from coprod_map.io.read import check_files, read_files


def rejected(files) -> list:
    with pytest.raises(ImportRejected) as info:
        read_files(files)
    # check_files must find exactly the same problems without raising
    assert check_files(files) == info.value.problems
    return info.value.problems


def one(problems, *, file=None, row="any", column="any", gist=""):
    """The single problem matching file/row/column whose message contains gist."""
    hits = [p for p in problems if (file is None or p.file == file) and (row == "any" or p.row == row)
            and (column == "any" or p.column == column) and gist.lower() in p.message.lower()]
    assert hits, f"no problem like {file, row, column, gist!r} in {[str(p) for p in problems]}"
    return hits[0]


def xlsx(rows, *, title="stakeholders", setup=None) -> bytes:
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = title
    for r in rows:
        ws.append(r)
    if setup:
        setup(book, ws)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# I1-I3 ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("data", [b"", b"\n \n\n"])
def test_i1_i2_empty_files(data):
    one(rejected([("empty.csv", data)]), file="empty.csv", row=None, gist="file is empty")


def test_i3_header_only():
    one(rejected([("h.csv", b"id,name,role\n")]), file="h.csv", gist="no rows")


# I4-I9 ----------------------------------------------------------------------------------------
def test_i4_bom_header_recognised():
    staged = read_files([("bom.csv", b"\xef\xbb\xbfid,name\n1,Ann\n")])
    assert staged.files[0].columns == ["id", "name"]


def test_i5_cp1252_kept_and_noticed():
    staged = read_files([("x.csv", "id,name\n1,Zoë O’Brien\n".encode("cp1252"))])
    assert staged.project.stakeholders.loc[0, "name"] == "Zoë O’Brien"
    assert any("Windows-1252" in n for n in staged.notices)


def test_i6_utf16_tab_equals_utf8_twin():
    text = "id\tname\r\n1\tZoë\r\n2\tBo\r\n"
    a = read_files([("u.txt", b"\xff\xfe" + text.encode("utf-16-le"))]).project.stakeholders
    b = read_files([("u.csv", text.replace("\t", ",").encode())]).project.stakeholders
    assert a[["id", "name"]].equals(b[["id", "name"]])


def test_i7_semicolon_with_decimal_comma():
    staged = read_files([("s.csv", b"id;name;score\n1;Ann;3,5\n")])
    assert staged.project.stakeholders.loc[0, "score"] == "3,5"
    assert "id;name;score" not in staged.project.stakeholders.columns


def test_i8_one_column_missing_required():
    p = one(rejected([("one.csv", b"name\nAnn\nBob\n")]), file="one.csv")
    assert "name" in p.message and "ame" not in (p.column or "")


def test_i9_quoted_newline_is_one_record():
    staged = read_files([("m.csv", b'id,name,notes\n1,Ann,"line one\r\nline two"\n2,Bo,x\n')])
    people = staged.project.stakeholders
    assert people.loc[0, "notes"] == "line one\r\nline two" and people["_row"].tolist() == [2, 4]


# I10-I12 --------------------------------------------------------------------------------------
def test_i10_open_quote():
    one(rejected([("q.csv", b'id,name\n1,"abc\n2,x\n')]), file="q.csv", row=2, gist="never closed")


def test_i11_extra_field():
    p = one(rejected([("e.csv", b"id,name\n1,Ann\n2,Bo,extra\n")]), file="e.csv", row=3)
    assert "3 values" in p.message and "2 columns" in p.message


def test_i12_short_row_required_blank():
    one(rejected([("s.csv", b"id,name\n1\n")]), file="s.csv", row=2, column="name", gist="blank")


# I13-I16 --------------------------------------------------------------------------------------
def test_i13_leading_zeros_kept():
    people = read_files([("z.csv", b"id,name,nhs\n007,Ann,0123456789\n")]).project.stakeholders
    assert people.loc[0, "id"] == "007" and people.loc[0, "nhs"] == "0123456789"


def test_i14_scientific_ids_noticed():
    staged = read_files([("s.csv", b"id,name\n1.23E+11,Ann\n")])
    assert any("row 2" in n and "scientific notation" in n for n in staged.notices)


def test_i15_na_like_names_kept():
    data = b"id,name\n1,NA\n2,None\n3,NULL\n4,n/a\n5,Nan\n"
    assert read_files([("na.csv", data)]).project.stakeholders["name"].tolist() == ["NA", "None", "NULL", "n/a", "Nan"]


def test_i16_spreadsheet_errors_flagged_each():
    problems = rejected([("x.csv", b"id,name,score\n1,A,#N/A\n2,B,#DIV/0!\n3,C,#REF!\n")])
    for row, err in ((2, "#N/A"), (3, "#DIV/0!"), (4, "#REF!")):
        one(problems, file="x.csv", row=row, column="score", gist=f"spreadsheet error {err}")


# I17-I21 --------------------------------------------------------------------------------------
def test_i17_duplicate_columns():
    p = one(rejected([("d.csv", b"id,name,name\n1,A,B\n")]), file="d.csv", row=1, column="name", gist="appears twice")
    assert "columns B and C" in p.message


def test_i18_duplicate_after_trim_and_case():
    one(rejected([("d.csv", b"id,Name,name \n1,A,B\n")]), file="d.csv", row=1, gist="appears twice")


def test_i19_blank_header():
    one(rejected([("b.csv", b",name\nx,Ann\n")]), file="b.csv", row=1, column="A", gist="no header")


def test_i20_trailing_comma_ignored_and_noted():
    staged = read_files([("t.csv", b"id,name,\n1,Ann,\n2,Bo,\n")])
    assert list(staged.project.stakeholders.columns[:2]) == ["id", "name"]
    assert "Unnamed: 2" not in staged.project.stakeholders.columns
    assert any("column C has no header" in n for n in staged.notices)


def test_i21_missing_required_lists_found():
    p = one(rejected([("m.csv", b"id,role\n1,x\n")]), file="m.csv", row=1, gist="required column 'name' is missing")
    assert "Found: id, role." in p.message
    p = one(rejected([("m.csv", b"x,y\n1,2\n")]), file="m.csv", row=1, gist="could not tell")
    assert "(x, y)" in p.message


def test_unknown_references_located():
    problems = rejected([("p.csv", b"id,name\n1,A\n"), ("r.csv", b"source,target\n1,2\n"),
                         ("a.csv", b"id,title,date\nw,W,2024-01-01\n"), ("x.csv", b"stakeholder_id,activity_id\n1,v\n")])
    one(problems, file="r.csv", row=2, column="target", gist="'2' is not a known stakeholder id")
    one(problems, file="x.csv", row=2, column="activity_id", gist="'v' is not a known activity id")
    assert len(problems) == 2


# I22-I26 --------------------------------------------------------------------------------------
def test_i22_bad_codes_per_cell():
    problems = rejected([("c.csv", b"id,name,kind,affected\n1,A,Carer,2\n2,B,person,7\n")])
    p = one(problems, file="c.csv", row=2, column="kind", gist="'Carer' is not a known kind")
    assert p.message.endswith("Expected one of: person, group, organisation, community asset.")
    one(problems, file="c.csv", row=3, column="affected", gist="from 0 to 3")


def test_i23_attribute_categories_from_settings():
    from coprod_map.model import Project, ProjectSettings
    from coprod_map.validate import check_project

    staged = read_files([("a.csv", b"id,name,age_band\n1,A,34\n2,B,unknown\n3,C,\n4,D,prefer not to say\n5,E,18-24\n")])
    project = Project(stakeholders=staged.project.stakeholders,
                      settings=ProjectSettings(attributes={"age_band": ["18-24", "25-34"]}))
    problems = check_project(project)
    assert [(p.row, p.column) for p in problems] == [(2, "age_band"), (3, "age_band")]


def test_i24_duplicate_ids_cite_both_rows():
    p = one(rejected([("d.csv", b"id,name\n007,A\n1,B\n2,C\n007,D\n")]), file="d.csv", row=5, column="id")
    assert "row 2" in p.message


def test_i25_nul_refused():
    one(rejected([("n.csv", b"id,name\n1,a\x00b\n")]), file="n.csv", row=2, column="name", gist="control character")


@pytest.mark.parametrize("char", ["\u202e", "\u200b"])
def test_i26_bidi_and_zero_width_refused(char):
    data = f"id,name\n1,Ann{char}x\n".encode()
    one(rejected([("b.csv", data)]), file="b.csv", row=2, column="name", gist="invisible character")


def test_i27_cr_only_line_ends():
    assert len(read_files([("cr.csv", b"id,name\r1,A\r2,B\r")]).project.stakeholders) == 2


# I28, I30-I33 ---------------------------------------------------------------------------------
@pytest.mark.parametrize("csv_module", [False, True], ids=["fast path", "csv module"])
def test_i28_row_limit(monkeypatch, csv_module):
    # the real limit (2,000,000 rows) is slow to build here; the check is the same at any limit
    monkeypatch.setattr(textio, "MAX_ROWS", 200_000)
    if csv_module:
        monkeypatch.setattr(textio, "grid", lambda *args, **kwargs: None)
    data = b"id,name\n" + b"".join(b"%d,n\n" % i for i in range(300_000))
    one(rejected([("big.csv", data)]), file="big.csv", gist="limit is 200,000 rows")


def test_i30_long_cell():
    data = b"id,name,notes\n1,A," + b"x" * 200_000 + b"\n"
    one(rejected([("l.csv", data)]), file="l.csv", row=2, column="notes", gist="200,000 characters; the limit is 10,000")


def test_i31_i32_formulas_and_markup_stored_verbatim():
    values = ["=HYPERLINK(\"http://x\")", "+44 20", "@SUM(1)", "<img src=x onerror=alert(1)>", "[x](javascript:a)"]
    data = ("id,name\n" + "".join(f'{i},"{v.replace(chr(34), chr(34) * 2)}"\n' for i, v in enumerate(values))).encode()
    assert read_files([("f.csv", data)]).project.stakeholders["name"].tolist() == values


@pytest.mark.parametrize(("data", "gist"), [(b"PK\x03\x04rest", "zip"), (b"\x89PNG\r\n\x1a\n", "PNG image"),
                                           (b"%PDF-1.4", "PDF")])
def test_i33_binary_posing_as_csv(data, gist):
    one(rejected([("renamed.csv", data)]), file="renamed.csv", row=None, gist=gist)


def test_i33_real_xlsx_named_csv_is_read_as_workbook():
    staged = read_files([("renamed.csv", xlsx([["id", "name"], ["1", "A"]]))])
    assert staged.files[0].format == "workbook"


# I35-I37, I39-I41 -----------------------------------------------------------------------------
def test_i35_hidden_sheet_flagged():
    def hide(book, ws):
        other = book.create_sheet("relationships")
        other.append(["source", "target"])
        other.append(["1", "1"])
        other.sheet_state = "hidden"

    one(rejected([("h.xlsx", xlsx([["id", "name"], ["1", "A"]], setup=hide))]),
        file="h.xlsx (sheet relationships)", gist="hidden")


def test_i35_several_unknown_sheets_never_silently_first():
    def more(book, ws):
        book.create_sheet("Other").append(["x"])

    one(rejected([("s.xlsx", xlsx([["id", "name"], ["1", "A"]], title="People", setup=more))]), file="s.xlsx",
        gist="none is named after a table")


def test_i36_formula_without_cached_value():
    p = one(rejected([("f.xlsx", xlsx([["id", "name"], ["1", "=CONCAT(\"A\",\"B\")"]]))]),
            file="f.xlsx (sheet stakeholders)", row=2, column="name", gist="formula with no saved value")
    assert p


def test_i37_merged_cells():
    def merge(book, ws):
        ws.merge_cells("A3:B3")

    one(rejected([("m.xlsx", xlsx([["id", "name"], ["1", "A"], ["2", None]], setup=merge))]),
        file="m.xlsx (sheet stakeholders)", row=3, column="id", gist="A3:B3 are merged")


def test_i39_zip_bomb_refused_before_parsing():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (101 * 1024 * 1024))
    start = time.perf_counter()
    one(rejected([("bomb.xlsx", buffer.getvalue())]), file="bomb.xlsx", gist="expands beyond 100 MB")
    assert time.perf_counter() - start < 10  # refused before expanding: a regression takes minutes


def test_i40_xxe_in_workbook_part():
    data = xlsx([["id", "name"], ["1", "A"]])
    src = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as out:
        for info in src.infolist():
            content = src.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                content = b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>' + content
            out.writestr(info, content)
    one(rejected([("xxe.xlsx", buffer.getvalue())]), file="xxe.xlsx", gist="forbidden XML")


def test_i41_legacy_or_encrypted():
    one(rejected([("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)]), file="old.xls",
        gist="Save it as .xlsx without a password")


# I42-I44 --------------------------------------------------------------------------------------
LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>
<graphml xmlns="http://graphml.graphdrawing.org/xmlns"><graph><node id="&lol4;"/></graph></graphml>"""


def test_i42_billion_laughs_quickly_refused():
    start = time.perf_counter()
    one(rejected([("laughs.graphml", LAUGHS)]), file="laughs.graphml", gist="DTD or entities is not accepted")
    assert time.perf_counter() - start < 10  # refused before expanding: a regression takes minutes


@pytest.mark.parametrize(("name", "root"), [("xxe.graphml", "graphml"), ("xxe.gexf", "gexf")])
def test_i43_external_entity_refused_without_reading(tmp_path, name, root):
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET-MARKER-4711")
    data = (f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file://{secret}">]>'
            f"<{root}><graph><node id=\"&x;\"/></graph></{root}>").encode()
    problems = rejected([(name, data)])
    one(problems, file=name, gist="DTD or entities is not accepted")
    assert "SECRET-MARKER" not in " ".join(str(p) for p in problems)


def test_i44_dangling_edge_and_bad_typed_value():
    data = b"""<?xml version="1.0"?><graphml xmlns="http://graphml.graphdrawing.org/xmlns">
    <key id="a" for="node" attr.name="age" attr.type="int"/>
    <graph edgedefault="directed"><node id="n1"><data key="a">abc</data></node>
    <edge id="e1" source="n1" target="n99"/></graph></graphml>"""
    problems = rejected([("dangling.graphml", data)])
    one(problems, file="dangling.graphml", gist="edge 'e1' targets undeclared node 'n99'")
    one(problems, file="dangling.graphml", column="age", gist="node 'n1', attribute age: 'abc' is not a whole number")


# all files at once, capped --------------------------------------------------------------------
def test_problems_across_files_are_reported_together_and_capped():
    bad = b"id,name\n" + b"".join(b"%d,\n" % i for i in range(300))  # 300 blank names + 1 empty file
    problems = rejected([("a.csv", b""), ("b.csv", bad)])
    assert problems[0].file == "a.csv"
    assert len(problems) == 201 and "and 101 more" in problems[-1].message


# I34, I38 -------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["../../x.csv", "con.csv", "/etc/passwd", "<img src=x onerror=alert(1)>.csv"])
def test_i34_hostile_file_names_are_only_labels(tmp_path, monkeypatch, name):
    """A file name is shown in messages as given and never used as a path: nothing appears on disk."""
    monkeypatch.chdir(tmp_path)
    staged = read_files([(name, b"id,name\n1,Ann\n")])
    assert staged.project.stakeholders["_file"].tolist() == [name]
    problem = one(rejected([(name, b"id,name\n1,\x00\n")]), file=name, row=2, column="name")
    assert problem.file == name
    assert list(tmp_path.rglob("*")) == []


@pytest.mark.parametrize("header", ["date_of_birth", "DOB", "Date of birth", "birth-date"])
def test_i38_dates_of_birth_are_refused(header):
    problems = rejected([("people.csv", f"id,name,{header}\n1,Ann,1990-02-03\n".encode())])
    problem = one(problems, file="people.csv", row=1, column=header, gist="does not keep dates of birth")
    assert "1990" not in problem.message


def test_i38_an_age_band_is_kept():
    staged = read_files([("people.csv", b"id,name,age_band\n1,Ann,25-34\n")])
    assert staged.project.stakeholders["age_band"].tolist() == ["25-34"]
