"""Gephi Data Laboratory spreadsheets: a node table (Id, Label, attributes) and an edge table
(Source, Target, Type = Directed/Undirected/Mixed, Weight, Id, Label ...).

Weight -> strength. Gephi weights are often larger than our 0-5 scale: when any weight is above 5,
all weights of that file are scaled so the largest is 5 (said in a notice). Edge Label -> type.
"""

from __future__ import annotations

import pandas as pd

from coprod_map.errors import Problem
from coprod_map.io.bundle import missing_columns
from coprod_map.io.tables import Part, Sheet, map_columns

__all__ = ["edges_part", "nodes_part", "scale_weights"]

NODE_MAP = {"label": "name"}
EDGE_MAP = {"weight": "strength", "type": "direction", "label": "type"}
GEPHI_DIRECTIONS = {"directed": "directed", "undirected": "undirected", "mixed": ""}


def nodes_part(sheet: Sheet) -> tuple[Part | None, list[Problem], list[str]]:
    problems = missing_columns(sheet, ("id",), shown=("Id",))
    if problems:
        return None, problems, []
    part, notices = map_columns(sheet, "stakeholders", NODE_MAP, extras="attributes")
    frame = part.frame
    if "name" not in frame.columns:
        frame["name"] = frame["id"]
    else:
        frame["name"] = frame["name"].where(frame["name"].str.strip() != "", frame["id"])
    return part, [], notices


def edges_part(sheet: Sheet) -> tuple[Part | None, list[Problem], list[str]]:
    problems = missing_columns(sheet, ("source", "target"), shown=("Source", "Target"))
    if problems:
        return None, problems, []
    part, notices = map_columns(sheet, "relationships", EDGE_MAP, extras="drop")
    frame = part.frame
    if "direction" in frame.columns:
        lowered = frame["direction"].str.strip().str.casefold()
        known = lowered.map(GEPHI_DIRECTIONS)
        if (lowered == "mixed").any():
            notices.append(f"{sheet.file}: edges of type Mixed were read with no direction")
        frame["direction"] = known.where(known.notna(), frame["direction"])
    if "strength" in frame.columns:
        frame["strength"], note = scale_weights(frame["strength"], file=sheet.file)
        notices += note
    part.frame = frame
    return part, [], notices


def scale_weights(weights: pd.Series, *, file: str) -> tuple[pd.Series, list[str]]:
    """Text weights -> text strengths on 0-5 (unchanged when none is above 5; non-numbers left for validation).

    >>> scale_weights(pd.Series(["2", "10", ""]), file="e.csv")[0].tolist()
    ['1', '5', '']
    """
    numbers = pd.to_numeric(weights.where(weights.str.strip() != "", None), errors="coerce")
    top = numbers.max()
    if pd.isna(top) or top <= 5 or (numbers < 0).any():
        return weights, []
    scaled = (numbers * 5 / top).round(3)
    text = scaled.map(lambda v: "" if pd.isna(v) else (str(int(v)) if float(v).is_integer() else str(v)))
    out = text.where(numbers.notna(), weights)
    return out, [f"{file}: weights were scaled to strengths from 0 to 5 (each divided by {top / 5:g})"]
