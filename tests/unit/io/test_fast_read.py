"""The fast paths of the CSV/attendance import give exactly what the slow, row-by-row ways give.

Each test compares a fast path with an independent calculation: the ``csv`` module for pyarrow's CSV
reader and for the delimiter sample, ``slug`` called per name, and a plain per-row loop (dicts, in file
order) for the attendance list's people, activities and participation.
"""

from __future__ import annotations

import csv
import io

import pytest

from coprod_map.io import attendance, tables
from coprod_map.io import text as textio
from coprod_map.io.read import read_files

ARROW_TEXTS = [
    "id,name\n1,Ann\n2,Bo\n",
    "id,name\n1,Ann\n2,Bo",  # no newline at the end
    'person,event\n"Smith, Ann","Workshop, 1"\n"say ""hi""",W\n',
    'person,event\n"",x\n" padded ",y\n',
    "name\n'=1+2\nBo\n",
    "person;event;date\nZoë O’Brien;Café;2024-01-01\nМария;会议;\n",
    'a,b\n1,x"y\n',  # a quote inside a field is kept as it is
    "a,b,\n1,2,\n",
    'a\tb\n"x\ty"\t"z"\n"q""uote"\t\n',  # tab-separated, quoted tab, doubled quote
    'a|b\n"x|y"|z\n|""\n',  # bar-separated
]


@pytest.mark.parametrize("text", ARROW_TEXTS)
def test_pyarrow_grid_equals_the_csv_module(text):
    delimiter = textio.choose_delimiter(text)
    lines = text.count("\n") + (0 if text.endswith("\n") else 1)
    assert textio._arrow_grid(text, delimiter, lines) is not None  # the fast path is the one tested
    frame, rows = textio.grid(text, delimiter, file="f.csv")
    records, starts = textio.records(text, delimiter, file="f.csv")  # the csv module, record by record
    assert frame.astype(object).values.tolist() == records
    assert rows.tolist() == starts
    assert all(str(t) == "str" for t in frame.dtypes)


@pytest.mark.parametrize("text", [
    "id,name\n1,Ann\n\n2,Bo\n",  # a blank line
    "id,name\n1,Ann,extra\n",  # a row wider than the header
    "id,name\n1\n",  # a short row
    'id,name\n1,"two\nlines"\n',  # a record over two lines
    'id,name\n1,"ab"c\n',  # quoting the csv module refuses
    'id,name\n1,"open\n2,x\n',  # a quote never closed on its line
])
def test_pyarrow_grid_leaves_everything_else_to_the_old_paths(text):
    lines = text.count("\n") + (0 if text.endswith("\n") else 1)
    assert textio._arrow_grid(text, ",", lines) is None


def _whole_text_counts(text: str, delimiter: str, wanted: int) -> list[int]:
    """The delimiter sample as it was: the csv module over the whole text."""
    counts = []
    try:
        for record in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            if not record or all(not c.strip() for c in record):
                continue
            counts.append(len(record))
            if len(counts) >= wanted:
                break
    except csv.Error:
        pass
    return counts


@pytest.mark.parametrize("cut_record", [0, 3, 49])
def test_delimiter_sample_reads_a_prefix_but_counts_like_the_whole_text(cut_record):
    # Records long enough that the first 50 run past the first 64 KiB read, with a quoted newline,
    # a CR line end and blank lines around where the first read is cut.
    filler = "x" * (65_536 // 50)
    records = [f'{i};"{filler}";b' if i != cut_record else f'{i};"{filler}\nsecond line";b' for i in range(120)]
    text = "h1;h2;h3\r\n" + "\n\n".join(records) + "\n"
    for delimiter in textio.DELIMITERS:
        for wanted in (5, 50, 200):
            assert textio._field_counts(text, delimiter, wanted) == _whole_text_counts(text, delimiter, wanted)
    assert textio.choose_delimiter(text) == ";"


def test_delimiter_sample_with_a_first_line_longer_than_the_first_read():
    text = "a;" + "b" * 300_000 + "\n1;2\n" * 60
    assert textio._field_counts(text, ";", 50) == _whole_text_counts(text, ";", 50)
    assert textio.choose_delimiter(text) == ";"


NAMES = ["Amira Khan", "amira khan", "AMIRA-KHAN!", "Zoë O’Brien", "Zoe OBrien", "Мария", "___", "#",
         "  spaced  out ", "Émile", "a_b", "42", "😀", "x" * 300]


def test_slugs_of_a_column_equal_slug_one_by_one():
    assert attendance._slugs(NAMES) == [attendance.slug(n) for n in NAMES]
    assert attendance._slugs([]) == []


def _attendance_by_hand(rows: list[tuple[str, str, str]]):
    """People, activities and participation from an attendance list, one row at a time."""
    people: dict[str, str] = {}
    acts: dict[str, tuple[str, str]] = {}
    taken: dict[tuple[str, str], int] = {}
    repeated = 0
    for number, (name, title, date) in enumerate(rows, start=2):
        name, title, date = name.strip(), title.strip(), date.strip()
        if not name or not title:
            continue
        pid = attendance.slug(name)
        aid = "-".join(filter(None, (attendance.slug(title), date)))
        people.setdefault(pid, name)
        acts.setdefault(aid, (title, date))
        if (pid, aid) in taken:
            repeated += 1
        else:
            taken[(pid, aid)] = number
    return people, acts, taken, repeated


def test_attendance_list_equals_a_row_by_row_reading():
    rows = []
    for i in range(400):
        name = NAMES[i % len(NAMES)] + ("" if i % 3 else f" {i % 7}")
        title = ["Workshop 1", "workshop-1", "Café chat", " Meet up ", "Мария"][i % 5]
        date = ["2024-01-01", "", "2024-03-05"][i % 3]
        rows.append((name, title, date))
    rows += [("", "Workshop 1", "2024-01-01"), ("Bo", "  ", "")]  # blanks: problems, not rows
    body = "\n".join(",".join(f'"{c}"' for c in r) for r in rows)
    sheet = tables.read_csv("att.csv", f"person,event,date\n{body}\n".encode())
    parts, problems, notices = attendance.attendance_parts(sheet)
    people, acts, taken, repeated = _attendance_by_hand(rows)
    frames = {p.table: p.frame for p in parts}
    assert list(zip(frames["stakeholders"]["id"], frames["stakeholders"]["name"], strict=True)) == list(people.items())
    assert set(frames["stakeholders"]["kind"]) == {"person"}
    assert list(zip(frames["activities"]["id"], zip(frames["activities"]["title"], frames["activities"]["date"],
                                                    strict=True), strict=True)) == list(acts.items())
    got = frames["participation"]
    assert list(zip(zip(got["stakeholder_id"], got["activity_id"], strict=True), got["_row"], strict=True)) == \
        list(taken.items())
    assert [(p.row, p.column) for p in problems] == [(len(rows), "person"), (len(rows) + 1, "event")]
    assert f"att.csv: {repeated} repeated attendance rows were counted once" in notices
    assert any("differ only in case" in n for n in notices)  # "Amira Khan" and "amira khan" are one person


def test_a_quoted_attendance_import_reads_the_same_as_a_plain_one():
    plain = b"person,event,date\nAnn Lee,Walk,2024-05-01\nBo,Walk,2024-05-01\nAnn Lee,Talk,\n"
    quoted = b'person,event,date\n"Ann Lee","Walk","2024-05-01"\nBo,Walk,2024-05-01\n"Ann Lee",Talk,""\n'
    a, b = read_files([("a.csv", plain)]).project, read_files([("a.csv", quoted)]).project
    for table in ("stakeholders", "activities", "participation"):
        assert a.table(table).drop(columns="_file").equals(b.table(table).drop(columns="_file"))
    assert a.participation["stakeholder_id"].tolist() == ["ann-lee", "bo", "ann-lee"]
    assert a.participation["activity_id"].tolist() == ["walk-2024-05-01", "walk-2024-05-01", "talk"]
