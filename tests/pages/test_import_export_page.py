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


KUMU_TIES = b"From,To,Type\nAnn,Youth club,knows\nYouth club,Bea,works with\n"


def test_replacing_reads_names_afresh_and_merging_matches_saved_people(app):
    """A Kumu connections sheet naming saved people: a merge ties them to the saved ids; a replace deletes what is
    saved, so its names make new people (they once resolved to saved ids the replace deleted, and it was refused)."""
    store, project_id = app
    at = page("import_export", project_id)
    at.file_uploader[0].upload("ties.csv", KUMU_TIES, "text/csv").run()
    next(r for r in at.radio if r.label == "How to import").set_value("replace").run()
    next(c for c in at.checkbox).check().run()
    assert not _import_button(at).disabled
    _import_button(at).click().run()
    assert not at.exception
    saved = store.load(project_id)
    assert sorted(saved.stakeholders["name"]) == ["Ann", "Bea", "Youth club"]
    assert not set(saved.stakeholders["id"]) & {"s1", "s2", "s3"}  # all new: nothing saved was kept
    names = saved.stakeholders.set_index("id")["name"]
    assert sorted(zip(names[saved.relationships["source"]], names[saved.relationships["target"]], strict=True)) == [
        ("Ann", "Youth club"), ("Youth club", "Bea")]


def test_merging_a_kumu_sheet_ties_saved_people_by_name(app):
    store, project_id = app
    at = page("import_export", project_id)
    at.file_uploader[0].upload("ties.csv", KUMU_TIES, "text/csv").run()
    _import_button(at).click().run()
    assert not at.exception
    saved = store.load(project_id)
    ids = saved.stakeholders.set_index("name")["id"]
    assert ids["Ann"] == "s1" and ids["Youth club"] == "s2" and len(saved.stakeholders) == 4  # only Bea is new
    pairs = set(zip(saved.relationships["source"], saved.relationships["target"], strict=True))
    assert {("s1", "s2"), ("s2", ids["Bea"])} <= pairs
    assert "added: Bea" in texts(at)  # the notice names who was added


THEIRS = b"Ref,Full name,Sort,Stage,Postcode\nc1,Allotment society,group,consulted,AB1\nc2,Bea,person,informed,AB2\n"
THEIRS_LATER = b"Ref,Full name,Sort,Stage,Postcode\nc3,Tenants forum,group,involved,AB3\n"
MATCH = {"Ref": "id", "Full name": "name", "Sort": "kind", "Stage": "involvement", "Postcode": ""}


def _match_box(at, header):
    return next(s for s in at.selectbox if s.label == header and s.key and s.key.startswith("map_"))


def test_column_matches_are_saved_by_name_and_used_for_a_later_file(app):
    store, project_id = app
    at = page("import_export", project_id)
    at.file_uploader[0].upload("council list.csv", THEIRS, "text/csv").run()
    assert not at.exception
    assert _import_button(at).disabled  # their headers mean nothing to coprod_map yet
    for header, ours in MATCH.items():
        _match_box(at, header).set_value(ours or "(leave this column out)")
    at.run()
    assert not _import_button(at).disabled
    next(t for t in at.text_input if t.label == "Name for this column match").input("Council list")
    next(b for b in at.button if b.label == "Save column match").click().run()
    assert not at.exception
    assert store.project_info(project_id).settings.column_maps == {"Council list": MATCH}
    assert "Saved the column match 'Council list'" in texts(at)
    _import_button(at).click().run()
    saved = store.load(project_id).stakeholders.set_index("id")
    assert saved.loc["c1", "name"] == "Allotment society" and "Postcode" not in saved.columns

    # a new session, a later file with the same headers: choose the saved match, nothing typed by hand
    at = page("import_export", project_id)
    at.file_uploader[0].upload("council list may.csv", THEIRS_LATER, "text/csv").run()
    assert _import_button(at).disabled
    next(s for s in at.selectbox if s.label == "Use a saved column match").set_value("Council list").run()
    assert not at.exception
    assert {h: _match_box(at, h).value for h in MATCH} == {h: v or "(leave this column out)" for h, v in MATCH.items()}
    assert not _import_button(at).disabled
    _import_button(at).click().run()
    saved = store.load(project_id).stakeholders.set_index("id")
    assert saved.loc["c3", "name"] == "Tenants forum" and saved.loc["c3", "involvement"] == "involved"


def test_a_column_match_needs_a_name(app):
    store, project_id = app
    before = store.revision(project_id)
    at = page("import_export", project_id)
    at.file_uploader[0].upload("council list.csv", THEIRS, "text/csv").run()
    _match_box(at, "Ref").set_value("id").run()
    next(b for b in at.button if b.label == "Save column match").click().run()
    assert "Type a name for the column match first" in texts(at)
    assert store.revision(project_id) == before and store.project_info(project_id).settings.column_maps == {}
