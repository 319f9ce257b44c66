"""One encoding of each text column per import: ``validate.Texts`` shares it between the checks (and hands it to the
participation write) only for the very same cells, and ``_factorize_objects`` gives exactly ``pd.factorize``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from coprod_map import validate
from coprod_map.model import Project
from coprod_map.store import _check

WORDS = ["", "Zoë", 'a "quoted" note', "line one\nline two", "😀", "NA", "None", "日本語", "  spaces  ", "=1+1"]


def shared(n: int, distinct: int, *, seed: int = 1) -> np.ndarray:
    """``n`` cells holding one object per distinct text (as a column read through an Arrow dictionary)."""
    words = np.asarray([WORDS[i % len(WORDS)] + f"-{i}" if i >= len(WORDS) else WORDS[i] for i in range(distinct)],
                       dtype=object)
    return words[np.random.default_rng(seed).integers(0, distinct, n)]


def unshared(cells: np.ndarray) -> np.ndarray:
    """The same texts, each cell its own object."""
    return np.asarray([None if v is None else "".join(list(v)) if isinstance(v, str) else v for v in cells],
                      dtype=object)


def cases() -> dict[str, np.ndarray]:
    n = validate._SHARED_MIN + 10
    base = shared(n, 3_000)
    with_missing = base.copy()
    with_missing[::7] = None
    with_missing[3::11] = np.nan
    mixed = base.copy()
    mixed[::2] = unshared(base[::2])
    return {
        "shared": base,
        "shared, missing cells": with_missing,
        "unshared": unshared(base),
        "half shared": mixed,
        "one object": np.full(n, "same", dtype=object),
        "all distinct": np.asarray([f"id{i}" for i in range(n)], dtype=object),
        "strided view": np.concatenate([base, base])[::2],
        "below the size": base[: validate._SHARED_MIN - 1],
    }


@pytest.mark.parametrize("name", list(cases()))
def test_factorize_objects_equals_pandas(name):
    values = cases()[name]
    codes, distinct = validate._factorize_objects(values)
    expected_codes, expected_distinct = pd.factorize(values)
    np.testing.assert_array_equal(codes, expected_codes)
    assert list(distinct) == list(expected_distinct)
    assert [type(v) for v in distinct] == [type(v) for v in expected_distinct]


def test_the_object_sample_tells_shared_cells_from_copies():
    base = shared(validate._SHARED_MIN, 2_000)
    assert validate._shares_objects(base)
    assert not validate._shares_objects(unshared(base))  # equal texts, different objects
    assert not validate._shares_objects(np.asarray([f"id{i}" for i in range(10_000)], dtype=object))  # no repeats
    assert not validate._shares_objects(np.asarray([["a"], ["b"], ["a"]] * 10, dtype=object))  # lists


def test_same_cells_means_the_same_memory_never_equal_values():
    frame = pd.DataFrame({"a": ["x", "y", "z"], "b": ["x", "y", "z"]}, dtype=object)
    cells = frame["a"].to_numpy(dtype=object)
    assert validate.same_cells(cells, frame.reset_index(drop=True)["a"].to_numpy(dtype=object))
    assert validate.same_cells(cells, frame.astype(object)["a"].to_numpy(dtype=object))
    assert not validate.same_cells(cells, frame["b"].to_numpy(dtype=object))  # equal values elsewhere
    assert not validate.same_cells(cells, cells.copy())
    assert not validate.same_cells(cells, cells[:2])  # a slice starts at the same address
    assert not validate.same_cells(cells, cells[::-1])
    text = pd.Series(["x", "y"], dtype="string")
    assert validate.same_cells(text.array, text.array) and not validate.same_cells(text.array, text.copy().array)


def test_the_cache_shares_an_encoding_only_with_the_same_cells():
    texts = validate.Texts()
    first = pd.Series(shared(1_000, 50), dtype=object)
    other = pd.Series(shared(1_000, 50, seed=2), dtype=object)  # same table and column, other cells
    a = texts.codes(("participation", "stakeholder_id"), first)
    assert texts.codes(("participation", "stakeholder_id"), first.reset_index(drop=True)) is a
    b = texts.codes(("participation", "stakeholder_id"), other)
    assert b is not a
    for series, (codes, distinct) in ((first, a), (other, b)):
        assert np.asarray(distinct.to_pylist(), dtype=object)[codes].tolist() == series.tolist()
    known = texts.known("participation")
    assert [(k[0], k[2] is a[0]) for k in known] == [("stakeholder_id", True), ("stakeholder_id", False)]
    assert texts.known("stakeholders") == []


def test_a_merge_checked_with_one_cache_finds_what_separate_checks_find():
    """Saved rows and incoming rows share (table, column) keys but not cells: each is encoded on its own."""
    people = pd.DataFrame({"id": ["s1", "s2", "s3"], "name": ["A", "B", "C"]})
    events = pd.DataFrame({"id": ["a1"], "title": ["Meeting"]})
    incoming = pd.DataFrame({"stakeholder_id": ["s1", "s9", "s2"], "activity_id": ["a1", "a1", "a2"],
                             "notes": ["fine", "bad\u202e", ""], "_file": "att.csv", "_row": [2, 3, 4]})
    merged = pd.concat([pd.DataFrame({"stakeholder_id": ["s3"], "activity_id": ["a1"], "notes": ["bell\x07"],
                                      "_file": "saved", "_row": [None]}), incoming], ignore_index=True)
    project = Project(stakeholders=people, activities=events, participation=merged).normalised()
    arriving = Project(participation=incoming).normalised()
    shared_cache = [str(p) for p in _check(project, cells_of=arriving, texts=validate.Texts())]
    apart = [str(p) for p in validate.check_project(project, cells=False)]
    apart += [str(p) for p in validate.check_cells(arriving.participation.reset_index(drop=True), table="participation")]
    assert shared_cache == apart
    assert any("s9" in p for p in apart) and any("U+202E" in p for p in apart)
    assert not any("U+0007" in p for p in apart)  # the saved row's cells are not checked again
