"""The access guard every page runs first: sign-in when it is set up, then membership and role.

Two modes, chosen by the deployment:

- **No sign-in set up** (no ``[auth]`` section in ``.streamlit/secrets.toml``): one person on their own
  computer. Everything is allowed and a small notice says so. The app should then listen on loopback only
  (``server.address = "127.0.0.1"``; see docs/deploying.md).
- **Sign-in set up**: a person who is not signed in sees only the sign-in button, on every page (pages
  opened directly included). A signed-in person sees only the projects they are a member of
  (``coprod_map.access_store``), and only the pages their role allows. Admins (``COPROD_MAP_ADMINS`` or
  ``[coprod_map] admins`` in the secrets: a list of emails) see every project and manage backups.

The check runs on every page run, against the database, outside every cache: ``st.login`` only says who
someone is, never what they may see. The open project id in ``st.session_state`` is never trusted: a
project the person is not a member of is closed before anything of it is read.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

import pandas as pd
import streamlit as st

from coprod_map import access_store
from coprod_map.access import PRIVATE, ROLES, Access, page_permission
from coprod_map.store import LOCAL_USER

__all__ = ["LOCAL_NOTICE", "actor", "admins", "allowed", "auth_configured", "current_access", "guard",
           "make_owner", "may_create_projects", "may_see_private", "signed_in_subject", "visible_projects"]

LOCAL_NOTICE = "Running for one person on this computer (no sign-in set up)."
ADMINS_ENV = "COPROD_MAP_ADMINS"

_ACTION_WORDS = {"view": "open this project", "report": "share reports", "edit": "change this project",
                 "import": "import or export files", "export": "export files", "manage": "manage this project",
                 PRIVATE: "see private fields"}


def _secrets_section(name: str) -> Mapping | None:
    try:
        if name not in st.secrets:
            return None
        section = st.secrets[name]
    except Exception:  # noqa: BLE001 - no secrets file, or one that cannot be read: no section
        return None
    return section if isinstance(section, Mapping) else None


def auth_configured() -> bool:
    """Whether the deployment set up sign-in (an ``[auth]`` section in the secrets)."""
    return _secrets_section("auth") is not None


def providers() -> list[str]:
    """Named providers (``[auth.NAME]`` sections with a client id); empty for the single default one."""
    section = _secrets_section("auth") or {}
    return [str(k) for k, v in section.items() if isinstance(v, Mapping) and "client_id" in v]


def admins() -> set[str]:
    """Emails of the deployment's admins (environment ``COPROD_MAP_ADMINS``, comma-separated, and/or
    ``admins = [...]`` under ``[coprod_map]`` in the secrets)."""
    found = {a for a in os.environ.get(ADMINS_ENV, "").split(",") if a.strip()}
    section = _secrets_section("coprod_map") or {}
    listed = section.get("admins", [])
    found |= {listed} if isinstance(listed, str) else {str(a) for a in listed or []}
    return {a.strip().casefold() for a in found if a.strip()}


def _user_value(key: str) -> object:
    try:
        return st.user.get(key)
    except Exception:  # noqa: BLE001 - st.user unavailable outside a session
        return None


def signed_in_subject() -> str | None:
    """The signed-in person's email (lower case), else their provider subject id; ``None`` when signed out."""
    if not _user_value("is_logged_in"):
        return None
    for key in ("email", "sub"):
        value = _user_value(key)
        if value and str(value).strip():
            return str(value).strip().casefold()
    return None


def _calling_page() -> str:
    """The stem of the ``pages/*.py`` file running now (found on the call stack), "" when none."""
    frame = sys._getframe(1)  # noqa: SLF001 - cheap, and exact for the page that called us
    while frame is not None:
        path = Path(frame.f_code.co_filename)
        if path.parent.name == "pages" and path.suffix == ".py":
            return path.stem
        frame = frame.f_back
    return ""


def _store():
    from coprod_map.ui.state import store

    return store()


def current_access(project_id: str | None = None) -> Access:
    """What this session may do in ``project_id`` (default: the open project). Never cached."""
    if not auth_configured():
        return Access(user=LOCAL_USER, role="owner", may_see_private=True, local=True)
    subject = signed_in_subject()
    if subject is None:
        return Access(user="", role=None)
    if project_id is None:
        project_id = st.session_state.get("project_id")
    member = access_store.membership(_store(), project_id, subject) if project_id else None
    return Access(user=subject, role=member.role if member else None,
                  may_see_private=bool(member and member.may_see_private), admin=subject in admins())


def allowed(action: str, project_id: str | None = None) -> bool:
    """For widget callbacks, which run BEFORE the page (and its guard): may this session do ``action`` now?

    ``if not allowed("edit"): return`` at the top of a callback stops a stale button or editor (a role taken
    away, a signed-out cookie, a project id set by hand) from writing anything.
    """
    if auth_configured() and signed_in_subject() is None:
        return False
    return current_access(project_id).can(action)


def actor() -> str | None:
    """Who to record in the audit trail for a change made now (``None`` locally: the store's "local user")."""
    return signed_in_subject() if auth_configured() else None


def make_owner(project_id: str) -> None:
    """After this session created a project (new, copied or restored): with sign-in, make its creator the owner
    (who may see private fields), so they can open it and add others. Locally: nothing to do."""
    subject = signed_in_subject() if auth_configured() else None
    if subject:
        access_store.set_member(_store(), project_id, subject, role="owner", may_see_private=True, actor=subject)


def may_see_private() -> bool:
    """Whether this session may see private fields of the open project (the flag on the membership)."""
    return current_access().sees_private


def may_create_projects() -> bool:
    """Creating projects: anyone locally; with sign-in, admins only (they then add owners)."""
    access = current_access()
    return access.local or access.admin


def visible_projects(listing: pd.DataFrame) -> pd.DataFrame:
    """``Store.list_projects()`` cut to the projects this session may open."""
    access = current_access()
    if access.local or access.admin:
        return listing
    mine = access_store.project_ids_for(_store(), access.user)
    return listing.loc[listing["id"].astype(str).isin(mine)].reset_index(drop=True)


def _login_screen() -> None:
    st.title("Sign in")
    st.write("This coprod_map holds details about people, so only people who have been given access can use it. "
             "Sign in to continue.")
    sign_in_buttons()
    st.stop()


def sign_in_buttons(*, key_prefix: str = "") -> None:
    """One "Sign in with X" button per configured provider, or a plain "Sign in" for a single one."""
    names = providers()
    for name in names:
        st.button(f"Sign in with {name}", on_click=st.login, args=(name,), key=f"{key_prefix}login_{name}",
                  type="primary")
    if not names:
        st.button("Sign in", on_click=st.login, key=f"{key_prefix}login", type="primary")


def _signed_in_bar(access: Access) -> None:
    role = "admin" if access.admin and not access.role else access.role or "no role in the open project"
    st.sidebar.caption(f"Signed in as {access.user} ({role})")
    st.sidebar.button("Sign out", on_click=st.logout, key="auth_sign_out")


def guard(permission: str | None = None, *, needs_project: bool = True, quiet: bool = False) -> Access:
    """Run first on every page: stop the page unless this session may do ``permission`` in the open project.

    ``permission`` defaults to the calling page's (``coprod_map.access.PAGE_PERMISSIONS``; unknown pages
    need "edit"). ``needs_project=False`` (the Projects page): a project this person may not open is
    closed quietly and the page goes on; otherwise the page stops with a plain message. ``quiet`` (for
    ``app.py``, which runs before the page's own guard): check only, draw no notice or sign-out button.
    """
    permission = permission or page_permission(_calling_page())
    if not auth_configured():
        if not quiet:
            st.caption(LOCAL_NOTICE)
        return current_access()
    subject = signed_in_subject()
    if subject is None:
        _login_screen()
    project_id = st.session_state.get("project_id")
    access = current_access(project_id)
    if not quiet:
        _signed_in_bar(access)
    if project_id and not (access.admin or access.role in ROLES):
        st.session_state.pop("project_id", None)  # never keep (or show) a project this person cannot open
        if needs_project:
            st.warning("You do not have access to that project. Choose one of your projects on the Projects page.")
            st.stop()
        return current_access(None)
    if project_id and not access.can(permission):
        st.warning(f"Your role in this project ({access.role}) does not let you {_ACTION_WORDS.get(permission, 'do this')}. "
                   "The pages Who is involved, Relationships and Share a report show the project. "
                   "Ask the project's owner if you need more.")
        st.stop()
    return access
