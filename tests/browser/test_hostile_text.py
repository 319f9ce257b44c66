"""Hostile text (reliability.md section 5.3, payload set P) in every field of a project, through the real app.

The project is saved through the store like any other; then every page the app shows is opened in Chromium:
no script payload runs (each would set ``window.__pwned`` and open a dialog), no element is made from the data,
nothing is fetched from another host (the shared ``page`` fixture fails the test on that), and the payloads are
shown as text. Every export format is made from the same project: no CSV or XLSX cell is a live formula.
Bidi controls (U+202E) are refused by validation with a message that says so, and change nothing.
"""

from __future__ import annotations

import io
import json
import zipfile

import pandas as pd
import pytest

from coprod_map.errors import CoprodError
from coprod_map.io.cells import DANGEROUS_STARTS, is_dangerous
from coprod_map.io.export import FORMATS, export_project
from coprod_map.model import Project, ProjectSettings, normalise_frame
from tests.browser.conftest import NAV, SHOTS, go_to, open_project, run_app, wait_idle

pytestmark = pytest.mark.browser

RUNS = "window.__pwned=1;alert(1)"
#: payload set P; every script payload sets window.__pwned and opens a dialog if it ever runs
P = [
    f"<img src=x onerror={RUNS}>",
    f"<script>{RUNS}</script>",
    f'"><svg onload={RUNS}>',
    "[x](javascript:window.__pwned=1)",
    "![t](http://tracker.invalid/p.png)",
    '<a href="https://evil.invalid">x</a>',
    "{{7*7}}",
    "%{x}",
    "=1+2",
]
BIDI = "abc\u202edcba"  # U+202E RIGHT-TO-LEFT OVERRIDE: refused, not stored
#: anything made from the data would match this in the DOM of the app or one of its frames
INJECTED = ('img[src="x"], a[href^="javascript"], a[href*="evil.invalid"], svg[onload], img[src*="tracker.invalid"],'
            ' [onerror], [onload]')
CHECK_FRAME = f"""() => ({{
    pwned: window.__pwned === 1,
    injected: [...document.querySelectorAll('{INJECTED}')].map(e => e.outerHTML.slice(0, 120)),
    scripts: [...document.scripts].filter(s => s.textContent.trim() === '{RUNS}').length,  // made from data
    hover_links: document.querySelectorAll('.hoverlayer a').length,
}})"""
PROJECT_NAME = "Hostile " + P[0]


def p(i: int, prefix: str = "") -> str:
    """The i-th payload (cycling), with a prefix so cells stay distinguishable."""
    return prefix + P[i % len(P)]


def hostile_project() -> Project:
    """Every text field holds a payload: names, roles, notes, lists, attribute values, tie types, titles, cycles."""
    n = len(P)
    ids = [f"h{i}" for i in range(n)]
    attribute = "area " + P[5]  # an attribute (a settings category list) named with a payload too
    categories = [p(i) for i in range(n)]
    stakeholders = pd.DataFrame({
        "id": ids,
        "name": [p(i) for i in range(n)],
        "kind": ["person", "group", "organisation", "community_asset"] * 2 + ["person"],
        "roles": [[p(i + 1), p(i + 2, "role ")] for i in range(n)],
        "experience": [["lived"]] * n,
        "affected": [3, 2, 1, 0, 3, 2, 1, 0, 3],
        "influence": [0, 1, 2, 3, 4, 5, 0, 1, 2],
        "involvement": ["consulted", "informed", "involved", "co_producing", "not_involved",
                        "co_designing", "consulted", "informed", "involved"],
        "speaks_for": [[p(i + 3, "group ")] for i in range(n)],
        "notes": [p(i + 4, "note ") for i in range(n)],
        attribute: categories,
    })
    relationships = pd.DataFrame({
        "id": [f"r{i}" for i in range(n)],
        "source": ids,
        "target": ids[1:] + ids[:1],
        "type": [p(i, "tie ") for i in range(n)],
        "direction": ["mutual", "directed", "undirected"] * 3,
        "strength": [1.0, 2.0, 3.0, 4.0, 5.0, 1.5, 2.5, 3.5, 4.5],
        "notes": [p(i + 5) for i in range(n)],
    })
    cycles = [{"name": p(0, "cycle "), "start": "2026-01-01", "end": "2026-06-30"},
              {"name": p(1, "cycle "), "start": "2026-07-01", "end": "2026-12-31"}]
    activities = pd.DataFrame({
        "id": [f"a{i}" for i in range(n)],
        "title": [p(i, "activity ") for i in range(n)],
        "date": [f"2026-{m:02d}-15" for m in range(1, n + 1)],
        "kind": [p(i, "kind ") for i in range(n)],
        "cycle": [c["name"] for c in cycles] * 4 + [cycles[1]["name"]],
        "notes": [p(i + 6) for i in range(n)],
    })
    participation = pd.DataFrame({
        "stakeholder_id": ids,
        "activity_id": [f"a{i}" for i in range(n)],
        "notes": [p(i + 7) for i in range(n)],
    })
    reference = pd.DataFrame({
        "attribute": [attribute] * n,
        "category": categories,
        "count": [100 + 10 * i for i in range(n)],
        "source": [p(i + 8, "census ") for i in range(n)],
    })
    settings = ProjectSettings(
        attributes={attribute: categories},
        relationship_types=[p(i, "tie ") for i in range(n)],
        activity_kinds=[p(i, "kind ") for i in range(n)],
        cycles=cycles,
        min_cell=1,
        column_maps={p(2, "match "): {p(3): "name", p(4): ""}},
    )
    return Project(
        stakeholders=normalise_frame("stakeholders", stakeholders),
        relationships=normalise_frame("relationships", relationships),
        activities=normalise_frame("activities", activities),
        participation=normalise_frame("participation", participation),
        reference=normalise_frame("reference", reference),
        settings=settings,
    )


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory):
    """The app on its own database holding the hostile project (and the sample, so the list is not trivial)."""
    from coprod_map.sample import load_sample
    from coprod_map.store import Store

    folder = tmp_path_factory.mktemp("hostile")
    url = f"sqlite:///{folder / 'coprod_map.db'}"
    store = Store(url)
    try:
        load_sample(store)
        project = hostile_project()
        project_id = store.create_project(PROJECT_NAME, description=" ".join(P), settings=project.settings)
        store.import_project(project_id, project)
        saved = store.load(project_id)
    finally:
        store.close()
    with run_app(url, folder) as server:
        yield {**server, "project_id": project_id, "saved": saved, "db": url}


def test_the_payloads_are_stored_verbatim(hostile_server):
    """The sweep is only worth something if the data really holds the payloads."""
    saved = hostile_server["saved"]
    assert sorted(saved.stakeholders["name"]) == sorted(P)
    assert set(saved.relationships["type"]) == {"tie " + x for x in P}
    assert set(saved.activities["title"]) == {"activity " + x for x in P}
    assert saved.settings.cycles[0]["name"] == "cycle " + P[0]
    assert any(P[0] in r for roles in saved.stakeholders["roles"] for r in roles)


def _check_every_frame(page) -> list[tuple[str, dict]]:
    found = []
    for frame in page.frames:
        try:
            found.append((frame.url[:60], frame.evaluate(CHECK_FRAME)))
        except Exception as error:  # a frame that went away while the page re-ran
            if "detached" not in str(error).lower() and "destroyed" not in str(error).lower():
                raise
    return found


def _hover_charts(page) -> None:
    """Move the mouse across every plotly chart, so hover labels are drawn (S3)."""
    charts = page.locator(".js-plotly-plot:visible")
    for i in range(min(charts.count(), 8)):
        box = charts.nth(i).bounding_box()
        if not box:
            continue
        for fx in (0.3, 0.5, 0.7):
            page.mouse.move(box["x"] + box["width"] * fx, box["y"] + box["height"] * 0.5)
            page.wait_for_timeout(60)


def test_every_page_shows_the_payloads_as_text_and_runs_nothing(page, hostile_server):
    open_project(page, hostile_server["url"], PROJECT_NAME)
    shown = page.locator('[data-testid="stMain"]').inner_text()
    assert "onerror=" in shown and "Hostile" in shown  # the project's name is on screen, as text
    problems = {}
    for title in ["Projects", *(t for t in NAV if t != "Projects")]:
        if title != "Projects":
            go_to(page, title)
        closed = page.locator('[data-testid="stMain"] [data-testid="stExpander"] details:not([open]) > summary:visible')
        for _ in range(closed.count()):
            closed.first.click()
        wait_idle(page)
        _hover_charts(page)
        assert page.locator('[data-testid="stException"]').count() == 0, title
        for url, result in _check_every_frame(page):
            if result["pwned"] or result["injected"] or result["scripts"] or result["hover_links"]:
                problems[(title, url)] = result
        if title in ("Projects", "Stakeholders and ties", "Relationships"):
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / f"hostile-{title.split()[0].lower()}.png"), full_page=True)
    assert not problems, problems
    assert page.dialogs == []
    assert page.evaluate("() => window.__pwned") is None


# --- exports ----------------------------------------------------------------------------------------

def _csv_cells(data: bytes) -> list[str]:
    import csv

    return [cell for row in csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")) for cell in row]


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_no_export_holds_a_live_formula(fmt, hostile_server):
    import openpyxl

    name, data, _ = export_project(hostile_server["saved"], fmt, name=PROJECT_NAME)
    assert set(name) <= set("abcdefghijklmnopqrstuvwxyz0123456789-.")  # the hostile name never reaches a path
    checked = dangerous = 0
    if data[:2] == b"PK" and not name.endswith(".xlsx"):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for member in archive.namelist():
                assert "/" not in member and ".." not in member
                if member.endswith(".csv"):
                    for cell in _csv_cells(archive.read(member)):
                        assert not cell.startswith(DANGEROUS_STARTS), f"{member}: {cell!r}"
                        checked += 1
                        dangerous += cell.startswith("'=")
    elif name.endswith(".xlsx"):
        book = openpyxl.load_workbook(io.BytesIO(data))
        for sheet in book.worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", f"{sheet.title}!{cell.coordinate} is a formula"
                    if isinstance(cell.value, str) and is_dangerous(cell.value):
                        assert cell.quotePrefix, f"{sheet.title}!{cell.coordinate} {cell.value!r} is not protected"
                        dangerous += 1
                    checked += 1
    elif name.endswith(".json"):
        assert "=1+2" in json.dumps(json.loads(data), ensure_ascii=False)  # kept as data
        checked = 1
    else:  # XML network formats: they parse, and hold the payloads as escaped text, never as markup
        import defusedxml.ElementTree as DET

        root = DET.fromstring(data)
        values = [*root.itertext(), *(v for el in root.iter() for v in el.attrib.values())]
        assert any("<img src=x" in v for v in values)  # the payload is a value in the file, not an element
        assert not any(el.tag.split("}")[-1] in ("img", "script", "svg", "a") for el in root.iter())
        checked = 1
    assert checked
    if fmt in ("bundle", "xlsx", "kumu", "gephi"):
        assert dangerous >= 1  # the =1+2 payload was there to be neutralised


# --- refused payloads -------------------------------------------------------------------------------

def test_bidi_control_text_is_refused_with_a_clear_message(store):
    project_id = store.create_project("Bidi test", settings=ProjectSettings())
    before = store.revision(project_id)
    people = normalise_frame("stakeholders", pd.DataFrame({"id": ["b1"], "name": [BIDI], "kind": ["person"]}))
    with pytest.raises(CoprodError) as refused:
        store.import_project(project_id, Project(stakeholders=people))
    problems = getattr(refused.value, "problems", [])
    assert problems and any(p.column == "name" for p in problems)
    message = " ".join(p.message for p in problems).lower()
    assert any(w in message for w in ("direction", "invisible", "bidi", "control")), message
    assert store.revision(project_id) == before and store.load(project_id).stakeholders.empty
