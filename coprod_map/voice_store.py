"""Participant voice in the database: the participant link, submissions, the review decisions, the ideas log.

Functions take a :class:`coprod_map.store.Store` and use its transaction helpers, like
:mod:`coprod_map.record_store`: every change is ONE transaction, checked before a row is written
(``EditRejected`` names the question or the row and column; nothing is written), and moves the
project's revision on by one.

Accepting or merging a submission changes the map through the store's own merge, check and write
steps, so a participant's answers are validated exactly like an import; the new stakeholder, its
ties, its needs and the submission's new status are written together or not at all.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from coprod_map import record_store, schema
from coprod_map import store as store_module
from coprod_map.errors import CoprodError, EditRejected, Problem
from coprod_map.model import INVOLVEMENT_LEVELS, TABLES, Project, ProjectSettings, split_list
from coprod_map.participation_voice import (
    IDEA_KINDS,
    IDEA_STATUSES,
    MAX_INVITED,
    MAX_PENDING,
    STATUSES,
    MergePlan,
    Submission,
    check_submission,
    ideas_rows,
    make_receipt,
    make_token,
    normalise_email,
    normalise_receipt,
    offerable,
    plan_accept,
    plan_merge,
    self_assessment_rows,
)
from coprod_map.record import check_table, cycle_names
from coprod_map.store import Store

__all__ = [
    "IDEA_COLUMNS",
    "LinkClosed",
    "NotInvited",
    "VoiceLink",
    "accept",
    "apply_idea_edits",
    "change_invitations",
    "decline",
    "erase_person_voice",
    "form_context",
    "ideas",
    "is_invited",
    "link_for",
    "merge",
    "project_for_token",
    "receipt_view",
    "regenerate_link",
    "set_link_enabled",
    "set_people_ok",
    "submission",
    "submissions",
    "submit",
    "withdraw",
]

IDEA_COLUMNS = ["id", "submission_id", "kind", "text", "raised_by", "status", "decision_id", "action_id",
                "response", "raised_on"]
_SUBMISSION_COLUMNS = ["id", "receipt", "submitted_at", "status", "name", "answers", "outcome", "decided_at",
                       "stakeholder_id"]
_TOKEN = re.compile(r"^[A-Za-z0-9_\-]{16,64}$")
_QUEUE = "Participant submissions"
_LOG = "Ideas and questions log"


class LinkClosed(CoprodError):
    """The participant link is unknown or switched off. The message is safe to show anyone."""

    def __init__(self) -> None:
        super().__init__("This link is not open at the moment.")


class NotInvited(CoprodError):
    """Sign-in is set up and the signed-in person is not on the link's invitation list. Safe to show anyone."""

    def __init__(self) -> None:
        super().__init__("This link is for invited people only.")


@dataclass(frozen=True)
class VoiceLink:
    token: str
    enabled: bool
    people_ok: tuple[str, ...]
    created_at: str
    #: emails (lower case) invited to use the link when sign-in is set up
    invited: tuple[str, ...] = ()


def _t(name: str) -> sa.Table:
    return schema.METADATA.tables[name]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _settings(row: sa.Row) -> ProjectSettings:
    return ProjectSettings.from_dict(json.loads(row.settings or "{}"))


# --- the participant link -------------------------------------------------------------------------

def _link_row(conn: Connection, project_id: str) -> sa.Row | None:
    t = _t("voice_links")
    return conn.execute(sa.select(t).where(t.c.project_id == project_id)).first()


def _link_lists(text: str) -> tuple[list[str], list[str]]:
    """``voice_links.people_ok`` -> (people ids the form may offer, invited emails).

    The column holds JSON ``{"people_ok": [...], "invited": [...]}`` since invitations were added (no schema
    change); a link saved before then holds the people ids as ``a|b``, read as such with nobody invited.
    """
    text = str(text or "")
    if text.startswith("{"):
        try:
            doc = json.loads(text)
        except ValueError:
            doc = None
        if isinstance(doc, dict):
            return [str(p) for p in doc.get("people_ok", [])], [str(e) for e in doc.get("invited", [])]
    return split_list(text), []


def _lists_text(people_ok: list[str], invited: list[str]) -> str:
    return json.dumps({"people_ok": list(dict.fromkeys(people_ok)), "invited": list(dict.fromkeys(invited))},
                      ensure_ascii=False)


def _as_link(row: sa.Row | None) -> VoiceLink | None:
    if row is None:
        return None
    people_ok, invited = _link_lists(row.people_ok)
    return VoiceLink(token=row.token, enabled=bool(row.enabled), people_ok=tuple(people_ok),
                     created_at=row.created_at, invited=tuple(invited))


def link_for(store: Store, project_id: str) -> VoiceLink | None:
    """The project's participant link, or None when it never had one."""
    with store._read() as conn:
        store._project_row(conn, project_id)
        return _as_link(_link_row(conn, project_id))


def _ensure_link(conn: Connection, project_id: str) -> sa.Row:
    row = _link_row(conn, project_id)
    if row is None:
        conn.execute(_t("voice_links").insert().values(project_id=project_id, token=make_token(), enabled=False,
                                                       people_ok="", created_at=_now()))
        row = _link_row(conn, project_id)
    return row


def set_link_enabled(store: Store, project_id: str, enabled: bool) -> VoiceLink:
    """Switch the participant link on or off (made, with a new random token, the first time)."""
    t = _t("voice_links")
    with store._write() as conn:
        store._project_row(conn, project_id)
        _ensure_link(conn, project_id)
        conn.execute(t.update().where(t.c.project_id == project_id)
                     .values(enabled=bool(enabled), version=t.c.version + 1))
        store._bump(conn, project_id)
        return _as_link(_link_row(conn, project_id))


def regenerate_link(store: Store, project_id: str) -> VoiceLink:
    """A new token: the old link stops working at once. Whether the link is on does not change."""
    t = _t("voice_links")
    with store._write() as conn:
        store._project_row(conn, project_id)
        _ensure_link(conn, project_id)
        conn.execute(t.update().where(t.c.project_id == project_id)
                     .values(token=make_token(), created_at=_now(), version=t.c.version + 1))
        store._bump(conn, project_id)
        return _as_link(_link_row(conn, project_id))


def set_people_ok(store: Store, project_id: str, people: list[str]) -> VoiceLink:
    """The people whose names the form may offer (each must be a person on the map)."""
    t = _t("voice_links")
    s = _t("stakeholders")
    with store._write() as conn:
        store._project_row(conn, project_id)
        persons = set(conn.execute(sa.select(s.c.id).where(s.c.project_id == project_id, s.c.kind == "person"))
                      .scalars())
        unknown = [p for p in people if p not in persons]
        if unknown:
            raise EditRejected([Problem(_QUEUE, None, "people", f"'{unknown[0]}' is not a person on the map.")])
        _, invited = _link_lists(_ensure_link(conn, project_id).people_ok)
        conn.execute(t.update().where(t.c.project_id == project_id)
                     .values(people_ok=_lists_text(list(people), invited), version=t.c.version + 1))
        store._bump(conn, project_id)
        return _as_link(_link_row(conn, project_id))


def change_invitations(store: Store, project_id: str, *, add: Sequence[str] = (),
                       remove: Sequence[str] = ()) -> VoiceLink:
    """Invite the emails in ``add`` and take back the ones in ``remove``, as one change (``remove`` wins).

    Used only when sign-in is set up: the participant page then opens for the invited signed-in emails alone.
    Emails are kept in lower case; one that is not an email address is refused, naming it, and nothing changes.
    """
    problems = [Problem("Invitations", None, "email", f"'{str(e)[:80]}' is not an email address.")
                for e in add if not normalise_email(e)]
    if problems:
        raise EditRejected(problems)
    t = _t("voice_links")
    with store._write() as conn:
        store._project_row(conn, project_id)
        people_ok, invited = _link_lists(_ensure_link(conn, project_id).people_ok)
        gone = {normalise_email(e) or str(e).strip().casefold() for e in remove}
        new = [e for e in dict.fromkeys([*invited, *map(normalise_email, add)]) if e not in gone]
        if len(new) > MAX_INVITED:
            raise EditRejected([Problem("Invitations", None, "email", f"A link can have at most {MAX_INVITED:,} "
                                        "invited people. Nothing was changed.")])
        if new != invited:
            conn.execute(t.update().where(t.c.project_id == project_id)
                         .values(people_ok=_lists_text(people_ok, new), version=t.c.version + 1))
            store._bump(conn, project_id)
        return _as_link(_link_row(conn, project_id))


def _check_invited(conn: Connection, project_id: str, subject: str) -> None:
    _, invited = _link_lists(_link_row(conn, project_id).people_ok)
    if not subject or str(subject).strip().casefold() not in set(invited):
        raise NotInvited()


def is_invited(store: Store, token: str, subject: str) -> bool:
    """Whether the signed-in ``subject`` (an email) is invited to the open link ``token`` (``LinkClosed`` when
    the link is not open). Only the answer leaves here, never the list."""
    with store._read() as conn:
        project_id = _open_project_for(conn, token)
        if project_id is None:
            raise LinkClosed()
        try:
            _check_invited(conn, project_id, subject)
        except NotInvited:
            return False
        return True


def _open_project_for(conn: Connection, token: str) -> str | None:
    if not _TOKEN.match(str(token or "")):
        return None
    t = _t("voice_links")
    row = conn.execute(sa.select(t.c.project_id).where(t.c.token == str(token), t.c.enabled.is_(True))).first()
    return None if row is None else str(row.project_id)


def project_for_token(store: Store, token: str) -> str | None:
    """The project whose participant link has ``token`` and is switched on; None otherwise."""
    with store._read() as conn:
        return _open_project_for(conn, token)


@dataclass(frozen=True)
class FormContext:
    """What the participant form needs to draw itself; no personal data beyond the offered names."""

    project_id: str
    project_name: str
    settings: ProjectSettings
    offered: pd.DataFrame  # id, name, kind


def form_context(store: Store, token: str) -> FormContext:
    """The open project behind ``token`` and the names its form may offer; ``LinkClosed`` otherwise."""
    with store._read() as conn:
        project_id = _open_project_for(conn, token)
        if project_id is None:
            raise LinkClosed()
        row = store._project_row(conn, project_id)
        link = _as_link(_link_row(conn, project_id))
        offered = _offered(conn, project_id, link)
        return FormContext(project_id, row.name, _settings(row), offered)


def _offered(conn: Connection, project_id: str, link: VoiceLink | None) -> pd.DataFrame:
    s = _t("stakeholders")
    frame = pd.read_sql(sa.select(s.c.id, s.c.name, s.c.kind).where(s.c.project_id == project_id).order_by(s.c.seq),
                        conn).astype(object)
    return offerable(frame, people_ok=link.people_ok if link else ())


# --- submitting -----------------------------------------------------------------------------------

def _ids(conn: Connection, table: str, project_id: str) -> list[str]:
    t = _t(table)
    return [str(v) for v in conn.execute(sa.select(t.c.id).where(t.c.project_id == project_id)).scalars()]


def _next_seq(conn: Connection, table: str, project_id: str) -> int:
    t = _t(table)
    return int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(t.c.seq), -1))
                            .where(t.c.project_id == project_id)).scalar_one()) + 1


def submit(store: Store, token: str, sub: Submission, *, today: str | None = None,
           invitee: str | None = None) -> str:
    """Save a participant's submission (pending review), its ideas and its anonymous scores; return the receipt.

    Nothing is saved without consent or with any problem (``EditRejected``); a closed or unknown link
    raises ``LinkClosed``. The map itself does not change until a facilitator accepts the submission.

    ``invitee`` (sign-in set up): the signed-in email, which must be on the link's invitation list
    (``NotInvited`` otherwise, checked in the same transaction). ``sub.email`` may only ever be that email,
    put there by the form when the person agreed to share it; without sign-in it must be blank.
    """
    from coprod_map.components import COMPONENTS
    from coprod_map.editing import next_ids

    today = today or date.today().isoformat()
    if sub.consent is not True:  # before the database is even opened
        raise EditRejected(check_submission(sub, settings=ProjectSettings(), offered_ids=[], components=[], cycles=[]))
    with store._write() as conn:
        project_id = _open_project_for(conn, token)
        if project_id is None:
            raise LinkClosed()
        row = store._project_row(conn, project_id)
        if invitee is not None:
            _check_invited(conn, project_id, invitee)
        if sub.email and (invitee is None or sub.email != str(invitee).strip().casefold()):
            raise EditRejected([Problem("Your answers", None, "email", "Only your own sign-in email can be shared "
                                        "with your answers. Nothing has been saved.")])
        settings = _settings(row)
        offered = _offered(conn, project_id, _as_link(_link_row(conn, project_id)))
        problems = check_submission(sub, settings=settings, offered_ids=offered["id"], components=[c.key for c in COMPONENTS],
                                    cycles=cycle_names(settings))
        if problems:
            raise EditRejected(problems)
        v = _t("voice_submissions")
        pending = conn.execute(sa.select(sa.func.count()).select_from(v)
                               .where(v.c.project_id == project_id, v.c.status == "pending")).scalar_one()
        if pending >= MAX_PENDING:
            raise EditRejected([Problem("Your answers", None, None, "This project has more answers waiting than it can "
                                        "take just now. Please try again in a few days. Nothing has been saved.")])
        (submission_id,) = next_ids(_ids(conn, "voice_submissions", project_id), "V", 1)
        receipts = set(conn.execute(sa.select(v.c.receipt).where(v.c.project_id == project_id)).scalars())
        receipt = make_receipt()
        while receipt in receipts:
            receipt = make_receipt()
        answers = {k: val for k, val in sub.to_dict().items() if k not in ("scores", "cycle")}  # scores live apart
        conn.execute(v.insert().values(project_id=project_id, id=submission_id, seq=_next_seq(conn, "voice_submissions", project_id),
                                       receipt=receipt, submitted_at=_now(), status="pending",
                                       name=sub.name.strip(), answers=json.dumps(answers, ensure_ascii=False)))
        new_ideas = ideas_rows(sub, submission_id=submission_id, existing_ids=_ids(conn, "voice_ideas", project_id),
                               today=today)
        if len(new_ideas):
            start = _next_seq(conn, "voice_ideas", project_id)
            conn.execute(_t("voice_ideas").insert(), [{**r, "project_id": project_id, "seq": start + i}
                                                      for i, r in enumerate(new_ideas.to_dict("records"))])
        if sub.scores:
            current = record_store._read_table(conn, project_id, "self_assessment")
            scores = self_assessment_rows(sub, existing_ids=current["id"])
            problems = check_table("self_assessment", scores, cycles=cycle_names(settings),
                                   components=[c.key for c in COMPONENTS])
            if problems:
                raise EditRejected(problems)
            record_store._write(conn, project_id, "self_assessment", current, scores, [])
        store._bump(conn, project_id)
        return receipt


# --- reading --------------------------------------------------------------------------------------

def submissions(store: Store, project_id: str) -> pd.DataFrame:
    """Every submission, oldest first: id, receipt, submitted_at, status, name, answers (a dict), outcome,
    decided_at, stakeholder_id."""
    v = _t("voice_submissions")
    with store._read() as conn:
        store._project_row(conn, project_id)
        frame = pd.read_sql(sa.select(*(v.c[c] for c in _SUBMISSION_COLUMNS)).where(v.c.project_id == project_id)
                            .order_by(v.c.seq), conn)
    frame = frame.astype(object)
    frame["answers"] = frame["answers"].map(lambda text: json.loads(text) if text else {})
    return frame.reset_index(drop=True)


def submission(store: Store, project_id: str, submission_id: str) -> Submission:
    """One submission's answers (``KeyError`` when there is none with that id)."""
    frame = submissions(store, project_id)
    found = frame.loc[frame["id"] == submission_id]
    if not len(found):
        raise KeyError(submission_id)
    return Submission.from_dict(found.iloc[0]["answers"])


def ideas(store: Store, project_id: str) -> pd.DataFrame:
    """The ideas and questions log, oldest first (columns ``IDEA_COLUMNS``)."""
    t = _t("voice_ideas")
    with store._read() as conn:
        store._project_row(conn, project_id)
        frame = pd.read_sql(sa.select(*(t.c[c] for c in IDEA_COLUMNS)).where(t.c.project_id == project_id)
                            .order_by(t.c.seq), conn)
    return frame.astype(object).where(frame.notna(), "").reset_index(drop=True)


def receipt_view(store: Store, token: str, receipt: str) -> dict[str, Any] | None:
    """What happened to the submission with ``receipt`` (under the open link ``token``): its status in words,
    the dates, the facilitator's note, and each idea's status and the decision or action it led to.

    Never the answers themselves: a receipt code on paper should not reveal what someone said.
    """
    code = normalise_receipt(receipt)
    if not code:
        return None
    with store._read() as conn:
        project_id = _open_project_for(conn, token)
        if project_id is None:
            raise LinkClosed()
        v = _t("voice_submissions")
        row = conn.execute(sa.select(v).where(v.c.project_id == project_id, v.c.receipt == code)).first()
        if row is None:
            return None
        t = _t("voice_ideas")
        log = pd.read_sql(sa.select(t.c.kind, t.c.text, t.c.status, t.c.response, t.c.decision_id, t.c.action_id)
                          .where(t.c.project_id == project_id, t.c.submission_id == row.id).order_by(t.c.seq), conn)
        decisions = record_store._read_table(conn, project_id, "decisions")
        actions = record_store._read_table(conn, project_id, "actions")
    titles = {**dict(zip(decisions["id"], decisions["title"], strict=True))}
    action_titles = dict(zip(actions["id"], actions["title"], strict=True))
    led_to = [" ; ".join(x for x in (f"Decision: {titles[d]}" if d in titles else "",
                                     f"Action: {action_titles[a]}" if a in action_titles else "") if x)
              for d, a in zip(log["decision_id"], log["action_id"], strict=True)]
    table = pd.DataFrame({
        "What you said": [IDEA_KINDS.get(k, k) for k in log["kind"]],
        "Status": [IDEA_STATUSES.get(s, s) for s in log["status"]],
        "What happened": [r or "" for r in log["response"]],
        "Led to": led_to,
    })
    return {"status": row.status, "status_words": STATUSES.get(row.status, row.status),
            "submitted_at": row.submitted_at[:10], "decided_at": (row.decided_at or "")[:10],
            "outcome": row.outcome or "", "ideas": table}


# --- deciding -------------------------------------------------------------------------------------

def _pending(conn: Connection, project_id: str, submission_id: str) -> sa.Row:
    v = _t("voice_submissions")
    row = conn.execute(sa.select(v).where(v.c.project_id == project_id, v.c.id == submission_id)).first()
    if row is None:
        raise EditRejected([Problem(_QUEUE, None, None, f"submission '{submission_id}' was not found.")])
    if row.status != "pending":
        raise EditRejected([Problem(_QUEUE, None, "status", f"submission '{submission_id}' has already been decided "
                                    f"({STATUSES.get(row.status, row.status).lower()}).")])
    return row


def _decided(conn: Connection, project_id: str, submission_id: str, status: str, *, outcome: str,
             stakeholder_id: str = "") -> None:
    v = _t("voice_submissions")
    conn.execute(v.update().where(v.c.project_id == project_id, v.c.id == submission_id)
                 .values(status=status, outcome=outcome, decided_at=_now(), stakeholder_id=stakeholder_id,
                         version=v.c.version + 1))


def _check_outcome(outcome: str) -> str:
    outcome = str(outcome or "").strip()
    problems = check_table("decisions", pd.DataFrame({"id": ["x"], "title": ["x"], "reasons": [outcome]}))
    if problems or len(outcome) > 2000:
        raise EditRejected([Problem(_QUEUE, None, "note", "the note to the participant holds a hidden character or is "
                                    "longer than 2,000 characters.")])
    return outcome


def _apply_plan(store: Store, conn: Connection, project_id: str, row: sa.Row, plan: MergePlan) -> ProjectSettings:
    """Write ``plan``'s stakeholder and ties through the store's own merge/check/write, and its needs."""
    settings = _settings(row)
    incoming = Project(stakeholders=plan.stakeholders, relationships=plan.relationships)
    settings = store_module._merged_settings(settings, incoming)
    raw = store_module._read_raw(conn, project_id, tables=("stakeholders", "relationships"))
    current = store_module._project_from_raw(raw, settings, name=row.name)
    final = {t: store_module._merge_rows(t, current.table(t), incoming.table(t)) if t in ("stakeholders", "relationships")
             else current.table(t) for t in TABLES}
    merged = Project(**final, settings=settings, name=row.name)
    problems = store_module._check(Project(stakeholders=merged.stakeholders, relationships=merged.relationships,
                                           settings=settings), cells_of=incoming)
    if problems:
        raise EditRejected(problems)
    store_module._write_project(conn, project_id, raw, merged, replace=False,
                                only=frozenset({"stakeholders", "relationships"}))
    if len(plan.needs):
        current_needs = record_store._read_table(conn, project_id, "needs")
        problems = check_table("needs", plan.needs, stakeholder_ids=merged.stakeholders["id"])
        if problems:
            raise EditRejected(problems)
        record_store._write(conn, project_id, "needs", current_needs, plan.needs, [])
    return settings


def _project_now(store: Store, conn: Connection, project_id: str, row: sa.Row) -> Project:
    raw = store_module._read_raw(conn, project_id, tables=("stakeholders", "relationships"))
    return store_module._project_from_raw(raw, _settings(row), name=row.name)


def _pending_and_map(store: Store, conn: Connection, project_id: str,
                     submission_id: str) -> tuple[sa.Row, Submission, Project]:
    """The project's row, the still-pending submission and the map as it is now (inside the write)."""
    row = store._project_row(conn, project_id)
    pending = _pending(conn, project_id, submission_id)
    sub = Submission.from_dict(json.loads(pending.answers or "{}"))
    return row, sub, _project_now(store, conn, project_id, row)


def accept(store: Store, project_id: str, submission_id: str, *, involvement: str = "consulted",
           outcome: str = "") -> tuple[int, str]:
    """Add the submission to the map as a new stakeholder with its ties and needs; returns (revision, new id)."""
    if involvement not in INVOLVEMENT_LEVELS:
        raise EditRejected([Problem(_QUEUE, None, "involvement", f"'{involvement}' is not an involvement level.")])
    outcome = _check_outcome(outcome)
    with store._write() as conn:
        row, sub, project = _pending_and_map(store, conn, project_id, submission_id)
        plan = plan_accept(sub, project, need_ids=_ids(conn, "record_needs", project_id), involvement=involvement)
        settings = _apply_plan(store, conn, project_id, row, plan)
        _decided(conn, project_id, submission_id, "accepted", outcome=outcome, stakeholder_id=plan.stakeholder_id)
        return store._bump(conn, project_id, settings=store_module._settings_json(settings)), plan.stakeholder_id


def merge(store: Store, project_id: str, submission_id: str, stakeholder_id: str, *,
          outcome: str = "") -> tuple[int, list[str]]:
    """Fold the submission into the existing stakeholder ``stakeholder_id`` (its id is kept); returns
    (revision, notes on answers that differed from the map's)."""
    outcome = _check_outcome(outcome)
    with store._write() as conn:
        row, sub, project = _pending_and_map(store, conn, project_id, submission_id)
        if stakeholder_id not in set(project.stakeholders["id"]):
            raise EditRejected([Problem(_QUEUE, None, "merge into", f"'{stakeholder_id}' is not a stakeholder on the map.")])
        plan = plan_merge(sub, project, stakeholder_id, need_ids=_ids(conn, "record_needs", project_id))
        settings = _apply_plan(store, conn, project_id, row, plan)
        _decided(conn, project_id, submission_id, "merged", outcome=outcome, stakeholder_id=stakeholder_id)
        return store._bump(conn, project_id, settings=store_module._settings_json(settings)), plan.notes


def decline(store: Store, project_id: str, submission_id: str, *, outcome: str = "") -> int:
    """Mark the submission declined. The map is not touched; the submission and its ideas are kept."""
    outcome = _check_outcome(outcome)
    with store._write() as conn:
        store._project_row(conn, project_id)
        _pending(conn, project_id, submission_id)
        _decided(conn, project_id, submission_id, "declined", outcome=outcome)
        return store._bump(conn, project_id)


def withdraw(store: Store, project_id: str, submission_id: str) -> int:
    """Remove a submission and the ideas that came with it, for good (the person asked).

    A stakeholder already made from it stays on the map: remove that on the Stakeholders page.
    """
    v, t = _t("voice_submissions"), _t("voice_ideas")
    with store._write() as conn:
        store._project_row(conn, project_id)
        found = conn.execute(sa.delete(v).where(v.c.project_id == project_id, v.c.id == submission_id)).rowcount
        if not found:
            raise EditRejected([Problem(_QUEUE, None, None, f"submission '{submission_id}' was not found.")])
        conn.execute(sa.delete(t).where(t.c.project_id == project_id, t.c.submission_id == submission_id))
        return store._bump(conn, project_id)


# --- the ideas and questions log --------------------------------------------------------------------

def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value) or value is pd.NA:
        return ""
    return str(value).strip()


def apply_idea_edits(store: Store, project_id: str, *, upserts: pd.DataFrame | None = None,
                     deletes: list[str] | None = None, today: str | None = None) -> int:
    """Upsert rows of the ideas log by ``id`` (blank id = a new row) and delete rows by id, as one checked change.

    Kind and status must be known codes; ``decision_id``/``action_id`` must name a decision or action in
    the record (or be blank); text is required.
    """
    from coprod_map.editing import next_ids

    today = today or date.today().isoformat()
    upserts = pd.DataFrame(columns=IDEA_COLUMNS) if upserts is None else upserts.reset_index(drop=True)
    t = _t("voice_ideas")
    with store._write() as conn:
        row = store._project_row(conn, project_id)
        saved = pd.read_sql(sa.select(*(t.c[c] for c in IDEA_COLUMNS)).where(t.c.project_id == project_id), conn)
        saved = saved.astype(object).where(saved.notna(), "").set_index("id", drop=False)
        decisions = set(_ids(conn, "record_decisions", project_id))
        actions = set(_ids(conn, "record_actions", project_id))
        rows, problems = [], []
        fresh_ids = iter(next_ids([*saved["id"], *upserts.get("id", pd.Series([], dtype=object)).map(_text)], "I",
                                  len(upserts)))
        for record in upserts.to_dict("records"):
            rid = _text(record.get("id")) or next(fresh_ids)
            base = saved.loc[rid].to_dict() if rid in saved.index else {
                c: "" for c in IDEA_COLUMNS} | {"kind": "idea", "status": "new", "raised_on": today}
            new = {**base, **{c: _text(record[c]) for c in IDEA_COLUMNS if c in record}, "id": rid}

            def bad(column: str, message: str, rid: str = rid) -> None:
                problems.append(Problem(_LOG, None, column, f"row '{rid}': {message}"))

            if not new["text"]:
                bad("text", "the idea or question is blank.")
            if new["kind"] not in IDEA_KINDS:
                bad("kind", f"'{new['kind'][:60]}' is not a known kind. Expected one of: {', '.join(IDEA_KINDS)}.")
            if new["status"] not in IDEA_STATUSES:
                bad("status", f"'{new['status'][:60]}' is not a known status. Expected one of: "
                              f"{', '.join(s.replace('_', ' ') for s in IDEA_STATUSES)}.")
            if new["decision_id"] and new["decision_id"] not in decisions:
                bad("decision_id", f"'{new['decision_id'][:60]}' is not a decision in the record.")
            if new["action_id"] and new["action_id"] not in actions:
                bad("action_id", f"'{new['action_id'][:60]}' is not an action in the record.")
            for column in ("text", "raised_by", "response"):
                cells = check_table("decisions", pd.DataFrame({"id": ["x"], "title": ["x"], "reasons": [new[column]]}))
                if cells:
                    bad(column, "holds a hidden character or is too long.")
            rows.append(new)
        if problems:
            raise EditRejected(problems)
        gone = [d for d in (deletes or []) if d in saved.index and d not in {r["id"] for r in rows}]
        if gone:
            conn.execute(sa.delete(t).where(t.c.project_id == project_id, t.c.id.in_(gone)))
        changed = bool(gone)
        seq = _next_seq(conn, "voice_ideas", project_id)
        for new in rows:
            if new["id"] in saved.index:
                if {c: new[c] for c in IDEA_COLUMNS} == {c: saved.loc[new["id"], c] for c in IDEA_COLUMNS}:
                    continue
                conn.execute(t.update().where(t.c.project_id == project_id, t.c.id == new["id"])
                             .values(**{c: new[c] for c in IDEA_COLUMNS if c != "id"}, version=t.c.version + 1))
            else:
                conn.execute(t.insert().values(project_id=project_id, seq=seq, **new))
                seq += 1
            changed = True
        return store._bump(conn, project_id) if changed else int(row.revision)


# --- erasure --------------------------------------------------------------------------------------

def _scrub_answers(value: Any, person: str, name: str, marker: str) -> Any:
    """``value`` (a submission's answers, parsed) with ``name`` replaced by ``marker`` in every text and
    ``person`` taken out of every list (the ties chosen from the offered names). Keys stay: they are questions."""
    if isinstance(value, dict):
        return {k: _scrub_answers(v, person, name, marker) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub_answers(v, person, name, marker) for v in value if v != person]
    if isinstance(value, str) and name:
        return value.replace(name, marker)
    return value


def erase_person_voice(conn: Connection, project_id: str, person: str, name: str) -> int:
    """Take the stakeholder ``person`` (called ``name`` on the map) out of the participant voice tables, inside
    the caller's erasure transaction (``coprod_map.privacy.erase_person`` calls it before the stakeholder row
    goes: their attribute values are read here). Returns how many voice rows were deleted or changed.

    What "erase" means here, table by table:

    - **Submissions that are theirs are deleted** with their answers: the ones accepted as them or merged into
      them (``stakeholder_id``), and the undecided or declined ones tied to nobody that carry their name
      (compared without case or surrounding spaces) or their email. A pending submission from a namesake goes
      too: failing to erase is the worse mistake, and a namesake can send theirs again. Their shared sign-in
      email goes with it.
    - **Ideas that are theirs** (from their submissions, or raised by them by name) are deleted while the group
      has not taken them up (status "new", no decision, action or response). Ideas the group has already acted
      on, discussed, parked or answered are kept, with the author and the link to the submission blanked: the
      log is the group's account of what it did with what people said, and an anonymous line keeps that
      account whole without saying who.
    - **Other people's rows** keep their place; any text naming them (a submission's name, answers or the
      note back to the participant; an idea's text, author or response) has the name replaced by
      ``[erased]``, as in the rest of erasure, and their id leaves the ties other participants chose.
    - **The participant link** stops offering their name (``people_ok``) and loses the invitation of any email
      held for them: an attribute value that is an email address, or the email shared with a submission of
      theirs. The map has no email column of its own.

    Nothing is written when none of this finds anything, so the voice tables stay exactly as they were.
    """
    from coprod_map.privacy import ERASED  # privacy imports this module

    person = str(person)
    name = str(name or "").strip()
    key = name.casefold()
    v, t, a = _t("voice_submissions"), _t("voice_ideas"), _t("stakeholder_attributes")
    emails = {normalise_email(str(e)) for e in conn.execute(sa.select(a.c.value).where(
        a.c.project_id == project_id, a.c.stakeholder_id == person)).scalars()} - {""}
    subs = conn.execute(sa.select(v.c.id, v.c.name, v.c.answers, v.c.outcome, v.c.stakeholder_id)
                        .where(v.c.project_id == project_id).order_by(v.c.seq)).all()
    parsed = {row.id: json.loads(row.answers) if row.answers else {} for row in subs}
    own = {row.id for row in subs if str(row.stakeholder_id or "") == person}
    emails |= {normalise_email(str(parsed[i].get("email") or "")) for i in own} - {""}
    own |= {row.id for row in subs if not str(row.stakeholder_id or "") and (
        (key and str(row.name or "").strip().casefold() == key)
        or normalise_email(str(parsed[row.id].get("email") or "")) in emails)}
    touched = 0
    if own:
        touched += conn.execute(sa.delete(v).where(v.c.project_id == project_id, v.c.id.in_(sorted(own)))).rowcount
    for row in subs:
        if row.id in own:
            continue
        answers = _scrub_answers(parsed[row.id], person, name, ERASED)
        values = {"name": str(row.name or "").replace(name, ERASED) if name else row.name,
                  "outcome": str(row.outcome or "").replace(name, ERASED) if name else row.outcome}
        changed = {k: val for k, val in values.items() if val != getattr(row, k)}
        if answers != parsed[row.id]:
            changed["answers"] = json.dumps(answers, ensure_ascii=False)
        if changed:
            conn.execute(v.update().where(v.c.project_id == project_id, v.c.id == row.id)
                         .values(**changed, version=v.c.version + 1))
            touched += 1

    gone, kept = [], []
    for row in conn.execute(sa.select(t.c.id, t.c.submission_id, t.c.text, t.c.raised_by, t.c.status,
                                      t.c.decision_id, t.c.action_id, t.c.response)
                            .where(t.c.project_id == project_id)).all():
        text, raised_by, response = (str(x or "") for x in (row.text, row.raised_by, row.response))
        theirs = str(row.submission_id or "") in own or (key and raised_by.strip().casefold() == key)
        if theirs and (row.status or "new") == "new" and not (row.decision_id or row.action_id or response):
            gone.append(row.id)
            continue
        new = {"text": text, "raised_by": "" if theirs else raised_by, "response": response,
               "submission_id": "" if str(row.submission_id or "") in own else str(row.submission_id or "")}
        if name:
            new = {k: val.replace(name, ERASED) for k, val in new.items()}
        changed = {k: val for k, val in new.items() if val != str(getattr(row, k) or "")}
        if changed:
            kept.append((row.id, changed))
    if gone:
        touched += conn.execute(sa.delete(t).where(t.c.project_id == project_id, t.c.id.in_(gone))).rowcount
    for idea_id, changed in kept:
        conn.execute(t.update().where(t.c.project_id == project_id, t.c.id == idea_id)
                     .values(**changed, version=t.c.version + 1))
    touched += len(kept)

    link = _link_row(conn, project_id)
    if link is not None:
        people_ok, invited = _link_lists(link.people_ok)
        if person in people_ok or emails & set(invited):
            conn.execute(_t("voice_links").update().where(_t("voice_links").c.project_id == project_id).values(
                people_ok=_lists_text([p for p in people_ok if p != person], [e for e in invited if e not in emails]),
                version=_t("voice_links").c.version + 1))
            touched += 1
    return touched
