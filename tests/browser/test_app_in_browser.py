"""The real app in Debian's Chromium: every page opens, an upload imports, an edit survives a reload,
and no request leaves the machine."""

from __future__ import annotations

import pytest

from tests.browser.conftest import SHOTS, go_to, outside_requests, wait_idle
from tests.browser.conftest import open_project as _open

pytestmark = pytest.mark.browser



def open_project(pg, server) -> None:
    _open(pg, server["url"], server["name"])


def test_every_page_opens_without_an_exception(page, app_server):
    from tests.browser.conftest import NAV, PAGE_FILES

    server = app_server
    SHOTS.mkdir(parents=True, exist_ok=True)
    open_project(page, server)
    page.screenshot(path=str(SHOTS / "home.png"), full_page=True)
    for title in (t for t in NAV if t != "Projects"):  # every page app.py shows
        go_to(page, title)
        assert page.locator('[data-testid="stException"]').count() == 0, title
        page.screenshot(path=str(SHOTS / f"{PAGE_FILES[title]}.png"), full_page=True)
    assert any("127.0.0.1" in u for u in page.requested)  # the recorder saw the app's own traffic
    assert not outside_requests(page.requested), f"requests left the machine: {outside_requests(page.requested)}"


def test_upload_a_csv_and_import_it(page, app_server, tmp_path):
    from playwright.sync_api import expect

    from coprod_map.store import Store

    server = app_server

    csv = tmp_path / "new people.csv"
    csv.write_text("id,name,kind,involvement\nb1,Browser test group,group,consulted\n", encoding="utf-8")
    open_project(page, server)
    go_to(page, "Import and export")
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(csv))
    expect(page.get_by_text("No problems found. Ready to import.")).to_be_visible(timeout=15000)
    wait_idle(page)
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.get_by_text("Imported 1 stakeholders")).to_be_visible(timeout=15000)
    store = Store(server["db"])
    try:
        saved = store.load(server["project_id"]).stakeholders
    finally:
        store.close()
    assert saved.loc[saved["id"] == "b1", "name"].tolist() == ["Browser test group"]


def test_a_cell_edit_is_saved_and_survives_a_reload(page, app_server):
    from playwright.sync_api import expect

    from coprod_map.store import Store

    server = app_server

    open_project(page, server)
    go_to(page, "Stakeholders and ties")
    grid = page.locator('[data-testid="stDataFrame"] .stDataFrameGlideDataEditor').first
    editor = page.locator("#portal .gdg-input")
    for _ in range(4):  # the first double-click can land on a grid that is still mounting
        box = grid.bounding_box()
        grid.dblclick(position={"x": 150, "y": 35 + 17})  # column 2 ("Name"), first row
        try:
            editor.wait_for(timeout=2000)
            break
        except Exception:
            page.keyboard.press("Escape")
            wait_idle(page)
    assert box is not None
    editor.fill("Edited in the browser")
    editor.press("Enter")
    expect(page.get_by_text("Saved at")).to_be_visible(timeout=15000)
    store = Store(server["db"])
    try:
        names = store.load(server["project_id"]).stakeholders["name"].tolist()
    finally:
        store.close()
    assert "Edited in the browser" in names
    page.reload()
    open_project(page, server)
    go_to(page, "Stakeholders and ties")
    # the grid's accessible mirror (a <table> of the cells) shows what the server sent after the reload
    expect(page.locator('[data-testid="stDataFrame"] td', has_text="Edited in the browser").first).to_be_attached(
        timeout=15000)
