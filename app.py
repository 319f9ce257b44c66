"""coprod_map: the Streamlit app. Run with ``streamlit run app.py``.

This file only sets up the page and the navigation; every page lives in ``pages/``.
"""

from pathlib import Path

import streamlit as st

from coprod_map.ui.auth import guard

HERE = Path(__file__).parent

# A local icon: a ":material/...:" page icon makes the browser fetch the favicon from Google's font host.
st.set_page_config(page_title="coprod_map", page_icon=str(HERE / "coprod_map" / "assets" / "icon.png"), layout="wide")

# A visible keyboard focus on everything (WCAG 2.4.7): Streamlit draws none on its sidebar links or the data grid's
# toolbar buttons, and keeps that toolbar transparent and tucked under the grid's top edge unless the mouse is over
# it, even with a button in it focused (so it is shown as on hover: opacity, z-index and top measured in 1.67).
# #0072B2 is the theme colour: 5.2:1 on white, 4.6:1 on the sidebar's grey (3:1 needed). A fixed string: no user
# text ever goes into it. (Style only, so st.html adds it without taking any room on the page.)
FOCUS_CSS = (
    "<style>:focus-visible { outline: 2px solid #0072B2 !important; outline-offset: 2px !important; }"
    ' [data-testid="stElementToolbar"]:focus-within { opacity: 1 !important; z-index: 1 !important;'
    " top: -2.75rem !important; }</style>"
)
st.html(FOCUS_CSS)

SECTIONS = {
    "Your project": [
        ("pages/home.py", "Projects", ":material/home:"),
        ("pages/settings.py", "Project settings", ":material/tune:"),
        ("pages/admin.py", "Backups and access", ":material/admin_panel_settings:"),
    ],
    "Map": [
        ("pages/stakeholders.py", "Stakeholders and ties", ":material/groups:"),
        ("pages/import_export.py", "Import and export", ":material/upload_file:"),
    ],
    "Understand": [
        ("pages/representation.py", "Who is involved", ":material/balance:"),
        ("pages/network.py", "Relationships", ":material/hub:"),
    ],
    "Co-production record": [
        ("pages/record.py", "Decisions and record", ":material/history_edu:"),
        ("pages/review_queue.py", "Participant submissions", ":material/inbox:"),
        ("pages/history.py", "History", ":material/undo:"),
        ("pages/report.py", "Share a report", ":material/summarize:"),
    ],
    "About": [
        ("pages/about.py", "About co-production", ":material/info:"),
    ],
}

if st.query_params.get("join"):
    # A participant's link: only the participant form, never the facilitators' pages.
    st.navigation([st.Page("pages/participate.py", title="Take part")], position="hidden").run()
    st.stop()

# Signed out (with sign-in set up): the sign-in screen instead of the navigation. Each page checks again itself.
guard("view", needs_project=False, quiet=True)

navigation = {
    section: [
        st.Page(path, title=title, icon=icon, default=(path == "pages/home.py"))
        for path, title, icon in pages
        if (HERE / path).exists()
    ]
    for section, pages in SECTIONS.items()
}
st.navigation({s: p for s, p in navigation.items() if p}).run()
