"""Accessibility in Debian's Chromium: an axe-core audit of every page on the sample project, and the keyboard.

axe-core comes bundled with ``axe-playwright-python``. A serious or critical violation fails the test unless it
sits in markup Streamlit itself draws and is on ``STREAMLIT_OWN`` below (one line of reason each). Those are
reported, never dropped silently, and nothing else may be excused. Moderate and minor findings are printed.
"""

from __future__ import annotations

import time
import tomllib
from collections import Counter

import pytest

from tests.browser.conftest import NAV, PAGE_FILES, ROOT, SHOTS, go_to, open_project, wait_idle

pytestmark = pytest.mark.browser

FAILING = ("serious", "critical")

#: (axe rule, the Streamlit container the node sits in, why it is not ours to fix)
STREAMLIT_OWN: list[tuple[str, str, str]] = [
    ("list", '[data-testid="stSidebarNav"]',
     "Streamlit's page navigation puts its section headings (div) straight inside the <ul>"),
    ("listitem", '[data-testid="stSidebarNav"]',
     "Streamlit's page navigation wraps each section's <li> items in a div, not a <ul>"),
    ("color-contrast", '[data-testid="stWidgetLabel"][disabled]',
     "Streamlit greys the label of a disabled control; WCAG 1.4.3 exempts inactive components"),
]

#: Streamlit's caption grey is 60% of the theme's text colour: 3.9:1 with the default text colour, 4.95:1 with
#: ``[theme] textColor = "#111111"`` (measured). Until .streamlit/config.toml sets a text colour, low-contrast
#: captions are listed as needing that one-line configuration; once it is set they count as ours and fail.
CAPTION_RULE = ("color-contrast", '[data-testid="stCaptionContainer"]',
                "Streamlit's default caption grey (3.9:1); fixed by [theme] textColor in .streamlit/config.toml")


def _text_colour_configured() -> bool:
    config = ROOT / ".streamlit" / "config.toml"
    if not config.exists():
        return False
    return bool(tomllib.loads(config.read_text()).get("theme", {}).get("textColor"))


def _excusable() -> list[tuple[str, str, str]]:
    return STREAMLIT_OWN if _text_colour_configured() else [*STREAMLIT_OWN, CAPTION_RULE]


_WHERE = """([selectors, containers]) => selectors.map(sel => {
    const el = document.querySelector(sel);
    return containers.map(c => !!(el && el.closest(c)));
})"""


def _expand_everything(page) -> None:
    """Open every collapsed expander in the main area, so what is inside is audited too."""
    closed = page.locator('[data-testid="stMain"] [data-testid="stExpander"] details:not([open]) > summary:visible')
    for _ in range(closed.count()):  # (those in hidden tabs stay closed)
        closed.first.click()  # the list shrinks as each one opens
    wait_idle(page)


def audit(page, where: str) -> tuple[list[dict], list[dict], list[dict]]:
    """(ours: failing, excused: Streamlit's own, other: moderate/minor) findings on the current page."""
    from axe_playwright_python.sync_playwright import Axe

    result = Axe().run(page)
    excusable = _excusable()
    ours, excused, other = [], [], []
    for violation in result.response["violations"]:
        targets = [n["target"][0] if isinstance(n["target"][0], str) else n["target"][0][0] for n in violation["nodes"]]
        inside = page.evaluate(_WHERE, [targets, [c for _, c, _ in excusable]])
        for node, flags in zip(violation["nodes"], inside, strict=True):
            finding = {"page": where, "rule": violation["id"], "impact": violation["impact"],
                       "html": node["html"][:160], "why": node.get("failureSummary", "")[:200]}
            reason = next((r for (rule, _, r), hit in zip(excusable, flags, strict=True)
                           if hit and rule == violation["id"]), None)
            if violation["impact"] not in FAILING:
                other.append(finding)
            elif reason:
                excused.append({**finding, "reason": reason})
            else:
                ours.append(finding)
    return ours, excused, other


def test_every_page_has_no_serious_violation_of_ours(page, app_server):
    """Also: every page opens without an exception, and a screenshot of each is kept in artifacts/screenshots/."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    open_project(page, app_server["url"], app_server["name"])
    ours, excused, other = [], [], []
    timings = {}
    for title in ["Projects", *(t for t in NAV if t != "Projects")]:
        started = time.perf_counter()
        if title != "Projects":
            go_to(page, title)
        assert page.locator('[data-testid="stException"]').count() == 0, title
        page.screenshot(path=str(SHOTS / f"{PAGE_FILES[title]}.png"), full_page=True)
        _expand_everything(page)
        opened = time.perf_counter()
        found = audit(page, title)
        timings[title] = (round(opened - started, 1), round(time.perf_counter() - opened, 1))
        ours += found[0]
        excused += found[1]
        other += found[2]
    print("\nStreamlit's own (excused):", Counter((f["rule"], f["reason"]) for f in excused))
    print("moderate/minor:", Counter((f["page"], f["rule"], f["impact"]) for f in other))
    print("seconds (open, audit):", timings)
    assert not ours, "serious or critical accessibility problems in our pages:\n" + "\n".join(map(str, ours))
    # the excused ones are only those on the list, and the list is not a blanket: every entry names its rule
    assert {f["reason"] for f in excused} <= {r for _, _, r in _excusable()}
    assert all(f["impact"] in FAILING for f in excused)


def test_axe_finds_a_problem_we_plant(page, app_server):
    """The audit can fail: an image without alt text and a button without a name, added to the page, are ours."""
    open_project(page, app_server["url"], app_server["name"])
    page.evaluate("""() => {
        const main = document.querySelector('[data-testid="stMain"]');
        const img = document.createElement('img'); img.src = 'data:image/gif;base64,R0lGODlhAQABAAAAACw=';
        const button = document.createElement('button');
        main.prepend(img, button);
    }""")
    ours, _, _ = audit(page, "Projects (planted)")
    assert {"image-alt", "button-name"} <= {f["rule"] for f in ours}


def _tab_to(page, matches: str, *, limit: int = 120) -> str:
    """Press Tab until the focused element satisfies the JS predicate ``matches`` (given ``el``); its text."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        hit = page.evaluate(f"() => {{ const el = document.activeElement; return el && ({matches}) ? "
                            "(el.innerText || el.getAttribute('aria-label') || '') : null; }")
        if hit is not None:
            return hit
    raise AssertionError(f"{matches} was never reached with the Tab key")


def test_the_keyboard_alone_opens_the_sample_and_reaches_a_page(page, app_server):
    from playwright.sync_api import expect

    page.goto(app_server["url"])
    expect(page.get_by_role("heading", name="Projects")).to_be_visible(timeout=15000)
    wait_idle(page)
    label = _tab_to(page, "el.tagName === 'BUTTON' && el.innerText.includes('Open the sample project')")
    assert "Open the sample project" in label
    page.keyboard.press("Enter")
    expect(page.get_by_text("The sample project is open")).to_be_visible(timeout=15000)
    expect(page.get_by_text("Last changed")).to_be_visible(timeout=15000)
    wait_idle(page)
    link = _tab_to(page, "el.tagName === 'A' && el.innerText.trim().endsWith('Stakeholders and ties')")
    assert link.strip().endswith("Stakeholders and ties")  # (the text starts with the icon's name)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Stakeholders and ties")).to_be_visible(timeout=20000)
    wait_idle(page)
    assert page.get_by_text(f"Project: {app_server['name']}").is_visible()  # the project is still open
