"""Participant submissions: the review queue beside the map, the ideas and questions log, the participant link."""

import streamlit as st

from coprod_map.ui.cache import load_project
from coprod_map.ui.record_cache import private_toggle, record_for
from coprod_map.ui.state import require_project
from coprod_map.ui.voice_cache import decided_panel, ideas_log, invitations_panel, link_panel, queue_panel, show_message

info = require_project()
st.title("Participant submissions")
st.text(f"Project: {info.name}")
st.caption("What people sent through the participant form. Nothing reaches the map, or counts in who is involved, "
           "until you add it here.")
project = load_project(info.id, info.revision)
people = project.stakeholders[["id", "name", "kind"]]
show_private = private_toggle()
show_message()

queue, log, link = st.tabs(["Review queue", "Ideas and questions", "Participant link"])
with queue:
    submissions = queue_panel(info, people, show_private=show_private)
    decided_panel(info, submissions)
with log:
    record = record_for(info.id, info.revision)
    ideas_log(info, record.decisions, record.actions)
with link:
    link_panel(info, people)
    invitations_panel(info)
