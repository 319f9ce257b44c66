"""Import and export: the upload wizard, downloads in every format, and blank templates."""

import streamlit as st

from coprod_map.io.export import FORMATS, export_project
from coprod_map.io.templates import DATE_WORDS, TEMPLATES, template
from coprod_map.model import empty_project
from coprod_map.store import acting_as
from coprod_map.ui.auth import actor, allowed, may_see_private
from coprod_map.ui.cache import export_file
from coprod_map.ui.importing import upload_wizard
from coprod_map.ui.state import require_project, store

info = require_project()  # with sign-in: facilitators and owners ("import")

st.title("Import and export")
st.text(f"Project: {info.name}")

st.header("Import files")
st.caption("Dates: " + DATE_WORDS + " Numbers such as 03/04/2025 are read day first unless the file shows "
           "otherwise; the import says how it read them.")
with acting_as(actor()):  # the import runs in this page run: the audit trail names the signed-in person
    upload_wizard(info)

st.header("Download this project")
st.caption("Each file is made when you press its button. Network formats (Kumu, Gephi, GraphML, GEXF) "
           "hold stakeholders and relationships only.")
private = False
if may_see_private():  # the membership's need-to-know flag, checked against the database on every run
    private = st.checkbox(
        "Include people's stated needs (private)", value=False, key="export_private",
        help="Off: the files leave out each person's stated needs. Tick only when whoever gets the files may see them.")
else:
    st.caption("People's stated needs are private: they are left out of these files.")


def _log_export(fmt: str) -> None:
    """The audit trail records who exported the project and in which format (never what was in it)."""
    if allowed("export"):
        store().log_export(info.id, fmt, actor=actor())


for fmt, description in FORMATS.items():
    file_name = export_project(empty_project(), fmt, name=info.name)[0]  # the name only: cheap
    left, right = st.columns([3, 2], vertical_alignment="center")
    left.text(description)
    left.caption(f"File: {file_name}")
    right.download_button(
        f"Download {file_name.rsplit('.', 1)[-1].upper()}",
        lambda fmt=fmt: export_file(info.id, info.revision, fmt, info.name, private)[1],  # after the guard only
        file_name=file_name, mime=None, on_click=_log_export, args=(fmt,), icon=":material/download:",
        key=f"export_{fmt}",
    )

st.header("Blank templates")
st.caption("Fill these in with a spreadsheet program, then import them above. Each has one example row.")
kind = st.selectbox("Template", list(TEMPLATES), format_func=TEMPLATES.get, key="template_kind",
                    help="Pick the table you want to fill in.")
template_name, template_bytes = template(kind)
st.download_button(f"Download {template_name}", template_bytes, file_name=template_name, on_click="ignore",
                   icon=":material/download:")
