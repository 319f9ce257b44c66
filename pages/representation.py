"""Who is involved: compare who the work affects with who takes part (issue 4)."""

from __future__ import annotations

import streamlit as st

from coprod_map.analysis.representation import INVOLVEMENT_MODES, MODES, PERIODS
from coprod_map.model import AFFECTED_LEVELS, INVOLVEMENT_LEVELS, KINDS
from coprod_map.ui import representation_cache as cache
from coprod_map.ui.state import require_project
from coprod_map.ui.widgets import chart_with_table, in_words, safe_text

SHOWN_ROWS = 1000

_cc = st.column_config
#: the "affected but not involved" table in plain words (the codes stay in the data and the download): the cells
#: themselves become words (MISSING_WORDS), since a screen reader reads cell values, not what a format function draws
MISSING_WORDS = {"kind": KINDS, "affected": AFFECTED_LEVELS, "involvement": INVOLVEMENT_LEVELS}
MISSING_COLUMNS = {
    "id": _cc.TextColumn("ID"),
    "name": _cc.TextColumn("Name"),
    "kind": _cc.TextColumn("Kind"),
    "affected": _cc.TextColumn("How affected"),
    "involvement": _cc.TextColumn("Involvement"),
    "roles": _cc.TextColumn("Roles"),
    "last_took_part": _cc.TextColumn("Last took part", help="The date of the last activity they came to, "
                                     "if any (blank: never)"),
}
#: "who speaks for each group": the group's name only (its id would show twice), counts explained
VOICE_COLUMNS = {
    "group_name": _cc.TextColumn("Group"),
    "status": _cc.TextColumn("Voice", help="direct voice: someone taking part belongs to the group or was "
                             "chosen by it; proxy only: only others speak for it; basis not recorded: someone speaks for it, but "
                             "on what basis is not recorded; no voice: nobody taking part speaks for it"),
    "direct": _cc.NumberColumn("Direct voices", help="People taking part who have lived experience of the group, "
                               "or were elected or nominated by it"),
    "proxy": _cc.NumberColumn("Proxies", help="People taking part who speak for the group without belonging to it"),
    "basis_not_recorded": _cc.NumberColumn("Basis not recorded",
                                           help="People who speak for the group without a recorded basis"),
    "proxies": _cc.TextColumn("Proxies' names"),
}

info = require_project()
st.title("Who is involved")
st.text(f"Project: {info.name}")
st.caption(
    "Compare the people your work affects with the people taking part. Shares leave out answers that "
    "are not known; the range shows how far chance alone could move the figures."
)
choices = cache.choices(info.id, info.revision)
min_cell = choices["min_cell"]

left, right = st.columns(2)
with left:
    mode = st.radio(
        "Who is affected",
        list(MODES),
        format_func=MODES.get,
        index=0 if choices["population"] else 1,
        key="rep_mode",
        help="Compare with a reference population (for example census figures on the Import page), "
        "or with the stakeholders your map marks as affected.",
    )
    level = 1
    if mode == "register":
        level = st.select_slider(
            "Affected at least",
            options=[1, 2, 3],
            format_func=AFFECTED_LEVELS.get,
            key="rep_level",
            help="Count stakeholders affected at least this much.",
        )
with right:
    involvement = st.radio(
        "Who counts as involved",
        list(INVOLVEMENT_MODES),
        format_func=INVOLVEMENT_MODES.get,
        key="rep_involvement",
        help="Took part: anyone with a participation record in the period. Rung: where the map places "
        "them on the involvement ladder today.",
    )
    rung, start, end, cycles = "involved", "", "", None
    if involvement == "rung":
        rungs = list(INVOLVEMENT_LEVELS)[1:]
        rung = st.selectbox(
            "Lowest rung that counts",
            rungs,
            index=rungs.index("involved"),
            format_func=INVOLVEMENT_LEVELS.get,
            key="rep_rung",
            help="Stakeholders on this rung or higher count as involved.",
        )
    else:
        periods = ["all", *choices["cycles"], "dates"]
        names = {"all": "All activities", "dates": "Between two dates"}
        period_choice = st.selectbox(
            "Period",
            periods,
            format_func=lambda p: names.get(p, f"Review cycle: {p}"),
            key="rep_period",
            help="Which activities count: all of them, one review cycle, or those between two dates.",
        )
        if period_choice == "dates":
            picked = st.date_input("From and to", value=(), key="rep_dates", help="Both days are included.")
            if len(picked) == 2:
                start, end = picked[0].isoformat(), picked[1].isoformat()
        elif period_choice != "all":
            cycles = [period_choice]

attributes = choices[mode]
if not attributes:
    st.info(
        "There is nothing to compare yet: add attributes on the Project settings page"
        + (" and a reference population on the Import page." if mode == "population" else ".")
    )
    st.stop()
labels = {a: a.replace("_", " ") for a in attributes}
attribute = st.selectbox(
    "Compare by", attributes, format_func=labels.get, key="rep_by",
    help="The attribute to compare, for example age band or area.",
)
options = cache.options_key(
    mode=mode, affected_level=level, involvement=involvement, rung=rung, start=start, end=end,
    cycles=cycles, min_cell=min_cell,
)

gaps_tab, pairs_tab, missing_tab, time_tab = st.tabs(["Gaps", "Intersections", "Who is missing", "Over time"])

with gaps_tab:
    gap, share, sentences = cache.gap_views(info.id, info.revision, attribute, options, min_cell)
    chart_with_table(gap.figure, gap.table, summary=gap.summary, key="rep_gap_chart")
    for sentence in sentences:
        st.text(sentence)
    chart_with_table(share.figure, share.table, summary=share.summary, key="rep_share_chart")

with pairs_tab:
    others = [a for a in attributes if a != attribute]
    if not others:
        st.info("Add a second attribute on the Project settings page to see intersections.")
    else:
        second = st.selectbox(
            "Against", others, format_func=labels.get, key="rep_pair",
            help="A second attribute: each cell of the grid is one combination, for example young people in one area.",
        )
        pair, fallback = cache.pair_view(info.id, info.revision, (attribute, second), options, min_cell)
        if fallback:
            st.info(
                "The reference population has no figures for this combination, so this grid compares with "
                "the stakeholders your map marks as affected."
            )
        chart_with_table(pair.figure, pair.table, summary=pair.summary, key="rep_heatmap")

with missing_tab:
    who = cache.missing(info.id, info.revision, options)
    st.subheader("Affected but not involved")
    st.caption(f"{len(who)} affected stakeholders have not taken part in the chosen period.")
    st.dataframe(in_words(who.head(SHOWN_ROWS), MISSING_WORDS), hide_index=True, width="stretch",
                 column_config=MISSING_COLUMNS)
    if len(who) > SHOWN_ROWS:  # a table of tens of thousands of rows is slow to send on every change
        st.caption(f"The table shows the first {SHOWN_ROWS:,} of {len(who):,}; download the full list below.")
        st.download_button("Download the full list (CSV)", key="rep_missing_csv", mime="text/csv",
                           file_name="affected-not-involved.csv", on_click="ignore",
                           data=lambda: cache.missing_csv(info.id, info.revision, options))
    voices = cache.voices(info.id, info.revision, options)
    st.subheader("Who speaks for each group")
    proxy_only = int((voices["status"] == "proxy only").sum())
    st.caption(
        f"{proxy_only} groups are spoken for only by proxies: nobody involved has lived experience of "
        "them or was chosen by them. Each can become an action on the record page."
    )
    st.dataframe(voices, hide_index=True, width="stretch", column_config=VOICE_COLUMNS,
                 column_order=[c for c in VOICE_COLUMNS if c in voices.columns])

with time_tab:
    if involvement == "rung":
        st.info("Over time counts who took part in each period; the involvement ladder shows only today.")
    period = st.radio(
        "Per", list(PERIODS), format_func=PERIODS.get, horizontal=True, key="rep_trend_period",
        help="Review cycles come from the Project settings page; quarters from the activity dates.",
    )
    trend = cache.trend_view(info.id, info.revision, attribute, period, options, min_cell)
    if trend is None:
        st.info("No activities with dates or review cycles yet.")
    else:
        view, caption = trend
        chart_with_table(view.figure, view.table, summary=view.summary, key="rep_trend_chart")
        if caption:
            st.caption(safe_text(caption))
