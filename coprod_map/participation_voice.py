"""Participant voice: what people say about themselves, checked, compared with the map, and planned into it.

A participant fills in a short form reached by the project's participant link. What they send is a
:class:`Submission`: nothing is saved unless ``consent`` is True. Submissions wait in a review queue
as proposals; the map changes only when a facilitator accepts one (a new stakeholder), merges it into
an existing stakeholder (keeping that stakeholder's id), or declines it (the map is unchanged). Only
accepted or merged entries are on the map, so only they count in the representation figures.

Everything here is pure: the database side is :mod:`coprod_map.voice_store`.

Privacy choices made here:

- The name generator offers only groups, organisations and community assets, plus the people a
  facilitator has marked as fine to show (:func:`offerable`): offering a person's name on a public
  form tells the reader that person is on the map.
- Access and support needs become private needs in the record (``private`` True).
- The receipt code shows only what happened to a submission and its ideas, never what was said.
- Self-assessment scores are stored apart from the submission with a random respondent code.
"""

from __future__ import annotations

import difflib
import re
import secrets
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from coprod_map.errors import Problem
from coprod_map.model import (
    BASES,
    EXPERIENCES,
    KINDS,
    NOT_RECORDED,
    PREFER_NOT_TO_SAY,
    Project,
    ProjectSettings,
    normalise_frame,
    split_list,
)
from coprod_map.record import NEED_CATEGORIES, SCORE_RANGE, normalise_record_frame

__all__ = [
    "CONSENT_TEXT",
    "FORM_FILE",
    "IDEA_KINDS",
    "IDEA_STATUSES",
    "MAX_INVITED",
    "MAX_PENDING",
    "STATUSES",
    "TIE_TYPES",
    "MergePlan",
    "Submission",
    "check_submission",
    "current_cycle",
    "duplicate_table",
    "ideas_rows",
    "make_receipt",
    "make_token",
    "normalise_email",
    "parse_emails",
    "name_similarity",
    "normalise_name",
    "normalise_receipt",
    "offerable",
    "plan_accept",
    "plan_merge",
    "possible_duplicates",
    "self_assessment_rows",
]

#: What a submission's status means, in the words the participant and the facilitator see.
STATUSES: dict[str, str] = {
    "pending": "Waiting for a facilitator to look at it",
    "accepted": "Added to the map",
    "merged": "Added to an entry that was already on the map",
    "declined": "Not added to the map",
}

IDEA_KINDS: dict[str, str] = {"idea": "Idea", "question": "Question we should be asking"}

IDEA_STATUSES: dict[str, str] = {
    "new": "New",
    "discussing": "Being discussed",
    "acted_on": "Led to a decision or action",
    "parked": "Kept for later",
    "not_taken_up": "Not taken up",
}

#: Tie kinds the form asks about -> (relationship type, direction, participant is source?).
TIE_TYPES: dict[str, tuple[str, str, bool]] = {
    "works_with": ("works with", "undirected", True),
    "turns_to": ("supports", "directed", False),  # the one they turn to supports them
}

FORM_FILE = "Your answers"

#: A project takes at most this many submissions waiting for review: the link is public, so a flood stops here.
MAX_PENDING = 500

MAX_TEXT = 2_000
MAX_NAME = 200
#: At most this many invited emails per participant link (a pasted address book stops here).
MAX_INVITED = 2_000
MAX_EMAIL = 254

CONSENT_TEXT = (
    "What we keep: the answers you give on this form, and the date you sent them. "
    "Who sees them: only the facilitators of this project. They decide whether to add you to the project's map "
    "of who is involved. Your access and support needs are kept private and are never put in shared reports. "
    "Your scores on how the work is going are kept without your name. "
    "How to change your mind: keep your receipt code and tell a facilitator, at any time, that you want your "
    "answers taken out. They will remove them. You can leave any question blank."
)

_REFUSED = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069\u200b\u2060\ufeff]")
_RECEIPT_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud and typed from paper
# one @, a dot in the domain, nothing that separates or quotes addresses (| is the list separator in the database)
_EMAIL = re.compile(r"^[^@\s|,;<>\"'()\[\]]+@[^@\s|,;<>\"'()\[\]]+\.[^@\s|,;<>\"'()\[\]]+$")
_TITLES = frozenset({"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "the", "cllr", "rev", "sir"})


@dataclass
class Submission:
    """What one participant sends. Lists hold plain text; ids in ``ties`` are stakeholder ids on the map."""

    consent: bool = False
    name: str = ""
    kind: str = "person"
    groups: list[str] = field(default_factory=list)
    experience: list[str] = field(default_factory=list)
    speaks_for: list[str] = field(default_factory=list)
    speaks_basis: str = ""
    affected: int | None = None
    #: attribute -> category (blank = not answered)
    attributes: dict[str, str] = field(default_factory=dict)
    needs: str = ""
    need_category: str = ""
    #: tie kind (``TIE_TYPES``) -> stakeholder ids chosen from the offered names
    ties: dict[str, list[str]] = field(default_factory=dict)
    other_contacts: str = ""
    strengths: str = ""
    ideas: str = ""
    questions: str = ""
    name_on_ideas: bool = False
    #: the signed-in email, only when the person ticked the box to share it (sign-in set up); else ""
    email: str = ""
    cycle: str = ""
    #: component key -> score 1-5 (left out = not answered)
    scores: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {k: (dict(v) if isinstance(v, dict) else list(v) if isinstance(v, list) else v)
                for k, v in self.__dict__.items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Submission:
        known = {k: v for k, v in dict(data).items() if k in cls.__dataclass_fields__}
        return cls(**known)


# --- codes --------------------------------------------------------------------------------------

def make_token() -> str:
    """A participant-link token: 16 random bytes, URL-safe (about 22 characters)."""
    return secrets.token_urlsafe(16)


def make_receipt() -> str:
    """A receipt code like ``K7QM-2XPA-9DHT``: 12 characters from 32, about 60 bits, easy to copy by hand."""
    chars = "".join(secrets.choice(_RECEIPT_ALPHABET) for _ in range(12))
    return f"{chars[:4]}-{chars[4:8]}-{chars[8:]}"


def normalise_receipt(text: str) -> str:
    """A receipt as typed -> its canonical form (case, spaces and dashes forgiven); "" when it cannot be one.

    >>> normalise_receipt(" k7qm 2xpa-9dht ")
    'K7QM-2XPA-9DHT'
    >>> normalise_receipt("short")
    ''
    """
    chars = re.sub(r"[\s\-]+", "", str(text or "")).upper()
    if len(chars) != 12 or any(c not in _RECEIPT_ALPHABET for c in chars):
        return ""
    return f"{chars[:4]}-{chars[4:8]}-{chars[8:]}"


# --- invitations --------------------------------------------------------------------------------

def normalise_email(text: str) -> str:
    """An email as typed -> lower case without surrounding spaces; "" when it cannot be an email address.

    >>> normalise_email("  Dee.Evans@Example.ORG ")
    'dee.evans@example.org'
    >>> normalise_email("dee@localhost"), normalise_email("a@b.org|c@d.org"), normalise_email("<b>@x.org")
    ('', '', '')
    """
    text = str(text or "").strip().casefold()
    if len(text) > MAX_EMAIL or _REFUSED.search(text) or not _EMAIL.match(text):
        return ""
    return text


def parse_emails(text: str) -> tuple[list[str], list[Problem]]:
    """Emails pasted one a line (commas, semicolons and spaces also separate them) -> (normalised emails in
    order without repeats, one problem per entry that is not an email, naming its line).

    >>> parse_emails("Ann@x.org, bob@y.org\\nnot-an-email\\nann@x.org")[0]
    ['ann@x.org', 'bob@y.org']
    >>> [(p.row, p.message) for p in parse_emails("ann@x.org\\nnot-an-email")[1]]
    [(2, "'not-an-email' is not an email address.")]
    """
    emails: list[str] = []
    problems: list[Problem] = []
    for line_no, line in enumerate(str(text or "").splitlines(), start=1):
        entries = [e for e in re.split(r"[,;\s]+", line) if e]
        found = [normalise_email(e) for e in entries]
        emails += [e for e in found if e]
        bad = " ".join(e for e, ok in zip(entries, found, strict=True) if not ok)
        if bad:  # one problem per line, however many words it holds
            problems.append(Problem("Invitations", line_no, "email", f"'{bad[:80]}' is not an email address."))
    return list(dict.fromkeys(emails)), problems


# --- duplicate detection -------------------------------------------------------------------------

def normalise_name(name: str) -> str:
    """A name reduced for comparison: accents, case, punctuation and titles gone, words sorted.

    >>> normalise_name("Dr. Zoë  O'Neil")
    'oneil zoe'
    >>> normalise_name("The Youth-Club")
    'club youth'
    """
    text = unicodedata.normalize("NFKD", str(name or ""))
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    text = re.sub(r"['’`]", "", text)
    words = [w for w in re.split(r"[^\w]+|_", text) if w and w not in _TITLES]
    return " ".join(sorted(words))


def name_similarity(a: str, b: str) -> float:
    """How alike two names are, 0 to 1: the best of the whole-name ratio and the word overlap.

    >>> name_similarity("Ann Smith", "smith, ann")
    1.0
    >>> round(name_similarity("Ann Smith", "Anne Smith"), 2)
    0.95
    >>> name_similarity("Ann Smith", "Council") < 0.5
    True
    """
    return _similarity(normalise_name(a), normalise_name(b))


def _similarity(na: str, nb: str) -> float:
    if not na or not nb:
        return 0.0
    if na == nb:
        return 1.0
    ratio = difflib.SequenceMatcher(None, na, nb, autojunk=False).ratio()
    wa, wb = set(na.split()), set(nb.split())
    # every word of the shorter name in the longer one ("Ann Smith" in "Ann Marie Smith")
    contained = len(wa & wb) / min(len(wa), len(wb)) if min(len(wa), len(wb)) >= 2 else 0.0
    return max(ratio, 0.9 * contained)


def possible_duplicates(name: str, candidates: pd.DataFrame, *, threshold: float = 0.8,
                        name_column: str = "name", id_column: str = "id") -> pd.DataFrame:
    """Rows of ``candidates`` whose name looks like ``name``: ``id``, ``name``, ``similarity``, most alike first.

    >>> people = pd.DataFrame({"id": ["s1", "s2", "s3"], "name": ["Ann Smith", "Bob Jones", "ANNE SMITH"]})
    >>> possible_duplicates("ann smith", people)["id"].tolist()
    ['s1', 's3']
    """
    target = normalise_name(name)
    if not len(candidates) or not target:
        return pd.DataFrame({"id": pd.Series([], dtype=object), "name": pd.Series([], dtype=object),
                             "similarity": pd.Series([], dtype=float)})
    names = candidates[name_column].astype(object).where(candidates[name_column].notna(), "").astype(str)
    normalised = names.map(normalise_name)
    scores = normalised.map(lambda n: _similarity(target, n))
    out = pd.DataFrame({"id": candidates[id_column].astype(str).to_numpy(), "name": names.to_numpy(),
                        "similarity": scores.to_numpy().astype(float)})
    out = out.loc[out["similarity"] >= threshold]
    return out.sort_values("similarity", ascending=False, kind="stable").reset_index(drop=True)


def duplicate_table(submissions: pd.DataFrame, stakeholders: pd.DataFrame, *, threshold: float = 0.8) -> pd.DataFrame:
    """For each pending submission, the map entries and other submissions it may duplicate.

    Columns: ``submission_id``, ``matches`` (e.g. ``"Ann Smith (s1, 100%)"``; blank when none),
    ``best`` (highest similarity, 0 when none), ``best_id`` (stakeholder id of the closest map entry or "").
    """
    rows = []
    pending = submissions.loc[submissions["status"] == "pending"] if len(submissions) else submissions
    for sid, name in zip(pending.get("id", []), pending.get("name", []), strict=True):
        on_map = possible_duplicates(name, stakeholders, threshold=threshold)
        others = submissions.loc[(submissions["id"] != sid) & (submissions["status"] == "pending")]
        queued = possible_duplicates(name, others, threshold=threshold)
        words = [f"{n} ({i}, {s:.0%})" for i, n, s in zip(on_map["id"], on_map["name"], on_map["similarity"],
                                                           strict=True)]
        words += [f"{n} (submission {i}, {s:.0%})" for i, n, s in zip(queued["id"], queued["name"],
                                                                     queued["similarity"], strict=True)]
        best = max([*on_map["similarity"], *queued["similarity"], 0.0])
        rows.append({"submission_id": sid, "matches": "; ".join(words), "best": float(best),
                     "best_id": on_map["id"].iloc[0] if len(on_map) else ""})
    return pd.DataFrame(rows, columns=["submission_id", "matches", "best", "best_id"])


# --- what the form may offer --------------------------------------------------------------------

def offerable(stakeholders: pd.DataFrame, *, people_ok: Iterable[str] = ()) -> pd.DataFrame:
    """The map entries the name generator may show: every non-person, plus the people in ``people_ok``.

    Columns ``id``, ``name``, ``kind``, ordered by name. Entries without a name are never offered.
    """
    ok = set(map(str, people_ok))
    frame = stakeholders[["id", "name", "kind"]].astype(object)
    shown = ((frame["kind"] != "person") | frame["id"].isin(ok)) & (frame["name"].astype(str).str.strip() != "")
    out = frame.loc[shown].copy()
    return out.sort_values("name", key=lambda s: s.astype(str).str.casefold(), kind="stable").reset_index(drop=True)


def current_cycle(settings: ProjectSettings, *, today: str) -> str:
    """The review cycle whose dates hold ``today`` (ISO); else the latest that has started; else the first; else ""."""
    cycles = [c for c in settings.cycles if str(c.get("name", "")).strip()]
    for c in cycles:
        if str(c.get("start", "")) <= today <= (str(c.get("end", "")) or "9999-12-31") and c.get("start"):
            return str(c["name"])
    started = [c for c in cycles if c.get("start") and str(c["start"]) <= today]
    if started:
        return str(max(started, key=lambda c: str(c["start"]))["name"])
    return str(cycles[0]["name"]) if cycles else ""


# --- checks --------------------------------------------------------------------------------------

def check_submission(sub: Submission, *, settings: ProjectSettings, offered_ids: Iterable[str],
                     components: Sequence[str], cycles: Sequence[str]) -> list[Problem]:
    """Every problem with a submission, each naming the question. Consent comes first: without it, only that.

    >>> [p.message for p in check_submission(Submission(name="Ann"), settings=ProjectSettings(), offered_ids=[],
    ...                                      components=[], cycles=[])]  # doctest: +ELLIPSIS
    ['Please tick the box to say you agree ... Nothing has been saved.']
    """
    if sub.consent is not True:
        return [Problem(FORM_FILE, None, "consent", "Please tick the box to say you agree to us keeping your answers "
                        "before you send them. Nothing has been saved.")]
    problems: list[Problem] = []

    def add(column: str, message: str) -> None:
        problems.append(Problem(FORM_FILE, None, column, message))

    name = str(sub.name or "").strip()
    if not name:
        add("name", "Please give a name. It can be a made-up name (a pseudonym).")
    texts: dict[str, str] = {
        "name": sub.name, "needs": sub.needs, "other contacts": sub.other_contacts, "strengths": sub.strengths,
        "ideas": sub.ideas, "questions": sub.questions,
        "groups": "|".join(sub.groups), "speaks for": "|".join(sub.speaks_for),
    }
    for column, value in texts.items():
        value = str(value or "")
        limit = MAX_NAME if column == "name" else MAX_TEXT
        if len(value) > limit:
            add(column, f"This answer is longer than {limit:,} characters. Please shorten it.")
        if _REFUSED.search(value):
            add(column, "This answer has a hidden control character in it. Please retype it.")
    if any("|" in g for g in [*sub.groups, *sub.speaks_for]):
        add("groups", "A group name cannot hold the | character.")
    if sub.kind not in KINDS:
        add("kind", f"'{sub.kind}' is not one of the choices.")
    for value in sub.experience:
        if value not in EXPERIENCES:
            add("experience", f"'{value}' is not one of the choices.")
    if sub.speaks_basis and sub.speaks_basis not in BASES:
        add("speaks basis", f"'{sub.speaks_basis}' is not one of the choices.")
    if sub.speaks_basis and not sub.speaks_for:
        add("speaks for", "You said on what basis you speak for a group: please say which group.")
    if sub.affected is not None and sub.affected not in (0, 1, 2, 3):
        add("affected", "Please choose one of the answers.")
    for attribute, value in sub.attributes.items():
        allowed = [*settings.attributes.get(attribute, []), "", NOT_RECORDED, PREFER_NOT_TO_SAY]
        if attribute not in settings.attributes:
            add(attribute, "This question is not part of this project.")
        elif value not in allowed:
            add(attribute, f"'{str(value)[:60]}' is not one of the choices.")
    if sub.email and normalise_email(sub.email) != sub.email:
        add("email", "The email shared with your answers is not a sign-in email. Nothing has been saved.")
    if sub.need_category and sub.need_category not in NEED_CATEGORIES:
        add("need category", f"'{sub.need_category}' is not one of the choices.")
    offered = set(map(str, offered_ids))
    for kind, ids in sub.ties.items():
        if kind not in TIE_TYPES:
            add("contacts", f"'{kind}' is not one of the questions.")
            continue
        for sid in ids:
            if str(sid) not in offered:
                add("contacts", "One of the names chosen is not on the list any more. Please choose again.")
                break
    if sub.scores:
        known = set(components)
        if sub.cycle not in set(cycles):
            add("cycle", "Scores can only be given for one of the project's review cycles.")
        for key, score in sub.scores.items():
            if key not in known:
                add("scores", f"'{key}' is not one of the ten components.")
            elif not isinstance(score, int) or isinstance(score, bool) or not SCORE_RANGE[0] <= score <= SCORE_RANGE[1]:
                add(key, f"Scores go from {SCORE_RANGE[0]} to {SCORE_RANGE[1]}.")
    return problems


# --- planning changes to the map ------------------------------------------------------------------

@dataclass
class MergePlan:
    """What accepting or merging a submission writes: stakeholder rows to upsert, new ties, new needs."""

    stakeholder_id: str
    stakeholders: pd.DataFrame
    relationships: pd.DataFrame
    needs: pd.DataFrame
    #: plain-language notes for the facilitator (e.g. an answer that differs from what the map says)
    notes: list[str] = field(default_factory=list)


def _clean_list(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(v for v in split_list(list(values)) if v))


def _strengths_note(sub: Submission) -> str:
    return f"Strengths (in their words): {sub.strengths.strip()}" if sub.strengths.strip() else ""


def _ties(sub: Submission, person: str, existing: pd.DataFrame, relationship_ids: pd.Series) -> pd.DataFrame:
    from coprod_map.editing import next_ids

    rows = []
    have = set(zip(existing["source"], existing["target"], existing["type"], strict=True)) if len(existing) else set()
    for kind, ids in sub.ties.items():
        rel_type, direction, outward = TIE_TYPES[kind]
        for other in dict.fromkeys(map(str, ids)):
            if other == person:
                continue
            source, target = (person, other) if outward else (other, person)
            if (source, target, rel_type) in have or (direction == "undirected" and (target, source, rel_type) in have):
                continue
            have.add((source, target, rel_type))
            rows.append({"source": source, "target": target, "type": rel_type, "direction": direction,
                         "notes": "Added from the participant form"})
    frame = pd.DataFrame(rows, columns=["source", "target", "type", "direction", "notes"])
    frame.insert(0, "id", next_ids(relationship_ids, "r", len(frame)))
    return normalise_frame("relationships", frame)


def _needs(sub: Submission, person: str, need_ids: Iterable[str]) -> pd.DataFrame:
    from coprod_map.editing import next_ids

    if not sub.needs.strip():
        return normalise_record_frame("needs", pd.DataFrame())
    (need_id,) = next_ids(pd.Series(list(need_ids), dtype=object), "N", 1)
    return normalise_record_frame("needs", pd.DataFrame([{
        "id": need_id, "stakeholder_id": person, "need": sub.needs.strip(), "category": sub.need_category or "other",
        "adjustment": "", "private": True}]))


def plan_accept(sub: Submission, project: Project, *, need_ids: Iterable[str] = (),
                involvement: str = "consulted", stakeholder_id: str | None = None) -> MergePlan:
    """A new stakeholder from ``sub`` (id ``p<n>`` after the highest used, unless given), its ties and needs."""
    from coprod_map.editing import next_ids

    person = stakeholder_id or next_ids(project.stakeholders["id"], "p", 1)[0]
    row: dict[str, Any] = {
        "id": person, "name": sub.name.strip(), "kind": sub.kind, "roles": _clean_list(sub.groups),
        "experience": list(sub.experience), "affected": sub.affected, "influence": None, "involvement": involvement,
        "speaks_for": _clean_list(sub.speaks_for), "speaks_basis": sub.speaks_basis, "notes": _strengths_note(sub),
    }
    for attribute in project.settings.attributes:
        row[attribute] = str(sub.attributes.get(attribute, "") or "")
    stakeholders = normalise_frame("stakeholders", pd.DataFrame([row]))
    ties = _ties(sub, person, project.relationships, project.relationships["id"])
    return MergePlan(person, stakeholders, ties, _needs(sub, person, need_ids))


def plan_merge(sub: Submission, project: Project, stakeholder_id: str, *,
               need_ids: Iterable[str] = ()) -> MergePlan:
    """``sub`` folded into the existing stakeholder ``stakeholder_id``: its id, name and kind are kept.

    Blank fields are filled from the submission, lists gain the new items, strengths are added to the
    notes. Where the submission's answer differs from a non-blank saved one, the saved one stays and a
    note says so (the facilitator decides).
    """
    saved = project.stakeholders.loc[project.stakeholders["id"] == stakeholder_id]
    if not len(saved):
        raise KeyError(stakeholder_id)
    row = saved.iloc[0].to_dict()
    notes: list[str] = []
    row["roles"] = _clean_list([*row["roles"], *sub.groups])
    row["experience"] = _clean_list([*row["experience"], *sub.experience])
    row["speaks_for"] = _clean_list([*row["speaks_for"], *sub.speaks_for])
    if sub.speaks_basis and not row["speaks_basis"]:
        row["speaks_basis"] = sub.speaks_basis
    if sub.affected is not None:
        if pd.isna(row["affected"]):
            row["affected"] = sub.affected
        elif int(row["affected"]) != sub.affected:
            notes.append(f"They said how much the work affects them differently ({sub.affected}); "
                         f"the map's answer ({int(row['affected'])}) was kept.")
    for attribute in project.settings.attributes:
        given = str(sub.attributes.get(attribute, "") or "")
        current = str(row.get(attribute, "") or "")
        if given and not current:
            row[attribute] = given
        elif given and given != current:
            notes.append(f"Their answer for {attribute} differs from the map's; the map's was kept.")
        else:
            row[attribute] = current
    strengths = _strengths_note(sub)
    if strengths and strengths not in row["notes"]:
        row["notes"] = f"{row['notes']}\n{strengths}".strip()
    stakeholders = normalise_frame("stakeholders", pd.DataFrame([row]))
    ties = _ties(sub, stakeholder_id, project.relationships, project.relationships["id"])
    return MergePlan(stakeholder_id, stakeholders, ties, _needs(sub, stakeholder_id, need_ids), notes)


# --- ideas and self-assessment rows ---------------------------------------------------------------

def _items(text: str) -> list[str]:
    """One idea per paragraph (separated by a blank line)."""
    return [p.strip() for p in re.split(r"\n\s*\n", str(text or "")) if p.strip()]


def ideas_rows(sub: Submission, *, submission_id: str, existing_ids: Iterable[str], today: str) -> pd.DataFrame:
    """The ideas and questions in ``sub`` as rows of the ideas log (status ``new``).

    ``raised_by`` is the name they gave only when they chose to put it to their ideas; else blank (anonymous).
    """
    from coprod_map.editing import next_ids

    items = [("idea", t) for t in _items(sub.ideas)] + [("question", t) for t in _items(sub.questions)]
    ids = next_ids(pd.Series(list(existing_ids), dtype=object), "I", len(items))
    raised_by = sub.name.strip() if sub.name_on_ideas else ""
    return pd.DataFrame([{"id": i, "submission_id": submission_id, "kind": k, "text": t, "raised_by": raised_by,
                          "status": "new", "decision_id": "", "action_id": "", "response": "", "raised_on": today}
                         for i, (k, t) in zip(ids, items, strict=True)],
                        columns=["id", "submission_id", "kind", "text", "raised_by", "status", "decision_id",
                                 "action_id", "response", "raised_on"])


def self_assessment_rows(sub: Submission, *, existing_ids: Iterable[str]) -> pd.DataFrame:
    """The scores in ``sub`` as rows of the record's self-assessment table, under one random respondent code."""
    from coprod_map.editing import next_ids

    scores = [(k, int(v)) for k, v in sub.scores.items()]
    ids = next_ids(pd.Series(list(existing_ids), dtype=object), "S", len(scores))
    respondent = f"anon-{secrets.token_hex(4)}"
    frame = pd.DataFrame([{"id": i, "cycle": sub.cycle, "component": k, "score": v, "respondent": respondent}
                          for i, (k, v) in zip(ids, scores, strict=True)],
                         columns=["id", "cycle", "component", "score", "respondent"])
    return normalise_record_frame("self_assessment", frame)


def answers_table(sub: Submission, *, names: dict[str, str], show_private: bool) -> pd.DataFrame:
    """A submission as (question, answer) rows for the review queue; the needs only when ``show_private``."""
    from coprod_map.model import AFFECTED_LEVELS

    def words(codes: Iterable[str], coded: dict) -> str:
        return ", ".join(str(coded.get(c, c)) for c in codes)

    rows = [
        ("Name", sub.name), ("Filling this in for", KINDS.get(sub.kind, sub.kind)),
        ("Groups they belong to", ", ".join(sub.groups)), ("Experience they bring", words(sub.experience, EXPERIENCES)),
        ("Groups they may speak for", ", ".join(sub.speaks_for)),
        ("On what basis", BASES.get(sub.speaks_basis, sub.speaks_basis)),
        ("How much the work affects them", "" if sub.affected is None else AFFECTED_LEVELS.get(sub.affected, "")),
        *[(attribute, value) for attribute, value in sub.attributes.items()],
        ("Access and support needs (private)", (sub.needs if show_private else "(hidden: private)") if sub.needs else ""),
        ("Sign-in email, shared with their agreement (private)",
         (sub.email if show_private else "(hidden: private)") if sub.email else ""),
        ("Kind of need", NEED_CATEGORIES.get(sub.need_category, sub.need_category)),
        *[(f"{TIE_QUESTIONS[k]}", ", ".join(f"{names.get(i, i)} ({i})" for i in ids)) for k, ids in sub.ties.items()],
        ("Others they named (not offered on the form)", sub.other_contacts), ("Strengths", sub.strengths),
        ("Ideas", sub.ideas), ("Questions we should be asking", sub.questions),
    ]
    return pd.DataFrame([(q, str(a or "")) for q, a in rows if str(a or "").strip()], columns=["question", "answer"])


#: The form's questions about ties, by tie kind.
TIE_QUESTIONS: dict[str, str] = {
    "works_with": "People, groups and organisations they work with",
    "turns_to": "Who they turn to for help or advice",
}

__all__ += ["TIE_QUESTIONS", "answers_table"]
