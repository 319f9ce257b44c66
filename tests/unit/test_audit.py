"""The audit trail names fields, never values; nothing personal reaches the logs, even when things go wrong."""

from __future__ import annotations

import logging

import pandas as pd
import pytest
import sqlalchemy as sa

from coprod_map.errors import ImportRejected, StoreError
from coprod_map.model import Project, normalise_frame
from coprod_map.store import acting_as
from tests.pages._helpers import small_project

SECRET = "Quentin Blackwood-Secret"
VALUE = "lived experience of psychosis"


def test_audit_rows_hold_field_names_and_never_values(store):
    pid = store.create_project("Audit", settings=small_project().settings)
    with acting_as("Facilitator A"):
        store.import_project(pid, small_project())
        row = store.load(pid).stakeholders.iloc[[0]].assign(name=SECRET, notes=VALUE, **{"age band": "65+"})
        store.apply_edits(pid, "stakeholders", upserts=row)
    store.log_export(pid, "bundle")
    history = store.history(pid)
    edit = history.loc[history["kind"] == "edit"].iloc[0]
    assert edit["actor"] == "Facilitator A"
    assert set(edit["fields"]) == {"stakeholders.name", "stakeholders.notes", "stakeholder_attributes.age band"}
    with store.engine.connect() as conn:
        audit = " ".join(str(v) for r in conn.execute(sa.text("SELECT * FROM actions")) for v in r)
    for value in (SECRET, VALUE, "65+", "Ann"):
        assert value not in audit
    assert history.iloc[0]["actor"] == "local user"  # no sign-in: the local user


def test_nothing_personal_in_logs_on_failures(store, caplog, capfd, tmp_path):
    caplog.set_level(logging.DEBUG)  # every logger of ours at its most talkative
    # SQL statements as ``echo=True`` logs them (INFO). At DEBUG SQLAlchemy also logs result rows, which
    # hide_parameters does not cover: never run a deployment with sqlalchemy logging at DEBUG.
    for name in ("sqlalchemy", "sqlalchemy.engine"):
        logging.getLogger(name).setLevel(logging.INFO)
    pid = store.create_project("Logs", settings=small_project().settings)
    store.import_project(pid, small_project())
    # 1. a database rule broken (IntegrityError), values included in the statement
    with pytest.raises(StoreError) as broken, store._write() as conn:
        conn.execute(sa.text("INSERT INTO stakeholders (project_id, id, seq, name, notes) VALUES (:p, 's1', 9, :n, :v)"),
                     {"p": pid, "n": SECRET, "v": VALUE})
    assert "database rule" in str(broken.value)
    # 2. a file that cannot be parsed
    from coprod_map.io.read import read_files

    with pytest.raises(ImportRejected) as unreadable:
        read_files([("people.xlsx", f"PK\x03\x04 not a workbook {SECRET} {VALUE}".encode())])
    assert SECRET not in unreadable.value.details() and VALUE not in unreadable.value.details()
    # 3. an import refused by the checks
    refused = Project(stakeholders=normalise_frame("stakeholders", pd.DataFrame(
        {"id": ["s1", "s1"], "name": [SECRET, VALUE], "kind": ["martian", "person"]})))
    with pytest.raises(ImportRejected):
        store.import_project(pid, refused)
    logged = caplog.text + "".join(capfd.readouterr())
    for value in (SECRET, VALUE, "Quentin"):
        assert value not in logged
    for name in ("sqlalchemy", "sqlalchemy.engine"):
        logging.getLogger(name).setLevel(logging.WARNING)
