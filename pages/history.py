"""History: every change to the project, undo and revert, the map as it was, snapshots, erasure and retention."""

from datetime import date

import pandas as pd
import streamlit as st

from coprod_map.privacy import retention_reminder
from coprod_map.ui import history_cache as hc
from coprod_map.ui.auth import allowed
from coprod_map.ui.cache import load_project
from coprod_map.ui.state import require_project, store
from coprod_map.ui.widgets import chart_with_table, headings, long_table
from coprod_map.viz.charts import gap_chart
from coprod_map.viz.summaries import gap_summary, readable_table

NETWORK_HEIGHT = 500
PICK_LIST_LIMIT = 2000  # above this, the person to erase is given by id rather than picked from a list

info = require_project()
pid, revision = info.id, info.revision
may_edit, may_manage = allowed("edit"), allowed("manage")  # viewers read the history; they change nothing

st.title("History")
st.text(f"Project: {info.name}")
st.caption("Every change is kept: what changed, when and by whom. You can undo mistakes, look at the map as it "
           "was on an earlier date, and keep named snapshots. The list shows which fields changed, never the values.")
hc.show_message()

reminder = retention_reminder(store().retention_until(pid))
if reminder and reminder[0] in ("past", "near"):
    st.warning(reminder[1], icon=":material/event:")

st.header("Changes")
if may_edit:
    st.button("Undo the last change", on_click=hc.undo, args=(pid,), icon=":material/undo:",
              help="Takes back the most recent change. Press again to step further back.")
actions = hc.actions_table(pid, revision)
if actions.empty:
    st.info("No changes recorded yet.")
else:
    st.dataframe(actions, hide_index=True, width="stretch", column_config={
        "entry": st.column_config.NumberColumn("Entry", format="%d"),
        "when": "When", "who": "Who", "what": "Kind of change",
        "summary": st.column_config.TextColumn("What changed", width="large"),
        "fields": st.column_config.TextColumn("Fields", width="medium"),
        "taken back": "Taken back",
    })
    if may_edit:
        st.selectbox("Entry to take back", actions["entry"].tolist(), index=None, key="history_revert_entry",
                     help="Puts the rows this entry changed back as they were. Refused, with the reason, when "
                          "something changed them again since.")
        st.button("Take back this entry", on_click=hc.revert, args=(pid, "history_revert_entry"))
    with st.expander("Details of an entry (old and new values)"):
        chosen = st.selectbox("Entry", actions["entry"].tolist(), index=None, key="history_detail_entry")
        if chosen is not None:
            private = hc.can_see_private()
            rows, total = hc.entry_details(pid, revision, int(chosen), private, hc.DETAIL_ROWS)
            if not private:
                st.caption("Notes, attribute values and private record fields show as (private).")
            st.dataframe(rows, hide_index=True, width="stretch", column_config=headings(rows))
            if total > len(rows):
                st.caption(f"This entry changed {total:,} rows. The table shows the first {len(rows):,}; download "
                           "them all below (a big entry takes a while to put together).")
                st.download_button("Download every row of this entry (CSV)", key="history_detail_csv",
                                   mime="text/csv", file_name=f"entry-{int(chosen)}.csv", on_click="ignore",
                                   data=hc.entry_csv(pid, int(chosen), private))
            else:
                st.caption(f"This entry changed {total:,} {'row' if total == 1 else 'rows'}.")

st.header("The map as it was")
cycles = {c["name"]: c["end"] for c in info.settings.cycles if c.get("end")}
choices = ["A date", *[f"End of {name}" for name in cycles]]
mode = st.radio("View the map as it was on", choices, horizontal=True, key="history_view_mode")
when = (st.date_input("Date", value=date.today(), key="history_view_date").isoformat() if mode == "A date"
        else cycles[mode.removeprefix("End of ")])
then = hc.state_at(pid, revision, when)
figures = hc.figures_at(pid, revision, when)
st.caption(f"Read-only: the map at the end of {when}.")
counts = figures["counts"]
cols = st.columns(4)
for col, (label, table) in zip(cols, [("Stakeholders", "stakeholders"), ("Ties", "relationships"),
                                      ("Activities", "activities"), ("Participation records", "participation")],
                               strict=True):
    col.metric(label, f"{counts[table]:,}")
map_tab, figures_tab, network_tab = st.tabs(["Map", "Who was involved", "Network"])
with map_tab:
    for table, key in (("stakeholders", "history_people_csv"), ("relationships", "history_ties_csv")):
        past = then.table(table).drop(columns=["notes"])  # headings and codes in words on screen; the CSV keeps ids
        long_table(past, key=key, file_name=f"{table}-{when}.csv", words=hc.CELL_WORDS[table],
                   column_config=hc.map_columns(table, past))
with figures_tab:
    gaps = figures["gaps"]
    if gaps.empty:
        st.info("There were no attributes to compare on that date.")
    else:
        against = "the reference population" if figures["gap_mode"] == "population" else "those the map marked as affected"
        shown = hc.worded_gaps(gaps)  # "Age band: 65+", not "age_band: 65+"
        chart_with_table(gap_chart(shown), readable_table(shown), key="history_gap_chart",
                         summary=f"Involved share minus the share among {against}, as it was on {when}. "
                                 + gap_summary(gaps, min_cell=int(then.settings.min_cell)))
with network_tab:
    st.dataframe(figures["network"], hide_index=True, width="stretch", column_config=headings(figures["network"]))
    if len(then.stakeholders):
        st.iframe(hc.network_at(pid, revision, when, NETWORK_HEIGHT), height=NETWORK_HEIGHT + 40)
        st.caption("The network as it was: hover for details, scroll to zoom.")
    with st.expander("Measures for each stakeholder as they were"):
        long_table(figures["metrics"], key="history_metrics_csv", file_name=f"measures-{when}.csv",
                   column_config=hc.measure_columns(figures["metrics"]))

with st.expander("Compare two dates"):
    first = st.date_input("Earlier date", value=date.today(), key="history_compare_from").isoformat()
    second = st.date_input("Later date", value=date.today(), key="history_compare_to").isoformat()
    diff = hc.compared(pid, revision, first, second)
    left, right = st.columns(2)
    for column, day in ((left, first), (right, second)):
        shown = hc.figures_at(pid, revision, day)
        column.text(f"At the end of {day}")
        counts = hc.counts_table(shown["counts"])
        column.dataframe(counts, hide_index=True, width="stretch", column_config=headings(counts))
        if len(shown["gaps"]):
            column.dataframe(readable_table(hc.worded_gaps(shown["gaps"])), hide_index=True, width="stretch")
        else:
            column.dataframe(shown["gaps"], hide_index=True, width="stretch", column_config=headings(shown["gaps"]))
    changed = pd.DataFrame({"what": list(diff), "how many": [len(f) for f in diff.values()]})
    st.dataframe(changed, hide_index=True, column_config=headings(changed))
    for label, frame in diff.items():  # a million participation records added: the first rows and a download
        if len(frame):
            st.text(label.capitalize())
            name = label.replace(" ", "-")
            table = {"ties": "relationships"}.get(label.split()[0], label.split()[0])
            long_table(frame, key=f"history_compare_{name}_csv", file_name=f"{name}-{first}-to-{second}.csv",
                       column_config=hc.map_columns(table, frame))
current = load_project(pid, revision)

st.header("Named snapshots")
st.caption("Take one before a workshop. Restoring makes a new project; this one is never overwritten.")
if may_edit:
    st.text_input("Snapshot name", key="history_snapshot_name", placeholder="Before workshop 2")
    st.button("Take snapshot", on_click=hc.snapshot, args=(pid, "history_snapshot_name"))
snaps = store().snapshots(pid)
if len(snaps):
    st.dataframe(snaps, hide_index=True, width="stretch",
                 column_config=headings(snaps, {"id": "ID", "taken_at": "Taken", "actor": "Taken by"}))
if len(snaps) and may_edit:
    st.selectbox("Snapshot to restore", snaps["id"].tolist(), index=None, key="history_restore_id",
                 format_func=lambda i: str(snaps.set_index("id").loc[i, "name"]))
    st.text_input("Name of the new project", key="history_restore_name")
    st.button("Restore as a new project", on_click=hc.restore,
              args=(pid, "history_restore_id", "history_restore_name"))

st.header("Privacy")
if not may_manage:
    st.caption("Erasing a person, the retention date and purging old history are for the project's owner.")
else:
    with st.expander("Erase a person"):
        st.caption("Removes the stakeholder, their ties, participation, needs and contributions, their participant "
                   "submissions, their ideas the group has not taken up yet (the others stay, without their name), their "
                   "place on the participant link, and their values from the history and the snapshots. This cannot "
                   "be undone. The audit trail records that an erasure happened, never who.")
        names = dict(zip(current.stakeholders["id"], current.stakeholders["name"], strict=True))
        if len(names) <= PICK_LIST_LIMIT:
            st.selectbox("Stakeholder", list(names), index=None, key="history_erase_id",
                         format_func=lambda i: f"{i}: {names[i]}")
        else:  # a list of 100,000 names is slow to send and to scroll
            typed = st.text_input("Stakeholder id (the ID column of the Stakeholders page)", key="history_erase_id")
            if typed.strip():
                st.text(f"That is {names[typed.strip()]}." if typed.strip() in names else "No stakeholder has that id.")
        st.text_input("Type the stakeholder's id to confirm", key="history_erase_confirm")
        st.button("Erase this person", on_click=hc.erase, args=(pid, "history_erase_id", "history_erase_confirm"),
                  type="primary")
    with st.expander("Retention date and purging old history"):
        until = store().retention_until(pid)
        st.text(f"Retention date: {until or 'not set'}")
        st.date_input("Keep personal details until", value=date.fromisoformat(until) if until else None,
                      key="history_retention")
        st.button("Save retention date", on_click=hc.set_retention, args=(pid, "history_retention"))
        st.date_input("Purge the values of changes made before", value=None, key="history_purge_before")
        st.button("Purge old history", on_click=hc.purge, args=(pid, "history_purge_before"),
                  help="Deletes old and new values of earlier changes. The list of entries stays; those entries "
                       "can no longer be undone.")
