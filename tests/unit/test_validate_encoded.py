"""The validator's per-distinct-value paths report exactly what its pandas path reports.

``check_project`` encodes each text column once (codes + distinct values, ``validate._encoded``) and asks
every question once per distinct value. Each test runs a check as it is and with ``_encoded`` switched off
(every column then takes the pandas path, cell by cell), on object, arrow-backed and list columns, with
blanks, missing values, duplicates, unicode and every kind of problem, raw and normalised.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from coprod_map import model, validate
from coprod_map.model import Project, ProjectSettings
from coprod_map.validate import MAX_CELL_CHARS, check_cells, check_project
from tests.unit.test_validate_fast import _both as both_paths


def _both(monkeypatch, run):
    return both_paths(monkeypatch, run, fast_path="_encoded")


def _awkward(text_dtype, *, provenance: bool) -> Project:
    def col(values):
        return pd.Series(values, dtype=text_dtype)

    n = 9
    stakeholders = pd.DataFrame({
        "id": col(["a", "b", "a", "  ", "", "é", "c", None, "名"]),
        "name": col(["Ann", "", "Ann again", "Blank id", "No id", "Zoë", "  ", None, "x" * (MAX_CELL_CHARS + 1)]),
        "kind": col(["person", "Group", " community asset ", "martian", "", None, "organisation", "\u00a0", "x"]),
        "experience": col(["lived", "lived| martian |trained", "", " | ", "Lived Experience", None, "x|y", "|lived|",
                           "\x1c"]),
        "involvement": col(["co-designing", "Co Producing", "nope", "", None, "informed", "x", "y", "z"]),
        "speaks_basis": col(["", "proxy", "elected", "boss", None, "", "", "", ""]),
        "notes": col(["ok", "bidi \u202e", "nul \x00", "zero\u200bwidth", "", None, "tab\tok", "joiner \u200d", "bom \ufeff"]),
        "area": col(["north", "south", "", "not recorded", "Mars", "north", None, "prefer not to say", " north"]),
        "affected": pd.Series(["1", "4", "", "x", "2.5", None, "3", "-1", "0"], dtype=object),
    })
    relationships = pd.DataFrame({
        "id": col(["r1", "r1", "", "r2", None]), "source": col(["a", "zz", "é", "", "a"]),
        "target": col(["b", "", "a", "名", None]), "direction": col(["mutual", "sideways", "", None, "Both ways"]),
        "since": col(["2024-01-05", " 2024-01-05 ", "2024-02-30", "5/3/2024", None]),
        "until": col(["", "2025-12-31", "later", None, "2024-1-5"]),
        "strength": pd.array([1.5, 6.0, None, -1.0, 2.0], dtype="Float64"),
    })
    activities = pd.DataFrame({"id": col(["w", "w2", "w"]), "title": col(["Walk", " ", "Walk"]),
                               "date": col(["2024-03-01", "", "2024-13-01"])})
    participation = pd.DataFrame({
        "stakeholder_id": col(["a", "a", "b", "ghost", "", "é", "a", None, "名"]),
        "activity_id": col(["w", "w", "w2", "w", "w", "nope", "w2", "w", None]),
    })
    reference = pd.DataFrame({"attribute": col(["area", "area", ""]), "category": col(["north", "north", "x"]),
                              "count": pd.array([3, -2, None], dtype="Int64"),
                              "share": pd.array([0.5, 1.5, None], dtype="Float64")})
    if provenance:
        for frame in (stakeholders, relationships, participation):
            frame["_file"] = "f.csv"
            frame["_row"] = pd.array(range(2, len(frame) + 2), dtype="Int64")
    assert len(stakeholders) == n
    return Project(stakeholders=stakeholders, relationships=relationships, activities=activities,
                   participation=participation, reference=reference,
                   settings=ProjectSettings(attributes={"area": ["north", "south"]}))


@pytest.mark.parametrize("provenance", [False, True])
@pytest.mark.parametrize("text_dtype", [object, "str"])
def test_check_project_by_distinct_value_equals_the_pandas_path(monkeypatch, text_dtype, provenance):
    project = _awkward(text_dtype, provenance=provenance)
    for options in ({"cells": False}, {"references": False}, {}):
        fast, slow = _both(monkeypatch, lambda options=options: check_project(project, **options))
        assert fast == slow
    joined = "\n".join(fast)
    for expected in ("'martian' is not a known kind", "id 'a' is", "contains a control character (U+0000)",
                     "contains an invisible character (U+202E)", "the limit is 10,000",
                     "'martian' is not a known kind of experience", "'nope' is not a known involvement level",
                     "'boss' is not a known basis", "'2024-02-30' is not a date", "'5/3/2024' is not a date",
                     "'zz' is not a known stakeholder id", "'ghost' is not a known stakeholder id",
                     "'nope' is not a known activity id", "'Mars' is not a known area", "'sideways' is not a known"):
        assert expected in joined


def test_check_project_on_the_normalised_project_equals_the_pandas_path(monkeypatch):
    project = _awkward(object, provenance=True)
    project.stakeholders = project.stakeholders.drop(columns=["affected"])
    normal = project.normalised()  # lists as lists, numbers as Int64/Float64, text as str
    assert isinstance(normal.stakeholders.loc[1, "experience"], list)
    fast, slow = _both(monkeypatch, lambda: check_project(normal))
    assert fast == slow
    joined = "\n".join(fast)
    assert "'martian' is not a known kind of experience" in joined
    assert "'6.0' is not a valid strength" in joined and "'-2' is not a valid count" in joined


def test_number_columns_of_number_dtypes_report_what_their_text_reports():
    numbers = Project(relationships=pd.DataFrame({"id": ["r1", "r2", "r3", "r4"], "source": "a", "target": "a",
                                                  "strength": pd.array([1.5, 6.0, None, -0.25], dtype="Float64")}),
                      reference=pd.DataFrame({"attribute": "x", "category": ["a", "b", "c"],
                                              "count": pd.array([3, -2, None], dtype="Int64")}))
    as_text = Project(relationships=numbers.relationships.astype({"strength": object}),
                      reference=numbers.reference.astype({"count": object}))
    got = [str(p) for p in check_project(numbers, references=False)]
    assert got == [str(p) for p in check_project(as_text, references=False)]
    assert len(got) == 3 and "'6.0' is not a valid strength" in got[0] and "'-0.25'" in got[1] and "'-2'" in got[2]


@pytest.mark.parametrize("column", [
    pd.Series([["a", "b"], [], ["bidi \u202e"], ["a", "b"]], dtype=object),  # list cells, joined with |
    pd.Series([("t",), ["x" * (MAX_CELL_CHARS + 1)]], dtype=object),
    pd.Series(["a", None, "a", np.nan], dtype=object),
    pd.Series(["a", None, "nul \x00"], dtype="str"),
    pd.Series([], dtype=object),
])
def test_check_cells_by_distinct_value_equals_the_pandas_path(monkeypatch, column):
    frame = pd.DataFrame({"notes": column})
    fast, slow = _both(monkeypatch, lambda: check_cells(frame, table="stakeholders"))
    assert fast == slow
    expected = sum(bool(validate.REFUSED_RE.search(validate._text(column).iloc[i]))
                   or len(validate._text(column).iloc[i]) > MAX_CELL_CHARS for i in range(len(column)))
    assert len(fast) == expected


def test_encoding_reads_cells_as_text_does():
    for series in (pd.Series(["b", None, "a", "b", np.nan], dtype=object), pd.Series(["b", None, "", "b"], dtype="str"),
                   pd.Series([["x", "y"], [], ("z",)], dtype=object), pd.Series([], dtype=object)):
        codes, distinct = validate._encoded(series)
        assert [distinct.to_pylist()[c] for c in codes] == validate._text(series).tolist()
        assert len(set(distinct.to_pylist())) == len(distinct)  # each distinct text once
    for series in (pd.Series(["a", 3], dtype=object), pd.Series([["a", 1]], dtype=object),
                   pd.Series([["a"], "b"], dtype=object), pd.Series([1.5, 2.0]), pd.Series(["a", "\ud800"], dtype=object)):
        assert validate._encoded(series) is None  # the pandas path decides


def test_switching_arrow_text_off_switches_the_encoding_off(monkeypatch):
    monkeypatch.setattr(validate, "_arrow_text", lambda series: None)
    assert validate._encoded(pd.Series(["a", "b"], dtype=object)) is None


def test_keys_with_every_value_distinct_and_duplicates_among_many():
    ids = [f"p{i}" for i in range(2000)]
    frame = pd.DataFrame({"id": ids, "name": "x"})
    assert check_project(Project(stakeholders=frame)) == []
    dup = frame.copy()
    dup.loc[1500, "id"] = "p7"
    assert [p.message for p in check_project(Project(stakeholders=dup))] == ["stakeholder 'p7': id 'p7' is used more than once."]
    assert model.normalise_frame("stakeholders", dup)["id"].tolist()[1500] == "p7"
