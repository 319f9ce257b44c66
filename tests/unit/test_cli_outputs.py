"""The analysts' commands run for real: ``python -m coprod_map report|gaps|metrics`` against a SQLite file.

Every figure is checked against a computation of our own from the store's data (pandas counts and
networkx), not against the functions the commands call.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import networkx as nx
import pandas as pd
import pytest

from coprod_map.report import SECTIONS
from coprod_map.sample import SAMPLE_NAME, load_sample
from coprod_map.store import Store

ROOT = Path(__file__).resolve().parents[2]
PYTHON = ROOT / ".venv" / "bin" / "python"
GAP_COLUMNS = ["attribute", "category", "affected_count", "affected_share", "involved_count", "involved_share",
               "gap", "ratio", "ci_low", "ci_high", "flag", "suppressed"]


def run(*args: str, db: str) -> subprocess.CompletedProcess:
    command = [str(PYTHON if PYTHON.exists() else sys.executable), "-m", "coprod_map", *args, "--db", db]
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=180)


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory) -> tuple[str, object]:
    """A real SQLite file holding the sample project, and the project as the store gives it back."""
    url = f"sqlite:///{tmp_path_factory.mktemp('cli') / 'cli.db'}"
    store = Store(url)
    project = store.load(load_sample(store))
    store.close()
    return url, project


@pytest.mark.parametrize("command", ["report", "gaps", "metrics"])
def test_help_lists_the_new_commands(command, sample_db):
    result = run(command, "--help", db=sample_db[0])
    assert result.returncode == 0 and "--project" in result.stdout and "usage:" in result.stdout


def test_gaps_csv_matches_an_independent_count(sample_db):
    url, project = sample_db
    result = run("gaps", "--project", SAMPLE_NAME, "--by", "age_band", "area", db=url)
    assert result.returncode == 0, result.stderr
    table = pd.read_csv(io.StringIO(result.stdout), dtype={"category": str}, keep_default_na=False, na_values=[""])
    assert list(table.columns) == GAP_COLUMNS
    assert list(dict.fromkeys(table["attribute"])) == ["age_band", "area"]
    min_cell = project.settings.min_cell
    people = project.stakeholders
    took_part = people.loc[people["id"].isin(set(project.participation["stakeholder_id"]))]
    reference = project.reference
    for attribute in ("age_band", "area"):
        rows = table.loc[table["attribute"] == attribute].set_index("category")
        categories = project.settings.attributes[attribute]
        counts = took_part[attribute].value_counts().reindex(categories, fill_value=0)
        known_total = counts.sum()
        ref = reference.loc[reference["attribute"] == attribute].set_index("category")["count"].astype(float)
        for category in categories:
            row = rows.loc[category]
            n = int(counts[category])
            if 0 < n < min_cell or 0 < ref[category] < min_cell:
                assert bool(row["suppressed"]) and pd.isna(row["involved_count"]) and pd.isna(row["involved_share"])
                continue
            assert not row["suppressed"]
            assert int(row["involved_count"]) == n
            assert row["involved_share"] == pytest.approx(n / known_total)  # a fraction, not a percentage
            assert row["affected_share"] == pytest.approx(ref[category] / ref.sum())
            assert row["gap"] == pytest.approx(n / known_total - ref[category] / ref.sum())
            assert row["ci_low"] <= row["involved_share"] <= row["ci_high"]


def test_gaps_pairs_and_json_to_a_file(sample_db, tmp_path):
    url, project = sample_db
    out = tmp_path / "gaps.json"
    result = run("gaps", "--project", SAMPLE_NAME, "--by", "gender", "disability", "--pairs", "--format", "json",
                 "--out", str(out), db=url)
    assert result.returncode == 0, result.stderr
    assert str(out) in result.stdout
    rows = json.loads(out.read_text(encoding="utf-8"))
    assert all(list(r) == GAP_COLUMNS for r in rows)
    attributes = list(dict.fromkeys(r["attribute"] for r in rows))
    assert attributes == ["gender", "disability", "gender by disability"]
    # register check of one pair cell, by hand: women with a disability who took part
    people = project.stakeholders
    took_part = people.loc[people["id"].isin(set(project.participation["stakeholder_id"]))]
    n = int(((took_part["gender"] == "woman") & (took_part["disability"] == "yes")).sum())
    cell = next(r for r in rows if r["attribute"] == "gender by disability" and r["category"] == "woman / yes")
    if n >= project.settings.min_cell:
        assert cell["involved_count"] == n
    else:
        assert cell["involved_count"] is None and cell["suppressed"] is True


def test_metrics_match_networkx(sample_db):
    url, project = sample_db
    result = run("metrics", "--project", SAMPLE_NAME, db=url)
    assert result.returncode == 0, result.stderr
    table = pd.read_csv(io.StringIO(result.stdout), dtype={"id": str, "name": str}, keep_default_na=False,
                        na_values=[""])
    for column in ("id", "name", "degree", "betweenness", "community", "constraint", "articulation_point",
                   "bridge_ties"):
        assert column in table.columns
    assert table["id"].tolist() == project.stakeholders["id"].tolist()  # one row per stakeholder, in order
    G = nx.Graph()
    G.add_nodes_from(project.stakeholders["id"])
    ties = project.relationships
    G.add_edges_from((s, t) for s, t in zip(ties["source"], ties["target"], strict=True) if s != t)
    table = table.set_index("id")
    degree = dict(G.degree())
    assert table["degree"].to_dict() == degree
    betweenness = nx.betweenness_centrality(G)
    for node, value in betweenness.items():
        assert table.loc[node, "betweenness"] == pytest.approx(value, abs=1e-9)
    cut = set(nx.articulation_points(G))
    assert set(table.index[table["articulation_point"]]) == cut
    isolated = {n for n, d in degree.items() if d == 0}
    assert set(table.index[table["community"].isna()]) == isolated


def test_csv_cells_that_look_like_formulas_are_neutralised(tmp_path):
    url = f"sqlite:///{tmp_path / 'formula.db'}"
    from tests.pages._helpers import small_project

    project = small_project()
    project.stakeholders.loc[0, "age band"] = "=HYPERLINK(1)"
    project.stakeholders.loc[2, "name"] = "@SUM(1)"
    project.settings.attributes["age band"].append("=HYPERLINK(1)")
    store = Store(url)
    project_id = store.create_project("Formula", settings=project.settings)
    store.import_project(project_id, project)
    store.close()
    gaps = run("gaps", "--project", "Formula", "--min-cell", "1", db=url)
    metrics = run("metrics", "--project", "Formula", db=url)
    assert gaps.returncode == 0 and metrics.returncode == 0, gaps.stderr + metrics.stderr
    assert "\n=" not in gaps.stdout and ",=" not in gaps.stdout and ",'=HYPERLINK(1)," in gaps.stdout
    assert ",@" not in metrics.stdout and ",'@SUM(1)," in metrics.stdout
    as_json = run("metrics", "--project", "Formula", "--format", "json", db=url)
    assert any(r["name"] == "@SUM(1)" for r in json.loads(as_json.stdout))  # JSON keeps the text as it is


class _Headings(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.h2: list[str] = []
        self.links: list[str] = []
        self._in = False

    def handle_starttag(self, tag, attrs):
        self._in = self._in or tag == "h2"
        self.links += [v for k, v in attrs if k in ("src", "href") and v]
        if tag == "h2":
            self.h2.append("")

    def handle_endtag(self, tag):
        self._in = self._in and tag != "h2"

    def handle_data(self, data):
        if self._in:
            self.h2[-1] += data


def test_report_writes_one_offline_file_with_every_section(sample_db, tmp_path):
    url, project = sample_db
    out = tmp_path / "report.html"
    result = run("report", "--project", SAMPLE_NAME, "--out", str(out), "--min-cell", "3", db=url)
    assert result.returncode == 0, result.stderr
    page = out.read_text(encoding="utf-8")
    parser = _Headings()
    parser.feed(page)
    assert [h.strip() for h in parser.h2] == list(SECTIONS.values())
    assert all(link.startswith("#") for link in parser.links)
    assert "counts from 1 to 2 are not shown" in page  # --min-cell reached the report
    assert "No decision log is available" not in page  # the record was loaded


def test_bad_requests_exit_1_with_a_clear_message(sample_db, tmp_path):
    url, _ = sample_db
    unknown = run("gaps", "--project", "No such project", db=url)
    assert unknown.returncode == 1 and "No such project" in unknown.stderr
    bad_by = run("gaps", "--project", SAMPLE_NAME, "--by", "shoe_size", db=url)
    assert bad_by.returncode == 1 and "'shoe_size'" in bad_by.stderr and "age_band" in bad_by.stderr
    bad_cell = run("report", "--project", SAMPLE_NAME, "--out", str(tmp_path / "r.html"), "--min-cell", "0", db=url)
    assert bad_cell.returncode == 1 and "--min-cell" in bad_cell.stderr and not (tmp_path / "r.html").exists()
    bad_format = run("metrics", "--project", SAMPLE_NAME, "--format", "xml", db=url)
    assert bad_format.returncode == 2
