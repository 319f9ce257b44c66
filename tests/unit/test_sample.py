"""The Riverside sample: rebuilt byte for byte, realistic in size, with the gaps it is meant to show.

Figures here are counted by hand from the CSV files with the standard ``csv`` module, not with the
app's readers or analysis, so they check those independently.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from coprod_map.model import EXPERIENCES, KINDS, NOT_RECORDED, PREFER_NOT_TO_SAY
from coprod_map.sample import SAMPLE_DIR, SAMPLE_NAME, load_sample, sample_files

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "sample_data" / "build_sample.py"
TABLE_FILES = ["stakeholders.csv", "relationships.csv", "activities.csv", "participation.csv", "reference.csv"]
RECORD_FILES = ["decisions", "changeables", "reciprocity", "needs", "need_met", "cycles", "actions", "self_assessment"]


def rows(name: str) -> list[dict[str, str]]:
    text = (SAMPLE_DIR / name).read_bytes().decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text, newline="")))


def settings() -> dict:
    return json.loads((SAMPLE_DIR / "settings.json").read_text(encoding="utf-8"))


def files_in(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


# --- the build is deterministic ------------------------------------------------------------------

def test_build_script_is_deterministic_and_matches_the_committed_files(tmp_path):
    """Run the real script into a folder, and its ``write`` in-process into another: same bytes, same as committed."""
    first, second = tmp_path / "one", tmp_path / "two"
    subprocess.run([sys.executable, str(SCRIPT), "--out", str(first)], check=True, capture_output=True, timeout=60)
    spec = importlib.util.spec_from_file_location("build_sample_under_test", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.write(second)
    built = files_in(first)
    assert sorted(built) == sorted([*TABLE_FILES, "settings.json"])
    assert built == files_in(second)
    assert built == files_in(SAMPLE_DIR), "sample_data/riverside is stale: run python sample_data/build_sample.py"
    record = files_in(first / "record")
    assert sorted(record) == sorted(f"{t}.csv" for t in RECORD_FILES)
    assert record == files_in(second / "record") == files_in(SAMPLE_DIR / "record")


def test_sample_files_are_the_committed_files():
    files = dict(sample_files())
    assert files == files_in(SAMPLE_DIR)
    assert sum(len(data) for data in files.values()) < 200_000  # small enough to commit


# --- size and variety ------------------------------------------------------------------------------

def test_counts_are_in_the_promised_ranges():
    assert 60 <= len(rows("stakeholders.csv")) <= 100
    assert 150 <= len(rows("relationships.csv")) <= 250
    assert 10 <= len(rows("activities.csv")) <= 14
    assert len(rows("participation.csv")) >= 100
    assert [c["name"] for c in settings()["cycles"]] == ["Cycle 1", "Cycle 2", "Cycle 3"]


def test_every_kind_experience_and_several_relationship_types_are_present():
    people = rows("stakeholders.csv")
    assert {p["kind"] for p in people} == set(KINDS)
    assert {e for p in people for e in p["experience"].split("|") if e} == set(EXPERIENCES)
    types = Counter(r["type"] for r in rows("relationships.csv"))
    assert len(types) >= 5 and all(t in settings()["relationship_types"] for t in types)
    names = {p["name"] for p in people}
    assert {"Riverside Central Mosque", "Eastfield Youth Club", "Riverside Central Library"} <= names


def test_attributes_mix_blanks_not_recorded_and_prefer_not_to_say():
    people = [p for p in rows("stakeholders.csv") if p["kind"] == "person"]
    for attribute in ("age_band", "gender", "ethnicity", "disability", "area"):
        values = {p[attribute] for p in people}
        allowed = set(settings()["attributes"][attribute]) | {NOT_RECORDED, PREFER_NOT_TO_SAY}
        assert values <= allowed, attribute
    all_values = [p[a] for p in people for a in ("age_band", "gender", "ethnicity", "disability", "area")]
    assert NOT_RECORDED in all_values and PREFER_NOT_TO_SAY in all_values


def test_someone_speaks_for_young_people_as_a_proxy_without_young_people_involved():
    people = rows("stakeholders.csv")
    proxies = [p for p in people if "young people" in p["speaks_for"].split("|") and p["speaks_basis"] == "proxy"]
    assert any("service manager" in p["roles"].split("|") for p in proxies)
    young = [p for p in people if "young person" in p["roles"].split("|")]
    assert young and all(p["involvement"] in ("not_involved", "informed") for p in young)


def test_activity_dates_fall_inside_their_review_cycle():
    cycles = {c["name"]: c for c in settings()["cycles"]}
    for activity in rows("activities.csv"):
        cycle = cycles[activity["cycle"]]
        assert cycle["start"] <= activity["date"] <= cycle["end"], activity["id"]
        assert "2025-01-01" <= activity["date"] <= "2026-12-31"


def test_every_reference_points_to_a_row_that_exists():
    ids = {p["id"] for p in rows("stakeholders.csv")}
    activities = {a["id"] for a in rows("activities.csv")}
    assert all(r["source"] in ids and r["target"] in ids for r in rows("relationships.csv"))
    assert all(p["stakeholder_id"] in ids and p["activity_id"] in activities for p in rows("participation.csv"))


# --- the gaps are visible ------------------------------------------------------------------------

def participants_by_cycle() -> dict[str, set[str]]:
    cycle_of = {a["id"]: a["cycle"] for a in rows("activities.csv")}
    out: dict[str, set[str]] = {}
    for p in rows("participation.csv"):
        out.setdefault(cycle_of[p["activity_id"]], set()).add(p["stakeholder_id"])
    return out


def reference_share(attribute: str, category: str) -> float:
    counts = {r["category"]: int(r["count"]) for r in rows("reference.csv") if r["attribute"] == attribute}
    return counts[category] / sum(counts.values())


def participant_share(attribute: str, category: str) -> float:
    people = {p["id"]: p for p in rows("stakeholders.csv")}
    everyone = set().union(*participants_by_cycle().values())
    return sum(people[i][attribute] == category for i in everyone) / len(everyone)


@pytest.mark.parametrize("attribute,category", [("age_band", "16-24"), ("area", "Eastfield"),
                                                ("ethnicity", "Asian or Asian British"),
                                                ("ethnicity", "Black or Black British")])
def test_under_involved_groups_are_well_below_their_share_of_the_population(attribute, category):
    """Hand count: e.g. 16-24 year olds are 6,200 of 42,000 people (14.8 %) but a few % of participants."""
    assert participant_share(attribute, category) < 0.6 * reference_share(attribute, category)


def test_young_people_share_by_hand():
    assert reference_share("age_band", "16-24") == pytest.approx(6200 / 42000)
    assert participant_share("age_band", "16-24") < 0.06


def test_involvement_of_missing_groups_improves_slightly_in_cycle_3():
    people = {p["id"]: p for p in rows("stakeholders.csv")}
    missing = {"Asian or Asian British", "Black or Black British", "Mixed or multiple"}

    def under_involved(ids: set[str]) -> int:
        return sum(people[i]["area"] == "Eastfield" or people[i]["ethnicity"] in missing
                   or people[i]["age_band"] == "16-24" for i in ids)

    by_cycle = participants_by_cycle()
    assert under_involved(by_cycle["Cycle 3"]) > under_involved(by_cycle["Cycle 2"])
    assert under_involved(by_cycle["Cycle 3"]) / len(by_cycle["Cycle 3"]) < 0.4  # still a gap


# --- loading into the store ------------------------------------------------------------------------

def test_load_sample_imports_everything_and_is_idempotent(store):
    from coprod_map.validate import check_project

    project_id = load_sample(store)
    assert load_sample(store) == project_id
    listing = store.list_projects()
    assert listing["name"].tolist() == [SAMPLE_NAME]
    project = store.load(project_id)
    for table in ("stakeholders", "relationships", "activities", "participation", "reference"):
        assert len(project.table(table)) == len(rows(f"{table}.csv")), table
    assert [c["name"] for c in project.settings.cycles] == ["Cycle 1", "Cycle 2", "Cycle 3"]
    assert project.settings.attributes["area"] == settings()["attributes"]["area"]
    assert check_project(project) == []
    people = project.stakeholders.set_index("id")
    assert people.loc["P001", "roles"][0] == "person with lived experience"


# --- the co-production record ----------------------------------------------------------------------

def test_record_points_only_at_rows_that_exist_and_has_three_cycles():
    ids = {p["id"] for p in rows("stakeholders.csv")}
    activities = {a["id"] for a in rows("activities.csv")}
    cycles = {c["name"] for c in settings()["cycles"]}
    assert all(set(d["made_by"].split("|")) <= ids for d in rows("record/decisions.csv"))
    assert all(r["stakeholder_id"] in ids and r["activity_id"] in activities | {""}
               for r in rows("record/reciprocity.csv"))
    needs = rows("record/needs.csv")
    assert all(n["stakeholder_id"] in ids for n in needs)
    assert {m["need_id"] for m in rows("record/need_met.csv")} <= {n["id"] for n in needs}
    assert {r["cycle"] for r in rows("record/cycles.csv")} == cycles
    assert {a["cycle"] for a in rows("record/actions.csv")} == cycles
    assert {s["cycle"] for s in rows("record/self_assessment.csv")} == cycles
    assert {n["private"] for n in needs} == {"yes", "no"}
    assert any(r["returned_kind"] == "none" for r in rows("record/reciprocity.csv"))


def test_load_sample_saves_the_record_and_keeps_snapshots_of_ended_cycles(store):
    from coprod_map.record_store import load_record

    record = load_record(store, load_sample(store))
    for table in RECORD_FILES:
        assert len(record.table(table)) == len(rows(f"record/{table}.csv")), table
    assert sorted(set(record.snapshots["cycle"])) == ["Cycle 1", "Cycle 2"]
