"""Relationships: the network view, measures, power and interest, mixing, reaching the missing, change over time."""

import streamlit as st

from coprod_map.analysis import network as nw
from coprod_map.labels import MEASURE_HEADINGS as H
from coprod_map.labels import MEASURE_HELP, NETWORK_HEADINGS
from coprod_map.model import KINDS, attribute_columns
from coprod_map.ui.cache import load_project
from coprod_map.ui.network_cache import (
    categories_for,
    changes_for,
    introducers_for,
    measures_table_for,
    mixing_for,
    page_facts_for,
    power_for,
    view_for,
)
from coprod_map.ui.state import require_project
from coprod_map.ui.widgets import chart_with_table, headings, long_table, safe_text
from coprod_map.viz import network_charts as charts
from coprod_map.viz.network_html import SIZE_MEASURES, data_url

HEIGHT = 650
FOCUS_KEY = "net_focus"
FOCUS_LIST_LIMIT = 2000  # above this, find the stakeholder to focus on by typing part of the name
BROKERAGE_KEY = "net_brokerage"
COMMUNITIES_KEY = "net_communities"
COMMUNITY_LIMIT = 20_000  # above this, finding communities (a second or more) waits until someone asks
COMPARE_KEY = "net_compare"

info = require_project()
project = load_project(info.id, info.revision)
people = project.stakeholders

st.title("Relationships")
st.text(f"Project: {info.name}")
if people.empty:
    st.info("This project has no stakeholders yet. Add some on the Stakeholders and ties page.")
    st.stop()

attributes = attribute_columns(people)
big = len(people) > COMMUNITY_LIMIT
category_choices = ["involvement", "kind", "experience", "roles", *attributes]
facts = page_facts_for(info.id, info.revision)
names = facts.names


def _words(column: str) -> str:
    return column.replace("_", " ").capitalize()


def _focus_on(stakeholder_id: str) -> None:
    st.session_state[FOCUS_KEY] = stakeholder_id


tab_map, tab_measures, tab_power, tab_mixing, tab_reach, tab_time = st.tabs(
    ["Network", "Measures", "Power and interest", "Mixing", "Reach the missing", "Over time"])

with tab_map:
    left, middle, right = st.columns(3)
    colour_by = left.selectbox("Colour by", category_choices, format_func=_words, key="net_colour",
                               help="Which fact about each stakeholder sets its colour.")
    size_by = middle.selectbox("Size by", list(SIZE_MEASURES), format_func=SIZE_MEASURES.get, key="net_size",
                               help="Bigger shapes have more of this measure.")
    group_by = right.selectbox("Group large maps by", ["community", *attributes], format_func=_words,
                               index=1 if big and attributes else 0,  # communities take a while on big maps
                               key="net_group", help="Above 1,500 stakeholders the map shows groups instead of "
                               "people: communities found in the ties, or one of your attributes.")
    with st.expander("Filter and focus", icon=":material/filter_alt:"):
        one, two = st.columns(2)
        kinds = one.multiselect("Kinds", list(KINDS), format_func=KINDS.get, key="net_kinds",
                                help="Show only these kinds of stakeholder (none chosen: all).")
        roles = two.multiselect("Roles", facts.roles, key="net_roles", help="Show only stakeholders with any of these roles.")
        attribute = one.selectbox("Attribute", ["", *attributes], format_func=lambda a: _words(a) if a else "(any)",
                                  key="net_attribute", help="Show only stakeholders with chosen values of an attribute.")
        values = ()
        if attribute:
            values = two.multiselect("Values", categories_for(info.id, info.revision, attribute), key="net_values", help="Values of the attribute to keep.")
        types = one.multiselect("Relationship types", facts.types,
                                key="net_types", help="Show only ties of these types.")
        cycles = [c.get("name", "") for c in project.settings.cycles if c.get("name")]
        cycle = two.selectbox("Review cycle", ["", *cycles], format_func=lambda c: c or "(all)", key="net_cycle",
                              help="Show only stakeholders who took part in an activity in this cycle.")
        if len(names) > FOCUS_LIST_LIMIT:  # a list of 100,000 names is slow to send and to scroll
            query = one.text_input("Find a stakeholder to focus on", key="net_focus_query",
                                   help="Type part of a name; the closest matches are listed below.")
            current = st.session_state.get(FOCUS_KEY) or ""
            choices = [""] + ([current] if current in names else []) + \
                [i for i in nw.name_matches(names, query, limit=50) if i != current]
        else:
            choices = ["", *names]
        focus = one.selectbox("Focus on a stakeholder", choices, format_func=lambda i: names.get(i, "(nobody)"),
                              key=FOCUS_KEY, help="Show only this stakeholder and the people near them.")
        steps = two.slider("Steps from them", 1, 3, 1, key="net_steps", disabled=not focus,
                           help="1 shows direct ties only; 2 adds the people they know, and so on.")
    options = {"colour_by": colour_by, "size_by": size_by, "group_by": group_by, "kinds": tuple(kinds),
               "roles": tuple(roles), "attribute": attribute or None, "values": tuple(values), "types": tuple(types),
               "cycle": cycle or None, "focus": focus or None, "steps": int(steps), "height": HEIGHT}
    view = view_for(info.id, info.revision, tuple(sorted(options.items())))
    if view.aggregated:
        drill = st.selectbox("Look inside a group", ["", *view.groups], format_func=lambda g: g or "(all groups)",
                             key="net_drill", help="Draw the members of one group instead of the groups.")
        if drill:
            view = view_for(info.id, info.revision, tuple(sorted({**options, "drill": drill}.items())))
    if view.note:
        st.caption(safe_text(view.note))
    if view.aggregated and big and group_by != "community":
        st.caption("Finding communities in the ties takes a moment on a map this size, so the map starts "
                   "grouped by one of your attributes: choose Community under 'Group large maps by' to see them.")
    st.iframe(data_url(view.page.html), height=HEIGHT + 40)
    st.caption(f"Showing {view.page.nodes:,} shapes and {view.page.edges:,} lines. Hover for details; "
               "scroll to zoom; drag to move around.")
    with st.expander("What the colours, shapes and lines mean"):
        st.dataframe(view.page.legend, hide_index=True, width="stretch")

with tab_measures:
    slow = len(people) > nw.EXACT_BETWEENNESS_LIMIT
    # on big maps communities wait until asked for, or until the map is grouped by them (then they are ready)
    communities = not big or group_by == "community" or bool(st.session_state.get(COMMUNITIES_KEY))
    if slow and not st.session_state.get(BROKERAGE_KEY):
        metrics = measures_table_for(info.id, info.revision, brokerage=False, communities=communities)
        st.caption("Brokerage takes a while to estimate on a map this size, so it is left blank until you ask."
                   + ("" if communities else " So are communities."))
        one, two = st.columns(2)
        one.button("Estimate brokerage", key="net_brokerage_button",
                   on_click=lambda: st.session_state.update({BROKERAGE_KEY: True}),
                   help="Estimate each stakeholder's brokerage (betweenness) from a sample of the map.")
        if not communities:
            two.button("Find communities", key="net_communities_button",
                       on_click=lambda: st.session_state.update({COMMUNITIES_KEY: True}),
                       help="Find groups of stakeholders with many ties among themselves.")
    else:
        metrics = measures_table_for(info.id, info.revision, brokerage=True)
    estimated = bool(metrics["betweenness_estimated"].any())
    st.caption(
        "One row per stakeholder; click a column heading to sort. Ties: how many others each one is tied to. "
        "Brokerage (betweenness): the share of shortest paths between others that pass through them. "
        "Overlapping ties (constraint): how much their ties all lead to the same people; high means few separate "
        "routes, low means they link circles that are otherwise apart. "
        "Community: a group with many ties among themselves (1 is the largest). "
        "Cut point: removing them would split the map. Bridge ties: ties that are the only link between two parts."
        + (" On this large map brokerage is an estimate from a sample." if estimated else "")
    )
    long_table(
        metrics, key="net_metrics_csv", file_name="network-measures.csv", first="most connected",
        column_config={
            "id": st.column_config.TextColumn(H["id"]),
            "name": st.column_config.TextColumn(H["name"]),
            "degree": st.column_config.NumberColumn(H["degree"], help=MEASURE_HELP["degree"]),
            "betweenness": st.column_config.NumberColumn(
                H["betweenness"] + (" (estimate)" if estimated else ""), format="%.4f", help=MEASURE_HELP["betweenness"]),
            # only where brokerage is an estimate (large maps): on a small map the column is all blank ticks
            "betweenness_estimated": (st.column_config.CheckboxColumn(
                H["betweenness_estimated"], help=MEASURE_HELP["betweenness_estimated"]) if estimated else None),
            "community": st.column_config.NumberColumn(H["community"], help=MEASURE_HELP["community"]),
            "constraint": st.column_config.NumberColumn(H["constraint"], format="%.3f", help=MEASURE_HELP["constraint"]),
            "articulation_point": st.column_config.CheckboxColumn(H["articulation_point"],
                                                                  help=MEASURE_HELP["articulation_point"]),
            "bridge_ties": st.column_config.NumberColumn(H["bridge_ties"], help=MEASURE_HELP["bridge_ties"]),
            "isolated": st.column_config.CheckboxColumn(H["isolated"]),
            "component": st.column_config.NumberColumn(H["component"], help=MEASURE_HELP["component"]),
        },
    )

with tab_power:
    selected = st.session_state.get("net_power_selected")
    power = power_for(info.id, info.revision, selected)
    grid, table = power.grid, power.table
    event = chart_with_table(power.figure, table, summary=power.summary, key="net_power", on_select="rerun",
                             selection_mode=("points",))
    if not power.points:
        st.caption(f"With {len(grid):,} stakeholders on the grid, each bubble counts the stakeholders in one cell.")
    rows = charts.selected_rows(event) if power.points else []
    if rows:
        chosen = grid.iloc[rows[0]]
        st.session_state["net_power_selected"] = chosen["id"]
        st.text(f"Selected: {chosen['name']}")
        st.dataframe(table.iloc[[rows[0]]], hide_index=True, width="stretch")
        st.button("Show them on the network", on_click=_focus_on, args=(str(chosen["id"]),), key="net_power_focus",
                  help="Focus the Network tab on this stakeholder and the people near them.")

with tab_mixing:
    by = st.selectbox("Mixing of", category_choices, index=category_choices.index("experience"), format_func=_words,
                      key="net_mix_by", help="Count ties between the groups of this fact: do people mostly "
                      "connect with others like them?")
    matrix = mixing_for(info.id, info.revision, by)
    row_heading = _words(by) if _words(by) not in matrix.columns else matrix.index.name  # never two same headings
    chart_with_table(charts.mixing_heatmap(matrix, by=_words(by)), matrix.rename_axis(row_heading).reset_index(),
                     summary=nw.mixing_sentence(matrix, by=by.replace("_", " ")), key="net_mix")
    if by in ("experience", "roles"):
        st.caption("Someone with several kinds listed counts in each of them, so a tie can be counted more than once.")

with tab_reach:
    reach_choices = ["experience", "roles", "kind", *attributes]
    one, two = st.columns(2)
    reach_by = one.selectbox("Groups by", reach_choices, format_func=_words, key="net_reach_by",
                             help="The fact that defines the under-represented groups.")
    reach_groups = two.multiselect("Under-represented groups", categories_for(info.id, info.revision, reach_by), key="net_reach_groups",
                                   help="Choose the groups the work is missing (see the Who is involved page).")
    max_steps = st.slider("Up to how many steps", 1, 3, 3, key="net_reach_steps",
                          help="1: people who know them directly; 2: a friend of a friend; 3: one more step.")
    if reach_groups:
        targets = nw.affected_not_involved(people, by=reach_by, categories=reach_groups)
        ranked = introducers_for(info.id, info.revision, reach_by, tuple(reach_groups), int(max_steps))
        st.caption(safe_text(nw.introducers_sentence(ranked, targets, max_steps=int(max_steps))))
        steps_words = {f"within_{k}": f"Within {k} step{'s' if k > 1 else ''}" for k in range(1, int(max_steps) + 1)}
        long_table(ranked, key="net_reach_csv", file_name="introducers.csv", column_config=headings(
            ranked, {**NETWORK_HEADINGS["introducers"], **steps_words, "group": _words(reach_by)}))
    else:
        st.caption("Choose one or more groups to see who could make an introduction.")

with tab_time:
    cycles = [c.get("name", "") for c in project.settings.cycles if c.get("name")]
    if len(cycles) < 2:
        st.info("Add at least two review cycles on the Project settings page to compare the network over time.")
    else:
        one, two = st.columns(2)
        earlier = one.selectbox("Earlier cycle", cycles, index=0, key="net_earlier")
        later = two.selectbox("Later cycle", cycles, index=len(cycles) - 1, key="net_later")
        if len(people) > FOCUS_LIST_LIMIT and not st.session_state.get(COMPARE_KEY):
            # seconds of work on a big map: done when someone opens this, not on every first view
            st.button("Compare the two cycles", key="net_compare_button",
                      on_click=lambda: st.session_state.update({COMPARE_KEY: True}),
                      help="Find the ties that formed or ended and the people who stopped taking part.")
        else:
            changes, dropouts = changes_for(info.id, info.revision, earlier, later)
            st.caption(safe_text(nw.tie_changes_sentence(changes, dropouts, earlier=earlier, later=later)))
            st.subheader("Ties that formed or ended")
            long_table(changes, key="net_changes_csv", file_name="tie-changes.csv",
                       column_config=headings(changes, NETWORK_HEADINGS["tie_changes"]))
            st.subheader("People who took part earlier but not later")
            long_table(dropouts, key="net_dropouts_csv", file_name="dropouts.csv", words={"kind": KINDS},
                       column_config=headings(dropouts, NETWORK_HEADINGS["cycle_dropouts"]))
