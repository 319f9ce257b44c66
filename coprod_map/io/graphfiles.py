"""GraphML and GEXF files -> stakeholder and relationship frames.

Safety first: every file is parsed with defusedxml with DTDs forbidden, so billion-laughs and
external-entity (XXE) files are refused with one clear message before anything else happens, on
any Expat version. The parser is our own (on the defused tree) rather than networkx's, so that
edges to undeclared nodes and typed values that do not parse are reported naming the edge, node
and attribute instead of being silently created or raised as bare ``ValueError``.

Mapping: node id -> id; attributes named like our columns -> those columns (``a|b`` text becomes a
list later); GEXF ``label`` -> name when there is no ``name``; other node attributes -> representation
attributes. Edge ``weight`` -> strength (when there is no ``strength``), ``label`` -> type (when
there is no ``type``), networkx's ``networkx_key`` -> id. An undirected graph gives direction
``undirected`` to edges that do not say otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import defusedxml.ElementTree as SafeET
import pandas as pd
from defusedxml import DefusedXmlException

from coprod_map import model
from coprod_map.errors import ImportRejected, Problem
from coprod_map.io.tables import Part, header_key

__all__ = ["GraphData", "read_graph_file"]

DTD_MESSAGE = ("XML with a DTD or entities is not accepted. Export the file again without a DOCTYPE "
               "or entity declarations.")

_WHOLE = {"int", "long", "integer"}
_DECIMAL = {"float", "double"}
_BOOLEAN = {"boolean", "bool"}


@dataclass
class GraphData:
    format: str  # "graphml" or "gexf"
    file: str
    nodes: list[dict[str, str]] = field(default_factory=list)
    edges: list[dict[str, str]] = field(default_factory=list)
    directed: bool = True
    problems: list[Problem] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)

    def parts(self) -> list[Part]:
        stakeholders = _node_frame(self)
        relationships = _edge_frame(self)
        return [Part("stakeholders", stakeholders), Part("relationships", relationships)]

    def describe(self) -> str:
        word = "GraphML" if self.format == "graphml" else "GEXF"
        return f"{word} file: {len(self.nodes)} nodes, {len(self.edges)} edges"


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _parse(file: str, data: bytes):
    try:
        return SafeET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise ImportRejected([Problem(file, None, None, DTD_MESSAGE)]) from None
    except SafeET.ParseError as error:
        line = getattr(error, "position", (None, None))[0]
        raise ImportRejected([Problem(file, line, None, "this XML file is damaged (not well-formed) near line "
                                      f"{line}. Export it again.")]) from None


def read_graph_file(file: str, data: bytes) -> GraphData:
    """Parse a GraphML or GEXF file (format from its root element). Raises ImportRejected if unsafe/unreadable."""
    root = _parse(file, data)
    kind = _local(root.tag).lower()
    if kind == "graphml":
        return _read_graphml(file, root)
    if kind == "gexf":
        return _read_gexf(file, root)
    raise ImportRejected([Problem(file, None, None, f"this XML file is neither GraphML nor GEXF (it starts with "
                                  f"<{_local(root.tag)[:40]}>). Choose a GraphML or GEXF file.")])


def _typed(value: str, kind: str) -> bool:
    value = value.strip()
    if kind in _WHOLE:
        try:
            int(value)
        except ValueError:
            return False
    elif kind in _DECIMAL:
        try:
            float(value)
        except ValueError:
            return False
    elif kind in _BOOLEAN:
        return value.lower() in ("true", "false", "1", "0")
    return True


_TYPE_WORDS = {**dict.fromkeys(_WHOLE, "a whole number"), **dict.fromkeys(_DECIMAL, "a number"),
               **dict.fromkeys(_BOOLEAN, "true or false")}


def _check_value(out: GraphData, what: str, ident: str, name: str, value: str, kind: str) -> None:
    if value.strip() and not _typed(value, kind):
        out.problems.append(Problem(out.file, None, name, f"{what} '{ident}', attribute {name}: '{value[:60]}' is "
                                    f"not {_TYPE_WORDS[kind]}. Correct the value or the attribute's type."))


def _read_graphml(file: str, root) -> GraphData:
    out = GraphData("graphml", file)
    keys: dict[str, tuple[str, str, str]] = {}  # key id -> (name, type, for)
    defaults: dict[str, dict[str, str]] = {"node": {}, "edge": {}}
    for element in root:
        if _local(element.tag) == "key":
            key_id = element.get("id", "")
            name = element.get("attr.name") or key_id
            kind = (element.get("attr.type") or "string").lower()
            scope = element.get("for", "all")
            keys[key_id] = (name, kind, scope)
            for child in element:
                if _local(child.tag) == "default" and child.text is not None:
                    for target in ("node", "edge") if scope == "all" else (scope,):
                        if target in defaults:
                            defaults[target][name] = child.text
    graphs = [g for g in root if _local(g.tag) == "graph"]
    if not graphs:
        raise ImportRejected([Problem(file, None, None, "this GraphML file holds no <graph>. Export it again.")])
    graph = graphs[0]
    out.directed = graph.get("edgedefault", "directed") != "undirected"
    for element in graph.iter():
        tag = _local(element.tag)
        if tag not in ("node", "edge"):
            continue
        values = dict(defaults[tag])
        for data in element:
            if _local(data.tag) != "data":
                continue
            name, kind, _ = keys.get(data.get("key", ""), (data.get("key", ""), "string", "all"))
            values[name] = data.text or ""
            _check_value(out, tag, element.get("id", ""), name, values[name], kind)
        if tag == "node":
            out.nodes.append({"id": element.get("id", ""), **values})
        else:
            edge = {**values, "_source": element.get("source", ""), "_target": element.get("target", ""),
                    "_id": element.get("id", "")}
            if element.get("directed") is not None:
                edge.setdefault("direction", "directed" if element.get("directed") == "true" else "undirected")
            out.edges.append(edge)
    _check_endpoints(out)
    return out


def _read_gexf(file: str, root) -> GraphData:
    out = GraphData("gexf", file)
    graph = next((g for g in root if _local(g.tag) == "graph"), None)
    if graph is None:
        raise ImportRejected([Problem(file, None, None, "this GEXF file holds no <graph>. Export it again.")])
    out.directed = graph.get("defaultedgetype", "undirected") != "undirected"
    attributes: dict[str, dict[str, tuple[str, str]]] = {"node": {}, "edge": {}}
    for block in graph:
        if _local(block.tag) == "attributes":
            scope = block.get("class", "node")
            for attribute in block:
                if _local(attribute.tag) == "attribute" and scope in attributes:
                    attributes[scope][attribute.get("id", "")] = (attribute.get("title") or attribute.get("id", ""),
                                                                  (attribute.get("type") or "string").lower())
    for element in graph.iter():
        tag = _local(element.tag)
        if tag not in ("node", "edge"):
            continue
        values: dict[str, str] = {}
        for holder in element:
            if _local(holder.tag) != "attvalues":
                continue
            for value in holder:
                name, kind = attributes[tag].get(value.get("for", ""), (value.get("for", ""), "string"))
                values[name] = value.get("value", "")
                _check_value(out, tag, element.get("id", ""), name, values[name], kind)
        if element.get("label") is not None:
            values.setdefault("label", element.get("label", ""))
        if tag == "node":
            out.nodes.append({"id": element.get("id", ""), **values})
        else:
            if element.get("weight") is not None:
                values.setdefault("weight", element.get("weight", ""))
                _check_value(out, "edge", element.get("id", ""), "weight", values["weight"], "double")
            if element.get("type") in ("directed", "undirected", "mutual"):
                values.setdefault("direction", element.get("type"))
            out.edges.append({**values, "_source": element.get("source", ""), "_target": element.get("target", ""),
                              "_id": element.get("id", "")})
    _check_endpoints(out)
    return out


def _check_endpoints(out: GraphData) -> None:
    declared = {n["id"] for n in out.nodes}
    for number, edge in enumerate(out.edges, start=1):
        ident = edge.get("_id") or f"#{number}"
        for end, word in (("_source", "starts at"), ("_target", "targets")):
            if edge[end] not in declared:
                out.problems.append(Problem(out.file, None, end.strip("_"),
                                            f"edge '{ident}' {word} undeclared node '{edge[end][:60]}'. "
                                            "Declare the node or remove the edge."))


def _node_frame(graph: GraphData) -> pd.DataFrame:
    rows = []
    for node in graph.nodes:
        row: dict[str, str] = {}
        for name, value in node.items():
            key = header_key(name)
            row[key if key in model.STAKEHOLDER_COLUMNS else name] = value
        if not row.get("name"):
            row["name"] = row.get("label") or row["id"]
        row.pop("label", None)
        rows.append(row)
    frame = pd.DataFrame(rows, dtype=object).fillna("") if rows else model.empty_frame("stakeholders")
    frame["_file"] = graph.file
    frame["_row"] = pd.array([pd.NA] * len(frame), dtype="Int64")
    return frame


def _edge_frame(graph: GraphData) -> pd.DataFrame:
    rows = []
    dropped: set[str] = set()
    for edge in graph.edges:
        row = {"source": edge["_source"], "target": edge["_target"]}
        extra = {}
        for name, value in edge.items():
            if name.startswith("_"):
                continue
            key = header_key(name)
            if key in model.RELATIONSHIP_COLUMNS and key not in ("source", "target"):
                row[key] = value
            else:
                extra[key] = value
        if not row.get("id"):
            row["id"] = extra.pop("networkx_key", "") or edge["_id"]
        if not row.get("strength") and extra.get("weight"):
            row["strength"] = extra.pop("weight")
        if not row.get("type") and extra.get("label"):
            row["type"] = extra.pop("label")
        if not row.get("direction") and not graph.directed:
            row["direction"] = "undirected"
        dropped.update(k for k in extra if k not in ("networkx_key", "weight", "label"))
        rows.append(row)
    if dropped:
        graph.notices.append(f"{graph.file}: edge attributes not used: {', '.join(sorted(dropped))}")
    frame = pd.DataFrame(rows, dtype=object).fillna("") if rows else model.empty_frame("relationships")
    frame["_file"] = graph.file
    frame["_row"] = pd.array([pd.NA] * len(frame), dtype="Int64")
    return frame
