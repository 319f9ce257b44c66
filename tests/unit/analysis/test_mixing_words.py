"""The mixing sentence says the tendency in plain words first, then the figures (hand-worked matrices)."""

from __future__ import annotations

import pandas as pd
import pytest

from coprod_map.analysis import network as nw


def _matrix(rows: list[list[int]]) -> pd.DataFrame:
    labels = [f"g{i}" for i in range(len(rows))]
    return pd.DataFrame(rows, index=pd.Index(labels, name="area"), columns=labels)


@pytest.mark.parametrize(("rows", "lead", "r"), [
    # 8 ties inside each group, 1 across: e = [[16,1],[1,16]]/34, a = (.5, .5): r = (32/34 - .5) / .5 = 0.88
    ([[8, 1], [1, 8]], "People mostly link with others of the same area.", 0.88),
    # every tie across: trace 0, a = (.5, .5): r = (0 - .5) / .5 = -1
    ([[0, 5], [5, 0]], "People mostly link with others of a different area.", -1.0),
    # [[2,2],[2,2]]/8: trace .5 = expected .5, r = 0
    ([[1, 2], [2, 1]], "People link with others of the same area about as often as chance would.", 0.0),
    # [[6,4],[4,6]]/20: trace .6, expected .5: r = 0.2, a slight tendency
    ([[3, 4], [4, 3]], "People link with others of the same area a little more often than chance would.", 0.2),
    # [[4,6],[6,4]]/20: trace .4: r = -0.2
    ([[2, 6], [6, 2]], "People link with others of a different area a little more often than chance would.", -0.2),
])
def test_words_first_then_the_figure_for_analysts(rows, lead, r):
    sentence = nw.mixing_sentence(_matrix(rows), by="area")
    assert sentence.startswith(lead)
    assert nw.assortativity(_matrix(rows)) == pytest.approx(r, abs=0.005)
    assert f"For analysts: assortativity {r:.2f}" in sentence
    assert sentence.index(lead) < sentence.index("assortativity")


def test_shares_within_and_by_chance_are_hand_counts():
    # ties: 1 + 1 inside, 2 across = 4; within 50%; both ways [[2,2],[2,2]] -> a = (.5, .5), chance 50%
    sentence = nw.mixing_sentence(_matrix([[1, 2], [2, 1]]), by="area")
    assert "50% of 4 ties link stakeholders with the same area; if ties formed at random it would be about 50%." \
        in sentence


def test_one_group_only_gives_the_shares_without_a_tendency():
    sentence = nw.mixing_sentence(_matrix([[3]]), by="area")
    assert sentence == "100% of 3 ties link stakeholders with the same area; if ties formed at random it would be " \
        "about 100%."
    assert nw.mixing_sentence(_matrix([[0, 0], [0, 0]]), by="area").startswith("There are no ties")
