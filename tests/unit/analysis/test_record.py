"""Record figures checked against hand counts on a small project, and against the sample's CSVs read with ``csv``."""

from __future__ import annotations

import csv
import io
import json

import networkx as nx
import pandas as pd
import pytest

from coprod_map.analysis import record as rec
from coprod_map.model import Project, ProjectSettings, normalise_frame
from coprod_map.record import Record, normalise_record_frame

CYCLES = [{"name": "Cycle 1", "start": "2026-01-01", "end": "2026-03-31"},
          {"name": "Cycle 2", "start": "2026-04-01", "end": "2026-06-30"}]


def project() -> Project:
    return Project(
        stakeholders=normalise_frame("stakeholders", pd.DataFrame({
            "id": ["s1", "s2", "s3", "s4", "c1"], "name": ["Ann", "Bo", "Cy", "Di", "Library"],
            "kind": ["person", "person", "person", "person", "community_asset"],
            "experience": [["lived"], ["lived", "trained"], ["professional"], ["personal"], []],
            "affected": [3, 3, 1, 2, 0], "involvement": ["involved", "consulted", "involved", "informed", "informed"],
            "area": ["north", "south", "north", "south", ""]})),
        relationships=normalise_frame("relationships", pd.DataFrame({
            "id": ["r1", "r2", "r3"], "source": ["s1", "s2", "s1"], "target": ["s3", "s3", "s3"],
            "type": ["knows", "works with", "supports"]})),
        activities=normalise_frame("activities", pd.DataFrame({
            "id": ["a1", "a2"], "title": ["Workshop", "Meeting"], "date": ["2026-01-10", "2026-04-10"],
            "cycle": ["Cycle 1", "Cycle 2"]})),
        participation=normalise_frame("participation", pd.DataFrame({
            "stakeholder_id": ["s1", "s3", "s4", "s2", "s3"], "activity_id": ["a1", "a1", "a1", "a2", "a2"]})),
        settings=ProjectSettings(attributes={"area": ["north", "south"]}, cycles=CYCLES),
    )


def record() -> Record:
    frames = {
        "decisions": pd.DataFrame({
            "id": ["D1", "D2", "D3", "D4"], "date": ["2026-01-15", "2026-02-01", "2026-04-15", "2026-05-01"],
            "title": ["a", "b", "c", "d"], "made_by": [["s1", "s3"], ["s3"], ["s2", "s3"], []],
            "reported_back_on": ["2026-01-20", "", "", ""], "reported_how": ["", "", "letter", ""]}),
        "reciprocity": pd.DataFrame({
            "id": ["C1", "C2", "C3", "C4"], "stakeholder_id": ["s1", "s1", "s2", "s4"],
            "activity_id": ["a1", "a2", "a2", ""], "hours": [3.0, 2.0, 1.5, None],
            "returned_kind": ["voucher", "none", "expenses", ""], "value": [25.0, None, 6.5, None]}),
        "needs": pd.DataFrame({"id": ["N1", "N2", "N3"], "stakeholder_id": ["s1", "s2", "s1"],
                               "category": ["access", "travel", "timing"], "need": ["x", "y", "z"]}),
        "need_met": pd.DataFrame({"need_id": ["N1", "N3", "N2"], "activity_id": ["a1", "a1", "a2"],
                                  "met": ["yes", "no", "partly"]}),
        "actions": pd.DataFrame({
            "id": ["T1", "T2", "T3", "T4"], "cycle": ["Cycle 1", "Cycle 1", "Cycle 2", "Cycle 2"],
            "title": ["w", "x", "y", "z"], "status": ["done", "open", "doing", "dropped"],
            "due": ["2026-02-01", "2026-03-01", "2026-07-01", "2026-01-01"]}),
        "cycles": pd.DataFrame({"cycle": ["Cycle 1", "Cycle 2"], "good_looks_like": ["g", ""],
                                "done_looks_like": ["d", ""], "reflections": ["r", "r2"], "lessons": ["l", ""]}),
    }
    return Record(**{t: normalise_record_frame(t, f) for t, f in frames.items()})


def test_decision_power_by_hand():
    power = rec.decision_power(record(), project()).set_index("period")
    # All: D1..D3 say who made them; D1 (s1) and D3 (s2) include lived experience -> 2 of 3.
    # Participants s1, s3, s4, s2 -> lived s1, s2 -> 2 of 4.
    assert power.loc["All", ["decisions", "recorded", "with_lived", "participants", "lived_participants"]].tolist() == \
        [4, 3, 2, 4, 2]
    assert power.loc["All", "decision_share"] == pytest.approx(2 / 3)
    assert power.loc["All", "participation_share"] == pytest.approx(0.5)
    assert power.loc["All", "ratio"] == pytest.approx(4 / 3)
    # Cycle 1: D1, D2 -> 1 of 2; a1 participants s1, s3, s4 -> 1 of 3.
    assert power.loc["Cycle 1", "decision_share"] == pytest.approx(0.5)
    assert power.loc["Cycle 1", "participation_share"] == pytest.approx(1 / 3)
    # Cycle 2: D3 only is recorded (D4 names nobody) -> 1 of 1; a2: s2, s3 -> 1 of 2.
    assert power.loc["Cycle 2", ["decisions", "recorded"]].tolist() == [2, 1]
    assert power.loc["Cycle 2", "ratio"] == pytest.approx(2.0)


def test_reported_back_by_hand():
    table = rec.reported_back(record()).set_index("status")["decisions"]
    assert table.tolist() == [2, 2]  # D1 has a date, D3 says how
    assert rec.reported_back_rate(record()) == 0.5
    assert rec.reported_back_rate(Record()) is None


def test_reciprocity_per_person_and_group_by_hand():
    people = rec.reciprocity_by_person(record(), project()).set_index("stakeholder_id")
    assert people.loc["s1", ["contributions", "returned", "nothing_returned"]].tolist() == [2, 1, 1]
    assert people.loc["s1", "hours"] == 5.0 and people.loc["s1", "value"] == 25.0
    assert people.loc["s2", ["contributions", "nothing_returned"]].tolist() == [1, 0]
    assert people.loc["s4", "nothing_returned"] == 1  # a blank return counts as nothing
    kinds = rec.reciprocity_by_group(record(), project(), by="returned_kind").set_index("group")
    assert kinds["contributions"].to_dict() == {"expenses": 1, "none": 2, "voucher": 1}
    areas = rec.reciprocity_by_group(record(), project(), by="area").set_index("group")
    assert areas.loc["north", ["contributions", "people"]].tolist() == [2, 1]
    assert areas.loc["south", ["contributions", "people", "nothing_returned"]].tolist() == [2, 2, 1]
    assert areas.loc["south", "value"] == 6.5
    assert rec.unreturned_contributions(record(), project())["id"].tolist() == ["C2", "C4"]
    with pytest.raises(ValueError, match="not a stakeholder column"):
        rec.reciprocity_by_group(record(), project(), by="shoe size")


def test_needs_met_by_activity_person_and_group_by_hand():
    by_activity = rec.needs_by_activity(record(), project()).set_index("activity_id")
    assert by_activity.loc["a1", ["yes", "partly", "no", "total"]].tolist() == [1, 0, 1, 2]
    assert by_activity.loc["a2", ["yes", "partly", "no", "total"]].tolist() == [0, 1, 0, 1]
    by_person = rec.needs_by_person(record(), project()).set_index("stakeholder_id")
    assert by_person.loc["s1", ["needs", "yes", "no"]].tolist() == [2, 1, 1]
    assert by_person.loc["s2", ["needs", "partly"]].tolist() == [1, 1]
    gaps = pd.DataFrame({"attribute": ["area", "area"], "category": ["north", "south"], "gap": [0.1, -0.2],
                         "flag": ["within", "under"]})
    groups = rec.unmet_needs_by_group(record(), project(), by="area", gaps=gaps).set_index("category")
    assert groups.loc["north", ["people_with_needs", "people_unmet", "people_partly"]].tolist() == [1, 1, 0]
    assert groups.loc["south", ["people_with_needs", "people_unmet", "people_partly"]].tolist() == [1, 0, 1]
    assert groups.loc["south", "flag"] == "under"


def test_actions_per_status_and_overdue_by_hand():
    by_status = rec.actions_by_status(record()).set_index("cycle")
    assert by_status.loc["Cycle 1", ["open", "doing", "done", "dropped", "total"]].tolist() == [1, 0, 1, 0, 2]
    assert by_status.loc["Cycle 2", ["open", "doing", "done", "dropped", "total"]].tolist() == [0, 1, 0, 1, 2]
    # T2 (open, due 1 March) is late; T4 is dropped, T3 is due later, T1 is done.
    assert rec.overdue_actions(record(), today="2026-05-01")["id"].tolist() == ["T2"]
    overview = rec.cycle_overview(record(), project()).set_index("cycle")
    assert overview.loc["Cycle 1", "good_and_done_agreed"] and not overview.loc["Cycle 2", "good_and_done_agreed"]
    assert overview["actions_done"].tolist() == [1, 0]


def test_cycle_of_dates_uses_the_settings_dates():
    dates = pd.Series(["2026-03-31", "2026-04-01", "2027-01-01", ""])
    assert rec.cycle_of_dates(dates, CYCLES).tolist() == ["Cycle 1", "Cycle 2", "", ""]


def test_snapshots_round_trip_and_compare():
    p = project()
    rows = rec.snapshot_rows(p, cycle="Cycle 1", taken_at="2026-03-31")
    assert rows["kind"].tolist() == ["representation", "network"]
    net = rec.snapshot_table(rows.loc[1, "figures"], "network").set_index("figure")["value"]
    G = nx.Graph()
    G.add_nodes_from(p.stakeholders["id"])
    G.add_edges_from(zip(p.relationships["source"], p.relationships["target"], strict=True))
    assert net["ties"] == G.number_of_edges() == 2  # r1 and r3 join the same pair
    assert net["stakeholders"] == 5
    assert net["not connected to anyone"] == sum(1 for n in G if G.degree(n) == 0) == 2
    assert net["took part in this cycle"] == 3  # s1, s3, s4 at a1
    rep = rec.snapshot_table(rows.loc[0, "figures"], "representation")
    pd.testing.assert_frame_equal(rep, rec.representation_figures(p, cycle="Cycle 1"), check_dtype=False)
    then = pd.DataFrame({"figure": ["ties", "stakeholders"], "value": [3.0, 5.0]})
    now = pd.DataFrame({"figure": ["ties", "stakeholders"], "value": [5.0, 5.0]})
    change = rec.compare_snapshots(then, now, kind="network").set_index("figure")["change"]
    assert change.to_dict() == {"ties": 2.0, "stakeholders": 0.0}
    earlier = pd.DataFrame({"attribute": ["area"], "category": ["north"], "gap": [-0.2], "flag": ["under"]})
    later = pd.DataFrame({"attribute": ["area"], "category": ["north"], "gap": [-0.05], "flag": ["within"]})
    compared = rec.compare_snapshots(earlier, later, kind="representation")
    assert compared.loc[0, "change"] == pytest.approx(0.15) and compared.loc[0, "flag_then"] == "under"


# --- the sample, counted with the csv module -------------------------------------------------------

def _csv(name: str) -> list[dict[str, str]]:
    from coprod_map.sample import SAMPLE_DIR

    return list(csv.DictReader(io.StringIO((SAMPLE_DIR / name).read_bytes().decode("utf-8-sig"), newline="")))


def test_sample_figures_match_a_count_of_the_files(sample_project):
    from coprod_map.record_store import load_record

    store, pid = sample_project
    p, r = store.load(pid), load_record(store, pid)
    lived = {s["id"] for s in _csv("stakeholders.csv") if "lived" in s["experience"].split("|")}
    decisions = _csv("record/decisions.csv")
    with_lived = sum(bool(lived & set(d["made_by"].split("|"))) for d in decisions if d["made_by"])
    participants = {row["stakeholder_id"] for row in _csv("participation.csv")}
    power = rec.decision_power(r, p).set_index("period")
    assert power.loc["All", "with_lived"] == with_lived
    assert power.loc["All", "participation_share"] == pytest.approx(len(participants & lived) / len(participants))
    ledger = _csv("record/reciprocity.csv")
    nothing = sum(row["returned_kind"] in ("none", "") for row in ledger)
    assert len(rec.unreturned_contributions(r, p)) == nothing > 0
    met = _csv("record/need_met.csv")
    assert int(rec.needs_by_activity(r, p)["no"].sum()) == sum(row["met"] == "no" for row in met)
    assert json.loads(r.snapshots.loc[0, "figures"])  # the sample kept snapshots when it loaded
