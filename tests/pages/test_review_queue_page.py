"""The "Participant submissions" page: the queue with duplicates flagged, accept/merge/decline through the
store, the ideas log, and the participant link's switch."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from coprod_map import access_store, voice_store
from coprod_map.participation_voice import Submission
from tests.pages._helpers import AUTH, ROOT, make_store, page, texts


@pytest.fixture
def app(sqlite_url, monkeypatch):
    store, project_id = make_store(sqlite_url, monkeypatch)
    token = voice_store.set_link_enabled(store, project_id, True).token
    voice_store.submit(store, token, Submission(consent=True, name="ann", needs="Quiet room",
                                                ideas="Meet **at** the library"))
    voice_store.submit(store, token, Submission(consent=True, name="Dee Evans", attributes={"age band": "65+"}))
    yield store, project_id, token
    store.close()


def decide(at, sid: str, action: str, **choices):
    """Choose ``action`` for submission ``sid`` in its own form and press its Confirm button."""
    at.radio(key=f"voice_action_{sid}").set_value(action)
    for key, value in choices.items():
        at.selectbox(key=f"voice_{key}_{sid}").set_value(value)
    pending = [e.label.split(":")[0] for e in at.expander if e.label.startswith("V")]
    confirm = [b for b in at.button if b.label == "Confirm"]
    return confirm[pending.index(sid)].click().run()


def test_the_queue_shows_submissions_with_duplicates_flagged_and_needs_hidden(app):
    store, project_id, _ = app
    at = page("review_queue", project_id)
    assert not at.exception
    assert "Waiting for review (2)" in texts(at)
    overview = at.dataframe[0].value
    assert overview["id"].tolist() == ["V1", "V2"]
    assert "Ann (s1, 100%)" in overview.set_index("id").loc["V1", "possible duplicates"]
    assert overview.set_index("id").loc["V2", "possible duplicates"] == ""
    answers = "\n".join(d.value.to_string() for d in at.dataframe)
    assert "Quiet room" not in answers and "(hidden: private)" in answers
    assert at.radio(key="voice_action_V1").value == "merge"  # a likely duplicate defaults to merging
    assert at.selectbox(key="voice_target_V1").value == "s1"


def test_accept_adds_to_the_map_and_decline_leaves_it(app):
    store, project_id, _ = app
    before = store.load(project_id).stakeholders
    at = page("review_queue", project_id)
    at = decide(at, "V2", "accept")
    assert not at.exception
    assert "added to the map as p1" in texts(at)
    after = store.load(project_id).stakeholders
    assert len(after) == len(before) + 1
    assert after.set_index("id").loc["p1", ["name", "age band"]].tolist() == ["Dee Evans", "65+"]
    at = decide(at, "V1", "decline")
    assert not at.exception
    assert store.load(project_id).stakeholders.equals(after)
    assert voice_store.submissions(store, project_id)["status"].tolist() == ["declined", "accepted"]
    assert "Waiting for review (0)" in texts(at) and "Already decided (2)" in texts(at)


def test_merge_keeps_the_existing_id(app):
    store, project_id, _ = app
    count = len(store.load(project_id).stakeholders)
    at = page("review_queue", project_id)
    at = decide(at, "V1", "merge", target="s1")
    assert not at.exception
    assert len(store.load(project_id).stakeholders) == count
    assert voice_store.submissions(store, project_id).set_index("id").loc["V1", "stakeholder_id"] == "s1"


def test_the_ideas_log_is_shown_as_text_and_saved(app):
    store, project_id, _ = app
    at = page("review_queue", project_id)
    editor = next(e for e in at.data_editor if e.key.startswith("voice_ideas_editor_"))
    assert editor.value["text"].tolist() == ["Meet **at** the library"]  # in a table: never markup
    at.session_state[editor.key] = {"edited_rows": {0: {"status": "parked", "response": "Next year"}},
                                    "added_rows": [], "deleted_rows": []}
    at = next(b for b in at.button if b.label == "Save the log").click().run()
    assert not at.exception
    saved = voice_store.ideas(store, project_id).iloc[0]
    assert (saved["status"], saved["response"]) == ("parked", "Next year")


def test_the_link_can_be_switched_off_and_renewed(app):
    store, project_id, token = app
    at = page("review_queue", project_id)
    assert any(token in c.value for c in at.code)
    at.toggle(key=f"voice_link_{project_id}").set_value(False).run()
    assert not at.exception
    assert voice_store.project_for_token(store, token) is None
    at = next(b for b in at.button if b.label.startswith("Make a new link")).click().run()
    new = voice_store.link_for(store, project_id)
    assert new.token != token and not new.enabled
    assert any(new.token in c.value for c in at.code)


# --- invitations (who may use the link when sign-in is set up) ----------------------------------------

def as_facilitator(project_id: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / "review_queue.py"), default_timeout=30)
    at.secrets["auth"] = AUTH
    at.user = {"is_logged_in": True, "email": "fac@example.org", "name": "Fac"}
    at.session_state["project_id"] = project_id
    return at.run()


def invite(at: AppTest, text: str) -> AppTest:
    next(a for a in at.text_area if a.label.startswith("Emails to invite")).input(text)
    return next(b for b in at.button if b.label == "Invite").click().run()


def test_a_facilitator_invites_and_takes_back_invitations(app):
    store, project_id, token = app
    access_store.set_member(store, project_id, "fac@example.org", role="facilitator")
    at = as_facilitator(project_id)
    assert not at.exception
    assert "Invited people (0)" in texts(at) and "opens only for people who sign in" in texts(at)
    at = invite(at, "Dee@Example.org\neve@example.org, dee@example.org")
    assert not at.exception
    assert "Invited 2 people" in texts(at) and "Invited people (2)" in texts(at)
    assert voice_store.link_for(store, project_id).invited == ("dee@example.org", "eve@example.org")
    assert voice_store.is_invited(store, token, "eve@example.org")
    shown = next(d for d in at.dataframe if list(d.value.columns) == ["email"]).value["email"].tolist()
    assert shown == ["dee@example.org", "eve@example.org"]
    at.multiselect(key=next(m.key for m in at.multiselect if m.label == "Take back invitations")).set_value(
        ["eve@example.org"])
    at = next(b for b in at.button if b.label == "Take back the chosen invitations").click().run()
    assert not at.exception
    assert "Took back 1 invitation" in texts(at)
    assert voice_store.link_for(store, project_id).invited == ("dee@example.org",)
    assert not voice_store.is_invited(store, token, "eve@example.org")
    assert voice_store.link_for(store, project_id).token == token  # the link itself is unchanged


def test_a_bad_email_invites_nobody_and_names_the_line(app):
    store, project_id, _ = app
    revision = store.revision(project_id)
    at = page("review_queue", project_id)  # no sign-in: the list can be prepared, and says it is not used yet
    assert "this list is not used" in texts(at)
    at = invite(at, "dee@example.org\nnot an email")
    assert not at.exception
    assert "Nothing was saved" in texts(at)
    problems = next(d for d in at.dataframe if "message" in d.value.columns or "what to fix" in d.value.columns)
    assert problems.value[["row", "what to fix"]].values.tolist() == [[2, "'not an email' is not an email address."]]
    assert store.revision(project_id) == revision and voice_store.link_for(store, project_id).invited == ()
