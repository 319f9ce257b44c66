"""Figures drawn from the co-production record: decision power, "you said, we did", reciprocity,
needs met, actions, and snapshots of the map's figures kept per review cycle.

Pure functions of a :class:`coprod_map.model.Project` and a :class:`coprod_map.record.Record`;
nothing here reads a database or imports Streamlit. Stakeholder ids a record row names but the map
no longer holds are kept and shown as "(no longer on the map)", never dropped silently.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import pandas as pd

from coprod_map.model import Project
from coprod_map.record import ACTION_STATUSES, MET, Record

__all__ = [
    "GONE",
    "NOTHING_RETURNED",
    "actions_by_status",
    "compare_snapshots",
    "cycle_of_dates",
    "cycle_overview",
    "decision_power",
    "decisions_with_people",
    "has_lived_experience",
    "needs_by_activity",
    "needs_by_person",
    "network_figures",
    "overdue_actions",
    "reciprocity_by_group",
    "reciprocity_by_person",
    "reported_back",
    "reported_back_rate",
    "representation_figures",
    "snapshot_rows",
    "snapshot_table",
    "unmet_needs_by_group",
    "unreturned_contributions",
]

GONE = "(no longer on the map)"
#: Returned kinds that mean nothing came back.
NOTHING_RETURNED = ("none", "")
ALL = "All"


# --- helpers ------------------------------------------------------------------------------------

def has_lived_experience(stakeholders: pd.DataFrame) -> pd.Series:
    """Per stakeholder (indexed by id): True when ``experience`` lists ``lived``."""
    lived = stakeholders["experience"].map(lambda v: "lived" in (v if isinstance(v, list) else []))
    return pd.Series(lived.to_numpy(dtype=bool), index=stakeholders["id"].astype(str).to_numpy())


def _names(project: Project) -> pd.Series:
    s = project.stakeholders
    return pd.Series(s["name"].astype(str).to_numpy(), index=s["id"].astype(str).to_numpy())


def cycle_of_dates(dates: pd.Series, cycles: Sequence[dict]) -> pd.Series:
    """The review cycle each ISO date falls in (first matching cycle; ``""`` when none or blank).

    >>> cycle_of_dates(pd.Series(["2025-02-01", "2025-08-01", ""]),
    ...                [{"name": "C1", "start": "2025-01-01", "end": "2025-06-30"}]).tolist()
    ['C1', '', '']
    """
    dates = dates.astype(str)
    out = pd.Series("", index=dates.index, dtype=object)
    for cycle in reversed(list(cycles)):  # reversed: the first listed cycle wins where they overlap
        start, end = str(cycle.get("start", "")), str(cycle.get("end", ""))
        inside = dates != ""
        if start:
            inside &= dates >= start
        if end:
            inside &= dates <= end
        if start or end:
            out[inside] = str(cycle.get("name", ""))
    return out


# --- decisions ----------------------------------------------------------------------------------

def decisions_with_people(record: Record, project: Project) -> pd.DataFrame:
    """Each decision with who took part (names), whether someone with lived experience did, its cycle,
    and whether it was reported back. Columns: ``id``, ``date``, ``cycle``, ``title``, ``made_by_names``,
    ``people``, ``lived_present``, ``reported_back``."""
    d = record.decisions
    lived = has_lived_experience(project.stakeholders)
    names = _names(project)
    made_by = d["made_by"].map(lambda v: list(v) if isinstance(v, list) else [])
    return pd.DataFrame({
        "id": d["id"].astype(object),
        "date": d["date"].astype(object),
        "cycle": cycle_of_dates(d["date"], project.settings.cycles).to_numpy(),
        "title": d["title"].astype(object),
        "made_by_names": made_by.map(lambda ids: "; ".join(str(names.get(i, GONE)) for i in ids)).astype(object),
        "people": made_by.map(len).astype(int),
        "lived_present": made_by.map(lambda ids: any(bool(lived.get(i, False)) for i in ids)).astype(bool),
        "reported_back": _is_reported(d).to_numpy(),
    })


def _is_reported(decisions: pd.DataFrame) -> pd.Series:
    return (decisions["reported_back_on"].astype(str).str.strip() != "") | (
        decisions["reported_how"].astype(str).str.strip() != "")


def decision_power(record: Record, project: Project) -> pd.DataFrame:
    """How often people with lived experience take part in decisions, against how often they take part at all.

    One row for all decisions (``period`` "All") and one per review cycle that has decisions or
    activities. ``decisions``: decisions in the period; ``recorded``: those that say who made them;
    ``with_lived``: of those, decisions at least one person with lived experience took part in;
    ``decision_share`` = with_lived / recorded. ``participants``: distinct stakeholders who took part in
    an activity in the period; ``lived_participants``: of those, with lived experience;
    ``participation_share`` = lived_participants / participants. ``ratio`` = decision_share /
    participation_share (1 = as often in decisions as in activities; below 1 = less).
    """
    table = decisions_with_people(record, project)
    lived = has_lived_experience(project.stakeholders)
    part = project.participation[["stakeholder_id", "activity_id"]].astype(str)
    activity_cycle = pd.Series(project.activities["cycle"].astype(str).to_numpy(),
                               index=project.activities["id"].astype(str).to_numpy())
    part = part.assign(cycle=part["activity_id"].map(activity_cycle).fillna(""))
    names = [c.get("name", "") for c in project.settings.cycles]
    periods = [ALL] + [c for c in dict.fromkeys([*names, *sorted(set(table["cycle"]) | set(part["cycle"]))]) if c]
    rows = []
    for period in periods:
        dec = table if period == ALL else table.loc[table["cycle"] == period]
        who = part if period == ALL else part.loc[part["cycle"] == period]
        if period != ALL and not len(dec) and not len(who):
            continue
        recorded = dec.loc[dec["people"] > 0]
        people = pd.Index(who["stakeholder_id"].unique())
        lived_people = int(lived.reindex(people).fillna(False).astype(bool).sum())
        rows.append({"period": period, "decisions": len(dec), "recorded": len(recorded),
                     "with_lived": int(recorded["lived_present"].sum()), "participants": len(people),
                     "lived_participants": lived_people})
    out = pd.DataFrame(rows, columns=["period", "decisions", "recorded", "with_lived", "participants",
                                      "lived_participants"])
    out["decision_share"] = _share(out["with_lived"], out["recorded"])
    out["participation_share"] = _share(out["lived_participants"], out["participants"])
    out["ratio"] = _share(out["decision_share"], out["participation_share"])
    return out


def _share(part: pd.Series, whole: pd.Series) -> pd.Series:
    part, whole = part.astype("Float64"), whole.astype("Float64")
    return (part / whole.where(whole > 0)).astype("Float64")


def reported_back(record: Record) -> pd.DataFrame:
    """"You said, we did": decisions reported back to participants and the community, and not yet."""
    reported = int(_is_reported(record.decisions).sum())
    return pd.DataFrame({"status": ["Reported back", "Not yet reported back"],
                         "decisions": [reported, len(record.decisions) - reported]})


def reported_back_rate(record: Record) -> float | None:
    """Share of decisions reported back (``None`` when there are no decisions)."""
    if not len(record.decisions):
        return None
    return float(_is_reported(record.decisions).mean())


# --- reciprocity --------------------------------------------------------------------------------

def _ledger(record: Record, project: Project) -> pd.DataFrame:
    r = record.reciprocity
    kind = r["returned_kind"].astype(str).str.strip()
    return r.assign(name=r["stakeholder_id"].astype(str).map(_names(project)).fillna(GONE).astype(object),
                    nothing=kind.isin(NOTHING_RETURNED).to_numpy(),
                    hours=r["hours"].astype("Float64"), value=r["value"].astype("Float64"))


def reciprocity_by_person(record: Record, project: Project) -> pd.DataFrame:
    """Per person: ``contributions``, ``hours``, ``value`` (money returned), ``returned`` (contributions
    with something back), ``nothing_returned``. Most unreturned first."""
    ledger = _ledger(record, project)
    columns = ["stakeholder_id", "name", "contributions", "hours", "value", "returned", "nothing_returned"]
    if not len(ledger):
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in columns})
    grouped = ledger.groupby(["stakeholder_id", "name"], sort=True).agg(
        contributions=("id", "size"), hours=("hours", "sum"), value=("value", "sum"),
        nothing_returned=("nothing", "sum"))
    grouped["returned"] = grouped["contributions"] - grouped["nothing_returned"]
    out = grouped.reset_index()[columns]
    out[["hours", "value"]] = out[["hours", "value"]].astype("Float64")
    return out.sort_values(["nothing_returned", "contributions"], ascending=False, kind="stable").reset_index(drop=True)


def reciprocity_by_group(record: Record, project: Project, *, by: str) -> pd.DataFrame:
    """Totals per group: ``by`` is ``returned_kind``, ``kind`` or a stakeholder attribute column.

    Columns: ``group``, ``contributions``, ``people``, ``hours``, ``value``, ``nothing_returned``.
    """
    ledger = _ledger(record, project)
    if by == "returned_kind":
        groups = ledger["returned_kind"].astype(str).replace("", "none")
    else:
        s = project.stakeholders
        if by not in s.columns:
            raise ValueError(f"'{by}' is not a stakeholder column. Choose returned_kind, kind or an attribute.")
        column = s[by].map(lambda v: ", ".join(v) if isinstance(v, list) else str(v))
        lookup = pd.Series(column.to_numpy(), index=s["id"].astype(str).to_numpy())
        groups = ledger["stakeholder_id"].astype(str).map(lookup).fillna(GONE).replace("", "(blank)")
    ledger = ledger.assign(group=groups.to_numpy())
    columns = ["group", "contributions", "people", "hours", "value", "nothing_returned"]
    if not len(ledger):
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in columns})
    out = ledger.groupby("group", sort=True).agg(
        contributions=("id", "size"), people=("stakeholder_id", "nunique"), hours=("hours", "sum"),
        value=("value", "sum"), nothing_returned=("nothing", "sum")).reset_index()
    return out[columns]


def unreturned_contributions(record: Record, project: Project) -> pd.DataFrame:
    """Contributions with nothing returned (the flag): ``id``, ``stakeholder_id``, ``name``, ``date``,
    ``contributed``, ``hours``."""
    ledger = _ledger(record, project)
    rows = ledger.loc[ledger["nothing"], ["id", "stakeholder_id", "name", "date", "contributed", "hours"]]
    return rows.reset_index(drop=True)


# --- needs --------------------------------------------------------------------------------------

def _met_rows(record: Record) -> pd.DataFrame:
    needs = record.needs[["id", "stakeholder_id", "category"]].rename(columns={"id": "need_id"})
    return record.need_met.merge(needs, on="need_id", how="inner")


def _met_counts(rows: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    counts = pd.crosstab([rows[k] for k in keys], rows["met"]) if len(rows) else pd.DataFrame()
    counts = counts.reindex(columns=list(MET), fill_value=0)
    counts["total"] = counts.sum(axis=1)
    return counts.reset_index() if len(counts) else pd.DataFrame(columns=[*keys, *MET, "total"])


def needs_by_activity(record: Record, project: Project) -> pd.DataFrame:
    """Per activity: how many stated needs were met (``yes``), ``partly`` and not (``no``)."""
    out = _met_counts(_met_rows(record), ["activity_id"])
    titles = pd.Series(project.activities["title"].astype(str).to_numpy(),
                       index=project.activities["id"].astype(str).to_numpy())
    out.insert(1, "title", out["activity_id"].astype(str).map(titles).fillna("(no longer on the map)").astype(object))
    for column in [*MET, "total"]:
        out[column] = out[column].astype(int)
    return out


def needs_by_person(record: Record, project: Project) -> pd.DataFrame:
    """Per person with a stated need: ``needs`` stated, and how often they were met, partly or not."""
    stated = record.needs.groupby("stakeholder_id").size().rename("needs")
    out = _met_counts(_met_rows(record), ["stakeholder_id"]).set_index("stakeholder_id")
    out = out.reindex(stated.index, fill_value=0)
    out.insert(0, "needs", stated)
    out = out.reset_index()
    out.insert(1, "name", out["stakeholder_id"].astype(str).map(_names(project)).fillna(GONE).astype(object))
    for column in ["needs", *MET, "total"]:
        out[column] = out[column].astype(int)
    return out


def unmet_needs_by_group(record: Record, project: Project, *, by: str, gaps: pd.DataFrame | None = None) -> pd.DataFrame:
    """Unmet needs per group of attribute ``by``, as a possible reason for a gap in who takes part.

    ``people_with_needs``: people in the group with a stated need; ``people_unmet``: of those, people
    with a need not met (``no``) at one activity or more; ``people_partly``: a need only partly met.
    ``gaps`` (``representation.gap_table`` for ``by``) adds the group's ``gap`` and ``flag``.
    """
    s = project.stakeholders
    if by not in s.columns:
        raise ValueError(f"'{by}' is not a stakeholder column.")
    category = pd.Series(s[by].astype(str).replace("", "(blank)").to_numpy(), index=s["id"].astype(str).to_numpy())
    rows = _met_rows(record)
    needs = record.needs.assign(group=record.needs["stakeholder_id"].astype(str).map(category).fillna(GONE))
    with_needs = needs.groupby("group")["stakeholder_id"].nunique().rename("people_with_needs")
    rows = rows.assign(group=rows["stakeholder_id"].astype(str).map(category).fillna(GONE))
    unmet = rows.loc[rows["met"] == "no"].groupby("group")["stakeholder_id"].nunique().rename("people_unmet")
    partly = rows.loc[rows["met"] == "partly"].groupby("group")["stakeholder_id"].nunique().rename("people_partly")
    out = pd.concat([with_needs, unmet, partly], axis=1).fillna(0).astype(int)
    out.index.name = "category"
    out = out.reset_index()
    if gaps is not None and len(gaps):
        g = gaps.loc[gaps["attribute"] == by, ["category", "gap", "flag"]].drop_duplicates("category")
        out = out.merge(g, on="category", how="left")
        out["flag"] = out["flag"].fillna("").astype(object)
    return out.sort_values(["people_unmet", "people_partly"], ascending=False, kind="stable").reset_index(drop=True)


# --- cycles and actions -------------------------------------------------------------------------

def actions_by_status(record: Record) -> pd.DataFrame:
    """Per review cycle, how many actions are open, under way, done and dropped (plus ``total``)."""
    a = record.actions
    if not len(a):
        return pd.DataFrame(columns=["cycle", *ACTION_STATUSES, "total"])
    counts = pd.crosstab(a["cycle"], a["status"]).reindex(columns=list(ACTION_STATUSES), fill_value=0)
    counts["total"] = counts.sum(axis=1)
    return counts.reset_index().rename_axis(columns=None)


def overdue_actions(record: Record, *, today: str) -> pd.DataFrame:
    """Open or under-way actions whose due date (ISO) is before ``today``."""
    a = record.actions
    due = a["due"].astype(str)
    late = (due != "") & (due < str(today)) & a["status"].isin(["open", "doing"])
    return a.loc[late, ["id", "cycle", "title", "owner", "due", "status"]].reset_index(drop=True)


def cycle_overview(record: Record, project: Project) -> pd.DataFrame:
    """Per review cycle in the settings: what "good" and "done" are agreed, reflections and lessons
    written, actions and how many are done, and which snapshots were kept."""
    from coprod_map.record import cycle_frame

    frame = cycle_frame(project.settings, record)
    filled = {c: frame[c].astype(str).str.strip() != "" for c in
              ("good_looks_like", "done_looks_like", "reflections", "lessons")}
    actions = record.actions
    total = actions.groupby("cycle").size()
    done = actions.loc[actions["status"] == "done"].groupby("cycle").size()
    kept = record.snapshots.groupby("cycle")["kind"].agg(lambda k: ", ".join(sorted(k)))
    return pd.DataFrame({
        "cycle": frame["cycle"], "start": frame["start"], "end": frame["end"],
        "good_and_done_agreed": (filled["good_looks_like"] & filled["done_looks_like"]).to_numpy(),
        "reflections": filled["reflections"].to_numpy(), "lessons": filled["lessons"].to_numpy(),
        "actions": frame["cycle"].map(total).fillna(0).astype(int).to_numpy(),
        "actions_done": frame["cycle"].map(done).fillna(0).astype(int).to_numpy(),
        "snapshots": frame["cycle"].map(kept).astype(object).where(frame["cycle"].isin(kept.index), "").to_numpy(),
    })


# --- snapshots ----------------------------------------------------------------------------------

_REP_COLUMNS = ["attribute", "category", "affected_share", "involved_count", "involved_share", "gap", "flag"]


def representation_figures(project: Project, *, cycle: str | None, suppress: bool = True) -> pd.DataFrame:
    """The gap figures of one review cycle (``None``: all activities), small numbers suppressed
    (``suppress=False`` only for figures that stay inside the app, such as the health check).

    Compares with the reference population when the project has one, else with the stakeholders
    marked as affected. Empty when the project has nothing to compare.
    """
    from coprod_map.analysis.representation import gap_report

    mode = "population" if len(project.reference) else "register"
    try:
        report = gap_report(project, mode=mode, cycles=[cycle] if cycle else None, suppress=suppress)
    except ValueError:
        return pd.DataFrame(columns=_REP_COLUMNS)
    report = report.loc[report["category"].astype(str) != ""]
    return report[_REP_COLUMNS].reset_index(drop=True)


def network_figures(project: Project, *, cycle: str | None = None) -> pd.DataFrame:
    """Headline network figures (``figure``, ``value``) from :func:`coprod_map.analysis.network.metrics_table`,
    plus how many took part in ``cycle``."""
    from coprod_map.analysis.network import cycle_participants, metrics_table

    m = metrics_table(project)
    sizes = m.loc[~m["isolated"].astype(bool)].groupby("component").size() if len(m) else pd.Series(dtype=int)
    figures = {
        "stakeholders": len(m),
        "ties": int(m["degree"].sum() // 2) if len(m) else 0,
        "not connected to anyone": int(m["isolated"].astype(bool).sum()) if len(m) else 0,
        "separate clusters": int(len(sizes)),
        "largest cluster": int(sizes.max()) if len(sizes) else 0,
        "people who hold the map together": int(m["articulation_point"].astype(bool).sum()) if len(m) else 0,
        "average ties per stakeholder": round(float(m["degree"].mean()), 2) if len(m) else 0.0,
    }
    if cycle:
        figures["took part in this cycle"] = len(cycle_participants(project, cycle))
    return pd.DataFrame({"figure": list(figures), "value": [float(v) for v in figures.values()]})


def snapshot_rows(project: Project, *, cycle: str, taken_at: str) -> pd.DataFrame:
    """Rows for the record's ``snapshots`` table: the representation and network figures of ``cycle`` now."""
    rep = representation_figures(project, cycle=cycle)
    net = network_figures(project, cycle=cycle)
    return pd.DataFrame({
        "cycle": [cycle, cycle], "kind": ["representation", "network"], "taken_at": [taken_at, taken_at],
        "figures": [_to_json(rep), _to_json(net)],
    })


def _to_json(frame: pd.DataFrame) -> str:
    plain = frame.astype(object).where(frame.notna(), None)
    return json.dumps(plain.to_dict("records"), ensure_ascii=False, sort_keys=True, default=float)


def snapshot_table(figures: str, kind: str) -> pd.DataFrame:
    """A stored snapshot's figures back as a table (same columns as when it was taken)."""
    rows = json.loads(figures or "[]")
    columns = _REP_COLUMNS if kind == "representation" else ["figure", "value"]
    out = pd.DataFrame(rows, columns=columns)
    for column in out.columns:
        if column in ("affected_share", "involved_share", "gap", "value"):
            out[column] = pd.to_numeric(out[column]).astype("Float64")
        elif column == "involved_count":
            out[column] = pd.to_numeric(out[column]).astype("Float64").round().astype("Int64")
        else:
            out[column] = out[column].astype(object).where(out[column].notna(), "")
    return out


def compare_snapshots(earlier: pd.DataFrame, later: pd.DataFrame, *, kind: str) -> pd.DataFrame:
    """Figures then and now side by side, with the change (now minus then).

    Representation: per attribute and category, ``gap_then``, ``gap_now``, ``change`` (in share
    points, positive = the group is closer to or above its share), ``flag_then``, ``flag_now``.
    Network: per figure, ``then``, ``now``, ``change``.
    """
    if kind == "representation":
        keys = ["attribute", "category"]
        merged = earlier[[*keys, "gap", "flag"]].merge(later[[*keys, "gap", "flag"]], on=keys, how="outer",
                                                        suffixes=("_then", "_now"), sort=False)
        merged["change"] = (merged["gap_now"].astype("Float64") - merged["gap_then"].astype("Float64"))
        for column in ("flag_then", "flag_now"):
            merged[column] = merged[column].astype(object).where(merged[column].notna(), "")
        return merged[[*keys, "gap_then", "gap_now", "change", "flag_then", "flag_now"]]
    merged = earlier.merge(later, on="figure", how="outer", suffixes=("_then", "_now"), sort=False)
    merged = merged.rename(columns={"value_then": "then", "value_now": "now"})
    merged["change"] = merged["now"].astype("Float64") - merged["then"].astype("Float64")
    return merged[["figure", "then", "now", "change"]]
