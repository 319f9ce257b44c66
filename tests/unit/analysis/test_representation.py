"""Representation gaps checked against hand counts and an independent Wilson implementation (scipy).

The test project (built below, every figure counted by hand):

- age: young y1-y6, middle m1-m5, old o1-o18 and s1, "not recorded" u1-u3, "prefer not to say" p1,
  blank b1; area: young, o1-o9, u1-u3 in N; middle, o10-o18 in S.
- activities: a1 2025-01-15 (cycle C1 written on it), a2 2025-05-01 and a3 2025-08-01 (cycle left
  blank: C2 and C3 from the settings' dates).
- took part: y1, y2 in a2; o1-o10 in a1; o11-o18 in a1 and a2; u1-u3, b1 in a1; p1 in a2.
  So overall 20 known people are involved: young 2, middle 0, old 18 (attendances 2, 0, 26).
- reference for age: young 200, middle 300, old 500, not recorded 100 -> shares 0.2, 0.3, 0.5.
"""

from __future__ import annotations

import pandas as pd
import pytest
from scipy.stats import binomtest

from coprod_map.analysis import representation as rep
from coprod_map.analysis.stats import wilson_interval
from coprod_map.model import Project, ProjectSettings, normalise_frame


def wilson_scipy(k: int, n: int) -> tuple[float, float]:
    ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    return ci.low, ci.high


def _people() -> list[dict]:
    rows = []
    for i in range(1, 7):
        rows.append({"id": f"y{i}", "age": "young", "area": "N", "affected": 3})
    for i in range(1, 6):
        rows.append({"id": f"m{i}", "age": "middle", "area": "S", "affected": 2})
    for i in range(1, 19):
        rows.append({"id": f"o{i}", "age": "old", "area": "N" if i <= 9 else "S", "affected": 1})
    for i in range(1, 4):
        rows.append({"id": f"u{i}", "age": "Not recorded", "area": "N", "affected": 1})
    rows.append({"id": "p1", "age": "prefer not to say", "area": "S", "affected": 0})
    rows.append({"id": "b1", "age": "", "area": "", "affected": 0})
    rows.append({"id": "s1", "age": "old", "area": "S", "affected": 0})
    rows.append({"id": "g1", "kind": "group", "age": "", "area": "", "affected": 2})
    rows.append({"id": "g2", "kind": "group", "age": "", "area": "", "affected": 2, "name": "Deaf club"})
    involvement = {f"o{i}": "involved" for i in range(1, 6)} | {
        "o6": "co_producing", "y1": "consulted", "s1": "co_producing", "m1": "co_designing", "y2": "informed"
    }
    speaks = {
        "o1": (["young people"], "proxy"), "s1": (["young people"], "proxy"), "o2": (["carers"], "lived_experience"),
        "o3": (["carers"], "proxy"), "o4": (["deaf people"], ""), "o5": (["g2"], "elected"),
    }
    for row in rows:
        row.setdefault("kind", "person")
        row.setdefault("name", f"Name {row['id']}")
        row["involvement"] = involvement.get(row["id"], "")
        row["speaks_for"], row["speaks_basis"] = speaks.get(row["id"], ([], ""))
    return rows


def make_project() -> Project:
    participation = [("y1", "a2"), ("y2", "a2"), ("p1", "a2"), ("b1", "a1")]
    participation += [(f"o{i}", "a1") for i in range(1, 19)] + [(f"o{i}", "a2") for i in range(11, 19)]
    participation += [(f"u{i}", "a1") for i in range(1, 4)]
    frames = {
        "stakeholders": pd.DataFrame(_people()),
        "activities": pd.DataFrame({"id": ["a1", "a2", "a3"], "date": ["2025-01-15", "2025-05-01", "2025-08-01"],
                                    "cycle": ["C1", "", ""]}),
        "participation": pd.DataFrame(participation, columns=["stakeholder_id", "activity_id"]),
        "reference": pd.DataFrame({"attribute": ["age"] * 4, "category": ["young", "middle", "old", "not recorded"],
                                   "count": [200, 300, 500, 100]}),
    }
    settings = ProjectSettings(
        attributes={"age": ["young", "middle", "old"], "area": ["N", "S", "E"]},
        cycles=[{"name": "C1", "start": "2025-01-01", "end": "2025-03-31"},
                {"name": "C2", "start": "2025-04-01", "end": "2025-06-30"},
                {"name": "C3", "start": "2025-07-01", "end": "2025-09-30"}],
    )
    return Project(**{t: normalise_frame(t, f) for t, f in frames.items()}, settings=settings)


@pytest.fixture
def project() -> Project:
    return make_project()


def rows(table: pd.DataFrame) -> pd.DataFrame:
    return table.set_index("category")


# --- Wilson -----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("k", "n", "low", "high"), [(8, 10, 0.490, 0.943), (0, 10, 0.0, 0.278), (10, 10, 0.722, 1.0)])
def test_wilson_matches_published_values(k, n, low, high):
    got_low, got_high = wilson_interval(k, n)
    assert float(got_low) == pytest.approx(low, abs=5e-4)
    assert float(got_high) == pytest.approx(high, abs=5e-4)


def test_wilson_matches_scipy_on_many_counts_and_has_no_overflow():
    ks = [0, 1, 3, 17, 40_000, 99_999]
    ns = [5, 7, 30, 40, 90_000, 100_000]
    low, high = wilson_interval(pd.Series(ks, dtype="Int64"), pd.Series(ns, dtype="Int64"))
    for k, n, lo, hi in zip(ks, ns, low, high, strict=True):
        assert (lo, hi) == pytest.approx(wilson_scipy(k, n), abs=1e-9)


def test_wilson_with_no_trials_is_blank():
    low, high = wilson_interval([0], [0])
    assert pd.isna(low[0]) and pd.isna(high[0])


# --- population mode --------------------------------------------------------------------------------

def test_population_gap_table_matches_hand_count(project):
    t = rows(rep.gap_table(project, by="age", mode="population", min_cell=1))
    assert list(t.index) == ["young", "middle", "old", "not recorded", "prefer not to say", "(blank)"]
    assert t.loc[["young", "middle", "old"], "affected_share"].tolist() == pytest.approx([0.2, 0.3, 0.5])
    assert t.loc[["young", "middle", "old"], "involved_count"].tolist() == [2, 0, 18]
    assert t.loc[["young", "middle", "old"], "involved_share"].tolist() == pytest.approx([0.1, 0.0, 0.9])
    assert t.loc["young", "gap"] == pytest.approx(0.1 - 0.2)
    assert t.loc["old", "ratio"] == pytest.approx(0.9 / 0.5)
    for category, k in (("young", 2), ("middle", 0), ("old", 18)):
        assert (t.loc[category, "ci_low"], t.loc[category, "ci_high"]) == pytest.approx(wilson_scipy(k, 20), abs=1e-9)
    assert t.loc[["young", "middle", "old"], "flag"].tolist() == ["within", "under", "over"]


def test_unknown_answers_have_rows_but_stay_out_of_shares(project):
    t = rows(rep.gap_table(project, by="age", min_cell=1))
    assert t.loc[["not recorded", "prefer not to say", "(blank)"], "involved_count"].tolist() == [3, 1, 1]
    assert t.loc["not recorded", "affected_count"] == 100
    unknown = t.loc[["not recorded", "prefer not to say", "(blank)"]]
    assert unknown["involved_share"].isna().all() and unknown["affected_share"].isna().all()
    assert (unknown["flag"] == "").all() and not unknown["known"].any()
    # shares over the 20 known people only, not the 25 involved
    assert t.loc[t["known"], "involved_share"].sum() == pytest.approx(1.0)
    assert set(t["involved_total"]) == {20}


def test_reference_category_with_nobody_involved_shows_zero(project):
    t = rows(rep.gap_table(project, by="age", min_cell=5))
    assert t.loc["middle", "involved_count"] == 0 and t.loc["middle", "involved_share"] == 0
    assert not t.loc["middle", "suppressed"]  # 0 picks out nobody


def test_reference_shares_without_counts_are_rescaled_over_known_categories(project):
    project.reference = normalise_frame("reference", pd.DataFrame(
        {"attribute": ["age"] * 4, "category": ["young", "middle", "old", "prefer not to say"],
         "share": [20, 30, 50, 10]}))  # percentages, with an unknown row
    t = rows(rep.gap_table(project, by="age", min_cell=1))
    assert t.loc[["young", "middle", "old"], "affected_share"].tolist() == pytest.approx([0.2, 0.3, 0.5])
    assert pd.isna(t.loc["young", "affected_count"])


def test_empty_settings_category_appears_with_zeros(project):
    t = rows(rep.gap_table(project, by="area", mode="register", min_cell=1))
    assert t.loc["E", "affected_count"] == 0 and t.loc["E", "involved_count"] == 0
    assert t.loc["E", "affected_share"] == 0 and pd.isna(t.loc["E", "ratio"])


# --- suppression ------------------------------------------------------------------------------------

def test_small_counts_are_flagged_and_blanked_for_sharing(project):
    t = rep.gap_table(project, by="age", min_cell=5)
    assert rows(t)["suppressed"].to_dict() == {
        "young": True, "middle": False, "old": False, "not recorded": True, "prefer not to say": True, "(blank)": True
    }
    shared = rows(rep.suppress_small_cells(t))
    for column in ("involved_count", "involved_share", "gap", "ci_low", "ci_high", "attendance_count"):
        assert pd.isna(shared.loc["young", column])
    assert shared.loc["young", "flag"] == "" and shared.loc["old", "involved_count"] == 18


def test_gap_report_has_exact_columns_and_suppresses_by_default(project):
    report = rep.gap_report(project, by=["age"])
    assert list(report.columns) == rep.GAP_COLUMNS
    young = report.set_index("category").loc["young"]
    assert young["suppressed"] and pd.isna(young["involved_count"])
    project.settings.min_cell = 2
    assert rep.gap_report(project, by=["age"]).set_index("category").loc["young", "involved_count"] == 2


def test_gap_report_pairs_and_unknown_attribute(project):
    report = rep.gap_report(project, by=["age", "area"], pairs=True, mode="register", suppress=False)
    assert list(dict.fromkeys(report["attribute"])) == ["age", "area", "age by area"]
    with pytest.raises(ValueError, match="'height' is not a stakeholder attribute"):
        rep.gap_report(project, by=["height"], mode="register")


# --- register mode, rung mode, period -----------------------------------------------------------------

def test_register_mode_counts_affected_stakeholders(project):
    t = rows(rep.gap_table(project, by="age", mode="register", affected_level=1, min_cell=1))
    assert t.loc[["young", "middle", "old"], "affected_count"].tolist() == [6, 5, 18]
    assert t.loc[["young", "middle", "old"], "affected_share"].tolist() == pytest.approx([6 / 29, 5 / 29, 18 / 29])
    assert t.loc["not recorded", "affected_count"] == 3
    t2 = rows(rep.gap_table(project, by="age", mode="register", affected_level=2, min_cell=1))
    assert t2.loc[["young", "middle", "old"], "affected_share"].tolist() == pytest.approx([6 / 11, 5 / 11, 0.0])


def test_register_mode_by_kind(project):
    t = rows(rep.gap_table(project, by="kind", mode="register", min_cell=1))
    assert t.loc["group", "affected_count"] == 2 and t.loc["group", "involved_count"] == 0


def test_rung_mode_counts_stakeholders_at_or_above_the_rung(project):
    t = rows(rep.gap_table(project, by="age", involvement="rung", rung="involved", min_cell=1))
    # o1-o5 involved, o6 and s1 co-producing (old: 7), m1 co-designing (middle: 1); y1 consulted is below
    assert t.loc[["young", "middle", "old"], "involved_count"].tolist() == [0, 1, 7]
    assert t.loc["old", "involved_share"] == pytest.approx(7 / 8)
    assert t["attendance_count"].isna().all()


def test_period_filter_by_dates_and_by_cycle(project):
    after = rows(rep.gap_table(project, by="age", start="2025-04-01", min_cell=1))
    assert after.loc[["young", "old"], "involved_count"].tolist() == [2, 8]
    assert after.loc["young", "involved_share"] == pytest.approx(2 / 10)
    first = rows(rep.gap_table(project, by="age", cycles=["C1"], min_cell=1))
    assert first.loc[["young", "old"], "involved_count"].tolist() == [0, 18]
    nothing = rows(rep.gap_table(project, by="age", end="2024-12-31", min_cell=1))
    assert (nothing["involved_count"] == 0).all() and nothing["involved_share"].isna().all()


def test_attendance_weighted_view(project):
    t = rows(rep.gap_table(project, by="age", min_cell=1))
    assert t.loc[["young", "old"], "attendance_count"].tolist() == [2, 26]
    assert t.loc["old", "attendance_share"] == pytest.approx(26 / 28)


def test_pairs_match_hand_count(project):
    t = rows(rep.gap_table(project, by=("age", "area"), mode="register", min_cell=1))
    assert t.loc[["young / N", "old / N", "old / S"], "involved_count"].tolist() == [2, 9, 9]
    assert t.loc["young / N", "affected_count"] == 6 and t.loc["middle / S", "involved_count"] == 0
    assert t.loc["old / S", "involved_share"] == pytest.approx(9 / 20)
    assert not t.loc["not recorded / N", "known"] and pd.isna(t.loc["not recorded / N", "involved_share"])
    assert (t.loc["old / S", "category_a"], t.loc["old / S", "category_b"]) == ("old", "S")


def test_pair_in_population_mode_uses_a_joint_reference_when_given(project):
    extra = pd.DataFrame({"attribute": ["age by area"] * 2, "category": ["young / N", "old / S"], "count": [25, 75]})
    project.reference = normalise_frame("reference", pd.concat([project.reference, extra], ignore_index=True))
    t = rows(rep.gap_table(project, by=("age", "area"), min_cell=1))
    assert t.loc[["young / N", "old / S"], "affected_share"].tolist() == pytest.approx([0.25, 0.75])
    plain = rows(rep.gap_table(make_project(), by=("age", "area"), min_cell=1))
    assert plain["affected_share"].isna().all()


# --- over time ---------------------------------------------------------------------------------------

def test_trend_per_cycle_matches_hand_count(project):
    t = rep.trend_table(project, by="age", period="cycle", min_cell=1)
    assert list(dict.fromkeys(t["period"])) == ["C1", "C2", "C3"]
    counts = t.set_index(["period", "category"])["involved_count"]
    assert [counts[("C1", c)] for c in ("young", "middle", "old")] == [0, 0, 18]
    assert [counts[("C2", c)] for c in ("young", "middle", "old")] == [2, 0, 8]
    assert [counts[("C3", c)] for c in ("young", "middle", "old")] == [0, 0, 0]
    c2 = t.loc[(t["period"] == "C2") & (t["category"] == "young")].iloc[0]
    assert c2["involved_share"] == pytest.approx(0.2) and c2["affected_share"] == pytest.approx(0.2)
    assert t.loc[t["period"] == "C3", "involved_share"].isna().all()


def test_trend_per_quarter_has_the_same_counts(project):
    t = rep.trend_table(project, by="age", period="quarter", min_cell=1)
    assert list(dict.fromkeys(t["period"])) == ["2025-Q1", "2025-Q2", "2025-Q3"]
    q2 = t.loc[t["period"] == "2025-Q2"].set_index("category")
    assert q2.loc[["young", "old"], "involved_count"].tolist() == [2, 8]


def test_gap_overview_equals_separate_calls(project):
    overall, over_time = rep.gap_overview(project, by=["age", "area"], period="cycle", mode="register")
    separate = pd.concat([rep.gap_table(project, by=a, mode="register") for a in ("age", "area")], ignore_index=True)
    pd.testing.assert_frame_equal(overall, separate)
    assert set(over_time["attribute"]) == {"age", "area"}


# --- who is missing ----------------------------------------------------------------------------------

def test_missing_stakeholders_are_affected_and_not_involved(project):
    missing = rep.missing_stakeholders(project)
    expected = {f"m{i}" for i in range(1, 6)} | {f"y{i}" for i in range(3, 7)} | {"g1", "g2"}
    assert set(missing["id"]) == expected
    assert missing["affected"].tolist() == sorted(missing["affected"].tolist(), reverse=True)
    after = rep.missing_stakeholders(project, start="2025-04-01")
    assert "o1" in set(after["id"]) and after.set_index("id").loc["o1", "last_took_part"] == "2025-01-15"


def test_proxy_only_groups(project):
    voices = rep.voice_table(project).set_index("group")
    assert voices.loc["young people", "status"] == "proxy only"
    assert voices.loc["young people", "proxies"] == "Name o1"  # s1 did not take part
    assert voices.loc["carers", "status"] == "direct voice"
    assert voices.loc["deaf people", "status"] == "basis not recorded"
    assert voices.loc["g2", "status"] == "direct voice" and voices.loc["g2", "group_name"] == "Deaf club"
    assert voices.loc["g1", "status"] == "no voice"
    assert rep.proxy_only_groups(project)["group"].tolist() == ["young people"]
    by_rung = rep.voice_table(project, involvement="rung", rung="involved").set_index("group")
    assert by_rung.loc["young people", "proxy"] == 2


def test_bad_options_say_what_was_expected(project):
    with pytest.raises(ValueError, match="mode must be one of"):
        rep.gap_table(project, by="age", mode="census")
    with pytest.raises(ValueError, match="rung must be one of"):
        rep.gap_table(project, by="age", involvement="rung", rung="boss")
