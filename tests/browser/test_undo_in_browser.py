"""In Debian's Chromium: edit a cell on the Stakeholders page, press Undo on the History page, see the old value back."""

from __future__ import annotations

import pytest

from tests.browser.conftest import go_to, open_cell_editor, open_project, run_app, wait_idle

pytestmark = pytest.mark.browser


def test_edit_then_undo_brings_the_old_value_back(page, tmp_path):
    from playwright.sync_api import expect

    from coprod_map.sample import load_sample
    from coprod_map.store import Store

    url = f"sqlite:///{tmp_path / 'undo.db'}"
    store = Store(url)
    project_id = load_sample(store)
    name = store.project_info(project_id).name
    old = store.load(project_id).stakeholders["name"].iloc[0]
    store.close()
    with run_app(url, tmp_path) as server:
        open_project(page, server["url"], name)
        go_to(page, "Stakeholders and ties")
        editor = open_cell_editor(page, x=150)  # column 2 ("Name"), first row
        editor.fill("Typed by mistake")
        editor.press("Enter")
        expect(page.get_by_text("Saved at")).to_be_visible(timeout=15000)
        store = Store(url)
        try:
            assert store.load(project_id).stakeholders["name"].iloc[0] == "Typed by mistake"
        finally:
            store.close()

        page.get_by_role("link", name="History", exact=True).click()
        expect(page.get_by_role("heading", name="History").first).to_be_visible(timeout=20000)
        wait_idle(page, timeout=30000)
        page.get_by_role("button", name="Undo the last change").click()
        expect(page.get_by_text("The last change was undone")).to_be_visible(timeout=15000)
        store = Store(url)
        try:
            assert store.load(project_id).stakeholders["name"].iloc[0] == old
        finally:
            store.close()
        go_to(page, "Stakeholders and ties")
        expect(page.locator('[data-testid="stDataFrame"] td', has_text=old).first).to_be_attached(timeout=15000)
        expect(page.locator('[data-testid="stDataFrame"] td', has_text="Typed by mistake")).to_have_count(0)
