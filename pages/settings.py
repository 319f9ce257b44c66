"""Project settings: attributes and their categories, coded lists, review cycles, small-number threshold."""

from datetime import datetime

import streamlit as st

from coprod_map.errors import CoprodError, EditRejected
from coprod_map.labels import SETTINGS_HELP
from coprod_map.ui.auth import actor
from coprod_map.ui.settings_form import attributes_frame, cycles_frame, settings_from_form
from coprod_map.ui.state import require_project, store
from coprod_map.ui.widgets import safe_text, show_problems

info = require_project()
settings = info.settings

st.title("Project settings")
st.text(f"Project: {info.name}")
st.caption("These choices shape the drop-down lists on the other pages and what is counted. "
           "Nothing changes until you press Save settings.")

message = st.session_state.pop("_settings_message", None)
if message:
    st.success(message, icon=":material/check_circle:")

cc = st.column_config
with st.form(f"settings_{info.id}_{info.revision}"):
    st.header("Who you record: attributes and their categories", anchor=False)
    st.caption(SETTINGS_HELP["attributes"])
    attributes = st.data_editor(
        attributes_frame(settings),
        num_rows="dynamic",
        hide_index=True,
        width="stretch",
        key=f"settings_attributes_{info.revision}",
        column_config={
            "attribute": cc.TextColumn("Attribute", help="For example: age band, area, disability.", required=True),
            "categories": cc.TextColumn(
                "Categories (separate with |)", width="large",
                help="For example: 16-24|25-44|45-64|65+. 'not recorded' and 'prefer not to say' are always allowed.",
            ),
        },
    )
    left, right = st.columns(2)
    relationship_types = left.text_area(
        "Types of relationship", "\n".join(settings.relationship_types), height=180,
        help=SETTINGS_HELP["relationship_types"],
    )
    activity_kinds = right.text_area(
        "Kinds of activity", "\n".join(settings.activity_kinds), height=180, help=SETTINGS_HELP["activity_kinds"],
    )
    st.header("Review cycles", anchor=False)
    st.caption(SETTINGS_HELP["cycles"])
    cycles = st.data_editor(
        cycles_frame(settings),
        num_rows="dynamic",
        hide_index=True,
        width="stretch",
        key=f"settings_cycles_{info.revision}",
        column_config={
            "name": cc.TextColumn("Name", help="For example: Cycle 1, or Spring 2026.", required=True),
            "start": cc.TextColumn("Start (YYYY-MM-DD)", help="The first day of the cycle.",
                                   validate=r"^(\d{4}-\d{2}-\d{2})?$"),
            "end": cc.TextColumn("End (YYYY-MM-DD)", help="The last day of the cycle.",
                                 validate=r"^(\d{4}-\d{2}-\d{2})?$"),
        },
    )
    min_cell = st.number_input(
        "Smallest number shown in anything you share", min_value=1, max_value=100, step=1,
        value=int(settings.min_cell), help=SETTINGS_HELP["min_cell"],
    )
    submitted = st.form_submit_button("Save settings", type="primary")

if submitted:
    new_settings, problems = settings_from_form(attributes, relationship_types, activity_kinds, cycles, min_cell)
    if problems:
        show_problems(problems, intro="The settings were not saved. Fix these and press Save settings again.")
    else:
        try:
            store().save_settings(info.id, new_settings, actor=actor())
        except EditRejected as error:
            show_problems(error.problems)
        except CoprodError as error:
            st.error(safe_text(f"Nothing was saved: {error}"))
        else:
            st.session_state["_settings_message"] = f"Saved at {datetime.now().strftime('%H:%M:%S')}"
            st.rerun()

st.caption("Removing an attribute or a category here does not delete what is already recorded for stakeholders.")
