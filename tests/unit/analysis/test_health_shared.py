"""The health check with the participation records matched once (``prepared=``) gives the same table."""

from __future__ import annotations

import pandas as pd
import pytest

from coprod_map.analysis import health
from coprod_map.analysis import representation as rep
from coprod_map.model import Project
from coprod_map.record import empty_record
from coprod_map.record_store import load_record


def _same(project: Project, record) -> pd.DataFrame:
    plain = health.health_table(project, record)
    prepared = rep.prepare_participation(project)
    for name in [a for a in rep.attribute_choices(project) if a not in rep.REGISTER_COLUMNS][:1]:  # warm it up
        rep.gap_table(project, by=name, mode="register", prepared=prepared)
    shared = health.health_table(project, record, prepared=prepared)
    pd.testing.assert_frame_equal(plain, shared)
    stale = rep.prepare_participation(Project())  # built from another project: ignored, same answer
    pd.testing.assert_frame_equal(plain, health.health_table(project, record, prepared=stale))
    asked = []

    def gap_table(**options):  # a cache standing in for the app's: records what it is asked for
        asked.append(options)
        return rep.gap_table(project, **options)

    pd.testing.assert_frame_equal(plain, health.health_table(project, record, gap_table=gap_table))
    assert all(o["min_cell"] == project.settings.min_cell for o in asked)
    return shared


@pytest.mark.parametrize("reference", [True, False])
def test_same_table_with_and_without_a_reference_population(sample_project, reference):
    store, project_id = sample_project
    project = store.load(project_id)
    if not reference:  # register mode: compared with the stakeholders marked as affected
        project.reference = project.reference.iloc[0:0]
    table = _same(project, load_record(store, project_id))
    inclusive = table.set_index("component").loc["inclusive", "evidence"]
    assert "groups compared take part clearly less than expected" in inclusive


def test_same_table_when_there_is_nothing_to_compare():
    table = _same(Project(), empty_record())
    assert table.set_index("component").loc["inclusive", "score"] == 0
