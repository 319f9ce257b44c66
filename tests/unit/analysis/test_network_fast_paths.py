"""The fast paths of the Relationships page's analysis give what the plain per-row forms give, on awkward data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from coprod_map.analysis import network as nw
from coprod_map.model import normalise_frame, split_list

AWKWARD_LISTS = [["a", " b "], [], "c|d", None, np.nan, ["", "  "], ("x", 1, None), "é|  ", "", ["a|b"], [np.nan],
                 pd.NA, "Zed|alpha|(blank)", ["a", "a"], ["Ünï", "lived"]]


def _people() -> pd.DataFrame:
    n = len(AWKWARD_LISTS)
    return pd.DataFrame({
        "id": [f"s{i}" for i in range(n)],
        "roles": pd.Series(AWKWARD_LISTS, dtype=object),
        "experience": pd.Series([["lived"], ["Lived experience", "lived"], "professional|lived", None, [], ["other"],
                                 *[[]] * (n - 6)], dtype=object),
        "area": pd.Series(["N", "", "S", "n", "é", None, "b", "B", "a", "", "Z", "z", "(blank)", np.nan, "N"],
                          dtype=object),
        "kind": pd.Series(["person", "", "group", "Person", "weird", "person", "", "organisation", "x", "y",
                           "z", "person", "group", "", "community_asset"], dtype=object),
    })


def test_split_lists_is_split_list_on_every_row():
    values = pd.Series(AWKWARD_LISTS, dtype=object, index=np.arange(100, 100 + len(AWKWARD_LISTS)))
    rows, items = nw.split_lists(values)
    expected = [(i, item) for i, cell in enumerate(AWKWARD_LISTS) for item in split_list(cell)]
    assert list(zip(rows.tolist(), items.tolist(), strict=True)) == expected
    assert ("nan" in items.tolist()) and ("1" in items.tolist()) and ("None" in items.tolist())
    empty_rows, empty_items = nw.split_lists(pd.Series([], dtype=object))
    assert len(empty_rows) == 0 and len(empty_items) == 0


@pytest.mark.parametrize("by", ["roles", "experience", "area", "kind"])
def test_category_labels_match_a_row_by_row_count(by):
    people = _people()
    order = ["S", "Zed", "nope", "Lived experience", "S"]
    pairs = nw.category_labels(people, by, order=order)
    words = nw._CODED.get(by, {})
    expected = []
    for row, value in enumerate(people[by]):
        if by in ("roles", "experience"):
            expected += [(row, words.get(v, v)) for v in split_list(value)]
        else:
            text = "" if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)) else str(value)
            expected.append((row, words.get(text, text) if text else nw.BLANK))
    assert list(zip(pairs["row"].tolist(), pairs["category"].astype(str).tolist(), strict=True)) == expected
    categories = list(pairs["category"].cat.categories)
    assert sorted(categories) == sorted({c for _, c in expected})
    first = [c for c in dict.fromkeys(order) if c in categories]
    assert categories[:len(first)] == first
    # the shared labels, reordered later, are the same as asking with the order
    pd.testing.assert_frame_equal(nw.ordered_labels(nw.category_labels(people, by), order), pairs)


def test_category_labels_of_an_empty_list_column():
    pairs = nw.category_labels(pd.DataFrame({"roles": pd.Series([], dtype=object)}), "roles")
    assert len(pairs) == 0 and len(pairs["category"].cat.categories) == 0


def test_list_mixing_counts_every_pair_of_held_categories_with_duplicates():
    people = pd.DataFrame({"id": ["a", "b", "c", "d"],
                           "roles": pd.Series([["x", "x", "y"], ["y"], [], "x|z"], dtype=object)})
    ties = pd.DataFrame({"source": ["a", "a", "b", "c", "a"], "target": ["b", "d", "d", "d", "zz"]})
    m = nw.mixing_matrix(nw.tie_graph(people, ties), people, by="roles")
    # hand count: a-b: (x,y) twice, (y,y) once; a-d: (x,x) 2, (x,z) 2, (y,x) 1, (y,z) 1; b-d: (y,x), (y,z); c-d: none
    expected = pd.DataFrame(0, index=["x", "y", "z"], columns=["x", "y", "z"])
    for a, b, k in [("x", "y", 2), ("y", "y", 1), ("x", "x", 2), ("x", "z", 2), ("y", "x", 1), ("y", "z", 1),
                    ("y", "x", 1), ("y", "z", 1)]:
        expected.loc[a, b] += k
        if a != b:
            expected.loc[b, a] += k
    assert m.to_numpy().tolist() == expected.to_numpy().tolist()
    assert m.index.tolist() == ["x", "y", "z"]
    shared = nw.mixing_matrix(nw.tie_graph(people, ties), people, by="roles", order=["z"],
                              labels=nw.category_labels(people, "roles"))
    pd.testing.assert_frame_equal(shared, nw.mixing_matrix(nw.tie_graph(people, ties), people, by="roles",
                                                           order=["z"]))
    assert shared.index.tolist() == ["z", "x", "y"]


def test_text_values_keep_text_and_convert_the_rest():
    assert nw.text_values(pd.Series(["a", "b"], dtype=object)).tolist() == ["a", "b"]
    assert nw.text_values(pd.Series([1, 2])).tolist() == ["1", "2"]
    mixed = nw.text_values(pd.Series(["a", 3], dtype=object))
    assert mixed.tolist() == ["a", "3"] and mixed.dtype == object


def test_metrics_without_communities_leave_only_that_column_blank():
    people = normalise_frame("stakeholders", pd.DataFrame({"id": list("abcdef"), "name": list("ABCDEF")}))
    ties = normalise_frame("relationships", pd.DataFrame({
        "id": ["1", "2", "3", "4"], "source": ["a", "b", "d", "e"], "target": ["b", "c", "e", "f"]}))
    from coprod_map.model import Project

    project = Project(stakeholders=people, relationships=ties)
    full = nw.metrics_table(project, betweenness=False)
    quick = nw.metrics_table(project, betweenness=False, communities=False)
    assert quick["community"].isna().all() and full["community"].notna().all()
    assert str(quick["community"].dtype) == str(full["community"].dtype) == "Int64"
    pd.testing.assert_frame_equal(quick.drop(columns="community"), full.drop(columns="community"))
