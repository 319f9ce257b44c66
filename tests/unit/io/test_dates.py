"""Dates as spreadsheets write them (``coprod_map.io.dates``) through every reader.

Expected dates are written by hand, or computed by Python's own ``datetime`` (an independent method).
"""

from __future__ import annotations

import datetime as dt
import io
import random
import zipfile

import numpy as np
import openpyxl
import pandas as pd
import pyarrow as pa
import pytest

from coprod_map.errors import ImportRejected
from coprod_map.io import attendance, dates, read
from coprod_map.io.read import read_files


def csv(rows: list[list[str]]) -> bytes:
    return ("\n".join(",".join(r) for r in rows) + "\n").encode()


def xlsx(rows: list[list], title: str = "activities") -> bytes:
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = title
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def activities(dates_: list[str], name: str = "activities.csv", header: str = "date") -> tuple[str, bytes]:
    return name, csv([["id", "title", header]] + [[f"a{i}", f"T{i}", d] for i, d in enumerate(dates_)])


def rejected(files) -> list:
    with pytest.raises(ImportRejected) as caught:
        read_files(files)
    return caught.value.problems


def read_text(values: list[str]) -> list[str]:
    return dates.read_dates(values).text.to_pylist()


# --- each form ------------------------------------------------------------------------------

@pytest.mark.parametrize(("written", "iso"), [
    ("2025-04-03", "2025-04-03"),
    ("2025/04/03", "2025-04-03"),
    ("2025/4/3", "2025-04-03"),
    ("3/4/2025", "2025-04-03"),
    ("03/04/2025", "2025-04-03"),
    ("03-04-2025", "2025-04-03"),
    ("03.04.2025", "2025-04-03"),
    ("3 April 2025", "2025-04-03"),
    ("3 Apr 2025", "2025-04-03"),
    ("3 APRIL 2025", "2025-04-03"),
    ("3rd April 2025", "2025-04-03"),
    ("03-Apr-2025", "2025-04-03"),
    ("April 3, 2025", "2025-04-03"),
    ("Apr 3 2025", "2025-04-03"),
    ("Thursday 3 April 2025", "2025-04-03"),
    ("Thu, 3 Apr 2025", "2025-04-03"),
    ("Thursday, April 3, 2025", "2025-04-03"),
    ("  3 Sept 2025 ", "2025-09-03"),
])
def test_each_form_is_read_as_iso(written, iso):
    assert read_text([written]) == [iso]


def test_forms_checked_against_python_datetime_on_random_dates():
    """Independent method: Python's strftime writes each date; the reader must give its isoformat back."""
    rng = random.Random(8)
    days = [dt.date(1990, 1, 1) + dt.timedelta(days=rng.randrange(0, 20_000)) for _ in range(400)]
    forms = ["%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y/%m/%d", "%d %B %Y", "%d %b %Y", "%B %d, %Y", "%A %d %B %Y",
             "%a %d %b %Y", "%Y-%m-%d"]
    for form in forms:
        written = [d.strftime(form) for d in days]
        assert read_text(written) == [d.isoformat() for d in days], form


def test_what_is_not_a_date_is_left_for_validation_with_its_usual_message():
    assert read_text(["45750", "soon", "3/4-2025", "3 Aprill 2025", "Funday 3 April 2025", ""]) == [
        "45750", "soon", "3/4-2025", "3 Aprill 2025", "Funday 3 April 2025", ""]
    problems = rejected([activities(["45750", "2025-04-03"])])
    assert [(p.file, p.row, p.column, p.message) for p in problems] == [
        ("activities.csv", 2, "date", "'45750' is not a date written as YYYY-MM-DD. Expected a date such as 2024-03-05.")]


# --- day first or month first ----------------------------------------------------------------

def test_a_value_only_day_first_can_read_proves_day_first():
    read_ = dates.read_dates(["03/04/2025", "13/04/2025"])
    assert read_.text.to_pylist() == ["2025-04-03", "2025-04-13"]
    assert (read_.order, read_.proven, read_.proof) == ("day", True, 1)
    staged = read_files([activities(["03/04/2025", "13/04/2025"])])
    assert staged.project.activities["date"].tolist() == ["2025-04-03", "2025-04-13"]
    assert not [n for n in staged.notices if "Dates in" in n]  # the file shows it: nothing to warn about


def test_a_value_only_month_first_can_read_proves_month_first():
    read_ = dates.read_dates(["03/04/2025", "04/13/2025"])
    assert read_.text.to_pylist() == ["2025-03-04", "2025-04-13"]
    assert (read_.order, read_.proven) == ("month", True)
    staged = read_files([activities(["03/04/2025", "04/13/2025"])])
    assert staged.project.activities["date"].tolist() == ["2025-03-04", "2025-04-13"]
    assert [n for n in staged.notices if "Dates in" in n] == [
        "Dates in 'date' of activities.csv were read month first, as 04/13/2025 can only be: 03/04/2025 is "
        "March 4, 2025. If that is wrong, check the file: the dates are not all written the same way."]


def test_both_kinds_in_one_column_are_refused_naming_two_rows_of_each():
    files = [activities(["01/02/2025", "13/04/2025", "04/14/2025", "25/12/2025", "12/25/2025", "14/01/2025"])]
    problems = rejected(files)
    assert [(p.file, p.row, p.column) for p in problems] == [("activities.csv", 3, "date")]
    assert problems[0].message == (
        "dates in this column are written both day first, as in row 3 (13/04/2025) and row 5 (25/12/2025), and "
        "month first, as in row 4 (04/14/2025) and row 6 (12/25/2025). Write every date the same way (best as "
        "YYYY-MM-DD, such as 2025-04-03) and import again.")


def test_neither_proven_reads_day_first_and_says_so():
    staged = read_files([activities(["03/04/2025", "05/06/2025", "07/07/2025"])])
    assert staged.project.activities["date"].tolist() == ["2025-04-03", "2025-06-05", "2025-07-07"]
    assert [n for n in staged.notices if "Dates in" in n] == [
        "Dates in 'date' of activities.csv were read day first: 03/04/2025 is 3 April 2025. If your file writes "
        "the month first (as in the US), undo this import on the History page, save the dates as YYYY-MM-DD (in "
        "Excel: format the column as yyyy-mm-dd) and import the file again."]


def test_no_notice_when_the_order_changes_nothing():
    staged = read_files([activities(["07/07/2025", "3 April 2025", "2025/05/01"])])
    assert staged.project.activities["date"].tolist() == ["2025-07-07", "2025-04-03", "2025-05-01"]
    assert not [n for n in staged.notices if "Dates in" in n]


def test_each_column_is_decided_on_its_own():
    rows = [["source", "target", "since", "until"], ["p1", "p2", "13/01/2020", "01/02/2021"],
            ["p2", "p1", "02/03/2020", "12/31/2021"]]
    staged = read_files([("people.csv", csv([["id", "name"], ["p1", "A"], ["p2", "B"]])), ("ties.csv", csv(rows))])
    ties = staged.project.relationships
    assert ties["since"].tolist() == ["2020-01-13", "2020-03-02"]  # day first: 13/01 proves it
    assert ties["until"].tolist() == ["2021-01-02", "2021-12-31"]  # month first: 12/31 proves it


# --- refused values ---------------------------------------------------------------------------

def test_impossible_dates_are_refused_naming_file_row_and_column():
    problems = rejected([activities(["03/04/2025", "31/02/2025", "30 February 2025", "2025/02/30", "13/13/2025"])])
    assert [(p.file, p.row, p.column, p.message) for p in problems] == [
        ("activities.csv", 3, "date",
         "'31/02/2025' is not a real date: February 2025 has no day 31. Check the day and month."),
        ("activities.csv", 4, "date",
         "'30 February 2025' is not a real date: February 2025 has no day 30. Check the day and month."),
        ("activities.csv", 5, "date",
         "'2025/02/30' is not a real date: February 2025 has no day 30. Check the day and month."),
        ("activities.csv", 6, "date", "'13/13/2025' is not a real date: there is no month 13. Check the day and month."),
    ]


def test_an_impossible_iso_date_keeps_todays_message():
    problems = rejected([activities(["2025-02-30", "03/04/2025"])])
    assert [(p.row, p.message) for p in problems] == [
        (2, "'2025-02-30' is not a date written as YYYY-MM-DD. Expected a date such as 2024-03-05.")]


def test_two_digit_years_are_refused():
    problems = rejected([activities(["3/4/25", "3 Apr 99", "03/04/2025"])])
    assert [(p.row, p.column, p.message) for p in problems] == [
        (2, "date", "'3/4/25' has a two-digit year, so the century is unclear (2025 or 1925?). Write the year in full."),
        (3, "date", "'3 Apr 99' has a two-digit year, so the century is unclear (2099 or 1999?). "
                    "Write the year in full.")]


def test_a_weekday_that_does_not_match_is_refused():
    problems = rejected([activities(["Friday 3 April 2025"])])
    assert [(p.row, p.message) for p in problems] == [
        (2, "'Friday 3 April 2025': 3 April 2025 is a Thursday, not a Friday. Check the date.")]
    assert dt.date(2025, 4, 3).strftime("%A") == "Thursday"  # the independent check of the message's claim


@pytest.mark.parametrize(("written", "year"), [
    ("29/02/2024", 2024), ("29/02/2023", 2023), ("29/02/2000", 2000), ("29/02/1900", 1900),
    ("29 Feb 2028", 2028), ("February 29, 2100", 2100),
])
def test_leap_days(written, year):
    try:  # the independent answer: Python's calendar
        expected = [dt.date(year, 2, 29).isoformat()]
    except ValueError:
        expected = None
    read_ = dates.read_dates([written])
    if expected is not None:
        assert read_.text.to_pylist() == expected and not read_.refused
    else:
        assert read_.text.to_pylist() == [""]
        assert read_.refused == {0: f"'{written}' is not a real date: February {year} has no day 29. "
                                    "Check the day and month."}


def test_blank_cells_stay_blank_and_space_is_trimmed():
    staged = read_files([activities(["", " 03/04/2025 ", "", "13/04/2025"])])
    assert staged.project.activities["date"].tolist() == ["", "2025-04-03", "", "2025-04-13"]


def test_many_refused_rows_are_counted_not_all_named(monkeypatch):
    monkeypatch.setattr(dates, "MAX_ROWS_NAMED", 3)
    problems = rejected([activities(["3/4/25"] * 5)])
    assert [p.row for p in problems] == [2, 3, 4, None]
    assert problems[-1].message == "and 2 more rows with such dates in this column."


# --- whole imports ----------------------------------------------------------------------------

def test_a_uk_csv_imports_with_iso_dates_into_the_project(store):
    project_id = store.create_project("Riverside")
    staged = read_files([("people.csv", csv([["id", "name"], ["p1", "Ann"], ["p2", "Bo"]])),
                         activities(["03/04/2025", "25/12/2025", "1 March 2025"]),
                         ("ties.csv", csv([["source", "target", "since"], ["p1", "p2", "14/02/2024"]]))])
    store.import_project(project_id, staged.project)
    saved = store.load(project_id)
    assert saved.activities.set_index("id")["date"].to_dict() == {"a0": "2025-04-03", "a1": "2025-12-25",
                                                                  "a2": "2025-03-01"}
    assert saved.relationships["since"].tolist() == ["2024-02-14"]


def test_an_attendance_list_with_uk_dates_makes_one_activity_per_real_date():
    rows = [["Name", "Session", "Date"], ["Ann", "Walk", "3/4/2025"], ["Bo", "Walk", "03/04/2025"],
            ["Cy", "Walk", "3 April 2025"], ["Ann", "Talk", "05/04/2025"]]
    staged = read_files([("attendance.csv", csv(rows))])
    acts = staged.project.activities
    assert list(zip(acts["id"], acts["title"], acts["date"], strict=True)) == [
        ("walk-2025-04-03", "Walk", "2025-04-03"), ("talk-2025-04-05", "Talk", "2025-04-05")]
    part = staged.project.participation
    assert sorted(zip(part["stakeholder_id"], part["activity_id"], strict=True)) == [
        ("ann", "talk-2025-04-05"), ("ann", "walk-2025-04-03"), ("bo", "walk-2025-04-03"), ("cy", "walk-2025-04-03")]
    assert ("Dates in 'Date' of attendance.csv were read day first: 3/4/2025 is 3 April 2025. If your file writes "
            "the month first") in " ".join(staged.notices)


def test_attendance_problems_name_the_sheet_row_and_header():
    rows = [["person", "event", "Date"], ["Ann", "Walk", "03/04/2025"], ["Bo", "Walk", "31/04/2025"]]
    problems = rejected([("att.csv", csv(rows))])
    assert [(p.file, p.row, p.column, p.message) for p in problems] == [
        ("att.csv", 3, "Date", "'31/04/2025' is not a real date: April 2025 has no day 31. Check the day and month.")]


def test_attendance_date_column_the_reader_takes_is_the_one_read():
    """The dates read are those of the column the attendance reader takes, whatever its heading."""
    staged = read_files([("att.csv", csv([["person", "event", "Date attended"], ["Ann", "Walk", "13/04/2025"]]))])
    assert staged.project.activities[["id", "date"]].values.tolist() == [["walk-2025-04-13", "2025-04-13"]]


def test_xlsx_date_cells_arrive_as_iso_and_text_dates_are_read():
    rows = [["id", "title", "date"], ["a1", "Walk", dt.datetime(2025, 4, 3)], ["a2", "Talk", dt.date(2025, 12, 25)],
            ["a3", "Tea", "13/04/2025"], ["a4", "Meet", None]]
    staged = read_files([("book.xlsx", xlsx(rows))])
    assert staged.project.activities["date"].tolist() == ["2025-04-03", "2025-12-25", "2025-04-13", ""]


def test_xlsx_problems_name_the_sheet():
    problems = rejected([("book.xlsx", xlsx([["id", "title", "date"], ["a1", "Walk", "3/4/25"]]))])
    assert [(p.file, p.row, p.column) for p in problems] == [("book.xlsx (sheet activities)", 2, "date")]


def test_record_dates_in_a_bundle_are_read():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("stakeholders.csv", "id,name\np1,Ann\n")
        archive.writestr("record/decisions.csv", "id,date,title,reported_back_on\nD1,03/04/2025,Venue,1 May 2025\n")
        archive.writestr("record/actions.csv", "id,cycle,title,due,status\nT1,C1,Book room,30/02/2025,open\n")
    with pytest.raises(ImportRejected) as caught:
        read_files([("bundle.zip", buffer.getvalue())])
    due = [p for p in caught.value.problems if p.column == "due"]
    assert [(p.file, p.row, p.message) for p in due] == [
        ("bundle.zip: record/actions.csv", 2,
         "'30/02/2025' is not a real date: February 2025 has no day 30. Check the day and month.")]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("stakeholders.csv", "id,name\np1,Ann\n")
        archive.writestr("record/decisions.csv", "id,date,title,reported_back_on\nD1,03/04/2025,Venue,1 May 2025\n")
    staged = read_files([("bundle.zip", buffer.getvalue())])
    decisions = staged.record.decisions
    assert decisions[["date", "reported_back_on"]].values.tolist() == [["2025-04-03", "2025-05-01"]]


# --- ISO files: exactly as before --------------------------------------------------------------

def _without_date_reading(monkeypatch) -> None:
    monkeypatch.setattr(attendance, "sheet_dates", lambda sheet, header: (False, [], []))
    monkeypatch.setattr(read, "_read_dates", lambda out: None)


def _staged_frames(files) -> dict:
    staged = read_files(files)
    return {t: staged.project.table(t) for t in ("stakeholders", "relationships", "activities", "participation")} | {
        "notices": staged.notices}


@pytest.mark.parametrize("files", [
    [activities(["2025-04-03", "", " 2025-04-05 ", "2025-04-03"])],
    [("att.csv", csv([["person", "event", "date"], ["Ann", "Walk", "2025-04-03"], ["Bo", "Walk", " 2025-04-03"],
                      ["Cy", "Talk", ""]]))],
    [("people.csv", csv([["id", "name"], ["p1", "A"], ["p2", "B"]])),
     ("ties.csv", csv([["source", "target", "since", "until"], ["p1", "p2", "2020-01-13", ""]]))],
])
def test_an_all_iso_file_gives_exactly_what_it_gave_before(monkeypatch, files):
    now = _staged_frames(files)
    _without_date_reading(monkeypatch)
    before = _staged_frames(files)
    assert now["notices"] == before["notices"]
    for table in ("stakeholders", "relationships", "activities", "participation"):
        pd.testing.assert_frame_equal(now[table], before[table])


def test_an_all_iso_column_is_not_touched():
    frame = pd.DataFrame({"id": ["a1", "a2"], "date": ["2025-04-03", ""], "_file": "a.csv", "_row": [2, 3]})
    assert dates.frame_dates(frame, "date", table="activities")[0] is frame
    codes, distinct = np.array([0, 1, 0]), pa.array(["2025-04-03", ""])
    out = dates.encoded_dates(codes, distinct, file="a.csv", column="date")
    assert out.codes is codes and out.distinct is distinct and not out.changed


# --- a time of day after the date -------------------------------------------------------------

TIMES_NOTICE = "Times in 'Date' of attendance.csv were left out: coprod_map keeps the day of each session."


def time_notices(notices: list[str]) -> list[str]:
    return [n for n in notices if n.startswith("Times in")]


@pytest.mark.parametrize(("written", "iso"), [
    ("2025-04-03 10:30:00", "2025-04-03"),  # Eventbrite, door sign-in apps
    ("2025-04-03T10:30:00Z", "2025-04-03"),
    ("2025-04-03T10:30:00.123Z", "2025-04-03"),
    ("2025-04-03 10:30:00.500000", "2025-04-03"),  # an XLSX cell with a fraction of a second
    ("03/04/2025 10:30", "2025-04-03"),  # Google Forms (UK)
    ("03/04/2025 10:30:15", "2025-04-03"),
    ("3/4/2025 10:30:15 AM", "2025-04-03"),  # Microsoft Forms
    ("3/4/2025 9:05 pm", "2025-04-03"),
    ("3/4/2025 9:05PM", "2025-04-03"),
    ("3/4/2025 9:05 p.m.", "2025-04-03"),
    ("2025/04/03 10:30", "2025-04-03"),
    ("3 April 2025 10:30", "2025-04-03"),
    ("3 April 2025, 10:30", "2025-04-03"),
    ("Thursday, April 3, 2025 at 10:30 AM", "2025-04-03"),
    ("03-Apr-2025 10:30:00", "2025-04-03"),
    ("  2025-04-03t10:30  ", "2025-04-03"),
])
def test_a_time_after_each_date_form_is_left_out(written, iso):
    read_ = dates.read_dates([written])
    assert read_.text.to_pylist() == [iso] and not read_.refused
    assert read_.timed.tolist() == [True]


def test_times_checked_against_python_datetime_on_random_moments():
    """Independent method: Python's strftime writes each moment; the reader must give back the day as written."""
    rng = random.Random(9)
    moments = [dt.datetime(1990, 1, 1) + dt.timedelta(seconds=rng.randrange(0, 35 * 365 * 86400)) for _ in range(300)]
    moments += [dt.datetime(2025, 4, 3, 0, 0, 0), dt.datetime(2025, 4, 3, 12, 0, 0), dt.datetime(2025, 4, 3, 23, 59, 59)]
    forms = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S.%f+01:00", "%d/%m/%Y %H:%M",
             "%d/%m/%Y %I:%M:%S %p", "%d %B %Y, %H:%M", "%B %d, %Y at %I:%M %p", "%A %d %B %Y %H:%M:%S"]
    for form in forms:
        read_ = dates.read_dates([m.strftime(form) for m in moments])
        assert read_.text.to_pylist() == [m.date().isoformat() for m in moments], form
        assert not read_.refused and read_.timed.all(), form


@pytest.mark.parametrize("written", ["3/4/2025 12:00 AM", "3/4/2025 12:00 PM", "3/4/2025 12:30 am", "3/4/2025 12:59:59 PM",
                                     "3/4/2025 1:00 AM", "3/4/2025 11:59 PM", "3/4/2025 0:30 AM", "3/4/2025 13:00 PM",
                                     "3/4/2025 00:00 PM"])
def test_am_pm_edges_keep_the_day_as_written_and_refuse_hours_a_12_hour_clock_lacks(written):
    time_text = written.split(" ", 1)[1]
    try:  # the independent answer: Python's 12-hour clock
        dt.datetime.strptime(time_text, "%I:%M:%S %p" if time_text.count(":") == 2 else "%I:%M %p")
        real = True
    except ValueError:
        real = False
    read_ = dates.read_dates([written])
    if real:  # 12 AM is just after midnight and 12 PM is noon: both on 3 April, as written
        assert read_.text.to_pylist() == ["2025-04-03"] and not read_.refused
    else:
        hour, half = int(time_text.split(":")[0]), time_text.split()[-1]
        assert read_.text.to_pylist() == [""]
        assert read_.refused == {0: f"'{written}' has a time that does not exist: there is no hour {hour} with "
                                    f"{half} (the hours run 1 to 12). Correct the time or delete it: coprod_map "
                                    "keeps only the day."}


@pytest.mark.parametrize("written", ["2025-04-03T23:30:00-05:00", "2025-04-03T00:30:00+01:00", "2025-04-03T23:30+0530",
                                     "2025-04-03T23:30:00+14:00", "2025-04-03 23:30 UTC", "2025-04-03 23:30 GMT+1",
                                     "03/04/2025 23:30 +01:00", "2025-04-03T23:30:00Z"])
def test_offsets_are_left_out_without_moving_the_day(written):
    read_ = dates.read_dates([written])
    assert read_.text.to_pylist() == ["2025-04-03"] and not read_.refused


def test_no_time_zone_conversion_even_where_utc_is_another_day():
    written = "2025-04-03T21:00:00-05:00"
    assert dt.datetime.fromisoformat(written).astimezone(dt.UTC).date() == dt.date(2025, 4, 4)
    assert read_text([written]) == ["2025-04-03"]  # the evening session is on 3 April where it happened


@pytest.mark.parametrize(("time_text", "what"), [
    ("25:61", "hour 25"), ("24:00", "hour 24"), ("10:60", "minute 60"), ("10:30:60", "second 60"),
    ("10:30:99.5", "second 99"), ("10:30+24:00", "time zone +24:00"), ("10:30-25:00", "time zone -25:00"),
])
def test_impossible_times_are_refused_naming_file_row_and_column(time_text, what):
    with pytest.raises(ValueError):  # the independent answer: Python refuses the same time
        dt.datetime.fromisoformat(f"2025-04-03T{time_text}")
    rows = [["Name", "Session", "Date"], ["Ann", "Walk", "03/04/2025 10:30"], ["Bo", "Walk", f"03/04/2025 {time_text}"]]
    problems = rejected([("attendance.csv", csv(rows))])
    assert [(p.file, p.row, p.column, p.message) for p in problems] == [
        ("attendance.csv", 3, "Date", f"'03/04/2025 {time_text}' has a time that does not exist: there is no {what}. "
                                      "Correct the time or delete it: coprod_map keeps only the day.")]


def test_a_wrong_date_before_a_time_is_refused_quoting_the_whole_value():
    problems = rejected([activities(["31/02/2025 10:30", "3/4/25 10:30:15", "2025-02-30T10:00:00Z", "03/04/2025 10:30",
                                     "Friday 3 April 2025 10:30"])])
    assert [(p.row, p.column, p.message) for p in problems] == [
        (2, "date", "'31/02/2025 10:30' is not a real date: February 2025 has no day 31. Check the day and month."),
        (3, "date", "'3/4/25 10:30:15' has a two-digit year, so the century is unclear (2025 or 1925?). "
                    "Write the year in full."),
        (4, "date", "'2025-02-30T10:00:00Z' is not a real date: February 2025 has no day 30. Check the day and month."),
        (6, "date", "'Friday 3 April 2025 10:30': 3 April 2025 is a Thursday, not a Friday. Check the date.")]


def test_what_comes_before_a_time_must_be_a_date():
    assert read_text(["Room 4 10:30", "10:30", "week 3 at 10:30"]) == ["Room 4 10:30", "10:30", "week 3 at 10:30"]
    problems = rejected([activities(["Room 4 10:30"])])
    assert [(p.row, p.message) for p in problems] == [
        (2, "'Room 4 10:30' is not a date written as YYYY-MM-DD. Expected a date such as 2024-03-05.")]


def test_one_notice_per_column_however_many_times():
    rows = [["Name", "Session", "Date"]] + [[f"P{i}", "Walk", f"03/04/2025 {10 + i % 8}:{i % 60:02d}"] for i in range(50)]
    rows += [["Ann", "Talk", "13/04/2025"]]
    staged = read_files([("attendance.csv", csv(rows))])
    assert time_notices(staged.notices) == [TIMES_NOTICE]
    assert not [n for n in staged.notices if "Dates in" in n]  # 13/04/2025 proves day first
    ties = [["source", "target", "since", "until"], ["p1", "p2", "13/01/2020 09:00", "2021-01-02T10:00:00Z"],
            ["p2", "p1", "02/03/2020 10:00", ""]]
    staged = read_files([("people.csv", csv([["id", "name"], ["p1", "A"], ["p2", "B"]])), ("ties.csv", csv(ties))])
    assert staged.project.relationships[["since", "until"]].values.tolist() == [
        ["2020-01-13", "2021-01-02"], ["2020-03-02", ""]]
    assert time_notices(staged.notices) == [
        "Times in 'since' of ties.csv were left out: coprod_map keeps only the day.",
        "Times in 'until' of ties.csv were left out: coprod_map keeps only the day."]


def test_no_time_notice_without_times_or_when_every_timed_value_is_refused():
    assert not time_notices(read_files([activities(["03/04/2025", "13/04/2025"])]).notices)
    out = dates.encoded_dates(np.array([0]), pa.array(["2025-04-03 25:00"]), file="a.csv", column="date")
    assert [p.row for p in out.problems] == [None] and not time_notices(out.notices)


def test_timed_and_plain_values_of_one_day_become_one_value():
    out = dates.encoded_dates(np.array([0, 1, 2, 3, 1]), pa.array(["2025-04-03", "2025-04-03 10:30", "3/4/2025 18:00",
                                                                   "2025-04-05T09:00Z"]),
                              file="a.csv", column="date", rows=np.array([2, 3, 4, 5, 6]))
    assert out.distinct.to_pylist() == ["2025-04-03", "2025-04-05"]
    assert out.codes.tolist() == [0, 0, 0, 1, 0]
    assert time_notices(out.notices) == [
        "Times in 'date' of a.csv were left out: coprod_map keeps the day of each session."]


def test_the_order_notice_shows_the_date_without_its_time():
    staged = read_files([activities(["03/04/2025 10:30", "05/06/2025 11:00"])])
    assert [n for n in staged.notices if "Dates in" in n][0].startswith(
        "Dates in 'date' of activities.csv were read day first: 03/04/2025 is 3 April 2025.")
    staged = read_files([activities(["4/3/2025 10:30:15 AM", "4/13/2025 2:05:00 PM"])])  # US Microsoft Forms
    assert staged.project.activities["date"].tolist() == ["2025-04-03", "2025-04-13"]
    assert [n for n in staged.notices if "Dates in" in n][0].startswith(
        "Dates in 'date' of activities.csv were read month first, as 4/13/2025 can only be: 4/3/2025 is April 3, 2025.")


def test_an_all_iso_column_with_times_is_read():
    staged = read_files([activities(["2025-04-03 10:30:00", "2025-04-03", "", "2025-04-05 18:00:00"])])
    assert staged.project.activities["date"].tolist() == ["2025-04-03", "2025-04-03", "", "2025-04-05"]
    assert time_notices(staged.notices) == [
        "Times in 'date' of activities.csv were left out: coprod_map keeps the day of each session."]


def test_xlsx_datetime_cells_with_a_time_keep_their_day_with_one_notice():
    rows = [["id", "title", "date"], ["a1", "Walk", dt.datetime(2025, 4, 3, 10, 30)],
            ["a2", "Talk", dt.datetime(2025, 4, 3, 23, 59, 59)], ["a3", "Tea", dt.datetime(2025, 12, 25, 0, 0, 0, 500000)],
            ["a4", "Meet", dt.datetime(2025, 4, 6)], ["a5", "Quiz", "13/04/2025 10:00"]]
    staged = read_files([("book.xlsx", xlsx(rows))])
    assert staged.project.activities["date"].tolist() == ["2025-04-03", "2025-04-03", "2025-12-25", "2025-04-06",
                                                         "2025-04-13"]
    assert time_notices(staged.notices) == [
        "Times in 'date' of book.xlsx (sheet activities) were left out: coprod_map keeps the day of each session."]
    midnight = [["id", "title", "date"], ["a1", "Walk", dt.datetime(2025, 4, 3)], ["a2", "Talk", dt.date(2025, 4, 4)]]
    staged = read_files([("book.xlsx", xlsx(midnight))])
    assert staged.project.activities["date"].tolist() == ["2025-04-03", "2025-04-04"]
    assert not time_notices(staged.notices)


def test_xlsx_attendance_with_datetime_cells_gives_one_activity_per_day():
    rows = [["Name", "Session", "Date"], ["Ann", "Walk", dt.datetime(2025, 4, 3, 10, 30)],
            ["Bo", "Walk", dt.datetime(2025, 4, 3, 14, 0)], ["Ann", "Walk", dt.datetime(2025, 4, 10, 10, 30)]]
    staged = read_files([("signin.xlsx", xlsx(rows, title="attendance"))])
    assert staged.project.activities[["id", "date"]].values.tolist() == [
        ["walk-2025-04-03", "2025-04-03"], ["walk-2025-04-10", "2025-04-10"]]
    assert len(staged.project.participation) == 3
    assert time_notices(staged.notices) == [
        "Times in 'Date' of signin.xlsx (sheet attendance) were left out: coprod_map keeps the day of each session."]


def test_two_times_on_one_day_are_one_participation(store):
    rows = [["Name", "Session", "Date"], ["Ann", "Walk", "03/04/2025 10:30"], ["Ann", "Walk", "03/04/2025 14:15"],
            ["Ann", "Walk", "2025-04-03T18:00:00+01:00"], ["Bo", "Walk", "3/4/2025 10:31:02 AM"],
            ["Ann", "Walk", "04/04/2025 10:30"], ["Ann", "Talk", "03/04/2025 10:30"]]
    staged = read_files([("attendance.csv", csv(rows))])
    acts = staged.project.activities
    assert acts[["id", "title", "date"]].values.tolist() == [
        ["walk-2025-04-03", "Walk", "2025-04-03"], ["walk-2025-04-04", "Walk", "2025-04-04"],
        ["talk-2025-04-03", "Talk", "2025-04-03"]]
    part = staged.project.participation
    # Hand count: (person, session, day) pairs: Ann-Walk-3rd (3 rows), Bo-Walk-3rd, Ann-Walk-4th, Ann-Talk-3rd.
    expected = {("ann", "walk-2025-04-03"), ("bo", "walk-2025-04-03"), ("ann", "walk-2025-04-04"),
                ("ann", "talk-2025-04-03")}
    assert sorted(zip(part["stakeholder_id"], part["activity_id"], strict=True)) == sorted(expected)
    assert time_notices(staged.notices) == [TIMES_NOTICE]
    project_id = store.create_project("Sign-in")
    store.import_project(project_id, staged.project)
    saved = store.load(project_id).participation
    assert len(saved) == len(expected)
    assert set(zip(saved["stakeholder_id"], saved["activity_id"], strict=True)) == expected


def test_a_column_of_distinct_timestamps_is_read_once_per_day(monkeypatch):
    """A sign-in list's timestamps are nearly all distinct: the dates are read per distinct day, not per value."""
    seen: list[int] = []
    real = dates._read
    monkeypatch.setattr(dates, "_read", lambda array: seen.append(len(array)) or real(array))
    days = [dt.date(2025, 1, 1) + dt.timedelta(days=d) for d in range(30)]
    values = [f"{d.strftime('%d/%m/%Y')} {h:02d}:{m:02d}:{s:02d}" for d in days for h, m, s in
              [(9, 0, 0), (9, 0, 1), (13, 30, 5), (17, 59, 59)]]
    read_ = dates.read_dates(values)
    assert seen == [30]
    assert read_.text.to_pylist() == [d.isoformat() for d in days for _ in range(4)]
