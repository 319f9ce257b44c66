"""No lost updates on the "Decisions and record" page (issue 7 item 2, for the record's rows).

Two real sessions (two ``AppTest`` runs of the page, one SQLite file holding the sample project) play two
facilitators signed in with ``at.user``. AppTest cannot fire a data_editor's ``on_change``, so an edit is the
change-set a browser sends, put in session state under the editor's key before the next run; the page commits it
against the rows and row versions that editor was built from, as the callback does.
"""

from __future__ import annotations

import shutil

import pytest
from streamlit.testing.v1 import AppTest

from coprod_map import access_store
from coprod_map.record_store import load_record
from coprod_map.sample import load_sample
from coprod_map.store import Store
from tests.pages._helpers import AUTH, ROOT, texts
from tests.pages.test_edit_conflicts import ANN, BO, ORDERS

# Sample rows: decision D1 and action T1 are the first row of their tables.
D1, T1 = 0, 0


@pytest.fixture(scope="module")
def sample_file(tmp_path_factory):
    """One sample database for the module, copied per test (loading the sample takes about a second)."""
    path = tmp_path_factory.mktemp("record_conflicts") / "sample.db"
    store = Store(f"sqlite:///{path}")
    pid = load_sample(store)
    store.close()
    return path, pid


@pytest.fixture
def team(sample_file, tmp_path, monkeypatch):
    import streamlit as st

    st.cache_resource.clear()  # every test copies the same file: same project id and revisions
    st.cache_data.clear()
    monkeypatch.delenv("COPROD_MAP_ADMINS", raising=False)
    source, pid = sample_file
    shutil.copy(source, tmp_path / "coprod_map.db")
    url = f"sqlite:///{tmp_path / 'coprod_map.db'}"
    monkeypatch.setenv("COPROD_MAP_DB", url)
    store = Store(url)
    for email in (ANN, BO):
        access_store.set_member(store, pid, email, role="facilitator")
    yield store, pid
    store.close()


def open_page(email: str, pid: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / "record.py"), default_timeout=60)
    at.secrets["auth"] = AUTH
    at.user = {"is_logged_in": True, "email": email, "name": email.split("@")[0]}
    at.session_state["project_id"] = pid
    at.run()
    assert not at.exception
    return at


def editor(at: AppTest, table: str):
    found = [e for e in at.data_editor if e.key and e.key.startswith(f"editor_record_{table}_")]
    assert len(found) == 1, [e.key for e in at.data_editor]
    return found[0]


def edit(at: AppTest, table: str, edited_rows: dict, *, deleted_rows: list | None = None) -> str:
    """Type ``edited_rows`` into the session's editor of ``table`` and let the page save it; returns the key."""
    key = editor(at, table).key
    at.session_state[key] = {"edited_rows": edited_rows, "added_rows": [], "deleted_rows": deleted_rows or []}
    at.run()
    assert not at.exception
    return key


def shown_text(at: AppTest) -> str:
    return texts(at) + "\n" + "\n".join(t.value for t in at.text)


def saved(store: Store, pid: str, table: str, row: str, column: str):
    return load_record(store, pid).table(table).set_index("id").loc[row, column]


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def test_the_second_save_of_a_decision_is_refused_naming_who_and_keeps_what_was_typed(team):
    store, pid = team
    ann, bo = open_page(ANN, pid), open_page(BO, pid)
    original = saved(store, pid, "decisions", "D1", "title")
    edit(ann, "decisions", {D1: {"title": "Library (Ann)"}})
    assert saved(store, pid, "decisions", "D1", "title") == "Library (Ann)"
    revision = store.revision(pid)

    key = edit(bo, "decisions", {D1: {"title": "Library (Bo)"}})
    assert "changed by someone else since you opened the table, so nothing was saved" in shown_text(bo)
    assert f"Decision 'D1' was changed by {ANN} at " in shown_text(bo)  # who and when, from the audit trail
    assert saved(store, pid, "decisions", "D1", "title") == "Library (Ann)" and store.revision(pid) == revision
    # Bo's change is still in the editor he typed it in, over the rows as they were
    assert editor(bo, "decisions").key == key
    assert bo.session_state[key]["edited_rows"][D1] == {"title": "Library (Bo)"}
    assert editor(bo, "decisions").value.set_index("id").loc["D1", "title"] == original
    assert {"Discard my changes", "Save mine anyway"} <= {b.label for b in bo.button}
    bo.run()  # another run tries nothing again and keeps the choice on screen
    assert store.revision(pid) == revision and editor(bo, "decisions").key == key
    assert "Save mine anyway" in [b.label for b in bo.button]


def test_save_mine_anyway_writes_my_cells_and_keeps_their_other_cells(team):
    store, pid = team
    ann, bo = open_page(ANN, pid), open_page(BO, pid)
    edit(ann, "decisions", {D1: {"reasons": "Ann's reason", "area": "Venue"}})
    edit(bo, "decisions", {D1: {"title": "Library (Bo)"}})
    assert saved(store, pid, "decisions", "D1", "title") != "Library (Bo)"  # refused

    button(bo, "Save mine anyway").click().run()
    assert not bo.exception
    row = load_record(store, pid).decisions.set_index("id").loc["D1"]
    assert row["title"] == "Library (Bo)"  # mine
    assert row["reasons"] == "Ann's reason" and row["area"] == "Venue"  # theirs, in cells I did not touch
    assert "Your changes were saved in place of theirs" in texts(bo)
    assert editor(bo, "decisions").value.set_index("id").loc["D1", "title"] == "Library (Bo)"  # rebuilt
    assert "Save mine anyway" not in [b.label for b in bo.button]
    trail = store.history(pid)
    assert list(trail["actor"].iloc[:2]) == [BO, ANN]


def test_discard_my_changes_shows_their_value(team):
    store, pid = team
    ann, bo = open_page(ANN, pid), open_page(BO, pid)
    edit(ann, "actions", {T1: {"owner": "Ann"}})
    revision = store.revision(pid)
    key = edit(bo, "actions", {T1: {"owner": "Bo"}})
    assert f"Action 'T1' was changed by {ANN}" in shown_text(bo)
    button(bo, "Discard my changes").click().run()
    assert not bo.exception
    assert "Your changes were discarded" in texts(bo)
    assert editor(bo, "actions").key != key
    assert editor(bo, "actions").value.set_index("id").loc["T1", "owner"] == "Ann"
    assert saved(store, pid, "actions", "T1", "owner") == "Ann" and store.revision(pid) == revision


def test_edits_to_different_rows_both_save_though_the_project_moved_on(team):
    store, pid = team
    ann, bo = open_page(ANN, pid), open_page(BO, pid)
    edit(ann, "actions", {0: {"owner": "Ann"}})
    edit(bo, "actions", {1: {"owner": "Bo"}})  # T2: nobody else touched it
    assert "changed by" not in shown_text(bo) and "Saved at" in texts(bo)
    actions = load_record(store, pid).actions.set_index("id")
    assert actions.loc["T1", "owner"] == "Ann" and actions.loc["T2", "owner"] == "Bo"
    edit(bo, "decisions", {1: {"area": "Bo's area"}})  # and another table, after both
    assert saved(store, pid, "decisions", "D2", "area") == "Bo's area"


def test_editing_an_action_someone_deleted_meanwhile_is_a_conflict(team):
    store, pid = team
    ann, bo = open_page(ANN, pid), open_page(BO, pid)
    edit(ann, "actions", {}, deleted_rows=[T1])
    assert "T1" not in load_record(store, pid).actions["id"].tolist()
    edit(bo, "actions", {T1: {"status": "open"}})
    assert f"Action 'T1' was deleted by {ANN}" in shown_text(bo)
    assert "T1" not in load_record(store, pid).actions["id"].tolist()  # not brought back silently


def test_a_refused_bad_edit_keeps_what_was_typed_until_it_is_fixed(team):
    store, pid = team
    at = open_page(ANN, pid)
    revision = store.revision(pid)
    key = edit(at, "actions", {T1: {"due": "soon"}})
    problems = [d.value for d in at.dataframe if "what to fix" in d.value.columns]
    assert problems and problems[0]["what to fix"].str.contains("'soon'").any()
    assert store.revision(pid) == revision and editor(at, "actions").key == key
    at.session_state[key] = {"edited_rows": {T1: {"due": "2026-01-31"}}, "added_rows": [], "deleted_rows": []}
    at.run()
    assert not at.exception and "Saved at" in texts(at)
    assert saved(store, pid, "actions", "T1", "due") == "2026-01-31"


@pytest.mark.parametrize("order", ORDERS, ids=[" > ".join(o) for o in ORDERS])
def test_every_interleaving_on_the_page_loses_no_update(team, order):
    """A save is refused exactly when the other person saved the same decision after this session read it."""
    store, pid = team
    people = {"A": ANN, "B": BO}
    sessions: dict[str, AppTest] = {}
    for step in order:
        who, what = step.split()
        if what == "read":
            sessions[who] = open_page(people[who], pid)
        else:
            edit(sessions[who], "decisions", {D1: {"title": f"Library ({who})"}})

    def refused(who: str) -> bool:  # worked out from the order alone
        other = "B" if who == "A" else "A"
        return order.index(f"{who} read") < order.index(f"{other} save") < order.index(f"{who} save")

    for who in "AB":
        other = people["B" if who == "A" else "A"]
        assert (f"Decision 'D1' was changed by {other}" in shown_text(sessions[who])) == refused(who), (who, order)
    last_ok = [s.split()[0] for s in order if s.endswith("save") and not refused(s.split()[0])][-1]
    assert saved(store, pid, "decisions", "D1", "title") == f"Library ({last_ok})"
    assert store.history(pid).iloc[0]["actor"] == people[last_ok]
