"""The Relationships page, run by AppTest against a real SQLite file."""

from __future__ import annotations

import base64
import json
import re

import numpy as np
import pandas as pd
import pytest

from coprod_map.analysis import network as nw
from coprod_map.model import KINDS, Project, ProjectSettings, normalise_frame
from coprod_map.store import Store
from tests.pages._helpers import make_store, page


def _iframe_html(at) -> str:
    frames = at.get("iframe")
    assert len(frames) == 1
    src = frames[0].proto.src
    assert src.startswith("data:text/html;base64,")
    return base64.b64decode(src.split(",", 1)[1]).decode("utf-8")


def _measures(at) -> pd.DataFrame:
    return next(d.value for d in at.dataframe if "betweenness" in d.value.columns)


@pytest.fixture
def small(sqlite_url, monkeypatch):
    store, project_id = make_store(sqlite_url, monkeypatch)
    yield store, project_id
    store.close()


def test_page_draws_the_map_as_a_data_url_and_lists_every_stakeholder(small):
    store, project_id = small
    at = page("network", project_id)
    assert not at.exception
    html = _iframe_html(at)
    assert "new vis.DataSet" in html and "popup.innerHTML" not in html
    measures = _measures(at)
    stakeholders = store.load(project_id).stakeholders
    assert sorted(measures["id"]) == sorted(stakeholders["id"])
    assert dict(zip(measures["id"], measures["degree"], strict=True)) == {"s1": 1, "s2": 1, "s3": 0}


def test_page_on_the_sample_project(sample_project, sqlite_url, monkeypatch):
    store, project_id = sample_project
    monkeypatch.setenv("COPROD_MAP_DB", sqlite_url)
    at = page("network", project_id)
    assert not at.exception
    assert "new vis.DataSet" in _iframe_html(at)
    measures = _measures(at)
    assert sorted(measures["id"]) == sorted(store.load(project_id).stakeholders["id"])


def test_power_grid_selection_shows_that_stakeholder(small):
    _, project_id = small
    at = page("network", project_id)
    # a click on the grid, as Streamlit hands it to the page (row 2 of the grid table is "Council")
    at.session_state["net_power"] = {"selection": {"points": [{"customdata": ["x", "x", "x", "x", "x", "2"]}],
                                                   "point_indices": [0], "box": [], "lasso": []}}
    at.run()
    assert not at.exception
    assert any(t.value == "Selected: Council" for t in at.text)


def _generated(n: int, seed: int = 0) -> Project:
    rng = np.random.default_rng(seed)
    ids = np.array([f"p{i}" for i in range(n)], dtype=object)
    src, dst = rng.integers(0, n, 2 * n), rng.integers(0, n, 2 * n)
    return Project(
        stakeholders=normalise_frame("stakeholders", pd.DataFrame({
            "id": ids, "name": ids, "kind": "person", "involvement": rng.choice(["consulted", "not_involved"], n),
            "area": rng.choice(["North", "South", "East", "West"], n),
        })),
        relationships=normalise_frame("relationships", pd.DataFrame({
            "id": [f"r{i}" for i in range(len(src))], "source": ids[src], "target": ids[dst], "type": "knows",
        })),
        settings=ProjectSettings(attributes={"area": ["North", "South", "East", "West"]}),
    )


def test_large_project_shows_the_aggregated_map(sqlite_url, monkeypatch):
    monkeypatch.setenv("COPROD_MAP_DB", sqlite_url)
    store = Store(sqlite_url)
    try:
        project = _generated(20_000)
        project_id = store.create_project("Big", settings=project.settings)
        store.import_project(project_id, project)
        at = page("network", project_id)
        at.selectbox(key="net_group").set_value("area").run()
        assert not at.exception
        html = _iframe_html(at)
        nodes = html.split("nodes = new vis.DataSet(", 1)[1].split(");", 1)[0]
        assert nodes.count('"id":"g') == 4  # one node per area
        assert len(_measures(at)) == 20_000
    finally:
        store.close()


# --- worked-out tables and sentences in words, not column ids -----------------------------------------------------

SNAKE = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")


def _shown_heads(d) -> list[str]:
    """Each heading as the table shows it (its column_config label, else the column id)."""
    config = json.loads(d.proto.columns or "{}")
    return [(config.get(str(c)) or {}).get("label") or str(c) for c in d.value.columns]


@pytest.fixture
def sample_page(sample_project, sqlite_url, monkeypatch):
    store, project_id = sample_project
    monkeypatch.setenv("COPROD_MAP_DB", sqlite_url)
    at = page("network", project_id)
    reach = at.multiselect(key="net_reach_groups")
    reach.set_value(reach.options[:2]).run()
    at.selectbox(key="net_earlier").set_value("Cycle 1")
    at.selectbox(key="net_later").set_value("Cycle 3").run()
    assert not at.exception
    return store, project_id, at


@pytest.mark.parametrize("columns", [
    {"within_1", "nearest"},  # Reach the missing: who could make an introduction
    {"source_name", "across_roles"},  # Over time: ties that formed or ended
    {"id", "name", "kind"},  # Over time: people who took part earlier but not later
])
def test_worked_out_tables_show_no_snake_case_headings(sample_page, columns):
    _, _, at = sample_page
    found = [d for d in at.dataframe if columns <= set(d.value.columns)
             and (columns != {"id", "name", "kind"} or len(d.value.columns) == 3)]
    assert len(found) == 1
    heads = _shown_heads(found[0])
    assert not [h for h in heads if SNAKE.search(h)], heads
    assert all(h[:1].isupper() for h in heads), heads  # "id", "kind" read as headings too
    # the frame (and its download) keeps the analysis' ids: shown raw, they were codes or lower-case ids
    assert any(SNAKE.search(c) or c[:1].islower() for c in map(str, found[0].value.columns))


def test_dropouts_show_the_kind_in_words(sample_page):
    store, project_id, at = sample_page
    table = next(d.value for d in at.dataframe if list(d.value.columns) == ["id", "name", "kind"])
    raw = nw.cycle_dropouts(store.load(project_id), earlier="Cycle 1", later="Cycle 3")
    assert len(table) == len(raw) > 0  # the sample has people who stopped taking part
    # the cells themselves are words (a screen reader reads the cells, not what a format function draws)
    assert table["kind"].tolist() == [KINDS[k] for k in raw["kind"]]
    assert "person" in set(raw["kind"]) and "person" not in set(table["kind"])


def test_constraint_has_a_plain_heading_and_help(sample_page):
    _, _, at = sample_page
    config = json.loads(next(d for d in at.dataframe if "betweenness" in d.value.columns).proto.columns)
    assert config["constraint"]["label"] == "Overlapping ties"
    assert "same people" in config["constraint"]["help"] and "few separate routes" in config["constraint"]["help"]


def test_mixing_says_it_in_words_before_the_figure(sample_page):
    store, project_id, at = sample_page
    matrix = nw.mixing_matrix(nw.tie_graph(store.load(project_id).stakeholders, store.load(project_id).relationships),
                              store.load(project_id).stakeholders, by="experience")
    r = nw.assortativity(matrix)
    caption = next(c.value for c in at.caption if "ties link stakeholders" in c.value).replace("\\", "")
    assert caption.startswith("People ")
    assert caption.index("People ") < caption.index(f"assortativity {r:.2f}")
    assert "(assortativity" not in caption  # no longer the jargon inside the plain sentence
