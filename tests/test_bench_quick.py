"""The quick benchmark runs as part of the tests, so the suite never rots.

Speed targets are reported by the benchmark, not gated here: this checks that ``--quick`` completes,
prints its table and machine description, and writes JSON with every measurement present and finite.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess, dict, float]:
    out = tmp_path_factory.mktemp("bench") / "quick.json"
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "bench.run", "--quick", "--json", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    elapsed = time.perf_counter() - start
    assert proc.returncode == 0, f"bench.run --quick failed:\n{proc.stdout}\n{proc.stderr}"
    return proc, json.loads(out.read_text()), elapsed


def test_quick_benchmark_prints_table_and_machine(quick_run) -> None:
    from bench.run import MEASURE_NAMES

    proc, _, elapsed = quick_run
    header = next(line for line in proc.stdout.splitlines() if line.startswith("measure"))
    for column in ("median", "yardstick", "ratio", "target", "verdict"):
        assert column in header
    for name in MEASURE_NAMES.values():
        assert name in proc.stdout, f"{name!r} missing from the table"
    assert "Machine:" in proc.stdout and "cores" in proc.stdout and "Python 3." in proc.stdout
    # --quick must stay quick (the brief: well under a minute; slack here for a loaded CI machine)
    assert elapsed < 120, f"--quick took {elapsed:.0f} s"


def test_quick_benchmark_json_has_every_measure_finite(quick_run) -> None:
    from bench.run import MEASURE_IDS

    _, payload, _ = quick_run
    assert payload["mode"] == "quick"
    assert payload["machine"]["cores"] >= 1 and payload["machine"]["python"].startswith("3.")
    results = {r["id"]: r for r in payload["results"]}
    assert set(results) == set(MEASURE_IDS)
    errors = {k: r["note"] for k, r in results.items() if r["status"] == "error"}
    assert not errors, f"measures that broke: {errors}"
    for key, r in results.items():
        assert r["status"] in ("ok", "not available"), key
        if r["status"] == "not available":
            assert r["note"], f"{key}: says not available without saying why"
            continue
        assert r["runs"] >= 1, key
        assert isinstance(r["median"], float) and math.isfinite(r["median"]) and r["median"] > 0, key
        if r["yardstick"]:
            assert math.isfinite(r["yardstick_median"]) and r["yardstick_median"] > 0, key
            assert math.isfinite(r["ratio"]) and r["ratio"] > 0, key
        if r["target"] == "informational":  # a measured reference, not a target: it says what it shows
            assert r["verdict"].startswith("informational: ") and r["ratio"] is not None, key
        else:
            assert r["verdict"] == "met" or r["verdict"].startswith("missed by "), key


def test_verdicts_say_by_how_much() -> None:
    from bench.harness import verdict_limit, verdict_ratio

    assert verdict_ratio(2.9, 3.0) == "met"
    assert verdict_ratio(4.5, 3.0) == "missed by 50%"
    assert verdict_limit(0.25, 0.1) == "missed by 150%"
    assert verdict_limit(0.9, 0.95, at_least=True) == "missed by 5.3%"
    assert verdict_ratio(45, 3.0) == "missed by 1400%"


def test_generator_is_deterministic_and_canonical() -> None:
    """Same seed, same project; frames already in the model's canonical form."""
    from bench.generate import ATTRIBUTES, generate_project
    from coprod_map.model import TABLES, normalise_frame

    a = generate_project(300, n_records=2_000, seed=5)
    b = generate_project(300, n_records=2_000, seed=5)
    for table in TABLES:
        pd.testing.assert_frame_equal(a.table(table), b.table(table))
        pd.testing.assert_frame_equal(a.table(table), normalise_frame(table, a.table(table)))
    part = a.participation
    assert len(part) == 2_000 and not part.duplicated(["stakeholder_id", "activity_id"]).any()
    assert set(part["stakeholder_id"]) <= set(a.stakeholders["id"])
    assert set(part["activity_id"]) <= set(a.activities["id"])
    ties = a.relationships
    assert (ties["source"] != ties["target"]).all() and ties["source"].isin(a.stakeholders["id"]).all()
    assert 3.5 * 300 < len(ties) <= 5 * 300  # about five ties per stakeholder
    for attr, (categories, _, _) in ATTRIBUTES.items():
        assert set(a.stakeholders[attr]) <= {*categories, "", "not recorded", "prefer not to say"}
        assert a.settings.attributes[attr] == categories
    shares = a.reference.groupby("attribute")["share"].sum()
    assert ((shares - 1).abs() < 1e-9).all()


def test_generated_project_passes_the_package_checks() -> None:
    """The synthetic data is valid input: the validator finds nothing, so imports measure real work."""
    from bench.generate import generate_project
    from coprod_map.validate import check_project

    assert check_project(generate_project(400, n_records=3_000, seed=2)) == []
