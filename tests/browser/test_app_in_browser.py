"""The real app in Debian's Chromium: an upload imports, an edit survives a reload, a refused edit keeps what was
typed, and no request leaves the machine (the shared ``page`` fixture fails a test on any)."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import SHOTS, go_to, open_cell_editor, wait_idle
from tests.browser.conftest import open_project as _open

pytestmark = pytest.mark.browser


def open_project(pg, server) -> None:
    _open(pg, server["url"], server["name"])


# Every page opening without an exception (and its screenshot) is checked by the accessibility walk in
# test_accessibility.py, which visits every page anyway: one walk instead of two keeps the suite quick.


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
    editor = open_cell_editor(page, x=150)  # column 2 ("Name"), first row
    assert page.locator('[data-testid="stDataFrame"] .stDataFrameGlideDataEditor').first.bounding_box() is not None
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


def test_a_refused_edit_keeps_what_was_typed_in_the_grid(page, app_server):
    from playwright.sync_api import expect

    from coprod_map.store import Store

    store = Store(app_server["db"])
    try:
        before = store.load(app_server["project_id"]).stakeholders
        revision = store.revision(app_server["project_id"])
    finally:
        store.close()
    first, taken = before["id"].iloc[0], before["id"].iloc[1]
    open_project(page, app_server)
    go_to(page, "Stakeholders and ties")
    editor = open_cell_editor(page, x=60)  # column 1 ("ID"), first row
    editor.fill(taken)  # another stakeholder's id: refused
    editor.press("Enter")
    expect(page.get_by_text("Your change is still in the table below")).to_be_visible(timeout=15000)
    wait_idle(page)
    # the grid still holds the typed id in the first row (its accessible mirror lists the cells it draws)
    page.screenshot(path=str(SHOTS / "refused-edit.png"))
    cells = page.locator('[data-testid="stDataFrame"] td')
    exact = re.compile(rf"^\s*{re.escape(taken)}\s*$")
    # the grid redraws after the rerun, so its mirror is polled rather than counted once
    expect(cells.filter(has_text=exact).nth(1)).to_be_attached(timeout=15000)  # rows 1 and 2 hold the typed id
    store = Store(app_server["db"])
    try:
        assert store.revision(app_server["project_id"]) == revision
        assert store.load(app_server["project_id"]).stakeholders["id"].tolist() == before["id"].tolist()
    finally:
        store.close()
    page.get_by_role("button", name="Discard my changes").click()
    expect(page.get_by_text("Your changes were discarded")).to_be_visible(timeout=15000)
    wait_idle(page)
    expect(cells.filter(has_text=re.compile(rf"^\s*{re.escape(first)}\s*$")).first).to_be_attached()
    expect(cells.filter(has_text=exact)).to_have_count(1, timeout=15000)
