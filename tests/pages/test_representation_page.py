"""The "Who is involved" page on the sample project, in AppTest, against a real SQLite file."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from coprod_map.analysis import representation
from coprod_map.model import AFFECTED_LEVELS, INVOLVEMENT_LEVELS, KINDS
from coprod_map.ui import cache
from coprod_map.ui import representation_cache as rc
from coprod_map.ui.widgets import MISSING_NOTE

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "representation.py")


def _values(data) -> list:
    """Plotly 7 writes numeric arrays as typed arrays ({"dtype", "bdata"}); plain lists pass through."""
    if isinstance(data, dict) and "bdata" in data:
        return np.frombuffer(base64.b64decode(data["bdata"]), dtype=data["dtype"]).tolist()
    return list(data)


@pytest.fixture
def page(sample_project, monkeypatch):
    store, project_id = sample_project
    monkeypatch.setenv("COPROD_MAP_DB", store.url_display)
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.session_state["project_id"] = project_id
    return at.run(), store, project_id


def test_page_shows_gap_charts_and_table_matching_the_store(page):
    at, store, project_id = page
    assert not at.exception
    assert len(at.get("plotly_chart")) >= 4  # gap, shares, intersections, over time
    shown = at.dataframe[0].value.set_index("Group")
    # Independent count from the store: distinct people with any participation record, per age band.
    project = store.load(project_id)
    took_part = project.participation.merge(project.stakeholders[["id", "age_band"]], left_on="stakeholder_id",
                                            right_on="id").drop_duplicates("stakeholder_id")
    counts = took_part["age_band"].value_counts()
    reference = project.reference.loc[project.reference["attribute"] == "age_band"].set_index("category")["count"]
    for category in reference.index:
        expected = int(counts.get(category, 0))
        got = shown.loc[category, "Involved (number)"]
        if 0 < expected < project.settings.min_cell:
            assert pd.isna(got)  # suppressed, never shown as 0
        else:
            assert got == expected
            known = int(counts[counts.index.isin(reference.index)].sum())
            assert shown.loc[category, "Involved (%)"] == pytest.approx(round(100 * expected / known, 1))
    assert shown.loc["25-34", "Affected (number)"] == reference["25-34"]


def test_gap_chart_bars_match_table_and_leave_out_suppressed(page):
    at, _, _ = page
    figure = json.loads(at.get("plotly_chart")[0].proto.spec)
    bars = {y: x for trace in figure["data"] if trace["type"] == "bar"  # (not the label column's helper trace)
            for x, y in zip(_values(trace["x"]), trace["y"], strict=True)}
    shown = at.dataframe[0].value.set_index("Group")
    for group, gap in shown["Gap (points)"].items():
        if pd.isna(gap):
            assert group not in bars
        else:
            assert bars[group] == pytest.approx(gap, abs=0.06)


def test_widget_changes_rerun_without_errors(page):
    at, _, _ = page
    at.radio(key="rep_mode").set_value("register").run()
    assert not at.exception
    at.radio(key="rep_involvement").set_value("rung").run()
    assert not at.exception
    at.radio(key="rep_trend_period").set_value("quarter").run()
    assert not at.exception and len(at.get("plotly_chart")) >= 4


def test_who_is_missing_lists_proxy_only_groups(page):
    at, _, _ = page
    voices = next(d.value for d in at.dataframe if "status" in d.value.columns)
    assert "proxy only" in set(voices["status"])


def test_no_project_open_prompts_instead_of_failing(sample_project, monkeypatch):
    store, _ = sample_project
    monkeypatch.setenv("COPROD_MAP_DB", store.url_display)
    # through app.py: the prompt's link to Projects needs the navigation app.py sets up
    at = AppTest.from_file(str(Path(PAGE).parents[1] / "app.py"), default_timeout=60).run()
    at.switch_page("pages/representation.py").run()
    assert not at.exception and "No project is open" in at.info[0].value


def test_participation_is_prepared_once_and_rematched_after_the_project_is_read_back(page):
    _, store, project_id = page
    revision = store.revision(project_id)
    project, prepared = rc._project(project_id, revision)
    assert prepared.matches(project) and rc._project(project_id, revision)[1] is prepared
    cache.load_project.clear()  # evicted: the next load is a new object
    again, rematched = rc._project(project_id, revision)
    assert again is not project and rematched is not prepared and rematched.matches(again)
    # and the figures the page shows are the plain ones
    options = rc.options_key(mode="register", affected_level=1, involvement="took_part", rung="involved", start="",
                             end="", cycles=None, min_cell=int(again.settings.min_cell))
    pd.testing.assert_frame_equal(rc.missing(project_id, revision, options), representation.missing_stakeholders(again))


def test_page_names_the_project_and_explains_none_in_suppressed_tables(page):
    at, store, project_id = page
    assert f"Project: {store.project_info(project_id).name}" in [t.value for t in at.text]
    gap_table = at.dataframe[0].value
    assert gap_table.isna().to_numpy().any()  # the sample's 16-24 band is too small to show
    assert MISSING_NOTE in [c.value for c in at.caption]


def test_who_is_missing_tables_show_words_not_codes(page):
    at, store, project_id = page
    who = next(d for d in at.dataframe if "last_took_part" in d.value.columns)
    # the data keeps the codes (the download is the same list); headings and values on screen are words
    config = json.loads(who.proto.columns)  # the column config as sent to the browser
    assert config["last_took_part"]["label"] == "Last took part"
    # the cells themselves are words: a screen reader reads cell values, not what a format function draws
    assert set(who.value["involvement"]) <= set(INVOLVEMENT_LEVELS.values())
    assert "Not involved" in set(who.value["involvement"]) and "not_involved" not in set(who.value["involvement"])
    assert set(who.value["affected"]) <= set(AFFECTED_LEVELS.values()) and "Strongly" in set(who.value["affected"])
    assert set(who.value["kind"]) <= set(KINDS.values())
    saved = store.load(project_id).stakeholders.set_index("id")  # each row's words match its saved codes
    assert who.value["involvement"].tolist() == [INVOLVEMENT_LEVELS[saved.loc[i, "involvement"]] for i in who.value["id"]]
    assert who.value["kind"].tolist() == [KINDS[saved.loc[i, "kind"]] for i in who.value["id"]]
    voices = next(d for d in at.dataframe if "status" in d.value.columns)
    shown = json.loads(voices.proto.columns)
    assert shown["group_name"]["label"] == "Group" and shown["basis_not_recorded"]["label"] == "Basis not recorded"
    assert "group" not in list(voices.proto.column_order)  # the id column would show each group twice
