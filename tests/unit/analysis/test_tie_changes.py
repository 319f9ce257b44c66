"""``tie_changes`` on integer codes against the earlier string-key implementation, kept here as the reference."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from coprod_map.analysis import network as nw
from coprod_map.model import Project, normalise_frame, split_list


def _reference(project: Project, *, earlier: dict[str, str], later: dict[str, str]) -> pd.DataFrame:
    """The string-key implementation ``tie_changes`` had before it moved to integer codes (unchanged)."""

    def pair_keys(ties: pd.DataFrame) -> pd.Series:
        s, t = ties["source"].astype(str), ties["target"].astype(str)
        low = s.where(s <= t, t)
        high = t.where(s <= t, s)
        return (low + "\x1f" + high).astype(object)

    ties = project.relationships
    before = nw.active_ties(ties, start=earlier.get("start", ""), end=earlier.get("end", ""))
    after = nw.active_ties(ties, start=later.get("start", ""), end=later.get("end", ""))
    before_pairs, after_pairs = pair_keys(before), pair_keys(after)
    new = after[~after_pairs.isin(set(before_pairs)).to_numpy()].drop_duplicates(subset=["source", "target"])
    ended = before[~before_pairs.isin(set(after_pairs)).to_numpy()].drop_duplicates(subset=["source", "target"])
    changes = pd.concat([new.assign(change="new"), ended.assign(change="ended")], ignore_index=True)
    people = project.stakeholders.set_index(project.stakeholders["id"].astype(str).astype(object))
    ends = pd.unique(pd.concat([changes["source"], changes["target"]]).astype(str).astype(object).to_numpy())
    people = people[people.index.isin(ends)]
    names = people["name"].astype(str)
    role_sets = people["roles"].map(lambda r: frozenset(split_list(r)))
    exp_sets = people["experience"].map(lambda r: frozenset(split_list(r)))

    def across(sets: pd.Series) -> np.ndarray:
        a = changes["source"].astype(str).map(sets)
        b = changes["target"].astype(str).map(sets)
        return np.array([bool(x) and bool(y) and not (x & y) for x, y in zip(a, b, strict=True)], dtype=bool) \
            if len(changes) else np.zeros(0, dtype=bool)

    return pd.DataFrame({
        "change": changes["change"].to_numpy(dtype=object),
        "source": changes["source"].astype(str).to_numpy(dtype=object),
        "source_name": changes["source"].astype(str).map(names).fillna("").to_numpy(dtype=object),
        "target": changes["target"].astype(str).to_numpy(dtype=object),
        "target_name": changes["target"].astype(str).map(names).fillna("").to_numpy(dtype=object),
        "type": changes["type"].astype(str).to_numpy(dtype=object),
        "across_roles": across(role_sets),
        "across_experience": across(exp_sets),
    })


CYCLES = [
    {},  # no dates: every tie counts
    {"name": "One", "start": "2025-01-01", "end": "2025-03-31"},
    {"name": "Two", "start": "2025-04-01", "end": "2025-06-30"},
    {"name": "Open end", "start": "2025-06-01", "end": ""},
    {"name": "Empty", "start": "1990-01-01", "end": "1990-12-31"},  # only undated ties
]


def _project(people: dict, ties: dict, *, normalise: bool = True) -> Project:
    ties = {**ties, "id": [f"r{i}" for i in range(len(ties["source"]))]}
    frames = pd.DataFrame(people), pd.DataFrame(ties)
    if normalise:
        frames = normalise_frame("stakeholders", frames[0]), normalise_frame("relationships", frames[1])
    return Project(stakeholders=frames[0], relationships=frames[1])


def _assert_same(project: Project) -> None:
    pairs = [(a, b) for a in CYCLES for b in CYCLES]
    shared = nw.cycle_tie_changes(project, pairs)
    counts = nw.cycle_ties_formed(project, pairs)
    assert len(shared) == len(counts) == len(pairs)
    for (earlier, later), got, (new, across) in zip(pairs, shared, counts, strict=True):
        expected = _reference(project, earlier=earlier, later=later)
        pd.testing.assert_frame_equal(got, expected)
        pd.testing.assert_frame_equal(nw.tie_changes(project, earlier=earlier, later=later), expected)
        formed = expected[expected["change"] == "new"]
        assert (new, across) == (len(formed), int((formed["across_roles"] | formed["across_experience"]).sum()))


AWKWARD_PEOPLE = {
    "id": ["1", "01", "1.0", "10", "é ü", 'say "hi"', "x"],
    "name": ["One", "Zero one", "One point oh", "Ten", "Émile", 'Quote "Q"', ""],
    "roles": [["resident", " carer "], "resident|", [], "officer", "carer|officer", "", ["resident"]],
    "experience": ["lived", "", ["professional"], "lived|professional", "personal", "lived", ""],
}


def test_awkward_ties_match_the_reference():
    ties = {  # self-loops, the same pair both ways and twice, numbers as text, unicode, quotes
        "source": ["1", "1", "01", "1", "1", "10", "é ü", 'say "hi"', "x", "1.0", "10", "01", "1"],
        "target": ["1", "01", "1", "01", "10", "1", 'say "hi"', "é ü", "x", "10", "1.0", "1.0", "1.0"],
        "type": ["knows", "knows", "works with", "knows", "family or friend", "knows", "knows", "funds", "knows",
                 "knows", "works with", "knows", "knows"],
        "direction": ["undirected", "directed", "directed", "undirected", "directed", "directed", "undirected",
                      "directed", "undirected", "undirected", "directed", "directed", "undirected"],
        "since": ["", "2025-02-01", "2025-05-01", "", "2025-01-15", "2025-04-10", "", "2025-05-05", "2025-01-01",
                  "2025-03-01", "2025-05-01", "", "2025-02-02"],
        "until": ["", "2025-03-01", "", "2025-02-28", "", "", "2025-03-31", "", "2025-04-15", "2025-04-01", "", "",
                  "2025-03-15"],
    }
    project = _project(AWKWARD_PEOPLE, ties)
    _assert_same(project)
    one, two = CYCLES[1], CYCLES[2]
    got = nw.tie_changes(project, earlier=one, later=two)
    # by hand: every pair active in Two was active in One, whichever way round or however often (the self-loops,
    # "01"-"1" now written the other way, "é ü"-'say "hi"' reversed, "10"-"1.0" reversed); only "1"-"1.0" (active
    # 2 to 15 March) ended, and nothing is new
    assert list(zip(got["change"], got["source"], got["target"], got["source_name"], got["target_name"],
                    strict=True)) == [("ended", "1", "1.0", "One", "One point oh")]
    assert got[["across_roles", "across_experience"]].to_numpy().tolist() == [[False, True]]  # "1.0" has no role recorded
    back = nw.tie_changes(project, earlier=two, later=one)
    assert back["change"].tolist() == ["new"] and back["source"].tolist() == ["1"]


@pytest.mark.parametrize("bitmap", [True, False])
def test_random_maps_match_the_reference(bitmap, monkeypatch):
    if not bitmap:  # who holds which role looked up in a sorted array, as on very big maps
        monkeypatch.setattr(nw, "_BITMAP_LIMIT", 0)
    rng = np.random.default_rng(7)
    for size in (1, 3, 12, 40):
        ids = [f"{i}" for i in range(size)]
        roles = ["resident", "officer", "carer", " ", "resident|officer"]
        people = {"id": ids, "name": [f"P{i}" for i in range(size)],
                  "roles": rng.choice(roles, size).tolist(), "experience": rng.choice(["lived", "", "professional"],
                                                                                      size).tolist()}
        m = 3 * size
        dates = ["", "2025-01-10", "2025-03-31", "2025-04-01", "2025-06-30", "2025-08-01"]
        ties = {"source": rng.choice(ids, m).tolist(), "target": rng.choice(ids, m).tolist(),
                "type": rng.choice(["knows", "works with"], m).tolist(),
                "since": rng.choice(dates, m).tolist(), "until": rng.choice(dates, m).tolist()}
        _assert_same(_project(people, ties))


def test_no_ties_and_no_stakeholders():
    _assert_same(_project(AWKWARD_PEOPLE, {"source": [], "target": [], "type": []}))
    empty = Project()
    got = nw.tie_changes(empty, earlier=CYCLES[1], later=CYCLES[2])
    pd.testing.assert_frame_equal(got, _reference(empty, earlier=CYCLES[1], later=CYCLES[2]))
    assert nw.cycle_tie_changes(empty, []) == [] and nw.cycle_ties_formed(empty, []) == []


def test_a_tie_to_someone_not_on_the_map_has_no_name_and_is_never_across():
    # the reference fails on these (it cannot compare a missing set of roles); blank name and false is the answer
    people = {"id": ["a", "b"], "name": ["A", "B"], "roles": ["resident", "officer"], "experience": ["lived", ""]}
    ties = {"source": ["a", "gone", "a"], "target": ["gone", "b", "b"], "type": ["knows"] * 3,
            "since": ["2025-05-01"] * 3, "until": [""] * 3}
    got = nw.tie_changes(_project(people, ties), earlier=CYCLES[1], later=CYCLES[2])
    assert got["source_name"].tolist() == ["A", "", "A"] and got["target_name"].tolist() == ["", "B", "B"]
    assert got["across_roles"].tolist() == [False, False, True]
    assert got["across_experience"].tolist() == [False, False, False]


@pytest.mark.parametrize("normalise", [True, False])
def test_pandas_text_columns_and_blank_dates_as_missing_values(normalise):
    # pandas' own text dtype (not object) and missing dates: the same answer as the reference
    people = {"id": pd.array(["a", "b", "c"], dtype="str"), "name": ["A", "B", "C"],
              "roles": ["x", "y", "x"], "experience": ["", "", ""]}
    ties = {"source": pd.array(["a", "b", "a"], dtype="str"), "target": pd.array(["b", "c", "c"], dtype="str"),
            "type": ["knows"] * 3, "since": ["2025-05-01", None, ""], "until": ["", "", None]}
    _assert_same(_project(people, ties, normalise=normalise))
