"""Stakeholders and ties: the four editable tables and a quick form for adding a stakeholder."""

import streamlit as st

from coprod_map import labels
from coprod_map.ui.cache import load_project
from coprod_map.ui.editing import quick_add_stakeholder, table_editor
from coprod_map.ui.state import require_project

info = require_project()
project = load_project(info.id, info.revision)

st.title("Stakeholders and ties")
st.text(f"Project: {info.name}")
st.caption(
    "Change any cell and it is saved straight away. Add a row at the bottom of a table; "
    "to delete rows, tick them on the left and press the bin icon. A change that breaks a rule "
    "is not saved: a table says what to fix, and your change stays in the table until you fix or discard it."
)

with st.expander("Add a stakeholder quickly", icon=":material/person_add:", expanded=project.stakeholders.empty):
    quick_add_stakeholder(project, info)

tabs = st.tabs([labels.TABLE_LABELS[t] for t in labels.EDITABLE_TABLES])
for table, tab in zip(labels.EDITABLE_TABLES, tabs, strict=True):
    with tab:
        table_editor(table, project, info)
