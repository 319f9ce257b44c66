"""Participant voice in a real SQLite database: link on/off, consent, accept/merge/decline, ideas log, migration."""

from __future__ import annotations

import pandas as pd
import pytest
import sqlalchemy as sa

from coprod_map import schema, voice_store
from coprod_map.analysis.health import health_table
from coprod_map.analysis.representation import involved_stakeholders
from coprod_map.errors import EditRejected
from coprod_map.participation_voice import Submission
from coprod_map.record_store import apply_record_edits, load_record
from coprod_map.store import Store
from tests.pages._helpers import small_project


@pytest.fixture
def db(store):
    settings = small_project().settings
    settings.cycles = [{"name": "Cycle 1", "start": "2026-01-01", "end": "2026-12-31"}]
    project_id = store.create_project("Riverside test", settings=settings)
    store.import_project(project_id, small_project())
    link = voice_store.set_link_enabled(store, project_id, True)
    return store, project_id, link.token


def sub(**kw) -> Submission:
    return Submission(**{"consent": True, "name": "Cara Diaz", "attributes": {"age band": "16-24"}, "affected": 3,
                         "needs": "Step-free access", "need_category": "access",
                         "ties": {"works_with": ["s2"]}, "ideas": "Meet in the evening", "questions": "Who pays?",
                         **kw})


def counts(store: Store) -> dict[str, int]:
    with store.engine.connect() as conn:
        return {name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar()
                for name, t in schema.METADATA.tables.items() if name not in ("changes", "actions")}


# --- the link --------------------------------------------------------------------------------------

def test_the_link_opens_only_while_switched_on(db):
    store, project_id, token = db
    assert voice_store.project_for_token(store, token) == project_id
    voice_store.set_link_enabled(store, project_id, False)
    assert voice_store.project_for_token(store, token) is None
    with pytest.raises(voice_store.LinkClosed):
        voice_store.submit(store, token, sub())
    voice_store.set_link_enabled(store, project_id, True)
    new = voice_store.regenerate_link(store, project_id)
    assert new.token != token and new.enabled
    assert voice_store.project_for_token(store, token) is None  # the old link is dead
    assert voice_store.project_for_token(store, new.token) == project_id
    for junk in ("", "x", "' OR 1=1 --", new.token + "x"):
        assert voice_store.project_for_token(store, junk) is None


def test_projects_have_their_own_links(db):
    store, project_id, token = db
    other = store.create_project("Other")
    other_link = voice_store.set_link_enabled(store, other, True)
    assert other_link.token != token
    assert voice_store.project_for_token(store, other_link.token) == other
    voice_store.submit(store, other_link.token, Submission(consent=True, name="Elsewhere"))
    assert voice_store.submissions(store, project_id).empty


# --- consent --------------------------------------------------------------------------------------

def test_without_consent_nothing_is_saved(db):
    store, project_id, token = db
    before, revision = counts(store), store.revision(project_id)
    with pytest.raises(EditRejected) as error:
        voice_store.submit(store, token, sub(consent=False, cycle="Cycle 1", scores={"equal": 3}))
    assert [p.column for p in error.value.problems] == ["consent"]
    assert counts(store) == before and store.revision(project_id) == revision


def test_a_bad_answer_saves_nothing_at_all(db):
    store, project_id, token = db
    before = counts(store)
    with pytest.raises(EditRejected) as error:
        voice_store.submit(store, token, sub(attributes={"age band": "<script>"}, cycle="Cycle 1", scores={"equal": 3}))
    assert [p.column for p in error.value.problems] == ["age band"]
    assert counts(store) == before


def test_a_submission_waits_off_the_map_with_its_ideas_and_anonymous_scores(db):
    store, project_id, token = db
    map_before = store.load(project_id)
    receipt = voice_store.submit(store, token, sub(cycle="Cycle 1", scores={"equal": 4, "inclusive": 2}))
    queued = voice_store.submissions(store, project_id)
    assert queued[["id", "status", "name", "receipt"]].values.tolist() == [["V1", "pending", "Cara Diaz", receipt]]
    after = store.load(project_id)
    pd.testing.assert_frame_equal(after.stakeholders, map_before.stakeholders)  # not on the map yet
    log = voice_store.ideas(store, project_id)
    assert log[["kind", "text", "raised_by", "status"]].values.tolist() == [
        ["idea", "Meet in the evening", "", "new"], ["question", "Who pays?", "", "new"]]
    scores = load_record(store, project_id).self_assessment
    assert sorted(scores["score"].tolist()) == [2, 4] and scores["respondent"].nunique() == 1
    assert "Cara" not in scores.to_string() and receipt not in scores.to_string()
    health = health_table(after, load_record(store, project_id)).set_index("component")
    assert health.loc["equal", "self-assessment: Cycle 1"] == 4.0  # the health check sees the score


# --- deciding -------------------------------------------------------------------------------------

def test_accept_adds_the_person_ties_and_need_and_counts_them(db):
    store, project_id, token = db
    voice_store.submit(store, token, sub())
    involved = set(involved_stakeholders(store.load(project_id), involvement="rung", rung="consulted")["stakeholder_id"])
    revision, new_id = voice_store.accept(store, project_id, "V1", outcome="Welcome aboard")
    assert revision == store.revision(project_id)
    project = store.load(project_id)
    person = project.stakeholders.set_index("id").loc[new_id]
    assert (person["name"], person["age band"], person["affected"], person["involvement"]) == (
        "Cara Diaz", "16-24", 3, "consulted")
    assert project.relationships.loc[project.relationships["source"] == new_id, "target"].tolist() == ["s2"]
    needs = load_record(store, project_id).needs
    assert needs.loc[needs["stakeholder_id"] == new_id, "need"].tolist() == ["Step-free access"]
    assert bool(needs["private"].iloc[-1]) is True
    now = set(involved_stakeholders(project, involvement="rung", rung="consulted")["stakeholder_id"])
    assert now - involved == {new_id}  # counted once accepted: s1 and s2 were consulted or above before
    decided = voice_store.submissions(store, project_id).iloc[0]
    assert (decided["status"], decided["stakeholder_id"], decided["outcome"]) == ("accepted", new_id, "Welcome aboard")
    with pytest.raises(EditRejected):  # decided once only
        voice_store.decline(store, project_id, "V1")


def test_decline_leaves_the_map_and_record_unchanged(db):
    store, project_id, token = db
    voice_store.submit(store, token, sub())
    before_map, before_record = store.load(project_id), load_record(store, project_id)
    voice_store.decline(store, project_id, "V1", outcome="Already on the map")
    after_map, after_record = store.load(project_id), load_record(store, project_id)
    for table in ("stakeholders", "relationships", "participation"):
        pd.testing.assert_frame_equal(after_map.table(table), before_map.table(table))
    pd.testing.assert_frame_equal(after_record.needs, before_record.needs)
    assert voice_store.submissions(store, project_id)["status"].tolist() == ["declined"]


def test_merge_keeps_the_existing_id_and_adds_only_new_things(db):
    store, project_id, token = db
    voice_store.submit(store, token, sub(name="ann", attributes={"age band": "65+"}, groups=["parent"]))
    people_before = len(store.load(project_id).stakeholders)
    _, notes = voice_store.merge(store, project_id, "V1", "s1")
    project = store.load(project_id)
    assert len(project.stakeholders) == people_before
    ann = project.stakeholders.set_index("id").loc["s1"]
    assert (ann["name"], ann["age band"], ann["roles"]) == ("Ann", "16-24", ["parent"])
    assert any("age band" in n for n in notes)
    # s1-s2 "knows" exists, "works with" is a different kind of tie: it is added
    assert project.relationships.loc[project.relationships["type"] == "works with", ["source", "target"]].values.tolist() \
        == [["s1", "s2"]]
    assert voice_store.submissions(store, project_id)["stakeholder_id"].tolist() == ["s1"]


def test_accept_that_breaks_a_rule_writes_nothing(db):
    store, project_id, token = db
    voice_store.submit(store, token, sub())
    # the project drops the category the person chose: accepting would now put an unknown value on the map
    info = store.project_info(project_id)
    info.settings.attributes["age band"] = ["25-64", "65+"]
    store.save_settings(project_id, info.settings)
    before = counts(store)
    with pytest.raises(EditRejected) as error:
        voice_store.accept(store, project_id, "V1")
    assert any(p.column == "age band" for p in error.value.problems)
    assert counts(store) == before
    assert voice_store.submissions(store, project_id)["status"].tolist() == ["pending"]


def test_withdraw_removes_the_submission_and_its_ideas(db):
    store, project_id, token = db
    voice_store.submit(store, token, sub())
    voice_store.withdraw(store, project_id, "V1")
    assert voice_store.submissions(store, project_id).empty and voice_store.ideas(store, project_id).empty


def test_pending_queue_has_a_ceiling(db, monkeypatch):
    store, project_id, token = db
    monkeypatch.setattr(voice_store, "MAX_PENDING", 1)
    voice_store.submit(store, token, sub())
    with pytest.raises(EditRejected):
        voice_store.submit(store, token, sub(name="Second"))
    assert len(voice_store.submissions(store, project_id)) == 1


# --- receipt and ideas log --------------------------------------------------------------------------

def test_the_receipt_shows_what_happened_without_the_answers(db):
    store, project_id, token = db
    receipt = voice_store.submit(store, token, sub())
    assert voice_store.receipt_view(store, token, receipt)["status"] == "pending"
    apply_record_edits(store, project_id, "decisions", upserts=pd.DataFrame({"id": ["D1"], "title": ["Evening meetings"]}))
    log = voice_store.ideas(store, project_id)
    edit = log.loc[log["kind"] == "idea"].assign(status="acted_on", decision_id="D1", response="We moved to 6pm")
    voice_store.apply_idea_edits(store, project_id, upserts=edit)
    voice_store.accept(store, project_id, "V1")
    view = voice_store.receipt_view(store, token, receipt.lower())
    assert view["status_words"] == "Added to the map"
    assert view["ideas"]["Led to"].tolist() == ["Decision: Evening meetings", ""]
    assert view["ideas"]["What happened"].tolist() == ["We moved to 6pm", ""]
    assert "Step-free" not in str(view) and "Cara" not in str(view)
    assert voice_store.receipt_view(store, token, "AAAA-BBBB-CCCC") is None


def test_idea_edits_are_checked(db):
    store, project_id, token = db
    voice_store.submit(store, token, sub())
    before = voice_store.ideas(store, project_id)
    bad = before.head(1).assign(status="finished", decision_id="D9")
    with pytest.raises(EditRejected) as error:
        voice_store.apply_idea_edits(store, project_id, upserts=bad)
    assert {p.column for p in error.value.problems} == {"status", "decision_id"}
    pd.testing.assert_frame_equal(voice_store.ideas(store, project_id), before)
    voice_store.apply_idea_edits(store, project_id, upserts=pd.DataFrame(
        {"id": [""], "kind": ["question"], "text": ["Raised at the May meeting"]}), deletes=["I1"])
    assert voice_store.ideas(store, project_id)[["id", "text"]].values.tolist() == [
        ["I2", "Who pays?"], ["I3", "Raised at the May meeting"]]


def test_people_are_offered_only_when_marked(db):
    store, project_id, token = db
    assert voice_store.form_context(store, token).offered["id"].tolist() == ["s3", "s2"]  # Council, Youth club
    with pytest.raises(EditRejected):
        voice_store.set_people_ok(store, project_id, ["s2"])  # a group, not a person
    voice_store.set_people_ok(store, project_id, ["s1"])
    assert voice_store.form_context(store, token).offered["id"].tolist() == ["s1", "s3", "s2"]


# --- schema ---------------------------------------------------------------------------------------

def test_a_version_4_database_gains_the_voice_tables_with_its_data_intact(sqlite_url):
    engine = sa.create_engine(sqlite_url)
    with engine.begin() as conn:
        schema.create_schema(conn, version=4)
        conn.execute(sa.text("INSERT INTO projects (id, name, description, revision, created_at, updated_at, settings) "
                             "VALUES ('p1', 'Old', '', 3, '2026-01-01', '2026-01-01', '{}')"))
        conn.execute(sa.text("INSERT INTO stakeholders (project_id, id, seq, name, kind) "
                             "VALUES ('p1', '007', 0, 'Ann', 'person')"))
    engine.dispose()
    store = Store(sqlite_url)
    try:
        assert store.schema_version() == schema.SCHEMA_VERSION
        assert set(schema.VOICE_TABLES) <= set(sa.inspect(store.engine).get_table_names())
        assert store.load("p1").stakeholders["id"].tolist() == ["007"]
        link = voice_store.set_link_enabled(store, "p1", True)
        assert voice_store.project_for_token(store, link.token) == "p1"
    finally:
        store.close()


def test_deleting_a_project_removes_its_link_and_submissions(db):
    store, project_id, token = db
    voice_store.submit(store, token, sub())
    store.delete_project(project_id)
    with store.engine.connect() as conn:
        for name in schema.VOICE_TABLES:
            assert conn.execute(sa.text(f"SELECT count(*) FROM {name}")).scalar() == 0, name


# --- invitations (sign-in set up) -------------------------------------------------------------------

def test_invitations_are_added_and_taken_back_and_the_offered_people_stay(db):
    store, project_id, token = db
    voice_store.set_people_ok(store, project_id, ["s1"])
    revision = store.revision(project_id)
    link = voice_store.change_invitations(store, project_id, add=[" Dee@Example.org", "eve@example.org",
                                                                  "dee@example.org"])
    assert link.invited == ("dee@example.org", "eve@example.org") and link.people_ok == ("s1",)
    assert store.revision(project_id) == revision + 1
    assert voice_store.is_invited(store, token, "DEE@example.org") and not voice_store.is_invited(store, token, "x@y.org")
    with pytest.raises(EditRejected) as error:  # one bad email: nothing changes
        voice_store.change_invitations(store, project_id, add=["fay@example.org", "not an email"])
    assert [p.column for p in error.value.problems] == ["email"] and "not an email" in error.value.problems[0].message
    assert voice_store.link_for(store, project_id).invited == ("dee@example.org", "eve@example.org")
    link = voice_store.change_invitations(store, project_id, remove=["EVE@example.org"])
    assert link.invited == ("dee@example.org",) and link.people_ok == ("s1",)
    assert voice_store.form_context(store, token).offered["id"].tolist() == ["s1", "s3", "s2"]  # still offered
    voice_store.set_people_ok(store, project_id, [])
    assert voice_store.link_for(store, project_id).invited == ("dee@example.org",)  # not lost by the other list
    voice_store.set_link_enabled(store, project_id, False)
    with pytest.raises(voice_store.LinkClosed):
        voice_store.is_invited(store, token, "dee@example.org")


def test_a_link_saved_before_invitations_reads_its_people_and_invites_nobody(db):
    store, project_id, token = db
    with store.engine.begin() as conn:  # the a|b text a link held before invitations were added
        conn.execute(sa.text("UPDATE voice_links SET people_ok = 's1' WHERE project_id = :p"), {"p": project_id})
    link = voice_store.link_for(store, project_id)
    assert link.people_ok == ("s1",) and link.invited == ()
    assert not voice_store.is_invited(store, token, "dee@example.org")
    assert voice_store.change_invitations(store, project_id, add=["dee@example.org"]).people_ok == ("s1",)


def test_with_sign_in_only_invited_people_submit_and_their_email_only_with_their_agreement(db):
    store, project_id, token = db
    voice_store.change_invitations(store, project_id, add=["dee@example.org"])
    before = counts(store)
    with pytest.raises(voice_store.NotInvited):
        voice_store.submit(store, token, sub(), invitee="eve@example.org")
    with pytest.raises(EditRejected) as error:  # someone else's email can never be attached
        voice_store.submit(store, token, sub(email="eve@example.org"), invitee="dee@example.org")
    assert error.value.problems[0].column == "email"
    with pytest.raises(EditRejected):  # without sign-in there is no email to attach
        voice_store.submit(store, token, sub(email="dee@example.org"))
    assert counts(store) == before  # nothing saved
    voice_store.submit(store, token, sub(name="Dee"), invitee="dee@example.org")  # did not agree to share it
    voice_store.submit(store, token, sub(name="Dee again", email="dee@example.org"), invitee="Dee@example.org")
    saved = voice_store.submissions(store, project_id)
    assert [a.get("email") for a in saved["answers"]] == ["", "dee@example.org"]
    assert "dee@example.org" not in str(saved.loc[0].to_dict())
