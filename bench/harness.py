"""Timing, verdicts, the machine description and the results table of the benchmark suite.

Every timed measure runs beside its yardstick in the same process, alternating A B A B, so the
ratio is taken pair by pair and machine drift cancels. Medians are reported.
"""

from __future__ import annotations

import gc
import math
import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from importlib import metadata
from typing import Any

__all__ = [
    "Result",
    "Unavailable",
    "alternate",
    "machine",
    "repeat",
    "markdown",
    "table",
    "verdict_limit",
    "verdict_ratio",
]

LIBRARIES = ("pandas", "numpy", "networkx", "igraph", "duckdb", "pyarrow", "streamlit", "pyvis",
             "plotly", "SQLAlchemy", "scipy")


class Unavailable(Exception):
    """The package function a measure needs is not there yet (missing, or still a stub)."""


@dataclass
class Result:
    """One row of the results table (and of the JSON)."""

    id: str
    measure: str
    size: str
    status: str = "ok"  # "ok", "not available", "error"
    unit: str = "s"
    median: float | None = None
    yardstick: str = ""
    yardstick_median: float | None = None
    ratio: float | None = None
    target: str = ""
    verdict: str = ""
    runs: int = 0
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    gc.collect()
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def repeat(fn: Callable[[], Any], runs: int, *, budget: float | None = None) -> tuple[list[float], Any]:
    """Time ``fn`` ``runs`` times (fewer if ``budget`` seconds are used up; always at least once)."""
    times, out = [], None
    spent = 0.0
    for _ in range(max(1, runs)):
        t, out = _timed(fn)
        times.append(t)
        spent += t
        if budget is not None and spent > budget:
            break
    return times, out


def alternate(
    measure: Callable[[], Any], yardstick: Callable[[], Any], runs: int, *, budget: float | None = None
) -> tuple[list[float], list[float], Any]:
    """Run yardstick and measure alternately (B A B A ...); returns both time lists and the last output."""
    a_times, b_times, out = [], [], None
    spent = 0.0
    for _ in range(max(1, runs)):
        tb, _ = _timed(yardstick)
        ta, out = _timed(measure)
        a_times.append(ta)
        b_times.append(tb)
        spent += ta + tb
        if budget is not None and spent > budget:
            break
    return a_times, b_times, out


def pair_ratio(a_times: list[float], b_times: list[float]) -> float:
    """Median of the pairwise ratios measure / yardstick."""
    return statistics.median(a / b for a, b in zip(a_times, b_times, strict=True) if b > 0)


def _pct(value: float) -> str:
    return f"{value:.0f}%" if value >= 10 else f"{value:.1f}%"


def verdict_ratio(ratio: float, limit: float) -> str:
    """``met`` when ``ratio <= limit``, else ``missed by X%`` (how far over the limit)."""
    return "met" if ratio <= limit else f"missed by {_pct(100 * (ratio / limit - 1))}"


def verdict_limit(value: float, limit: float, *, at_least: bool = False) -> str:
    """``met`` when ``value`` is within ``limit`` (below it, or above it with ``at_least``)."""
    if at_least:
        return "met" if value >= limit else f"missed by {_pct(100 * (1 - value / limit))}"
    return "met" if value <= limit else f"missed by {_pct(100 * (value / limit - 1))}"


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _ram_gib() -> float | None:
    try:
        with open("/proc/meminfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def machine() -> dict[str, Any]:
    """CPU model, cores, RAM, OS, Python and library versions."""
    versions = {}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "ram_gib": _ram_gib(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "load_average_1min": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
        "libraries": versions,
    }


def _fmt(value: float | None, unit: str) -> str:
    if value is None or not math.isfinite(value):
        return "-"
    if unit == "s":
        return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"
    if unit == "MiB":
        return f"{value:.0f} MiB"
    return f"{value:.3f}"


def table(results: list[Result]) -> str:
    """The results as a plain-text table."""
    header = ["measure", "size", "median", "yardstick", "yardstick median", "ratio", "target", "verdict"]
    rows = []
    for r in results:
        if r.status != "ok":
            rows.append([r.measure, r.size, r.status, r.yardstick or "-", "-", "-", r.target, r.note[:70]])
            continue
        rows.append([
            r.measure, r.size, _fmt(r.median, r.unit), r.yardstick or "-", _fmt(r.yardstick_median, r.unit),
            "-" if r.ratio is None else f"{r.ratio:.2f}", r.target, r.verdict,
        ])
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    lines = [" | ".join(str(c).ljust(w) for c, w in zip(header, widths, strict=True))]
    lines.append("-+-".join("-" * w for w in widths))
    lines += [" | ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(lines)


def markdown(results: list[Result]) -> str:
    """The results as a Markdown table (for bench/README.md)."""
    lines = ["| measure | size | median | yardstick | yardstick median | ratio | target | verdict |",
             "|---|---|---|---|---|---|---|---|"]
    for r in results:
        if r.status != "ok":
            lines.append(f"| {r.measure} | {r.size} | {r.status} | {r.yardstick or '-'} | - | - | {r.target} | {r.note} |")
            continue
        ratio = "-" if r.ratio is None else f"{r.ratio:.2f}"
        lines.append(f"| {r.measure} | {r.size} | {_fmt(r.median, r.unit)} | {r.yardstick or '-'} | "
                     f"{_fmt(r.yardstick_median, r.unit)} | {ratio} | {r.target} | {r.verdict} |")
    return "\n".join(lines)
