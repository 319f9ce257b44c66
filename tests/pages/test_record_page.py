"""The "Decisions and record" page on the sample project: every tab's table, edits reach the database,
bad edits change nothing, and private needs stay hidden unless the private view is switched on."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from coprod_map.analysis import record as rec
from coprod_map.record_store import load_record
from coprod_map.sample import load_sample
from coprod_map.store import Store
from tests.pages._helpers import page, texts

PRIVATE_NEED = "Anxious in large groups"  # stated by P002, private in the sample
SHARED_NEED = "Hard of hearing"  # P001 agreed it can be shared


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory):
    """One sample database for the module, copied per test (loading the sample takes about a second)."""
    folder = tmp_path_factory.mktemp("record_page")
    url = f"sqlite:///{folder / 'sample.db'}"
    store = Store(url)
    pid = load_sample(store)
    store.close()
    return folder / "sample.db", pid


@pytest.fixture
def app(sample_db, tmp_path, monkeypatch):
    import shutil

    import streamlit as st

    # Every test copies the same database, so project id and revision repeat: start with empty caches.
    st.cache_resource.clear()
    st.cache_data.clear()
    source, pid = sample_db
    target = tmp_path / "coprod_map.db"
    shutil.copy(source, target)
    url = f"sqlite:///{target}"
    monkeypatch.setenv("COPROD_MAP_DB", url)
    store = Store(url)
    yield store, pid
    store.close()


def editor(at, table: str):
    found = [e for e in at.data_editor if e.key and e.key.startswith(f"editor_record_{table}_")]
    assert len(found) == 1, [e.key for e in at.data_editor]
    return found[0]


def everything_shown(at) -> str:
    frames = [e.value.to_csv() for e in at.data_editor] + [d.value.to_csv() for d in at.dataframe]
    return texts(at) + "\n".join(frames)


def test_page_shows_every_tab_and_its_tables(app):
    store, pid = app
    at = page("record", pid)
    assert not at.exception
    assert [t.label for t in at.tabs] == ["Decisions", "What can change", "Contributions and returns", "Needs",
                                         "Review cycles and actions", "Health check"]
    record = load_record(store, pid)
    for table in ("decisions", "changeables", "reciprocity", "cycles", "actions", "self_assessment"):
        assert len(editor(at, table).value) == len(record.table(table)) > 0, table
    health = [d.value for d in at.dataframe if list(d.value.columns) == ["name", "rating", "evidence"]]
    assert health and len(health[0]) == 10
    assert len(at.get("plotly_chart")) == 5


def test_private_needs_are_hidden_unless_the_toggle_is_on(app):
    store, pid = app
    at = page("record", pid)
    shown = everything_shown(at)
    assert PRIVATE_NEED not in shown and SHARED_NEED not in shown
    assert not [e for e in at.data_editor if e.key.startswith("editor_record_needs_")]
    assert "Needs are private" in texts(at)
    at.toggle(key="record_show_private").set_value(True).run()
    assert not at.exception
    needs = editor(at, "needs").value
    assert PRIVATE_NEED in needs["need"].tolist()
    assert len(needs) == len(load_record(store, pid).needs)
    editor(at, "need_met")


def test_an_edit_reaches_the_database_and_says_saved(app):
    store, pid = app
    before = store.revision(pid)
    at = page("record", pid)
    at.session_state[editor(at, "decisions").key] = {
        "edited_rows": {0: {"title": "Workshops move to the library"}},
        "added_rows": [{"title": "A new decision", "made_by": ["P001"], "date": "2026-05-01"}],
        "deleted_rows": [],
    }
    at.run()
    assert not at.exception
    saved = load_record(store, pid).decisions.set_index("id")
    assert saved.loc["D1", "title"] == "Workshops move to the library"
    assert saved.loc["D9", "title"] == "A new decision" and saved.loc["D9", "made_by"] == ["P001"]
    assert store.revision(pid) == before + 1
    assert "Saved at" in texts(at)
    assert "D9" in editor(at, "decisions").value["id"].tolist()


def test_a_bad_edit_shows_its_problems_and_changes_nothing(app):
    store, pid = app
    before_rev = store.revision(pid)
    before = load_record(store, pid).reciprocity
    at = page("record", pid)
    at.session_state[editor(at, "reciprocity").key] = {
        "edited_rows": {0: {"returned_kind": "cash", "hours": -3}}, "added_rows": [], "deleted_rows": []}
    at.run()
    assert not at.exception
    assert store.revision(pid) == before_rev
    assert load_record(store, pid).reciprocity.equals(before)
    problems = [d.value for d in at.dataframe if "what to fix" in d.value.columns]
    assert problems and problems[0]["what to fix"].str.contains("'cash'").any()
    assert problems[0]["what to fix"].str.contains("'-3'").any()


def test_keeping_a_snapshot_saves_both_kinds_of_figures(app):
    store, pid = app
    at = page("record", pid)
    at.selectbox(key="record_snap_cycle").set_value("Cycle 3").run()
    at.button(key="record_snap_take").click().run()
    assert not at.exception
    kept = load_record(store, pid).snapshots
    assert sorted(kept.loc[kept["cycle"] == "Cycle 3", "kind"]) == ["network", "representation"]


def test_user_text_is_shown_as_text_not_markup(app):
    store, pid = app
    import pandas as pd

    from coprod_map.record_store import apply_record_edits

    apply_record_edits(store, pid, "decisions", upserts=pd.DataFrame({"id": ["D1"], "title": ["**bold** <b>x</b>"]}))
    at = page("record", pid)
    assert not at.exception
    assert all("<b>x</b>" not in str(m.value) for m in at.markdown)
    assert "**bold** <b>x</b>" in editor(at, "decisions").value["title"].tolist()


def test_changing_an_id_to_one_already_used_is_refused_not_overwritten(app):
    store, pid = app
    before_rev = store.revision(pid)
    before = load_record(store, pid).decisions
    assert {"D1", "D2"} <= set(before["id"])
    at = page("record", pid)
    shown = editor(at, "decisions").value
    second = shown.index[shown["id"] == "D2"][0]
    at.session_state[editor(at, "decisions").key] = {
        "edited_rows": {int(second): {"id": "D1"}}, "added_rows": [{"id": "D3", "title": "Copy"}], "deleted_rows": []}
    at.run()
    assert not at.exception
    assert store.revision(pid) == before_rev
    after = load_record(store, pid).decisions
    assert after.equals(before)  # D1 was not overwritten, D2 not deleted, D3 not replaced
    problems = [d.value for d in at.dataframe if "what to fix" in d.value.columns]
    assert problems and problems[0]["what to fix"].str.contains("'D1': this id is already used").any()
    assert problems[0]["what to fix"].str.contains("'D3'").any()


def test_health_summary_counts_each_rating_and_contributions_show_words(app):
    _, pid = app
    at = page("record", pid)
    health = next(d.value for d in at.dataframe if list(d.value.columns) == ["name", "rating", "evidence"])
    counted = health["rating"].value_counts()  # an independent count from the table beside the chart
    summary = next(c.value for c in at.caption if c.value.startswith("Of the ten components"))
    for rating, n in counted.items():
        assert f"{rating} for {n}" in summary.replace("\\", "")
    assert "none yet for 0" not in summary
    totals = next(d.value for d in at.dataframe if "nothing returned" in d.value.columns)
    groups = set(totals["What came back"])
    assert "Feedback on what their input changed" in groups and "feedback_on_influence" not in groups
    assert "Nothing yet" in groups  # contributions with nothing returned, not the code "none"


# --- worked-out tables show words, not column ids or codes ------------------------------------------------------

SNAKE = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")  # stakeholder_id, feedback_on_influence, good_and_done_agreed


def shown(d) -> tuple[list[str], str]:
    """What a table puts on screen: each heading as its column_config labels it, and its cells as text."""
    config = json.loads(d.proto.columns or "{}")
    heads = [(config.get(str(c)) or {}).get("label") or str(c) for c in d.value.columns]
    return heads, d.value.astype(str).to_csv(index=False, header=False)


# name -> how to find the table among the page's dataframes (by the analysis' column ids, which stay as they were)
WORKED_OUT = {
    "totals per person": lambda cols: {"stakeholder_id", "nothing_returned"} <= cols,
    "contributions with nothing returned": lambda cols: cols == {"id", "stakeholder_id", "name", "date",
                                                                 "contributed", "hours"},
    "decisions with lived experience": lambda cols: "decision_share" in cols,
    "needs met at each activity": lambda cols: {"activity_id", "partly"} <= cols,
    "unmet needs by group": lambda cols: "people_unmet" in cols,
    "review cycles overview": lambda cols: "actions_done" in cols,
    "snapshot compared with now": lambda cols: "gap_then" in cols,
}


@pytest.mark.parametrize("name", list(WORKED_OUT))
def test_worked_out_tables_show_no_snake_case_code(app, name):
    _, pid = app
    at = page("record", pid)
    found = [d for d in at.dataframe if WORKED_OUT[name](set(map(str, d.value.columns)))]
    assert len(found) == 1, name
    heads, cells = shown(found[0])
    assert not [h for h in heads if SNAKE.search(h)], heads
    assert not SNAKE.findall(cells), SNAKE.findall(cells)
    # the check bites: the table's own column ids (what the page showed before, and what a download keeps)
    # are codes, and, where the analysis hands back coded cells, so are they
    old = " ".join(map(str, found[0].value.columns)) + " " + cells
    assert SNAKE.search(" ".join(map(str, found[0].value.columns))), old


def test_actions_by_status_heads_its_columns_with_the_status_words(app):
    _, pid = app
    at = page("record", pid)
    table = next(d for d in at.dataframe if {"cycle", "doing"} <= set(d.value.columns))
    heads, _ = shown(table)
    assert heads == ["Review cycle", "Open", "Under way", "Done", "Dropped", "Total"]  # not the code "doing"


def test_totals_per_person_headings_use_the_contribution_words_and_keep_the_figures(app):
    store, pid = app
    at = page("record", pid)
    table = next(d for d in at.dataframe if {"stakeholder_id", "nothing_returned"} <= set(d.value.columns))
    heads, _ = shown(table)
    assert heads == ["ID", "Who contributed", "Contributions", "Hours", "Money value", "Something returned",
                     "Nothing returned"]
    record = load_record(store, pid)
    # an independent count from the saved rows: nothing returned = returned kind blank or "none"
    nothing = record.reciprocity["returned_kind"].isin(["", "none"]).groupby(record.reciprocity["stakeholder_id"]).sum()
    shown_counts = dict(zip(table.value["stakeholder_id"], table.value["nothing_returned"], strict=True))
    assert shown_counts == {k: int(v) for k, v in nothing.items()}
    unreturned = next(d for d in at.dataframe if WORKED_OUT["contributions with nothing returned"](set(d.value.columns)))
    assert shown(unreturned)[0] == ["Contribution ID", "Their ID", "Who contributed", "Date", "What they contributed",
                                    "Hours"]
    assert len(unreturned.value) == int(nothing.sum())


def test_gaps_beside_unmet_needs_and_snapshots_read_as_points_and_words(app):
    store, pid = app
    at = page("record", pid)
    unmet = next(d.value for d in at.dataframe if "people_unmet" in d.value.columns)
    project, record = store.load(pid), load_record(store, pid)
    by = at.selectbox(key="record_needs_by").value
    raw = rec.unmet_needs_by_group(record, project, by=by, gaps=rec.representation_figures(project, cycle=None))
    expected = dict(zip(raw["category"], (raw["gap"].astype("Float64") * 100).round(1), strict=True))
    for category, gap in zip(unmet["category"], unmet["gap"], strict=True):
        assert (pd.isna(gap) and pd.isna(expected[category])) or gap == pytest.approx(float(expected[category]))
    assert set(unmet["flag"]) <= {"", "fewer than expected", "more than expected", "about as expected"}
    assert set(raw["flag"]) - {""}  # the sample has flagged groups, so the words above were mapped from codes
    compared = next(d.value for d in at.dataframe if "gap_then" in d.value.columns)
    assert "age_band" not in set(compared["attribute"]) and "Age band" in set(compared["attribute"])
    assert set(compared["flag_now"]) <= {"", "fewer than expected", "more than expected", "about as expected"}
