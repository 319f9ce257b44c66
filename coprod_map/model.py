"""The participation map: tables, coded values, and the NetworkX graph they convert to.

A project is five tables held as pandas DataFrames plus its settings:

- ``stakeholders``: one row per person, group, organisation or community asset. Core columns are
  listed in ``STAKEHOLDER_COLUMNS``; every other column is a project-defined representation
  attribute (age band, gender, area ...) holding a category as text.
- ``relationships``: ties between stakeholders (``source`` -> ``target``).
- ``activities``: workshops, meetings, surveys ... each in a review cycle.
- ``participation``: who took part in which activity.
- ``reference``: the reference population (who is affected), per attribute and category.

Conventions every module relies on:

- Ids and all text are Python ``str``; a blank is ``""``, never NaN. ``007`` stays ``007``.
- Multi-valued fields (``LIST_COLUMNS``) hold Python lists of str in memory and are written as
  ``a|b|c`` in files and in the database (Kumu's convention).
- Whole numbers that may be blank use pandas' nullable ``Int64``; decimals ``Float64``.
- Dates are ISO ``YYYY-MM-DD`` text (or ``""``), so every format round-trips them exactly.
- Attribute categories ``"not recorded"`` and ``"prefer not to say"`` are kept distinct from ``""``.
"""

from __future__ import annotations

import gc
import itertools
import re
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pandas.api.types import infer_dtype

__all__ = [
    "ACTIVITY_COLUMNS",
    "AFFECTED_LEVELS",
    "BASES",
    "DIRECTIONS",
    "EXPERIENCES",
    "INVOLVEMENT_LEVELS",
    "KINDS",
    "LIST_COLUMNS",
    "NOT_RECORDED",
    "PARTICIPATION_COLUMNS",
    "PREFER_NOT_TO_SAY",
    "Project",
    "ProjectSettings",
    "REFERENCE_COLUMNS",
    "RELATIONSHIP_COLUMNS",
    "STAKEHOLDER_COLUMNS",
    "TABLES",
    "attribute_columns",
    "empty_frame",
    "empty_project",
    "from_graph",
    "join_list",
    "label_for",
    "normalise_code",
    "normalise_frame",
    "split_list",
    "to_graph",
]

# --- coded values: code -> words users see -------------------------------------------------

KINDS: dict[str, str] = {
    "person": "Person",
    "group": "Group",
    "organisation": "Organisation",
    "community_asset": "Community asset",
}

EXPERIENCES: dict[str, str] = {
    "lived": "Lived experience",
    "trained": "Trained (learned through training or study)",
    "professional": "Professional experience",
    "personal": "Personal experience (family, friends, community)",
}

#: The involvement ladder, lowest rung first. Order matters: analysis compares rungs.
INVOLVEMENT_LEVELS: dict[str, str] = {
    "not_involved": "Not involved",
    "informed": "Informed",
    "consulted": "Consulted",
    "involved": "Involved",
    "co_designing": "Co-designing",
    "co_producing": "Co-producing",
}

#: On what basis someone speaks for a wider group.
BASES: dict[str, str] = {
    "lived_experience": "Lived experience of the group",
    "elected": "Elected by the group",
    "nominated": "Nominated by the group",
    "proxy": "Proxy (speaks about the group, not from it)",
}

DIRECTIONS: dict[str, str] = {
    "directed": "One way (source to target)",
    "undirected": "No direction",
    "mutual": "Both ways",
}

#: How strongly a stakeholder is affected by the work (0 = not affected).
AFFECTED_LEVELS: dict[int, str] = {
    0: "Not affected",
    1: "A little",
    2: "Moderately",
    3: "Strongly",
}

INFLUENCE_RANGE = (0, 5)
STRENGTH_RANGE = (0.0, 5.0)

NOT_RECORDED = "not recorded"
PREFER_NOT_TO_SAY = "prefer not to say"

DEFAULT_RELATIONSHIP_TYPES = [
    "works with",
    "knows",
    "supports",
    "funds",
    "commissions",
    "represents",
    "family or friend",
]

DEFAULT_ACTIVITY_KINDS = ["workshop", "meeting", "interview", "survey", "event", "visit", "online"]

# --- tables ---------------------------------------------------------------------------------

#: Core stakeholder columns and their pandas dtype ("list" = list of str).
STAKEHOLDER_COLUMNS: dict[str, str] = {
    "id": "str",
    "name": "str",
    "kind": "str",
    "roles": "list",
    "experience": "list",
    "affected": "Int64",
    "influence": "Int64",
    "involvement": "str",
    "speaks_for": "list",
    "speaks_basis": "str",
    "notes": "str",
}

RELATIONSHIP_COLUMNS: dict[str, str] = {
    "id": "str",
    "source": "str",
    "target": "str",
    "type": "str",
    "direction": "str",
    "strength": "Float64",
    "since": "str",
    "until": "str",
    "notes": "str",
}

ACTIVITY_COLUMNS: dict[str, str] = {
    "id": "str",
    "title": "str",
    "date": "str",
    "kind": "str",
    "cycle": "str",
    "notes": "str",
}

PARTICIPATION_COLUMNS: dict[str, str] = {
    "stakeholder_id": "str",
    "activity_id": "str",
    "notes": "str",
}

REFERENCE_COLUMNS: dict[str, str] = {
    "attribute": "str",
    "category": "str",
    "count": "Int64",
    "share": "Float64",
    "source": "str",
}

TABLES: dict[str, dict[str, str]] = {
    "stakeholders": STAKEHOLDER_COLUMNS,
    "relationships": RELATIONSHIP_COLUMNS,
    "activities": ACTIVITY_COLUMNS,
    "participation": PARTICIPATION_COLUMNS,
    "reference": REFERENCE_COLUMNS,
}

LIST_COLUMNS = frozenset(c for cols in TABLES.values() for c, t in cols.items() if t == "list")

LIST_SEPARATOR = "|"


# --- small helpers --------------------------------------------------------------------------

def split_list(value: Any) -> list[str]:
    """``"a| b|"`` -> ``["a", "b"]``; lists pass through cleaned; blanks give ``[]``.

    >>> split_list("lived|professional")
    ['lived', 'professional']
    >>> split_list(None)
    []
    """
    if value is None or (isinstance(value, float) and value != value):
        return []
    items = value if isinstance(value, (list, tuple)) else str(value).split(LIST_SEPARATOR)
    return [str(item).strip() for item in items if str(item).strip()]


def join_list(value: Any) -> str:
    """The inverse of ``split_list``: a list as ``a|b`` text.

    >>> join_list(["carers", "young people"])
    'carers|young people'
    """
    if type(value) is list and "" not in value:  # the usual case, a clean list: joined as it is
        try:
            text = LIST_SEPARATOR.join(value)
        except TypeError:  # an item that is not text
            pass
        else:
            if not _PADDED_ITEM.search(text):
                return text
    return LIST_SEPARATOR.join(split_list(value))


#: Space at either end of an item of a joined list (an item with space around it is stripped by ``split_list``).
_PADDED_ITEM = re.compile(rf"^\s|\s$|\s\{LIST_SEPARATOR}|\{LIST_SEPARATOR}\s")


_CODE_CLEAN = re.compile(r"[\s\-]+")


def normalise_code(value: str, allowed: dict | list) -> str | None:
    """Match free text to a code: case, spaces and hyphens are forgiven, labels are accepted.

    Returns the code, or ``None`` when nothing matches.

    >>> normalise_code("Co-designing", INVOLVEMENT_LEVELS)
    'co_designing'
    >>> normalise_code("Community asset", KINDS)
    'community_asset'
    >>> normalise_code("martian", KINDS) is None
    True
    """
    text = _CODE_CLEAN.sub("_", str(value).strip().lower())
    codes = list(allowed)
    for code in codes:
        if text == _CODE_CLEAN.sub("_", str(code).lower()):
            return code
    if isinstance(allowed, dict):
        for code, label in allowed.items():
            if text == _CODE_CLEAN.sub("_", str(label).strip().lower()):
                return code
    return None


def label_for(code: Any, coded: dict) -> str:
    """The words users see for a code (the code itself when unknown)."""
    return str(coded.get(code, code))


def empty_frame(table: str, extra_columns: list[str] | tuple[str, ...] = ()) -> pd.DataFrame:
    """An empty table with the right columns and dtypes."""
    columns = TABLES[table]
    frame = pd.DataFrame({name: pd.Series([], dtype=_dtype(kind)) for name, kind in columns.items()})
    for name in extra_columns:
        frame[name] = pd.Series([], dtype=object)
    return normalise_frame(table, frame)


def _dtype(kind: str) -> str:
    return {"str": "object", "list": "object"}.get(kind, kind)


def normalise_frame(table: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Give a table its core columns (added blank when missing) and canonical dtypes.

    Text becomes ``str`` with ``""`` for blanks, lists become lists of str, numbers nullable.
    Columns beyond the core set are kept (stakeholder attributes) as text. Index is reset.
    Raises ``ValueError`` if a number column holds something that is not a number: callers that
    take user input validate first (see ``coprod_map.validate``).

    Column by column, without a Python call per cell: a column already in canonical form is checked in a
    C pass or two and kept (a second normalisation costs little), text is converted per distinct value.
    Every list cell is a new list of the frame's own, as before (callers may change one in place).
    """
    columns = TABLES[table]
    out = frame.reset_index(drop=True)  # copy-on-write: assigning columns below never touches ``frame``
    n = len(out)
    for name, kind in columns.items():
        if name not in out.columns:
            if kind == "list":
                out[name] = _fresh_lists([[]] * n)
            elif kind == "str":
                out[name] = pd.Series(np.full(n, "", dtype=object), dtype=object)
            else:  # what the number conversion below makes of a column of blanks
                out[name] = pd.Series(np.full(n, np.nan)).astype(kind)
        if kind == "str":
            out[name] = _text_series(out[name])
        elif kind == "list":
            out[name] = _list_series(out[name])
        else:
            out[name] = _number_series(out[name], kind)
    extras = [c for c in out.columns if c not in columns]
    for name in extras:
        if not name.startswith("_"):  # "_file"/"_row" provenance columns pass through untouched
            out[name] = _text_series(out[name])
    order = list(columns) + extras
    return out if list(out.columns) == order else out[order]


def _number_series(series: pd.Series, kind: str) -> pd.Series:
    """An ``Int64`` or ``Float64`` column: text and numbers read as numbers, blanks as missing."""
    dtype = series.dtype
    if str(dtype) in ("Int64", "Float64", "int64", "float64", "int32", "float32"):
        numbers = series.astype("Float64")  # what the object round trip below gives, in one C pass
        if kind == "Float64":
            return numbers
        if str(dtype) in ("Int64", "int64", "int32") and not (series.abs() > _EXACT_FLOAT).any():
            return series.astype("Int64")  # whole numbers a float holds exactly: rounding changes nothing
        return numbers.round().astype("Int64")
    numbers = pd.to_numeric(_blank_to_na(series)).astype("Float64")
    return numbers if kind == "Float64" else numbers.round().astype("Int64")


_EXACT_FLOAT = 2**53  # every whole number up to this is a float exactly


def _blank_to_na(series: pd.Series) -> pd.Series:
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        return series.astype(object).where(series.notna(), None)  # numbers hold no blank text
    values = series.astype(object)
    return values.where(~values.map(lambda v: isinstance(v, str) and not v.strip()), None)


def _text_series(series: pd.Series) -> pd.Series:
    """Every value as ``str`` (the value itself when it is one), missing values as ``""``."""
    if isinstance(series.dtype, pd.StringDtype) and series.dtype.storage == "pyarrow":
        return pd.Series(_arrow_strings(series), index=series.index, dtype=object)
    values = series.to_numpy(dtype=object)
    if series.dtype == object and infer_dtype(values, skipna=False) in ("string", "empty"):
        return pd.Series(values, index=series.index, dtype=object)  # already text: one C pass (shared under CoW)
    values = np.where(pd.isna(values), "", values) if len(values) else values
    plain = values.tolist()
    if set(map(type, plain)) <= {str}:
        return pd.Series(values, index=series.index, dtype=object)
    return pd.Series([v if isinstance(v, str) else _plain_text(v) for v in plain], index=series.index, dtype=object)


def _arrow_strings(series: pd.Series) -> np.ndarray:
    """An arrow-backed text column as an object array of ``str`` ("" for missing), each distinct text made
    into a Python ``str`` once (arrow's own conversion makes one per cell: about twice as slow)."""
    if not len(series):
        return np.empty(0, dtype=object)
    values = pa.array(series.array)
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    encoded = pc.dictionary_encode(values.fill_null(""))
    distinct = encoded.dictionary.to_numpy(zero_copy_only=False).astype(object)
    return distinct[encoded.indices.to_numpy(zero_copy_only=False)]


def _list_series(series: pd.Series) -> pd.Series:
    """``split_list`` of every value: each distinct text split once, lists already clean only copied."""
    collecting = gc.isenabled()
    gc.disable()  # 100,000s of new lists would trigger collections that find nothing to free (2x slower)
    try:
        return _lists(series)
    finally:
        if collecting:
            gc.enable()


def _lists(series: pd.Series) -> pd.Series:
    if isinstance(series.dtype, pd.StringDtype) and series.dtype.storage == "pyarrow":
        plain = _arrow_strings(series).tolist()
    else:
        plain = series.to_numpy(dtype=object).tolist()
    types = set(map(type, plain))
    if types <= {str}:
        split = {v: split_list(v) for v in set(plain)}
        return _fresh_lists(list(map(split.__getitem__, plain)), index=series.index)
    if types == {list} and _clean_lists(plain):
        return _fresh_lists(plain, index=series.index)
    split = {v: split_list(v) for v in set(v for v in plain if type(v) is str)}
    return _fresh_lists([split[v] if type(v) is str else split_list(v) for v in plain], index=series.index)


def _clean_lists(lists: list[list]) -> bool:
    """True when every item of every list is a ``str`` with no space around it and not blank: what
    ``split_list`` returns, so it would give the same lists back."""
    items = list(itertools.chain.from_iterable(lists))
    return set(map(type, items)) <= {str} and all(items) and list(map(str.strip, items)) == items


def _fresh_lists(lists: list[list], index: pd.Index | None = None) -> pd.Series:
    """An object column of a new copy of each list (several cells may share one list in ``lists``)."""
    values = np.fromiter(map(list.copy, lists), dtype=object, count=len(lists))
    return pd.Series(values, index=index, dtype=object)


def _plain_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def attribute_columns(stakeholders: pd.DataFrame) -> list[str]:
    """The project-defined representation attributes present in a stakeholder table."""
    return [c for c in stakeholders.columns if c not in STAKEHOLDER_COLUMNS and not c.startswith("_")]


# --- the project ----------------------------------------------------------------------------

@dataclass
class ProjectSettings:
    """What a project has chosen: its attributes and their categories, and its coded lists."""

    #: attribute name -> its categories, in the order to show them
    attributes: dict[str, list[str]] = field(default_factory=dict)
    relationship_types: list[str] = field(default_factory=lambda: list(DEFAULT_RELATIONSHIP_TYPES))
    activity_kinds: list[str] = field(default_factory=lambda: list(DEFAULT_ACTIVITY_KINDS))
    #: review cycles in order; each {"name", "start", "end"} with ISO dates
    cycles: list[dict[str, str]] = field(default_factory=list)
    #: smallest count shown in anything shared (small-number suppression)
    min_cell: int = 5
    #: saved column matches for imports: name -> {their header: our column}
    column_maps: dict[str, dict[str, str]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "attributes": {k: list(v) for k, v in self.attributes.items()},
            "relationship_types": list(self.relationship_types),
            "activity_kinds": list(self.activity_kinds),
            "cycles": [dict(c) for c in self.cycles],
            "min_cell": int(self.min_cell),
            "column_maps": {k: dict(v) for k, v in self.column_maps.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> ProjectSettings:
        data = dict(data or {})
        known = {k: data[k] for k in ("attributes", "relationship_types", "activity_kinds", "cycles", "min_cell", "column_maps") if k in data}
        return cls(**known)


@dataclass
class Project:
    """A whole participation map in memory."""

    stakeholders: pd.DataFrame = field(default_factory=lambda: empty_frame("stakeholders"))
    relationships: pd.DataFrame = field(default_factory=lambda: empty_frame("relationships"))
    activities: pd.DataFrame = field(default_factory=lambda: empty_frame("activities"))
    participation: pd.DataFrame = field(default_factory=lambda: empty_frame("participation"))
    reference: pd.DataFrame = field(default_factory=lambda: empty_frame("reference"))
    settings: ProjectSettings = field(default_factory=ProjectSettings)
    name: str = ""

    def table(self, name: str) -> pd.DataFrame:
        return getattr(self, name)

    def normalised(self) -> Project:
        """A copy with every table in canonical form (see ``normalise_frame``)."""
        return Project(
            **{name: normalise_frame(name, self.table(name)) for name in TABLES},
            settings=ProjectSettings.from_dict(self.settings.to_dict()),
            name=self.name,
        )

    def counts(self) -> dict[str, int]:
        return {name: len(self.table(name)) for name in TABLES}


def empty_project(name: str = "") -> Project:
    return Project(name=name)


# --- graph conversion -----------------------------------------------------------------------

_GRAPH_TABLES = ("activities", "participation", "reference")


def to_graph(project: Project) -> nx.MultiDiGraph:
    """Stakeholders as nodes, relationships as keyed edges, everything else in ``G.graph``.

    Node keys are stakeholder ids; node attributes are every stakeholder column but ``id``.
    Edge keys are relationship ids; edge attributes every relationship column but the three ids.
    Missing numbers are left out of the attribute dict rather than stored as NA, so the graph
    holds only plain Python values.
    """
    G = nx.MultiDiGraph(name=project.name, settings=project.settings.to_dict())
    for table in _GRAPH_TABLES:
        G.graph[table] = project.table(table).copy()
    stakeholders = project.stakeholders
    attrs = [c for c in stakeholders.columns if c != "id"]
    G.graph["stakeholder_columns"] = list(attrs)
    relationships = project.relationships
    edge_attrs = [c for c in relationships.columns if c not in ("id", "source", "target")]
    # a multigraph iterates edges by node, not insertion: keep the table's order to restore it
    G.graph["relationship_order"] = relationships["id"].tolist()
    collecting = gc.isenabled()
    gc.disable()  # about a million new dicts would trigger collections that find nothing to free (2x slower)
    try:
        ids = stakeholders["id"].tolist()
        node_rows = _attr_dicts(stakeholders, attrs)
        ends = (relationships["source"].tolist(), relationships["target"].tolist(), relationships["id"].tolist())
        edge_rows = _attr_dicts(relationships, edge_attrs)
        if not _fill_graph(G, ids, node_rows, *ends, edge_rows):
            G.add_nodes_from(zip(ids, node_rows, strict=True))
            _add_keyed_edges(G, zip(*ends, edge_rows, strict=True))
    finally:
        if collecting:
            gc.enable()
    return G


def _fill_graph(G: nx.MultiDiGraph, ids: list, node_rows: list[dict], sources: list, targets: list, keys: list,
                edge_rows: list[dict]) -> bool:
    """Fill an empty ``G`` with exactly what ``add_nodes_from`` and then ``add_edge`` row by row would make,
    building its node and adjacency dicts directly and setting them (networkx resets its cached views when they
    are set). About 1.3x faster than ``add_nodes_from`` plus ``_add_keyed_edges`` at 500,000 edges; what is
    left is allocating the dicts themselves.

    Returns False, leaving ``G`` untouched, when the plain path must decide: repeated or ``None`` stakeholder
    ids (networkx merges or refuses them) or an end that is not a stakeholder (networkx adds it as a node).
    """
    try:
        node = dict(zip(ids, node_rows, strict=True))
        if len(node) != len(ids) or None in node:
            return False
    except TypeError:  # an unhashable id: let networkx say so
        return False
    succ = {n: {} for n in ids}
    pred = {n: {} for n in ids}
    try:
        for u, v, key, data in zip(sources, targets, keys, edge_rows, strict=True):
            succ[u][v] = pred[v][u] = {key: data}
    except KeyError:
        return False
    if sum(map(len, succ.values())) != len(edge_rows):  # parallel ties: each such pair holds only its last one
        _merge_parallel(succ, pred, sources, targets, keys, edge_rows)
    G._node, G._succ, G._pred = node, succ, pred  # setting _succ sets _adj too and resets the cached views
    nx._clear_cache(G)
    return True


def _merge_parallel(succ: dict, pred: dict, sources: list, targets: list, keys: list, edge_rows: list[dict]) -> None:
    """Give each pair with several ties one keydict holding them all in table order, the way ``add_edge`` does:
    a repeated key updates its first attribute dict. The pair keeps the place of its first tie in ``succ[u]``
    and ``pred[v]`` (overwriting a dict entry does not move it)."""
    parallel = {(u, v) for u, v, key, data in zip(sources, targets, keys, edge_rows, strict=True)
                if succ[u][v].get(key) is not data}  # the pairs where a later tie replaced this one
    merged: dict[tuple, dict] = {}
    for u, v, key, data in zip(sources, targets, keys, edge_rows, strict=True):
        if (u, v) in parallel:
            keydict = merged.setdefault((u, v), {})
            if key in keydict:
                keydict[key].update(data)
            else:
                keydict[key] = data
    for (u, v), keydict in merged.items():
        succ[u][v] = pred[v][u] = keydict


def _add_keyed_edges(G: nx.MultiDiGraph, edges) -> None:
    """``G.add_edges_from(edges)`` for (source, target, key, attributes) tuples, filling the adjacency
    the way ``MultiDiGraph.add_edge`` does without its per-edge call and lookups (3x faster at 500,000)."""
    succ, pred, nodes = G._succ, G._pred, G._node
    new_keys = G.edge_key_dict_factory
    own = G.edge_attr_dict_factory is dict  # then each fresh attribute dict can be the edge's own
    for u, v, key, attrs in edges:
        if u not in nodes or v not in nodes:  # an end that is not a stakeholder: networkx's own path adds it
            G.add_edge(u, v, key=key, **attrs)
            continue
        keydict = succ[u].get(v)
        if keydict is None:
            keydict = succ[u][v] = pred[v][u] = new_keys()
        data = keydict.get(key)
        if data is None and own:
            keydict[key] = attrs
        else:
            if data is None:
                data = keydict[key] = G.edge_attr_dict_factory()
            data.update(attrs)
    nx._clear_cache(G)


_PLAIN_TYPES = frozenset({str, int, float, bool, type(None), type(pd.NA)})


def _attr_dicts(frame: pd.DataFrame, columns: list[str]) -> list[dict[str, Any]]:
    """``_plain_attrs`` of every row, built column by column (missing values left out, lists copied)."""
    if not columns:
        return [{} for _ in range(len(frame))]
    lists, missing = [], []
    for name in columns:
        values = frame[name].to_numpy(dtype=object)
        plain = values.tolist()
        kinds = set(map(type, plain))
        if kinds == {list}:
            plain = list(map(list, plain))
        elif list in kinds:
            plain = [list(v) if isinstance(v, list) else v for v in plain]
        if not kinds <= _PLAIN_TYPES | {list}:  # numpy scalars and the like: the row-by-row rule
            plain = [v.item() if hasattr(v, "item") and not isinstance(v, (list, str)) else v for v in plain]
        lists.append(plain)
        may_miss = kinds & {float, type(None), type(pd.NA)} or not kinds <= _PLAIN_TYPES | {list}
        missing.append(pd.isna(values).nonzero()[0].tolist() if may_miss else ())
    template = dict.fromkeys(columns)  # copies of a dict with every key are made at their final size
    rows = [template.copy() for _ in range(len(frame))]
    for name, values in zip(columns, lists, strict=True):
        for row, value in zip(rows, values, strict=True):
            row[name] = value
    for name, gaps in zip(columns, missing, strict=True):
        for i in gaps:
            del rows[i][name]
    return rows


def _plain_attrs(pairs) -> dict[str, Any]:
    out = {}
    for key, value in pairs:
        if value is pd.NA or value is None:
            continue
        if isinstance(value, float) and value != value:
            continue
        if hasattr(value, "item") and not isinstance(value, (list, str)):
            value = value.item()
        out[key] = list(value) if isinstance(value, list) else value
    return out


def from_graph(G: nx.Graph) -> Project:
    """The inverse of ``to_graph``. Also accepts plain graphs read from files (ids become str)."""
    settings = ProjectSettings.from_dict(G.graph.get("settings"))
    node_rows = [{"id": str(n), **data} for n, data in G.nodes(data=True)]
    columns = ["id", *G.graph.get("stakeholder_columns", [])]
    stakeholders = pd.DataFrame(node_rows, columns=_ordered(columns, node_rows))
    edges = G.edges(keys=True, data=True) if G.is_multigraph() else ((u, v, None, d) for u, v, d in G.edges(data=True))
    edge_rows = []
    for i, (u, v, key, data) in enumerate(edges, start=1):
        edge_id = str(key) if key is not None and not isinstance(key, int) else str(data.get("id", f"r{i}"))
        edge_rows.append({**data, "id": edge_id, "source": str(u), "target": str(v)})
    relationships = pd.DataFrame(edge_rows, columns=_ordered(list(RELATIONSHIP_COLUMNS), edge_rows))
    order = G.graph.get("relationship_order")
    if order is not None and sorted(order) == sorted(relationships["id"]):
        relationships = relationships.set_index("id", drop=False).loc[order].reset_index(drop=True)
    project = Project(
        stakeholders=stakeholders,
        relationships=relationships,
        settings=settings,
        name=str(G.graph.get("name", "")),
        **{t: G.graph.get(t, empty_frame(t)).copy() for t in _GRAPH_TABLES},
    )
    return project.normalised()


def _ordered(columns: list[str], rows: list[dict]) -> list[str]:
    seen = list(dict.fromkeys(columns))
    for row in rows:
        for key in row:
            if key not in seen:
                seen.append(key)
    return seen
