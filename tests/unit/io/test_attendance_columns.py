"""Attendance lists: the headers read for each column, first + last name joined, notes kept, and every column
left out named in a notice (nothing dropped without a word). Plain ``person,event,date`` lists read as before."""

from __future__ import annotations

import csv
import io

import pytest

from coprod_map.errors import ImportRejected
from coprod_map.io import attendance, tables
from coprod_map.io.detect import classify_headers
from coprod_map.io.read import check_files, read_files

LEAVE_OUT = "(leave this column out)"


def csv_bytes(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode()


def parts_of(rows: list[list[str]], name: str = "attendance.csv"):
    parts, problems, notices = attendance.attendance_parts(tables.read_csv(name, csv_bytes(rows)))
    return {p.table: p for p in parts}, problems, notices


def unused_notices(notices: list[str]) -> list[str]:
    return [n for n in notices if "not imported (an attendance list brings" in n]


# --- header forms ---------------------------------------------------------------------------

@pytest.mark.parametrize("header", ["Date attended", "Attended on", "date-attended", "Date of session",
                                    "Date of event", "Date of meeting", "Date of activity", "Session date",
                                    "When", " WHEN "])
def test_each_new_date_header_fills_the_activity_date(header):
    rows = [["Name", "Session", header], ["Amira Khan", "Walk", "2025-04-03"], ["Bo", "Talk", "2025-04-10"]]
    assert classify_headers(rows[0]) == ("attendance", None)
    staged = read_files([("attendance.csv", csv_bytes(rows))])
    acts = staged.project.activities
    assert acts[["id", "title", "date"]].values.tolist() == [["walk-2025-04-03", "Walk", "2025-04-03"],
                                                             ["talk-2025-04-10", "Talk", "2025-04-10"]]
    assert unused_notices(staged.notices) == []  # every column was used


def test_the_reported_file_no_longer_loses_its_dates():
    """The issue as reported: ``Name,Session,Date attended`` imported with every date blank, without a word."""
    rows = [["Name", "Session", "Date attended"], ["Amira Khan", "Workshop 1", "2024-03-05"]]
    project = read_files([("attendance.csv", csv_bytes(rows))]).project
    assert project.activities["date"].tolist() == ["2024-03-05"]
    assert project.participation["activity_id"].tolist() == ["workshop-1-2024-03-05"]


@pytest.mark.parametrize("header", ["Event name", "Course", "Group session", "Activity name", "group-session"])
def test_each_new_event_header_fills_the_activity_title(header):
    rows = [["Name", header, "Date"], ["Amira Khan", "Cooking for all", "2025-04-03"]]
    assert classify_headers(rows[0]) == ("attendance", None)
    parts, problems, notices = parts_of(rows)
    assert problems == []
    assert parts["activities"].frame[["id", "title"]].values.tolist() == [["cooking-for-all-2025-04-03",
                                                                           "Cooking for all"]]
    assert parts["activities"].source_columns["title"] == header
    assert unused_notices(notices) == []


@pytest.mark.parametrize(("first", "last"), [("First name", "Last name"), ("First name", "Surname"),
                                             ("Firstname", "Lastname"), ("Forename", "Surname")])
def test_first_and_last_name_columns_make_the_person(first, last):
    rows = [[first, last, "Session"], ["Amira", "Khan", "Walk"]]
    assert classify_headers(rows[0]) == ("attendance", None)
    parts, problems, notices = parts_of(rows)
    assert problems == []
    assert parts["stakeholders"].frame[["id", "name"]].values.tolist() == [["amira-khan", "Amira Khan"]]
    assert parts["participation"].frame["stakeholder_id"].tolist() == ["amira-khan"]
    assert unused_notices(notices) == []


# --- first and last name joined -------------------------------------------------------------

def test_names_are_joined_with_one_space_blank_parts_and_extra_spaces_dropped():
    rows = [["First name", "Surname", "Session"],
            ["  Amira ", " Khan  ", "Walk"],      # spaces round each part
            ["Amira", "Khan", "Talk"],            # the same person, written cleanly
            ["", "Lee", "Walk"],                  # no first name: the last name alone
            ["Bo", "   ", "Walk"],                # no last name: the first name alone
            ["Mary Ann", "O'Neil", "Walk"],        # a space inside a part is kept
            ["Ann Marie", "Lee", "Talk"], ["Ann", "Marie Lee", "Walk"]]  # two pairs that join alike: one name
    parts, problems, notices = parts_of(rows)
    assert problems == []
    people = parts["stakeholders"].frame
    assert people[["id", "name"]].values.tolist() == [["amira-khan", "Amira Khan"], ["lee", "Lee"], ["bo", "Bo"],
                                                      ["mary-ann-o-neil", "Mary Ann O'Neil"],
                                                      ["ann-marie-lee", "Ann Marie Lee"]]
    assert people["_row"].tolist() == [2, 4, 5, 6, 7]  # each person's first row
    taken = parts["participation"].frame
    assert list(zip(taken["stakeholder_id"], taken["activity_id"], strict=True)) == [
        ("amira-khan", "walk"), ("amira-khan", "talk"), ("lee", "walk"), ("bo", "walk"), ("mary-ann-o-neil", "walk"),
        ("ann-marie-lee", "talk"), ("ann-marie-lee", "walk")]
    assert parts["stakeholders"].source_columns == {"name": "First name + Surname"}


def test_a_row_with_both_name_parts_blank_is_a_problem_naming_row_and_columns():
    rows = [["First name", "Last name", "Session"], ["Amira", "Khan", "Walk"], [" ", "", "Walk"]]
    with pytest.raises(ImportRejected) as caught:
        read_files([("attendance.csv", csv_bytes(rows))])
    assert [(p.file, p.row, p.column) for p in caught.value.problems] == [("attendance.csv", 3, "First name + Last name")]
    assert "name is blank" in caught.value.problems[0].message


def test_a_first_name_only_list_stays_as_it_was():
    """First names alone would make two people called Sam one person: not read as an attendance list (as today)."""
    rows = [["First name", "Session", "Date"], ["Sam", "Walk", "2025-01-01"]]
    assert classify_headers(rows[0]) == ("bundle_csv", None)
    problems = check_files([("attendance.csv", csv_bytes(rows))])
    assert len(problems) == 1 and "could not tell which table" in problems[0].message
    _, direct, _ = parts_of(rows)  # read as attendance anyway (a workbook sheet), it says what is missing
    assert "a first name alone is not enough" in direct[0].message


def test_a_whole_name_column_is_used_before_first_and_last_name_and_the_notice_says_so():
    rows = [["Name", "First name", "Surname", "Session"], ["Amira Khan", "A.", "K.", "Walk"]]
    parts, _, notices = parts_of(rows)
    assert parts["stakeholders"].frame["name"].tolist() == ["Amira Khan"]
    chosen = [n for n in notices if "could each be the person's name" in n]
    assert chosen == ["attendance.csv: 'Name', 'First name' and 'Surname' could each be the person's name. 'Name' "
                      "was used and 'First name' and 'Surname' were not imported. If you meant another, choose "
                      f"'{LEAVE_OUT}' for 'Name' under 'Match columns'."]
    assert unused_notices(notices) == []  # named once, in the notice about the choice


# --- notes ----------------------------------------------------------------------------------

@pytest.mark.parametrize("header", ["Notes", "Comments", "comment"])
def test_a_notes_column_goes_to_the_participation_notes(header):
    rows = [["Name", "Session", "Date", header], ["Amira Khan", "Walk", "2025-01-01", " came with her son "],
            ["Bo", "Walk", "2025-01-01", ""]]
    staged = read_files([("attendance.csv", csv_bytes(rows))])
    taken = staged.project.participation
    assert taken[["stakeholder_id", "notes"]].values.tolist() == [["amira-khan", "came with her son"], ["bo", ""]]
    assert (staged.project.activities["notes"] == "").all()  # the activity's own notes are not touched
    assert unused_notices(staged.notices) == []


def test_notes_of_repeated_rows_are_kept_together_not_dropped():
    rows = [["Name", "Session", "Date", "Notes"],
            ["Amira Khan", "Walk", "2025-01-01", "late"],
            ["Bo", "Walk", "2025-01-01", ""],
            ["Amira Khan", "Walk", "2025-01-01", "left early"],
            ["Amira Khan", "Walk", "2025-01-01", "late"],       # the same note again: kept once
            ["Bo", "Walk", "2025-01-01", "first visit"],         # the first row had no note: this one is kept
            ["Cy", "Walk", "2025-01-01", ""], ["Cy", "Walk", "2025-01-01", ""]]
    parts, _, notices = parts_of(rows)
    taken = parts["participation"].frame
    assert taken[["stakeholder_id", "notes", "_row"]].values.tolist() == [
        ["amira-khan", "late; left early", 2], ["bo", "first visit", 3], ["cy", "", 7]]
    assert "attendance.csv: 4 repeated attendance rows were counted once" in notices  # 7 rows, 3 kept
    assert any(n.startswith("attendance.csv: 1 person came to the same event on more than one row with different "
                            "notes") for n in notices)
    assert parts["participation"].source_columns["notes"] == "Notes"


def test_a_column_matched_to_notes_fills_the_participation_notes():
    rows = [["Name", "Session", "Remarks"], ["Amira Khan", "Walk", "brought a friend"]]
    data = csv_bytes(rows)
    staged = read_files([("attendance.csv", data)], column_map={"attendance.csv": {"Remarks": "notes"}})
    assert staged.project.participation["notes"].tolist() == ["brought a friend"]
    assert unused_notices(staged.notices) == []


# --- columns not used -----------------------------------------------------------------------

def test_one_unused_column_is_named_in_plain_words():
    rows = [["Name", "Session", "Date", "Postcode"], ["Amira Khan", "Walk", "2025-01-01", "AB1 2CD"]]
    notices = read_files([("attendance.csv", csv_bytes(rows))]).notices
    assert unused_notices(notices) == [
        "attendance.csv: the column 'Postcode' was not imported (an attendance list brings who took part in what, "
        "and when). To keep it, import it with the stakeholders (a list with id and name columns; people are matched "
        "by name), or, if it holds the name, the date or notes, match it to name, date or notes under 'Match columns'."]


def test_every_unused_column_is_named_in_one_notice():
    rows = [["Organisation", "Name", "Role", "Session", "Date", "Postcode"],
            ["Council", "Amira Khan", "Chair", "Walk", "2025-01-01", "AB1"]]
    notices = read_files([("attendance.csv", csv_bytes(rows))]).notices
    found = unused_notices(notices)
    assert len(found) == 1
    assert found[0].startswith("attendance.csv: the columns 'Organisation', 'Role' and 'Postcode' were not imported")
    for header in ("Organisation", "Role", "Postcode"):
        assert f"'{header}'" in found[0]
    for used in ("Name", "Session", "Date"):
        assert f"'{used}'" not in found[0]


def test_a_date_of_birth_column_is_named_and_never_advised_to_be_kept():
    rows = [["Name", "Session", "Date of birth"], ["Amira Khan", "Walk", "1990-01-01"]]
    notices = read_files([("attendance.csv", csv_bytes(rows))]).notices
    assert "attendance.csv: 'Date of birth' was not imported: coprod_map does not keep dates of birth" in notices
    assert unused_notices(notices) == []


def test_the_advice_to_import_with_the_stakeholders_keeps_the_column():
    """What the notice advises works: a stakeholder list with the column, people matched by name."""
    people = csv_bytes([["id", "name", "Postcode"], ["s1", "Amira Khan", "AB1 2CD"]])
    rows = [["Name", "Session", "Postcode"], ["Amira Khan", "Walk", "AB1 2CD"]]
    project = read_files([("people.csv", people), ("attendance.csv", csv_bytes(rows))]).project
    assert project.stakeholders[["id", "Postcode"]].values.tolist() == [["s1", "AB1 2CD"]]
    assert project.participation["stakeholder_id"].tolist() == ["s1"]


def test_the_advice_to_match_a_column_works_for_name_and_date():
    rows = [["Who came", "Session", "Day"], ["Amira Khan", "Walk", "2025-01-01"]]
    assert classify_headers(rows[0]) == ("bundle_csv", None)  # not recognised without a match
    staged = read_files([("attendance.csv", csv_bytes(rows))],
                        column_map={"attendance.csv": {"Who came": "name", "Day": "date"}})
    assert staged.project.stakeholders["name"].tolist() == ["Amira Khan"]
    assert staged.project.activities["date"].tolist() == ["2025-01-01"]
    assert unused_notices(staged.notices) == []


# --- two candidates for one column --------------------------------------------------------------

def test_two_date_columns_the_more_specific_is_used_and_a_notice_names_both():
    rows = [["Name", "Session", "Date", "Date attended"], ["Amira Khan", "Walk", "2025-01-31", "2025-01-06"]]
    staged = read_files([("attendance.csv", csv_bytes(rows))])
    assert staged.project.activities["date"].tolist() == ["2025-01-06"]
    chosen = [n for n in staged.notices if "could each be the date" in n]
    assert chosen == ["attendance.csv: 'Date attended' and 'Date' could each be the date. 'Date attended' was used "
                      f"and 'Date' was not imported. If you meant another, choose '{LEAVE_OUT}' for 'Date attended' "
                      "under 'Match columns'."]
    assert unused_notices(staged.notices) == []
    # The advice works: leaving 'Date attended' out makes 'Date' the date, with no notice about a choice.
    again = read_files([("attendance.csv", csv_bytes(rows))], column_map={"attendance.csv": {"Date attended": ""}})
    assert again.project.activities["date"].tolist() == ["2025-01-31"]
    assert not [n for n in again.notices if "could each be" in n]


def test_two_event_columns_the_session_name_is_used():
    rows = [["Name", "Event", "Session name"], ["Amira Khan", "Summer programme", "Walk"]]
    parts, _, notices = parts_of(rows)
    assert parts["activities"].frame["title"].tolist() == ["Walk"]
    assert any(n.startswith("attendance.csv: 'Session name' and 'Event' could each be the event.") for n in notices)


# --- plain lists read exactly as before --------------------------------------------------------

def test_person_event_date_lists_give_exactly_what_they_gave():
    rows = [["person", "event", "date"],
            ["Amira Khan", "Workshop 1", "2024-03-05"], ["amira khan", "Workshop 1", "2024-03-05"],
            [" Bo ", "Café chat", ""], ["Bo", "Café chat", ""], ["Cy", "Workshop 1", "2024-04-01"]]
    parts, problems, notices = parts_of(rows, "att.csv")
    assert problems == []
    # the frames and columns the reader made before (checked by hand from the rows above)
    assert list(parts["stakeholders"].frame.columns) == ["id", "name", "kind", "_file", "_row"]
    assert list(parts["activities"].frame.columns) == ["id", "title", "date", "_file", "_row"]
    assert list(parts["participation"].frame.columns) == ["stakeholder_id", "activity_id", "_file", "_row"]
    assert parts["stakeholders"].frame[["id", "name", "_row"]].values.tolist() == [
        ["amira-khan", "Amira Khan", 2], ["bo", "Bo", 4], ["cy", "Cy", 6]]
    assert parts["activities"].frame[["id", "title", "date", "_row"]].values.tolist() == [
        ["workshop-1-2024-03-05", "Workshop 1", "2024-03-05", 2], ["cafe-chat", "Café chat", "", 4],
        ["workshop-1-2024-04-01", "Workshop 1", "2024-04-01", 6]]
    assert parts["participation"].frame[["stakeholder_id", "activity_id", "_row"]].values.tolist() == [
        ["amira-khan", "workshop-1-2024-03-05", 2], ["bo", "cafe-chat", 4], ["cy", "workshop-1-2024-04-01", 6]]
    assert {t: p.source_columns for t, p in parts.items()} == {
        "stakeholders": {"name": "person"}, "activities": {"title": "event", "date": "date"},
        "participation": {"stakeholder_id": "person", "activity_id": "event"}}
    assert notices == [
        "att.csv: created 3 people and 3 activities from the attendance list, with ids made from their names; "
        "people already saved under the same name keep their id when the import is merged",
        "att.csv: 2 repeated attendance rows were counted once",
        "att.csv: some names differ only in case or punctuation and were treated as one person"]


def test_a_plain_list_imports_with_blank_participation_notes_and_no_new_notice():
    rows = [["person", "event", "date"], ["Amira Khan", "Walk", "2025-01-01"], ["Bo", "Walk", "2025-01-01"]]
    staged = read_files([("att.csv", csv_bytes(rows))])
    assert staged.project.participation["notes"].tolist() == ["", ""]
    assert staged.notices == ["att.csv: created 2 people and 1 activities from the attendance list, with ids made "
                              "from their names; people already saved under the same name keep their id when the "
                              "import is merged"]


def test_participation_notes_equal_a_row_by_row_reading():
    """Notes per (person, event): every different non-blank note in file order, joined with '; ' (a plain loop)."""
    import random

    rng = random.Random(7)
    rows = [["Name", "Session", "Date", "Comments"]]
    for _ in range(300):
        rows.append([rng.choice(["Ann", "Bo", " Cy", "", "ann"]), rng.choice(["Walk", "Talk", " "]),
                     rng.choice(["2025-01-01", ""]), rng.choice(["", "late", "early", " late ", "with a carer"])])
    expected: dict[tuple[str, str], list[str]] = {}
    for name, title, date, note in rows[1:]:
        name, title, note = name.strip(), title.strip(), note.strip()
        if not name or not title:
            continue
        key = (attendance.slug(name), "-".join(filter(None, (attendance.slug(title), date))))
        notes = expected.setdefault(key, [])
        if note and note not in notes:
            notes.append(note)
    parts, _, _ = parts_of(rows)
    got = parts["participation"].frame
    assert list(zip(zip(got["stakeholder_id"], got["activity_id"], strict=True), got["notes"], strict=True)) == \
        [(key, "; ".join(notes)) for key, notes in expected.items()]
