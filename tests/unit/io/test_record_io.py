"""Export then import gives back the same project, co-production record included (zip bundle, XLSX, JSON).

Everything runs through the real entry points on real SQLite files: ``export_project`` -> bytes ->
``read_files`` -> ``record_store.import_with_record`` (one transaction), and the CLI's export/import.
The sample project has a realistic record (decisions, ledger, private and shared needs, three cycles,
snapshots as JSON text, self-assessment scores); the record is made hostile on top of that.
"""

from __future__ import annotations

import io
import zipfile

import openpyxl
import pandas as pd
import pytest

from coprod_map import cli
from coprod_map.errors import ImportRejected
from coprod_map.io.export import export_project
from coprod_map.io.read import read_files
from coprod_map.model import TABLES
from coprod_map.record import RECORD_TABLES
from coprod_map.record_store import apply_record_edits, import_with_record, load_record
from coprod_map.sample import load_sample
from coprod_map.store import Store

HOSTILE_TITLE = '=HYPERLINK("http://x.invalid","y")'
HOSTILE_REASON = "<b>bold</b> 'tis -5 +44\nsecond line, \"quoted\" | not a list"


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """(url, store, project id) of the sample with a hostile decision and an id with leading zeros."""
    folder = tmp_path_factory.mktemp("record_io")
    url = f"sqlite:///{folder / 'source.db'}"
    store = Store(url)
    pid = load_sample(store)
    apply_record_edits(store, pid, "decisions", upserts=pd.DataFrame({
        "id": ["007"], "title": [HOSTILE_TITLE], "reasons": [HOSTILE_REASON], "made_by": [["P001", "P002"]],
        "date": ["2026-02-02"]}))
    yield url, store, pid
    store.close()


def private_need(record) -> str:
    needs = record.needs
    return str(needs.loc[needs["private"].astype(bool), "need"].iloc[0])


def assert_same_record(left, right) -> None:
    for table in RECORD_TABLES:
        pd.testing.assert_frame_equal(left.table(table), right.table(table), obj=table)


def assert_same_map(left, right) -> None:
    for table in TABLES:
        a, b = left.table(table), right.table(table)
        pd.testing.assert_frame_equal(a[[c for c in a.columns if not c.startswith("_")]],
                                      b[[c for c in b.columns if not c.startswith("_")]], obj=table)


def import_into_new(store: Store, name: str, files: list[tuple[str, bytes]]) -> str:
    staged = read_files(files)
    pid = store.create_project(name)
    import_with_record(store, pid, staged.project, staged.record, tables=staged.record_tables, replace=True)
    return pid


@pytest.mark.parametrize("fmt", ["bundle", "xlsx", "json"])
def test_export_then_import_gives_back_the_same_project_and_record(source, fmt):
    _url, store, pid = source
    record = load_record(store, pid)
    assert all(len(record.table(t)) for t in RECORD_TABLES)  # every table has rows to lose
    name, data, _mime = export_project(store.load(pid), fmt, name="Riverside", record=record)
    copy = import_into_new(store, f"Round trip {fmt}", [(name, data)])
    back = load_record(store, copy)
    assert_same_record(back, record)
    assert_same_map(store.load(copy), store.load(pid))
    assert store.project_info(copy).settings.cycles == store.project_info(pid).settings.cycles
    decision = back.decisions.set_index("id").loc["007"]
    assert (decision["title"], decision["reasons"], decision["made_by"]) == (HOSTILE_TITLE, HOSTILE_REASON,
                                                                             ["P001", "P002"])
    # counted independently from the file itself, not through our reader
    if fmt == "bundle":
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = set(archive.namelist())
        assert {f"record/{t}.csv" for t in RECORD_TABLES} <= members
        decisions = pd.read_csv(archive.open("record/decisions.csv"), dtype=str, keep_default_na=False,
                                encoding="utf-8-sig")
        assert len(decisions) == len(record.decisions)
        # formula-like text is neutralised in the CSV, and comes back exactly (checked above)
        assert decisions.set_index("id").loc["007", "title"] == "'" + HOSTILE_TITLE
    elif fmt == "xlsx":
        book = openpyxl.load_workbook(io.BytesIO(data))
        assert {f"record_{t}" for t in RECORD_TABLES} <= set(book.sheetnames)
        assert book["record_self_assessment"].max_row - 1 == len(record.self_assessment)
        cells = [c for row in book["record_decisions"].iter_rows() for c in row if c.value == HOSTILE_TITLE]
        assert cells and all(c.data_type == "s" and c.quotePrefix for c in cells)  # a string, never a formula
    else:
        import json

        doc = json.loads(data)
        assert len(doc["record"]["reciprocity"]["rows"]) == len(record.reciprocity)
    assert private_need(back) == private_need(record)  # a full backup keeps private needs


def test_without_private_the_needs_are_left_out_and_an_import_keeps_the_saved_ones(source):
    _url, store, pid = source
    record = load_record(store, pid)
    secret = private_need(record)
    for fmt in ("bundle", "xlsx", "json"):
        name, data, _ = export_project(store.load(pid), fmt, name="Riverside", record=record, private=False)
        if fmt == "bundle":
            archive = zipfile.ZipFile(io.BytesIO(data))
            assert "record/needs.csv" not in archive.namelist() and "record/need_met.csv" not in archive.namelist()
            assert all(secret not in archive.read(n).decode("utf-8-sig") for n in archive.namelist())
        elif fmt == "json":
            assert secret not in data.decode("utf-8")
        else:
            book = openpyxl.load_workbook(io.BytesIO(data))
            assert not {"record_needs", "record_need_met"} & set(book.sheetnames)
            assert all(secret != c.value for ws in book for row in ws.iter_rows() for c in row)
        staged = read_files([(name, data)])
        assert "needs" not in staged.record_tables and "decisions" in staged.record_tables
    # imported over the project (replace), the needs it left out stay as saved
    revision = store.revision(pid)
    import_with_record(store, pid, staged.project, staged.record, tables=staged.record_tables, replace=True)
    assert store.revision(pid) == revision + 1
    assert_same_record(load_record(store, pid), record)


def test_a_bad_record_row_is_named_by_file_row_and_column_and_nothing_is_imported(source, tmp_path):
    _url, store, pid = source
    name, data, _ = export_project(store.load(pid), "bundle", name="Riverside", record=load_record(store, pid))
    archive = zipfile.ZipFile(io.BytesIO(data))
    ledger = pd.read_csv(archive.open("record/reciprocity.csv"), dtype=str, keep_default_na=False, encoding="utf-8-sig")
    ledger.loc[2, "stakeholder_id"] = "ghost"  # sheet row 4 (header is row 1)
    ledger.loc[5, "hours"] = "lots"  # sheet row 7
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as out:
        for member in archive.namelist():
            content = archive.read(member)
            if member == "record/reciprocity.csv":
                content = ledger.to_csv(index=False).encode("utf-8")
            out.writestr(member, content)
    path = tmp_path / "broken.zip"
    path.write_bytes(buffer.getvalue())
    with pytest.raises(ImportRejected) as caught:
        read_files([(path.name, path.read_bytes())])
    where = {(p.file, p.row, p.column) for p in caught.value.problems}
    assert ("broken.zip: record/reciprocity.csv", 4, "stakeholder_id") in where, where
    assert ("broken.zip: record/reciprocity.csv", 7, "hours") in where, where
    # the CLI refuses it whole: no project is left behind
    before = set(store.list_projects()["name"])
    assert cli.main(["import", "--db", _url, "--project", "Never made", str(path)]) == 1
    assert set(store.list_projects()["name"]) == before


def test_map_and_record_go_in_one_transaction(source):
    """A record the store refuses (a cycle the project does not have) takes the map import back with it."""
    _url, store, pid = source
    name, data, _ = export_project(store.load(pid), "json", name="Riverside", record=load_record(store, pid))
    staged = read_files([(name, data)])
    staged.record.actions.loc[0, "cycle"] = "Cycle 99"
    target = store.create_project("One transaction")
    revision = store.revision(target)
    with pytest.raises(ImportRejected) as caught:
        import_with_record(store, target, staged.project, staged.record, tables=staged.record_tables, replace=True)
    assert any("'Cycle 99'" in p.message for p in caught.value.problems)
    assert store.revision(target) == revision
    assert sum(store.load(target).counts().values()) == 0  # the map was not imported either
    assert sum(load_record(store, target).counts().values()) == 0


def test_the_cli_exports_and_imports_the_record(source, tmp_path):
    url, store, pid = source
    out = tmp_path / "backup.xlsx"
    assert cli.main(["export", "--db", url, "--project", pid, "--format", "xlsx", "--out", str(out)]) == 0
    assert cli.main(["import", "--db", url, "--project", "From the CLI", str(out)]) == 0
    copy = store.find_project("From the CLI")
    assert_same_record(load_record(store, copy), load_record(store, pid))
    assert_same_map(store.load(copy), store.load(pid))
    shared = tmp_path / "shared.zip"
    assert cli.main(["export", "--db", url, "--project", pid, "--format", "bundle", "--out", str(shared),
                     "--no-private"]) == 0
    names = zipfile.ZipFile(shared).namelist()
    assert "record/decisions.csv" in names and "record/needs.csv" not in names


def test_network_formats_carry_no_record(source):
    _url, store, pid = source
    record = load_record(store, pid)
    for fmt in ("kumu", "gephi", "graphml", "gexf"):
        _name, data, _ = export_project(store.load(pid), fmt, record=record)
        assert private_need(record).encode("utf-8") not in data
        assert b"record_decisions" not in data and b"record/decisions" not in data
