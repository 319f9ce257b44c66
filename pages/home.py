"""Projects: welcome, choose or create a project, the sample, and what the open project holds."""

import streamlit as st

from coprod_map import labels
from coprod_map.ui import projects as actions
from coprod_map.ui.auth import guard, may_create_projects, visible_projects
from coprod_map.ui.state import current_project_id, store
from coprod_map.ui.widgets import safe_text

access = guard(needs_project=False)  # a project this person may not open is closed before anything is read

st.title("Projects")
st.write(labels.WELCOME)

db = store()
listing = visible_projects(db.list_projects())
actions.show_message()

ids = listing["id"].astype(str).tolist()
names = dict(zip(ids, listing["name"].astype(str), strict=True))
current = current_project_id()
if current not in ids:
    current = None
st.session_state[actions.PICKER_KEY] = current

left, right = st.columns([3, 2], vertical_alignment="bottom")
left.selectbox(
    "Open a project",
    ids,
    key=actions.PICKER_KEY,
    format_func=lambda pid: names.get(pid, pid),
    placeholder="Choose a project" if ids else "No projects yet: create one or open the sample",
    on_change=actions.open_chosen,
    help="The project you open is the one every other page works on.",
)
if may_create_projects():  # the sample is a project of its own: with sign-in, admins make it and add people
    right.button(
        "Open the sample project",
        on_click=actions.open_sample,
        icon=":material/science:",
        help="A small made-up project to explore. It is kept separate from your own projects.",
    )

if current:
    info = db.project_info(current)
    st.header("At a glance", anchor=False)
    st.text(info.name)
    if info.description:
        st.caption(safe_text(info.description))
    counts = actions.project_counts(listing, info)
    for column, table in zip(st.columns(len(counts)), counts, strict=True):
        column.metric(labels.TABLE_LABELS[table], f"{counts[table]:,}")
    st.caption(f"Last changed {actions.when(info.updated_at)} (change number {info.revision}).")

if may_create_projects():
    with st.expander("Create a new project", icon=":material/add:", expanded=not ids):
        st.text_input("Project name", key="new_project_name", max_chars=200,
                      help=labels.SETTINGS_HELP["project_name"])
        st.text_input("Description", key="new_project_description", max_chars=500,
                      help=labels.SETTINGS_HELP["project_description"])
        st.button("Create project", type="primary", on_click=actions.create_project,
                  args=("new_project_name", "new_project_description"))
elif not ids:
    st.info("You are not a member of any project yet. Ask a project's owner (or whoever runs this app) to add you.")

if current and access.can("edit"):
    with st.expander("Rename or copy this project", icon=":material/edit:"):
        st.text_input("New name", key="rename_name", max_chars=200, help=labels.SETTINGS_HELP["project_name"])
        st.text_input("New description", key="rename_description", value=None, max_chars=500,
                      help=labels.SETTINGS_HELP["project_description"])
        st.button("Rename", on_click=actions.rename_current, args=("rename_name", "rename_description"))
        st.divider()
        st.text_input("Name for the copy", key="copy_name", max_chars=200,
                      help="The copy holds everything this project holds, and is then changed on its own.")
        st.button("Make a copy", on_click=actions.copy_current, args=("copy_name",))
if current and access.can("manage"):
    with st.expander("Delete this project", icon=":material/delete:"):
        st.warning("Deleting removes the project and everything in it. This cannot be undone. "
                   "Download an export first if you may need it again.")
        st.text_input("Type the project's name to confirm", key="delete_confirm",
                      help="This makes sure the right project is deleted.")
        st.button("Delete this project for good", on_click=actions.delete_current,
                  args=("delete_confirm", info.name))

st.caption(f"Where your data is kept: {safe_text(db.url_display)}")
