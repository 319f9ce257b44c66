"""Deterministic synthetic projects for the benchmark suite (no real people: every value is made up).

``generate_project(n_people, n_records=...)`` builds a whole :class:`coprod_map.model.Project` with
numpy in well under a second per 100,000 stakeholders:

- stakeholders (mostly people, some groups, organisations and community assets) with five
  representation attributes (age band 7, gender 3, ethnicity 6, disability 3, area 20), a few
  "not recorded" / "prefer not to say" values, and blanks on non-people;
- about five relationships per stakeholder, with a heavy-tailed degree (a Chung-Lu style draw
  mixed with ties between neighbours in the same area, so there is some community structure);
- activities over 2024-2025 in quarterly review cycles;
- participation records (unique stakeholder/activity pairs), biased by attribute and heavy-tailed
  per person;
- a reference population table (shares per attribute and category).

Frames are in the model's canonical form (object columns of ``str``, lists as Python lists, nullable
``Int64``/``Float64``), so ``normalise_frame`` leaves them unchanged. ``write_bundle`` writes them as
our CSV bundle and ``attendance_csv`` renders the participation as an attendance list.
"""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import numpy as np
import pandas as pd

from coprod_map.model import (
    DEFAULT_ACTIVITY_KINDS,
    DEFAULT_RELATIONSHIP_TYPES,
    INVOLVEMENT_LEVELS,
    LIST_COLUMNS,
    NOT_RECORDED,
    PREFER_NOT_TO_SAY,
    TABLES,
    Project,
    ProjectSettings,
    join_list,
)

__all__ = ["ATTRIBUTES", "attendance_csv", "generate_project", "write_bundle"]

#: attribute -> (categories, population shares, participation propensity per category)
ATTRIBUTES: dict[str, tuple[list[str], list[float], list[float]]] = {
    "age_band": (
        ["16-24", "25-34", "35-44", "45-54", "55-64", "65-74", "75+"],
        [0.14, 0.17, 0.16, 0.17, 0.15, 0.12, 0.09],
        [0.45, 0.8, 1.0, 1.1, 1.25, 1.3, 0.9],
    ),
    "gender": (["woman", "man", "non-binary"], [0.51, 0.47, 0.02], [1.2, 0.8, 1.0]),
    "ethnicity": (
        ["White", "Asian", "Black", "Mixed", "Arab", "Other"],
        [0.78, 0.09, 0.05, 0.04, 0.02, 0.02],
        [1.1, 0.75, 0.6, 0.85, 0.7, 0.8],
    ),
    "disability": (["yes", "no", "not sure"], [0.22, 0.74, 0.04], [0.7, 1.05, 0.9]),
    "area": (
        [f"Ward {i:02d}" for i in range(1, 21)],
        list(np.full(20, 1 / 20)),
        list(np.linspace(1.6, 0.5, 20)),
    ),
}

_KINDS = np.array(["person", "group", "organisation", "community_asset"], dtype=object)
_KIND_P = [0.85, 0.05, 0.07, 0.03]
_ROLES = ["resident", "carer", "service user", "staff", "commissioner", "volunteer", "councillor"]
_EXPERIENCE = ["lived", "trained", "professional", "personal"]
_INVOLVEMENT = np.array(list(INVOLVEMENT_LEVELS), dtype=object)
_BASES = np.array(["lived_experience", "elected", "nominated", "proxy"], dtype=object)
_DIRECTIONS = np.array(["undirected", "directed", "mutual"], dtype=object)
_START = np.datetime64("2024-01-01")
_DAYS = 731  # 2024-01-01 .. 2025-12-31


def generate_project(
    n_people: int,
    *,
    n_records: int | None = None,
    edges_per_node: int = 5,
    seed: int = 0,
    name: str | None = None,
) -> Project:
    """A synthetic project of ``n_people`` stakeholders (see the module docstring).

    ``n_records`` participation records (default ``10 * n_people``, capped by what the activities
    allow); ``edges_per_node`` relationships per stakeholder on average. Same arguments, same project.

    >>> p = generate_project(200, n_records=1000)
    >>> p.counts()["stakeholders"], p.counts()["participation"]
    (200, 1000)
    """
    rng = np.random.default_rng(seed)
    n_records = 10 * n_people if n_records is None else n_records
    ids = np.array([f"s{i:06d}" for i in range(n_people)], dtype=object)
    stakeholders, codes = _stakeholders(rng, ids)
    relationships = _relationships(rng, ids, codes["area"], edges_per_node)
    activities = _activities(rng, max(48, n_records // 500))
    participation = _participation(rng, ids, codes, activities["id"].to_numpy(dtype=object), n_records)
    settings = ProjectSettings(
        attributes={attr: list(spec[0]) for attr, spec in ATTRIBUTES.items()},
        cycles=_cycles(),
    )
    return Project(
        stakeholders=stakeholders,
        relationships=relationships,
        activities=activities,
        participation=participation,
        reference=_reference(n_people),
        settings=settings,
        name=name or f"Synthetic {n_people:,}",
    )


# --- tables --------------------------------------------------------------------------------------

def _text(values) -> pd.Series:
    return pd.Series(np.asarray(values, dtype=object), dtype=object)


def _lists(rng: np.random.Generator, pool: list[str], n: int, p_any: float) -> pd.Series:
    """Lists of 0-2 items from ``pool`` (fresh list objects: callers may mutate them)."""
    has = rng.random(n) < p_any
    first = rng.integers(0, len(pool), n)
    second = rng.integers(0, len(pool), n)
    two = rng.random(n) < 0.3
    out = [
        ([pool[a], pool[b]] if t and a != b else [pool[a]]) if h else []
        for h, a, b, t in zip(has.tolist(), first.tolist(), second.tolist(), two.tolist(), strict=True)
    ]
    return pd.Series(out, dtype=object)


def _stakeholders(rng: np.random.Generator, ids: np.ndarray) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    n = len(ids)
    kind_codes = rng.choice(len(_KINDS), size=n, p=_KIND_P)
    person = kind_codes == 0
    frame = pd.DataFrame({"id": _text(ids)})
    frame["name"] = _text([f"{'Person' if k == 0 else _KINDS[k].replace('_', ' ').title()} {i:06d}"
                           for i, k in enumerate(kind_codes.tolist())])
    frame["kind"] = _text(_KINDS[kind_codes])
    frame["roles"] = _lists(rng, _ROLES, n, 0.6)
    frame["experience"] = _lists(rng, _EXPERIENCE, n, 0.7)
    frame["affected"] = pd.array(rng.choice(4, size=n, p=[0.2, 0.3, 0.3, 0.2]), dtype="Int64")
    frame["influence"] = pd.array(rng.choice(6, size=n, p=[0.3, 0.25, 0.2, 0.12, 0.08, 0.05]), dtype="Int64")
    frame["involvement"] = _text(_INVOLVEMENT[rng.choice(len(_INVOLVEMENT), size=n,
                                                         p=[0.35, 0.2, 0.2, 0.12, 0.08, 0.05])])
    speaks = rng.random(n) < 0.02
    groups = ids[kind_codes == 1]
    picks = rng.integers(0, max(len(groups), 1), n)
    frame["speaks_for"] = pd.Series(
        [[groups[g]] if s and len(groups) else [] for s, g in zip(speaks.tolist(), picks.tolist(), strict=True)],
        dtype=object)
    frame["speaks_basis"] = _text(np.where(speaks & (len(groups) > 0),
                                           _BASES[rng.integers(0, len(_BASES), n)], ""))
    frame["notes"] = _text(np.full(n, "", dtype=object))
    codes: dict[str, np.ndarray] = {}
    for attr, (cats, shares, _) in ATTRIBUTES.items():
        code = rng.choice(len(cats), size=n, p=np.asarray(shares) / np.sum(shares))
        labels = np.asarray(cats, dtype=object)[code]
        unknown = rng.random(n)
        labels = np.where(unknown < 0.02, NOT_RECORDED, labels)
        labels = np.where((unknown >= 0.02) & (unknown < 0.03), PREFER_NOT_TO_SAY, labels)
        code = np.where(unknown < 0.03, -1, code)
        frame[attr] = _text(np.where(person, labels, ""))
        codes[attr] = np.where(person, code, -1)
    codes["person"] = person
    return frame, codes


def _relationships(rng: np.random.Generator, ids: np.ndarray, area: np.ndarray, per_node: int) -> pd.DataFrame:
    """About ``per_node * n`` distinct ties: half to heavy-tailed hubs, half to neighbours by area."""
    n = len(ids)
    if n < 2:
        return _empty("relationships")
    m = per_node * n
    weight = rng.pareto(1.6, n) + 1.0
    hubs = rng.choice(n, size=m, p=weight / weight.sum())
    # neighbours: close in an ordering sorted by area, so ties cluster within areas (communities)
    order = np.argsort(np.where(area < 0, rng.integers(0, 20, n), area), kind="stable")
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    src = rng.integers(0, n, m)
    offset = rng.integers(1, 40, m) * rng.choice([-1, 1], m)
    local = order[np.clip(rank[src] + offset, 0, n - 1)]
    tgt = np.where(rng.random(m) < 0.5, hubs, local)
    keep = src != tgt
    src, tgt = src[keep], tgt[keep]
    lo, hi = np.minimum(src, tgt), np.maximum(src, tgt)
    _, first = np.unique(lo * n + hi, return_index=True)
    first.sort()
    src, tgt = src[first], tgt[first]
    k = len(src)
    frame = pd.DataFrame({"id": _text([f"r{i}" for i in range(1, k + 1)])})
    frame["source"] = _text(ids[src])
    frame["target"] = _text(ids[tgt])
    types = np.asarray(DEFAULT_RELATIONSHIP_TYPES, dtype=object)
    frame["type"] = _text(types[rng.integers(0, len(types), k)])
    frame["direction"] = _text(_DIRECTIONS[rng.choice(3, size=k, p=[0.7, 0.2, 0.1])])
    frame["strength"] = pd.array(rng.integers(1, 6, k).astype(float), dtype="Float64")
    since = (_START + rng.integers(0, _DAYS, k)).astype(str).astype(object)
    frame["since"] = _text(np.where(rng.random(k) < 0.3, since, ""))
    frame["until"] = _text(np.full(k, "", dtype=object))
    frame["notes"] = _text(np.full(k, "", dtype=object))
    return frame


def _cycles() -> list[dict[str, str]]:
    out = []
    for year in (2024, 2025):
        for q, (start, end) in enumerate((("01-01", "03-31"), ("04-01", "06-30"),
                                          ("07-01", "09-30"), ("10-01", "12-31")), start=1):
            out.append({"name": f"{year} Q{q}", "start": f"{year}-{start}", "end": f"{year}-{end}"})
    return out


def _activities(rng: np.random.Generator, n: int) -> pd.DataFrame:
    days = np.sort(rng.integers(0, _DAYS, n))
    dates = (_START + days).astype("datetime64[D]")
    text = dates.astype(str).astype(object)
    years = dates.astype("datetime64[Y]").astype(int) + 1970
    quarter = (dates.astype("datetime64[M]").astype(int) % 12) // 3 + 1
    kinds = np.asarray(DEFAULT_ACTIVITY_KINDS, dtype=object)[rng.integers(0, len(DEFAULT_ACTIVITY_KINDS), n)]
    frame = pd.DataFrame({"id": _text([f"a{i:05d}" for i in range(1, n + 1)])})
    frame["title"] = _text([f"{k.title()} {i:05d}" for i, k in enumerate(kinds.tolist(), start=1)])
    frame["date"] = _text(text)
    frame["kind"] = _text(kinds)
    frame["cycle"] = _text([f"{y} Q{q}" for y, q in zip(years.tolist(), quarter.tolist(), strict=True)])
    frame["notes"] = _text(np.full(n, "", dtype=object))
    return frame


def _participation(rng: np.random.Generator, ids: np.ndarray, codes: dict[str, np.ndarray],
                   activity_ids: np.ndarray, n_records: int) -> pd.DataFrame:
    """Unique (stakeholder, activity) pairs, biased by attribute, heavy-tailed per person."""
    n, n_act = len(ids), len(activity_ids)
    n_records = min(n_records, n * n_act // 2)
    if n_records <= 0 or n == 0:
        return _empty("participation")
    propensity = np.ones(n)
    for attr, (_, _, bias) in ATTRIBUTES.items():
        code = codes[attr]
        propensity *= np.where(code >= 0, np.asarray(bias)[np.maximum(code, 0)], 0.8)
    propensity = np.where(codes["person"], propensity, 1.5)
    # about 40% of stakeholders ever take part, the likely ones more often
    taking_part = rng.random(n) < np.clip(0.4 * propensity / propensity.mean(), 0, 0.95)
    people = np.flatnonzero(taking_part)
    if len(people) == 0:
        people = np.arange(n)
    activity = rng.pareto(1.2, len(people)) + 1.0  # heavy-tailed: a few people come to everything
    p = activity / activity.sum()
    keys = np.empty(0, dtype=np.int64)
    drawn = 0
    while len(keys) < n_records and drawn < 50 * n_records:
        batch = int((n_records - len(keys)) * 1.3) + 16
        person = people[rng.choice(len(people), size=batch, p=p)]
        act = rng.integers(0, n_act, batch)
        keys = np.concatenate([keys, person.astype(np.int64) * n_act + act])
        _, first = np.unique(keys, return_index=True)
        keys = keys[np.sort(first)]
        drawn += batch
    keys = keys[:n_records]
    person, act = keys // n_act, keys % n_act
    frame = pd.DataFrame({"stakeholder_id": _text(ids[person]), "activity_id": _text(activity_ids[act])})
    frame["notes"] = _text(np.full(len(frame), "", dtype=object))
    return frame


def _reference(n_people: int) -> pd.DataFrame:
    rows = []
    population = n_people * 40  # the area the work serves is larger than the map
    for attr, (cats, shares, _) in ATTRIBUTES.items():
        total = float(np.sum(shares))
        for cat, share in zip(cats, shares, strict=True):
            rows.append((attr, cat, int(round(population * share / total)), share / total, "synthetic census"))
    frame = pd.DataFrame(rows, columns=list(TABLES["reference"]))
    frame["count"] = frame["count"].astype("Int64")
    frame["share"] = frame["share"].astype("Float64")
    for col in ("attribute", "category", "source"):
        frame[col] = _text(frame[col].to_numpy(dtype=object))
    return frame


def _empty(table: str) -> pd.DataFrame:
    from coprod_map.model import empty_frame

    return empty_frame(table)


# --- files ---------------------------------------------------------------------------------------

def _file_frame(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for col in out.columns:
        if col in LIST_COLUMNS:
            out[col] = out[col].map(join_list)
    return out


def write_bundle(project: Project, folder: Path | str) -> dict[str, Path]:
    """Write the five tables as our CSV bundle (``stakeholders.csv`` ...); returns table -> path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for table in TABLES:
        path = folder / f"{table}.csv"
        _file_frame(project.table(table)).to_csv(path, index=False)
        paths[table] = path
    return paths


def attendance_csv(project: Project) -> bytes:
    """The participation records as an attendance list: ``person,event,date`` (names, not ids)."""
    names = project.stakeholders.set_index("id")["name"]
    acts = project.activities.set_index("id")
    part = project.participation
    frame = pd.DataFrame({
        "person": names.reindex(part["stakeholder_id"]).to_numpy(),
        "event": acts["title"].reindex(part["activity_id"]).to_numpy(),
        "date": acts["date"].reindex(part["activity_id"]).to_numpy(),
    })
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    return buffer.getvalue().encode("utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write a synthetic coprod_map project as CSV files.")
    parser.add_argument("people", type=int, help="number of stakeholders, e.g. 100000")
    parser.add_argument("out", type=Path, help="folder to write the CSV bundle (and attendance.csv) into")
    parser.add_argument("--records", type=int, default=None, help="participation records (default 10 per person)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    project = generate_project(args.people, n_records=args.records, seed=args.seed)
    paths = write_bundle(project, args.out)
    (args.out / "attendance.csv").write_bytes(attendance_csv(project))
    for table, path in paths.items():
        print(f"{table}: {len(project.table(table)):,} rows -> {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
