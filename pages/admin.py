"""Backups and access: back up the database, restore projects from a backup, members and roles, retention."""

from __future__ import annotations

import tempfile
from pathlib import Path

import streamlit as st

from coprod_map import access_store
from coprod_map.access import ROLE_WORDS, ROLES
from coprod_map.backup import POSTGRES_ADVICE, BackupRejected, backup_bytes, backup_name, inspect_backup, restore_backup
from coprod_map.errors import CoprodError, EditRejected
from coprod_map.privacy import retention_reminder
from coprod_map.ui.auth import actor, auth_configured, guard
from coprod_map.ui.state import current_project_id, store
from coprod_map.ui.widgets import safe_text, show_problems

access = guard("view", needs_project=False)
st.title("Backups and access")
db = store()
if current_project_id() and access.can("view"):  # members and the retention date below are this project's
    st.text(f"Project: {db.project_info(current_project_id()).name}")
is_sqlite = db.engine.url.get_backend_name() == "sqlite"
whole_database = access.local or access.admin  # a backup holds every project: only for whoever runs the app

# --- back up ------------------------------------------------------------------------------------
st.header("Back up now")
if not is_sqlite:
    st.info(POSTGRES_ADVICE)
elif not whole_database:
    st.info("A backup holds every project in this app, so only the people who run it (its admins) can make one.")
else:
    st.write("A backup is one file holding every project. It is made safely while others keep working. "
             "Keep it somewhere as safe as the app itself: it holds people's details.")

    def _backup() -> bytes:
        # Streamlit makes the file outside this page's run, where the signed-in user can't be read: the
        # access decision is the one taken above for this session (the button only exists if it allowed).
        return backup_bytes(db)

    st.download_button("Download a backup", data=_backup, file_name=backup_name(), mime="application/x-sqlite3",
                       icon=":material/download:", on_click="ignore")
    st.caption("Or from a terminal:")  # inline code in a caption is grey on grey (axe: colour contrast)
    st.code("coprod_map backup --out FILE", language=None)

# --- restore ------------------------------------------------------------------------------------
st.header("Restore from a backup")
if not whole_database:
    st.info("Only the people who run this app (its admins) can restore a backup.")
else:
    st.write("Projects in the backup are added as new projects. Nothing already here is changed or replaced; "
             "a project whose name is taken gets \"(restored DATE)\" added to its name.")
    upload = st.file_uploader("Backup file (.db)", type=["db", "sqlite", "sqlite3"], key="restore_upload",
                              help="A file made with \"Download a backup\" or `coprod_map backup`.")
    if upload is not None:
        with tempfile.TemporaryDirectory(prefix="coprod_restore_upload_") as folder:
            path = Path(folder) / "upload.db"  # never the uploaded file's own name
            path.write_bytes(upload.getvalue())
            try:
                info = inspect_backup(path)
            except BackupRejected as error:
                st.error(f"{safe_text(upload.name)}: {error}")
                info = None
            if info is not None:
                st.write(f"The backup holds {len(info.projects)} project(s):")
                st.dataframe(info.projects.rename(columns={"name": "project", "updated_at": "last changed",
                                                          "stakeholders": "stakeholders"}),
                             hide_index=True, column_order=["project", "stakeholders", "last changed"])
                if st.button("Add these projects as new projects", type="primary", key="restore_go"):
                    try:
                        done = restore_backup(db, path, actor=actor(), owner=actor())
                    except EditRejected as error:
                        show_problems(error.problems)
                    except CoprodError as error:
                        st.error(str(error))
                    else:
                        st.success(f"Restored {len(done)} project(s). Open them on the Projects page.")
                        st.dataframe({"new project": [r.name for r in done]}, hide_index=True)

# --- members and roles --------------------------------------------------------------------------
st.header("Members and roles")
project_id = current_project_id()
if not auth_configured():
    st.info("Sign-in is not set up, so this app is for one person on this computer and has no members. "
            "To share it with a team, see docs/deploying.md.")
elif not project_id:
    st.info("Open a project on the Projects page to see and change who can use it.")
elif not access.can("manage"):
    st.info("Only the project's owners can see and change who can use it.")
else:
    members = access_store.members(db, project_id)
    st.dataframe(members.rename(columns={"subject": "email", "may_see_private": "sees private fields",
                                         "added_at": "added", "added_by": "added by"}), hide_index=True)
    with st.form("member_form"):
        email = st.text_input("Email the person signs in with", max_chars=320)
        role = st.selectbox("Role", ROLES, index=0, format_func=ROLE_WORDS.get)
        private = st.checkbox("May see private fields (special-category details and stated needs)",
                              help="Only for people who need them for the work: need-to-know, not rank.")
        if st.form_submit_button("Give access"):
            try:
                access_store.set_member(db, project_id, email, role=role, may_see_private=private, actor=actor())
                st.success("Saved.")
            except EditRejected as error:
                show_problems(error.problems)
    if len(members):
        gone = st.selectbox("Remove someone's access", members["subject"].tolist(), index=None, key="member_remove")
        if gone and st.button("Remove access", key="member_remove_go"):
            try:
                access_store.remove_member(db, project_id, gone, actor=actor())
                st.success("Access removed.")
            except EditRejected as error:
                show_problems(error.problems)

# --- retention ----------------------------------------------------------------------------------
st.header("Keeping data no longer than needed")
if project_id and access.can("view"):
    reminder = retention_reminder(db.retention_until(project_id))
    if reminder is None:
        st.write(f"This project's retention date is {db.retention_until(project_id)}.")
    else:
        level, message = reminder
        (st.warning if level in ("past", "near") else st.info)(message)
else:
    st.info("Open a project to see its retention date.")
