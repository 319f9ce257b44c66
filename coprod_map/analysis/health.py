"""The ten-component health check: evidence drawn from the map and the record, beside self-assessment.

For each of the ten components (``coprod_map.components.COMPONENTS``, Co-Create's framework in our
own words) :func:`evidence_table` gives one short plain sentence and a rating. The rating is a rough
guide from what has been recorded, never a verdict: a project that records little shows
"no evidence yet", which is different from doing badly.

Ratings and their scores: ``strong evidence`` 3, ``some evidence`` 2, ``little evidence`` 1,
``no evidence yet`` 0. The thresholds are written beside each rule below.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import pandas as pd

from coprod_map.analysis import record as rec
from coprod_map.analysis import representation as rep
from coprod_map.analysis.network import cycle_ties_formed, text_values
from coprod_map.components import COMPONENTS
from coprod_map.model import Project
from coprod_map.record import Record, cycle_names

__all__ = ["RATINGS", "evidence_table", "health_table", "self_assessment_means"]

RATINGS: dict[int, str] = {3: "strong evidence", 2: "some evidence", 1: "little evidence", 0: "no evidence yet"}

Rule = Callable[[Project, Record], tuple[int, str]]


def _pct(x: float) -> str:
    return f"{round(100 * x)}%"


#: ``gap_table(by=..., mode=..., min_cell=...)``: ``representation.gap_table`` of the project with those arguments.
GapTable = Callable[..., pd.DataFrame]


def _flags(project: Project, prepared: rep.Participation | None, gap_table: GapTable | None) -> pd.Series:
    """The ``flag`` column of ``record.representation_figures(project, cycle=None, suppress=False)``.

    With ``prepared`` or ``gap_table`` the same gap tables are worked out one attribute at a time (what
    ``representation.gap_report`` does in one call, which cannot take either), so work done for another page
    or section serves here too."""
    if prepared is None and gap_table is None:
        return rec.representation_figures(project, cycle=None, suppress=False)["flag"]
    if gap_table is None:
        gap_table = partial(rep.gap_table, project, prepared=prepared)
    mode = "population" if len(project.reference) else "register"
    names = [a for a in rep.attribute_choices(project, mode=mode) if a not in rep.REGISTER_COLUMNS]
    try:
        tables = [gap_table(by=name, mode=mode, min_cell=int(project.settings.min_cell)) for name in names]
    except ValueError:
        return pd.Series([], dtype=object)
    if not tables:
        return pd.Series([], dtype=object)
    figures = pd.concat(tables, ignore_index=True)
    return figures.loc[figures["category"].astype(str) != "", "flag"]


def _inclusive(project: Project, record: Record, prepared: rep.Participation | None = None,
               gap_table: GapTable | None = None) -> tuple[int, str]:
    # strong: no group clearly under-involved; some: up to a quarter of compared groups; little: more.
    flags = _flags(project, prepared, gap_table)  # flags only, never shown as counts
    compared = flags.loc[flags.isin(["under", "within", "over"])]
    needs = len(record.needs)
    asked = f" {needs} stated needs are recorded." if needs else " No needs have been recorded yet."
    if not len(compared):
        return 0, "There is nothing to compare yet: no attributes with figures for who is affected." + asked
    under = int((compared == "under").sum())
    share = under / len(compared)
    score = 3 if under == 0 else 2 if share <= 0.25 else 1
    return score, f"{under} of {len(compared)} groups compared take part clearly less than expected." + asked


def _transparent(project: Project, record: Record) -> tuple[int, str]:
    # strong: 75%+ of decisions reported back and the changeables register used; some: 40%+ or either one.
    rate = rec.reported_back_rate(record)
    areas = len(record.changeables)
    if rate is None and not areas:
        return 0, "No decisions and nothing about what can and can't change have been recorded yet."
    decided = "No decisions are logged yet." if rate is None else (
        f"{round(rate * len(record.decisions))} of {len(record.decisions)} decisions ({_pct(rate)}) were reported back.")
    score = 3 if rate is not None and rate >= 0.75 and areas else 2 if (rate or 0) >= 0.4 or areas else 1
    return score, f"{decided} {areas} areas say what can and can't change."


def _equal(project: Project, record: Record) -> tuple[int, str]:
    # strong: 90%+ of contributions got something back and decision ratio 0.8+; some: 60%+ or ratio 0.5+.
    ledger = record.reciprocity
    # with no decisions the ratio has nothing to stand on (NA): skip the participation count (1 s at 1M records)
    power = rec.decision_power(record, project) if len(record.decisions) else pd.DataFrame()
    ratio = power["ratio"].iloc[0] if len(power) else pd.NA
    if not len(ledger) and (pd.isna(ratio)):
        return 0, "No contributions or decisions with who made them have been recorded yet."
    returned = None
    parts = []
    if len(ledger):
        returned = float((~ledger["returned_kind"].astype(str).isin(rec.NOTHING_RETURNED)).mean())
        parts.append(f"{_pct(returned)} of {len(ledger)} contributions got something back.")
    if not pd.isna(ratio):
        row = power.iloc[0]
        parts.append(f"People with lived experience took part in {_pct(float(row['decision_share']))} of decisions "
                     f"and make up {_pct(float(row['participation_share']))} of those taking part.")
    ratio = None if pd.isna(ratio) else float(ratio)
    strong = (returned or 0) >= 0.9 and (ratio or 0) >= 0.8
    some = (returned or 0) >= 0.6 or (ratio or 0) >= 0.5
    return (3 if strong else 2 if some else 1), " ".join(parts)


def _learning(project: Project, record: Record) -> tuple[int, str]:
    # share of the settings' cycles with both reflections and lessons: all = strong, half+ = some, any = little.
    names = cycle_names(project.settings)
    if not names:
        return 0, "No review cycles are set up yet (Project settings)."
    notes = record.cycles.set_index("cycle")
    both = sum(1 for n in names if n in notes.index and str(notes.at[n, "reflections"]).strip()
               and str(notes.at[n, "lessons"]).strip())
    share = both / len(names)
    score = 3 if share == 1 else 2 if share >= 0.5 else 1 if both else 0
    return score, f"{both} of {len(names)} review cycles have reflections and lessons written down."


def _action(project: Project, record: Record) -> tuple[int, str]:
    # strong: half the actions done and good/done agreed in two thirds of cycles; some: a quarter or a third.
    names = cycle_names(project.settings)
    notes = record.cycles.set_index("cycle")
    agreed = sum(1 for n in names if n in notes.index and str(notes.at[n, "good_looks_like"]).strip()
                 and str(notes.at[n, "done_looks_like"]).strip())
    actions = record.actions
    if not len(actions) and not agreed:
        return 0, "No actions and no agreed picture of good and done have been recorded yet."
    done = int((actions["status"] == "done").sum())
    d = done / len(actions) if len(actions) else 0.0
    g = agreed / len(names) if names else 0.0
    score = 3 if d >= 0.5 and g >= 2 / 3 else 2 if d >= 0.25 or g >= 1 / 3 else 1
    return score, (f"{done} of {len(actions)} actions are done; {agreed} of {len(names)} review cycles agreed "
                   "what good and done look like.")


def _human(project: Project, record: Record) -> tuple[int, str]:
    # strong: 10+ new ties between cycles, 3+ across roles or experience; some: any new tie; little: informal ties only.
    cycles = list(project.settings.cycles)
    formed = cycle_ties_formed(project, zip(cycles, cycles[1:], strict=False))  # tie_changes' "new" rows, counted
    new, across = sum(n for n, _ in formed), sum(a for _, a in formed)
    informal = int(project.relationships["type"].isin(["knows", "family or friend"]).sum())
    if not new and not informal:
        return 0, "No informal ties, and no ties formed between review cycles, are on the map yet."
    score = 3 if new >= 10 and across >= 3 else 2 if new else 1
    return score, (f"{new} ties formed between review cycles ({across} between people with different roles or "
                   f"experience); {informal} informal ties are mapped.")


def _in_context(project: Project, record: Record) -> tuple[int, str]:
    # share of mapped community assets that took part or are consulted or more: half+ strong, any some.
    s = project.stakeholders
    assets = s.loc[s["kind"] == "community_asset", "id"].astype(str)
    if not len(assets):
        return 0, "No community assets (places, groups the community already has) are on the map yet."
    took_part = pd.unique(text_values(project.participation["stakeholder_id"]))
    rung = s.loc[s["kind"] == "community_asset", "involvement"].isin(["consulted", "involved", "co_designing",
                                                                       "co_producing"]).to_numpy()
    involved = int((assets.astype(object).isin(took_part).to_numpy() | rung).sum())
    share = involved / len(assets)
    score = 3 if share >= 0.5 else 2 if involved else 1
    return score, f"{involved} of {len(assets)} community assets on the map are involved in the work."


def _appreciative(project: Project, record: Record) -> tuple[int, str]:
    # decisions that say what input shaped them: 75%+ strong, 40%+ some, any little.
    d = record.decisions
    if not len(d):
        return 0, "No decisions are logged yet, so nothing shows what people's input built on."
    shaped = int((d["input_from"].astype(str).str.strip() != "").sum())
    share = shaped / len(d)
    score = 3 if share >= 0.75 else 2 if share >= 0.4 else 1 if shaped else 0
    return score, f"{shaped} of {len(d)} decisions record what people's input shaped them."


def _creative(project: Project, record: Record) -> tuple[int, str]:
    # actions drawn from a gap or a missing group: half+ (and 3+) strong, any some.
    a = record.actions
    if not len(a):
        return 0, "No actions are recorded yet, so no new ideas from the gaps show in the record."
    from_gap = int((a["from_gap"].astype(str).str.strip() != "").sum())
    score = 3 if from_gap >= 3 and from_gap / len(a) >= 0.5 else 2 if from_gap else 1
    return score, f"{from_gap} of {len(a)} actions answer a gap or a missing group someone raised."


def _open(project: Project, record: Record) -> tuple[int, str]:
    # cycles with both snapshots kept: all = strong, any = some.
    names = cycle_names(project.settings)
    if not names:
        return 0, "No review cycles are set up yet, so no snapshots can be kept."
    kinds = record.snapshots.groupby("cycle")["kind"].nunique()
    kept = sum(1 for n in names if kinds.get(n, 0) >= 2)
    score = 3 if kept == len(names) else 2 if kept else 0
    return score, (f"{kept} of {len(names)} review cycles kept a snapshot of the figures, so the early, messy "
                   "picture stays on record.")


_RULES: dict[str, Rule] = {
    "equal": _equal, "inclusive": _inclusive, "open": _open, "human": _human, "transparent": _transparent,
    "action_focused": _action, "creative": _creative, "appreciative": _appreciative, "in_context": _in_context,
    "learning_cycles": _learning,
}


def evidence_table(project: Project, record: Record, *, prepared: rep.Participation | None = None,
                   gap_table: GapTable | None = None) -> pd.DataFrame:
    """One row per component, in the framework's order: ``component``, ``name``, ``score`` (0-3),
    ``rating`` and ``evidence`` (a plain sentence).

    Work the caller may already have (the table is the same either way): ``prepared``, the project's
    ``representation.prepare_participation``; ``gap_table``, a (cached) :data:`GapTable`."""
    rules = {**_RULES, "inclusive": partial(_inclusive, prepared=prepared, gap_table=gap_table)}
    rows = []
    for item in COMPONENTS:
        score, sentence = rules[item.key](project, record)
        rows.append({"component": item.key, "name": item.name, "score": int(score), "rating": RATINGS[int(score)],
                     "evidence": sentence})
    return pd.DataFrame(rows, columns=["component", "name", "score", "rating", "evidence"])


def self_assessment_means(record: Record) -> pd.DataFrame:
    """Mean self-assessment score (1-5) and number of responses per cycle and component."""
    s = record.self_assessment
    if not len(s):
        return pd.DataFrame({"cycle": pd.Series([], dtype=object), "component": pd.Series([], dtype=object),
                             "mean_score": pd.Series([], dtype="Float64"), "responses": pd.Series([], dtype=int)})
    scores = s.assign(score=s["score"].astype("Float64"))
    out = scores.groupby(["cycle", "component"], sort=False).agg(
        mean_score=("score", "mean"), responses=("score", "count")).reset_index()
    out["mean_score"] = out["mean_score"].astype("Float64").round(2)
    return out


def health_table(project: Project, record: Record, *, prepared: rep.Participation | None = None,
                 gap_table: GapTable | None = None) -> pd.DataFrame:
    """:func:`evidence_table` with one column of mean self-assessment score per review cycle
    (``self-assessment: <cycle>``), cycles in settings order. ``prepared``, ``gap_table``: as for
    :func:`evidence_table`."""
    evidence = evidence_table(project, record, prepared=prepared, gap_table=gap_table)
    means = self_assessment_means(record)
    if not len(means):
        return evidence
    wide = means.pivot(index="component", columns="cycle", values="mean_score")
    order = [c for c in cycle_names(project.settings) if c in wide.columns]
    order += [c for c in wide.columns if c not in order]
    wide = wide[order]
    wide.columns = [f"self-assessment: {c}" for c in wide.columns]
    return evidence.merge(wide.reset_index(), on="component", how="left")
