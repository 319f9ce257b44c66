"""Kumu's spreadsheet format: an Elements sheet and a Connections sheet (XLSX, or two CSVs).

Elements: Label -> name; ID (when given) else Label -> id; Type -> kind when it names a kind, else a
role; Tags (``a|b``) -> roles; Description -> notes; columns named like ours (Involvement,
Affected ...) -> those columns; any other column -> a representation attribute.
Connections: From/To name elements by ID or Label; several values in one cell (``a|b``) make one
connection each; Type -> type, Direction, Strength, Description -> notes; ID -> id.
"""

from __future__ import annotations

import pandas as pd

from coprod_map import model
from coprod_map.errors import Problem
from coprod_map.io.bundle import missing_columns
from coprod_map.io.tables import Part, Sheet, map_columns

__all__ = ["connections_part", "elements_part", "resolve_endpoints"]

ELEMENT_MAP = {"label": "name", "description": "notes", "tags": "roles", "type": "_type"}
CONNECTION_MAP = {"from": "source", "to": "target", "description": "notes", "id": "id", "type": "type"}


def elements_part(sheet: Sheet) -> tuple[Part | None, list[Problem], list[str]]:
    problems = missing_columns(sheet, ("label",), shown=("Label",))
    if problems:
        return None, problems, []
    part, notices = map_columns(sheet, "stakeholders", ELEMENT_MAP, extras="attributes")
    frame = part.frame
    if "id" not in frame.columns:
        frame["id"] = frame["name"]
    else:
        frame["id"] = frame["id"].where(frame["id"].str.strip() != "", frame["name"])
    if "_type" in frame.columns:
        types = frame.pop("_type").str.strip()
        codes = {v: model.normalise_code(v, model.KINDS) for v in types.unique() if v}
        kind = types.map(codes)
        if "kind" not in frame.columns:
            frame["kind"] = kind.fillna("")
        other = types.where(kind.isna() & (types != ""), "")
        roles = frame["roles"] if "roles" in frame.columns else pd.Series("", index=frame.index)
        frame["roles"] = roles.where(other == "", other.str.cat(roles, sep="|").str.rstrip("|"))
        part.source_columns.setdefault("kind", "Type")
    part.frame = frame
    return part, [], notices


def connections_part(sheet: Sheet) -> tuple[Part | None, list[Problem], list[str]]:
    problems = missing_columns(sheet, ("from", "to"), shown=("From", "To"))
    if problems:
        return None, problems, []
    part, notices = map_columns(sheet, "relationships", CONNECTION_MAP, extras="drop")
    frame = part.frame
    # One connection per From x To value ("a|b" in To makes two); rows keep their sheet row.
    for column in ("source", "target"):
        frame[column] = frame[column].map(lambda v: model.split_list(v) or [""])
        frame = frame.explode(column, ignore_index=True)
    part.frame = frame
    return part, [], notices


def resolve_endpoints(relationships: pd.DataFrame, stakeholders: pd.DataFrame) -> pd.DataFrame:
    """From/To given as Labels -> the element's id (ids win over labels when both match)."""
    ids = set(stakeholders["id"]) if "id" in stakeholders.columns else set()
    if "name" in stakeholders.columns:
        by_label = dict(zip(stakeholders["name"], stakeholders["id"], strict=True))
    else:
        by_label = {}
    out = relationships.copy()
    for column in ("source", "target"):
        values = out[column]
        mapped = values.map(by_label)
        out[column] = values.where(values.isin(ids) | mapped.isna(), mapped)
    return out
