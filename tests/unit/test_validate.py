"""check_project: every rule, its location and message shape, and its speed on 100k rows."""

from __future__ import annotations

import numpy as np
import pandas as pd

from coprod_map.model import Project, ProjectSettings
from coprod_map.validate import MAX_CELL_CHARS, check_project


def people(**columns) -> pd.DataFrame:
    base = {"id": ["a", "b"], "name": ["Ann", "Bo"]}
    return pd.DataFrame({**base, **columns})


def messages(project: Project) -> list[str]:
    return [str(p) for p in check_project(project)]


def test_clean_project_has_no_problems():
    project = Project(
        stakeholders=people(kind=["person", "Community asset"], affected=[0, 3], influence=["5", ""],
                            experience=[["lived"], []], involvement=["co_producing", ""]),
        relationships=pd.DataFrame({"id": ["r1"], "source": ["a"], "target": ["b"], "strength": [4.5],
                                    "direction": ["mutual"], "since": ["2024-02-29"]}),
        activities=pd.DataFrame({"id": ["w"], "title": ["Walk"], "date": ["2024-03-05"]}),
        participation=pd.DataFrame({"stakeholder_id": ["a"], "activity_id": ["w"]}),
        reference=pd.DataFrame({"attribute": ["age"], "category": ["young"], "count": [10], "share": [0.5]}),
    )
    assert check_project(project) == []
    assert check_project(project.normalised()) == []


def test_messages_without_provenance_name_the_table_and_id():
    got = messages(Project(stakeholders=people(kind=["Carer", "person"])))
    assert got == ["Stakeholders table, column 'kind': stakeholder 'a': 'Carer' is not a known kind. "
                   "Expected one of: person, group, organisation, community asset."]


def test_provenance_columns_locate_problems():
    frame = people(kind=["person", "Carer"]).assign(_file="p.csv", _row=[2, 3])
    (problem,) = check_project(Project(stakeholders=frame))
    assert (problem.file, problem.row, problem.column) == ("p.csv", 3, "kind")
    assert problem.message.startswith("'Carer' is not a known kind.")


def test_required_blank_and_duplicates():
    frame = pd.DataFrame({"id": ["a", "a", ""], "name": ["Ann", "", "Cy"]})
    got = messages(Project(stakeholders=frame))
    assert any("column 'id'" in m and "'a' is used more than once" in m for m in got)
    assert any("column 'name'" in m and "the name is blank" in m for m in got)
    assert any("column 'id'" in m and "the id is blank" in m for m in got)
    assert len(got) == 3


def test_participation_and_reference_keys():
    project = Project(
        stakeholders=people(), activities=pd.DataFrame({"id": ["w"], "title": ["W"]}),
        participation=pd.DataFrame({"stakeholder_id": ["a", "a", "zz"], "activity_id": ["w", "w", "w"]}),
        reference=pd.DataFrame({"attribute": ["age", "age"], "category": ["young", "young"], "count": [1, 2]}),
    )
    got = messages(project)
    assert sum("'a / w' is used more than once" in m for m in got) == 1
    assert sum("'age / young' is used more than once" in m for m in got) == 1
    assert sum("'zz' is not a known stakeholder id" in m for m in got) == 1
    assert len(got) == 3


def test_numbers_codes_dates_ranges():
    project = Project(
        stakeholders=people(affected=["4", "1.5"], influence=["x", "-1"], experience=[["lived", "martian"], []],
                            speaks_basis=["", "elected"]),
        relationships=pd.DataFrame({"id": ["r"], "source": ["a"], "target": ["b"], "strength": ["6"],
                                    "direction": ["sideways"], "until": ["05/03/2024"], "since": ["2023-02-29"]}),
        reference=pd.DataFrame({"attribute": ["x"], "category": ["y"], "count": ["-2"], "share": ["1.5"]}),
    )
    got = " / ".join(messages(project))
    for gist in ["'4' is not a valid affected level. Expected a whole number from 0 to 3.",
                 "'1.5' is not a valid affected level", "'x' is not a valid influence level",
                 "'-1' is not a valid influence level", "'martian' is not a known kind of experience",
                 "'6' is not a valid strength. Expected a number from 0 to 5.", "'sideways' is not a known direction",
                 "'05/03/2024' is not a date written as YYYY-MM-DD", "'2023-02-29' is not a date",
                 "'-2' is not a valid count. Expected a whole number of 0 or more.",
                 "'1.5' is not a valid share. Expected a number from 0 to 1."]:
        assert gist in got, gist
    assert len(check_project(project)) == 11


def test_attribute_categories_when_settings_list_them():
    project = Project(stakeholders=pd.DataFrame({"id": list("abcde"), "name": list("ABCDE"),
                                                 "age": ["young", "", "not recorded", "prefer not to say", "Young"]}),
                      settings=ProjectSettings(attributes={"age": ["young", "old"], "area": []}))
    (problem,) = check_project(project)
    assert problem.message == "stakeholder 'e': 'Young' is not a known age. Expected one of: young, old, not recorded, prefer not to say."


def test_control_bidi_and_length():
    frame = pd.DataFrame({"id": ["a", "b", "c", "d"], "name": ["x\x00y", "\u202eevil", "fine\u200d", "n"],
                          "notes": ["", "", "", "x" * (MAX_CELL_CHARS + 1)]})
    got = messages(Project(stakeholders=frame))
    assert len(got) == 3  # U+200D (zero-width joiner) is allowed: some scripts need it
    assert "U+0000" in got[0] and "U+202E" in got[1] and "10,001 characters" in got[2]


def test_hundred_thousand_rows_per_table_check_fast():
    n = 100_000
    rng = np.random.default_rng(1)
    ids = [f"s{i}" for i in range(n)]
    stakeholders = pd.DataFrame({"id": ids, "name": ids, "kind": rng.choice(["person", "group"], n),
                                 "affected": rng.integers(0, 4, n).astype(str), "notes": ["note"] * n,
                                 "experience": [["lived"]] * n})
    stakeholders.loc[5, "kind"] = "Carer"
    relationships = pd.DataFrame({"id": [f"r{i}" for i in range(n)], "source": ids, "target": ids[1:] + ["nobody"],
                                  "strength": rng.uniform(0, 5, n)})
    problems = check_project(Project(stakeholders=stakeholders, relationships=relationships))
    assert len(problems) == 2  # speed at this size is measured by bench/, not here
