"""The participant page (``?join=TOKEN``): a closed link shows one sentence; consent gates saving; a good
submission reaches the queue with a receipt; the receipt check shows what happened."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from coprod_map import voice_store
from tests.pages._helpers import AUTH, ROOT, make_store, texts


@pytest.fixture
def app(sqlite_url, monkeypatch):
    store, project_id = make_store(sqlite_url, monkeypatch)
    info = store.project_info(project_id)
    info.settings.cycles = [{"name": "Cycle 1", "start": "2020-01-01", "end": ""}]
    store.save_settings(project_id, info.settings)
    token = voice_store.set_link_enabled(store, project_id, True).token
    yield store, project_id, token
    store.close()


def participate(token: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / "participate.py"), default_timeout=30)
    at.query_params["join"] = token
    return at.run()


def widget(at, kind: str, key: str):
    return next(w for w in getattr(at, kind) if w.key == key)


def fill(at) -> None:
    widget(at, "text_input", "voice_name").input("Dee <b>Evans</b>")
    widget(at, "selectbox", "voice_attr_0").set_value("prefer not to say")
    widget(at, "text_area", "voice_needs").input("Large print")
    widget(at, "multiselect", "voice_ties_works_with").set_value(["s2"])
    widget(at, "text_area", "voice_questions").input("Who decides the budget?")
    widget(at, "radio", "voice_score_equal").set_value(4)


def send(at) -> AppTest:
    return next(b for b in at.button if b.label == "Send my answers").click().run()


@pytest.mark.parametrize("token", ["", "not-a-real-token-at-all", "x"])
def test_an_unknown_link_shows_only_that_it_is_not_open(app, token):
    at = participate(token)
    assert not at.exception
    assert "This link is not open at the moment" in texts(at)
    assert not at.text_input and not at.button and "Riverside" not in texts(at)


def test_a_switched_off_link_is_not_open(app):
    store, project_id, token = app
    voice_store.set_link_enabled(store, project_id, False)
    at = participate(token)
    assert "This link is not open at the moment" in texts(at) and not at.text_input


def test_the_form_offers_groups_and_organisations_but_no_people(app):
    _, _, token = app
    at = participate(token)
    assert not at.exception
    offered = widget(at, "multiselect", "voice_ties_works_with").options
    assert sorted(offered) == ["Council", "Youth club"]  # Ann (a person) is not offered


def test_without_consent_nothing_is_saved_and_the_answers_stay(app):
    store, project_id, token = app
    revision = store.revision(project_id)
    at = participate(token)
    fill(at)
    at = send(at)
    assert not at.exception
    assert "Nothing has been saved" in texts(at)
    assert store.revision(project_id) == revision and voice_store.submissions(store, project_id).empty
    assert widget(at, "text_input", "voice_name").value == "Dee <b>Evans</b>"  # nothing typed is lost


def test_a_submission_reaches_the_queue_and_the_receipt_tells_its_fate(app):
    store, project_id, token = app
    at = participate(token)
    fill(at)
    widget(at, "checkbox", "voice_consent").check()
    at = send(at)
    assert not at.exception
    assert "Thank you" in texts(at)
    receipt = at.code[0].value
    queued = voice_store.submissions(store, project_id)
    assert queued[["name", "receipt", "status"]].values.tolist() == [["Dee <b>Evans</b>", receipt, "pending"]]
    answers = queued["answers"].iloc[0]
    assert answers["attributes"] == {"age band": "prefer not to say"} and answers["ties"] == {"works_with": ["s2"]}
    voice_store.decline(store, project_id, queued["id"].iloc[0], outcome="You are already on the map")
    widget(at, "text_input", "voice_check_code").input(receipt.lower())
    at = next(b for b in at.button if b.label == "Check").click().run()
    shown = texts(at)
    assert "Not added to the map" in shown and "You are already on the map" in shown
    assert "Large print" not in shown  # the receipt never shows the answers


def test_a_wrong_receipt_is_told_plainly(app):
    _, _, token = app
    at = participate(token)
    widget(at, "text_input", "voice_check_code").input("AAAA-BBBB-CCCC")
    at = next(b for b in at.button if b.label == "Check").click().run()
    assert "No answers have that receipt code" in texts(at)


# --- sign-in set up: invited people only ---------------------------------------------------------------

def participate_signed(token: str, user: dict) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / "participate.py"), default_timeout=30)
    at.query_params["join"] = token
    at.secrets["auth"] = AUTH
    at.user = user
    return at.run()


def signed_in(email: str) -> dict:
    return {"is_logged_in": True, "email": email, "name": "Test person"}


def nothing_of_the_project(at) -> bool:
    shown = texts(at) + "\n".join(str(o) for box in at.multiselect for o in box.options)
    return (not at.text_input and not at.text_area and not at.multiselect and not at.checkbox and not at.radio
            and "Riverside" not in shown and "Youth club" not in shown and "Council" not in shown)


def test_signed_out_people_see_only_the_sign_in_button(app):
    store, project_id, token = app
    voice_store.change_invitations(store, project_id, add=["dee@example.org"])
    at = participate_signed(token, {"is_logged_in": False})
    assert not at.exception
    assert [b.label for b in at.button] == ["Sign in"]
    assert nothing_of_the_project(at)


def test_a_signed_in_person_who_is_not_invited_is_told_so_and_sees_nothing_else(app):
    store, project_id, token = app
    voice_store.change_invitations(store, project_id, add=["dee@example.org"])
    at = participate_signed(token, signed_in("eve@example.org"))
    assert not at.exception
    assert "This link is for invited people" in texts(at)
    assert [b.label for b in at.button] == ["Sign out"]  # to try another account; no form, no receipt check
    assert nothing_of_the_project(at)


def test_an_invited_person_gets_the_form_and_their_email_is_sent_only_if_they_agree(app):
    store, project_id, token = app
    voice_store.change_invitations(store, project_id, add=["Dee@Example.org"])
    at = participate_signed(token, signed_in("dee@example.org"))
    assert not at.exception
    assert "Project: Riverside test" in texts(at) and widget(at, "text_input", "voice_name")
    assert widget(at, "checkbox", "voice_share_email").value is False  # not shared unless ticked
    fill(at)
    widget(at, "checkbox", "voice_consent").check()
    at = send(at)
    assert not at.exception and "Thank you" in texts(at)
    at = participate_signed(token, signed_in("dee@example.org"))
    fill(at)
    widget(at, "checkbox", "voice_consent").check()
    widget(at, "checkbox", "voice_share_email").check()
    at = send(at)
    assert not at.exception and "Thank you" in texts(at)
    emails = [a.get("email") for a in voice_store.submissions(store, project_id)["answers"]]
    assert emails == ["", "dee@example.org"]


def test_an_invitation_taken_back_closes_the_form_even_if_it_is_open_on_screen(app):
    store, project_id, token = app
    voice_store.change_invitations(store, project_id, add=["dee@example.org"])
    at = participate_signed(token, signed_in("dee@example.org"))
    fill(at)
    widget(at, "checkbox", "voice_consent").check()
    voice_store.change_invitations(store, project_id, remove=["dee@example.org"])
    at = send(at)
    assert not at.exception
    assert "This link is for invited people" in texts(at) and nothing_of_the_project(at)
    assert voice_store.submissions(store, project_id).empty


def test_without_sign_in_the_link_alone_opens_the_form_and_no_email_is_asked(app):
    store, project_id, token = app
    voice_store.change_invitations(store, project_id, add=["dee@example.org"])  # prepared, but not used
    at = participate(token)
    assert not at.exception
    assert widget(at, "text_input", "voice_name") and "Sign in" not in [b.label for b in at.button]
    assert not any(c.key == "voice_share_email" for c in at.checkbox)
