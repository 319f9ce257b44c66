"""Decisions and record: the other half of co-production, how the work is done (issue 6)."""

from __future__ import annotations

from datetime import date

import streamlit as st

from coprod_map.analysis import record as rec
from coprod_map.analysis.health import RATINGS
from coprod_map.components import CREDIT
from coprod_map.labels import RECORD_HEADINGS
from coprod_map.model import KINDS, attribute_columns
from coprod_map.record import ACTION_STATUSES, RETURNED_KINDS, SNAPSHOT_KINDS, cycle_names
from coprod_map.ui import record_cache as rc
from coprod_map.ui.auth import may_see_private
from coprod_map.ui.cache import load_project
from coprod_map.ui.editing import attribute_words, show_message
from coprod_map.ui.state import require_project
from coprod_map.ui.widgets import MISSING_NOTE, chart_with_table, headings, safe_text
from coprod_map.viz import record_charts as charts

info = require_project()
project = load_project(info.id, info.revision)
record = rc.record_for(info.id, info.revision)

st.title("Decisions and record")
st.text(f"Project: {info.name}")
st.caption(
    "Keep the record of how the work is done: what was decided and why, what can change, what people gave "
    "and got back, their needs, and what each review cycle learned. Every change is saved as soon as you "
    "leave the cell."
)
show_private = rc.private_toggle()

tabs = st.tabs(["Decisions", "What can change", "Contributions and returns", "Needs", "Review cycles and actions",
                "Health check"])

with tabs[0]:
    st.subheader("Decision log")
    rc.record_editor("decisions", project, record, info)
    power = rec.decision_power(record, project)
    overall = power.iloc[0]
    if overall["recorded"]:
        summary = (f"People with lived experience took part in {int(overall['with_lived'])} of "
                   f"{int(overall['recorded'])} decisions that say who made them, and are "
                   f"{int(overall['lived_participants'])} of the {int(overall['participants'])} people who took part "
                   "in activities.")
    else:
        summary = "No decision says yet who took part in it."
    chart_with_table(charts.decision_power_chart(power), power, summary=summary, key="record_power_chart",
                     column_config=headings(power, RECORD_HEADINGS["decision_power"]))
    st.subheader("You said, we did")
    st.caption("Decisions reported back to participants and the community, and those not reported back yet.")
    said = rec.reported_back(record)
    st.dataframe(said, hide_index=True, width="stretch", column_config=headings(said))

with tabs[1]:
    st.subheader("What can and can't change")
    st.caption("For each area of the work: is it open to change, fixed, or out of scope, and why. "
               "Everyone should know what their input can change.")
    rc.record_editor("changeables", project, record, info)

with tabs[2]:
    st.subheader("Contributions and what came back")
    rc.record_editor("reciprocity", project, record, info)
    choices = ["returned_kind", "kind", *attribute_columns(project.stakeholders)]
    words = {"returned_kind": "What came back", "kind": "Kind of stakeholder"}
    by = st.selectbox("Totals by", choices, format_func=lambda c: words.get(c, c.replace("_", " ")),
                      key="record_recip_by", help="Group the totals by what came back, or by a stakeholder attribute.")
    by_group = rec.reciprocity_by_group(record, project, by=by)
    coded = {"returned_kind": RETURNED_KINDS, "kind": KINDS}.get(by)
    if coded:  # codes such as feedback_on_influence in the words the editor offers
        by_group = by_group.assign(group=by_group["group"].map(coded).fillna(by_group["group"]))
    unreturned = rec.unreturned_contributions(record, project)
    totals = by_group.rename(columns={"group": attribute_words(words.get(by, by)), "nothing_returned": "nothing returned"})
    chart_with_table(charts.reciprocity_chart(by_group), totals,
                     summary=f"{len(unreturned)} of {len(record.reciprocity)} contributions have nothing returned yet.",
                     key="record_recip_chart", column_config=headings(totals, {"value": "Money value"}))
    st.subheader("Totals per person")
    per_person = rec.reciprocity_by_person(record, project)
    st.dataframe(per_person, hide_index=True, width="stretch",
                 column_config=headings(per_person, RECORD_HEADINGS["reciprocity_by_person"]))
    st.subheader("Contributions with nothing returned")
    st.dataframe(unreturned, hide_index=True, width="stretch",
                 column_config=headings(unreturned, RECORD_HEADINGS["unreturned_contributions"]))

with tabs[3]:
    st.subheader("Needs register")
    by_activity = rec.needs_by_activity(record, project)
    if show_private:
        st.caption("Private: needs as each person stated them. Never copy these into anything shared.")
        rc.record_editor("needs", project, record, info)
        st.subheader("Were needs met at each activity?")
        rc.record_editor("need_met", project, record, info)
    else:
        st.info("Needs are private. Tick \"Show private fields\" above to see and edit them; below are counts only."
                if may_see_private() else
                "Needs are private, and your membership of this project does not include seeing them. Below are "
                "counts only.")
    chart_with_table(charts.needs_chart(by_activity), by_activity,
                     summary=f"{int(by_activity['no'].sum()) if len(by_activity) else 0} times a stated need was not "
                             "met at an activity.", key="record_needs_chart",
                     column_config=headings(by_activity, RECORD_HEADINGS["needs_by_activity"]))
    attributes = attribute_columns(project.stakeholders)
    if attributes:
        group_by = st.selectbox("Unmet needs by", attributes, key="record_needs_by",
                                format_func=lambda a: a.replace("_", " "),
                                help="An unmet need may be one reason a group takes part less than expected.")
        gaps = rec.representation_figures(project, cycle=None)
        unmet = rec.unmet_needs_by_group(record, project, by=group_by, gaps=gaps)
        if "gap" in unmet:
            unmet = rc.flags_in_words(rc.gaps_in_points(unmet, "gap"), "flag")
        st.dataframe(unmet, hide_index=True, width="stretch", column_config=headings(
            unmet, {**RECORD_HEADINGS["unmet_needs_by_group"], "category": attribute_words(group_by)}))
        if unmet.isna().to_numpy().any():
            st.caption(MISSING_NOTE)

with tabs[4]:
    st.subheader("Review cycles")
    st.caption("Names and dates of the cycles are set on the Project settings page. Here: what good and done "
               "look like, reflections and lessons.")
    overview = rec.cycle_overview(record, project)
    overview = overview.assign(snapshots=[", ".join(SNAPSHOT_KINDS.get(k, k) for k in kept.split(", ") if k)
                                          for kept in overview["snapshots"]])  # one row per cycle: a few rows
    st.dataframe(overview, hide_index=True, width="stretch",
                 column_config=headings(overview, RECORD_HEADINGS["cycle_overview"]))
    rc.record_editor("cycles", project, record, info)
    st.subheader("Actions")
    rc.record_editor("actions", project, record, info)
    by_status = rec.actions_by_status(record)
    overdue = rec.overdue_actions(record, today=date.today().isoformat())
    chart_with_table(charts.actions_chart(by_status), by_status,
                     summary=f"{len(overdue)} open actions are past their due date.", key="record_actions_chart",
                     column_config=headings(by_status, RECORD_HEADINGS["actions_by_status"]))
    if len(overdue):
        st.caption("Overdue actions")
        overdue = overdue.assign(status=overdue["status"].map(ACTION_STATUSES).fillna(overdue["status"]))
        st.dataframe(overdue, hide_index=True, width="stretch",
                     column_config=headings(overdue, RECORD_HEADINGS["overdue_actions"]))
    st.subheader("Snapshots: figures kept at the end of a cycle")
    cycles = cycle_names(project.settings)
    show_message("record_snapshots")
    if cycles:
        left, right = st.columns(2)
        cycle = left.selectbox("Cycle", cycles, key="record_snap_cycle",
                               help="Keep this cycle's figures as they are today, to compare with later.")
        right.button("Keep a snapshot now", key="record_snap_take", on_click=rc.take_snapshot,
                     args=(info, cycle, date.today().isoformat()),
                     help="Saves who is involved and the relationship figures for this cycle (replacing an "
                     "earlier snapshot of it). Small numbers are held back.")
    kept = record.snapshots
    if len(kept):
        labels = [f"{c} ({SNAPSHOT_KINDS.get(k, k)}, kept {t})" for c, k, t in
                  zip(kept["cycle"], kept["kind"], kept["taken_at"], strict=True)]
        chosen = st.selectbox("Compare today with", range(len(kept)), format_func=lambda i: labels[i],
                              key="record_snap_compare", help="The figures now, beside those kept then.")
        row = kept.iloc[int(chosen)]
        then = rec.snapshot_table(row["figures"], row["kind"])
        now = (rec.representation_figures(project, cycle=row["cycle"]) if row["kind"] == "representation"
               else rec.network_figures(project, cycle=row["cycle"]))
        compared = rec.compare_snapshots(then, now, kind=row["kind"])
        if row["kind"] == "representation":
            compared = rc.flags_in_words(rc.gaps_in_points(compared, "gap_then", "gap_now", "change"), "flag_then", "flag_now")
            compared = compared.assign(attribute=compared["attribute"].astype(str).map(attribute_words))
        st.dataframe(compared, hide_index=True, width="stretch",
                     column_config=headings(compared, RECORD_HEADINGS["compare_representation"]
                                            if row["kind"] == "representation" else None))
        if compared.isna().to_numpy().any():
            st.caption(MISSING_NOTE)
    else:
        st.caption("No snapshots kept yet.")

with tabs[5]:
    st.subheader("Ten-component health check")
    st.caption(safe_text(CREDIT))
    table = rc.health_for(info.id, info.revision)
    ratings = table["rating"].value_counts()
    found = ", ".join(f"{label} for {int(ratings[label])}" for label in RATINGS.values() if label in ratings)
    chart_with_table(charts.health_chart(table), table.drop(columns=["component"]), key="record_health_chart",
                     column_config=headings(table.drop(columns=["component"])),
                     summary=f"Of the ten components, the data gives {found}. Markers show how participants "
                             "scored each component (1 to 5), per cycle.")
    st.dataframe(table[["name", "rating", "evidence"]], hide_index=True, width="stretch",
                 column_config=headings(table[["name", "rating", "evidence"]], {"name": "Component"}))
    st.subheader("Self-assessment scores")
    st.caption("Each participant scores each component from 1 (not at all) to 5 (fully). Use an anonymous code, "
               "never a name.")
    rc.record_editor("self_assessment", project, record, info)
