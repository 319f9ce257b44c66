"""No lost updates on the Stakeholders page, and the signed-in person's name in the audit trail (issue 7, items 1-2).

Two real sessions (two ``AppTest`` runs of the page file, one SQLite file) play two facilitators signed in with
``at.user`` and sign-in set up by ``at.secrets["auth"]``. AppTest cannot fire a data_editor's ``on_change``, so an
edit is the change-set a browser sends, put in session state under the editor's key before the next run; the page
commits it against the rows and versions that editor was built from, exactly as the callback does.
"""

from __future__ import annotations

import itertools

import pytest
from streamlit.testing.v1 import AppTest

from coprod_map import access_store
from tests.pages._helpers import AUTH, ROOT, make_store, texts

ANN, BO = "ann@example.org", "bo@example.org"


@pytest.fixture
def team(sqlite_url, monkeypatch):
    """The small project (s1 Ann, s2 Youth club, s3 Council; r1 s1-s2) with two facilitators."""
    monkeypatch.delenv("COPROD_MAP_ADMINS", raising=False)
    store, project_id = make_store(sqlite_url, monkeypatch)
    access_store.set_member(store, project_id, ANN, role="facilitator")
    access_store.set_member(store, project_id, BO, role="facilitator")
    yield store, project_id
    store.close()


def open_page(name: str, email: str | None, project_id: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / f"{name}.py"), default_timeout=60)
    if email is not None:
        at.secrets["auth"] = AUTH
        at.user = {"is_logged_in": True, "email": email, "name": email.split("@")[0]}
    at.session_state["project_id"] = project_id
    return at.run()


def editor_key(at: AppTest, table: str = "stakeholders") -> str:
    keys = [e.key for e in at.data_editor if e.key and e.key.startswith(f"editor_{table}_")]
    assert len(keys) == 1, keys
    return keys[0]


def edit(at: AppTest, edited_rows: dict, *, table: str = "stakeholders", deleted_rows: list | None = None) -> str:
    """Type ``edited_rows`` into the editor the session has on screen and let the page save it; returns the key."""
    key = editor_key(at, table)
    at.session_state[key] = {"edited_rows": edited_rows, "added_rows": [], "deleted_rows": deleted_rows or []}
    at.run()
    assert not at.exception
    return key


def saved(store, project_id: str, row: str, column: str):
    return store.load(project_id).stakeholders.set_index("id").loc[row, column]


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def test_the_second_save_of_the_same_row_is_refused_naming_who_changed_it_and_keeps_what_was_typed(team):
    store, pid = team
    ann, bo = open_page("stakeholders", ANN, pid), open_page("stakeholders", BO, pid)
    edit(ann, {1: {"name": "Youth club (Ann)"}})
    assert saved(store, pid, "s2", "name") == "Youth club (Ann)"
    revision = store.revision(pid)

    key = edit(bo, {1: {"name": "Youth club (Bo)"}})
    shown = texts(bo) + "\n".join(t.value for t in bo.text)
    assert "changed by someone else since you opened the table, so nothing was saved" in shown
    assert f"Stakeholder 's2' was changed by {ANN} at " in shown  # who and when, from the audit trail
    assert saved(store, pid, "s2", "name") == "Youth club (Ann)" and store.revision(pid) == revision
    # Bo's change is still in the editor he typed it in, over the rows as they were
    assert editor_key(bo) == key
    assert bo.session_state[key]["edited_rows"][1] == {"name": "Youth club (Bo)"}
    assert bo.data_editor[0].value.set_index("id").loc["s2", "name"] == "Youth club"
    assert {"Discard my changes", "Save mine anyway"} <= {b.label for b in bo.button}
    bo.run()  # another run does not try to save it again, and keeps the choice on screen
    assert store.revision(pid) == revision and editor_key(bo) == key and "Save mine anyway" in [b.label for b in bo.button]


def test_save_mine_anyway_writes_my_cells_and_keeps_their_other_cells(team):
    store, pid = team
    ann, bo = open_page("stakeholders", ANN, pid), open_page("stakeholders", BO, pid)
    edit(ann, {1: {"notes": "Ann's note", "influence": 4}})
    edit(bo, {1: {"name": "Youth club (Bo)"}})
    assert saved(store, pid, "s2", "name") == "Youth club"  # refused

    button(bo, "Save mine anyway").click().run()
    assert not bo.exception
    row = store.load(pid).stakeholders.set_index("id").loc["s2"]
    assert row["name"] == "Youth club (Bo)"  # mine
    assert row["notes"] == "Ann's note" and row["influence"] == 4  # theirs, in cells I did not touch
    assert "Your changes were saved in place of theirs" in texts(bo)
    assert bo.data_editor[0].value.set_index("id").loc["s2", "name"] == "Youth club (Bo)"  # rebuilt from the database
    assert "Save mine anyway" not in [b.label for b in bo.button]
    trail = store.history(pid)
    assert trail.iloc[0]["actor"] == BO and trail.iloc[0]["kind"] == "edit"
    assert trail.iloc[1]["actor"] == ANN


def test_discard_my_changes_shows_their_value(team):
    store, pid = team
    ann, bo = open_page("stakeholders", ANN, pid), open_page("stakeholders", BO, pid)
    edit(ann, {1: {"name": "Youth club (Ann)"}})
    revision = store.revision(pid)
    key = edit(bo, {1: {"name": "Youth club (Bo)"}})
    button(bo, "Discard my changes").click().run()
    assert not bo.exception
    assert "Your changes were discarded" in texts(bo)
    assert editor_key(bo) != key
    assert bo.data_editor[0].value.set_index("id").loc["s2", "name"] == "Youth club (Ann)"
    assert saved(store, pid, "s2", "name") == "Youth club (Ann)" and store.revision(pid) == revision


def test_edits_to_other_rows_both_save(team):
    store, pid = team
    ann, bo = open_page("stakeholders", ANN, pid), open_page("stakeholders", BO, pid)
    edit(ann, {1: {"name": "Youth club (Ann)"}})
    edit(bo, {0: {"name": "Ann Smith"}})  # s1: nobody else touched it
    assert "changed by" not in texts(bo) and "Saved at" in texts(bo)
    frame = store.load(pid).stakeholders.set_index("id")
    assert frame.loc["s2", "name"] == "Youth club (Ann)" and frame.loc["s1", "name"] == "Ann Smith"


def test_editing_a_row_someone_deleted_meanwhile_is_a_conflict(team):
    store, pid = team
    ann, bo = open_page("stakeholders", ANN, pid), open_page("stakeholders", BO, pid)
    edit(ann, {}, deleted_rows=[1])  # s2 goes, with its tie r1
    assert "s2" not in store.load(pid).stakeholders["id"].tolist()
    edit(bo, {1: {"influence": 5}})
    assert f"Stakeholder 's2' was deleted by {ANN}" in "\n".join(t.value for t in bo.text)
    assert "s2" not in store.load(pid).stakeholders["id"].tolist()  # not brought back silently


def test_a_relationship_changed_by_someone_else_is_a_conflict_too(team):
    store, pid = team
    ann, bo = open_page("stakeholders", ANN, pid), open_page("stakeholders", BO, pid)
    edit(ann, {0: {"type": "works with"}}, table="relationships")
    revision = store.revision(pid)
    edit(bo, {0: {"type": "funds"}}, table="relationships")
    assert f"Relationship 'r1' was changed by {ANN}" in "\n".join(t.value for t in bo.text)
    assert store.load(pid).relationships.set_index("id").loc["r1", "type"] == "works with"
    assert store.revision(pid) == revision


ORDERS = [o for o in itertools.permutations(["A read", "A save", "B read", "B save"])
          if o.index("A read") < o.index("A save") and o.index("B read") < o.index("B save")]


@pytest.mark.parametrize("order", ORDERS, ids=[" > ".join(o) for o in ORDERS])
def test_every_interleaving_of_two_sessions_loses_no_update(team, order):
    """A save is refused exactly when the other person saved the same row after this session read it."""
    store, pid = team
    people = {"A": ANN, "B": BO}
    sessions: dict[str, AppTest] = {}
    for step in order:
        who, what = step.split()
        if what == "read":
            sessions[who] = open_page("stakeholders", people[who], pid)
        else:
            edit(sessions[who], {1: {"name": f"Youth club ({who})"}})

    def refused(who: str) -> bool:  # worked out from the order alone
        other = "B" if who == "A" else "A"
        return order.index(f"{who} read") < order.index(f"{other} save") < order.index(f"{who} save")

    for who in "AB":
        shown = "\n".join(t.value for t in sessions[who].text)
        assert (f"was changed by {people['B' if who == 'A' else 'A']}" in shown) == refused(who), (who, order)
    assert not (refused("A") and refused("B"))
    last_ok = [s.split()[0] for s in order if s.endswith("save") and not refused(s.split()[0])][-1]
    assert saved(store, pid, "s2", "name") == f"Youth club ({last_ok})"
    assert store.history(pid).iloc[0]["actor"] == people[last_ok]


def test_the_audit_trail_names_the_signed_in_person(team):
    store, pid = team
    ann = open_page("stakeholders", ANN, pid)
    edit(ann, {0: {"influence": 2}})
    next(t for t in ann.text_input if t.label == "Stakeholder name").input("Food bank")
    button(ann, "Add stakeholder").click().run()
    assert not ann.exception and "s4" in store.load(pid).stakeholders["id"].tolist()
    settings = open_page("settings", ANN, pid)
    settings.number_input[0].set_value(7)
    button(settings, "Save settings").click().run()
    assert not settings.exception and store.project_info(pid).settings.min_cell == 7
    history = open_page("history", BO, pid)
    button(history, "Undo the last change").click().run()
    assert not history.exception and "undone" in texts(history)
    trail = store.history(pid)
    newest_first = list(zip(trail["kind"], trail["actor"], strict=True))[:4]
    assert newest_first == [("undo", BO), ("settings", ANN), ("edit", ANN), ("edit", ANN)], newest_first
    assert store.project_info(pid).settings.min_cell != 7  # Bo's undo took back Ann's settings
    assert "local user" not in set(trail["actor"].iloc[:4])


def test_without_sign_in_the_audit_trail_says_local_user(team):
    store, pid = team
    at = open_page("stakeholders", None, pid)
    edit(at, {0: {"influence": 2}})
    assert store.history(pid).iloc[0]["actor"] == "local user"
