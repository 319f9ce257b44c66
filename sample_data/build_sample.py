"""Build the sample project: the redesign of Riverside's community mental-health service.

Riverside, its people, organisations and census figures are invented. The script is deterministic
(one seeded ``random.Random``, no clock, no network): running it twice writes the same bytes.

    .venv/bin/python sample_data/build_sample.py            # writes sample_data/riverside/
    .venv/bin/python sample_data/build_sample.py --out DIR  # writes somewhere else

The co-production record (decisions, contributions and returns, needs, review cycles, actions,
self-assessment) goes to ``record/`` inside the same folder, built by its own seeded generator so the
map's files never change when the record does. Snapshots are not written: the app takes them when it
loads the sample (``coprod_map.sample.load_sample_record``), from the analysis as it then stands.

The gaps are there on purpose, so that the app has something honest to show: young people,
some ethnic groups and people living in Eastfield are barely involved, a service manager speaks
for young people with no young person in the room, and involvement improves a little in cycle 3.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from coprod_map.io.export import csv_bytes, table_rows  # noqa: E402
from coprod_map.model import TABLES, ProjectSettings, normalise_frame  # noqa: E402

SEED = 20250601
OUT = Path(__file__).resolve().parent / "riverside"
SOURCE = "Riverside 2021 census (invented)"

AGE_BANDS = ["16-24", "25-34", "35-49", "50-64", "65+"]
GENDERS = ["woman", "man", "non-binary"]
ETHNICITIES = ["White British", "White other", "Asian or Asian British", "Black or Black British",
               "Mixed or multiple", "Other ethnic group"]
DISABILITY = ["yes", "no"]
AREAS = ["Riverside Central", "Northside", "Eastfield", "Westbank", "Hillcrest"]

SETTINGS = ProjectSettings(
    attributes={"age_band": AGE_BANDS, "gender": GENDERS, "ethnicity": ETHNICITIES,
                "disability": DISABILITY, "area": AREAS},
    cycles=[
        {"name": "Cycle 1", "start": "2025-01-01", "end": "2025-06-30"},
        {"name": "Cycle 2", "start": "2025-07-01", "end": "2025-12-31"},
        {"name": "Cycle 3", "start": "2026-01-01", "end": "2026-06-30"},
    ],
)

# Reference population, people aged 16 and over (invented figures that add up per attribute).
REFERENCE = {
    "age_band": {"16-24": 6200, "25-34": 7900, "35-49": 10300, "50-64": 9400, "65+": 8200},
    "gender": {"woman": 21500, "man": 20200, "non-binary": 300},
    "ethnicity": {"White British": 26100, "White other": 3800, "Asian or Asian British": 6300,
                  "Black or Black British": 3400, "Mixed or multiple": 1600, "Other ethnic group": 800},
    "disability": {"yes": 8400, "no": 33600},
    "area": {"Riverside Central": 9800, "Northside": 8600, "Eastfield": 9200, "Westbank": 7400, "Hillcrest": 7000},
}

FIRST = ["Amina", "Tom", "Grace", "Mohammed", "Olu", "Kasia", "Priya", "Liam", "Siobhan", "Yusuf", "Chen",
         "Fatima", "Daniel", "Marta", "Kwame", "Hannah", "Raj", "Aisha", "Pete", "Zofia", "Ifeoma", "Gareth",
         "Leila", "Sam", "Bogdan", "Nadia", "Jide", "Rosa", "Imran", "Eleanor", "Tariq", "Mei", "Callum",
         "Adaeze", "Harriet", "Sunita", "Jamal", "Wiktor", "Bethan", "Hamza", "Lucy", "Dev", "Ngozi", "Owen",
         "Farah", "Kofi", "Jess", "Anil", "Maryam", "Rhys", "Beata", "Sade", "Ali", "Megan", "Tunde", "Iris",
         "Asif", "Carys", "Emeka", "Shona", "Luca", "Noor", "Ruth", "Ewa", "Abdi", "Kerry", "Joon"]
LAST = ["Hassan", "Okafor", "Kowalski", "Patel", "Byrne", "Mensah", "Khan", "Evans", "Nowak", "Ahmed",
        "Wright", "Adeyemi", "Singh", "Campbell", "Zielinska", "Begum", "Murphy", "Osei", "Shah", "Hughes",
        "Wiśniewski", "Mahmood", "Clarke", "Nwosu", "Lewis", "Chowdhury", "Davies", "Farah", "Reid",
        "Kaur", "Ali", "Thomas", "Lin", "Bello", "O'Neill", "Rahman", "Jenkins", "Sesay", "Morgan", "Iqbal"]

# --- organisations, groups and community assets ----------------------------------------------
# (id, name, kind, roles, speaks_for, basis, influence, involvement, affected, notes)
ORGANISATIONS = [
    ("O01", "Riverside Community Mental Health Team", "organisation", ["NHS service"], [], "", 4,
     "co_designing", 2, "The service being redesigned."),
    ("O02", "Riverside and District NHS Foundation Trust", "organisation", ["provider"], [], "", 5,
     "involved", 1, ""),
    ("O03", "Riverside Integrated Care Board", "organisation", ["commissioner"], [], "", 5, "consulted", 0, ""),
    ("O04", "Riverside Borough Council Adult Social Care", "organisation", ["local authority"], [], "", 4,
     "consulted", 1, ""),
    ("O05", "Riverside Mind Matters", "organisation", ["voluntary organisation"],
     ["people with mental health problems"], "nominated", 2, "co_producing", 2, "Local mental-health charity."),
    ("O06", "Riverside Carers' Centre", "organisation", ["voluntary organisation"], ["carers"], "nominated", 2,
     "involved", 2, ""),
    ("O07", "Refugee Welcome Riverside", "organisation", ["voluntary organisation"],
     ["refugees and asylum seekers"], "proxy", 1, "informed", 2, "Staff and volunteers, few refugees on the board."),
    ("O08", "Eastfield Medical Practice", "organisation", ["GP practice"], [], "", 3, "informed", 1, ""),
    ("O09", "Riverside Housing Association", "organisation", ["housing"], [], "", 2, "informed", 1, ""),
    ("G01", "Riverside Hearing Voices Group", "group", ["peer support group"], ["people who hear voices"],
     "lived_experience", 1, "involved", 3, "Meets fortnightly at the library."),
    ("G02", "African Caribbean Elders' Circle", "group", ["community group"],
     ["Black African and Caribbean elders"], "lived_experience", 1, "informed", 2, ""),
    ("G03", "Riverside Polish Community Association", "group", ["community group"], ["Polish community"],
     "elected", 1, "informed", 1, ""),
    ("G04", "Rainbow Riverside", "group", ["community group"], ["LGBTQ+ people"], "lived_experience", 1,
     "consulted", 2, "LGBTQ+ social and support group."),
    ("G05", "Service User Reference Group", "group", ["co-production group"], ["people who use the service"],
     "elected", 2, "co_producing", 3, "Members elected by people who use the service."),
    ("G06", "Riverside Parents' Network", "group", ["community group"], ["parents"], "nominated", 1,
     "not_involved", 1, ""),
    ("C01", "Riverside Central Mosque", "community_asset", ["faith community"], ["Muslim community"],
     "nominated", 2, "informed", 1, ""),
    ("C02", "Eastfield Youth Club", "community_asset", ["youth service"], ["young people"], "proxy", 1,
     "consulted", 2, "Open four evenings a week."),
    ("C03", "Riverside Central Library", "community_asset", ["library", "meeting space"], [], "", 1,
     "involved", 0, "Hosts workshops free of charge."),
    ("C04", "St Anne's Church Hall and Food Bank", "community_asset", ["faith community", "food bank"], [], "",
     1, "informed", 1, ""),
    ("C05", "Westbank Community Garden", "community_asset", ["community space"], [], "", 0, "not_involved", 1, ""),
]

# --- people, by group -------------------------------------------------------------------------
# group -> (count, roles, experience, affected, influence range, involvement weights)
PEOPLE = {
    "lived": (22, ["person with lived experience"], ["lived"], 3, (0, 2),
              {"not_involved": 2, "informed": 4, "consulted": 6, "involved": 5, "co_designing": 3, "co_producing": 2}),
    "carer": (8, ["carer"], ["personal"], 2, (0, 1),
              {"informed": 3, "consulted": 3, "involved": 2, "co_designing": 1}),
    "young": (3, ["young person"], ["lived"], 3, (0, 0), {"not_involved": 1, "informed": 2}),
    "peer": (4, ["peer support worker"], ["lived", "trained"], 2, (2, 3),
             {"involved": 1, "co_designing": 2, "co_producing": 1}),
    "clinician": (9, [], ["professional", "trained"], 1, (3, 4),
                  {"consulted": 2, "involved": 4, "co_designing": 2}),
    "manager": (4, [], ["professional"], 1, (4, 5), {"involved": 2, "co_designing": 2}),
    "commissioner": (2, ["commissioner"], ["professional"], 0, (5, 5), {"consulted": 1, "involved": 1}),
    "voluntary": (6, [], ["professional", "personal"], 1, (1, 3), {"involved": 3, "co_designing": 1}),
    "leader": (5, [], ["personal"], 1, (2, 4), {"informed": 2, "consulted": 3}),
    "other": (2, [], ["professional"], 1, (1, 2), {"informed": 1, "consulted": 1}),
}

CLINICIAN_ROLES = ["consultant psychiatrist", "community psychiatric nurse", "community psychiatric nurse",
                   "community psychiatric nurse", "clinical psychologist", "occupational therapist", "GP", "GP",
                   "social worker"]
MANAGER_ROLES = ["service manager", "team leader", "operations director", "head of adult social care"]
VOLUNTARY_ROLES = [("support worker", "O05"), ("volunteer coordinator", "O05"), ("carers' advisor", "O06"),
                   ("caseworker", "O07"), ("youth worker", "C02"), ("librarian", "C03")]
LEADER_ROLES = [("imam", "C01"), ("chair", "G02"), ("chair", "G03"), ("ward councillor", "O04"),
                ("pastor", "C04")]
OTHER_ROLES = [("housing officer", "O09"), ("practice manager", "O08")]

# Representation weights per group (in ETHNICITIES / AREAS order). White British and the central
# areas are over-weighted among stakeholders: the gaps the sample is meant to show.
ETHNICITY_WEIGHTS = {"default": [80, 7, 6, 4, 2, 1], "leader": [20, 20, 30, 30, 0, 0]}
AREA_WEIGHTS = {"default": [34, 28, 6, 18, 14], "young": [0, 0, 100, 0, 0]}
AGE_WEIGHTS = {"default": [0, 20, 38, 30, 12], "lived": [4, 22, 34, 26, 14], "young": [100, 0, 0, 0, 0],
               "carer": [0, 5, 25, 35, 35]}


def _pick(rng: random.Random, options: list[str], weights: list[int]) -> str:
    return rng.choices(options, weights=weights, k=1)[0]


def _missing(rng: random.Random, value: str, *, prefer_not: float = 0.0) -> str:
    """Some answers were never asked ("not recorded"), some people chose not to say."""
    roll = rng.random()
    if roll < 0.06:
        return "not recorded"
    if roll < 0.06 + prefer_not:
        return "prefer not to say"
    return value


def build_stakeholders(rng: random.Random) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    names = [f"{first} {last}" for first in FIRST for last in LAST]
    rng.shuffle(names)
    rows, groups = [], {}
    number = 0
    for group, (count, roles, experience, affected, influence, involvement) in PEOPLE.items():
        for i in range(count):
            number += 1
            pid = f"P{number:03d}"
            groups.setdefault(group, []).append(pid)
            role = list(roles)
            if group == "clinician":
                role = [CLINICIAN_ROLES[i]]
            elif group == "manager":
                role = [MANAGER_ROLES[i]]
            elif group == "voluntary":
                role = [VOLUNTARY_ROLES[i][0]]
            elif group == "leader":
                role = [LEADER_ROLES[i][0]]
            elif group == "other":
                role = [OTHER_ROLES[i][0]]
            elif group == "lived" and i < 5:
                role = role + ["service user reference group member"]
            rows.append({
                "id": pid,
                "name": names[number],
                "kind": "person",
                "roles": role,
                "experience": list(experience),
                "affected": affected,
                "influence": rng.randint(*influence),
                "involvement": _pick(rng, list(involvement), list(involvement.values())),
                "speaks_for": [],
                "speaks_basis": "",
                "notes": "",
                "age_band": _missing(rng, _pick(rng, AGE_BANDS, AGE_WEIGHTS.get(group, AGE_WEIGHTS["default"]))),
                "gender": _missing(rng, _pick(rng, GENDERS, [55, 43, 2]), prefer_not=0.03),
                "ethnicity": _missing(rng, _pick(rng, ETHNICITIES,
                                                 ETHNICITY_WEIGHTS.get(group, ETHNICITY_WEIGHTS["default"])),
                                      prefer_not=0.05),
                "disability": _missing(rng, _pick(rng, DISABILITY, [55, 45] if group in ("lived", "peer") else [15, 85]),
                                       prefer_not=0.05),
                "area": _missing(rng, _pick(rng, AREAS, AREA_WEIGHTS.get(group, AREA_WEIGHTS["default"]))),
            })
    people = pd.DataFrame(rows)
    by_id = people.set_index("id")
    # Who speaks for whom, and on what basis. The service manager speaks for young people as a
    # proxy while no young person is more than informed: the gap the brief asks the app to reveal.
    speakers = {
        groups["manager"][0]: (["young people"], "proxy", "Speaks for young people at the steering group."),
        groups["voluntary"][4]: (["young people"], "proxy", ""),
        groups["leader"][0]: (["Muslim community"], "nominated", ""),
        groups["leader"][1]: (["Black African and Caribbean elders"], "elected", ""),
        groups["leader"][2]: (["Polish community"], "elected", ""),
        groups["leader"][3]: (["Eastfield residents"], "elected", ""),
        groups["clinician"][6]: (["Eastfield residents"], "proxy", "GP at Eastfield Medical Practice."),
        groups["voluntary"][3]: (["refugees and asylum seekers"], "proxy", ""),
        groups["lived"][0]: (["people who use the service"], "elected", "Chairs the reference group."),
        groups["lived"][1]: (["people who use the service", "people who hear voices"], "lived_experience", ""),
        groups["lived"][2]: (["people who hear voices"], "lived_experience", ""),
        groups["carer"][0]: (["carers"], "lived_experience", ""),
        groups["peer"][0]: (["people who use the service"], "lived_experience", ""),
    }
    for pid, (speaks, basis, note) in speakers.items():
        by_id.at[pid, "speaks_for"] = speaks
        by_id.at[pid, "speaks_basis"] = basis
        by_id.at[pid, "notes"] = note
    by_id.at[groups["lived"][0], "involvement"] = "co_producing"
    by_id.at[groups["young"][0], "notes"] = "Met once at the youth club; not yet invited to workshops."
    people = by_id.reset_index()

    orgs = pd.DataFrame([
        {"id": i, "name": n, "kind": k, "roles": r, "experience": [], "affected": a, "influence": inf,
         "involvement": inv, "speaks_for": s, "speaks_basis": b, "notes": note,
         **{attr: "" for attr in SETTINGS.attributes}}
        for i, n, k, r, s, b, inf, inv, a, note in ORGANISATIONS
    ])
    return pd.concat([people, orgs], ignore_index=True), groups


def build_relationships(rng: random.Random, groups: dict[str, list[str]]) -> pd.DataFrame:
    ties: dict[tuple[str, str, str], dict] = {}

    def tie(source: str, target: str, kind: str, direction: str, strength: float | None = None) -> None:
        if source == target or (source, target, kind) in ties or (target, source, kind) in ties:
            return
        if strength is None:
            strength = rng.choice([1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0])
        since = f"{rng.randint(2016, 2024)}-{rng.randint(1, 12):02d}-01" if rng.random() < 0.4 else ""
        ties[(source, target, kind)] = {"source": source, "target": target, "type": kind,
                                        "direction": direction, "strength": strength, "since": since}

    lived, carers, young = groups["lived"], groups["carer"], groups["young"]
    clinicians, managers, peers = groups["clinician"], groups["manager"], groups["peer"]
    staff = clinicians[:6] + managers[:2] + peers  # the community mental health team
    # Organisations and money.
    tie("O03", "O02", "commissions", "directed", 5.0)
    tie("O03", "O05", "funds", "directed", 3.0)
    tie("O03", "O06", "funds", "directed", 2.5)
    tie("O04", "O06", "funds", "directed", 2.0)
    tie("O04", "O07", "funds", "directed", 1.5)
    tie("O02", "O01", "works with", "directed", 5.0)
    tie("O01", "O05", "works with", "mutual", 3.5)
    tie("O01", "O08", "works with", "mutual", 3.0)
    tie("O01", "O04", "works with", "mutual", 3.5)
    tie("O05", "G01", "supports", "directed", 3.0)
    tie("C03", "G01", "supports", "directed", 2.0)
    tie("O05", "G05", "supports", "directed", 3.5)
    tie("O09", "O04", "works with", "mutual", 2.0)
    tie("C04", "O07", "works with", "mutual", 2.0)
    # Staff and their organisations.
    for pid in staff:
        tie(pid, "O01", "works with", "directed", 5.0)
    for pid in clinicians[6:8]:
        tie(pid, "O08", "works with", "directed", 5.0)
    tie(clinicians[8], "O04", "works with", "directed", 5.0)
    tie(managers[2], "O02", "works with", "directed", 5.0)
    tie(managers[3], "O04", "works with", "directed", 5.0)
    for pid in groups["commissioner"]:
        tie(pid, "O03", "works with", "directed", 5.0)
    for pid, (_, org) in zip(groups["voluntary"], VOLUNTARY_ROLES, strict=True):
        tie(pid, org, "works with", "directed", 5.0)
    for pid, (_, org) in zip(groups["leader"], LEADER_ROLES, strict=True):
        tie(pid, org, "represents", "directed", 4.0)
    for pid, (_, org) in zip(groups["other"], OTHER_ROLES, strict=True):
        tie(pid, org, "works with", "directed", 5.0)
    # The team works together; managers and commissioners talk.
    for i, a in enumerate(staff):
        for b in staff[i + 1:]:
            if rng.random() < 0.35:
                tie(a, b, "works with", "mutual")
    for a in managers:
        for b in groups["commissioner"]:
            tie(a, b, "knows", "mutual")
    # Care and support around people with lived experience.
    for pid in lived:
        for clinician in rng.sample(clinicians[:6], k=rng.randint(1, 2)):
            tie(clinician, pid, "supports", "directed")
        if rng.random() < 0.5:
            tie(rng.choice(peers), pid, "supports", "directed")
        if rng.random() < 0.3:
            tie(rng.choice(clinicians[6:8]), pid, "supports", "directed")
    for i, pid in enumerate(carers):
        tie(pid, lived[(i * 3) % len(lived)], "family or friend", "mutual", 5.0)
        tie(pid, "O06", "knows", "mutual")
    for pid in lived[:5]:
        tie(pid, "G05", "represents", "directed", 4.0)
    for pid in rng.sample(lived, k=7):
        tie("G01", pid, "supports", "directed")
    for _ in range(26):
        a, b = rng.sample(lived + carers, k=2)
        tie(a, b, "knows", "mutual")
    # Young people hang off the youth club and one GP, nowhere near the steering group.
    youth_worker = groups["voluntary"][4]
    for pid in young:
        tie(youth_worker, pid, "supports", "directed")
        tie("C02", pid, "supports", "directed", 3.0)
    tie(young[0], young[1], "knows", "mutual")
    tie(young[1], young[2], "knows", "mutual")
    tie(clinicians[6], young[2], "supports", "directed", 1.5)
    tie(managers[0], youth_worker, "knows", "mutual", 1.0)
    # Community leaders know a few people each, and each other a little.
    leaders = groups["leader"]
    for pid in leaders:
        for other in rng.sample(lived + carers, k=2):
            tie(pid, other, "knows", "mutual")
    for i, a in enumerate(leaders):
        for b in leaders[i + 1:]:
            if rng.random() < 0.4:
                tie(a, b, "knows", "mutual")
    tie(leaders[3], managers[3], "knows", "mutual")
    # Voluntary-sector workers and the people they support.
    for pid in groups["voluntary"][:4]:
        for other in rng.sample(lived + carers, k=3):
            tie(pid, other, "supports", "directed")
    frame = pd.DataFrame(list(ties.values()))
    frame.insert(0, "id", [f"R{i:03d}" for i in range(1, len(frame) + 1)])
    frame["until"] = ""
    frame["notes"] = ""
    return frame


# Twelve activities over three review cycles; the last is the first outreach to Eastfield.
ACTIVITIES = [
    ("A01", "Launch event: why the service is changing", "2025-02-12", "event", "Cycle 1",
     "Riverside Central Library"),
    ("A02", "Listening workshop: what works, what does not", "2025-03-05", "workshop", "Cycle 1",
     "Library community room"),
    ("A03", "Online survey about the current service", "2025-04-16", "survey", "Cycle 1", "Open for four weeks"),
    ("A04", "Steering group meeting 1", "2025-05-21", "meeting", "Cycle 1", "Trust headquarters"),
    ("A05", "Co-design workshop: the first appointment", "2025-08-13", "workshop", "Cycle 2",
     "Library community room"),
    ("A06", "Carers' evening", "2025-09-10", "meeting", "Cycle 2", "Riverside Carers' Centre"),
    ("A07", "Steering group meeting 2", "2025-10-22", "meeting", "Cycle 2", "Trust headquarters"),
    ("A08", "Co-design workshop: crisis support", "2025-11-19", "workshop", "Cycle 2", "Online and in person"),
    ("A09", "Review of who is missing, and why", "2026-01-21", "workshop", "Cycle 3", "Library community room"),
    ("A10", "Visit to Riverside Central Mosque", "2026-02-18", "visit", "Cycle 3", "After Friday prayers"),
    ("A11", "Steering group meeting 3", "2026-03-25", "meeting", "Cycle 3", "Riverside Central Library"),
    ("A12", "Drop-in at Eastfield Youth Club", "2026-04-22", "visit", "Cycle 3", "First session in Eastfield"),
]

# How likely each kind of stakeholder is to come to an activity (before the adjustments below).
BASE_RATE = {"lived": 0.38, "carer": 0.30, "young": 0.0, "peer": 0.7, "clinician": 0.45, "manager": 0.7,
             "commissioner": 0.4, "voluntary": 0.4, "leader": 0.12, "other": 0.12}
INVOLVEMENT_FACTOR = {"not_involved": 0.0, "informed": 0.25, "consulted": 0.7, "involved": 1.0,
                      "co_designing": 1.3, "co_producing": 1.6}
KIND_FACTOR = {"workshop": 1.0, "meeting": 0.6, "survey": 1.5, "event": 1.2, "visit": 0.4}
UNDER_INVOLVED_ETHNICITY = {"Asian or Asian British", "Black or Black British", "Mixed or multiple"}


def build_participation(rng: random.Random, stakeholders: pd.DataFrame, groups: dict[str, list[str]]) -> pd.DataFrame:
    group_of = {pid: group for group, ids in groups.items() for pid in ids}
    people = stakeholders[stakeholders["kind"] == "person"].set_index("id")
    rows = []
    for aid, title, _, kind, cycle, _ in ACTIVITIES:
        for pid, person in people.iterrows():
            group = group_of[pid]
            chance = BASE_RATE[group] * INVOLVEMENT_FACTOR[person["involvement"]] * KIND_FACTOR[kind]
            if title.startswith("Steering") and group in ("lived", "carer"):
                chance *= 0.4  # steering group seats are mostly held by staff
            # Cycle 3 follows the review of who is missing: the gaps narrow a little, no more.
            better = cycle == "Cycle 3"
            if person["area"] == "Eastfield":
                chance *= 0.5 if better else 0.25
            if person["ethnicity"] in UNDER_INVOLVED_ETHNICITY:
                chance *= 0.7 if better else 0.4
            if rng.random() < min(chance, 0.95):
                rows.append({"stakeholder_id": pid, "activity_id": aid, "notes": ""})
    # The mosque visit and the youth-club drop-in bring a few new faces (cycle 3 improves slightly).
    extra = [(groups["leader"][0], "A10", "Hosted the visit."),
             (groups["young"][0], "A12", "First young person to take part."),
             (groups["voluntary"][4], "A12", "Organised the drop-in."),
             (groups["manager"][0], "A12", "")]
    seen = {(r["stakeholder_id"], r["activity_id"]) for r in rows}
    rows += [{"stakeholder_id": p, "activity_id": a, "notes": n} for p, a, n in extra if (p, a) not in seen]
    return pd.DataFrame(rows)


def build_project() -> dict[str, pd.DataFrame]:
    rng = random.Random(SEED)
    stakeholders, groups = build_stakeholders(rng)
    relationships = build_relationships(rng, groups)
    activities = pd.DataFrame(ACTIVITIES, columns=["id", "title", "date", "kind", "cycle", "notes"])
    participation = build_participation(rng, stakeholders, groups)
    reference = pd.DataFrame([
        {"attribute": attribute, "category": category, "count": count, "share": None, "source": SOURCE}
        for attribute, counts in REFERENCE.items() for category, count in counts.items()
    ])
    frames = {"stakeholders": stakeholders, "relationships": relationships, "activities": activities,
              "participation": participation, "reference": reference}
    return {table: normalise_frame(table, frame) for table, frame in frames.items()}


# --- the co-production record (its own generator: the map's files above never change with it) ------

RECORD_SEED = SEED + 6

# (id, date, title, decision, reasons, made_by, input_from, reported_back_on, reported_how, area)
DECISIONS = [
    ("D1", "2025-02-26", "Hold workshops in the library, not at the Trust",
     "Workshops move to the Riverside Central Library community room.",
     "People said the Trust building feels clinical and is hard to reach by bus.",
     ["P047", "P038", "P001", "P034"], "Launch event comments (A01)", "2025-03-05", "Said at the listening workshop",
     "Where we meet"),
    ("D2", "2025-05-21", "Priorities for the redesign",
     "Three priorities: the first appointment, crisis support, and support for carers.",
     "The survey and the listening workshop put the same three at the top.",
     ["P047", "P048", "P051", "P038", "P039"], "Online survey (A03) and listening workshop (A02)", "2025-06-18",
     "Newsletter and the service user reference group", "What the service offers"),
    ("D3", "2025-05-21", "Pay people with lived experience for their time",
     "People with lived experience get a voucher for each workshop and their travel paid.",
     "Fair pay for expertise, and the cost of travel kept people away.",
     ["P047", "P051", "P001", "P023"], "Service user reference group", "2025-07-02", "Letter to every participant",
     "Money and pay"),
    ("D4", "2025-10-22", "New first-appointment letter",
     "The first-appointment letter is rewritten with the reference group, in plain words.",
     "People found the old letter frightening and unclear.", ["P047", "P040", "P002", "P003", "P034"],
     "Co-design workshop on the first appointment (A05)", "2025-11-05", "Shown at the crisis support workshop",
     "What the service offers"),
    ("D5", "2025-10-22", "Evening sessions for carers",
     "One evening session a month for carers, at the Carers' Centre.",
     "Carers said daytime meetings clash with work and caring.", ["P047", "P048", "P024"],
     "Carers' evening (A06)", "", "", "What the service offers"),
    ("D6", "2025-11-19", "Crisis line opening hours", "No change to crisis line hours this year.",
     "The budget is fixed until April 2026; to be looked at again then.", ["P049", "P051", "P052"],
     "", "", "", "Money and pay"),
    ("D7", "2026-01-21", "Go to where people are",
     "Visit the mosque and the Eastfield Youth Club instead of inviting people to the library.",
     "The review of who is missing showed young people and Eastfield residents barely take part.",
     ["P047", "P001", "P002", "P059", "P057"], "Review of who is missing (A09)", "2026-02-04",
     "Told at the mosque visit and by the youth worker", "Where we meet"),
    ("D8", "2026-03-25", "Young people's seat on the steering group",
     "One steering group seat is kept for a young person, with a youth worker to support them.",
     "Nobody under 25 takes part; a manager speaks for young people as a proxy.", ["P047", "P050", "P051", "P057"],
     "Steering group meeting 3 (A11)", "", "", "Who decides"),
]

CHANGEABLES = [
    ("W1", "Where we meet", "open", "Any accessible place in Riverside can host a session."),
    ("W2", "What the service offers", "open", "The redesign can change what the team offers and how."),
    ("W3", "Money and pay", "fixed", "The budget is set by the Integrated Care Board until April 2026."),
    ("W4", "Who decides", "open", "The steering group's membership can change."),
    ("W5", "Legal duties under the Mental Health Act", "out_of_scope", "Set by law, not by this project."),
    ("W6", "Staff pay and contracts", "out_of_scope", "Agreed nationally with the unions."),
]

CYCLE_NOTES = [
    ("Cycle 1", "People with lived experience help set the priorities.", "Three priorities agreed and reported back.",
     "Most people who came were already known to the service. The survey reached more people than the events.",
     "Meet outside clinical buildings; pay people for their time."),
    ("Cycle 2", "Two parts of the service designed together with people who use it.",
     "A new first-appointment letter and a carers' session in place.",
     "Carers came when the time suited them. Young people and Eastfield residents are still missing.",
     "Ask people when and where before fixing a date."),
    ("Cycle 3", "The groups missing so far start to take part.", "A young person sits on the steering group.",
     "The mosque visit and the youth-club drop-in brought new faces, but only a few.", ""),
]

# (id, cycle, title, owner, due, status, from_gap)
ACTIONS = [
    ("T1", "Cycle 1", "Book the library community room for every workshop", "Service manager", "2025-03-01", "done", ""),
    ("T2", "Cycle 1", "Set up vouchers and travel payments", "Commissioner", "2025-06-30", "done", ""),
    ("T3", "Cycle 2", "Rewrite the first-appointment letter with the reference group", "Team leader", "2025-10-31",
     "done", ""),
    ("T4", "Cycle 2", "Start monthly evening sessions for carers", "Carers' advisor", "2025-12-31", "doing",
     "Carers of working age"),
    ("T5", "Cycle 2", "Find out why Eastfield residents do not come", "Service manager", "2025-12-15", "done",
     "Eastfield residents"),
    ("T6", "Cycle 3", "Visit the mosque after Friday prayers", "Imam and service manager", "2026-02-28", "done",
     "Asian or Asian British residents"),
    ("T7", "Cycle 3", "Drop-in sessions at Eastfield Youth Club", "Youth worker", "2026-05-31", "doing",
     "Young people (16-24)"),
    ("T8", "Cycle 3", "Keep a steering group seat for a young person", "Chair of the steering group", "2026-04-30",
     "open", "Young people (16-24)"),
    ("T9", "Cycle 3", "Offer travel costs in advance to Eastfield residents", "Commissioner", "2026-03-31", "open",
     "Eastfield residents"),
    ("T10", "Cycle 3", "Translate the invitation into Polish and Urdu", "Volunteer coordinator", "2026-06-15",
     "dropped", "Polish community"),
]

# (stakeholder, need, category, adjustment, private)
NEEDS = [
    ("P001", "Hard of hearing", "access", "Hearing loop and a seat near the front", False),
    ("P002", "Anxious in large groups", "care", "A quiet room to step out to", True),
    ("P003", "Uses a wheelchair", "access", "Step-free venue", False),
    ("P005", "Cannot travel far", "travel", "Taxi paid both ways", True),
    ("P007", "Prefers papers in large print", "communication", "Large-print papers", False),
    ("P010", "Works shifts", "timing", "Evening or weekend sessions", True),
    ("P013", "First language is Urdu", "communication", "An interpreter", True),
    ("P016", "Needs a support worker present", "care", "Support worker invited too", True),
    ("P023", "Cares for her son in the daytime", "timing", "Evening sessions", True),
    ("P027", "No car and no direct bus from Eastfield", "travel", "Travel paid in advance", True),
    ("P031", "At college in the daytime", "timing", "After-college sessions", True),
    ("P032", "Does not use email", "communication", "Invitations by text message", True),
]


def build_record(stakeholders: pd.DataFrame, participation: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The sample's co-production record, consistent with the map (every id it names exists)."""
    from coprod_map.record import normalise_record_frame

    rng = random.Random(RECORD_SEED)
    activity = {a[0]: a for a in ACTIVITIES}
    cycle_of = {a[0]: a[4] for a in ACTIVITIES}
    lived_like = {pid for pid, exp in zip(stakeholders["id"], stakeholders["experience"], strict=True)
                  if "lived" in exp or "personal" in exp}
    lived_like = {p for p in lived_like if p < "P034"}  # people with lived experience and carers, not staff
    decisions = pd.DataFrame(DECISIONS, columns=["id", "date", "title", "decision", "reasons", "made_by", "input_from",
                                                 "reported_back_on", "reported_how", "area"])
    # Contributions and returns: people with lived experience and carers at workshops and meetings.
    # Vouchers start in cycle 2 (decision D3); before that, and for the survey, nothing came back.
    ledger = []
    for pid, aid in zip(participation["stakeholder_id"], participation["activity_id"], strict=True):
        if pid not in lived_like:
            continue
        _, title, date, kind, cycle, _ = activity[aid]
        if kind == "survey" and rng.random() < 0.7:
            continue
        hours = {"workshop": 3.0, "meeting": 2.0, "event": 2.0, "survey": 0.5, "visit": 1.5}[kind]
        if cycle == "Cycle 1" or kind == "survey":
            returned, detail, value = ("none", "", None) if rng.random() < 0.75 else (
                "feedback_on_influence", "Told what changed (D1)", None)
        elif rng.random() < 0.15:
            returned, detail, value = "expenses", "Bus fares", round(rng.choice([4.8, 6.5, 9.6]), 2)
        else:
            returned, detail, value = "voucher", "Shopping voucher", 25.0 if hours >= 3 else 15.0
        ledger.append({"stakeholder_id": pid, "activity_id": aid, "date": date,
                       "contributed": f"Took part in: {title}", "hours": hours, "returned_kind": returned,
                       "returned_detail": detail, "value": value})
    ledger += [
        {"stakeholder_id": "P001", "activity_id": "", "date": "2025-09-30", "contributed": "Chaired the reference group",
         "hours": 12.0, "returned_kind": "training", "returned_detail": "Chairing skills course", "value": None},
        {"stakeholder_id": "P002", "activity_id": "", "date": "2026-02-10",
         "contributed": "Reviewed the new first-appointment letter", "hours": 2.0, "returned_kind": "reference",
         "returned_detail": "Reference for a peer support job", "value": None},
    ]
    reciprocity = pd.DataFrame(ledger)
    reciprocity.insert(0, "id", [f"C{i}" for i in range(1, len(reciprocity) + 1)])
    needs = pd.DataFrame(NEEDS, columns=["stakeholder_id", "need", "category", "adjustment", "private"])
    needs.insert(0, "id", [f"N{i}" for i in range(1, len(needs) + 1)])
    # Was each need met at each activity the person came to? Travel and timing needs are met least.
    met_rows = []
    attended: dict[str, list[str]] = {}
    for pid, aid in zip(participation["stakeholder_id"], participation["activity_id"], strict=True):
        attended.setdefault(pid, []).append(aid)
    chance = {"access": 0.85, "communication": 0.7, "care": 0.75, "travel": 0.35, "timing": 0.4, "other": 0.6}
    for nid, pid, category in zip(needs["id"], needs["stakeholder_id"], needs["category"], strict=True):
        for aid in attended.get(pid, []):
            roll = rng.random()
            met = "yes" if roll < chance[category] else "partly" if roll < chance[category] + 0.2 else "no"
            met_rows.append({"need_id": nid, "activity_id": aid, "met": met})
    need_met = pd.DataFrame(met_rows, columns=["need_id", "activity_id", "met"])
    cycles = pd.DataFrame(CYCLE_NOTES, columns=["cycle", "good_looks_like", "done_looks_like", "reflections", "lessons"])
    actions = pd.DataFrame(ACTIONS, columns=["id", "cycle", "title", "owner", "due", "status", "from_gap"])
    # Self-assessment: five anonymous respondents score each component in each cycle, a little higher each time.
    from coprod_map.components import COMPONENTS

    scores = []
    for step, cycle in enumerate(["Cycle 1", "Cycle 2", "Cycle 3"]):
        for respondent in ("R1", "R2", "R3", "R4", "R5"):
            for component in COMPONENTS:
                base = {"equal": 2, "inclusive": 1, "transparent": 3}.get(component.key, 2)
                score = max(1, min(5, base + step // 2 + rng.choice([-1, 0, 0, 1])))
                scores.append({"cycle": cycle, "component": component.key, "score": score, "respondent": respondent})
    self_assessment = pd.DataFrame(scores)
    self_assessment.insert(0, "id", [f"S{i}" for i in range(1, len(self_assessment) + 1)])
    frames = {"decisions": decisions, "changeables": pd.DataFrame(CHANGEABLES, columns=["id", "area", "status", "why"]),
              "reciprocity": reciprocity, "needs": needs, "need_met": need_met, "cycles": cycles, "actions": actions,
              "self_assessment": self_assessment}
    del cycle_of
    return {table: normalise_record_frame(table, frame) for table, frame in frames.items()}


def record_files(project: dict[str, pd.DataFrame] | None = None) -> list[tuple[str, bytes]]:
    """The record as (``record/<table>.csv``, bytes); yes/no for the private flag."""
    from coprod_map.record import RECORD_TABLES, record_rows

    project = project or build_project()
    files = []
    for table, frame in build_record(project["stakeholders"], project["participation"]).items():
        rows = record_rows(table, frame)
        for column, kind in RECORD_TABLES[table].items():
            if kind == "bool":
                rows[column] = rows[column].map({True: "yes", False: "no"})
            elif kind in ("Int64", "Float64"):
                rows[column] = rows[column].map(lambda v: "" if v is None else f"{v:g}")
        numeric = [c for c, kind in RECORD_TABLES[table].items() if kind in ("Int64", "Float64")]
        files.append((f"record/{table}.csv", csv_bytes(rows, numeric)))
    return files


def sample_files() -> list[tuple[str, bytes]]:
    """The sample as (file name, bytes): one CSV per table and ``settings.json``."""
    files = []
    for table, frame in build_project().items():
        numeric = [c for c, kind in TABLES[table].items() if kind in ("Int64", "Float64")]
        files.append((f"{table}.csv", csv_bytes(table_rows(frame, table), numeric)))
    settings = json.dumps(SETTINGS.to_dict(), ensure_ascii=False, indent=2) + "\n"
    files.append(("settings.json", settings.encode("utf-8")))
    return files


def write(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    (out / "record").mkdir(exist_ok=True)
    written = []
    for name, data in [*sample_files(), *record_files()]:
        path = out / name
        path.write_bytes(data)
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the Riverside sample project as CSV files.")
    parser.add_argument("--out", type=Path, default=OUT, help=f"folder to write to (default: {OUT})")
    args = parser.parse_args(argv)
    for path in write(args.out):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
