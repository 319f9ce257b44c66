"""Kumu connections that name people the elements sheet does not list: each such name becomes a person.

Expected ids and names are written by hand (ids as ``slug`` makes them: lower case, accents dropped, runs of other
characters -> ``-``). The people are invented.
"""

from __future__ import annotations

import pandas as pd
import pytest

from coprod_map.errors import ImportRejected
from coprod_map.io.read import detect, read_files
from tests.unit.io.test_import_contract import csv_bytes, xlsx_bytes

NOTICE_END = "Check their type on the Stakeholders page."


CONNECTIONS = [["From", "To", "Type"], ["Ann", "Bo", "knows"], ["Bo", "Cy", "works with"]]


def people_of(staged) -> list[tuple[str, str, str]]:
    frame = staged.project.stakeholders
    return list(zip(frame["id"], frame["name"], frame["kind"], strict=True))


def ties_of(staged) -> list[tuple[str, str, str]]:
    frame = staged.project.relationships
    return list(zip(frame["source"], frame["target"], frame["type"], strict=True))


def test_connections_only_csv_creates_everyone_it_names():
    data = csv_bytes(CONNECTIONS)
    assert detect("connections.csv", data).format == "kumu"
    staged = read_files([("connections.csv", data)])
    assert people_of(staged) == [("ann", "Ann", ""), ("bo", "Bo", ""), ("cy", "Cy", "")]
    assert ties_of(staged) == [("ann", "bo", "knows"), ("bo", "cy", "works with")]
    people = staged.project.stakeholders
    assert people["_file"].tolist() == ["connections.csv"] * 3
    assert people["_row"].tolist() == [2, 2, 3]  # the sheet row that first named each (header is row 1)
    assert staged.notices == ["connections.csv: 3 people named in From/To were not in the elements sheet and "
                              f"were added: Ann, Bo, Cy. {NOTICE_END}"]


def test_connections_only_xlsx_creates_everyone_it_names():
    data = xlsx_bytes({"Connections": CONNECTIONS})
    assert detect("map.xlsx", data).format == "kumu"
    staged = read_files([("map.xlsx", data)])
    assert people_of(staged) == [("ann", "Ann", ""), ("bo", "Bo", ""), ("cy", "Cy", "")]
    assert ties_of(staged) == [("ann", "bo", "knows"), ("bo", "cy", "works with")]
    [notice] = staged.notices
    assert notice.startswith(staged.project.stakeholders["_file"].iloc[0] + ": 3 people named in From/To")
    assert "map.xlsx" in notice and notice.endswith(f"added: Ann, Bo, Cy. {NOTICE_END}")


def test_elements_and_connections_add_only_the_unlisted_names():
    files = [("elements.csv", csv_bytes([["Label", "Type"], ["Ann", "Person"]])),
             ("connections.csv", csv_bytes(CONNECTIONS))]
    staged = read_files(files)
    # Ann is in the elements sheet (by Label): no second Ann; Bo and Cy are new.
    assert people_of(staged) == [("Ann", "Ann", "person"), ("bo", "Bo", ""), ("cy", "Cy", "")]
    assert ties_of(staged) == [("Ann", "bo", "knows"), ("bo", "cy", "works with")]
    assert staged.notices == ["connections.csv: 2 people named in From/To were not in the elements sheet and "
                              f"were added: Bo, Cy. {NOTICE_END}"]


def test_a_value_matching_an_element_id_is_that_element():
    data = xlsx_bytes({"Elements": [["Label", "ID"], ["Ann Lee", "e1"], ["Bo", "e2"]],
                       "Connections": [["From", "To"], ["e1", "Bo"], ["e2", "Dee"], ["Ann Lee", "e1"]]})
    staged = read_files([("k.xlsx", data)])
    assert people_of(staged) == [("e1", "Ann Lee", ""), ("e2", "Bo", ""), ("dee", "Dee", "")]
    assert ties_of(staged) == [("e1", "e2", ""), ("e2", "dee", ""), ("e1", "e1", "")]
    [notice] = staged.notices
    assert ": 1 person named in From/To was not in the elements sheet and was added: Dee. " in notice


def test_pipe_separated_to_creates_each_name():
    data = csv_bytes([["From", "To"], ["Ann", "Bo|Cy| Dee "], ["Cy", "Ann"]])
    staged = read_files([("c.csv", data)])
    assert people_of(staged) == [("ann", "Ann", ""), ("bo", "Bo", ""), ("cy", "Cy", ""), ("dee", "Dee", "")]
    assert ties_of(staged) == [("ann", "bo", ""), ("ann", "cy", ""), ("ann", "dee", ""), ("cy", "ann", "")]
    assert staged.project.relationships["_row"].tolist() == [2, 2, 2, 3]


def test_unicode_names_keep_their_letters_and_get_readable_ids():
    data = csv_bytes([["From", "To"], ["Zoë O’Brien", "Мария"], ["Мария", "李明"], ["🙂", "🎉"]])
    staged = read_files([("c.csv", data)])
    # Hand-made ids: accents dropped; names with no Latin letters keep theirs; emoji-only names (no letters at
    # all) are still two different people.
    assert people_of(staged) == [("zoe-obrien", "Zoë O’Brien", ""), ("мария", "Мария", ""), ("李明", "李明", ""),
                                 ("unnamed", "🙂", ""), ("unnamed-2", "🎉", "")]
    assert ties_of(staged) == [("zoe-obrien", "мария", ""), ("мария", "李明", ""), ("unnamed", "unnamed-2", "")]
    assert "added: Zoë O’Brien, Мария, 李明, 🙂, 🎉. " in staged.notices[0]


def test_names_that_differ_only_in_case_are_one_person_as_in_attendance_lists():
    staged = read_files([("c.csv", csv_bytes([["From", "To"], ["Bo Ng", "BO NG"], ["bo-ng", "Cy"]]))])
    assert people_of(staged) == [("bo-ng", "Bo Ng", ""), ("cy", "Cy", "")]
    assert ties_of(staged) == [("bo-ng", "bo-ng", ""), ("bo-ng", "cy", "")]


def test_a_new_id_never_takes_an_element_id_held_under_another_name():
    data = xlsx_bytes({"Elements": [["Label", "ID"], ["Robert", "bo"]],
                       "Connections": [["From", "To"], ["Bo", "bo"]]})
    staged = read_files([("k.xlsx", data)])
    assert people_of(staged) == [("bo", "Robert", ""), ("bo-2", "Bo", "")]
    assert ties_of(staged) == [("bo-2", "bo", "")]


def test_the_notice_names_the_first_five_and_counts_the_rest():
    rows = [["From", "To"]] + [[f"P{i}", f"P{i + 1}"] for i in range(1, 8)]  # P1..P8: 8 people
    staged = read_files([("c.csv", csv_bytes(rows))])
    assert len(staged.project.stakeholders) == 8
    assert staged.notices == ["c.csv: 8 people named in From/To were not in the elements sheet and were added: "
                              f"P1, P2, P3, P4, P5 and 3 more. {NOTICE_END}"]


def test_two_connection_files_name_each_new_person_once():
    files = [("a.csv", csv_bytes([["From", "To"], ["Ann", "Bo"]])), ("b.csv", csv_bytes([["From", "To"], ["Bo", "Cy"]]))]
    staged = read_files(files)
    assert people_of(staged) == [("ann", "Ann", ""), ("bo", "Bo", ""), ("cy", "Cy", "")]
    assert staged.project.stakeholders["_file"].tolist() == ["a.csv", "a.csv", "b.csv"]
    assert [n.split(" added: ")[1] for n in staged.notices] == [f"Ann, Bo. {NOTICE_END}", f"Cy. {NOTICE_END}"]


def test_attendance_people_in_the_same_import_are_not_made_twice():
    files = [("att.csv", csv_bytes([["Participant", "Session"], ["Amira Khan", "Workshop 1"]])),
             ("c.csv", csv_bytes([["From", "To"], ["Amira Khan", "Bo"]]))]
    staged = read_files(files)
    assert sorted(staged.project.stakeholders["id"]) == ["amira-khan", "bo"]
    assert ties_of(staged) == [("amira-khan", "bo", "")]


@pytest.mark.parametrize(("rows", "column", "row"), [
    ([["From", "To"], ["Ann", "Bo"], ["", "Cy"]], "From", 3),
    ([["From", "To"], ["Ann", ""]], "To", 2),
])
def test_a_blank_end_is_refused_naming_file_row_and_column(rows, column, row):
    with pytest.raises(ImportRejected) as caught:
        read_files([("c.csv", csv_bytes(rows))])
    located = [(p.file, p.row, p.column) for p in caught.value.problems]
    assert ("c.csv", row, column) in located
    assert all("blank" in p.message for p in caught.value.problems)


def test_import_into_a_project_that_holds_a_name_keeps_its_id(store):
    project_id = store.create_project("Riverside")
    saved = read_files([("people.csv", csv_bytes([["id", "name", "kind"], ["p7", "Bo", "organisation"],
                                                  ["p8", "Dee", "person"]]))])
    store.import_project(project_id, saved.project)
    before = store.load(project_id)

    staged = read_files([("connections.csv", csv_bytes(CONNECTIONS))], existing=before)
    assert people_of(staged) == [("ann", "Ann", ""), ("cy", "Cy", "")]  # Bo is saved: not made again
    assert staged.notices == ["connections.csv: 2 people named in From/To were not in the elements sheet and "
                              f"were added: Ann, Cy. {NOTICE_END}"]
    store.import_project(project_id, staged.project)

    after = store.load(project_id)
    people = after.stakeholders.set_index("id")
    assert sorted(people.index) == ["ann", "cy", "p7", "p8"]
    assert people["name"].tolist().count("Bo") == 1
    assert people.loc["p7", "kind"] == "organisation" and people.loc["ann", "kind"] == ""
    ties = after.relationships
    assert list(zip(ties["source"], ties["target"], strict=True)) == [("ann", "p7"), ("p7", "cy")]


def test_a_refused_import_saves_no_one(store):
    project_id = store.create_project("Riverside")
    before = store.load(project_id)
    with pytest.raises(ImportRejected):
        staged = read_files([("c.csv", csv_bytes([["From", "To"], ["Ann", "Bo"], ["", "Cy"]]))], existing=before)
        store.import_project(project_id, staged.project)
    assert len(store.load(project_id).stakeholders) == 0
    pd.testing.assert_frame_equal(store.load(project_id).relationships, before.relationships)
