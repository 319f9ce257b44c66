"""Entry details at scale: ``Store.changes`` a window at a time and as text (no dict per row), the History page's
CSV download built window by window, and undo deleting an entry's added rows in one statement. Each fast path is
checked against the slow one it replaces, on awkward data (quotes, new lines, unicode, formula-like ids, private
notes, an erased person, both kinds of participation history)."""

from __future__ import annotations

import pandas as pd
import pytest

from coprod_map import history, history_replay
from coprod_map.errors import EditRejected
from coprod_map.history import details_table
from coprod_map.io.export import table_csv
from coprod_map.model import normalise_frame
from coprod_map.privacy import erase_person
from coprod_map.ui import history_cache
from tests.unit.test_history_participation import base_project, participation_rows, timeline  # noqa: F401


@pytest.fixture
def awkward(timeline):  # noqa: F811
    """The participation timeline, then ties and stakeholders with awkward text, private notes and an erasure."""
    store, pid, _, _ = timeline
    store.apply_edits(pid, "stakeholders", upserts=normalise_frame("stakeholders", pd.DataFrame({
        "id": ["=cmd", "s'q", "s5"], "name": ['Say "hi"', "O'Neil", "Zoë\nNew line"], "kind": ["person"] * 3,
        "notes": ["", "private, with 'quotes'", "+44 notes"]})))
    store.apply_edits(pid, "participation", upserts=participation_rows(
        stakeholder_id=["=cmd", "s'q", "s5"], activity_id=["a1", "a2", "a2"], notes=["-1", "", "Zoë's note"]))
    erase_person(store, pid, "s5")
    return store, pid


def _old_form(store, pid, entry, *, private):
    return store.changes(pid, entry, can_see_private=private)


@pytest.mark.parametrize("private", [False, True])
def test_changes_as_text_equal_the_dicts_as_the_page_shows_them_in_every_window(awkward, private):
    store, pid = awkward
    everything = store.changes(pid, can_see_private=private)
    assert len(everything) > 20 and everything["erased"].any() and (everything["table_name"] == "participation").any()
    shown = details_table(everything)
    as_text = store.changes(pid, can_see_private=private, text=True)
    pd.testing.assert_frame_equal(details_table(as_text), shown)
    assert as_text["erased"].tolist() == everything["erased"].tolist()
    assert as_text["seq"].tolist() == everything["seq"].tolist()
    if not private:  # notes hidden in both kinds of row, blanks left blank
        assert shown["after"].str.contains("'notes': '\\(private\\)'").any()
        assert not shown["after"].str.contains("Zoë's note|private, with").any()
    batch = int((everything["table_name"] == "participation").to_numpy().argmax())
    for offset, limit in [(0, 1), (1, 3), (batch - 1, 2), (batch + 1, 4), (len(everything) - 2, 10), (5, None),
                          (len(everything), 5), (0, 0)]:
        end = None if limit is None else offset + limit
        expected = shown.iloc[offset:end].reset_index(drop=True)
        for text in (False, True):
            window = store.changes(pid, can_see_private=private, offset=offset, limit=limit, text=text)
            pd.testing.assert_frame_equal(details_table(window), expected)


def test_the_csv_download_equals_the_whole_table_written_at_once(awkward, monkeypatch):
    store, pid = awkward
    monkeypatch.setattr(history_cache, "store", lambda: store)
    monkeypatch.setattr(history_cache, "CSV_ROWS", 2)  # many windows, cutting batches and runs of JSON rows
    for entry in store.history(pid)["id"]:
        for private in (False, True):
            expected = table_csv(details_table(store.changes(pid, int(entry), can_see_private=private)))
            assert history_cache.entry_csv(pid, int(entry), private)() == expected, (entry, private)
    every = history_cache.entry_csv(pid, int(store.history(pid)["id"].iloc[2]), False)().decode("utf-8-sig")
    assert "'=cmd" in every and "\r\n" in every  # the formula-like id neutralised in the row column


def test_change_texts_equal_parse_and_mask_on_odd_json():
    raw = pd.DataFrame({"seq": [1, 2, 3, 4, 5], "action_id": [1] * 5,
                        "table_name": ["stakeholders", "stakeholder_attributes", "relationships", "projects", "stakeholders"],
                        "op": ["update", "insert", "delete", "update", "insert"],
                        "old": ['{"id": "s1", "affected": 1.5, "notes": 0}', None, '{"erased": true}',
                                '{"name": "A", "settings": "{}"}', None],
                        "new": ['{"id": "s1", "affected": 0.10000000000000001, "notes": "\\u00e9\\n"}',
                                '{"stakeholder_id": "s1", "attribute": "age", "value": ""}', None,
                                '{"name": "B", "settings": "{}"}', '{"id": null, "notes": null, "x": [1, true]}']})
    for private in (False, True):
        slow = history.mask_private(history.parse_changes(raw), can_see_private=private)
        fast = history.change_texts(raw, can_see_private=private)
        assert fast["key"].tolist() == slow["key"].tolist() and fast["erased"].tolist() == slow["erased"].tolist()
        pd.testing.assert_frame_equal(details_table(fast), details_table(slow))


@pytest.mark.parametrize("setwise", [0, 10_000])
def test_undo_of_an_import_deletes_its_rows_in_one_statement_or_row_by_row_alike(any_store, monkeypatch, setwise):  # noqa: F811
    monkeypatch.setattr(history_replay, "SETWISE_ROWS", setwise)
    store = any_store
    pid = store.create_project("Undo", settings=base_project().settings)
    empty = store.load(pid)
    store.import_project(pid, base_project())
    store.apply_edits(pid, "relationships", upserts=normalise_frame("relationships", pd.DataFrame({
        "id": ["r9"], "source": ["s4"], "target": ["s2"], "type": ["knows"], "direction": ["mutual"]})))
    entry = int(store.history(pid).query("kind == 'import'")["id"].item())
    with pytest.raises(EditRejected) as error:  # r9, added since, hangs on s4, which the import added
        store.revert(pid, entry)
    assert "tie 'r9', added or changed since, depends on it." in error.value.details()
    store.undo(pid)  # takes r9 back
    store.undo(pid)  # then the import
    after = store.load(pid)
    for table in ("stakeholders", "relationships", "activities", "participation"):
        assert len(after.table(table)) == len(empty.table(table)) == 0, table
    summary = store.history(pid)["summary"].iloc[0]
    assert "4 stakeholders removed" in summary and "1 tie removed" in summary
