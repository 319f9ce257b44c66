"""Hostile text in a real Chromium: the network page embedded as a data: iframe, every node hovered."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from coprod_map.analysis import layout
from coprod_map.analysis import network as nw
from coprod_map.viz import network_html as nh
from tests.unit.viz.test_network_html import hostile_project

pytestmark = pytest.mark.browser

PWN = "<img src=x onerror=\"window.__pwned=1;window.parent.document.title='PWNED';alert(1)\">"

PARENT = """<!doctype html><html><head><title>Parent app</title></head>
<body><div id="marker">unchanged</div><iframe id="net" width="900" height="700" src="{src}"></iframe></body></html>"""


def test_hovering_every_node_runs_nothing_and_fetches_nothing(tmp_path: Path, browser):
    """``browser``: the shared Chromium of tests/browser/conftest.py (one sync Playwright per thread)."""
    project = hostile_project()
    people = project.stakeholders.copy()
    people.loc[0, "name"] = PWN
    people.loc[1, "notes"] = PWN
    tg = nw.tie_graph(people, project.relationships)
    page_html = nh.map_html(people, project.relationships, positions=layout.positions(tg), colour_by="area").html
    (tmp_path / "network.html").write_text(page_html, encoding="utf-8")
    parent = tmp_path / "parent.html"
    parent.write_text(PARENT.format(src=nh.data_url(page_html)), encoding="utf-8")

    started = time.perf_counter()
    context = browser.new_context()
    try:
        requests: list[str] = []
        dialogs: list[str] = []
        context.route("**/*", lambda route: (requests.append(route.request.url), route.continue_()))
        page = context.new_page()
        page.on("request", lambda r: requests.append(r.url))
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(parent.as_uri())
        before = page.evaluate("() => [document.title, document.body.innerHTML]")
        frame = next(f for f in page.frames if f.url.startswith("data:"))
        frame.wait_for_function("() => typeof network !== 'undefined' && network.body.nodeIndices.length === 5")
        box = page.locator("#net").bounding_box()
        points = frame.evaluate("""() => {
            const r = document.getElementById('mynetwork').getBoundingClientRect();
            return Object.entries(network.getPositions()).map(([id, p]) => {
                const d = network.canvasToDOM(p);
                return [id, {x: r.left + d.x, y: r.top + d.y}];
            });
        }""")
        inner = page.evaluate("() => { const f = document.getElementById('net'); return [f.clientLeft, f.clientTop]; }")
        box = {"x": box["x"] + inner[0], "y": box["y"] + inner[1]}
        assert len(points) == 5
        tooltips = []
        for _, dom in points:
            page.mouse.move(box["x"] + dom["x"], box["y"] + dom["y"])
            frame.wait_for_selector("div.vis-tooltip", state="visible", timeout=3000)
            tooltips.append(frame.evaluate("() => document.querySelector('div.vis-tooltip').innerText"))
            page.mouse.move(box["x"] + 2, box["y"] + 2)
            page.wait_for_timeout(150)
        after = page.evaluate("() => [document.title, document.body.innerHTML]")
        images_in_frame = frame.evaluate("() => document.querySelectorAll('img').length")
        ran_in_frame = frame.evaluate("() => window.__pwned === 1")
    finally:
        context.close()
    assert dialogs == []
    assert after == before and after[0] == "Parent app"
    assert images_in_frame == 0 and not ran_in_frame  # the payload never became an element, nothing ran
    assert any("onerror" in t for t in tooltips)  # it is shown, as text
    assert requests and all(u.split(":", 1)[0] in ("data", "blob", "file") for u in requests), requests
    assert time.perf_counter() - started < 20
