"""Faults a browser brings (F7, F8): a refresh in the middle of an edit, and an upload over the size limit.

Each test runs its own app on its own SQLite file, so what it saves cannot disturb other tests.
"""

from __future__ import annotations

import os

import pytest

from tests.browser.conftest import new_page, outside_requests, run_app, sample_database, wait_idle

pytestmark = pytest.mark.browser


@pytest.fixture
def own_app(tmp_path):
    url, project_id, name = sample_database(tmp_path / "faults.db")
    return {"db": url, "folder": tmp_path, "project_id": project_id, "name": name}


def _names(db: str) -> list[str]:
    from coprod_map.store import Store

    store = Store(db)
    try:
        return store.list_projects()["name"].tolist()
    finally:
        store.close()


def test_a_refresh_keeps_what_was_saved_and_drops_only_what_was_not(page, own_app):
    from playwright.sync_api import expect

    with run_app(own_app["db"], own_app["folder"]) as server:
        page.goto(server["url"])
        expect(page.get_by_role("heading", name="Projects")).to_be_visible(timeout=20000)
        wait_idle(page)
        page.get_by_text("Create a new project").click()
        page.get_by_label("Project name", exact=True).fill("Saved before the refresh")
        page.get_by_role("button", name="Create project").click()
        expect(page.get_by_text("Last changed")).to_be_visible(timeout=20000)
        wait_idle(page)
        assert "Saved before the refresh" in _names(own_app["db"])  # committed before the page said so

        # typed but never submitted, then the page is refreshed mid-edit
        page.get_by_text("Create a new project").click()
        field = page.get_by_label("Project name", exact=True)
        field.fill("Typed but not saved")
        page.reload()
        expect(page.get_by_role("heading", name="Projects")).to_be_visible(timeout=20000)
        wait_idle(page)
        page.get_by_label("Open a project", exact=True).click()
        offered = [t.strip() for t in page.get_by_role("option").all_inner_texts()]
        page.keyboard.press("Escape")
        assert "Saved before the refresh" in offered  # the committed edit survived the reload
        assert "Typed but not saved" not in offered
        assert "Typed but not saved" not in _names(own_app["db"])
        assert page.locator('[data-testid="stException"]').count() == 0


def test_an_upload_over_the_limit_gets_a_clear_message_and_the_app_keeps_working(browser, page, own_app,
                                                                                  monkeypatch):
    from playwright.sync_api import expect

    from tests.browser.conftest import go_to, open_project

    monkeypatch.setenv("STREAMLIT_SERVER_MAX_UPLOAD_SIZE", "1")  # 1 MB for this app, so the test file stays small
    big = own_app["folder"] / "too big.csv"
    row = "x1,Someone with a long name,person,consulted\n"
    big.write_text("id,name,kind,involvement\n" + row * (2 * 1024 * 1024 // len(row)), encoding="utf-8")
    assert big.stat().st_size > 1024 * 1024
    with run_app(own_app["db"], own_app["folder"]) as server:
        assert os.environ["STREAMLIT_SERVER_MAX_UPLOAD_SIZE"] == "1"
        open_project(page, server["url"], own_app["name"])
        go_to(page, "Import and export")
        page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(big))
        expect(page.get_by_text("File must be 1.0MB or smaller.")).to_be_visible(timeout=15000)
        expect(page.get_by_text("No problems found. Ready to import.")).to_have_count(0)
        # this session still works ...
        go_to(page, "Stakeholders and ties")
        assert page.locator('[data-testid="stException"]').count() == 0
        # ... and so does another person's
        context, other = new_page(browser)
        try:
            open_project(other, server["url"], own_app["name"])
            go_to(other, "Import and export")
            small = own_app["folder"] / "small.csv"
            small.write_text("id,name,kind,involvement\nz1,Small file group,group,consulted\n", encoding="utf-8")
            other.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(small))
            expect(other.get_by_text("No problems found. Ready to import.")).to_be_visible(timeout=15000)
            assert not outside_requests(other.requested)
        finally:
            context.close()
        assert "Traceback" not in server["log"].read_text()
