"""Project memberships in the database (schema 6): who may open which project, in which role.

Only used when sign-in is set up (``coprod_map.ui.auth``). A person is known by their sign-in email in
lower case (or the provider's subject id when it gives no email). Every change is one transaction and
leaves an audit row (``actions``, kind "access"): who changed whose access, to what; no map data.

A project always keeps at least one owner: removing or demoting the last one is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from coprod_map import schema
from coprod_map.access import ROLES, check_role
from coprod_map.errors import EditRejected, Problem

__all__ = ["Membership", "insert_membership", "members", "membership", "normalise_subject", "project_ids_for",
           "remove_member", "set_member"]


@dataclass(frozen=True)
class Membership:
    project_id: str
    subject: str
    role: str
    may_see_private: bool


def normalise_subject(subject: str) -> str:
    """How a person is stored: trimmed, lower case (emails are compared case-blind).

    >>> normalise_subject("  Ann.Lee@Example.ORG ")
    'ann.lee@example.org'
    """
    cleaned = str(subject or "").strip().casefold()
    if not cleaned or len(cleaned) > 320 or any(ord(ch) < 32 for ch in cleaned):
        raise EditRejected([Problem("Members", None, "email", "give the person's sign-in email (one line, "
                                                             "at most 320 characters).")])
    return cleaned


def _table() -> sa.Table:
    return schema.METADATA.tables["memberships"]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _audit(conn: Connection, project_id: str, actor: str | None, summary: str) -> None:
    a = schema.METADATA.tables.get("actions")
    if a is None:
        return
    p = schema.METADATA.tables["projects"]
    revision = conn.execute(sa.select(p.c.revision).where(p.c.id == project_id)).scalar() or 0
    conn.execute(a.insert().values(project_id=project_id, at=_now(), actor=str(actor or "local user")[:200],
                                   kind="access", summary=summary, fields="role|may_see_private",
                                   revision=int(revision)))


def insert_membership(conn: Connection, project_id: str, subject: str, *, role: str, may_see_private: bool,
                      actor: str | None) -> None:
    """Add or change one membership inside the caller's transaction (used by restores and project creation)."""
    m = _table()
    subject, role = normalise_subject(subject), check_role(role)
    where = sa.and_(m.c.project_id == project_id, m.c.subject == subject)
    if conn.execute(sa.select(m.c.role).where(where)).first() is None:
        conn.execute(m.insert().values(project_id=project_id, subject=subject, role=role,
                                       may_see_private=bool(may_see_private), added_at=_now(),
                                       added_by=str(actor or "")[:320]))
        _audit(conn, project_id, actor, f"gave {subject} the role {role}"
                                        f"{' with private fields' if may_see_private else ''}")
    else:
        conn.execute(m.update().where(where).values(role=role, may_see_private=bool(may_see_private)))
        _audit(conn, project_id, actor, f"changed {subject} to the role {role}"
                                        f"{' with private fields' if may_see_private else ''}")


def _owners(conn: Connection, project_id: str) -> set[str]:
    m = _table()
    return set(conn.execute(sa.select(m.c.subject).where(m.c.project_id == project_id, m.c.role == "owner")).scalars())


def set_member(store, project_id: str, subject: str, *, role: str, may_see_private: bool = False,  # noqa: ANN001
               actor: str | None = None) -> None:
    """Give ``subject`` ``role`` in the project (added, or changed if already a member)."""
    try:
        role = check_role(role)
    except ValueError as error:
        raise EditRejected([Problem("Members", None, "role", str(error))]) from None
    subject = normalise_subject(subject)
    with store._write() as conn:  # noqa: SLF001 - the store's transaction (BEGIN IMMEDIATE on SQLite)
        store._project_row(conn, project_id)  # noqa: SLF001 - ProjectNotFound for an unknown id
        if role != "owner" and _owners(conn, project_id) == {subject}:
            raise EditRejected([Problem("Members", None, "role", "this is the project's only owner. Make someone "
                                                                "else an owner first.")])
        insert_membership(conn, project_id, subject, role=role, may_see_private=may_see_private, actor=actor)


def remove_member(store, project_id: str, subject: str, *, actor: str | None = None) -> None:  # noqa: ANN001
    """Take ``subject``'s access to the project away (never the last owner's)."""
    subject = normalise_subject(subject)
    m = _table()
    with store._write() as conn:  # noqa: SLF001
        store._project_row(conn, project_id)  # noqa: SLF001
        if _owners(conn, project_id) == {subject}:
            raise EditRejected([Problem("Members", None, None, "this is the project's only owner, so they cannot be "
                                                              "removed. Make someone else an owner first.")])
        gone = conn.execute(m.delete().where(m.c.project_id == project_id, m.c.subject == subject)).rowcount
        if gone:
            _audit(conn, project_id, actor, f"removed {subject}'s access")


def members(store, project_id: str) -> pd.DataFrame:  # noqa: ANN001
    """The project's members: subject, role, may_see_private, added_at, added_by (owners first)."""
    m = _table()
    with store._read() as conn:  # noqa: SLF001
        frame = pd.read_sql(sa.select(m.c.subject, m.c.role, m.c.may_see_private, m.c.added_at, m.c.added_by)
                            .where(m.c.project_id == str(project_id)), conn)
    frame = frame.astype({"subject": object, "role": object, "added_at": object, "added_by": object})
    frame["may_see_private"] = frame["may_see_private"].astype(bool)
    rank = frame["role"].map({r: -i for i, r in enumerate(ROLES)})
    return frame.assign(_rank=rank).sort_values(["_rank", "subject"]).drop(columns="_rank").reset_index(drop=True)


def membership(store, project_id: str | None, subject: str | None) -> Membership | None:  # noqa: ANN001
    """``subject``'s membership of the project, or ``None`` (unknown project, blank subject: ``None`` too)."""
    if not project_id or not subject:
        return None
    try:
        subject = normalise_subject(subject)
    except EditRejected:
        return None
    m = _table()
    with store._read() as conn:  # noqa: SLF001
        row = conn.execute(sa.select(m.c.role, m.c.may_see_private).where(
            m.c.project_id == str(project_id), m.c.subject == subject)).first()
    if row is None:
        return None
    return Membership(project_id=str(project_id), subject=subject, role=str(row.role),
                      may_see_private=bool(row.may_see_private))


def project_ids_for(store, subject: str | None) -> set[str]:  # noqa: ANN001
    """Ids of every project ``subject`` is a member of."""
    if not subject:
        return set()
    try:
        subject = normalise_subject(subject)
    except EditRejected:
        return set()
    m = _table()
    with store._read() as conn:  # noqa: SLF001
        return set(conn.execute(sa.select(m.c.project_id).where(m.c.subject == subject)).scalars())
