"""``normalise_frame``'s column-at-a-time paths give what a plain cell-by-cell reading of the contract gives.

The reference below reads each cell on its own (``split_list`` per list cell, ``str`` per text cell,
``pd.to_numeric`` of the non-blank cells for numbers), the way ``normalise_frame`` worked before it learned
to convert per distinct value and to keep columns already in canonical form.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from coprod_map import model


def _missing(value) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and value != value)


def _reference_text(value) -> str:
    if _missing(value):
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _reference_number(values: list, kind: str) -> pd.Series:
    cells = [None if _missing(v) or (isinstance(v, str) and not v.strip()) else v for v in values]
    numbers = pd.to_numeric(pd.Series(cells, dtype=object)).astype("Float64")
    return numbers if kind == "Float64" else numbers.round().astype("Int64")


def reference(table: str, frame: pd.DataFrame) -> pd.DataFrame:
    columns = model.TABLES[table]
    n = len(frame)
    out = {}
    for name, kind in columns.items():
        values = frame[name].tolist() if name in frame.columns else [None] * n
        if kind == "str":
            out[name] = pd.Series([_reference_text(v) for v in values], dtype=object)
        elif kind == "list":
            out[name] = pd.Series([[] if _missing(v) else model.split_list(v) for v in values] if n else [],
                                  dtype=object)
        else:
            out[name] = _reference_number(values, kind).reset_index(drop=True)
    for name in frame.columns:
        if name in columns:
            continue
        column = frame[name].reset_index(drop=True)
        out[name] = column if name.startswith("_") else pd.Series(
            [_reference_text(v) for v in column.tolist()], dtype=object)
    return pd.DataFrame(out, index=pd.RangeIndex(n))


def assert_same(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(got, expected, check_dtype=True, check_exact=True)
    for name in got.columns:  # values equal and of the same Python type ("7" is not 7, [] is not "")
        if got[name].dtype == object:
            assert [type(v) for v in got[name]] == [type(v) for v in expected[name]], name


AWKWARD_TEXT = [None, pd.NA, np.nan, "", "   ", "a", " a ", "a| b |a", "|a||", "Zoë O’Brien", "名前", "\u00a0x\u2003",
                3, 2.0, 2.5, True, "007", np.str_("numpy text")]
AWKWARD_LISTS = [None, np.nan, "", "  ", "carer", " carer ", "a| b |a", "|a||", "Zoë|名前", ["a", " b", ""], [], ("t",),
                 ["x|y"], [" "], ["a", 3], "lived", 7, ["Zoë"]]
AWKWARD_NUMBERS = [None, pd.NA, np.nan, "", "  ", "3", " 4 ", 2, 2.6, "1.5", 0]


def _cycle(values: list, n: int) -> list:
    return [values[i % len(values)] for i in range(n)]


@pytest.mark.parametrize("text_dtype", [object, "str"])
def test_stakeholders_with_awkward_values_match_the_reference(text_dtype):
    n = 40
    texts = _cycle(AWKWARD_TEXT, n)
    plain_texts = [v if isinstance(v, str) or _missing(v) else str(v) for v in texts]
    frame = pd.DataFrame({
        "id": pd.Series(texts if text_dtype is object else plain_texts, dtype=text_dtype),
        "name": pd.Series(_cycle(["Ann", " Bo ", "", None], n), dtype=text_dtype),
        "roles": pd.Series(_cycle(AWKWARD_LISTS, n), dtype=object),
        "experience": pd.Series(_cycle(["lived", "", "lived|professional", None], n), dtype=text_dtype),
        "affected": pd.Series(_cycle(AWKWARD_NUMBERS, n), dtype=object),
        "influence": pd.array(_cycle([1, None, 5], n), dtype="Int64"),
        "age_band": pd.Series(texts, dtype=object),  # an attribute: numbers in a text column
        "_row": pd.array(range(n), dtype="Int64"),
    }, index=range(100, 100 + n))
    assert_same(model.normalise_frame("stakeholders", frame), reference("stakeholders", frame))


@pytest.mark.parametrize("dtype", ["Int64", "Float64", "int64", "float64"])
def test_number_columns_of_number_dtypes_match_the_reference(dtype):
    values = {"Int64": [0, None, 3, -2, 5], "int64": [0, 1, 3, 2, 5], "float64": [0, 1.5, None, 2.5, 4.0],
              "Float64": [0.4, None, 2.5, 3.5, -0.5]}[dtype]
    frame = pd.DataFrame({"id": list("abcde"), "source": "a", "target": "b",
                          "strength": pd.Series(values, dtype=dtype)})
    assert_same(model.normalise_frame("relationships", frame), reference("relationships", frame))
    people = pd.DataFrame({"id": list("abcde"), "affected": pd.Series(values, dtype=dtype)})
    assert_same(model.normalise_frame("stakeholders", people), reference("stakeholders", people))


def test_big_whole_numbers_round_the_way_floats_do():
    frame = pd.DataFrame({"attribute": ["a", "b"], "count": pd.array([2**53 + 1, 7], dtype="Int64")})
    assert_same(model.normalise_frame("reference", frame), reference("reference", frame))


@pytest.mark.parametrize("table", list(model.TABLES))
def test_empty_and_missing_columns_match_the_reference(table):
    for frame in (pd.DataFrame(), pd.DataFrame({"x": pd.Series([], dtype=object)}),
                  pd.DataFrame({"extra": ["", None, 3]})):
        assert_same(model.normalise_frame(table, frame), reference(table, frame))


@pytest.mark.parametrize("table", list(model.TABLES))
def test_a_normal_frame_comes_back_unchanged(table):
    frame = model.normalise_frame(table, pd.DataFrame({c: _cycle(["a", " b", "c|d", ""], 8) for c in model.TABLES[table]
                                                       if model.TABLES[table][c] in ("str", "list")}))
    again = model.normalise_frame(table, frame)
    assert_same(again, frame)
    assert_same(again, reference(table, frame))


@pytest.mark.parametrize("cell", [[" a"], ["a "], ["a", ""], ("a",), ["a", 1], ["a", None], [np.str_("a")], "a", None])
def test_a_list_column_that_only_looks_normal_is_still_normalised(cell):
    frame = model.normalise_frame("stakeholders", pd.DataFrame({"id": ["p1", "p2", "p3"], "roles": [[]] * 3}))
    frame["roles"] = pd.Series([["ok"], cell, ["x"]], dtype=object)
    got = model.normalise_frame("stakeholders", frame)
    assert_same(got, reference("stakeholders", frame))
    assert all(type(v) is list and all(type(i) is str for i in v) for v in got["roles"])


def test_text_of_arrow_strings_is_plain_python_text():
    frame = pd.DataFrame({"stakeholder_id": pd.Series(["p1", None, "p1", "Zoë", ""], dtype="str"),
                          "activity_id": pd.Series(["w"] * 5, dtype="str")})
    got = model.normalise_frame("participation", frame)
    assert got["stakeholder_id"].tolist() == ["p1", "", "p1", "Zoë", ""]
    assert got["stakeholder_id"].dtype == object and all(type(v) is str for v in got["stakeholder_id"])
    assert_same(got, reference("participation", frame))


def test_every_list_cell_is_a_new_list_of_its_own():
    shared = ["carer"]
    frame = pd.DataFrame({"id": ["a", "b"], "roles": pd.Series([shared, shared], dtype=object),
                          "speaks_for": ["x|y", "x|y"]})
    once = model.normalise_frame("stakeholders", frame)
    twice = model.normalise_frame("stakeholders", once)
    for out in (once, twice):
        out.loc[0, "roles"].append("changed")
        out.loc[0, "speaks_for"].append("changed")
        assert out.loc[1, "roles"] == ["carer"] and out.loc[1, "speaks_for"] == ["x", "y"]
    assert shared == ["carer"] and frame.loc[0, "speaks_for"] == "x|y"
    assert once.loc[0, "roles"] == ["carer", "changed"] and twice.loc[1, "roles"] == ["carer"]


def test_normalising_leaves_the_given_frame_alone():
    frame = pd.DataFrame({"id": ["a", None], "name": ["Ann", "Bo"], "roles": ["x|y", None]}, index=[5, 6])
    before = frame.copy()
    model.normalise_frame("stakeholders", frame)
    pd.testing.assert_frame_equal(frame, before)


@pytest.mark.parametrize("value", [["a", " b ", ""], ("a", "b"), [], "a| b |a", "", None, ["a|b"], ["é", "x"], [1, "a"]])
def test_join_list_is_the_inverse_of_split_list(value):
    assert model.join_list(value) == model.LIST_SEPARATOR.join(model.split_list(value))
