"""A participant on a phone-sized screen fills in the form through ``?join=TOKEN``; the entry reaches the
facilitator's queue; an axe-core audit of the participant page finds nothing serious or critical."""

from __future__ import annotations

import pytest

from tests.browser.conftest import SHOTS, new_page, open_project, outside_requests, wait_idle

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def token(app_server):
    from coprod_map import voice_store
    from coprod_map.store import Store

    store = Store(app_server["db"])
    try:
        return voice_store.set_link_enabled(store, app_server["project_id"], True).token
    finally:
        store.close()


def _phone(browser):
    return new_page(browser, viewport=PHONE)


def _open_form(pg, server, token) -> None:
    from playwright.sync_api import expect

    pg.goto(f"{server['url']}/?join={token}")
    expect(pg.get_by_role("heading", name="Take part")).to_be_visible(timeout=20000)
    wait_idle(pg)


def test_a_participant_on_a_phone_reaches_the_facilitators_queue(browser, app_server, token, page):
    from playwright.sync_api import expect

    context, phone = _phone(browser)
    try:
        _open_form(phone, app_server, token)
        assert phone.get_by_role("link", name="Projects").count() == 0  # no facilitator navigation
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"] + 1, f"the form is wider than the phone ({width}px)"
        phone.get_by_role("textbox", name="Your name, or a made-up name").fill("Phone Person 7")
        phone.get_by_role("textbox", name="What should we be asking that we aren't?").fill("Why are meetings at 10am?")
        phone.get_by_text("I agree to you keeping my answers as described above").click()
        phone.get_by_role("button", name="Send my answers").click()
        expect(phone.get_by_text("Thank you.", exact=False)).to_be_visible(timeout=20000)
        receipt = phone.locator('[data-testid="stCode"] code').first.inner_text().strip()
        assert len(receipt) == 14
        assert not outside_requests(phone.requested) and not phone.dialogs
    finally:
        context.close()

    open_project(page, app_server["url"], app_server["name"])
    page.get_by_role("link", name="Participant submissions", exact=True).click()
    expect(page.get_by_role("heading", name="Participant submissions").first).to_be_visible(timeout=20000)
    wait_idle(page, timeout=30000)
    expect(page.get_by_text("Phone Person 7", exact=False).first).to_be_visible(timeout=15000)
    assert page.locator('[data-testid="stException"]').count() == 0


def test_the_participant_page_passes_an_axe_audit(browser, app_server, token):
    from axe_playwright_python.sync_playwright import Axe

    context, phone = _phone(browser)
    try:
        _open_form(phone, app_server, token)
        results = Axe().run(phone)
        assert len(results.response["passes"]) > 10  # the audit really ran over the form
        SHOTS.mkdir(parents=True, exist_ok=True)
        phone.screenshot(path=str(SHOTS / "participate_phone.png"), full_page=True)
        serious = [(v["id"], v["impact"], v["help"], [n["target"] for n in v["nodes"]][:3])
                   for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
        assert not serious, serious
        assert not outside_requests(phone.requested)
    finally:
        context.close()


def test_a_closed_link_shows_nothing_but_one_sentence(browser, app_server):
    from playwright.sync_api import expect

    context, phone = _phone(browser)
    try:
        _open_form(phone, app_server, "no-such-token-here-at-all")
        expect(phone.get_by_text("This link is not open at the moment.")).to_be_visible()
        assert phone.get_by_role("textbox").count() == 0
    finally:
        context.close()
