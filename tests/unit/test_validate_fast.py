"""The arrow fast paths of the validator report exactly what the pandas path reports.

Each test runs the same check twice: as it is (text columns go through arrow) and with the fast path
switched off (``_arrow_text`` answering None, so every column takes the pandas path the checks had
before), on object and arrow-backed text, clean and awkward.
"""

from __future__ import annotations

import pandas as pd
import pytest

from coprod_map import validate
from coprod_map.model import Project, ProjectSettings
from coprod_map.validate import MAX_CELL_CHARS, REFUSED_RE, REFUSED_RE2, check_cells, check_project


def _both(monkeypatch, run, *, fast_path: str = "_arrow_text"):
    """What ``run`` reports with ``validate``'s ``fast_path`` on, and with it refusing every column (the general path)."""
    fast = [str(p) for p in run()]
    with monkeypatch.context() as m:
        m.setattr(validate, fast_path, lambda series: None)
        slow = [str(p) for p in run()]
    return fast, slow


def _awkward_project(text_dtype) -> Project:
    def col(values):
        return pd.Series(values, dtype=text_dtype)

    return Project(
        stakeholders=pd.DataFrame({
            "id": col(["a", "b", "a", "  ", "", "é", "c"]),
            "name": col(["Ann", "", "Ann again", "Blank id", "No id", "Zoë", "  "]),
            "area": col(["north", "south", "", "not recorded", "Mars", "north", "north"]),
        }),
        relationships=pd.DataFrame({"id": col(["r1", "r1", ""]), "source": col(["a", "zz", "é"]),
                                    "target": col(["b", "", "a"])}),
        activities=pd.DataFrame({"id": col(["w", "w2", "w"]), "title": col(["Walk", " ", "Walk"])}),
        participation=pd.DataFrame({
            "stakeholder_id": col(["a", "a", "b", "ghost", "", "é", "a"]),
            "activity_id": col(["w", "w", "w2", "w", "w", "nope", "w2"]),
            "_file": ["p.csv"] * 7, "_row": pd.array([2, 3, 4, 5, 6, 7, None], dtype="Int64"),
        }),
        settings=ProjectSettings(attributes={"area": ["north", "south"]}),
    )


@pytest.mark.parametrize("text_dtype", [object, "str"])
def test_check_project_fast_equals_pandas_path_on_awkward_tables(monkeypatch, text_dtype):
    project = _awkward_project(text_dtype)
    fast, slow = _both(monkeypatch, lambda: check_project(project))
    assert fast == slow
    joined = "\n".join(fast)
    for expected in ("id 'a' is used more than once", "the id is blank", "'zz' is not a known stakeholder id",
                     "'ghost' is not a known stakeholder id", "'nope' is not a known activity id",
                     "'Mars' is not a known area", "already used in p.csv row 2"):
        assert expected in joined


@pytest.mark.parametrize("text_dtype", [object, "str"])
def test_check_project_fast_equals_pandas_path_on_clean_tables(monkeypatch, text_dtype):
    ids = [f"p{i}" for i in range(500)]
    project = Project(
        stakeholders=pd.DataFrame({"id": pd.Series(ids, dtype=text_dtype), "name": pd.Series(ids, dtype=text_dtype)}),
        activities=pd.DataFrame({"id": pd.Series(["w"], dtype=text_dtype), "title": ["Walk"]}),
        participation=pd.DataFrame({"stakeholder_id": pd.Series(ids, dtype=text_dtype),
                                    "activity_id": pd.Series(["w"] * 500, dtype=text_dtype)}),
    )
    assert _both(monkeypatch, lambda: check_project(project)) == ([], [])


def test_mixed_and_list_columns_take_the_pandas_path():
    assert validate._arrow_text(pd.Series(["a", None, 3], dtype=object)) is None
    assert validate._arrow_text(pd.Series([["a"], []], dtype=object)) is None
    assert validate._arrow_text(pd.Series(["a", "\ud800"], dtype=object)) is None  # arrow cannot hold it
    assert validate._arrow_text(pd.Series(["a", None], dtype="str")).to_pylist() == ["a", ""]


CELLS = [
    "plain", "O’Brien (curly quote: same lead byte as the bidi controls)", "tab\tand\nnewline\r",
    "bidi \u202e here", "zero\u200bwidth", "nul \x00", "del \x7f", "bom \ufeff", "joiner \u200d ok",
    "é" * 6000,  # 12,000 bytes but 6,000 characters: allowed
    "x" * (MAX_CELL_CHARS + 1), "",
]


@pytest.mark.parametrize("text_dtype", [object, "str"])
@pytest.mark.parametrize("cell", CELLS)
def test_check_cells_fast_equals_pandas_path(monkeypatch, text_dtype, cell):
    frame = pd.DataFrame({"name": pd.Series(["Ann", cell, "Bo"], dtype=text_dtype),
                          "_file": "f.csv", "_row": [2, 3, 4]})
    fast, slow = _both(monkeypatch, lambda: check_cells(frame, file="f.csv"))
    assert fast == slow
    assert bool(fast) == (bool(REFUSED_RE.search(cell)) or len(cell) > MAX_CELL_CHARS)


def test_the_arrow_pattern_refuses_the_same_characters_as_the_python_one():
    import pyarrow as pa
    import pyarrow.compute as pc

    chars = [chr(i) for i in range(0x3000)] + [chr(i) for i in range(0xE000, 0x10000)] + ["\U0001F600"]
    arrow = pc.match_substring_regex(pa.array([f"a{c}b" for c in chars]), REFUSED_RE2).to_pylist()
    assert arrow == [bool(REFUSED_RE.search(f"a{c}b")) for c in chars]
    assert sum(arrow) == 42  # 29 C0 controls + DEL + 12 invisible/bidi
