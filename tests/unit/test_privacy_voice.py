"""Erasing a person reaches the participant voice tables: their submissions, their ideas, the link's lists."""

from __future__ import annotations

import pandas as pd
import pytest
import sqlalchemy as sa

from coprod_map import privacy, voice_store
from coprod_map.model import Project, ProjectSettings, normalise_frame
from coprod_map.participation_voice import Submission
from coprod_map.privacy import ERASED, erase_person
from coprod_map.record_store import apply_record_edits

VOICE = ("voice_links", "voice_submissions", "voice_ideas")
ZELDA, OTTO = "Zelda Quarmby", "Otto Brennan"
ZELDA_MAP_EMAIL, ZELDA_SIGN_IN, OTTO_EMAIL = "zelda.q@example.org", "zq.signin@example.org", "otto@example.org"


def voice_rows(store, project_id: str) -> dict[str, list[tuple]]:
    """Every row of the three voice tables for the project, straight from the database, in key order."""
    with store.engine.connect() as conn:
        return {table: [tuple(r) for r in conn.execute(sa.text(
            f"SELECT * FROM {table} WHERE project_id = :p ORDER BY {'project_id' if table == 'voice_links' else 'id'}"),
            {"p": project_id})] for table in VOICE}


def voice_text(store, project_id: str) -> str:
    return "\n".join(str(v) for rows in voice_rows(store, project_id).values() for row in rows for v in row)


def build(store) -> tuple[str, str]:
    """A project whose link offers Zelda and Otto and invites both; Zelda has an email on the map (an attribute).

    Zelda: one submission merged into her (sharing her sign-in email, her name on her ideas), one pending under
    her name, one pending under another name with her sign-in email, and an idea typed in by the facilitator as
    hers. Otto: a pending submission whose answers name Zelda and tie to her, with an idea naming her.
    Returns (project id, the token)."""
    people = Project(stakeholders=normalise_frame("stakeholders", pd.DataFrame({
        "id": ["p-zq", "p-ob", "p-nr", "g-yc"], "name": [ZELDA, OTTO, "Nell Rowe", "Youth club"],
        "kind": ["person", "person", "person", "group"],
        "contact": [ZELDA_MAP_EMAIL, OTTO_EMAIL, "", ""]})), settings=ProjectSettings())
    pid = store.create_project("Voice erasure")
    store.import_project(pid, people)
    token = voice_store.set_link_enabled(store, pid, True).token
    voice_store.set_people_ok(store, pid, ["p-zq", "p-ob"])
    voice_store.change_invitations(store, pid, add=[ZELDA_MAP_EMAIL, ZELDA_SIGN_IN, OTTO_EMAIL, "dee@example.org"])
    voice_store.submit(store, token, Submission(consent=True, name=ZELDA, needs="Quiet room", email=ZELDA_SIGN_IN,
                                                ideas="Meet by the river", questions="Who pays for the bus?",
                                                name_on_ideas=True), invitee=ZELDA_SIGN_IN)
    first = voice_store.submissions(store, pid)["id"].iloc[0]
    voice_store.merge(store, pid, first, "p-zq", outcome=f"Thanks {ZELDA}, added to your entry")
    voice_store.submit(store, token, Submission(consent=True, name=f" {ZELDA.lower()} ", strengths="Gardening"))
    voice_store.submit(store, token, Submission(consent=True, name="Z.", email=ZELDA_SIGN_IN,
                                                questions="Can we start later?"), invitee=ZELDA_SIGN_IN)
    voice_store.submit(store, token, Submission(
        consent=True, name=OTTO, strengths=f"Knows {ZELDA} from the allotments", other_contacts=f"{ZELDA}'s sister",
        ties={"works_with": ["p-zq", "g-yc"], "turns_to": ["p-zq"]}, ideas=f"Ask {ZELDA} about the river",
        name_on_ideas=True, email=OTTO_EMAIL), invitee=OTTO_EMAIL)
    apply_record_edits(store, pid, "decisions", upserts=pd.DataFrame({"id": ["D1"], "title": ["Meet at the river"]}))
    log = voice_store.ideas(store, pid)
    acted = log.loc[log["text"] == "Meet by the river"].assign(status="acted_on", decision_id="D1",
                                                               response="We booked the boathouse")
    typed = pd.DataFrame({"id": [""], "text": ["A bench by the door"], "raised_by": [ZELDA], "kind": ["idea"], "status": ["new"]})
    voice_store.apply_idea_edits(store, pid, upserts=pd.concat([acted, typed], ignore_index=True))
    return pid, token


def test_erasure_leaves_the_person_nowhere_in_the_voice_tables(any_store):
    store = any_store
    pid, _ = build(store)
    before = voice_text(store, pid)
    assert all(t in before for t in ("p-zq", ZELDA, ZELDA.lower(), ZELDA_MAP_EMAIL, ZELDA_SIGN_IN))
    assert len(voice_store.submissions(store, pid)) == 4 and len(voice_store.ideas(store, pid)) == 5

    erase_person(store, pid, "p-zq", actor="Data protection lead")

    text = voice_text(store, pid)
    for trace in ("p-zq", "Zelda", "Quarmby", "zelda", "quarmby", ZELDA_MAP_EMAIL, ZELDA_SIGN_IN):
        assert trace not in text, trace
    # her three submissions are gone (merged into her, her name, her sign-in email); Otto's stays, the name erased
    subs = voice_store.submissions(store, pid)
    assert subs["name"].tolist() == [OTTO]
    answers = subs["answers"].iloc[0]
    assert answers["strengths"] == f"Knows {ERASED} from the allotments"
    assert answers["other_contacts"] == f"{ERASED}'s sister" and answers["name"] == OTTO
    assert answers["ties"] == {"works_with": ["g-yc"], "turns_to": []} and answers["email"] == OTTO_EMAIL
    # ideas: her untaken ones deleted (the question, the one typed in as hers, the one from "Z."); the acted-on
    # one kept with no author and no submission; Otto's kept with her name replaced
    log = voice_store.ideas(store, pid).set_index("text")
    assert sorted(log.index) == sorted(["Meet by the river", f"Ask {ERASED} about the river"])
    kept = log.loc["Meet by the river"]
    assert (kept["raised_by"], kept["submission_id"], kept["status"], kept["decision_id"], kept["response"]) == (
        "", "", "acted_on", "D1", "We booked the boathouse")
    otto = log.loc[f"Ask {ERASED} about the river"]
    assert otto["raised_by"] == OTTO and otto["submission_id"] == subs["id"].iloc[0]
    # the link: her name no longer offered, her emails (the map's and the one she shared) no longer invited
    link = voice_store.link_for(store, pid)
    assert link.people_ok == ("p-ob",) and link.invited == (OTTO_EMAIL, "dee@example.org") and link.enabled
    # the audit entry says an erasure happened, never who
    top = store.history(pid).iloc[0]
    assert top["kind"] == "erase"
    assert not any(t in str(v) for v in top.tolist() for t in ("p-zq", "Zelda", "Quarmby", "zelda", "Otto"))


def test_erasing_someone_with_no_voice_rows_leaves_the_voice_tables_exactly_as_they_were(any_store):
    store = any_store
    pid, _ = build(store)
    other = store.create_project("Another project")  # a namesake elsewhere is another project's business
    store.import_project(other, Project(stakeholders=normalise_frame("stakeholders", pd.DataFrame({
        "id": ["p-zq"], "name": [ZELDA], "kind": ["person"]}))))
    voice_store.set_people_ok(store, other, ["p-zq"])
    before, elsewhere = voice_rows(store, pid), voice_rows(store, other)

    erase_person(store, pid, "p-nr")

    assert voice_rows(store, pid) == before
    assert voice_rows(store, other) == elsewhere
    assert "p-nr" not in set(store.load(pid).stakeholders["id"])


def test_the_voice_part_is_undone_with_the_rest_when_the_erasure_fails(any_store, monkeypatch):
    store = any_store
    pid, _ = build(store)
    before = voice_rows(store, pid)

    def broken(*_args, **_kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(privacy, "_scrub_snapshots", broken)  # the last step of the erasure's transaction
    with pytest.raises(RuntimeError):
        erase_person(store, pid, "p-zq")
    assert voice_rows(store, pid) == before
    assert "p-zq" in set(store.load(pid).stakeholders["id"])


def test_a_link_saved_in_the_old_list_form_loses_the_person_too(store):
    pid, _ = build(store)
    with store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE voice_links SET people_ok = 'p-zq|p-ob' WHERE project_id = :p"), {"p": pid})
    assert voice_store.link_for(store, pid).people_ok == ("p-zq", "p-ob")

    erase_person(store, pid, "p-zq")

    link = voice_store.link_for(store, pid)
    assert link.people_ok == ("p-ob",) and link.invited == ()
    assert "p-zq" not in voice_text(store, pid)
