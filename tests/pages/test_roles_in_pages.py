"""What each role is offered inside the pages it may open (issue 7, item 1): buttons, private fields, exports.

Sign-in is set up with ``at.secrets["auth"]`` and the person injected with ``at.user``; the database is real.
"""

from __future__ import annotations

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from coprod_map import access_store
from coprod_map.record_store import apply_record_edits
from tests.pages._helpers import AUTH, ROOT, make_store, texts

OWNER, FAC, VIEWER, ROOT_ADMIN = "owner@example.org", "fac@example.org", "view@example.org", "root@example.org"
NEED = "Needs a quiet room and large print"


@pytest.fixture
def team(sqlite_url, monkeypatch):
    monkeypatch.setenv("COPROD_MAP_ADMINS", ROOT_ADMIN)
    store, pid = make_store(sqlite_url, monkeypatch)
    access_store.set_member(store, pid, OWNER, role="owner", may_see_private=True)
    access_store.set_member(store, pid, FAC, role="facilitator")
    access_store.set_member(store, pid, VIEWER, role="viewer")
    apply_record_edits(store, pid, "needs", upserts=pd.DataFrame(
        {"id": ["N1"], "stakeholder_id": ["s1"], "category": ["access"], "need": [NEED]}))
    yield store, pid
    store.close()


def run(name: str, email: str, pid: str | None, **state) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / f"{name}.py"), default_timeout=60)
    at.secrets["auth"] = AUTH
    at.user = {"is_logged_in": True, "email": email, "name": "Test"}
    if pid:
        at.session_state["project_id"] = pid
    for key, value in state.items():
        at.session_state[key] = value
    return at.run()


def labels(at: AppTest) -> set[str]:
    return {b.label for b in at.button}


def test_projects_page_offers_each_role_only_what_it_may_do(team):
    _store, pid = team
    offered = {email: labels(run("home", email, pid)) for email in (OWNER, FAC, VIEWER)}
    assert {"Rename", "Make a copy", "Delete this project for good"} <= offered[OWNER]
    assert {"Rename", "Make a copy"} <= offered[FAC] and "Delete this project for good" not in offered[FAC]
    assert not offered[VIEWER] & {"Rename", "Make a copy", "Delete this project for good"}
    # creating projects (and the shared sample) is for the app's admins once sign-in is set up
    assert not any({"Create project", "Open the sample project"} & offered[e] for e in offered)


def test_an_admin_creates_a_project_and_becomes_its_owner(team):
    store, _pid = team
    at = run("home", ROOT_ADMIN, None)
    next(t for t in at.text_input if t.key == "new_project_name").input("Admin's project")
    next(b for b in at.button if b.label == "Create project").click().run()
    assert not at.exception
    made = store.find_project("Admin's project")
    member = access_store.membership(store, made, ROOT_ADMIN)
    assert member is not None and member.role == "owner"
    assert store.history(made).iloc[-1]["actor"] == ROOT_ADMIN


def test_history_page_lets_viewers_read_but_not_undo(team):
    _store, pid = team
    viewer, owner = run("history", VIEWER, pid), run("history", OWNER, pid)
    assert not viewer.exception and not owner.exception
    assert "Undo the last change" not in labels(viewer) and "Erase this person" not in labels(viewer)
    assert {"Undo the last change", "Erase this person", "Save retention date"} <= labels(owner)
    facilitator = run("history", FAC, pid)
    assert "Undo the last change" in labels(facilitator) and "Erase this person" not in labels(facilitator)


def test_private_fields_need_the_membership_flag_not_just_the_switch(team):
    _store, pid = team
    # the facilitator has no need-to-know flag: no switch, and setting it by hand shows nothing private
    fac = run("record", FAC, pid, record_show_private=True)
    assert not fac.exception
    assert not [t for t in fac.toggle if t.label.startswith("Show private fields")]
    assert NEED not in "\n".join(e.value.to_csv() for e in [*fac.dataframe, *fac.data_editor])
    assert "does not include seeing them" in texts(fac)
    owner = run("record", OWNER, pid, record_show_private=True)
    assert [t for t in owner.toggle if t.label.startswith("Show private fields")]
    assert NEED in "\n".join(e.value.to_csv() for e in owner.data_editor)


def test_private_needs_go_into_downloads_only_for_those_who_may_see_them(team):
    _store, pid = team
    fac, owner = run("import_export", FAC, pid), run("import_export", OWNER, pid)
    assert not fac.exception and not owner.exception
    assert not [c for c in fac.checkbox if "stated needs" in c.label]
    assert "left out of these files" in texts(fac)
    assert [c for c in owner.checkbox if "stated needs" in c.label]
