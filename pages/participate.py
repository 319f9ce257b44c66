"""The participant form, reached by a project's participant link (``?join=TOKEN``); nothing else is shown."""

import streamlit as st

from coprod_map.ui.voice_cache import participant_page

participant_page(str(st.query_params.get("join", "")))
