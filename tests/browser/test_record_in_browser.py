"""The "Decisions and record" page in Debian's Chromium on the sample: every tab renders without an
exception, and people's private needs stay off the screen until "Show private fields" is switched on."""

from __future__ import annotations

import pytest

from tests.browser.conftest import SHOTS, go_to, open_project, wait_idle

pytestmark = pytest.mark.browser

TABS = ["Decisions", "What can change", "Contributions and returns", "Needs", "Review cycles and actions",
        "Health check"]
#: a heading each tab shows once it has rendered
HEADINGS = {"Decisions": "Decision log", "What can change": "What can and can't change",
            "Contributions and returns": "Contributions and what came back", "Needs": "Needs register",
            "Review cycles and actions": "Review cycles", "Health check": "Ten-component health check"}
PRIVATE_NEED = "Anxious in large groups"  # stated by P002 in the sample, private


def grid_text(page) -> str:
    """The text of every data grid cell the page has drawn (glide grids keep an accessible copy in the DOM)."""
    return "\n".join(page.locator('[data-testid="stDataFrame"] [role="gridcell"]').all_inner_texts())


def active_panel(page):
    return page.get_by_role("tabpanel").first  # role queries skip hidden panels


def test_every_tab_renders_and_private_needs_show_only_when_asked(page, app_server):
    from playwright.sync_api import expect

    SHOTS.mkdir(parents=True, exist_ok=True)
    open_project(page, app_server["url"], app_server["name"])
    go_to(page, "Decisions and record")
    for tab in TABS:
        page.get_by_role("tab", name=tab, exact=True).click()
        wait_idle(page)
        expect(active_panel(page).get_by_role("heading", name=HEADINGS[tab]).first).to_be_visible(timeout=15000)
        assert page.locator('[data-testid="stException"]').count() == 0, tab
        page.screenshot(path=str(SHOTS / f"record-{tab.lower().replace(' ', '-')}.png"), full_page=True)

    page.get_by_role("tab", name="Needs", exact=True).click()
    wait_idle(page)
    panel = active_panel(page)
    expect(panel.get_by_text("Needs are private.", exact=False)).to_be_visible()
    grids_hidden = panel.locator('[data-testid="stDataFrame"]').count()
    assert PRIVATE_NEED not in page.content() and PRIVATE_NEED not in grid_text(page)

    page.get_by_text("Show private fields (needs)", exact=True).click()
    wait_idle(page)
    page.get_by_role("tab", name="Needs", exact=True).click()
    wait_idle(page)
    panel = active_panel(page)
    expect(panel.get_by_text("Private: needs as each person stated them", exact=False)).to_be_visible(timeout=15000)
    # the needs register and whether needs were met: two more grids
    expect(panel.locator('[data-testid="stDataFrame"]')).to_have_count(grids_hidden + 2, timeout=15000)
    assert page.locator('[data-testid="stException"]').count() == 0
    expect(panel.get_by_text("Needs are private.", exact=False)).to_have_count(0)
    page.screenshot(path=str(SHOTS / "record-needs-private.png"), full_page=True)
    page.wait_for_function(f"() => document.body.innerText.includes({PRIVATE_NEED!r}) || "
                           f"[...document.querySelectorAll('[role=gridcell]')].some(c => c.textContent.includes("
                           f"{PRIVATE_NEED!r}))", timeout=15000)
