"""The Relationships page on a generated 20,000-stakeholder project, in Debian's Chromium.

Above 1,500 stakeholders the page must draw groups (an aggregated map) instead of freezing the browser: the map is
a ``data:text/html`` iframe (cut off from the app), the page says it is grouped, nothing raises, and no request
leaves the machine (the shared ``page`` fixture fails the test on any).
"""

from __future__ import annotations

import base64
import re
import time
from pathlib import Path

import pytest

from bench.generate import generate_project
from tests.browser.conftest import go_to, open_project, run_app

pytestmark = pytest.mark.browser

PEOPLE = 20_000
NAME = "Generated 20,000"


@pytest.fixture(scope="module")
def large_server(tmp_path_factory):
    """A second app server on its own SQLite file holding one generated 20,000-stakeholder project."""
    from coprod_map.store import Store

    folder: Path = tmp_path_factory.mktemp("network_large")
    url = f"sqlite:///{folder / 'large.db'}"
    # few participation records: the map is about the 20,000 stakeholders and their ~100,000 ties
    project = generate_project(PEOPLE, n_records=20_000, seed=7, name=NAME)
    store = Store(url)
    try:
        project_id = store.create_project(NAME)
        store.import_project(project_id, project)
        saved = store.load(project_id)
    finally:
        store.close()
    assert len(saved.stakeholders) == PEOPLE and len(saved.relationships) == len(project.relationships)
    with run_app(url, folder, timeout=60) as server:
        yield {**server, "project_id": project_id, "ties": len(project.relationships)}


def test_relationships_page_shows_an_aggregated_map_for_20000_stakeholders(page, large_server):
    from playwright.sync_api import expect

    started = time.perf_counter()
    open_project(page, large_server["url"], NAME)
    go_to(page, "Relationships")
    assert page.locator('[data-testid="stException"]').count() == 0
    # the page says, in plain words, that it draws groups rather than people
    expect(page.get_by_text("20,000 stakeholders are too many to draw one by one")).to_be_visible(timeout=30000)
    expect(page.get_by_text("each circle is a group of communities")).to_be_visible()
    expect(page.get_by_role("combobox", name="Look inside a group")).to_be_visible()

    frame_el = page.locator("iframe[src^='data:text/html']")
    expect(frame_el).to_have_count(1, timeout=30000)
    src = frame_el.get_attribute("src")
    html = base64.b64decode(src.split(",", 1)[1]).decode("utf-8")
    assert "new vis.DataSet(" in html
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html, re.I)  # nothing loads from a site
    # the drawn map holds groups, far fewer shapes than stakeholders, with every stakeholder counted once
    caption = page.get_by_text("Showing ").filter(has_text="shapes and").first
    expect(caption).to_be_visible()
    shapes = int(caption.inner_text().split("Showing ", 1)[1].split(" shapes", 1)[0].replace(",", ""))
    assert 1 < shapes <= 1500, shapes

    frame = next(f for f in page.frames if f.url.startswith("data:text/html"))
    frame.wait_for_function("() => typeof network !== 'undefined' && network.body.nodeIndices.length > 0",
                            timeout=15000)
    labels = frame.evaluate("() => network.body.data.nodes.get().map(n => n.label)")
    assert len(labels) == shapes
    counts = [int(re.search(r"\(([\d,]+)\)$", label).group(1).replace(",", "")) for label in labels]
    assert sum(counts) == PEOPLE  # every stakeholder sits in exactly one group
    assert page.locator('[data-testid="stException"]').count() == 0
    assert time.perf_counter() - started < 40
