"""Erasure takes a category only the erased person held out of the settings, their history and snapshots."""

from __future__ import annotations

import json

import pandas as pd
import sqlalchemy as sa

from coprod_map.model import NOT_RECORDED, PREFER_NOT_TO_SAY, Project, normalise_frame
from coprod_map.privacy import ERASED, erase_person
from tests.unit.test_privacy import every_text

ANN_EMAIL = "ann.quill@example.org"
OTHER_EMAILS = ["bo@example.org", "cy.moss@example.org"]


def stakeholders(**columns: list[str]) -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    ids = [f"s{i}" for i in range(1, n + 1)]
    return normalise_frame("stakeholders", pd.DataFrame({"id": ids, "name": [f"Person {i}" for i in ids],
                                                         "kind": "person", **columns}))


def build(store) -> str:
    """Ann (s1) holds an email only she has, "65+" (only her, but the reference population lists it), an area she
    shares with Bo and a gender of "prefer not to say" (only her). Imported into a project with no attributes yet,
    so the import makes every distinct value a category."""
    people = stakeholders(contact=[ANN_EMAIL, *OTHER_EMAILS, NOT_RECORDED],
                          **{"age band": ["65+", "18-24", "18-24", "25-34"],
                             "area": ["Northgate", "Northgate", "Southside", ""],
                             "gender": [PREFER_NOT_TO_SAY, "woman", "man", "woman"]})
    reference = normalise_frame("reference", pd.DataFrame({
        "attribute": ["age band"] * 3, "category": ["18-24", "25-34", "65+"], "count": [40, 35, 25]}))
    pid = store.create_project("Categories")
    store.import_project(pid, Project(stakeholders=people, reference=reference))
    settings = store.load(pid).settings
    settings.attributes["gender"] = ["man", "woman", PREFER_NOT_TO_SAY, NOT_RECORDED]  # the special ones, by hand
    store.save_settings(pid, settings)
    return pid


def projects_history(store, pid: str) -> list[tuple[int, str | None, str | None]]:
    with store.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(
            "SELECT seq, old, new FROM changes WHERE project_id = :p AND table_name = 'projects' ORDER BY seq"),
            {"p": pid})]


def snapshot_data(store, pid: str) -> list[dict]:
    with store.engine.connect() as conn:
        return [json.loads(d) for (d,) in conn.execute(sa.text(
            "SELECT data FROM named_snapshots WHERE project_id = :p ORDER BY id"), {"p": pid})]


def current_settings(store, pid: str) -> dict:
    with store.engine.connect() as conn:
        return json.loads(conn.execute(sa.text("SELECT settings FROM projects WHERE id = :p"), {"p": pid}).scalar_one())


def settings_of(text: str | None) -> dict | None:
    """The settings a ``projects`` change row's JSON text holds (itself JSON text), parsed."""
    return None if text is None else json.loads(json.loads(text)["settings"])


def with_erased(settings: dict, attribute: str, values: set[str]) -> dict:
    """The expectation, worked out apart from the code: ``values`` of one attribute's list become one ERASED."""
    out = json.loads(json.dumps(settings))
    if attribute in out.get("attributes", {}):
        replaced = [ERASED if v in values else v for v in out["attributes"][attribute]]
        out["attributes"][attribute] = [v for i, v in enumerate(replaced) if v != ERASED or replaced.index(ERASED) == i]
    return out


def test_erasure_removes_a_category_only_the_person_held(any_store):
    store = any_store
    pid = build(store)
    before = store.load(pid).settings.attributes
    assert before["contact"] == [ANN_EMAIL, *OTHER_EMAILS]  # the import made every email a category
    store.take_snapshot(pid, "Before the erasure")
    history_before = projects_history(store, pid)
    snapshot_before = snapshot_data(store, pid)[0]
    assert ANN_EMAIL in json.dumps(history_before) and ANN_EMAIL in snapshot_before["settings"]

    erase_person(store, pid, "s1")

    # the current settings: her email gone, everything else kept (hand-worked expectation)
    after = store.load(pid).settings.attributes
    assert after["contact"] == OTHER_EMAILS
    assert after["age band"] == before["age band"] == ["18-24", "25-34", "65+"]  # "65+": the reference lists it
    assert after["area"] == before["area"] == ["Northgate", "Southside"]  # "Northgate": Bo holds it too
    assert after["gender"] == ["man", "woman", PREFER_NOT_TO_SAY, NOT_RECORDED]  # the special categories stay
    assert ANN_EMAIL not in json.dumps(current_settings(store, pid))

    # history: her email is in no projects row; each row is as it was but for that one value
    history_after = projects_history(store, pid)
    assert ANN_EMAIL not in json.dumps(history_after)
    assert all(e in json.dumps(history_after) for e in OTHER_EMAILS)
    old_rows = {seq: (old, new) for seq, old, new in history_before}
    for seq, old, new in history_after:
        if seq not in old_rows:
            continue  # the erasure's own row: looked at below
        for was, now in zip(old_rows[seq], (old, new), strict=True):
            if was is None:
                assert now is None
                continue
            assert {k: v for k, v in json.loads(now).items() if k != "settings"} == \
                   {k: v for k, v in json.loads(was).items() if k != "settings"}
            assert settings_of(now) == with_erased(settings_of(was), "contact", {ANN_EMAIL})
    imported = settings_of(history_before[0][2])  # the import's row: the settings it made
    assert imported["attributes"]["contact"] == [ANN_EMAIL, *OTHER_EMAILS]
    assert settings_of(history_after[0][2])["attributes"]["contact"] == [ERASED, *OTHER_EMAILS]

    # the snapshot taken before: its settings lose the email the same way, the rest of them unchanged
    snapshot_after = snapshot_data(store, pid)[0]
    assert ANN_EMAIL not in json.dumps(snapshot_after)
    assert json.loads(snapshot_after["settings"]) == with_erased(json.loads(snapshot_before["settings"]),
                                                                 "contact", {ANN_EMAIL})
    assert json.loads(snapshot_after["settings"])["attributes"]["age band"] == ["18-24", "25-34", "65+"]
    assert ANN_EMAIL not in every_text(store)  # anywhere in the database at all

    # one audit entry, the erasure's; its settings row belongs to it (none left waiting for the next action)
    actions = store.history(pid)
    assert actions["kind"].tolist().count("erase") == 1 and actions.iloc[0]["kind"] == "erase"
    assert actions.iloc[0]["summary"].startswith("a person was erased")
    assert ANN_EMAIL not in actions.to_json()
    with store.engine.connect() as conn:
        waiting = conn.execute(sa.text("SELECT COUNT(*) FROM changes WHERE project_id = :p AND action_id IS NULL"),
                               {"p": pid}).scalar_one()
        erase_rows = conn.execute(sa.text(
            "SELECT c.old, c.new FROM changes c JOIN actions a ON a.id = c.action_id "
            "WHERE c.project_id = :p AND c.table_name = 'projects' AND a.kind = 'erase'"), {"p": pid}).all()
    assert waiting == 0
    assert len(erase_rows) == 1
    assert settings_of(erase_rows[0][0])["attributes"]["contact"] == [ERASED, *OTHER_EMAILS]
    assert settings_of(erase_rows[0][1])["attributes"]["contact"] == OTHER_EMAILS
    store.rename_project(pid, "Categories renamed")  # the next action holds only its own change
    assert store.history(pid).iloc[0]["summary"].count("changed") == 1

    # a snapshot restores with its [erased] category (a new project; the map is valid)
    restored = store.restore_snapshot(pid, int(store.snapshots(pid)["id"].iloc[0]), "Restored")
    assert store.load(restored).settings.attributes["contact"] == [ERASED, *OTHER_EMAILS]


def test_erasing_a_person_holding_only_shared_categories_leaves_the_settings_alone(any_store):
    store = any_store
    pid = build(store)
    settings_before, history_before = current_settings(store, pid), projects_history(store, pid)
    erase_person(store, pid, "s4")  # Dee: "not recorded", "25-34" (the reference lists it), "", "woman" (shared)
    assert current_settings(store, pid) == settings_before
    # the erasure wrote no settings: no projects row, and its summary says nothing about settings
    assert projects_history(store, pid) == history_before
    assert store.history(pid).iloc[0]["kind"] == "erase"
    assert "settings" not in store.history(pid).iloc[0]["summary"]


def test_escaped_values_and_two_erasures_leave_one_erased_category(any_store):
    """A value JSON escapes (quotes, a backslash, non-ASCII) is found too; two erased categories become one."""
    store = any_store
    odd = 'Zoë "Z" O\'Neil \\ carer'
    people = stakeholders(**{"carer of": [odd, "Pat Lee", "Sam Ode", "Sam Ode"]})
    pid = store.create_project("Carers")
    store.import_project(pid, Project(stakeholders=people))
    store.take_snapshot(pid, "Before")
    taken = snapshot_data(store, pid)[0]
    reordered = {"tables": taken["tables"], "settings": taken["settings"], "name": "Reordered"}  # keys in another order
    with store.engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO named_snapshots (project_id, name, taken_at, actor, data) "
                             "VALUES (:p, 'Reordered', '2026-01-01T00:00:00+00:00', 'test', :d)"),
                     {"p": pid, "d": json.dumps(reordered)})  # ASCII-escaped, as another writer might
    erase_person(store, pid, "s1")
    erase_person(store, pid, "s2")
    assert store.load(pid).settings.attributes["carer of"] == ["Sam Ode"]
    for _, old, new in projects_history(store, pid):
        for text in (old, new):
            lists = settings_of(text)["attributes"] if text else {}
            assert odd not in lists.get("carer of", []) and "Pat Lee" not in lists.get("carer of", [])
            assert lists.get("carer of", []).count(ERASED) <= 1
    import_new = settings_of(projects_history(store, pid)[0][2])
    assert import_new["attributes"]["carer of"] == [ERASED, "Sam Ode"]
    for data in snapshot_data(store, pid):
        assert json.loads(data["settings"])["attributes"]["carer of"] == [ERASED, "Sam Ode"]
    assert snapshot_data(store, pid)[1]["name"] == "Reordered" and list(snapshot_data(store, pid)[1]) == list(reordered)
