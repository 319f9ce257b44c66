"""The Arrow path of a CSV/attendance import gives exactly what the text paths give.

``tables.read_csv`` first tries ``textio.arrow_read`` (pyarrow straight from the bytes, each column
dictionary-encoded once, attendance built from integer codes); with ``tables.ARROW_READ`` off it takes
the old ways (``decode`` + ``grid``, or the ``csv`` module record by record). Each test reads the same
awkward files both ways and compares everything a user or the store sees: the staged frames (dtypes,
row order, ``_file``/``_row``), notices, problems with their file/row/column, and the detection.
"""

from __future__ import annotations

import codecs
import random

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from coprod_map import model, validate
from coprod_map.errors import ImportRejected
from coprod_map.io import attendance, read, tables
from coprod_map.io import text as textio


def _b(text: str, encoding: str = "utf-8") -> bytes:
    return text.encode(encoding)


HEAD = "person,event,date\n"

# Files the Arrow path reads (asserted below), each awkward in its own way.
ARROW_FILES = {
    "plain": _b(HEAD + "Ann,Walk,2024-05-01\nBo,Walk,2024-05-01\nAnn,Talk,2024-05-02\n"),
    "blank names and events": _b(HEAD + "Ann,Walk,2024-05-01\n  ,Walk,2024-05-01\nBo,,2024-05-02\nCy,Talk,\n"),
    "bad dates": _b(HEAD + "Ann,Walk,05/01/2024\nBo,Walk,2024-02-30\nCy,Talk,2024-05-02\n"),
    "repeated rows": _b(HEAD + "Ann,Walk,2024-05-01\nAnn,Walk,2024-05-01\n Ann ,Walk, 2024-05-01 \nBo,Walk,2024-05-01\n"),
    "one person named differently": _b(HEAD + "Amira Khan,Walk,2024-05-01\namira khan,Talk,2024-05-01\n"
                                       "AMIRA-KHAN!,Walk,2024-05-01\nZoë O’Brien,Walk,\nZoe OBrien,Walk,\n"),
    "BOM": codecs.BOM_UTF8 + _b(HEAD + "Ann,Walk,2024-05-01\nBo,Talk,2024-05-01\n"),
    "semicolons": _b("person;event;date\nSmith, Ann;Walk, long;2024-05-01\nBo;Talk;2024-05-01\n"),
    "tabs": _b("person\tevent\tdate\nAnn\tWalk\t2024-05-01\nBo\tTalk\t2024-05-01\n"),
    "quoted commas and quotes": _b(HEAD + '"Smith, Ann","Walk, 1",2024-05-01\n"say ""hi""",Talk,2024-05-01\n'),
    "Windows line ends": _b("person,event,date\r\nAnn,Walk,2024-05-01\r\n\r\nBo,\"Talk, two\",2024-05-01\r\n"),
    "blank lines": _b(HEAD + "\nAnn,Walk,2024-05-01\n\n , , \nBo,Talk,2024-05-01\n\n\n"),
    "spreadsheet errors": _b(HEAD + "#N/A,Walk,2024-05-01\nBo,#REF!,2024-05-01\nCy,Talk,#VALUE!\n"),
    "control and invisible characters": _b(HEAD + "A\x07nn,Walk,2024-05-01\nBo,Ta\u202elk,2024-05-01\n"),
    "over-long cell": _b(HEAD + "A" * 10_050 + ",Walk,2024-05-01\nBo,Talk,2024-05-01\n"),
    "quote-marked formulas": _b(HEAD + "'=Ann,Walk,2024-05-01\n'+Bo,'-Talk,2024-05-01\n=Ann,Walk,2024-05-01\n"),
    "column without header": _b("person,event,,date\nAnn,Walk,x,2024-05-01\n"),
    "empty column without header": _b("person,event,date,\nAnn,Walk,2024-05-01,\n"),
    "quote inside a field": _b(HEAD + 'An"n,Walk,2024-05-01\nBo,Talk,2024-05-01\n'),
    "padded headers and cells": _b(" Person , Session ,Date\n  Ann\t,  Walk ,2024-05-01\nAnn,Walk,2024-05-01\n"
                                   "\u00a0Ann\u00a0,Walk,2024-05-01\n"),
    "no date column": _b("name,activity\nAnn,Walk\nBo,Walk\nAnn,Walk\n"),
    "unicode": _b(HEAD + "Мария,会议,2024-05-01\n😀,会议,2024-05-01\n___,#,2024-05-01\n"),
    "no newline at the end": _b(HEAD + "Ann,Walk,2024-05-01\nBo,Talk,2024-05-01"),
    "blank row before a name": _b(HEAD + "Bo,,2024-05-01\nAnn,Walk,2024-05-01\nBo,Walk,2024-05-01\n"),
    "date of birth": _b("person,event,date,date of birth\nAnn,Walk,2024-05-01,1990-01-01\n"),
    "duplicate headers": _b("person,event,Person\nAnn,Walk,x\n"),
}

# Files only the text paths can read exactly: the Arrow path must decline them.
TEXT_FILES = {
    "quoted newline": _b(HEAD + '"Smith\nAnn",Walk,2024-05-01\nBo,Talk,2024-05-01\n'),
    "CR-only line ends": _b("person,event,date\rAnn,Walk,2024-05-01\rBo,Talk,2024-05-01\r"),
    "Windows-1252": _b(HEAD + "Zoë,Café,2024-05-01\nBo,Talk,2024-05-01\n", "cp1252"),
    "UTF-16": codecs.BOM_UTF16_LE + _b(HEAD + "Zoë,Café,2024-05-01\n", "utf-16-le"),
    "two BOMs": codecs.BOM_UTF8 + codecs.BOM_UTF8 + _b(HEAD + "Ann,Walk,2024-05-01\n"),
    "leading blank line": _b("\n" + HEAD + "Ann,Walk,2024-05-01\n"),
    "blank first record": _b(",,\n" + HEAD + "Ann,Walk,2024-05-01\n"),
    "row wider than the header": _b(HEAD + "Ann,Walk,2024-05-01,extra\nBo,Talk,2024-05-01\n"),
    "short row": _b(HEAD + "Ann,Walk\nBo,Talk,2024-05-01\n"),
    "NUL byte": _b(HEAD + "An\x00n,Walk,2024-05-01\n"),
    "quote never closed": _b(HEAD + '"Ann,Walk,2024-05-01\nBo,Talk,2024-05-01\n'),
    "bad quoting": _b(HEAD + '"Ann"x,Walk,2024-05-01\nBo,Talk,2024-05-01\n'),
    "header only": _b(HEAD),
    "empty": b"",
}


def _frame(frame: pd.DataFrame):
    return ({c: str(t) for c, t in frame.dtypes.items()}, list(frame.index),
            frame.astype(object).where(frame.notna(), None).values.tolist())


def _outcome(files, **options):
    """Everything ``read_files``, ``check_files`` and ``detect`` give for some files, as plain values."""
    out = {"check": [str(p) for p in read.check_files(files, **options)]}
    try:
        staged = read.read_files(files, **options)
    except ImportRejected as rejected:
        out["problems"] = [(p.file, p.row, p.column, p.message) for p in rejected.problems]
    else:
        out["tables"] = {t: _frame(staged.project.table(t)) for t in model.TABLES}
        out["notices"] = staged.notices
        out["files"] = [(f.name, f.format, f.description, f.columns, _frame(f.preview)) for f in staged.files]
    try:
        found = read.detect(*files[0])
        out["detect"] = (found.format, found.description, found.columns, _frame(found.preview))
    except ImportRejected as rejected:
        out["detect"] = [str(p) for p in rejected.problems]
    return out


def _both_ways(monkeypatch, files, **options):
    fast = _outcome(files, **options)
    monkeypatch.setattr(tables, "ARROW_READ", False)
    slow = _outcome(files, **options)
    monkeypatch.setattr(tables, "ARROW_READ", True)
    return fast, slow


@pytest.mark.parametrize("name", list(ARROW_FILES))
def test_the_arrow_path_reads_awkward_files_like_the_text_paths(monkeypatch, name):
    data = ARROW_FILES[name]
    assert textio.arrow_read(data) is not None  # the fast path is the one compared
    fast, slow = _both_ways(monkeypatch, [(f"{name}.csv", data)])
    assert fast == slow


@pytest.mark.parametrize("name", list(TEXT_FILES))
def test_the_arrow_path_leaves_what_it_cannot_read_exactly_to_the_text_paths(monkeypatch, name):
    assert textio.arrow_read(TEXT_FILES[name]) is None
    fast, slow = _both_ways(monkeypatch, [(f"{name}.csv", TEXT_FILES[name])])
    assert fast == slow


def _stakeholders(rows: str) -> bytes:
    return _b("id,name\n" + rows)


@pytest.mark.parametrize("others", [
    [],
    [("stakeholders.csv", _stakeholders("x1,Ann\nx2,Cy\n"))],  # Ann keeps x1
    [("stakeholders.csv", _stakeholders("x1,Ann\nx1,Bo\n"))],  # two names, one id: pairs repeat
    [("stakeholders.csv", _stakeholders(" ,Ann\nx2,Cy\n"))],  # a blank id swapped in
    [("stakeholders.csv", _stakeholders("bo,Ann\n"))],  # Ann takes Bo's made id
    [("stakeholders.csv", _stakeholders("bo,Ann\nann,Bo\n"))],  # the two swap ids
    [("activities.csv", _b("id,title,date\nw1,Walk,2024-05-01\nw1,Talk,2024-05-02\n"))],
    [("participation.csv", _b("stakeholder_id,activity_id\nann,walk-2024-05-01\nzed,walk-2024-05-01\n"))],
    [("att2.csv", ARROW_FILES["repeated rows"])],  # a second attendance list
])
def test_attendance_beside_other_files_reads_like_the_text_paths(monkeypatch, others):
    files = [*others, ("att.csv", ARROW_FILES["plain"])]
    fast, slow = _both_ways(monkeypatch, files)
    assert fast == slow


def test_attendance_into_an_existing_project_reads_like_the_text_paths(monkeypatch):
    existing = model.Project(
        stakeholders=pd.DataFrame({"id": ["x1", "x2"], "name": ["Ann", "Cy"]}),
        activities=pd.DataFrame({"id": ["w1"], "title": ["Walk"], "date": ["2024-05-01"]})).normalised()
    fast, slow = _both_ways(monkeypatch, [("att.csv", ARROW_FILES["plain"])], existing=existing)
    assert fast == slow
    assert [row[:2] for row in fast["tables"]["participation"][2]] == [
        ["x1", "w1"], ["bo", "w1"], ["x1", "talk-2024-05-02"]]


def _random_attendance(seed: int, rows: int = 3000) -> bytes:
    """A bigger file mixing the awkward cells (quotes, blanks, padding, repeats, unicode, CRLF)."""
    rng = random.Random(seed)
    names = ["Ann Lee", " Ann Lee", "ann lee", "Bo", "Zoë", "Zoe", "Мария", '"Smith, Jo"', "", "  ", "'=x", "O’Neil"]
    events = ["Walk", "Talk", "walk", " Meet up ", '"Tea, cake"', "", "会议"]
    dates = ["2024-05-01", "2024-05-02", "", "5/1/2024", " 2024-05-01"]
    lines = ["person,event,date"]
    for _ in range(rows):
        lines.append(",".join((rng.choice(names), rng.choice(events), rng.choice(dates))) if rng.random() > 0.01 else "")
    end = "\r\n" if seed % 2 else "\n"
    return _b(end.join(lines) + end)


@pytest.mark.parametrize("seed", [1, 2])
def test_a_bigger_mixed_file_reads_like_the_text_paths(monkeypatch, seed):
    data = _random_attendance(seed)
    assert textio.arrow_read(data) is not None
    fast, slow = _both_ways(monkeypatch, [("att.csv", data)])
    assert fast == slow
    assert "problems" in fast  # the blanks and bad dates are reported, row by row


def test_a_clean_bigger_file_stages_the_same_frames(monkeypatch):
    data = _b("\n".join(["person,event,date"] + [f"P {i % 97},E {i % 13},2024-01-{1 + i % 28:02d}"
                                                  for i in range(5000)]) + "\n")
    fast, slow = _both_ways(monkeypatch, [("att.csv", data)])
    assert fast == slow and "tables" in fast
    dtypes = fast["tables"]["participation"][0]
    assert dtypes == {"stakeholder_id": "object", "activity_id": "object", "notes": "object", "_file": "str",
                      "_row": "Int64"}


def test_the_delimiter_is_chosen_from_the_start_only_when_the_rest_cannot_change_it():
    filler = "x" * 2000
    records = [f'{i};"{filler}";b' if i != 30 else f'{i};"{filler}\nsecond";b' for i in range(120)]
    text = "h1;h2;h3\n" + "\n".join(records) + "\n"
    expected = textio.choose_delimiter(text)
    lines = text.splitlines(keepends=True)
    for cut in range(1, len(lines)):
        prefix = "".join(lines[:cut])
        chosen = textio._choose_delimiter(prefix, complete=False)
        assert chosen is None or chosen == expected
    assert textio._choose_delimiter("".join(lines[:80]), complete=False) == expected


def test_the_sound_participation_check_skips_only_what_could_hold_no_problem():
    """When ``_build`` calls the attendance participation sound, checking it finds nothing."""
    def problems(project, source_columns):
        return (validate.check_project(project, cells=False, references=False, source_columns=source_columns)
                + read._reference_problems(project, None, source_columns))

    sound_ones = 0
    for name, data in {**ARROW_FILES, "mixed": _random_attendance(3, 500)}.items():
        found = read._collect([(f"{name}.csv", data)], None)
        if not found.files:
            continue
        project, source_columns, sound = read._build(found, None)
        if sound:
            sound_ones += 1
            skipped = model.Project(**{t: project.table(t) for t in model.TABLES if t != "participation"})
            assert problems(project, source_columns) == problems(skipped, source_columns), name
    assert sound_ones >= 15


def test_swapped_ids_equal_replace():
    values = pd.Series(["a", "b", "c", "a", "d"], dtype=object)
    new = {"a": "b", "b": "c"}  # not chained: a -> b, b -> c
    assert read._swapped(values, new).tolist() == values.replace(new).tolist() == ["b", "c", "c", "b", "d"]
    assert read._swapped(values, new).dtype == object
    text = values.astype("str")
    assert read._swapped(text, new).equals(text.replace(new))


def test_first_of_each_equals_pandas_duplicated():
    rng = np.random.default_rng(5)
    for size in (1, 7, 1000, 2**50):
        keys = rng.integers(0, min(size, 2**40), 5000)
        expected = ~pd.Series(keys).duplicated().to_numpy()
        assert attendance._first_of_each(keys, size).tolist() == expected.tolist()
    assert attendance._first_of_each(np.zeros(0, dtype=np.int64), 1).tolist() == []


def test_a_chunked_column_is_encoded_like_the_whole_column():
    chunked = pa.chunked_array([pa.array(["b", "a", "b"]), pa.array(["c", "a"]), pa.array([], pa.string())])
    codes, distinct = tables._encode(chunked)
    assert codes.tolist() == [0, 1, 0, 2, 1] and distinct.to_pylist() == ["b", "a", "c"]
    codes, distinct = tables._encode(pa.chunked_array([], pa.string()))
    assert codes.tolist() == [] and distinct.to_pylist() == []


def test_many_people_already_saved_keep_their_ids_quickly():
    """Thousands of attendance names matching saved people: one lookup per distinct id (``Series.replace``
    with a dict of thousands of ids took minutes here)."""
    people = [f"Person {i}" for i in range(3000)]
    existing = model.Project(stakeholders=pd.DataFrame({"id": [f"s{i}" for i in range(3000)], "name": people}))
    data = _b("\n".join(["person,event,date"] + [f"{people[i % 3000]},E {i % 7},2024-01-01" for i in range(20_000)]))
    staged = read.read_files([("att.csv", data)], existing=existing.normalised())
    got = staged.project.participation["stakeholder_id"]
    assert got.tolist() == [f"s{i % 3000}" for i in range(20_000)] and got.dtype == object
    assert len(staged.project.stakeholders) == 0  # everyone was already saved
