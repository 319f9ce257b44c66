"""The History page run by AppTest against a real SQLite file."""

from __future__ import annotations

from tests.pages._helpers import make_store, page, texts


def test_history_page_lists_changes_and_undoes(sqlite_url, monkeypatch):
    store, pid = make_store(sqlite_url, monkeypatch)
    row = store.load(pid).stakeholders.iloc[[0]].assign(name="Ann Renamed")
    store.apply_edits(pid, "stakeholders", upserts=row)
    at = page("history", pid)
    assert not at.exception
    assert at.title[0].value == "History"
    shown = at.dataframe[0].value
    assert shown["summary"].iloc[0] == "1 stakeholder changed (name)" and "Ann Renamed" not in shown.to_string()
    assert at.metric[0].value == "3"  # stakeholders today
    at.button[0].click().run()  # Undo the last change
    assert not at.exception
    assert "undone" in texts(at)
    assert store.load(pid).stakeholders["name"].iloc[0] == "Ann"


def test_refused_revert_and_erase_explain_why(sqlite_url, monkeypatch):
    store, pid = make_store(sqlite_url, monkeypatch)
    first = store.load(pid).stakeholders.iloc[[0]].assign(influence=3)
    store.apply_edits(pid, "stakeholders", upserts=first)
    entry = int(store.history(pid)["id"].iloc[0])
    store.apply_edits(pid, "stakeholders", upserts=first.assign(influence=4))
    at = page("history", pid)
    at.selectbox(key="history_revert_entry").set_value(entry).run()
    at.button[1].click().run()
    assert "stakeholder 's1' was changed again" in texts(at)
    at.selectbox(key="history_erase_id").set_value("s1").run()
    at.text_input(key="history_erase_confirm").set_value("s2").run()
    next(b for b in at.button if b.label == "Erase this person").click().run()
    assert "type the stakeholder" in texts(at) and "s1" in set(store.load(pid).stakeholders["id"])


def test_snapshot_taken_from_the_page(sqlite_url, monkeypatch):
    store, pid = make_store(sqlite_url, monkeypatch)
    at = page("history", pid)
    at.text_input(key="history_snapshot_name").set_value("Before workshop").run()
    next(b for b in at.button if b.label == "Take snapshot").click().run()
    assert not at.exception and store.snapshots(pid)["name"].tolist() == ["Before workshop"]
