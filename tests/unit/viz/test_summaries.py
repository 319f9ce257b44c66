"""Plain-language sentences for the representation figures."""

from __future__ import annotations

import pandas as pd

from coprod_map.viz import summaries


def row(**values) -> pd.Series:
    base = {"attribute": "age_band", "category": "16-24", "affected_share": 0.18, "involved_share": 0.04,
            "involved_count": 6, "flag": "under", "suppressed": False, "known": True}
    return pd.Series({**base, **values})


def test_under_sentence_reads_as_in_the_brief():
    assert summaries.gap_sentence(row()) == (
        "16-24 (age band) are 18% of those affected and 4% of those involved: "
        "fewer than we would expect, even allowing for chance."
    )


def test_within_and_none_involved():
    sentence = summaries.gap_sentence(row(involved_share=0.0, flag="within"))
    assert "none of those involved" in sentence and "about what we would expect" in sentence


def test_suppressed_row_gives_no_figures():
    sentence = summaries.gap_sentence(row(suppressed=True), min_cell=5)
    assert "%" not in sentence and "too small" in sentence and "fewer than 5" in sentence


def test_unknown_row_says_it_is_left_out():
    sentence = summaries.gap_sentence(row(category="not recorded", known=False, involved_count=3))
    assert sentence.startswith("not recorded (age band): 3 people involved, left out of the shares")


def test_summary_names_under_and_over_groups_and_hidden_ones():
    table = pd.DataFrame({"attribute": ["age"] * 4, "category": ["young", "old", "middle", "tiny"],
                          "flag": ["under", "over", "within", "under"], "suppressed": [False, False, False, True],
                          "known": [True, True, True, True], "involved_count": [1, 9, 5, 2]})
    text = summaries.gap_summary(table, min_cell=5)
    # the small group is named (no figures) so the summary never contradicts the per-group sentences
    assert "(young and tiny)" in text and "(old)" in text and "Not shown" in text
    assert "2" not in text.split("Not shown")[1]  # no count given for the hidden group


def test_readable_table_in_percent():
    table = pd.DataFrame({"attribute": ["age"], "category": ["young"], "affected_count": [10], "affected_share": [0.25],
                          "involved_count": [2], "involved_share": [0.1], "gap": [-0.15], "ci_low": [0.03],
                          "ci_high": [0.3], "flag": ["under"], "suppressed": [False]})
    out = summaries.readable_table(table).iloc[0]
    assert out["Affected (%)"] == 25.0 and out["Gap (points)"] == -15.0
    assert out["Compared with those affected"] == "fewer than expected"
