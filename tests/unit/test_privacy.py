"""Erasing a person leaves no trace in data, history or snapshots; pseudonymised export; retention reminders."""

from __future__ import annotations

import io
import zipfile
from datetime import date

import pandas as pd
import sqlalchemy as sa

from coprod_map.errors import EditRejected
from coprod_map.model import Project, normalise_frame
from coprod_map.privacy import erase_person, mentions, pseudonymise, pseudonymised_export, retention_reminder
from coprod_map.record_store import apply_record_edits, load_record
from tests.pages._helpers import small_project

NAME = "Zelda Quarmby-Vance"


def every_text(store) -> str:
    """Every value of every table in the database, as one text to search."""
    parts = []
    with store.engine.connect() as conn:
        for table in sa.inspect(conn).get_table_names():
            for row in conn.execute(sa.text(f'SELECT * FROM "{table}"')):
                parts += [str(v) for v in row]
    return "\n".join(parts)


def test_erasure_leaves_no_trace_in_data_history_or_snapshots(store):
    project = small_project()
    project.stakeholders.loc[0, "name"] = NAME  # s1: a tie, a participation record, an attribute
    pid = store.create_project("Erase test", settings=project.settings)
    store.import_project(pid, project)
    store.apply_edits(pid, "stakeholders", upserts=store.load(pid).stakeholders.iloc[[0]].assign(
        notes=f"{NAME} prefers mornings", influence=2))
    store.apply_edits(pid, "relationships", upserts=store.load(pid).relationships.assign(notes=f"met {NAME} at club"))
    apply_record_edits(store, pid, "needs", upserts=pd.DataFrame(
        {"id": ["N1"], "stakeholder_id": ["s1"], "need": ["step-free access"], "category": ["access"]}))
    apply_record_edits(store, pid, "decisions", upserts=pd.DataFrame(
        {"id": ["D1"], "title": ["Meet in the library"], "made_by": [["s1", "s2"]]}))
    store.take_snapshot(pid, "Before erasure")
    assert NAME in every_text(store) and "step-free access" in every_text(store)
    audit_before = len(store.history(pid))

    erase_person(store, pid, "s1", actor="Data protection lead")

    text = every_text(store)
    assert NAME not in text and "Zelda" not in text and "step-free access" not in text
    now = store.load(pid)
    assert "s1" not in set(now.stakeholders["id"]) and now.relationships.empty
    assert now.participation["stakeholder_id"].tolist() == ["s2"]
    record = load_record(store, pid)
    assert record.needs.empty and record.decisions["made_by"].tolist() == [["s2"]]
    history = store.history(pid)
    assert len(history) == audit_before + 1
    top = history.iloc[0]
    assert top["kind"] == "erase" and top["actor"] == "Data protection lead" and "Zelda" not in top["summary"]
    assert "1 stakeholder removed" in top["summary"] and "1 tie removed" in top["summary"]
    # time travel to before the erasure does not bring the person back
    assert "s1" not in set(store.state_at(pid, revision=2).stakeholders["id"])
    # and the erasure cannot be undone; entries holding the person cannot be taken back
    try:
        store.revert(pid, int(top["id"]))
        raise AssertionError("an erasure was taken back")
    except EditRejected as error:
        assert "erasure is final" in error.details()


def test_erasing_an_unknown_person_changes_nothing(store):
    pid = store.create_project("Erase nobody", settings=small_project().settings)
    store.import_project(pid, small_project())
    revision = store.revision(pid)
    try:
        erase_person(store, pid, "s99")
        raise AssertionError("no refusal")
    except EditRejected as error:
        assert "no stakeholder 's99'" in error.details()
    assert store.revision(pid) == revision


def test_mentions_find_the_name_in_other_rows():
    project = small_project()
    project.relationships.loc[0, "notes"] = "introduced by Ann"
    found = mentions(project, "Ann")
    assert found.values.tolist() == [["stakeholders", "s1", "name"], ["relationships", "r1", "notes"]]


def test_pseudonymised_export_replaces_names_and_keeps_the_key_apart():
    project = small_project()
    project.stakeholders.loc[1, "notes"] = "private remark"
    safe, key = pseudonymise(project)
    assert safe.stakeholders["id"].tolist() == ["P001", "P002", "P003"] == safe.stakeholders["name"].tolist()
    assert set(safe.stakeholders["notes"]) == {""}
    assert safe.relationships[["source", "target"]].values.tolist() == [["P001", "P002"]]
    assert safe.participation["stakeholder_id"].tolist() == ["P001", "P002"]
    assert safe.stakeholders["age band"].tolist() == project.stakeholders["age band"].tolist()
    assert key.values.tolist() == [["P001", "s1", "Ann"], ["P002", "s2", "Youth club"], ["P003", "s3", "Council"]]
    (main_name, main, _), (key_name, key_bytes, _) = pseudonymised_export(project, "bundle", name="Riverside")
    with zipfile.ZipFile(io.BytesIO(main)) as archive:
        everything = b"".join(archive.read(n) for n in archive.namelist()).decode("utf-8-sig")
    for secret in ("Ann", "Youth club", "Council", "private remark"):
        assert secret not in everything
    assert "KEEP-SEPARATE" in key_name and "Youth club" in key_bytes.decode("utf-8-sig") and main_name != key_name


def test_codes_stay_put_when_someone_is_added():
    project = small_project()
    _, before = pseudonymise(project)
    bigger = Project(stakeholders=pd.concat([project.stakeholders, normalise_frame("stakeholders", pd.DataFrame(
        {"id": ["s4"], "name": ["New"]}))], ignore_index=True), settings=project.settings)
    _, after = pseudonymise(bigger)
    assert after.iloc[:3].values.tolist() == before.values.tolist()


def test_retention_reminders():
    today = date(2026, 3, 1)
    assert retention_reminder("", today=today)[0] == "unset"
    assert retention_reminder("2026-02-28", today=today)[0] == "past"
    level, message = retention_reminder("2026-03-02", today=today)
    assert level == "near" and "in 1 day." in message
    assert retention_reminder("2026-03-31", today=today)[0] == "near"
    assert retention_reminder("2026-04-01", today=today) is None
