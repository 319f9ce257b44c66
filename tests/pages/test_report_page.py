"""The "Share a report" page on the sample project, in AppTest, against a real SQLite file."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from coprod_map.report import SECTIONS

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "report.py")


@pytest.fixture
def page(sample_project, monkeypatch):
    store, project_id = sample_project
    monkeypatch.setenv("COPROD_MAP_DB", store.url_display)
    at = AppTest.from_file(PAGE, default_timeout=90)
    at.session_state["project_id"] = project_id
    return at.run(), store, project_id


def _markdown(at: AppTest) -> str:
    return "\n".join(str(m.value) for m in at.markdown).replace("\\", "")


def _headings(at: AppTest) -> list[str]:
    return [str(m.value)[4:].replace("\\", "") for m in at.markdown if str(m.value).startswith("### ")]


def test_page_offers_the_download_and_shows_the_preview(page):
    at, store, project_id = page
    assert not at.exception
    buttons = at.get("download_button")
    assert len(buttons) == 1 and "Download the report" in buttons[0].proto.label
    assert at.header[0].value == "Preview"
    assert _headings(at) == list(SECTIONS.values())  # every section of the preview, in the file's words
    assert len(at.get("plotly_chart")) >= 6  # five attributes and the brokers, at least
    assert len(at.dataframe) >= 8
    # the preview's first gap table is the age band table, whose rows follow the project's categories
    first = at.dataframe[0].value
    assert list(first.columns)[0] == "Group"
    categories = store.load(project_id).settings.attributes["age_band"]
    assert [g for g in first["Group"] if g in categories] == categories


def test_leaving_sections_out_removes_them_from_the_preview(page):
    at, _, _ = page
    at.multiselect(key="report_sections").set_value(["gaps"]).run()
    assert not at.exception
    assert _headings(at) == [SECTIONS["about"], SECTIONS["gaps"], SECTIONS["credit"]]
    assert "Left out of this version" in _markdown(at)


def test_people_are_not_named_unless_chosen(page):
    at, store, project_id = page
    project = store.load(project_id)
    people = set(project.stakeholders.loc[project.stakeholders["kind"] == "person", "name"])

    def named() -> set[str]:
        cells = {str(v) for d in at.dataframe for column in d.value.columns for v in d.value[column]}
        return people & cells

    assert named() == set()
    at.toggle(key="report_name_people").set_value(True).run()
    assert not at.exception and named()
