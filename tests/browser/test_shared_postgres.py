"""Many users on one deployment: two real ``streamlit run`` processes on one PostgreSQL database.

A project created in the first app's browser tab is there in the second app after a reload, and a
stakeholder added in the second is there in the first: nothing lives only in one process's memory.
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import new_page, outside_requests, run_app, wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.postgres]


def _projects_offered(pg) -> list[str]:
    from playwright.sync_api import expect

    expect(pg.get_by_role("heading", name="Projects")).to_be_visible(timeout=20000)
    wait_idle(pg)
    pg.get_by_label("Open a project", exact=True).click()
    options = [t.strip() for t in pg.get_by_role("option").all_inner_texts()]
    pg.keyboard.press("Escape")
    return options


def test_two_app_processes_see_each_others_saved_edits(browser, page, pg_url, tmp_path):  # noqa: F811
    from playwright.sync_api import expect

    from coprod_map.sample import load_sample
    from coprod_map.store import Store

    store = Store(pg_url)
    try:
        sample_id = load_sample(store)
        sample_name = store.project_info(sample_id).name
    finally:
        store.close()
    for folder in ("one", "two"):
        (tmp_path / folder).mkdir()
    with run_app(pg_url, tmp_path / "one") as first, run_app(pg_url, tmp_path / "two") as second:
        assert first["pid"] != second["pid"] and first["url"] != second["url"]
        other_context, other = new_page(browser)
        try:
            # both processes show what is in the database now
            page.goto(first["url"])
            assert sample_name in _projects_offered(page)
            other.goto(second["url"])
            assert sample_name in _projects_offered(other)

            # saved in process one ...
            page.get_by_text("Create a new project").click()
            page.get_by_label("Project name", exact=True).fill("Made in app one")
            page.get_by_role("button", name="Create project").click()
            expect(page.get_by_text("Last changed")).to_be_visible(timeout=20000)
            wait_idle(page)

            # ... is seen by process two after a reload
            other.reload()
            assert "Made in app one" in _projects_offered(other)

            # and the other way round: renamed in process two, seen in process one
            other.get_by_label("Open a project", exact=True).click()
            other.get_by_role("option", name="Made in app one", exact=True).click()
            expect(other.get_by_text("Last changed")).to_be_visible(timeout=20000)
            wait_idle(other)
            other.get_by_text("Rename or copy this project").click()
            other.get_by_label("New name", exact=True).fill("Renamed in app two")
            other.get_by_role("button", name="Rename", exact=True).click()
            expect(other.get_by_text("Renamed in app two").first).to_be_visible(timeout=20000)
            wait_idle(other)
            page.reload()
            offered = _projects_offered(page)
            assert "Renamed in app two" in offered and "Made in app one" not in offered
            assert not outside_requests(other.requested), outside_requests(other.requested)
        finally:
            other_context.close()
    check = Store(pg_url)
    try:
        assert "Renamed in app two" in check.list_projects()["name"].tolist()
    finally:
        check.close()
