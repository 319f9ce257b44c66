"""The coprod_map benchmark suite.

Run from the project folder::

    .venv/bin/python -m bench.run            # full: 100k stakeholders, 1M records (several minutes)
    .venv/bin/python -m bench.run --quick    # small sizes, well under a minute (part of the tests)
    .venv/bin/python -m bench.run --json bench/results/latest.json

Each measure runs several times beside its yardstick in the same process (alternating), and the
table gives medians, the ratio (median of the pairwise ratios) and whether the target was met, or
by how much it was missed. A package function that is not there yet is reported as
"not available". See bench/README.md for what each measure means.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import pickle
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # `python bench/run.py`: make `bench` and `coprod_map` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import workloads  # noqa: E402
from bench.generate import attendance_csv, generate_project  # noqa: E402
from bench.harness import (  # noqa: E402
    Result,
    Unavailable,
    alternate,
    machine,
    markdown,
    pair_ratio,
    repeat,
    table,
    verdict_limit,
    verdict_ratio,
)
from coprod_map.model import Project  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

#: every measure the suite reports, in table order, with its name in the table (the quick test checks all)
MEASURE_NAMES = {
    "import_csv": "import attendance CSV into the store",
    "import_floor": "store write vs its bare floor",
    "import_least": "the least an import can do (no checks, no history)",
    "gaps": "representation gaps (overall + quarterly + CIs)",
    "graph_load": "graph load: network.tie_graph",
    "graph_load_nx": "graph load: model.to_graph (NetworkX)",
    "network_measures": "network measures on the page",
    "communities_time": "communities: time",
    "communities_modularity": "communities: modularity",
    "network_html": "network HTML, whole map",
    "network_html_growth": "network HTML growth",
    "network_view_ready": "network view ready in headless Chromium",
    "page_rerun": "page rerun after a widget change",
    "page_first_view": "first view of a fresh project",
    "gap_memory": "gap computation peak memory",
}
MEASURE_IDS = tuple(MEASURE_NAMES)


@dataclass
class Sizes:
    people: int
    records: int
    import_records: int
    html_small: int
    html_large: int
    view_nodes: int  # nodes in the page timed in Chromium (the view draws people up to 1,500, then groups)
    runs: int
    heavy_runs: int
    budget: float  # seconds per measure before stopping early (at least one run is kept)
    scaling: tuple[int, ...] = ()  # smaller projects the growth table measures beside ``people``


FULL = Sizes(people=100_000, records=1_000_000, import_records=1_000_000, html_small=2_000, html_large=20_000,
             view_nodes=1_500, runs=5, heavy_runs=3, budget=120.0, scaling=(1_000, 10_000))
QUICK = Sizes(people=1_000, records=10_000, import_records=10_000, html_small=100, html_large=1_000,
              view_nodes=300, runs=3, heavy_runs=2, budget=5.0, scaling=(100, 300))


@dataclass
class Context:
    sizes: Sizes
    workdir: Path
    log: Callable[[str], None]
    _cache: dict[str, Any] = field(default_factory=dict)

    def project(self):
        if "project" not in self._cache:
            s = self.sizes
            self.log(f"generating {s.people:,} stakeholders, {s.records:,} records")
            self._cache["project"] = generate_project(s.people, n_records=s.records, seed=1)
        return self._cache["project"]

    def tie_graph(self):
        if "tg" not in self._cache:
            self._cache["tg"] = workloads.working_graph(self.project())
        return self._cache["tg"]


def _people(n: int) -> str:
    """1000 -> "1k", 1000000 -> "1M"."""
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    return f"{n // 1000}k" if n >= 1000 and n % 1000 == 0 else str(n)


# --- measures --------------------------------------------------------------------------------------

def measure_import(ctx: Context) -> list[Result]:
    s = ctx.sizes
    r = Result("import_csv", MEASURE_NAMES["import_csv"], f"{_people(s.import_records)} rows",
               yardstick="pandas read_csv", target="<= 5x")
    read_files = workloads.need("coprod_map.io.read", "read_files")
    Store = workloads.need("coprod_map.store", "Store")
    import pandas as pd

    ImportRejected = workloads.need("coprod_map.errors", "ImportRejected")
    source = ctx.project() if s.import_records == s.records else generate_project(
        max(1000, s.import_records // 10), n_records=s.import_records, seed=2)
    path = ctx.workdir / "attendance.csv"
    path.write_bytes(attendance_csv(source))
    store = workloads.call(Store, f"sqlite:///{ctx.workdir / 'import.db'}")
    pids = iter([workloads.call(store.create_project, f"Import run {i}") for i in range(s.heavy_runs + 1)])
    parts: dict[str, list[float]] = {"read_files": [], "import_project": []}
    last: dict[str, Any] = {}

    def package() -> int:
        t0 = time.perf_counter()
        staged = workloads.call(read_files, [(path.name, path.read_bytes())])
        t1 = time.perf_counter()
        revision = workloads.call(store.import_project, next(pids), staged.project)
        last["project"] = staged.project
        parts["read_files"].append(t1 - t0)
        parts["import_project"].append(time.perf_counter() - t1)
        return revision

    def yardstick() -> Any:
        return pd.read_csv(path)

    try:
        try:
            read_files([(path.name, path.read_bytes())])
        except ImportRejected as exc:
            # The importer refuses the file (a row limit): say so, and measure the largest size it takes.
            r.note = f"{_people(s.import_records)} rows refused: {exc.details()[:200]}"
            rows = _largest_accepted_rows(path)
            text = path.read_text(encoding="utf-8").splitlines(keepends=True)
            path.write_text("".join(text[: rows + 1]), encoding="utf-8")
            r.size = f"{_people(rows)} rows (largest accepted)"
        a, b, _ = alternate(package, yardstick, s.heavy_runs, budget=s.budget * 3)
        floor = _floor_result(store, last["project"], parts["import_project"], r.size)
    finally:
        store.close()
    r.extra = {k: statistics.median(v) for k, v in parts.items() if v}
    r.extra["csv_mib"] = path.stat().st_size / 2**20
    return [_ratio_result(r, a, b, 5.0), floor, _least_result(ctx, path, yardstick, r.size)]


def _least_result(ctx: Context, path: Path, yardstick: Callable[[], Any], size: str) -> Result:
    """The same file through :func:`bench.workloads.least_import`, beside the same yardstick: how much of the
    5x the bare minimum takes, so the room left for checks and history is a measured figure."""
    r = Result("import_least", MEASURE_NAMES["import_least"], size, yardstick="pandas read_csv",
               target="informational")
    least = workloads.least_import(path, ctx.workdir / "least.db")
    try:
        least()  # warm-up: creates the tables
        a, b, _ = alternate(least, yardstick, ctx.sizes.heavy_runs, budget=ctx.sizes.budget * 3)
    finally:
        least.connection.close()
    _ratio_result(r, a, b, 5.0)
    r.verdict = (f"informational: leaves {5 - r.ratio:.1f}x of 5x" if r.ratio < 5
                 else f"informational: takes {r.ratio:.1f}x, over 5x alone")
    r.note = "pyarrow read + encode + keyed rows + Parquet set, one durable transaction; no checks, no history"
    return r


def _floor_result(store: Any, project: Any, store_times: list[float], size: str) -> Result:
    """The second yardstick for the import: the same rows written into the same schema (7) with bare ``sqlite3``
    and ``pyarrow``: stakeholders and activities by an executemany of plain tuples (keys, foreign keys, history
    triggers), the participation set as one Parquet blob (plain ``pyarrow``, zstd) in ``participation_sets``; WAL,
    synchronous=FULL, the store's import page cache, one transaction, a fresh project each run."""
    import io
    import sqlite3

    import pyarrow as pa
    import pyarrow.parquet as pq

    r = Result("import_floor", MEASURE_NAMES["import_floor"], size, yardstick="bare sqlite3 + Parquet blob",
               target="<= 3x")
    pid_list = [workloads.call(store.create_project, f"Floor run {i}") for i in range(len(store_times))]
    tables = {
        "stakeholders": ("id", "name", "kind"),
        "activities": ("id", "title", "date"),
    }
    rows = {t: list(zip(*(project.table(t)[c].astype(str).tolist() for c in cols), strict=True))
            for t, cols in tables.items()}
    part = project.participation
    n_part = len(part)
    total = sum(len(v) for v in rows.values())
    db = str(store.engine.url.database)

    def bare(pid: str) -> None:
        con = sqlite3.connect(db, isolation_level=None)
        try:
            for pragma in ("foreign_keys = ON", "journal_mode = WAL", "synchronous = FULL",
                           f"cache_size = {-min(512 * 1024, 64 + total // 2)}"):
                con.execute(f"PRAGMA {pragma}")
            con.execute("BEGIN IMMEDIATE")
            for t, cols in tables.items():
                names = ", ".join(("project_id", *cols, "seq"))
                marks = ", ".join("?" * (len(cols) + 2))
                con.executemany(f"INSERT INTO {t} ({names}) VALUES ({marks})",
                                [(pid, *row, i) for i, row in enumerate(rows[t])])
            blob = io.BytesIO()
            pq.write_table(pa.table({"stakeholder_id": pa.array(part["stakeholder_id"].astype(str).tolist()),
                                     "activity_id": pa.array(part["activity_id"].astype(str).tolist()),
                                     "seq": pa.array(range(n_part), type=pa.int64()),
                                     "notes": pa.array(part["notes"].astype(str).tolist())}),
                           blob, compression="zstd")
            con.execute("INSERT INTO participation_sets (project_id, payload, rows) VALUES (?, ?, ?)",
                        (pid, blob.getvalue(), n_part))
            con.execute("COMMIT")
        finally:
            con.close()

    times = []
    for pid in pid_list:
        start = time.perf_counter()
        bare(pid)
        times.append(time.perf_counter() - start)
    r.median, r.yardstick_median, r.runs = statistics.median(store_times), statistics.median(times), len(times)
    r.ratio = pair_ratio(store_times, times)
    r.verdict = verdict_ratio(r.ratio, 3.0)
    r.extra = {"rows": total + n_part}
    r.note = "Store.import_project alone (validation, history log, audit row) against the bare write"
    return r


def _largest_accepted_rows(path: Path) -> int:
    try:
        return int(workloads.need("coprod_map.io.text", "MAX_ROWS"))
    except Unavailable:
        return 200_000


def measure_gaps(ctx: Context) -> list[Result]:
    s = ctx.sizes
    r = Result("gaps", MEASURE_NAMES["gaps"],
               f"{_people(s.people)} people, {_people(s.records)} records",
               yardstick="DuckDB distinct per category", target="<= 3x")
    project = ctx.project()
    workloads.gap_workload(project)  # warm-up, and fail early if it is not available
    yard = workloads.duckdb_yardstick(project)
    yard()
    a, b, out = alternate(lambda: workloads.gap_workload(project), yard, s.runs, budget=s.budget)
    overall, quarterly = out
    r.extra = {"overall_rows": len(overall), "quarterly_rows": len(quarterly)}
    yard.connection.close()
    return [_ratio_result(r, a, b, 3.0)]


def measure_graph_load(ctx: Context) -> list[Result]:
    s = ctx.sizes
    project = ctx.project()
    size = f"{_people(s.people)} nodes, {len(project.relationships):,} edges"
    yard = workloads.igraph_yardstick(project)
    results = []
    r = Result("graph_load", MEASURE_NAMES["graph_load"], size,
               yardstick="igraph Graph.DataFrame", target="<= 1.5x")
    try:
        workloads.working_graph(project)
        a, b, _ = alternate(lambda: workloads.working_graph(project), yard, s.runs, budget=s.budget)
        r.note = "tie_graph keeps attributes in the frames; the yardstick attaches them to the graph"
        results.append(_ratio_result(r, a, b, 1.5))
    except Unavailable as exc:
        results.append(_unavailable(r, exc))
    r2 = Result("graph_load_nx", MEASURE_NAMES["graph_load_nx"], size,
                yardstick="igraph Graph.DataFrame", target="<= 1.5x")
    to_graph = workloads.need("coprod_map.model", "to_graph")
    a, b, _ = alternate(lambda: to_graph(project), yard, s.heavy_runs, budget=s.budget)
    results.append(_ratio_result(r2, a, b, 1.5))
    return results


def measure_network(ctx: Context) -> list[Result]:
    s = ctx.sizes
    project = ctx.project()
    size = f"{_people(s.people)} nodes"
    results = []
    r = Result("network_measures", MEASURE_NAMES["network_measures"], size, target="< 1 s")
    try:
        tg = ctx.tie_graph()
        times, _ = repeat(lambda: workloads.network_measures(tg, project), s.runs, budget=s.budget)
        results.append(_limit_result(r, times, 1.0))
    except Unavailable as exc:
        results.append(_unavailable(r, exc))
    rt = Result("communities_time", MEASURE_NAMES["communities_time"], size, target="< 2 s")
    rq = Result("communities_modularity", MEASURE_NAMES["communities_modularity"], size, unit="",
                yardstick="igraph community_multilevel", target=">= 0.95x")
    try:
        tg = ctx.tie_graph()
        times, table_ = repeat(lambda: workloads.communities(tg), s.heavy_runs, budget=s.budget)
        results.append(_limit_result(rt, times, 2.0))
        membership = table_["community"].fillna(0).astype("int64").to_numpy()  # isolated -> one group
        q_package = tg.graph.modularity(membership.tolist())
        import random

        import igraph as ig

        ig.set_random_number_generator(random.Random(0))  # a reproducible reference partition
        start = time.perf_counter()
        louvain = tg.graph.community_multilevel()
        ig.set_random_number_generator(random)
        louvain_time = time.perf_counter() - start
        q_ref = louvain.modularity
        rq.median, rq.yardstick_median, rq.runs = q_package, q_ref, 1
        rq.ratio = q_package / q_ref if q_ref else math.nan
        rq.verdict = verdict_limit(rq.ratio, 0.95, at_least=True)
        rq.extra = {"louvain_seconds": louvain_time, "communities": int(table_["community"].max() or 0)}
        rq.note = "unweighted modularity of both partitions on the same graph"
        results.append(rq)
    except Unavailable as exc:
        results += [_unavailable(rt, exc), _unavailable(rq, exc)]
    return results


def measure_html(ctx: Context) -> list[Result]:
    s = ctx.sizes
    r = Result("network_html", MEASURE_NAMES["network_html"], f"{_people(s.html_large)} nodes", target="< 0.5 s")
    g = Result("network_html_growth", MEASURE_NAMES["network_html_growth"],
               f"{_people(s.html_large)} / {_people(s.html_small)} nodes", unit="", target="<= 15")
    times, layout = {}, {}
    try:
        for n in (s.html_small, s.html_large):
            project = generate_project(n, n_records=n, seed=3)
            tg = workloads.working_graph(project)
            build, facts = workloads.network_html(project, tg)
            layout[n] = facts["layout_seconds"]
            size_mib = len(build().encode()) / 2**20
            times[n], _ = repeat(build, s.runs, budget=s.budget)
    except Unavailable as exc:
        return [_unavailable(r, exc), _unavailable(g, exc)]
    r.note = "viz.network_html.map_html, positions computed beforehand (cached on the page)"
    r.extra = {"layout_seconds": layout[s.html_large], "html_mib": size_mib}
    large, small = statistics.median(times[s.html_large]), statistics.median(times[s.html_small])
    g.median, g.runs = large / small, len(times[s.html_large])
    g.ratio = g.median
    g.verdict = verdict_limit(g.median, 15.0)
    g.extra = {"t_small": small, "t_large": large}
    return [_limit_result(r, times[s.html_large], 0.5), g]


#: nodes in the yardstick page of ``network_view_ready``: a small map, the browser's and vis-network's fixed cost
VIEW_YARDSTICK_NODES = 100


def measure_view_ready(ctx: Context) -> list[Result]:
    """A generated map's network page (``map_html``, as the page draws people) opened from a file in headless
    Chromium: seconds from navigation start to vis-network's first ``afterDrawing`` (physics is off, so the
    first draw is the ready time), alternating with the same page for a 100-node map; median of 3."""
    s = ctx.sizes
    r = Result("network_view_ready", MEASURE_NAMES["network_view_ready"], f"{s.view_nodes:,} nodes",
               yardstick=f"the same page, {VIEW_YARDSTICK_NODES} nodes", target="< 1 s")
    paths, facts = {}, {}
    for n in (s.view_nodes, VIEW_YARDSTICK_NODES):
        project = generate_project(n, n_records=n, seed=4)
        build, _ = workloads.network_html(project, workloads.working_graph(project))
        html = build()
        paths[n] = ctx.workdir / f"view-{n}.html"
        paths[n].write_text(html, encoding="utf-8")
        facts[n] = {"nodes": n, "edges": len(project.relationships), "html_kib": len(html.encode()) / 1024}
    a, b, drawn = [], [], {}
    with workloads.ViewTimer() as timer:
        timer.ready(paths[VIEW_YARDSTICK_NODES])  # warm-up: first launch of the renderer
        for _ in range(3):
            tb, drawn[VIEW_YARDSTICK_NODES] = timer.ready(paths[VIEW_YARDSTICK_NODES])
            ta, drawn[s.view_nodes] = timer.ready(paths[s.view_nodes])
            a.append(ta)
            b.append(tb)
    if drawn[s.view_nodes] != s.view_nodes or drawn[VIEW_YARDSTICK_NODES] != VIEW_YARDSTICK_NODES:
        raise RuntimeError(f"the browser drew {drawn} nodes, expected {s.view_nodes} and {VIEW_YARDSTICK_NODES}")
    r.median, r.yardstick_median, r.runs = statistics.median(a), statistics.median(b), len(a)
    r.ratio = pair_ratio(a, b)
    r.verdict = verdict_limit(r.median, 1.0)
    r.extra = {"measure": facts[s.view_nodes], "yardstick": facts[VIEW_YARDSTICK_NODES], "times": a,
               "yardstick_times": b}
    r.note = "file opened in /usr/bin/chromium (Playwright, the browser tests' flags); first afterDrawing"
    return [r]


def _size_measures() -> list:
    return list(workloads.need("coprod_map.viz.network_html", "SIZE_MEASURES"))


#: (page, key of a selectbox the rerun measure flips, its raw option values): view choices that change no data.
#: Raw values, because AppTest's ``select_index`` feeds the shown label back through ``format_func``.
PAGE_WIDGETS: tuple[tuple[str, str, Callable[[], list]], ...] = (
    ("pages/network.py", "net_size", _size_measures),
    ("pages/representation.py", "rep_by", lambda: list(workloads.ATTRS)),
)


def measure_pages(ctx: Context) -> list[Result]:
    s = ctx.sizes
    size = f"{_people(s.people)} project"
    rr = Result("page_rerun", MEASURE_NAMES["page_rerun"], size, target="< 100 ms")
    rf = Result("page_first_view", MEASURE_NAMES["page_first_view"], size, target="< 3 s")
    Store = workloads.need("coprod_map.store", "Store")
    pages = [(p, key, values) for p, key, values in PAGE_WIDGETS if (ROOT / p).exists()]
    if not pages:
        exc = Unavailable("pages/network.py and pages/representation.py are not there yet")
        return [_unavailable(rr, exc), _unavailable(rf, exc)]
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    import_with_record = workloads.need("coprod_map.record_store", "import_with_record")
    keep_loaded = workloads.need("coprod_map.ui.cache", "keep_loaded")
    url = f"sqlite:///{ctx.workdir / 'pages.db'}"
    store = workloads.call(Store, url)
    old_env = os.environ.get("COPROD_MAP_DB")
    os.environ["COPROD_MAP_DB"] = url
    first, rerun, detail, imports = [], [], {}, []
    try:
        for page, key, raw_values in pages:
            # a fresh upload, as the Import page makes it: caches empty, then the import hands the project on
            st.cache_data.clear()
            st.cache_resource.clear()
            pid = workloads.call(store.create_project, f"Benchmark project for {page}")
            start = time.perf_counter()
            workloads.call(import_with_record, store, pid, ctx.project(), None, loaded=keep_loaded(pid))
            imports.append(time.perf_counter() - start)
            at = AppTest.from_file(str(ROOT / page), default_timeout=600)
            at.session_state["project_id"] = pid
            t0 = time.perf_counter()
            at.run()
            first.append(time.perf_counter() - t0)
            if at.exception:
                raise RuntimeError(f"{page} raised: {at.exception[0].message}")
            times, flips = [], 0
            widget = _selectbox(at, key)
            choices = [widget.value, *[v for v in raw_values() if v != widget.value][:1]] if widget else []
            for i in range(max(4, s.runs)):
                widget = _selectbox(at, key)
                if widget is not None and len(choices) == 2:
                    widget.set_value(choices[(i + 1) % 2])
                    flips += 1
                t0 = time.perf_counter()
                at.run()
                times.append(time.perf_counter() - t0)
                if at.exception:
                    raise RuntimeError(f"{page} raised on rerun: {at.exception[0].message}")
            rerun.extend(times)
            # and after a server restart: nothing handed on, the project read back from the database
            st.cache_data.clear()
            st.cache_resource.clear()
            cold = AppTest.from_file(str(ROOT / page), default_timeout=600)
            cold.session_state["project_id"] = pid
            t0 = time.perf_counter()
            cold.run()
            cold_seconds = time.perf_counter() - t0
            detail[page] = {
                "first_view": first[-1],
                "first_view_after_restart": cold_seconds,
                "rerun_median": statistics.median(times),
                "rerun_max": max(times),
                "widget": f"selectbox {key!r} flipped {flips} times" if flips else f"plain rerun ({key!r} not shown)",
            }
    finally:
        store.close()
        if old_env is None:
            os.environ.pop("COPROD_MAP_DB", None)
        else:
            os.environ["COPROD_MAP_DB"] = old_env
    # the slower page sets the figure; every page's own figures are in ``extra``
    worst_rerun = max(detail, key=lambda p: detail[p]["rerun_median"])
    worst_first = max(detail, key=lambda p: detail[p]["first_view"])
    rr.extra = {"pages": detail}
    rf.extra = {"pages": detail, "store_import_seconds": statistics.median(imports)}
    rr.median, rr.runs = detail[worst_rerun]["rerun_median"], len(rerun)
    rr.verdict = verdict_limit(rr.median, 0.1)
    rr.note = f"slowest page: {worst_rerun} ({detail[worst_rerun]['widget']})"
    rf.median, rf.runs = detail[worst_first]["first_view"], len(first)
    rf.verdict = verdict_limit(rf.median, 3.0)
    rf.note = f"slowest page: {worst_first}; caches cleared before each page's import"
    return [rr, rf]


def _selectbox(at: Any, key: str) -> Any:
    """The page's selectbox with this key, or None when the page does not show it."""
    try:
        return at.selectbox(key=key)
    except KeyError:
        return None


def measure_memory(ctx: Context) -> list[Result]:
    s = ctx.sizes
    r = Result("gap_memory", MEASURE_NAMES["gap_memory"],
               f"{_people(s.people)} people, {_people(s.records)} records", unit="MiB", target="< 400 MiB")
    workloads.gap_workload(generate_project(50, n_records=100))  # not available -> reported, no child run
    path = ctx.workdir / "project.pickle"
    with open(path, "wb") as handle:
        pickle.dump(ctx.project(), handle, protocol=pickle.HIGHEST_PROTOCOL)
    peaks, increases = [], []
    for _ in range(max(1, s.heavy_runs - 1)):
        proc = subprocess.run([sys.executable, "-m", "bench.memory_child", str(path)], cwd=ROOT,
                              capture_output=True, text=True, timeout=900)
        if proc.returncode != 0:
            raise RuntimeError(f"memory child failed: {proc.stderr.strip().splitlines()[-1:]}")
        out = json.loads(proc.stdout.strip().splitlines()[-1])
        peaks.append(out["peak_mib"])
        increases.append(out["increase_mib"])
    r.median, r.runs = statistics.median(peaks), len(peaks)
    r.verdict = verdict_limit(r.median, 400.0)
    r.extra = {"increase_mib": statistics.median(increases), "baseline_mib": out["baseline_mib"],
               "peak_reset": out["peak_reset"]}
    r.note = "whole-process peak RSS during the computation, project data in memory included"
    return [r]


# --- result helpers --------------------------------------------------------------------------------

def _ratio_result(r: Result, a: list[float], b: list[float], limit: float) -> Result:
    r.median, r.yardstick_median, r.runs = statistics.median(a), statistics.median(b), len(a)
    r.ratio = pair_ratio(a, b)
    r.verdict = verdict_ratio(r.ratio, limit)
    return r


def _limit_result(r: Result, times: list[float], limit: float) -> Result:
    r.median, r.runs = statistics.median(times), len(times)
    r.verdict = verdict_limit(r.median, limit)
    return r


def _unavailable(r: Result, exc: BaseException) -> Result:
    r.status, r.note = "not available", str(exc)
    return r


MEASURES: tuple[tuple[tuple[str, ...], Callable[[Context], list[Result]]], ...] = (
    (("import_csv", "import_floor", "import_least"), measure_import),
    (("gaps",), measure_gaps),
    (("graph_load", "graph_load_nx"), measure_graph_load),
    (("network_measures", "communities_time", "communities_modularity"), measure_network),
    (("network_html", "network_html_growth"), measure_html),
    (("network_view_ready",), measure_view_ready),
    (("page_rerun", "page_first_view"), measure_pages),
    (("gap_memory",), measure_memory),
)


#: the in-memory measures the growth table repeats at every size, in its column order
GROWTH_COLUMNS = ("gaps", "tie graph", "igraph yardstick", "NetworkX model", "network measures", "communities")


def _growth_work(project: Project, tg: Any) -> dict[str, Callable[[], Any]]:
    """Zero-argument callables for the growth columns (setup such as the yardstick's frames done here)."""
    to_graph = workloads.need("coprod_map.model", "to_graph")
    return {
        "gaps": lambda: workloads.gap_workload(project),
        "tie graph": lambda: workloads.working_graph(project),
        "igraph yardstick": workloads.igraph_yardstick(project),
        "NetworkX model": lambda: to_graph(project),
        "network measures": lambda: workloads.network_measures(tg, project),
        "communities": lambda: workloads.communities(tg),
    }


def measure_growth(ctx: Context) -> list[dict[str, Any]]:
    """The main in-memory measures at each size (``scaling`` plus the main size, whose project is shared
    with the other measures): medians, so a reader sees how each grows from 1,000 to 100,000 stakeholders
    (ten records a stakeholder, about five ties each)."""
    s = ctx.sizes
    rows = []
    for people in (*s.scaling, s.people):
        project = ctx.project() if people == s.people else generate_project(
            people, n_records=people * (s.records // s.people), seed=1)
        tg = ctx.tie_graph() if people == s.people else workloads.working_graph(project)
        row: dict[str, Any] = {"stakeholders": people, "ties": len(project.relationships),
                               "records": len(project.participation)}
        for name, work in _growth_work(project, tg).items():
            times, _ = repeat(work, s.heavy_runs, budget=s.budget / 4)
            row[name] = statistics.median(times)
        rows.append(row)
    return rows


def growth_table(rows: list[dict[str, Any]]) -> str:
    """The growth rows as a plain-text table (seconds, as in the main table)."""
    names = list(GROWTH_COLUMNS)
    header = ["stakeholders", "ties", "records", *names]
    body = [[f"{r['stakeholders']:,}", f"{r['ties']:,}", f"{r['records']:,}",
             *(_fmt_seconds(r[n]) for n in names)] for r in rows]
    widths = [max(len(str(row[i])) for row in [header, *body]) for i in range(len(header))]
    lines = [" | ".join(c.ljust(w) for c, w in zip(header, widths, strict=True)),
             "-+-".join("-" * w for w in widths)]
    lines += [" | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in body]
    return "\n".join(lines)


def _fmt_seconds(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"


def run(sizes: Sizes, *, only: set[str] | None = None, log: Callable[[str], None] = lambda m: None,
        growth: list[dict[str, Any]] | None = None) -> list[Result]:
    """Every measure (or ``only`` these); with ``growth`` given (a list), also the growth table's rows
    into it."""
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="coprod_bench_") as tmp:
        ctx = Context(sizes=sizes, workdir=Path(tmp), log=log)
        if growth is not None:
            log(f"measuring growth at {', '.join(f'{n:,}' for n in (*sizes.scaling, sizes.people))} stakeholders")
            start = time.perf_counter()
            growth += measure_growth(ctx)
            log(f"  done in {time.perf_counter() - start:.1f} s")
        for ids, fn in MEASURES:
            if only and not set(ids) & only:
                continue
            log(f"measuring {', '.join(ids)}")
            start = time.perf_counter()
            try:
                out = fn(ctx)
            except Unavailable as exc:
                out = [Result(i, MEASURE_NAMES[i], "", status="not available", note=str(exc)) for i in ids]
            except Exception as exc:  # report and carry on: one broken measure must not hide the rest
                note = f"{type(exc).__name__}: {str(exc)[:300]}"
                log("  failed:\n" + traceback.format_exc())
                out = [Result(i, MEASURE_NAMES[i], "", status="error", note=note) for i in ids]
            log(f"  done in {time.perf_counter() - start:.1f} s")
            results += out
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes only (well under a minute)")
    parser.add_argument("--json", type=Path, default=None, help="also write the results as JSON to this file")
    parser.add_argument("--only", nargs="*", choices=MEASURE_IDS, help="run only these measures")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown (for bench/README.md)")
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    started = datetime.now(UTC)
    wall = time.perf_counter()

    def log(message: str) -> None:
        print(f"[{time.perf_counter() - wall:7.1f} s] {message}", file=sys.stderr, flush=True)

    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    growth: list[dict[str, Any]] | None = None if args.only else []
    results = run(sizes, only=set(args.only) if args.only else None, log=log, growth=growth)
    info = machine()
    info["load_average_at_start"] = None if load_before is None else round(load_before, 2)
    print(f"coprod_map benchmark ({'quick' if args.quick else 'full'}), {started:%Y-%m-%d %H:%M} UTC")
    libs = ", ".join(f"{k} {v}" for k, v in info["libraries"].items())
    print(f"Machine: {info['cpu']}, {info['cores']} cores, {info['ram_gib']} GiB RAM, {info['os']}")
    print(f"Python {info['python']}; {libs}")
    print(f"Load average (1 min): {info['load_average_at_start']} at start, {info['load_average_1min']} at end "
          f"(other work on the machine inflates the absolute limits; ratios to a yardstick hold)")
    print()
    print(markdown(results) if args.markdown else table(results))
    if growth:
        print()
        print("How the in-memory measures grow (medians; ten records and about five ties a stakeholder):")
        print(growth_table(growth))
    missed = [r for r in results if r.status == "ok" and r.verdict.startswith("missed")]
    other = [r for r in results if r.status != "ok"]
    print()
    print(f"{len(results) - len(missed) - len(other)} met, {len(missed)} missed, {len(other)} not measured "
          f"({time.perf_counter() - wall:.0f} s)")
    for r in other:
        print(f"  {r.id}: {r.status}: {r.note}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "suite": "coprod_map benchmark",
            "mode": "quick" if args.quick else "full",
            "started": started.isoformat(timespec="seconds"),
            "seconds": time.perf_counter() - wall,
            "machine": info,
            "sizes": sizes.__dict__,
            "results": [r.to_dict() for r in results],
            "growth": growth or [],
        }
        args.json.write_text(json.dumps(_finite(payload), indent=2, allow_nan=False, default=_json_default))
    return 0


def _finite(value: Any) -> Any:
    """The payload with NaN/infinity as null (strict JSON); the table shows them as "-"."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


if __name__ == "__main__":
    raise SystemExit(main())
