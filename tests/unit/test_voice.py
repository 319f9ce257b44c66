"""Participant voice, pure parts: duplicate detection, consent and checks, accept/merge planning, codes."""

from __future__ import annotations

import pandas as pd
import pytest

from coprod_map.model import Project, ProjectSettings, normalise_frame
from coprod_map.participation_voice import (
    Submission,
    check_submission,
    current_cycle,
    duplicate_table,
    ideas_rows,
    make_receipt,
    make_token,
    name_similarity,
    normalise_name,
    normalise_receipt,
    offerable,
    plan_accept,
    plan_merge,
    possible_duplicates,
    self_assessment_rows,
)

SETTINGS = ProjectSettings(attributes={"age band": ["16-24", "25-64", "65+"]},
                           cycles=[{"name": "Cycle 1", "start": "2026-01-01", "end": "2026-03-31"},
                                   {"name": "Cycle 2", "start": "2026-04-01", "end": "2026-06-30"}])


def project() -> Project:
    return Project(
        stakeholders=normalise_frame("stakeholders", pd.DataFrame({
            "id": ["s1", "s2", "s3", "p4"], "name": ["Ann Smith", "Youth club", "Council", "Bob Jones"],
            "kind": ["person", "group", "organisation", "person"], "roles": [["carer"], [], [], []],
            "affected": [3, None, None, None], "age band": ["16-24", "", "", ""],
        })),
        relationships=normalise_frame("relationships", pd.DataFrame({
            "id": ["r1"], "source": ["s1"], "target": ["s2"], "type": ["works with"], "direction": ["undirected"]})),
        settings=SETTINGS,
    )


def ok(**kw) -> Submission:
    return Submission(**{"consent": True, "name": "Cara Diaz", **kw})


def check(sub: Submission, offered=("s2", "s3")):
    return check_submission(sub, settings=SETTINGS, offered_ids=offered, components=["equal", "inclusive"],
                            cycles=["Cycle 1", "Cycle 2"])


# --- duplicate detection ------------------------------------------------------------------------

@pytest.mark.parametrize(("a", "b"), [
    ("Ann Smith", "ann smith"), ("Ann Smith", "Smith, Ann"), ("Dr Ann Smith", "Ann Smith"),
    ("Zoë O'Neil", "Zoe ONeil"), ("Ann  Smith ", "Ann-Smith"),
])
def test_normalisation_makes_these_names_identical(a, b):
    assert normalise_name(a) == normalise_name(b)
    assert name_similarity(a, b) == 1.0


def test_similarity_ranks_close_spellings_above_strangers():
    assert name_similarity("Ann Smith", "Anne Smith") >= 0.9
    assert name_similarity("Ann Smith", "Ann Marie Smith") >= 0.85  # every word of the shorter name is there
    assert name_similarity("Ann Smith", "Bob Jones") < 0.5
    assert name_similarity("", "Ann") == 0.0


def test_possible_duplicates_lists_matches_most_alike_first():
    found = possible_duplicates("anne smith", project().stakeholders)
    assert found["id"].tolist() == ["s1"]
    assert found["similarity"].iloc[0] == pytest.approx(name_similarity("anne smith", "Ann Smith"))
    assert possible_duplicates("Nobody Like This", project().stakeholders).empty


def test_duplicate_table_flags_the_map_and_other_pending_submissions():
    subs = pd.DataFrame({"id": ["V1", "V2", "V3", "V4"], "name": ["Ann Smith", "Cara Diaz", "cara  diaz", "Ann Smith"],
                         "status": ["pending", "pending", "pending", "declined"]})
    table = duplicate_table(subs, project().stakeholders).set_index("submission_id")
    assert list(table.index) == ["V1", "V2", "V3"]  # decided submissions are not reviewed again
    assert table.loc["V1", "best_id"] == "s1" and "Ann Smith (s1, 100%)" in table.loc["V1", "matches"]
    assert "submission V4" not in table.loc["V1", "matches"]  # a declined one is no duplicate
    assert table.loc["V2", "matches"] == "cara  diaz (submission V3, 100%)" and table.loc["V2", "best_id"] == ""


# --- consent and checks -------------------------------------------------------------------------

def test_without_consent_the_only_problem_is_consent():
    problems = check(Submission(consent=False, name="", kind="martian"))
    assert [p.column for p in problems] == ["consent"]
    assert "Nothing has been saved" in problems[0].message


def test_a_good_submission_has_no_problems():
    sub = ok(groups=["carers"], experience=["lived"], speaks_for=["carers"], speaks_basis="lived_experience",
             attributes={"age band": "prefer not to say"}, needs="Step-free access", need_category="access",
             ties={"works_with": ["s2"], "turns_to": ["s3"]}, cycle="Cycle 1", scores={"equal": 4, "inclusive": 2})
    assert check(sub) == []


@pytest.mark.parametrize(("changes", "column"), [
    ({"name": "  "}, "name"),
    ({"name": "x" * 201}, "name"),
    ({"ideas": "ok\x00"}, "ideas"),
    ({"attributes": {"age band": "ancient"}}, "age band"),
    ({"attributes": {"shoe size": "9"}}, "shoe size"),
    ({"experience": ["magic"]}, "experience"),
    ({"speaks_basis": "elected"}, "speaks for"),
    ({"ties": {"works_with": ["p4"]}}, "contacts"),  # a person not offered: an id cannot be smuggled in
    ({"cycle": "Cycle 1", "scores": {"equal": 6}}, "equal"),
    ({"cycle": "Cycle 9", "scores": {"equal": 3}}, "cycle"),
    ({"affected": 7}, "affected"),
    ({"groups": ["a|b"]}, "groups"),
])
def test_each_bad_answer_is_named(changes, column):
    assert column in [p.column for p in check(ok(**changes))]


# --- offering names ------------------------------------------------------------------------------

def test_only_non_people_and_people_marked_ok_are_offered():
    assert offerable(project().stakeholders)["id"].tolist() == ["s3", "s2"]  # by name: Council, Youth club
    assert offerable(project().stakeholders, people_ok=["p4"])["id"].tolist() == ["p4", "s3", "s2"]


def test_current_cycle_follows_the_dates():
    assert current_cycle(SETTINGS, today="2026-02-10") == "Cycle 1"
    assert current_cycle(SETTINGS, today="2026-05-01") == "Cycle 2"
    assert current_cycle(SETTINGS, today="2027-01-01") == "Cycle 2"  # after the last: the latest started
    assert current_cycle(SETTINGS, today="2025-01-01") == "Cycle 1"
    assert current_cycle(ProjectSettings(), today="2026-01-01") == ""


# --- planning ------------------------------------------------------------------------------------

def test_accept_plans_a_new_stakeholder_with_its_ties_and_a_private_need():
    sub = ok(groups=["carers", "carers"], attributes={"age band": "25-64"}, affected=2, strengths="Listening",
             needs="Large print", need_category="communication", ties={"works_with": ["s2"], "turns_to": ["s3"]})
    plan = plan_accept(sub, project(), need_ids=["N1", "N7"])
    assert plan.stakeholder_id == "p5"  # after p4
    row = plan.stakeholders.iloc[0]
    assert (row["name"], row["kind"], row["roles"], row["age band"], row["affected"], row["involvement"]) == (
        "Cara Diaz", "person", ["carers"], "25-64", 2, "consulted")
    assert "Listening" in row["notes"]
    ties = plan.relationships[["id", "source", "target", "type", "direction"]].values.tolist()
    assert ties == [["r2", "p5", "s2", "works with", "undirected"], ["r3", "s3", "p5", "supports", "directed"]]
    need = plan.needs.iloc[0]
    assert (need["id"], need["stakeholder_id"], need["need"], need["category"], bool(need["private"])) == (
        "N8", "p5", "Large print", "communication", True)


def test_merge_keeps_the_existing_id_and_saved_answers_and_skips_ties_already_there():
    sub = ok(name="Anne Smyth", groups=["parent"], attributes={"age band": "65+"}, affected=1,
             ties={"works_with": ["s2", "s3"]})
    plan = plan_merge(sub, project(), "s1")
    row = plan.stakeholders.iloc[0]
    assert (row["id"], row["name"], row["roles"], row["age band"], row["affected"]) == (
        "s1", "Ann Smith", ["carer", "parent"], "16-24", 3)
    assert len(plan.notes) == 2  # age band and affected differ: the map's answers were kept
    assert plan.relationships[["source", "target"]].values.tolist() == [["s1", "s3"]]  # s1-s2 exists already
    assert plan.needs.empty


def test_merge_into_an_unknown_id_is_refused():
    with pytest.raises(KeyError):
        plan_merge(ok(), project(), "nope")


def test_ideas_are_split_by_paragraph_and_anonymous_unless_asked():
    sub = ok(ideas="Meet in the evening\n\nPay bus fares", questions="Who decides the budget?")
    rows = ideas_rows(sub, submission_id="V1", existing_ids=["I2"], today="2026-02-01")
    assert rows[["id", "kind", "text"]].values.tolist() == [
        ["I3", "idea", "Meet in the evening"], ["I4", "idea", "Pay bus fares"], ["I5", "question", "Who decides the budget?"]]
    assert set(rows["raised_by"]) == {""}
    assert set(ideas_rows(ok(ideas="x", name_on_ideas=True), submission_id="V1", existing_ids=[],
                          today="2026-02-01")["raised_by"]) == {"Cara Diaz"}


def test_scores_get_one_random_respondent_code_and_no_name():
    rows = self_assessment_rows(ok(cycle="Cycle 1", scores={"equal": 4, "inclusive": 2}), existing_ids=["S1"])
    assert rows["id"].tolist() == ["S2", "S3"] and rows["score"].tolist() == [4, 2]
    assert rows["respondent"].nunique() == 1 and rows["respondent"].iloc[0].startswith("anon-")
    assert "Cara" not in rows.to_string()


def test_codes_are_random_and_receipts_survive_retyping():
    assert len({make_token() for _ in range(50)}) == 50 and len(make_token()) >= 21
    receipt = make_receipt()
    assert normalise_receipt(receipt.lower().replace("-", " ")) == receipt
    assert normalise_receipt("ABCD-EFGH-IJK0") == ""  # I and 0 are never in a receipt
