"""The steering-group report in a real Chromium, offline: every section shows, nothing is fetched, nothing runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from coprod_map.report import SECTIONS, build_report

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "artifacts" / "screenshots" / "report.png"
PWN = "<img src=x onerror=\"window.__pwned=1\"></script><script>window.__pwned=1</script>"


def test_report_opens_offline_shows_every_section_and_runs_nothing(sample_project, tmp_path: Path, browser):
    """``browser``: the shared Chromium of tests/browser/conftest.py (one sync Playwright per thread)."""
    store, project_id = sample_project
    clean = tmp_path / "clean.html"
    clean.write_text(build_report(store.load(project_id), today="2026-03-01"), encoding="utf-8")
    project = store.load(project_id)
    project.name = "Riverside " + PWN
    people = project.stakeholders
    people.loc[people["kind"] == "organisation", "name"] = people.loc[people["kind"] == "organisation", "name"] + PWN
    people.loc[people["age_band"] == "35-49", "age_band"] = "35-49" + PWN
    project.settings.attributes["age_band"] = [c if c != "35-49" else "35-49" + PWN
                                               for c in project.settings.attributes["age_band"]]
    ref = project.reference
    ref.loc[ref["category"] == "35-49", "category"] = "35-49" + PWN
    path = tmp_path / "report.html"
    path.write_text(build_report(project, today="2026-03-01"), encoding="utf-8")

    context = browser.new_context(viewport={"width": 1000, "height": 1400})
    try:
        context.set_offline(True)
        requests: list[str] = []
        left: list[str] = []

        def route(r) -> None:
            url = r.request.url
            requests.append(url)
            if url.split(":", 1)[0] in ("file", "data", "blob"):
                r.continue_()
            else:
                left.append(url)
                r.abort()

        context.route("**/*", route)
        dialogs: list[str] = []
        page = context.new_page()
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(path.as_uri())
        page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot .main-svg').length > 0")
        for title in SECTIONS.values():
            assert page.get_by_role("heading", name=title, exact=True).is_visible(), title
        pwned = page.evaluate("() => window.__pwned === 1")
        injected = page.evaluate("() => document.querySelectorAll('img').length")
        charts = page.evaluate("() => document.querySelectorAll('.js-plotly-plot').length")
        external = page.evaluate(
            "() => [...document.querySelectorAll('[src],[href]')].map(e => e.getAttribute('src') || "
            "e.getAttribute('href')).filter(u => /^\\s*(https?:)?\\/\\//i.test(u))")
        shown_title = page.locator("h1").inner_text()
        page.emulate_media(media="print")
        print_ok = page.evaluate("() => getComputedStyle(document.querySelector('nav')).display === 'none'")
        # the screenshot shows the sample's own report, scrolled to the first chart
        page.emulate_media(media="screen")
        page.goto(clean.as_uri())
        page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot .main-svg').length > 0")
        page.evaluate("() => { document.querySelector('#gaps h3').scrollIntoView(); window.scrollBy(0, -24); }")
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT), full_page=False)
    finally:
        context.close()
    assert left == [] and all(u.startswith("file:") for u in requests), requests
    assert not pwned and injected == 0 and dialogs == [] and errors == []
    assert charts >= 6  # five attributes and the brokers
    assert external == []
    assert PWN.split(">")[0] in shown_title  # the hostile name is shown, as text
    assert print_ok  # the print style sheet applies
