"""Erasing a person leaves no trace in data, history or snapshots; pseudonymised export; retention reminders."""

from __future__ import annotations

import io
import zipfile
from datetime import date

import pandas as pd
import pytest
import sqlalchemy as sa

from coprod_map import participation_sets, schema
from coprod_map.errors import EditRejected
from coprod_map.model import Project, normalise_frame
from coprod_map.privacy import erase_person, mentions, pseudonymise, pseudonymised_export, retention_reminder
from coprod_map.record_store import apply_record_edits, load_record
from coprod_map.store import Store
from tests.pages._helpers import small_project
from tests.unit.test_history_participation import build_v6

NAME = "Zelda Quarmby-Vance"


def every_text(store) -> str:
    """Every value of every table in the database, as one text to search (Parquet payloads decoded: every cell)."""
    parts = []
    with store.engine.connect() as conn:
        for table in sa.inspect(conn).get_table_names():
            for row in conn.execute(sa.text(f'SELECT * FROM "{table}"')):
                for v in row:
                    if isinstance(v, (bytes, memoryview)):
                        frame = participation_sets.decode(bytes(v))
                        parts += [str(x) for column in frame.columns for x in frame[column].tolist()]
                    else:
                        parts.append(str(v))
    return "\n".join(parts)


def payload_cells(store, *tables: str) -> list[tuple[str, object]]:
    """(column, value) of every cell of every Parquet payload of ``tables`` (default: the live participation sets
    and the batch change rows)."""
    cells = []
    with store.engine.connect() as conn:
        for table in tables or ("participation_sets", "changes"):
            for (payload,) in conn.execute(sa.text(f"SELECT payload FROM {table} WHERE payload IS NOT NULL")):
                frame = participation_sets.decode(bytes(payload))
                cells += [(c, x) for c in frame.columns for x in frame[c].tolist()]
    return cells


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



def test_erasure_rewrites_every_participation_batch_holding_the_person(any_store):
    store = any_store
    project = small_project()
    project.stakeholders.loc[0, "name"] = NAME
    project.activities = normalise_frame("activities", pd.DataFrame({"id": ["a1", "a2"], "title": ["One", "Two"]}))
    project.participation = normalise_frame("participation", pd.DataFrame({
        "stakeholder_id": ["s1", "s2", "s1", "s3"], "activity_id": ["a1", "a1", "a2", "a2"],
        "notes": ["", f"came with {NAME}", "needs a ramp", "quiet"]}))
    pid = store.create_project("Erase participation", settings=project.settings)
    store.import_project(pid, project)
    imported = int(store.history(pid)["id"].iloc[0])
    store.apply_edits(pid, "participation", upserts=normalise_frame("participation", pd.DataFrame(
        {"stakeholder_id": ["s1", "s3"], "activity_id": ["a1", "a2"], "notes": [f"{NAME} spoke first", "loud"]})))
    store.apply_edits(pid, "participation", upserts=normalise_frame("participation", pd.DataFrame(
        {"stakeholder_id": ["s3"], "activity_id": ["a1"], "notes": ["late"]})))
    untouched = int(store.history(pid)["id"].iloc[0])  # a batch that never held s1 nor the name
    cells = payload_cells(store)
    assert ("stakeholder_id", "s1") in cells and any(isinstance(v, str) and NAME in v for _, v in cells)

    erase_person(store, pid, "s1")

    cells = payload_cells(store, "changes")  # the history: every batch payload decoded
    assert ("stakeholder_id", "s1") not in cells
    assert not any(isinstance(v, str) and ("Zelda" in v or "ramp" in v) for _, v in cells), cells
    assert ("new_notes", "came with [erased]") in cells
    assert ("stakeholder_id", "s1") not in payload_cells(store, "participation_sets")
    # another person's CURRENT note is not rewritten (as for every table): it is found for review instead
    assert mentions(store.load(pid), NAME).values.tolist() == [["participation", "s2 / a1", "notes"]]
    # the erase entry recorded the person's rows leaving the set, now erased in its own payload too
    erase = int(store.history(pid)["id"].iloc[0])
    rows = store.changes(pid, erase, can_see_private=True)
    mine = rows.loc[rows["table_name"] == "participation"]
    assert len(mine) == 2 and mine["erased"].all() and set(mine["key"]) == {""} and set(mine["op"]) == {"delete"}
    now = store.load(pid).participation
    assert sorted(zip(now["stakeholder_id"], now["activity_id"], strict=True)) == [("s2", "a1"), ("s3", "a1"),
                                                                                    ("s3", "a2")]
    # other people's rows in the history are intact; the person is gone at every time
    edit = store.changes(pid, int(store.history(pid)["id"].iloc[2]), can_see_private=True)
    assert ("s3 / a2", "quiet", "loud") in [(k, o["notes"], n["notes"]) for k, o, n in
                                            zip(edit["key"], edit["old"], edit["new"], strict=True) if k]
    for revision in range(store.revision(pid)):
        assert "s1" not in set(store.state_at(pid, revision=revision).participation["stakeholder_id"])
    refused_entry = pytest.raises(EditRejected, store.revert, pid, imported)
    assert "erased" in refused_entry.value.details()
    store.revert(pid, untouched)  # an entry that never held the person can still be taken back
    assert "late" not in set(store.load(pid).participation["notes"])


def test_erasure_in_a_project_upgraded_from_schema_6_tombstones_its_json_rows(tmp_path):
    url = f"sqlite:///{tmp_path / 'v6.db'}"
    build_v6(url)
    store = Store(url)
    try:
        store.apply_edits("p6", "participation", upserts=normalise_frame("participation", pd.DataFrame(
            {"stakeholder_id": ["s1"], "activity_id": ["a1"], "notes": ["under 7"]})))
        erase_person(store, "p6", "s1")
        c = schema.METADATA.tables["changes"]
        with store.engine.connect() as conn:
            texts = conn.execute(sa.select(c.c.old, c.c.new).where(c.c.table_name == "participation",
                                                                   c.c.op != "batch")).all()
        assert texts and not any('"s1"' in (t or "") for row in texts for t in row)
        assert ("stakeholder_id", "s1") not in payload_cells(store) and "Person 1" not in every_text(store)
        assert store.state_at("p6", revision=1).participation["stakeholder_id"].tolist() == ["s2", "s3"]
    finally:
        store.close()


def test_erasure_reaches_whether_their_needs_were_met_and_names_json_must_escape(store):
    """The history search is narrowed in SQL: rows about the person's needs (found through the needs) and a
    name holding a quote (which JSON escapes, so every row is read) must still be scrubbed."""
    quoted = 'Coun "Cil" Quarmby'
    project = small_project()
    project.stakeholders.loc[0, "name"] = NAME  # s1: needs, whether they were met
    project.stakeholders.loc[2, "name"] = quoted  # s3: named in another person's note
    pid = store.create_project("Needs met", settings=project.settings)
    store.import_project(pid, project)
    store.apply_edits(pid, "stakeholders", upserts=store.load(pid).stakeholders.iloc[[1]].assign(
        notes=f"{quoted} chairs it"))
    apply_record_edits(store, pid, "needs", upserts=pd.DataFrame(
        {"id": ["N7"], "stakeholder_id": ["s1"], "need": ["hearing loop"], "category": ["access"]}))
    apply_record_edits(store, pid, "need_met", upserts=pd.DataFrame(
        {"need_id": ["N7"], "activity_id": ["a1"], "met": ["yes"]}))
    erase_person(store, pid, "s1")
    erase_person(store, pid, "s3")
    with store.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT table_name, old, new FROM changes WHERE op != 'batch'")).all()
    met = [r for r in rows if r.table_name == "record_need_met"]
    assert met and all(v in (None, '{"erased": true}') for r in met for v in (r.old, r.new))
    text = "\n".join(str(v) for r in rows for v in (r.old, r.new))
    assert "Zelda" not in text and "Quarmby" not in text and "hearing loop" not in text and "N7" not in text
    assert "[erased] chairs it" in text  # another person's note in the history: the name taken out
