"""The prepared participation (``prepare_participation``) and the fast paths behind it give exactly
the figures of the plain paths, on awkward data: blanks, NA, repeated records, unknown ids, unicode,
list columns, empty tables. Independent calculations are plain Python loops over the records."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from coprod_map.analysis import representation as rep
from coprod_map.model import Project, ProjectSettings, normalise_frame


def awkward_project() -> Project:
    stakeholders = pd.DataFrame(
        {
            "id": ["s1", "s2", "Zoë", "李", "s5", "s6", "g1", "g2", "s9"],
            "name": ["Ann", "ann", "Zoë Ü", "李 华", "", "Bob", "Youth forum", "Émigré club", "Ann"],
            "kind": ["person", "person", "person", "person", "organisation", "person", "group", "group", "person"],
            "affected": [3, 2, 3, None, 1, 0, 2, 2, 2],
            "involvement": ["involved", "", "co_producing", "informed", "", "consulted", "", "", "involved"],
            "roles": [["staff", "carer"], [], ["carer"], ["staff"], [], ["volunteer", "staff"], [], [], ["carer"]],
            "age": ["young", "old", "", "Not recorded", "old", "young", "", "", "prefer not to say"],
            "area": ["N", "S", "N", "S", "", "N", "", "", "N"],
            "speaks_for": [["g1"], [], ["g1", "carers"], ["carers"], [], ["g2"], [], [], ["carers"]],
            "speaks_basis": ["proxy", "", "lived_experience", "proxy", "", "", "", "", "proxy"],
        }
    )
    activities = pd.DataFrame(
        {
            "id": ["a1", "a2", "a3", "a4"],
            "date": ["2025-01-15", "2025-05-01", "", "2025-08-01"],
            "cycle": ["C1", "", "C2", ""],
        }
    )
    participation = pd.DataFrame(
        [("s1", "a1"), ("s1", "a1"), ("s1", "a4"), ("Zoë", "a2"), ("李", "a3"), ("s6", "a2"), ("s6", "a4"),
         ("ghost", "a1"), ("s2", "nowhere"), ("g1", "a2"), ("s9", "a3")],
        columns=["stakeholder_id", "activity_id"],
    )
    reference = pd.DataFrame({"attribute": ["age"] * 3, "category": ["young", "old", "not recorded"],
                              "count": [40, 60, 10]})
    settings = ProjectSettings(
        attributes={"age": ["young", "middle", "old"], "area": ["N", "S"]},
        cycles=[{"name": "C1", "start": "2025-01-01", "end": "2025-03-31"},
                {"name": "C2", "start": "2025-04-01", "end": "2025-06-30"},
                {"name": "C3", "start": "2025-07-01", "end": "2025-09-30"}],
    )
    frames = {"stakeholders": stakeholders, "activities": activities, "participation": participation,
              "reference": reference}
    return Project(**{t: normalise_frame(t, f) for t, f in frames.items()}, settings=settings)


OPTIONS = [
    {},
    {"start": "2025-02-01"},
    {"end": "2025-05-31"},
    {"cycles": ["C2"]},
    {"cycles": []},
    {"involvement": "rung", "rung": "involved"},
]


@pytest.mark.parametrize("options", OPTIONS)
@pytest.mark.parametrize("by", ["age", "roles", ("age", "area"), ("roles", "age")])
@pytest.mark.parametrize("mode", ["population", "register"])
def test_gap_table_with_prepared_equals_plain(options, by, mode):
    project = awkward_project()
    prepared = rep.prepare_participation(project)
    plain = rep.gap_table(project, by=by, mode=mode, **options)
    for _ in range(2):  # the second call reads the memo
        pd.testing.assert_frame_equal(rep.gap_table(project, by=by, mode=mode, prepared=prepared, **options), plain)


@pytest.mark.parametrize("period", ["cycle", "quarter"])
def test_trend_table_with_prepared_equals_plain(period):
    project = awkward_project()
    prepared = rep.prepare_participation(project)
    plain = rep.trend_table(project, by=["age", ("age", "area")], period=period, mode="register")
    fast = rep.trend_table(project, by=["age", ("age", "area")], period=period, mode="register", prepared=prepared)
    pd.testing.assert_frame_equal(fast, plain)
    assert set(plain["period"]) >= ({"C1", "C2", "C3"} if period == "cycle" else {"2025-Q1", "2025-Q2", "2025-Q3"})


def test_involved_stakeholders_count_every_record_once_and_skip_unknown_ids():
    project = awkward_project()
    prepared = rep.prepare_participation(project)
    ids = set(project.stakeholders["id"])
    acts = set(project.activities["id"])
    expected: dict[str, int] = {}
    for who, act in project.participation[["stakeholder_id", "activity_id"]].itertuples(index=False):
        if who in ids and act in acts:
            expected[who] = expected.get(who, 0) + 1
    for given in (None, prepared):
        out = rep.involved_stakeholders(project, prepared=given)
        assert dict(zip(out["stakeholder_id"], out["attendances"].astype(int), strict=True)) == expected


def test_counting_by_sorting_gives_the_same_involvement(monkeypatch):
    project = awkward_project()
    by_count = rep.involved_stakeholders(project, period="quarter")
    monkeypatch.setattr(rep, "_BINCOUNT_MIN", 0)  # the grid is now bigger than the data: np.unique
    by_sort = rep.involved_stakeholders(project, period="quarter")
    pd.testing.assert_frame_equal(by_sort, by_count)
    assert len(by_count) == 6  # s1 Q1 and Q3, Zoë Q2, s6 Q2 and Q3, g1 Q2


def _missing_by_hand(project: Project, **options) -> pd.DataFrame:
    """Affected and not involved, with the latest dated activity, by a plain loop over the records."""
    involved = set(rep.involved_stakeholders(project, **options)["stakeholder_id"])
    date_of = dict(zip(project.activities["id"], project.activities["date"], strict=True))
    last: dict[str, str] = {}
    for who, act in project.participation[["stakeholder_id", "activity_id"]].itertuples(index=False):
        date = date_of.get(act, "")
        if date and date > last.get(who, ""):
            last[who] = date
    rows = []
    for row in project.stakeholders.itertuples(index=False):
        level = 0 if pd.isna(row.affected) else row.affected
        if level >= options.get("affected_level", 1) and row.id not in involved:
            rows.append((row.id, level, row.kind, row.name, last.get(row.id, "")))
    rows.sort(key=lambda r: (-r[1], r[2], r[3]))
    return pd.DataFrame(rows, columns=["id", "affected", "kind", "name", "last_took_part"])


@pytest.mark.parametrize("options", OPTIONS)
def test_missing_stakeholders_match_a_hand_count(options):
    project = awkward_project()
    prepared = rep.prepare_participation(project)
    expected = _missing_by_hand(project, **options)
    for given in (None, prepared):
        out = rep.missing_stakeholders(project, prepared=given, **options)
        assert out["id"].tolist() == expected["id"].tolist()
        assert out["last_took_part"].tolist() == expected["last_took_part"].tolist()
    assert out["roles"].tolist() == [
        ", ".join(project.stakeholders.set_index("id").at[i, "roles"]) for i in expected["id"]
    ]


def test_missing_stakeholders_fall_back_when_dates_are_not_all_text():
    project = awkward_project()
    fast = rep.missing_stakeholders(project)
    activities = project.activities.copy()
    activities["date"] = activities["date"].astype(object)
    activities.loc[2, "date"] = None  # a blank date that is not text: the plain join instead
    project.activities = activities
    prepared = rep.prepare_participation(project)
    assert prepared.last_dates(project) is None
    slow = rep.missing_stakeholders(project, prepared=prepared)
    pd.testing.assert_frame_equal(slow, fast)


def test_repeated_stakeholder_ids_in_rung_mode_still_work():
    project = awkward_project()
    stakeholders = project.stakeholders.copy()
    stakeholders.loc[1, "id"] = "s1"  # two rows with id s1: one involved, one not
    project.stakeholders = stakeholders
    prepared = rep.prepare_participation(project)
    assert not prepared.ids_unique and prepared.positions is None
    out = rep.missing_stakeholders(project, involvement="rung", rung="involved", prepared=prepared)
    assert "s1" not in set(out["id"])  # the id is involved, so neither row is missing
    assert out["last_took_part"].tolist() == [
        {"Zoë": "2025-05-01", "李": "", "s5": "", "g1": "2025-05-01", "g2": ""}.get(i, "?") for i in out["id"]
    ]
    with pytest.raises(pd.errors.InvalidIndexError):  # took part needs unique ids, as it always did
        rep.missing_stakeholders(project, prepared=prepared)


@pytest.mark.parametrize("options", OPTIONS)
def test_voice_table_by_row_mask_equals_by_id_lookup(options):
    project = awkward_project()
    prepared = rep.prepare_participation(project)
    by_mask = rep.voice_table(project, prepared=prepared, **options)
    by_ids = rep.prepare_participation(project)
    by_ids.ids_unique = False  # take the id lookup path on the same data
    pd.testing.assert_frame_equal(rep.voice_table(project, prepared=by_ids, **options), by_mask)
    if not options:
        assert dict(zip(by_mask["group"], by_mask["status"], strict=True)) == {
            "g1": "direct voice", "carers": "direct voice", "g2": "basis not recorded"
        }


def test_prepared_for_another_project_or_replaced_tables_is_ignored():
    project, other = awkward_project(), awkward_project()
    stale = rep.prepare_participation(other)
    other.participation = other.participation.iloc[:2]
    assert not stale.matches(other) and not stale.matches(project)
    pd.testing.assert_frame_equal(rep.gap_table(other, by="age", prepared=stale), rep.gap_table(other, by="age"))
    pd.testing.assert_frame_equal(rep.missing_stakeholders(other, prepared=stale), rep.missing_stakeholders(other))


def test_memo_is_shared_and_keyed_on_options_and_cycles():
    project = awkward_project()
    prepared = rep.prepare_participation(project)
    first = rep._involved_positions(project, involvement="took_part", rung="", start="", end="", cycles=["C2"],
                                    period=None, prepared=prepared)
    again = rep._involved_positions(project, involvement="took_part", rung="", start="", end="", cycles=["C2"],
                                    period=None, prepared=prepared)
    assert again is first
    project.settings.cycles = [{"name": "C2", "start": "2025-07-01", "end": "2025-09-30"}]  # a4 now C2, a2 none
    moved = rep._involved_positions(project, involvement="took_part", rung="", start="", end="", cycles=["C2"],
                                    period=None, prepared=prepared)
    assert moved is not first
    pd.testing.assert_frame_equal(moved[0], rep._involved_positions(
        project, involvement="took_part", rung="", start="", end="", cycles=["C2"], period=None)[0])


def test_empty_project():
    project = Project().normalised()
    prepared = rep.prepare_participation(project)
    assert rep.missing_stakeholders(project, prepared=prepared).empty
    assert rep.voice_table(project, prepared=prepared).empty
    assert rep.involved_stakeholders(project, prepared=prepared).empty


@pytest.mark.parametrize(
    "wanted",
    [["s1", "Zoë", "", "ghost", None, "李"], ["\udcff", "s1"], [1, "s1", 2.5], [np.nan, "s2"], []],
)
def test_lookup_equals_pandas_get_indexer(wanted):
    ids = pd.Index(["s1", "s2", "Zoë", "李", "", "\udcff"], dtype=object)
    series = pd.Series(wanted, dtype=object)
    assert rep._lookup(ids, series).tolist() == ids.get_indexer(series).tolist()


def test_missing_order_equals_sort_values():
    frame = pd.DataFrame(
        {
            "affected": pd.array([2, None, 3, 2, 3, 2, None, 1], dtype="Int64"),
            "kind": ["person", "group", "person", "group", "person", "person", "group", None],
            "name": ["b", "a", "Ä", None, "a", "b", "", "z"],
            "id": list("abcdefgh"),
        }
    )
    expected = frame.sort_values(["affected", "kind", "name"], ascending=[False, True, True], kind="stable")
    pd.testing.assert_frame_equal(rep._sort_missing(frame), expected.reset_index(drop=True))
    numbers = frame.assign(name=[3, 1, 2, 1, 3, 2, 1, 0])  # not text: sort_values itself
    expected = numbers.sort_values(["affected", "kind", "name"], ascending=[False, True, True], kind="stable")
    pd.testing.assert_frame_equal(rep._sort_missing(numbers), expected.reset_index(drop=True))
