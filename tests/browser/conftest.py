"""One Playwright harness for every browser test: Debian's Chromium, the real app, no request leaves the machine.

Fixtures
- ``playwright`` / ``browser`` (session): one sync Playwright and one Chromium (``/usr/bin/chromium``; a browser
  is never downloaded). Only one sync Playwright can run per thread, so browser tests use these instead of
  starting their own.
- ``app_server`` (session): ``streamlit run app.py`` on a free loopback port with its own SQLite file holding the
  sample project; stopped by its PID. ``run_app(db_url, folder)`` starts another one (a context manager).
- ``page`` (per test): a fresh browser context (a new Streamlit session). Every request is recorded; any request
  to a host other than 127.0.0.1/localhost (or ``data:``/``blob:``) is aborted and **fails the test**, and so
  does any dialog (``alert``/``confirm``). ``page.requested`` and ``page.dialogs`` hold what was seen.

Helpers: ``wait_idle(page)``, ``open_project(page, url, name)``, ``go_to(page, title)``; ``NAV`` maps each page's
navigation title to its heading.
"""

from __future__ import annotations

import ast
import contextlib
import os
import re
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
LOCAL_SCHEMES = {"data", "blob"}

def _navigation() -> tuple[dict[str, str], dict[str, str]]:
    """From app.py's ``SECTIONS``: navigation title -> the page's own heading, and title -> page file stem.

    Read from the source so pages other helpers add are covered without editing this file; the heading is the
    page's first ``st.title("...")`` (the navigation title when there is none).
    """
    tree = ast.parse((ROOT / "app.py").read_text())
    sections = next(ast.literal_eval(node.value) for node in ast.walk(tree)
                    if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "SECTIONS" for t in node.targets))
    nav, files = {}, {}
    for pages in sections.values():
        for path, title, _icon in pages:
            source = ROOT / path
            if source.exists():
                found = re.search(r"""st\.title\(\s*["']([^"']+)["']""", source.read_text())
                nav[title] = found.group(1) if found else title
                files[title] = source.stem
    return nav, files


#: navigation title -> heading, and navigation title -> file stem, for every page app.py shows
NAV, PAGE_FILES = _navigation()


def outside_requests(requested: list[str]) -> list[str]:
    """Requested URLs that would leave the machine (not loopback, not data:/blob:)."""
    return [u for u in requested
            if urlparse(u).scheme not in LOCAL_SCHEMES and urlparse(u).hostname not in LOCAL_HOSTS]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def run_app(db_url: str, folder: Path, *, timeout: float = 30) -> Iterator[dict]:
    """``streamlit run app.py`` against ``db_url`` on a free loopback port; yields ``{"url", "log", "pid"}``."""
    port = _free_port()
    log_path = folder / f"server-{port}.log"
    log = open(log_path, "w+")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [str(ROOT / ".venv/bin/python"), "-m", "streamlit", "run", "app.py", "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none", "--server.runOnSave", "false"],
        cwd=ROOT, env={**os.environ, "COPROD_MAP_DB": db_url}, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if urllib.request.urlopen(f"{base}/_stcore/health", timeout=1).read() == b"ok":
                    break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail(f"the app did not start; server log:\n{log_path.read_text()}")
            time.sleep(0.2)
        yield {"url": base, "log": log_path, "pid": proc.pid}
    finally:
        proc.terminate()  # this process only, by its PID
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        log.close()


@pytest.fixture(scope="session")
def playwright():
    if not os.path.exists(CHROMIUM):
        pytest.fail("Debian's chromium is needed: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    manager = sync_playwright().start()
    yield manager
    manager.stop()


@pytest.fixture(scope="session")
def browser(playwright):
    b = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
    yield b
    b.close()


@pytest.fixture(scope="session")
def app_server(tmp_path_factory):
    """The real app on its own SQLite file holding the sample project: ``{url, project_id, name, db, log, pid}``."""
    folder = tmp_path_factory.mktemp("app_server")
    url, project_id, name = sample_database(folder / "coprod_map.db")
    with run_app(url, folder) as server:
        yield {**server, "project_id": project_id, "name": name, "db": url}


def new_page(browser, *, viewport: dict | None = None):
    """A page in a fresh context that records requests and dialogs and aborts anything leaving the machine."""
    context = browser.new_context(viewport=viewport or {"width": 1280, "height": 900}, accept_downloads=True)
    requested: list[str] = []
    dialogs: list[str] = []

    def route(r) -> None:
        requested.append(r.request.url)
        if outside_requests([r.request.url]):
            r.abort()
        else:
            r.continue_()

    context.route("**/*", route)
    pg = context.new_page()
    pg.on("request", lambda req: requested.append(req.url))  # also what routing does not see (service workers)
    pg.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    pg.requested = requested
    pg.dialogs = dialogs
    return context, pg


@pytest.fixture
def page(browser):
    """A fresh Streamlit session in its own browser context (see the module docstring for the checks)."""
    context, pg = new_page(browser)
    yield pg
    context.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """Fail a test that used ``page`` when anything left the machine or a dialog opened."""
    result = yield
    pg = item.funcargs.get("page") if hasattr(item, "funcargs") else None
    if pg is not None and hasattr(pg, "requested"):
        outside = sorted(set(outside_requests(pg.requested)))
        assert not outside, f"requests to hosts outside this machine: {outside}"
        assert not pg.dialogs, f"a dialog opened: {pg.dialogs}"
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """On any failure of a test that used the app server, attach the end of the server's log."""
    report = yield
    server = item.funcargs.get("app_server") if hasattr(item, "funcargs") else None
    if report.failed and isinstance(server, dict) and Path(server.get("log", "")).exists():
        tail = Path(server["log"]).read_text(errors="replace")[-4000:]
        report.sections.append(("app server log (last 4000 characters)", tail))
    return report


# --- helpers ------------------------------------------------------------------------------------

def sample_database(path: Path) -> tuple[str, str, str]:
    """A new SQLite file at ``path`` holding the sample project: ``(url, project_id, project name)``."""
    from coprod_map.sample import load_sample
    from coprod_map.store import Store

    url = f"sqlite:///{path}"
    store = Store(url)
    try:
        project_id = load_sample(store)
        return url, project_id, store.project_info(project_id).name
    finally:
        store.close()


def open_cell_editor(pg, *, x: int):
    """Double-click the first row of the page's first data grid at ``x`` pixels (a column) and return the cell
    editor once it is open (the first double-click can land on a grid that is still mounting)."""
    grid = pg.locator('[data-testid="stDataFrame"] .stDataFrameGlideDataEditor').first
    editor = pg.locator("#portal .gdg-input")
    for _ in range(4):
        grid.dblclick(position={"x": x, "y": 35 + 17})
        try:
            editor.wait_for(timeout=2000)
            break
        except Exception:
            pg.keyboard.press("Escape")
            wait_idle(pg)
    return editor


def wait_idle(pg, *, timeout: float = 15000) -> None:
    """Wait until Streamlit has finished the current run (no 'Running...' status widget)."""
    pg.wait_for_timeout(200)
    pg.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=timeout)


def open_project(pg, url: str, name: str) -> None:
    """Open the app and choose the project called ``name`` on the Projects page."""
    from playwright.sync_api import expect

    pg.goto(url)
    expect(pg.get_by_role("heading", name="Projects")).to_be_visible(timeout=15000)
    wait_idle(pg)
    pg.get_by_label("Open a project", exact=True).click()
    pg.get_by_role("option", name=name, exact=True).click()
    expect(pg.get_by_text("Last changed")).to_be_visible(timeout=15000)
    wait_idle(pg)


def go_to(pg, title: str) -> None:
    """Follow the navigation link ``title`` and wait for the page's heading and the end of the run."""
    from playwright.sync_api import expect

    pg.get_by_role("link", name=title, exact=True).click()
    expect(pg.get_by_role("heading", name=NAV[title]).first).to_be_visible(timeout=30000)
    wait_idle(pg, timeout=30000)
