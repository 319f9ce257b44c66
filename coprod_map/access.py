"""Who may do what in a project: roles, actions and the pages that need them. Pure: no database, no Streamlit.

Roles, from most to least:

- ``owner``: everything a facilitator can, plus managing members and roles, and deleting the project.
- ``facilitator``: reads and changes the map, the record and the settings; imports and exports.
- ``viewer`` (e.g. a steering-group member): reads the pages and shares reports; changes nothing.

Whether someone may see *private fields* (special-category attributes, stated needs, history values) is a
separate permission given per member (``may_see_private``), because need-to-know is not the same as rank.

Signing in (``st.login``) only says who someone is. These rules, checked on every page run against the
``memberships`` table (``coprod_map.access_store``), say what they may do.

>>> can("viewer", "view"), can("viewer", "edit"), can("facilitator", "edit"), can("facilitator", "manage")
(True, False, True, False)
>>> can("owner", "manage"), can("stranger", "view")
(True, False)
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ACTIONS",
    "PAGE_PERMISSIONS",
    "PRIVATE",
    "ROLES",
    "ROLE_WORDS",
    "Access",
    "can",
    "check_role",
    "page_permission",
]

#: The roles, lowest first.
ROLES: tuple[str, ...] = ("viewer", "facilitator", "owner")

ROLE_WORDS: dict[str, str] = {
    "viewer": "Viewer: reads the project and shares reports; changes nothing",
    "facilitator": "Facilitator: reads and changes the map, the record and the settings",
    "owner": "Owner: everything, plus members, roles and deleting the project",
}

#: action -> the lowest role that may do it.
ACTIONS: dict[str, str] = {
    "view": "viewer",      # open the project's pages, charts and summaries
    "report": "viewer",    # make a shared report (private fields never go in one)
    "edit": "facilitator",  # change stakeholders, ties, activities, the record, settings; undo
    "import": "facilitator",
    "export": "facilitator",  # a full export holds every row: more than a viewer reads on screen
    "manage": "owner",     # members and roles, retention, erasing a person, deleting the project
}

#: The separate permission to see private fields.
PRIVATE = "see_private"

#: Page file stem -> the action a person needs to open that page (unknown pages need "edit": fail closed).
PAGE_PERMISSIONS: dict[str, str] = {
    "home": "view",
    "about": "view",
    "representation": "view",
    "network": "view",
    "report": "report",
    "history": "view",
    "stakeholders": "edit",
    "import_export": "import",
    "settings": "edit",
    "record": "edit",
    "review_queue": "edit",
    "admin": "view",  # the page itself checks "manage" for members and being an admin for backups
}


def check_role(role: str) -> str:
    """``role`` in canonical form, or ``ValueError`` naming the roles there are.

    >>> check_role(" Facilitator ")
    'facilitator'
    """
    cleaned = str(role or "").strip().casefold()
    if cleaned not in ROLES:
        raise ValueError(f"'{str(role)[:40]}' is not a role. Choose one of: {', '.join(ROLES)}.")
    return cleaned


def can(role: str | None, action: str, *, may_see_private: bool = False) -> bool:
    """Whether someone with ``role`` (``None``: no membership) may do ``action``.

    ``action`` is one of ``ACTIONS`` or ``PRIVATE``; an unknown action is refused (fail closed).

    >>> can("owner", "see_private"), can("owner", "see_private", may_see_private=True)
    (False, True)
    >>> can("viewer", "fly")
    False
    """
    if role not in ROLES:
        return False
    if action == PRIVATE:
        return bool(may_see_private)
    needed = ACTIONS.get(action)
    if needed is None:
        return False
    return ROLES.index(role) >= ROLES.index(needed)


def page_permission(page_stem: str) -> str:
    """The action a page needs (``"edit"`` for a page not listed: new pages are closed until listed).

    >>> page_permission("network"), page_permission("something_new")
    ('view', 'edit')
    """
    return PAGE_PERMISSIONS.get(str(page_stem), "edit")


@dataclass(frozen=True)
class Access:
    """What the person using this session may do in the open project.

    ``local`` is True when no sign-in is set up: one person on their own computer may do everything.
    ``admin`` people (listed in the deployment's configuration) may do every action in every project and
    manage backups, but see private fields only where their own membership allows it.
    """

    user: str
    role: str | None
    may_see_private: bool = False
    admin: bool = False
    local: bool = False

    def can(self, action: str) -> bool:
        if self.local:
            return True
        if action == PRIVATE:  # need-to-know: being an admin does not open private fields by itself
            return bool(self.may_see_private) and (self.admin or self.role in ROLES)
        return self.admin or can(self.role, action)

    @property
    def sees_private(self) -> bool:
        return self.can(PRIVATE)
