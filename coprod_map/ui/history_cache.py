"""The History page's Streamlit side: cached history and earlier states, and the actions as callbacks.

Cached values are keyed on ``(project_id, revision, ...)`` like every other cache (``coprod_map.ui.cache``):
an undo moves the revision on, so nothing shown is stale. Actions run as widget callbacks, write one
change through the store and leave a message for the page to show once.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import streamlit as st

from coprod_map.errors import CoprodError
from coprod_map.labels import COLUMN_LABELS, MEASURE_HEADINGS, TABLE_LABELS
from coprod_map.model import BASES, DIRECTIONS, EXPERIENCES, INVOLVEMENT_LEVELS, KINDS, Project
from coprod_map.ui.auth import actor, allowed, make_owner
from coprod_map.ui.state import set_project, store
from coprod_map.ui.widgets import SHOWN_ROWS, headings, plain_heading, show_once

__all__ = ["CELL_WORDS", "DETAIL_ROWS", "actions_table", "can_see_private", "compared",
           "counts_table", "entry_csv", "entry_details", "entry_size", "erase", "figures_at", "map_columns",
           "measure_columns", "network_at", "purge", "restore", "revert", "say", "set_retention", "show_message",
           "snapshot", "state_at", "undo", "worded_gaps"]

_MESSAGE = "_history_message"

#: the most rows of one entry "Details of an entry" builds and shows (an import holds millions: building every
#: row costs about a second per million); the whole list is a download
DETAIL_ROWS = SHOWN_ROWS


def can_see_private() -> bool:
    """Whether this session shows private values in history: the record page's rule (the membership allows it
    and the person switched private fields on)."""
    try:
        from coprod_map.ui.record_cache import can_see_private as record_rule
    except ImportError:  # the record page's rule is the one rule; without it, private values stay hidden
        return False
    return bool(record_rule())


@st.cache_data(max_entries=16, show_spinner=False)
def actions_table(project_id: str, revision: int) -> pd.DataFrame:
    """The audit trail in the page's words (never values)."""
    del revision
    frame = store().history(project_id)
    shown = pd.DataFrame({
        "entry": frame["id"], "when": frame["at"].str.replace("T", " ").str[:16], "who": frame["actor"],
        "what": frame["kind"], "summary": frame["summary"], "fields": frame["fields"].map(", ".join),
        "taken back": frame["undone_by"].map(lambda v: "" if v is pd.NA else f"by entry {v}"),
    })
    return shown


@st.cache_data(max_entries=8, show_spinner="Reading the entry...")
def entry_details(project_id: str, revision: int, entry: int, private: bool, limit: int) -> tuple[pd.DataFrame, int]:
    """The first ``limit`` rows an entry changed, as the page lists them (``history.details_table``), and how many
    rows it changed in all. ``private``: whether private values show (``can_see_private``)."""
    from coprod_map.history import details_table

    del revision
    rows = store().changes(project_id, int(entry), can_see_private=private, limit=int(limit))
    return details_table(rows), entry_size(project_id, int(entry))


def entry_size(project_id: str, entry: int) -> int:
    """How many rows an entry changed, counted without building them."""
    return store().change_count(project_id, int(entry))


#: rows of an entry put into the CSV download at a time (the memory of one window, not of the whole entry)
CSV_ROWS = 100_000


def entry_csv(project_id: str, entry: int, private: bool) -> Callable[[], bytes]:
    """Every row an entry changed as a CSV, built only when asked for (a download button's deferred data: it runs
    outside the page's run, so the store is taken now).

    Built a window of ``CSV_ROWS`` rows at a time, from the rows as text (``Store.changes(text=True)``): a 2,000,000
    row import used to need 3 GB of dicts at once. The bytes equal ``table_csv(details_table(changes))``: only the
    ``row`` column (ids people typed) can start like a formula; the others are fixed words, or a dict's text
    starting with ``{``, or blank."""
    from coprod_map.history import details_table
    from coprod_map.io.export import csv_bytes

    db = store()

    def build() -> bytes:
        out, offset, header = io.BytesIO(), 0, b""
        while True:
            rows = db.changes(project_id, int(entry), can_see_private=private, limit=CSV_ROWS, offset=offset, text=True)
            table = details_table(rows)
            part = csv_bytes(table, numeric=[c for c in table.columns if c != "row"])
            if not offset:
                header = csv_bytes(table.iloc[:0], numeric=list(table.columns))
            elif part.startswith(header):
                part = part[len(header):]
            out.write(part)
            if len(rows) < CSV_ROWS:
                return out.getvalue()
            offset += CSV_ROWS

    return build


def state_at(project_id: str, revision: int, when: str) -> Project:
    """The project as it was at the end of ``when`` (shared, read-only). From today (UTC, as changes are
    stamped) on, that is the project as it is: the one every page shares, not a replay of the history."""
    if when >= datetime.now(UTC).date().isoformat():
        from coprod_map.ui.cache import load_project

        return load_project(project_id, revision)
    return _replayed(project_id, revision, when)


@st.cache_resource(max_entries=8, show_spinner="Rebuilding the map as it was...")
def _replayed(project_id: str, revision: int, when: str) -> Project:
    del revision
    return store().state_at(project_id, when=when)


@st.cache_resource(max_entries=16, show_spinner="Working out the figures as they were...")
def figures_at(project_id: str, revision: int, when: str) -> dict[str, object]:
    """The headline representation figures and network measures of the map as it was at the end of ``when``:
    ``counts``, ``gaps`` (suppressed gap table, every attribute), ``gap_mode``, ``metrics``, ``network``
    (the headline network figures in words and numbers). Shared and read-only: never mutate.

    Brokerage is left blank on maps too big to measure it exactly, as on the Relationships page (an estimate
    there takes about 10 s at 100,000 stakeholders and waits for a button)."""
    from coprod_map.analysis import network, representation

    then = state_at(project_id, revision, when)
    mode = "population" if representation.attribute_choices(then, mode="population") else "register"
    names = representation.attribute_choices(then, mode=mode)
    gaps = representation.gap_report(then, mode=mode) if names else pd.DataFrame(columns=representation.GAP_COLUMNS)
    metrics = network.metrics_table(then, betweenness=len(then.stakeholders) <= network.EXACT_BETWEENNESS_LIMIT)
    summary = pd.DataFrame({"measure": ["Stakeholders", "Ties", "Stakeholders with no ties", "Separate parts of the map",
                                        "Cut points (removing them splits the map)"],
                            "value": [len(then.stakeholders), len(then.relationships), int(metrics["isolated"].sum()),
                                      int(metrics["component"].nunique()) if len(metrics) else 0,
                                      int(metrics["articulation_point"].sum())]})
    return {"counts": then.counts(), "gaps": gaps, "gap_mode": mode, "metrics": metrics, "network": summary}


@st.cache_resource(max_entries=8, show_spinner="Comparing the two dates...")
def compared(project_id: str, revision: int, earlier: str, later: str) -> dict[str, pd.DataFrame]:
    """``history.compare_projects`` of the map at the end of two dates (shared, read-only: never mutate)."""
    from coprod_map.history import compare_projects

    return compare_projects(state_at(project_id, revision, earlier), state_at(project_id, revision, later))


@st.cache_resource(max_entries=8, show_spinner="Drawing the network as it was...")
def network_at(project_id: str, revision: int, when: str, height: int) -> str:
    """The network as it was, as a safe offline page in a ``data:`` URL (see ``coprod_map.viz.network_html``)."""
    from coprod_map.viz.network_html import data_url, network_view

    then = state_at(project_id, revision, when)
    metrics = figures_at(project_id, revision, when)["metrics"]
    return data_url(network_view(then, metrics=metrics, height=height).page.html)


# --- what the page shows in words (the frames, their cache and their downloads keep column ids and codes) ----------

#: coded cells of the map's tables in words on screen (``widgets.long_table(words=...)``), as the Stakeholders
#: page's grid draws them
CELL_WORDS: dict[str, dict[str, dict[Any, str]]] = {
    "stakeholders": {"kind": KINDS, "involvement": INVOLVEMENT_LEVELS, "speaks_basis": BASES, "experience": EXPERIENCES},
    "relationships": {"direction": DIRECTIONS},
}



def map_columns(table: str, frame: pd.DataFrame) -> dict[str, Any]:
    """``column_config`` for one of the map's tables (``"stakeholders"``, ``"relationships"``, ``"participation"``)
    as it was: every heading in the Stakeholders page's words, attributes as ``Age band`` (the cells are put in
    words by ``CELL_WORDS``, experience's list included)."""
    return headings(frame, COLUMN_LABELS.get(table, {}))


def measure_columns(metrics: pd.DataFrame) -> dict[str, Any]:
    """``column_config`` for the measures as they were: the Relationships page's headings; "Estimated" only when
    some brokerage is an estimate (history measures exactly or leaves it blank, so it is an empty column)."""
    config: dict[str, Any] = headings(metrics, MEASURE_HEADINGS)
    if "betweenness_estimated" in metrics and not metrics["betweenness_estimated"].astype(bool).any():
        config["betweenness_estimated"] = None
    return config


def worded_gaps(gaps: pd.DataFrame) -> pd.DataFrame:
    """A gap table for the screen: each attribute's name in words, so the chart reads "Age band: 65+" and the
    table's Attribute column "Age band" (a copy: the cached table keeps its ids).

    >>> worded_gaps(pd.DataFrame({"attribute": ["age_band", "BME status"]}))["attribute"].tolist()
    ['Age band', 'BME status']
    """
    return gaps.assign(attribute=gaps["attribute"].astype(str).map(plain_heading)) if len(gaps) else gaps


def counts_table(counts: dict[str, int]) -> pd.DataFrame:
    """How many rows each table held, the tables named in words (built for the screen only: no download).

    >>> counts_table({"relationships": 2, "participation": 5})["table"].tolist()
    ['Relationships', 'Participation records']
    """
    return pd.DataFrame({"table": [TABLE_LABELS.get(t, plain_heading(t)) for t in counts],
                         "rows": list(counts.values())})


def say(kind: str, text: str) -> None:
    st.session_state[_MESSAGE] = (kind, text)


def show_message() -> None:
    show_once(_MESSAGE)


_NOT_ALLOWED = "Not done: your role in this project does not allow it. Ask the project's owner."


def _run(action, done: str, *, needs: str = "edit") -> None:
    if not allowed(needs):  # callbacks run before the page's guard: check again, against the database
        say("error", _NOT_ALLOWED)
        return
    try:
        action()
    except CoprodError as error:
        details = error.details() if hasattr(error, "details") else str(error)
        say("error", f"Not done. {details}")
    else:
        say("success", done)


def undo(project_id: str) -> None:
    _run(lambda: store().undo(project_id, actor=actor()), "The last change was undone. It is in the list below, and can itself be taken back.")


def revert(project_id: str, key: str) -> None:
    entry = st.session_state.get(key)
    if entry is None:
        say("error", "Choose an entry to take back first.")
        return
    _run(lambda: store().revert(project_id, int(entry), actor=actor()), f"Entry {entry} was taken back.")


def snapshot(project_id: str, key: str) -> None:
    name = str(st.session_state.get(key) or "").strip()
    _run(lambda: store().take_snapshot(project_id, name, actor=actor()), "Snapshot saved.")


def restore(project_id: str, snapshot_key: str, name_key: str) -> None:
    chosen, name = st.session_state.get(snapshot_key), str(st.session_state.get(name_key) or "").strip()
    if chosen is None:
        say("error", "Choose a snapshot first.")
        return

    def action() -> None:
        new_id = store().restore_snapshot(project_id, int(chosen), name, actor=actor())
        make_owner(new_id)  # with sign-in, whoever restored it owns the new project
        set_project(new_id)

    _run(action, "The snapshot was restored as a new project, which is now open. The original is unchanged.")


def erase(project_id: str, person_key: str, confirm_key: str) -> None:
    from coprod_map.privacy import erase_person

    person = str(st.session_state.get(person_key) or "").strip()  # picked from the list, or typed on big maps
    typed = str(st.session_state.get(confirm_key) or "").strip()
    if not person or typed != str(person):
        say("error", "Not erased: type the stakeholder's id exactly to confirm.")
        return
    _run(lambda: erase_person(store(), project_id, person, actor=actor()),
         "The person was erased from the map, the record, the history and the snapshots.", needs="manage")


def set_retention(project_id: str, key: str) -> None:
    chosen = st.session_state.get(key)
    until = chosen.isoformat() if chosen else ""
    _run(lambda: store().set_retention(project_id, until, actor=actor()), "Retention date saved.", needs="manage")


def purge(project_id: str, key: str) -> None:
    chosen = st.session_state.get(key)
    if not chosen:
        say("error", "Choose the date to purge before.")
        return
    _run(lambda: store().purge_history(project_id, before=chosen.isoformat(), actor=actor()),
         f"Old and new values of changes before {chosen.isoformat()} were deleted; the list of entries stays.",
         needs="manage")
