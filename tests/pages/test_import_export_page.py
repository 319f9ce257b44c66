"""The Import and export page: uploads are checked and imported in one step; bad files change nothing."""

from __future__ import annotations

import pytest

from tests.pages._helpers import make_store, page, texts


@pytest.fixture
def app(sqlite_url, monkeypatch):
    store, project_id = make_store(sqlite_url, monkeypatch)
    yield store, project_id
    store.close()


GOOD = b"id,name,kind,involvement\ns10,Allotment society,group,consulted\ns11,Bea,person,informed\n"
BAD = b"id,name,kind,involvement\ns12,Dup,person,consulted\ns12,Dup again,martian,consulted\n"


def _import_button(at):
    return next(b for b in at.button if b.label == "Import")


def test_page_offers_every_export_format_and_the_templates(app):
    from coprod_map.io.export import FORMATS

    _, project_id = app
    at = page("import_export", project_id)
    assert not at.exception
    labels = [d.label for d in at.get("download_button")] if at.get("download_button") else []
    assert len(labels) == len(FORMATS) + 1, labels
    assert labels.count("Download XLSX") == 2  # the Excel workbook and the Kumu workbook


def test_a_good_upload_is_previewed_then_imported(app):
    store, project_id = app
    at = page("import_export", project_id)
    at.file_uploader[0].upload("more people.csv", GOOD, "text/csv").run()
    assert not at.exception
    assert any(d.value["name"].tolist()[:2] == ["Allotment society", "Bea"] for d in at.dataframe), "preview"
    assert store.load(project_id).counts()["stakeholders"] == 3  # nothing saved before Import
    _import_button(at).click().run()
    assert not at.exception
    saved = store.load(project_id).stakeholders.set_index("id")
    assert len(saved) == 5 and saved.loc["s10", "name"] == "Allotment society"
    assert "Imported 2 stakeholders" in texts(at)


def test_a_bad_upload_shows_its_problems_and_changes_nothing(app):
    store, project_id = app
    before = store.revision(project_id)
    at = page("import_export", project_id)
    at.file_uploader[0].upload("bad.csv", BAD, "text/csv").run()
    assert not at.exception
    problems = next(d.value for d in at.dataframe if "what to fix" in d.value.columns)
    assert set(problems["file"]) == {"bad.csv"}
    assert problems["what to fix"].str.contains("martian").any()
    assert 3 in problems["row"].tolist()  # the second data row: header is row 1
    assert _import_button(at).disabled
    assert store.revision(project_id) == before


def test_replace_needs_confirmation(app):
    store, project_id = app
    at = page("import_export", project_id)
    at.file_uploader[0].upload("people.csv", GOOD, "text/csv").run()
    next(r for r in at.radio if r.label == "How to import").set_value("replace").run()
    assert _import_button(at).disabled
    next(c for c in at.checkbox).check().run()
    _import_button(at).click().run()
    assert not at.exception
    assert sorted(store.load(project_id).stakeholders["id"]) == ["s10", "s11"]
