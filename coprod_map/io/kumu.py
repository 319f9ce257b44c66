"""Kumu's spreadsheet format: an Elements sheet and a Connections sheet (XLSX, or two CSVs).

Elements: Label -> name; ID (when given) else Label -> id; Type -> kind when it names a kind, else a
role; Tags (``a|b``) -> roles; Description -> notes; columns named like ours (Involvement,
Affected ...) -> those columns; any other column -> a representation attribute.
Connections: From/To name elements by ID or Label; several values in one cell (``a|b``) make one
connection each; Type -> type, Direction, Strength, Description -> notes; ID -> id. A From/To value that
names no element (a connections sheet alone is a whole Kumu import) adds a person of that name, kind
blank, with an id made from the name as attendance lists make them (``named_people``).
"""

from __future__ import annotations

import pandas as pd

from coprod_map import model
from coprod_map.errors import Problem
from coprod_map.io.attendance import slug
from coprod_map.io.bundle import missing_columns
from coprod_map.io.tables import Part, Sheet, map_columns

__all__ = ["connections_part", "elements_part", "named_people", "resolve_endpoints"]

ELEMENT_MAP = {"label": "name", "description": "notes", "tags": "roles", "type": "_type"}
CONNECTION_MAP = {"from": "source", "to": "target", "description": "notes", "id": "id", "type": "type"}
NAMES_SHOWN = 5  # names listed in the "were added" notice; the rest are counted


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
        labelled = stakeholders[stakeholders["name"].notna() & (stakeholders["name"] != "")]  # a blank From is no label
        by_label = dict(zip(labelled["name"], labelled["id"], strict=True))
    else:
        by_label = {}
    out = relationships.copy()
    for column in ("source", "target"):
        values = out[column]
        mapped = values.map(by_label)
        out[column] = values.where(values.isin(ids) | mapped.isna(), mapped)
    return out


def named_people(connections: list[Part], known: list[pd.DataFrame]) -> tuple[list[Part], list[str]]:
    """Resolve every connections part's From/To (in place, as ``resolve_endpoints``) and add a person for each
    value that names no one in ``known`` (the import's stakeholders plus the saved project's, when given).

    A new person's id is ``slug(name)``, as an attendance list makes it: names that slug alike are one person
    (names with nothing to slug, e.g. only emoji, are each their own). An id ``known`` already holds (so under
    another name) gets ``-2``, ``-3`` ...: no one known is overwritten. When the saved project is not in
    ``known``, the store's merge by id treats a saved person under that id as the same person, as for
    attendance lists. Blank values make no one: validation refuses them. Returns the new people (one Part per
    connections file that first names some) and a notice for each of those files.
    """
    known = pd.concat([f.reindex(columns=["id", "name"]) for f in known], ignore_index=True)
    known = known[known["id"].notna()]
    for part in connections:
        part.frame = resolve_endpoints(part.frame, known)
    taken = set(known["id"].astype(str))
    frames = [p.frame for p in connections]
    named: dict[str, str] = {}  # value -> new id, in order of first appearance
    by_key: dict[str, str] = {}  # slug (or, for names with no letters to slug, the name) -> new id
    for frame in frames:
        ends = frame[["source", "target"]].to_numpy(dtype=object).ravel()  # row by row: From then To
        values = pd.unique(ends[~pd.Series(ends).isin(taken).to_numpy() & (ends != "")])
        for value in (str(v) for v in values if v not in named):
            base = slug(value)
            key = value if base == "unnamed" else base
            if key not in by_key:
                new, n = base, 1
                while new in taken:
                    n += 1
                    new = f"{base}-{n}"
                taken.add(new)
                by_key[key] = new
            named[value] = by_key[key]
    if not named:
        return [], []
    people: list[Part] = []
    notices: list[str] = []
    made: set[str] = set()
    for part in connections:
        frame = part.frame
        for column in ("source", "target"):
            new = frame[column].map(named)
            frame[column] = frame[column].where(new.isna(), new)
        rows = _first_rows(part.frame, named, made)
        if not len(rows):
            continue
        made.update(rows["id"])
        people.append(Part("stakeholders", rows, {"name": part.source_columns.get("source", "From")}))
        notices.append(_added_notice(rows))
    return people, notices


def _first_rows(frame: pd.DataFrame, named: dict[str, str], made: set[str]) -> pd.DataFrame:
    """One stakeholder row per new id this connections frame is the first to use: the first name seen for
    it, and the file and row that named it first."""
    names = {new: value for value, new in reversed(named.items())}  # the first name seen for each id
    ends = pd.DataFrame({"id": frame[["source", "target"]].to_numpy(dtype=object).ravel(),
                         "_file": frame["_file"].repeat(2).to_numpy(), "_row": frame["_row"].repeat(2).to_numpy()})
    ends = ends.drop_duplicates("id")  # first the distinct ends (few), then which of them are new here
    ends = ends[ends["id"].isin(names) & ~ends["id"].isin(made)]
    return pd.DataFrame({"id": ends["id"].astype(str).to_numpy(), "name": ends["id"].map(names).to_numpy(),
                         "kind": "", "_file": ends["_file"].to_numpy(),
                         "_row": pd.array(ends["_row"].to_numpy(), dtype="Int64")})


def _added_notice(rows: pd.DataFrame) -> str:
    n = len(rows)
    shown = ", ".join(rows["name"].head(NAMES_SHOWN))
    more = f" and {n - NAMES_SHOWN:,} more" if n > NAMES_SHOWN else ""
    were = "person named in From/To was not in the elements sheet and was" if n == 1 else \
        "people named in From/To were not in the elements sheet and were"
    return (f"{rows['_file'].iloc[0]}: {n:,} {were} added: {shown}{more}. "
            "Check their type on the Stakeholders page.")
