"""``Store.import_project(loaded=...)``: the project handed over after an import equals what ``load`` reads back,
and the quick column-at-a-time read behind ``load`` gives exactly what the row-by-row read gives."""

from __future__ import annotations

import pandas as pd
import pytest
import sqlalchemy as sa

from coprod_map import store as store_module
from coprod_map.errors import ImportRejected
from coprod_map.io.read import read_files
from coprod_map.model import TABLES, Project, ProjectSettings
from coprod_map.record import read_record_files
from coprod_map.record_store import import_with_record
from coprod_map.sample import load_sample, sample_files, sample_record_files, sample_settings
from coprod_map.store import Store


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request, tmp_path):
    """A store on a SQLite file, and (``-m postgres``) on a real PostgreSQL server."""
    url = f"sqlite:///{tmp_path / 'store.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    s = Store(url)
    yield s
    s.close()


def csv_bytes(rows: list[list[str]]) -> bytes:
    return "\r\n".join(",".join(row) for row in rows).encode("utf-8") + b"\r\n"


class Catcher:
    """The ``loaded`` callback: keeps every call, and what the database says at the moment of the call."""

    def __init__(self, store, project_id: str) -> None:
        self.store, self.project_id, self.calls = store, project_id, []

    def __call__(self, revision: int, project: Project) -> None:
        # already committed: a separate connection sees the new revision and the same project
        self.calls.append((revision, project, self.store.revision(self.project_id), self.store.load(self.project_id)))


def assert_same_project(handed: Project, loaded: Project) -> None:
    for table in TABLES:
        a, b = handed.table(table), loaded.table(table)
        assert list(a.columns) == list(b.columns), table
        pd.testing.assert_frame_equal(a, b, check_dtype=True, check_index_type=True, check_column_type=True)
        assert list(a.dtypes.astype(str)) == list(b.dtypes.astype(str))
    for column in ("roles", "experience", "speaks_for"):
        assert all(type(v) is list for v in handed.stakeholders[column])
    assert handed.settings == loaded.settings
    assert handed.name == loaded.name


def check_handoff(store, project_id: str, catcher: Catcher, revision: int) -> Project:
    assert len(catcher.calls) == 1
    given_revision, handed, revision_seen, loaded_then = catcher.calls[0]
    assert given_revision == revision == revision_seen == store.revision(project_id)
    loaded = store.load(project_id)
    assert_same_project(handed, loaded)
    assert_same_project(handed, loaded_then)
    return handed


def sample_into(store, name: str = "Riverside") -> tuple[str, Catcher, int]:
    """A fresh project with the sample's settings, then the sample imported with a catcher."""
    files = sample_files()
    settings = sample_settings(files)
    project_id = store.create_project(name, settings=settings)
    store.save_settings(project_id, settings)
    staged = read_files([(n, d) for n, d in files if n.endswith(".csv")])
    catcher = Catcher(store, project_id)
    revision = store.import_project(project_id, staged.project, replace=True, loaded=catcher)
    return project_id, catcher, revision


def test_fresh_import_of_the_sample_is_handed_over_as_load_reads_it(store):
    project_id, catcher, revision = sample_into(store)
    handed = check_handoff(store, project_id, catcher, revision)
    assert len(handed.stakeholders) == len(store.load(project_id).stakeholders) > 20
    assert set(handed.settings.attributes) <= set(handed.stakeholders.columns)


def test_merge_import_with_new_and_changed_rows_a_new_attribute_lists_and_blank_numbers(store):
    project_id = load_sample(store)
    before = store.load(project_id)
    first, second = before.stakeholders["id"].iloc[0], before.stakeholders["id"].iloc[1]
    people = pd.DataFrame({
        "id": [first, "N1", "N2"],
        "name": ["Renamed Person", "Zoë Ngữ 🌱", "  spaced  "],
        "kind": ["person", "person", "group"],
        "roles": [["carer", "volunteer"], [], ["tenants' group"]],
        "experience": [["lived", "professional"], ["lived"], []],
        "affected": [pd.NA, 2, pd.NA],
        "influence": [4, pd.NA, 1],
        "involvement": ["consulted", "", "informed"],
        "speaks_for": [[], ["young carers", "parents"], []],
        "notes": ["", "said \"yes\" | maybe", "ünïcode\tnote"],
        "housing": ["council", "", "private rent"],  # an attribute the project did not have
    })
    ties = pd.DataFrame({"id": ["RN1", "RN2", "RN3"], "source": [first, "N1", "N2"], "target": ["N1", second, first],
                         "type": ["knows", "a brand new type", "supports"], "direction": ["mutual", "", "directed"],
                         "strength": [pd.NA, 0.1 + 0.2, 3.0]})
    activity = before.activities["id"].iloc[0]
    taking_part = pd.DataFrame({"stakeholder_id": ["N1", "N2"], "activity_id": [activity, activity], "notes": ["", "x"]})
    catcher = Catcher(store, project_id)
    revision = store.import_project(project_id, Project(stakeholders=people, relationships=ties,
                                                        participation=taking_part), loaded=catcher)
    handed = check_handoff(store, project_id, catcher, revision)
    rows = handed.stakeholders.set_index("id")
    assert rows.loc[first, "name"] == "Renamed Person" and rows.loc[first, "roles"] == ["carer", "volunteer"]
    assert rows.loc["N1", "housing"] == "" and rows.loc["N2", "housing"] == "private rent"
    assert pd.isna(rows.loc["N2", "affected"]) and rows.loc["N1", "speaks_for"] == ["young carers", "parents"]
    assert list(handed.stakeholders["id"][-2:]) == ["N1", "N2"]  # new rows at the end, in their incoming order
    assert len(handed.stakeholders) == len(before.stakeholders) + 2
    assert handed.relationships.set_index("id").loc["RN2", "strength"] == 0.1 + 0.2
    # an attribute column the import did not send keeps its saved values on the changed row
    kept = [a for a in before.settings.attributes if a in before.stakeholders.columns][0]
    assert rows.loc[first, kept] == before.stakeholders.set_index("id").loc[first, kept]


def test_replace_import_is_handed_over_in_its_new_order(store):
    project_id = load_sample(store)
    before = store.load(project_id)
    people = before.stakeholders.iloc[::-1].head(10).reset_index(drop=True)
    ids = set(people["id"])
    ties = before.relationships.loc[before.relationships["source"].isin(ids) & before.relationships["target"].isin(ids)]
    taking_part = before.participation.loc[before.participation["stakeholder_id"].isin(ids)]
    incoming = Project(stakeholders=people, relationships=ties, activities=before.activities,
                       participation=taking_part, reference=before.reference)
    catcher = Catcher(store, project_id)
    revision = store.import_project(project_id, incoming, replace=True, loaded=catcher)
    handed = check_handoff(store, project_id, catcher, revision)
    assert list(handed.stakeholders["id"]) == list(people["id"])
    assert len(handed.participation) == len(taking_part)


def test_attendance_file_import_is_handed_over(store):
    project_id = load_sample(store)
    before = store.load(project_id)
    known = before.stakeholders["name"].iloc[0]
    data = csv_bytes([["Participant", "Session", "Date"], [known, "Drop-in café", "2025-09-01"],
                      ["Ada Newcomer", "Drop-in café", "2025-09-01"], ["Ada Newcomer", "Walk", "2025-09-08"]])
    staged = read_files([("attendance.csv", data)], existing=before)
    catcher = Catcher(store, project_id)
    revision = store.import_project(project_id, staged.project, loaded=catcher)
    handed = check_handoff(store, project_id, catcher, revision)
    assert len(handed.participation) == len(before.participation) + 3
    assert len(handed.activities) == len(before.activities) + 2


def test_import_with_record_passes_the_callback_through(store):
    files = sample_files()
    settings = sample_settings(files)
    project_id = store.create_project("With record", settings=settings)
    store.save_settings(project_id, settings)
    staged = read_files([(n, d) for n, d in files if n.endswith(".csv")])
    catcher = Catcher(store, project_id)
    revision = import_with_record(store, project_id, staged.project, read_record_files(sample_record_files()),
                                  replace=True, loaded=catcher)
    check_handoff(store, project_id, catcher, revision)
    other = Catcher(store, project_id)
    revision = import_with_record(store, project_id, staged.project, None, loaded=other)
    check_handoff(store, project_id, other, revision)


def test_a_refused_import_never_calls_back(store):
    project_id = load_sample(store)
    revision = store.revision(project_id)
    catcher = Catcher(store, project_id)
    ties = pd.DataFrame({"id": ["bad"], "source": ["nobody"], "target": ["no one"]})
    with pytest.raises(ImportRejected):
        store.import_project(project_id, Project(relationships=ties), loaded=catcher)
    assert catcher.calls == [] and store.revision(project_id) == revision


def test_a_rolled_back_import_never_calls_back(store):
    project_id = load_sample(store)
    revision = store.revision(project_id)
    catcher = Catcher(store, project_id)

    def then(conn, settings):
        raise RuntimeError("the record part failed")

    people = pd.DataFrame({"id": ["N9"], "name": ["Never saved"]})
    with pytest.raises(RuntimeError):
        store.import_project(project_id, Project(stakeholders=people), then=then, loaded=catcher)
    assert catcher.calls == [] and store.revision(project_id) == revision
    assert "N9" not in set(store.load(project_id).stakeholders["id"])


# --- the quick read behind load() against the row-by-row read ---------------------------------------------

def row_by_row_load(store, project_id: str, monkeypatch) -> Project:
    with monkeypatch.context() as patched:
        patched.setattr(store_module, "_concat_frame", lambda *args, **kwargs: None)
        return store.load(project_id)


def awkward_project() -> Project:
    people = pd.DataFrame({
        "id": ["007", "é", "a b", "x|y"],
        "name": ["Zoë 🌱", "é", "  lead space", "tab\there"],
        "kind": ["person", "group", "", "organisation"],
        "roles": [["a", "b c"], [], ["only"], []],
        "experience": [[], ["lived"], [], ["lived", "trained"]],
        "affected": [pd.NA, 0, 3, pd.NA], "influence": [5, pd.NA, 0, 1],
        "notes": ["line\nbreak", "", "'quote'", "NULL"],
        "area": ["North", "", "South", "North"], "age": ["", "", "", "18-24"],
    })
    ties = pd.DataFrame({"id": ["t1", "t2", "t3", "t4"], "source": ["007", "é", "a b", "x|y"],
                         "target": ["é", "a b", "x|y", "007"],
                         "strength": [pd.NA, 2.0, 0.1 + 0.2, 1e-300], "since": ["2024-01-01", "", "", ""]})
    activities = pd.DataFrame({"id": ["A", "B"], "title": ["Ünïcode", "B"], "date": ["2025-01-01", ""]})
    taking_part = pd.DataFrame({"stakeholder_id": ["007", "é", "é"], "activity_id": ["A", "A", "B"], "notes": ["", "n", ""]})
    reference = pd.DataFrame({"attribute": ["area", "area"], "category": ["North", "South"], "count": [10, pd.NA],
                              "share": [pd.NA, 1 / 3], "source": ["census", ""]})
    return Project(stakeholders=people, relationships=ties, activities=activities, participation=taking_part,
                   reference=reference)


def test_quick_read_equals_row_by_row_read_on_awkward_data(store, monkeypatch):
    project_id = store.create_project("Awkward", settings=ProjectSettings(attributes={"age": [], "unused": []}))
    catcher = Catcher(store, project_id)
    revision = store.import_project(project_id, awkward_project(), loaded=catcher)
    quick = check_handoff(store, project_id, catcher, revision)
    slow = row_by_row_load(store, project_id, monkeypatch)
    assert_same_project(quick, slow)
    assert list(quick.stakeholders.columns[-3:]) == ["age", "unused", "area"]  # settings order, then by name
    assert quick.relationships["strength"].tolist()[2] == 0.1 + 0.2  # a fraction: fetched exactly
    assert quick.stakeholders["unused"].tolist() == ["", "", "", ""]


def test_quick_read_of_empty_and_whole_number_tables(store, monkeypatch):
    project_id = store.create_project("Empty")
    assert_same_project(store.load(project_id), row_by_row_load(store, project_id, monkeypatch))
    people = pd.DataFrame({"id": ["s1", "s2"], "name": ["A", "B"]})
    ties = pd.DataFrame({"id": ["r1"], "source": ["s1"], "target": ["s2"], "strength": [4.0]})
    store.import_project(project_id, Project(stakeholders=people, relationships=ties))
    quick = store.load(project_id)
    assert_same_project(quick, row_by_row_load(store, project_id, monkeypatch))
    assert quick.relationships["strength"].tolist() == [4.0]


def test_a_value_holding_the_separator_falls_back_to_the_row_by_row_read(store, monkeypatch):
    """Control characters are refused on the way in; a database written by other means is still read exactly."""
    project_id = store.create_project("Odd")
    store.import_project(project_id, Project(stakeholders=pd.DataFrame({"id": ["s1", "s2"], "name": ["A", "B"]})))
    with store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE stakeholders SET notes = :n WHERE id = 's1'"), {"n": "a\x1fb"})
    quick = store.load(project_id)
    assert quick.stakeholders["notes"].tolist() == ["a\x1fb", ""]
    assert_same_project(quick, row_by_row_load(store, project_id, monkeypatch))


def test_attributes_placed_by_position_equal_the_pivot():
    stakeholders = pd.DataFrame({"id": pd.Series(["s1", "s2", "s3"], dtype=object)})
    attributes = pd.DataFrame({"stakeholder_id": ["s3", "s1", "s3", "s2"], "attribute": ["b", "b", "a", "name"],
                               "value": ["x", "y", None, "ignored: a core column"]}, dtype=object)
    settings = ProjectSettings(attributes={"c": [], "b": []})
    quick = store_module._with_attributes(stakeholders, attributes, settings)
    pivot = store_module._with_attributes_pivot(stakeholders, attributes, ["c", "b", "a"])
    pd.testing.assert_frame_equal(quick, pivot)
    assert quick.to_dict("list") == {"id": ["s1", "s2", "s3"], "c": ["", "", ""], "b": ["y", "", "x"], "a": ["", "", ""]}
    duplicated = pd.concat([attributes, attributes.head(1)], ignore_index=True)
    with pytest.raises(ValueError):  # as the pivot always did
        store_module._with_attributes(stakeholders, duplicated, settings)
