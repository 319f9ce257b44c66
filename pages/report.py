"""Share a report: the steering-group report as one HTML file, with a preview (issue 6, part 7)."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from coprod_map.report import OPTIONAL_SECTIONS, SECTIONS, report_filename
from coprod_map.ui import report_cache as cache
from coprod_map.ui.state import require_project

info = require_project()
st.title("Share a report")
st.text(f"Project: {info.name}")
st.caption(
    "One file for the steering group and the community: the headline gaps, who is missing, the network, "
    "decisions, actions and the health check. It opens in any web browser without the internet, and prints "
    "well (use the browser's Print, or Save as PDF). Needs and personal notes are never included."
)

left, right = st.columns(2)
with left:
    sections = st.multiselect(
        "Sections to include", list(OPTIONAL_SECTIONS), default=list(OPTIONAL_SECTIONS), format_func=SECTIONS.get,
        key="report_sections", help="The opening explanation and the credits are always included.",
    )
with right:
    min_cell = st.number_input(
        "Smallest number shown", min_value=1, max_value=100, step=1,
        value=cache.default_min_cell(info.id, info.revision), key="report_min_cell",
        help="Counts from 1 up to one less than this are not shown, so nobody can be picked out. "
             "The default is the project's setting.",
    )
    name_people = st.toggle(
        "Name individual people", value=False, key="report_name_people",
        help="Off: people are described by their roles, and only organisations, groups and community assets "
             "are named. Turn on only if everyone named has agreed.",
    )

today = dt.date.today().isoformat()
options = (info.id, info.revision, tuple(s for s in OPTIONAL_SECTIONS if s in sections), int(min_cell),
           bool(name_people), today)
st.download_button(
    "Download the report (HTML)", cache.html(*options), file_name=report_filename(info.name, today),
    mime="text/html", on_click="ignore", icon=":material/download:", key="report_download", type="primary",
)

st.header("Preview")
cache.preview(cache.content(*options))
