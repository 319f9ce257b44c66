"""The Relationships page, run by AppTest against a real SQLite file."""

from __future__ import annotations

import base64

import numpy as np
import pandas as pd
import pytest

from coprod_map.model import Project, ProjectSettings, normalise_frame
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
