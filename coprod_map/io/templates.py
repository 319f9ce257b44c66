"""Blank files to fill in: one CSV per bundle table, a workbook with every table, an attendance sheet.

Each CSV has the header row and one example row of made-up but valid values, so a file filled in
from the template imports as it is (delete or overwrite the example row). The workbook has the same
sheets plus a ``help`` sheet that explains every column in plain words; ``COLUMN_HELP`` holds the
same words for the app to show beside a download.
"""

from __future__ import annotations

import pandas as pd

from coprod_map.io.export import csv_bytes, workbook_bytes
from coprod_map.model import TABLES

__all__ = ["COLUMN_HELP", "DATE_WORDS", "EXAMPLE_ATTRIBUTES", "TEMPLATES", "help_frame", "template"]

#: template kind -> plain words for the app
TEMPLATES: dict[str, str] = {
    "stakeholders": "Stakeholders (CSV): people, groups, organisations and community assets",
    "relationships": "Relationships (CSV): who is connected to whom, and how",
    "activities": "Activities (CSV): workshops, meetings, surveys, events",
    "participation": "Participation (CSV): who took part in which activity",
    "reference": "Reference population (CSV): who lives in the area or is affected, by group",
    "workbook": "Excel workbook with every table and a help sheet",
    "attendance": "Attendance sheet (CSV): names and the session they came to",
    "help": "What every column means (CSV)",
}

#: How dates may be written in a file (``coprod_map.io.dates`` reads them all and stores YYYY-MM-DD).
DATE_WORDS = ("Best as YYYY-MM-DD (2025-03-12); also read: 12/03/2025 (day first, as in the UK; / - or . between), "
              "12 March 2025, 12 Mar 2025, March 12, 2025. Write the year with four digits. A time after the date "
              "(2025-03-12 10:30) is left out.")

#: Example representation attributes shown in the stakeholder template (projects choose their own).
EXAMPLE_ATTRIBUTES = ["age_band", "gender", "ethnicity", "disability", "area"]

#: table -> column -> (what to put, in plain words; example value)
COLUMN_HELP: dict[str, dict[str, tuple[str, str]]] = {
    "stakeholders": {
        "id": ("A short code that is unique to this stakeholder and never changes. Required.", "P001"),
        "name": ("The name people use. Required.", "Amina Hassan"),
        "kind": ("person, group, organisation or community asset.", "person"),
        "roles": ("Roles, separated by | (for example carer|peer worker).", "carer|volunteer"),
        "experience": ("Kinds of experience, separated by |: lived, trained, professional, personal.",
                       "lived|personal"),
        "affected": ("How strongly the work affects them: 0 not at all, 1 a little, 2 moderately, 3 strongly.",
                     "3"),
        "influence": ("How much say they have over decisions, 0 (none) to 5 (a great deal).", "1"),
        "involvement": ("How involved they are now: not involved, informed, consulted, involved, "
                        "co-designing, co-producing.", "consulted"),
        "speaks_for": ("Groups this stakeholder speaks for, separated by |.", "carers"),
        "speaks_basis": ("Why they can speak for those groups: lived experience, elected, nominated, or proxy "
                         "(speaks about the group but is not part of it).", "lived experience"),
        "notes": ("Anything else worth keeping. Keep it short; this is about people.", "Prefers evening meetings"),
        "age_band": ("An attribute: age band. Leave blank, or write 'not recorded' or 'prefer not to say'.",
                     "35-49"),
        "gender": ("An attribute: gender, in the person's own words or your project's categories.", "woman"),
        "ethnicity": ("An attribute: ethnic group, using your project's categories.", "Asian or Asian British"),
        "disability": ("An attribute: disability, as the person describes it (yes / no / prefer not to say).",
                       "no"),
        "area": ("An attribute: the neighbourhood or area they live in.", "Northside"),
    },
    "relationships": {
        "id": ("A unique code for the relationship. Optional: left blank, one is made up for you.", "R001"),
        "source": ("The id of the stakeholder the relationship starts from. Required.", "P001"),
        "target": ("The id of the stakeholder it goes to. Required.", "P002"),
        "type": ("What kind of tie: works with, knows, supports, funds, commissions, represents, "
                 "family or friend (or your own).", "supports"),
        "direction": ("directed (one way, source to target), undirected, or mutual (both ways).", "directed"),
        "strength": ("How strong the tie is, 0 to 5 (decimals allowed).", "3"),
        "since": ("When it started. Optional. " + DATE_WORDS, "2025-01-15"),
        "until": ("When it ended. Leave blank if it continues. " + DATE_WORDS, ""),
        "notes": ("Anything else worth keeping.", ""),
    },
    "activities": {
        "id": ("A unique code for the activity. Required.", "A001"),
        "title": ("A short title people will recognise.", "Listening workshop"),
        "date": ("The date. " + DATE_WORDS, "2025-03-12"),
        "kind": ("workshop, meeting, interview, survey, event, visit or online.", "workshop"),
        "cycle": ("The review cycle it belongs to (its name in the project settings).", "Cycle 1"),
        "notes": ("Anything else worth keeping: where, who ran it, access arrangements.", "Library community room"),
    },
    "participation": {
        "stakeholder_id": ("The id of the stakeholder who took part. Required.", "P001"),
        "activity_id": ("The id of the activity they took part in. Required.", "A001"),
        "notes": ("Anything else worth keeping (for example: came with a support worker).", ""),
    },
    "reference": {
        "attribute": ("The attribute this row is about (the same column name as in stakeholders).", "age_band"),
        "category": ("One category of that attribute.", "16-24"),
        "count": ("How many people in the reference population are in this category (a whole number).", "1240"),
        "share": ("Or, instead of a count, the share of the population as a fraction from 0 to 1.", ""),
        "source": ("Where the figures come from.", "2021 census"),
    },
    "attendance": {
        "person": ("The name of the person who came, written the same way each time.", "Amina Hassan"),
        "activity": ("The session, event or meeting they came to.", "Listening workshop"),
        "date": ("The date of the session. Optional. " + DATE_WORDS, "2025-03-12"),
        "notes": ("Anything about how they took part, for example 'came with a carer'. Optional.", ""),
    },
}

_FILE_NAMES = {
    "workbook": "coprod-map-template.xlsx",
    "attendance": "attendance-template.csv",
    "help": "column-help.csv",
}


def _example(table: str) -> pd.DataFrame:
    helps = COLUMN_HELP[table]
    return pd.DataFrame([{column: example for column, (_, example) in helps.items()}], dtype=object)


def _numeric(table: str) -> list[str]:
    return [c for c, kind in TABLES.get(table, {}).items() if kind in ("Int64", "Float64")]


def help_frame() -> pd.DataFrame:
    """Every column of every template: sheet, column, what to put, an example."""
    rows = [
        {"sheet": table, "column": column, "what to put": words, "example": example}
        for table, columns in COLUMN_HELP.items()
        for column, (words, example) in columns.items()
    ]
    return pd.DataFrame(rows, dtype=object)


def _workbook() -> bytes:
    sheets = []
    for table in TABLES:
        example = _example(table)
        rows = [[_typed(table, c, v) for c, v in zip(example.columns, example.iloc[0], strict=True)]]
        sheets.append((table, list(example.columns), rows))
    helps = help_frame()
    sheets.append(("help", list(helps.columns), helps.itertuples(index=False, name=None)))
    return workbook_bytes(sheets)


def _typed(table: str, column: str, value: str):
    """Example numbers go in as numbers, so the workbook shows the column type."""
    kind = TABLES[table].get(column)
    if value == "" or kind not in ("Int64", "Float64"):
        return value
    return int(value) if kind == "Int64" else float(value)


def template(kind: str) -> tuple[str, bytes]:
    """``(file name, bytes)`` of the blank template ``kind`` (a key of ``TEMPLATES``)."""
    if kind not in TEMPLATES:
        raise ValueError(f"'{kind}' is not a template. Expected one of: {', '.join(TEMPLATES)}.")
    if kind == "workbook":
        return _FILE_NAMES[kind], _workbook()
    if kind == "help":
        return _FILE_NAMES[kind], csv_bytes(help_frame())
    name = _FILE_NAMES.get(kind, f"{kind}-template.csv")
    return name, csv_bytes(_example(kind), _numeric(kind))
