"""What each measure runs: the package's real functions (imported lazily) and their yardsticks.

A package function that is missing, or still a stub raising ``NotImplementedError``, raises
:class:`bench.harness.Unavailable`, which the runner reports as "not available".
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import pandas as pd

from bench.generate import ATTRIBUTES
from bench.harness import Unavailable
from coprod_map.model import Project

ATTRS = list(ATTRIBUTES)


def need(module: str, name: str) -> Any:
    """``module.name``, or :class:`Unavailable` saying which one is missing."""
    try:
        mod = importlib.import_module(module)
    except ImportError as exc:
        raise Unavailable(f"{module} not importable ({exc})") from None
    try:
        return getattr(mod, name)
    except AttributeError:
        raise Unavailable(f"{module}.{name} is missing") from None


def call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call a package function, turning a stub's ``NotImplementedError`` into :class:`Unavailable`."""
    try:
        return fn(*args, **kwargs)
    except NotImplementedError:
        raise Unavailable(f"{getattr(fn, '__qualname__', fn)} is still a stub") from None


# --- the least an import can do ----------------------------------------------------------------------

def least_import(csv_path: Any, db_path: Any) -> Callable[[], None]:
    """The least work that turns an attendance CSV (``person,event,date``) into a durable stored project,
    without the package: pyarrow reads the bytes (dates typed), names and events are dictionary-encoded, the
    distinct people and events become rows of two keyed tables (one ``executemany`` each) and participation one
    zstd Parquet blob of codes, in one SQLite transaction (WAL, synchronous=FULL). No checks, no ids matched to
    an existing map, no history, no audit row. Each call writes a new project into ``db_path``.

    It shows how much of a "within N x pandas' read" target the bare minimum already takes on this machine:
    what is left is all the room there is for checking the file and keeping history."""
    import io
    import itertools
    import sqlite3

    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    con = sqlite3.connect(str(db_path), isolation_level=None)
    for pragma in ("journal_mode = WAL", "synchronous = FULL"):
        con.execute(f"PRAGMA {pragma}")
    con.execute("CREATE TABLE IF NOT EXISTS people (project TEXT, id TEXT, name TEXT, seq INTEGER, "
                "PRIMARY KEY (project, id))")
    con.execute("CREATE TABLE IF NOT EXISTS events (project TEXT, id TEXT, title TEXT, seq INTEGER, "
                "PRIMARY KEY (project, id))")
    con.execute("CREATE TABLE IF NOT EXISTS sets (project TEXT PRIMARY KEY, payload BLOB)")
    runs = itertools.count()
    options = pacsv.ConvertOptions(column_types={"date": pa.date32()})

    def run() -> None:
        project = f"least-{next(runs)}"
        with open(csv_path, "rb") as handle:
            table = pacsv.read_csv(io.BytesIO(handle.read()), convert_options=options)
        person = pc.dictionary_encode(table["person"]).combine_chunks()
        event = pc.dictionary_encode(table["event"]).combine_chunks()
        con.execute("BEGIN IMMEDIATE")
        con.executemany("INSERT INTO people VALUES (?, ?, ?, ?)",
                        ((project, f"P{i}", name, i) for i, name in enumerate(person.dictionary.to_pylist())))
        con.executemany("INSERT INTO events VALUES (?, ?, ?, ?)",
                        ((project, f"E{i}", title, i) for i, title in enumerate(event.dictionary.to_pylist())))
        blob = io.BytesIO()
        pq.write_table(pa.table({"person": person.indices, "event": event.indices, "date": table["date"]}), blob,
                       compression="zstd", compression_level=1)
        con.execute("INSERT INTO sets VALUES (?, ?)", (project, blob.getvalue()))
        con.execute("COMMIT")

    run.connection = con  # type: ignore[attr-defined]  # closed by the caller
    return run


# --- representation gaps ---------------------------------------------------------------------------

def gap_workload(project: Project) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Overall gap table for the five attributes (with Wilson intervals) plus the quarterly table,
    against the reference population: ``gap_report`` and ``trend_table`` as the CLI and page call them."""
    gap_report = need("coprod_map.analysis.representation", "gap_report")
    trend_table = need("coprod_map.analysis.representation", "trend_table")
    overall = call(gap_report, project, by=list(ATTRS), mode="population")
    quarterly = call(trend_table, project, by=list(ATTRS), period="quarter", mode="population")
    return overall, quarterly


def duckdb_yardstick(project: Project) -> Callable[[], list]:
    """A bare DuckDB query on tables already loaded: distinct participants per category of every
    attribute (join participation to stakeholders, one GROUPING SET per attribute).

    One thread, like pandas: on a shared 2-core machine DuckDB's second thread competes with other
    work and the yardstick swings (0.2-1.3 s seen); single-threaded it is steady."""
    import duckdb

    con = duckdb.connect(config={"threads": 1})
    people = project.stakeholders[["id", *ATTRS]].astype(str)
    part = project.participation[["stakeholder_id", "activity_id"]].astype(str)
    con.register("people_df", people)
    con.register("part_df", part)
    con.execute("CREATE TABLE people AS SELECT * FROM people_df")
    con.execute("CREATE TABLE part AS SELECT * FROM part_df")
    con.unregister("people_df")
    con.unregister("part_df")
    sets = ", ".join(f"({a})" for a in ATTRS)
    sql = (f"SELECT {', '.join(ATTRS)}, count(DISTINCT p.stakeholder_id) AS people "
           f"FROM part p JOIN people s ON s.id = p.stakeholder_id GROUP BY GROUPING SETS ({sets})")

    def run() -> list:
        return con.execute(sql).fetchall()

    run.connection = con  # type: ignore[attr-defined]
    return run


# --- network ---------------------------------------------------------------------------------------

def working_graph(project: Project) -> Any:
    """The network helper's working graph (``tie_graph``: factorised ids + igraph)."""
    tie_graph = need("coprod_map.analysis.network", "tie_graph")
    return call(tie_graph, project.stakeholders, project.relationships)


def igraph_yardstick(project: Project) -> Callable[[], Any]:
    """igraph ``Graph.DataFrame`` of the same stakeholders (with their attributes) and ties."""
    import igraph as ig

    # the first column holds the vertex names, so the stakeholder's own name goes in as "label"
    vertices = project.stakeholders[["id", "name", "kind", "involvement", *ATTRS]].rename(columns={"name": "label"})
    edges = project.relationships[["source", "target", "type", "strength"]].astype(
        {"strength": "float64"})

    def run() -> Any:
        return ig.Graph.DataFrame(edges, directed=False, vertices=vertices, use_vids=False)

    return run


def network_measures(tg: Any, project: Project) -> dict:
    """The Relationships page's headline figures (degree, components, bridges, mixing for one attribute)."""
    overview = need("coprod_map.analysis.network", "network_overview")
    return call(overview, tg, project.stakeholders, by="area")


def communities(tg: Any) -> pd.DataFrame:
    table = need("coprod_map.analysis.network", "community_table")
    return call(table, tg, seed=0)


def network_html(project: Project, tg: Any) -> tuple[Callable[[], str], dict[str, float]]:
    """A zero-argument callable producing the whole map's network HTML, and facts about its setup.

    Positions come first from ``coprod_map.analysis.layout.positions`` (the page caches them), so the
    callable times the HTML generation itself: ``map_html`` coloured by involvement, sized by degree.
    """
    import time

    positions = need("coprod_map.analysis.layout", "positions")
    map_html = need("coprod_map.viz.network_html", "map_html")
    degree_table = need("coprod_map.analysis.network", "degree_table")
    start = time.perf_counter()
    pos = call(positions, tg, seed=0)
    layout_seconds = time.perf_counter() - start
    degree = call(degree_table, tg).set_index("id")["degree"]

    def build() -> str:
        return call(map_html, project.stakeholders, project.relationships, positions=pos,
                    colour_by="involvement", size=degree, size_label="degree").html

    return build, {"layout_seconds": layout_seconds}


# --- the network view in a browser -----------------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"
#: the same flags as the browser tests' harness (tests/browser/conftest.py)
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

#: Runs before the page's own scripts: when pyvis's page assigns its global ``network``, hook that network's
#: first ``afterDrawing`` and note the time since navigation start (``performance.now()``). Physics is off, so
#: the first draw is the moment the map is ready to use.
READY_HOOK = """(() => {
  let net;
  Object.defineProperty(window, "network", {
    configurable: true,
    get() { return net; },
    set(value) {
      net = value;
      if (value && typeof value.once === "function" && window.__readyMs === undefined) {
        value.once("afterDrawing", () => { window.__readyMs = performance.now(); });
      }
    },
  });
})();"""


class ViewTimer:
    """Debian's headless Chromium (through Playwright) timing how long a network page takes to draw.

    ``ready(path)`` opens the HTML file in a fresh browser context and returns the seconds from navigation
    start to the first vis-network ``afterDrawing``, and the number of nodes drawn. Use as a context manager.
    """

    def __init__(self, *, timeout_ms: float = 60_000) -> None:
        self.timeout_ms = timeout_ms

    def __enter__(self) -> ViewTimer:
        import os

        if not os.path.exists(CHROMIUM):
            raise Unavailable(f"{CHROMIUM} is not installed (apt-get install chromium)")
        try:
            from playwright.sync_api import sync_playwright
        except ImportError as exc:
            raise Unavailable(f"playwright not importable ({exc})") from None
        self._manager = sync_playwright().start()
        try:
            self._browser = self._manager.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        except Exception:
            self._manager.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self._browser.close()
        finally:
            self._manager.stop()

    def ready(self, path: Any) -> tuple[float, int]:
        from pathlib import Path

        context = self._browser.new_context(viewport={"width": 1280, "height": 900})
        try:
            outside: list[str] = []
            context.route("**/*", lambda r: (outside.append(r.request.url), r.abort())
                          if not r.request.url.startswith(("file:", "data:", "blob:")) else r.continue_())
            page = context.new_page()
            page.add_init_script(READY_HOOK)
            page.goto(Path(path).resolve().as_uri(), wait_until="commit")
            page.wait_for_function("() => window.__readyMs !== undefined", timeout=self.timeout_ms)
            ms, nodes = page.evaluate("() => [window.__readyMs, network.body.nodeIndices.length]")
            if outside:
                raise RuntimeError(f"the network page asked for something outside the machine: {outside[:3]}")
            return ms / 1000.0, int(nodes)
        finally:
            context.close()
