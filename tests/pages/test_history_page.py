"""The History page run by AppTest against a real SQLite file."""

from __future__ import annotations

import json
import re

import pandas as pd

from tests.pages._helpers import make_store, page, texts


def test_history_page_lists_changes_and_undoes(sqlite_url, monkeypatch):
    store, pid = make_store(sqlite_url, monkeypatch)
    row = store.load(pid).stakeholders.iloc[[0]].assign(name="Ann Renamed")
    store.apply_edits(pid, "stakeholders", upserts=row)
    at = page("history", pid)
    assert not at.exception
    assert at.title[0].value == "History"
    shown = at.dataframe[0].value
    assert shown["summary"].iloc[0] == "1 stakeholder changed (name)" and "Ann Renamed" not in shown.to_string()
    assert at.metric[0].value == "3"  # stakeholders today
    at.button[0].click().run()  # Undo the last change
    assert not at.exception
    assert "undone" in texts(at)
    assert store.load(pid).stakeholders["name"].iloc[0] == "Ann"


def test_refused_revert_and_erase_explain_why(sqlite_url, monkeypatch):
    store, pid = make_store(sqlite_url, monkeypatch)
    first = store.load(pid).stakeholders.iloc[[0]].assign(influence=3)
    store.apply_edits(pid, "stakeholders", upserts=first)
    entry = int(store.history(pid)["id"].iloc[0])
    store.apply_edits(pid, "stakeholders", upserts=first.assign(influence=4))
    at = page("history", pid)
    at.selectbox(key="history_revert_entry").set_value(entry).run()
    at.button[1].click().run()
    assert "stakeholder 's1' was changed again" in texts(at)
    at.selectbox(key="history_erase_id").set_value("s1").run()
    at.text_input(key="history_erase_confirm").set_value("s2").run()
    next(b for b in at.button if b.label == "Erase this person").click().run()
    assert "type the stakeholder" in texts(at) and "s1" in set(store.load(pid).stakeholders["id"])


def test_snapshot_taken_from_the_page(sqlite_url, monkeypatch):
    store, pid = make_store(sqlite_url, monkeypatch)
    at = page("history", pid)
    at.text_input(key="history_snapshot_name").set_value("Before workshop").run()
    next(b for b in at.button if b.label == "Take snapshot").click().run()
    assert not at.exception and store.snapshots(pid)["name"].tolist() == ["Before workshop"]


def test_time_travel_shows_figures_and_network_as_they_were(sqlite_url, monkeypatch):
    from datetime import date

    from coprod_map import store as store_module
    from coprod_map.analysis.network import metrics_table

    today = ["2026-01-05T10:00:00+00:00"]
    monkeypatch.setattr(store_module, "_now", lambda: today[0])
    store, pid = make_store(sqlite_url, monkeypatch)
    settings = store.load(pid).settings
    settings.min_cell = 1  # a tiny project: show every figure
    store.save_settings(pid, settings)
    january = store.load(pid)
    today[0] = "2026-02-10T09:00:00+00:00"
    store.apply_edits(pid, "participation", deletes=[("s1", "a1")])
    store.apply_edits(pid, "relationships", deletes=["r1"])
    at = page("history", pid)
    at.date_input(key="history_view_date").set_value(date(2026, 1, 31)).run()
    assert not at.exception
    # counts as they were in January (hand count: 3 people, 1 tie, 1 activity, 2 participation records)
    assert [m.value for m in at.metric[:4]] == ["3", "1", "1", "2"]
    frames = [d.value for d in at.dataframe]
    network = next(f for f in frames if "measure" in f.columns).set_index("measure")["value"]
    assert network["Ties"] == 1 and network["Stakeholders with no ties"] == 1  # the Council had no tie
    metrics = next(f for f in frames if "betweenness" in f.columns)
    pd.testing.assert_frame_equal(metrics.reset_index(drop=True), metrics_table(january))
    # register mode (no reference): everyone is affected; in January Ann (16-24) and the youth club (25-64) took part
    gaps = next(f for f in frames if "Group" in f.columns).set_index("Group")
    assert gaps.loc["16-24", "Involved (number)"] == 1 and gaps.loc["16-24", "Gap (points)"] == 0.0
    assert at.get("iframe")[0].proto.src.startswith("data:text/html;base64,")
    # compare January with today, side by side: Ann's participation and the tie went
    at.date_input(key="history_compare_from").set_value(date(2026, 1, 31)).run()
    assert "At the end of 2026-01-31" in texts(at)
    frames = [d.value for d in at.dataframe]
    sides = [f.set_index("Group") for f in frames if "Group" in f.columns][1:]
    assert [int(side.loc["16-24", "Involved (number)"]) for side in sides] == [1, 0]
    assert sides[1].loc["16-24", "Gap (points)"] == -50.0  # involved 0 of 1 known vs affected 1 of 2
    diff = next(f for f in frames if "how many" in f.columns).set_index("what")["how many"]
    assert diff["ties removed"] == 1 and diff["participation removed"] == 1 and diff["stakeholders removed"] == 0


def test_erase_on_a_big_map_takes_the_id_typed(sqlite_url, monkeypatch):
    store, pid = make_store(sqlite_url, monkeypatch)
    n = 2001  # over the page's pick-list limit: no list of every name is sent
    people = pd.DataFrame({"id": [f"p{i}" for i in range(n)], "name": [f"Person {i}" for i in range(n)],
                           "kind": "person"})
    store.import_project(pid, _with_people(store.load(pid), people))
    at = page("history", pid)
    assert not at.exception
    assert not [s for s in at.selectbox if s.key == "history_erase_id"]
    at.text_input(key="history_erase_id").set_value("nobody").run()
    assert "No stakeholder has that id." in texts(at)
    at.text_input(key="history_erase_id").set_value(" p7 ").run()
    assert "That is Person 7." in texts(at)
    at.text_input(key="history_erase_confirm").set_value("p7").run()
    next(b for b in at.button if b.label == "Erase this person").click().run()
    assert not at.exception and "erased" in texts(at)
    left = set(store.load(pid).stakeholders["id"])
    assert "p7" not in left and {"p6", "p8", "s1"} <= left


def _with_people(project, people: pd.DataFrame):
    from coprod_map.model import Project, normalise_frame

    both = pd.concat([project.stakeholders, normalise_frame("stakeholders", people)], ignore_index=True)
    return Project(stakeholders=normalise_frame("stakeholders", both), relationships=project.relationships,
                   activities=project.activities, participation=project.participation, reference=project.reference,
                   settings=project.settings)


def test_long_tables_show_their_first_rows_and_offer_the_rest():
    from streamlit.testing.v1 import AppTest

    def script():
        import pandas as pd

        from coprod_map.ui.widgets import long_table

        frame = pd.DataFrame({"name": ["=1+1", *[f"row {i}" for i in range(29)]], "count": range(30)})
        long_table(frame, key="t_csv", file_name="t.csv", limit=10)
        long_table(frame.head(5), key="short_csv", file_name="s.csv", limit=10)

    at = AppTest.from_function(script).run()
    assert not at.exception
    assert [len(d.value) for d in at.dataframe] == [10, 5]
    assert "The table shows the first 10 of 30 rows; download them all below." in texts(at)
    assert len(at.get("download_button")) == 1  # the short table needs none


def test_details_of_a_big_entry_show_the_first_rows_the_total_and_a_download(sqlite_url, monkeypatch):
    import io

    from coprod_map.model import normalise_frame
    from coprod_map.ui import history_cache

    store, pid = make_store(sqlite_url, monkeypatch)
    n = 12  # twelve new people, each taking part in the first workshop: 12 + 12 rows, over a limit of 10
    people = pd.DataFrame({"id": [f"p{i}" for i in range(n)], "name": [f"Person {i}" for i in range(n)],
                           "kind": "person"})
    project = _with_people(store.load(pid), people)
    project.participation = normalise_frame("participation", pd.concat([
        project.participation, pd.DataFrame({"stakeholder_id": people["id"], "activity_id": "a1"})], ignore_index=True))
    store.import_project(pid, project)
    entry = int(store.history(pid)["id"].iloc[0])
    every = store.changes(pid, entry)
    assert len(every) == 2 * n and (every["table_name"] == "participation").sum() == n  # hand count
    monkeypatch.setattr(history_cache, "DETAIL_ROWS", 10)
    at = page("history", pid)
    at.selectbox(key="history_detail_entry").set_value(entry).run()
    assert not at.exception
    shown = next(d.value for d in at.dataframe if "before" in d.value.columns)
    assert len(shown) == 10
    assert shown["row"].tolist() == every["key"].head(10).tolist()  # the first rows, oldest first
    assert "This entry changed 24 rows. The table shows the first 10; download them all below" in texts(at)
    assert [b.proto.label for b in at.get("download_button")] == ["Download every row of this entry (CSV)"]
    # the download (deferred: built when clicked) holds every row, in the order shown
    whole = pd.read_csv(io.BytesIO(history_cache.entry_csv(pid, entry, False)()), dtype=str, keep_default_na=False)
    assert len(whole) == 2 * n and whole["row"].head(10).tolist() == shown["row"].tolist()
    assert sorted(whole.loc[whole["table"] == "participation", "row"]) == sorted(f"p{i} / a1" for i in range(n))
    # a small entry (the first import; hand count 3 people, 2 attribute values, 1 activity, 1 tie, 2 participation
    # records): all its rows and how many, no download
    at.selectbox(key="history_detail_entry").set_value(int(store.history(pid)["id"].iloc[-2])).run()
    shown = next(d.value for d in at.dataframe if "before" in d.value.columns)
    assert len(shown) == 9 and "This entry changed 9 rows." in texts(at) and not at.get("download_button")


# --- the map as it was and two dates compared, in words (the frames and downloads keep ids and codes) -------------

SNAKE = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")  # age_band, community_asset, speaks_basis, stakeholder_id


def _shown(d) -> tuple[list[str], str]:
    """What a table puts on screen: each heading as its column_config labels it, and its cells as text."""
    config = json.loads(d.proto.columns or "{}")
    heads = [(config.get(str(c)) or {}).get("label") or str(c) for c in d.value.columns]
    return heads, d.value.astype(str).to_csv(index=False, header=False)


def test_past_map_gap_and_compared_tables_show_no_snake_case_code(sqlite_url, monkeypatch):
    from datetime import date

    from coprod_map import store as store_module
    from coprod_map.model import (
        BASES,
        DIRECTIONS,
        EXPERIENCES,
        INVOLVEMENT_LEVELS,
        KINDS,
        Project,
        ProjectSettings,
        normalise_frame,
    )
    from coprod_map.store import Store

    today = ["2026-01-05T10:00:00+00:00"]
    monkeypatch.setattr(store_module, "_now", lambda: today[0])
    monkeypatch.setenv("COPROD_MAP_DB", sqlite_url)
    store = Store(sqlite_url)
    settings = ProjectSettings(attributes={"age_band": ["16-24", "65+"], "home_area": ["north", "south"]}, min_cell=1)
    pid = store.create_project("Codes test", settings=settings)
    store.import_project(pid, Project(
        stakeholders=normalise_frame("stakeholders", pd.DataFrame({
            "id": ["s1", "s2", "s3"], "name": ["Ann", "Park", "Bo"], "kind": ["person", "community_asset", "person"],
            "involvement": ["co_producing", "not_involved", "informed"], "speaks_basis": ["lived_experience", "", ""],
            "experience": [["lived"], [], []], "affected": [3, 2, 1],
            "age_band": ["16-24", "", "65+"], "home_area": ["north", "south", "north"]})),
        relationships=normalise_frame("relationships", pd.DataFrame({
            "id": ["r1"], "source": ["s1"], "target": ["s2"], "type": ["knows"], "direction": ["mutual"]})),
        activities=normalise_frame("activities", pd.DataFrame({"id": ["a1"], "title": ["Walk"], "date": ["2026-01-02"]})),
        participation=normalise_frame("participation", pd.DataFrame({"stakeholder_id": ["s1", "s3"],
                                                                     "activity_id": ["a1", "a1"]})),
        settings=settings))
    today[0] = "2026-02-10T09:00:00+00:00"
    store.apply_edits(pid, "participation", deletes=[("s1", "a1")])
    at = page("history", pid)
    at.date_input(key="history_view_date").set_value(date(2026, 1, 31)).run()
    at.date_input(key="history_compare_from").set_value(date(2026, 1, 31)).run()
    assert not at.exception
    tables = {  # by the ids the frames keep (what the old page showed as headings)
        "people as they were": lambda cols: "speaks_basis" in cols,
        "ties as they were": lambda cols: "direction" in cols,
        "gaps as they were": lambda cols: "Attribute" in cols,
        "participation removed since": lambda cols: cols == {"stakeholder_id", "activity_id"},
        "how many rows each table held": lambda cols: cols == {"table", "rows"},
    }
    for name, match in tables.items():
        found = [d for d in at.dataframe if match(set(map(str, d.value.columns)))]
        assert found, name
        for d in found:
            heads, cells = _shown(d)
            assert not [h for h in heads if SNAKE.search(h)], (name, heads)
            assert not SNAKE.findall(cells), (name, SNAKE.findall(cells))
            assert all(h[:1].isupper() for h in heads), (name, heads)
    # the check bites: what the old page showed (the frames' column ids, the codes) is snake_case
    people = next(d.value for d in at.dataframe if "speaks_basis" in d.value.columns)
    raw = store.state_at(pid, when="2026-01-31").stakeholders
    assert SNAKE.search(" ".join(people.columns)) and SNAKE.findall(" ".join(raw["kind"]) + " ".join(raw["involvement"]))
    # the cells are the model's words for the codes saved (not what a format function draws: a screen reader reads
    # the cells)
    assert people["kind"].tolist() == [KINDS[k] for k in raw["kind"]]
    assert people["involvement"].tolist() == [INVOLVEMENT_LEVELS[k] for k in raw["involvement"]]
    assert people["speaks_basis"].tolist() == [BASES.get(k, k) for k in raw["speaks_basis"]]
    assert people["experience"].tolist() == [", ".join(EXPERIENCES[code] for code in codes)
                                             for codes in raw["experience"]]  # a list of codes: its items in words
    ties = next(d.value for d in at.dataframe if "direction" in d.value.columns)
    assert ties["direction"].tolist() == [DIRECTIONS["mutual"]]
    gaps = next(d.value for d in at.dataframe if "Attribute" in d.value.columns)
    assert set(gaps["Attribute"]) == {"Age band", "Home area"}
    bars = json.loads(at.get("plotly_chart")[0].proto.spec)["data"]
    labels = {y for trace in bars if trace.get("type") == "bar" for y in trace["y"]}
    assert "Age band: 16-24" in labels and not any("age_band" in y for y in labels), labels
    store.close()
