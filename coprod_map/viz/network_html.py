"""Interactive network views as self-contained, offline, script-safe HTML (pyvis / vis-network).

Safety rules (see the ecosystem notes §2-3), all enforced here:

- vis-network is inlined and the template's CDN ``<link>``/``<script>`` tags are stripped, so the page
  makes no request to anyone;
- node and edge data reach the page only through pyvis's JSON (Jinja ``tojson`` escapes ``< > & '``);
  no user text goes into ``heading``, options, width, height or bgcolor, and the select/filter menus
  (which print node ids raw) are never used; node ids are opaque (``n17``);
- labels are drawn on the canvas, so they stay plain text; titles are plain text with ``\\n`` breaks and
  every "href" is broken with a zero-width space, because one "href" in any node title makes pyvis
  switch every tooltip to ``innerHTML``;
- ``assert_safe`` checks the result, and the page embeds it as a ``data:`` URL (an opaque origin), so
  even a slip could not reach the app.

Nodes and edges are written straight into ``Network.nodes``/``.edges``: ``Network.from_nx`` and
``add_node`` are quadratic in the size of the map.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
from pyvis.network import Network

from coprod_map.analysis.network import BLANK, category_labels
from coprod_map.model import AFFECTED_LEVELS, EXPERIENCES, INVOLVEMENT_LEVELS, KINDS, LIST_COLUMNS
from coprod_map.viz.palette import INVOLVEMENT_COLOURS, NEUTRAL, colour_for, qualitative

__all__ = [
    "KIND_SHAPES",
    "NODE_LIMIT",
    "NetworkHtml",
    "NetworkView",
    "SIZE_MEASURES",
    "aggregate_html",
    "assert_safe",
    "data_url",
    "map_html",
    "network_view",
    "offline_html",
    "plain_text",
]

#: Shapes by kind of stakeholder (vis-network shape names); anything else is a star.
KIND_SHAPES: dict[str, str] = {
    "person": "dot",
    "group": "triangle",
    "organisation": "square",
    "community_asset": "diamond",
}
_OTHER_SHAPE = "star"
_DASHES: list[bool | list[int]] = [False, [8, 5], [2, 4], [12, 4, 2, 4]]

_REMOTE_LINK = re.compile(r"<link\b[^>]*\bhref=[\"']https?://[^\"']*[\"'][^>]*/?>", re.IGNORECASE)
_REMOTE_SCRIPT = re.compile(r"<script\b[^>]*\bsrc=[\"']https?://[^\"']*[\"'][^>]*>\s*</script>", re.IGNORECASE)
_REMOTE_REF = re.compile(r"(?:src|href)\s*=\s*[\"']?\s*(?:https?:)?//", re.IGNORECASE)
#: The JSON data lines (nodes, edges): user text lives only there, escaped; a raw newline cannot occur inside.
_DATA_LINE = re.compile(r"new vis\.DataSet\([^\n]*")
# Patterns RE2 (pyarrow) understands too, so pandas runs them natively on str columns.
_HREF = r"(?i)(h)(ref)"
_CONTROL = r"[\x00-\x08\x0b-\x1f\x7f]"


@dataclass(frozen=True)
class NetworkHtml:
    """A rendered view: the HTML page, what its colours/shapes/lines mean, and how much it shows."""

    html: str
    legend: pd.DataFrame
    nodes: int
    edges: int


# --- safety ------------------------------------------------------------------------------------------

def plain_text(values: pd.Series) -> pd.Series:
    """Text made safe for a vis-network tooltip or label: control characters dropped, "href" broken.

    >>> plain_text(pd.Series(['<a href="x">', "ok"])).tolist() == ['<a h\\u200bref="x">', "ok"]
    True
    """
    text = values.fillna("").astype("str")
    return text.str.replace(_CONTROL, " ", regex=True).str.replace(_HREF, "\\1\u200b\\2", regex=True)


def offline_html(net: Network) -> str:
    """pyvis's page without the CDN tags its in-line template still adds (Bootstrap from jsdelivr)."""
    html = net.generate_html()
    return _REMOTE_SCRIPT.sub("", _REMOTE_LINK.sub("", html))


def assert_safe(html: str) -> None:
    """Raise ``ValueError`` unless the page is offline and has no HTML tooltips."""
    if "popup.innerHTML" in html:
        raise ValueError("network page would render tooltips as HTML")
    if _REMOTE_REF.search(_DATA_LINE.sub("new vis.DataSet(", html)):
        raise ValueError("network page would load something from another site")


def data_url(html: str) -> str:
    """The page as a ``data:`` URL: embedded this way it runs in an opaque origin, cut off from the app."""
    return "data:text/html;base64," + base64.b64encode(html.encode("utf-8")).decode("ascii")


_EMPTY_DATA = ("nodes = new vis.DataSet([]);", "edges = new vis.DataSet([]);")


def _script_json(records: list[dict]) -> str:
    """JSON that cannot end a ``<script>`` element: the same escaping as Jinja's ``tojson``."""
    text = json.dumps(records, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026").replace("'", "\\u0027")


def _render(nodes: list[dict], edges: list[dict], *, height: int) -> str:
    """pyvis's page around the data.

    The template is rendered with no data (so pyvis never chooses its ``innerHTML`` tooltip), stripped
    of CDN tags and checked; then the escaped JSON goes in. Checking the template alone is exact and keeps
    the check fast on big maps.
    """
    shell, nodes_at, edges_at = _shell(int(height), len(edges) > 2000)
    return "".join([
        shell[:nodes_at], "nodes = new vis.DataSet(", _script_json(nodes), ");",
        shell[nodes_at + len(_EMPTY_DATA[0]):edges_at], "edges = new vis.DataSet(", _script_json(edges), ");",
        shell[edges_at + len(_EMPTY_DATA[1]):],
    ])


@lru_cache(maxsize=8)
def _shell(height: int, hide_edges_on_drag: bool) -> tuple[str, int, int]:
    """The checked page without data and where the data goes: the same for every map of this height
    (rendering it and inlining vis-network takes 0.1 s)."""
    net = Network(height=f"{int(height)}px", width="100%", cdn_resources="in_line")
    net.options = {  # constant: no user text ever goes into options
        "physics": {"enabled": False},
        "layout": {"improvedLayout": False},
        "edges": {"smooth": False, "color": {"inherit": False}},
        "nodes": {"font": {"size": 14, "face": "sans-serif"}, "borderWidth": 1},
        "interaction": {
            "hover": True,
            "tooltipDelay": 120,
            "keyboard": {"enabled": True},
            "hideEdgesOnDrag": hide_edges_on_drag,
        },
    }
    shell = offline_html(net)
    assert_safe(shell)
    if any(shell.count(marker) != 1 for marker in _EMPTY_DATA):
        raise RuntimeError("pyvis template changed: cannot find where its data goes")
    nodes_at = shell.index(_EMPTY_DATA[0])
    edges_at = shell.index(_EMPTY_DATA[1])
    if edges_at < nodes_at:
        raise RuntimeError("pyvis template changed: data order")
    return shell, nodes_at, edges_at


# --- the stakeholder map -----------------------------------------------------------------------------

def _labels(column: pd.Series, coded: dict | None) -> pd.Series:
    if coded is None:
        return column.astype(str)
    return column.astype(str).map(coded).fillna(column.astype(str))


def _list_text(column: pd.Series, coded: dict | None = None) -> pd.Series:
    return column.map(lambda items: ", ".join(coded.get(i, i) if coded else i for i in (items or [])))


def _colour_values(stakeholders: pd.DataFrame, by: str) -> pd.Series:
    """One category per stakeholder (list columns: the only value, or "several")."""
    if by in LIST_COLUMNS:
        pairs = category_labels(stakeholders, by)
        pairs["category"] = pairs["category"].astype(str)
        per_row = pairs.groupby("row")["category"].agg(lambda c: str(c.iloc[0]) if len(c) == 1 else "several")
        return pd.Series(np.arange(len(stakeholders))).map(per_row).fillna(BLANK).astype(str)
    pairs = category_labels(stakeholders, by)
    return pd.Series(pairs["category"].astype(str).to_numpy(dtype=object))


def map_html(
    stakeholders: pd.DataFrame,
    relationships: pd.DataFrame,
    *,
    positions: pd.DataFrame,
    colour_by: str = "involvement",
    size: pd.Series | None = None,
    size_label: str = "",
    relationship_types: list[str] | tuple[str, ...] = (),
    height: int = 650,
) -> NetworkHtml:
    """The stakeholder map: colour by ``colour_by``, size by ``size`` (a Series indexed by id), shape by
    kind, line colour and dashes by relationship type, arrows for one-way ties.

    ``positions`` (``id``, ``x``, ``y``) come from ``coprod_map.analysis.layout.positions``; physics is off.
    Returns the HTML and a legend table (what each colour, shape and line style means).
    """
    people = stakeholders.reset_index(drop=True)
    n = len(people)
    ids = people["id"].astype(str)
    id_index = pd.Index(ids.to_numpy(dtype=object))
    opaque = np.array([f"n{i}" for i in range(n)], dtype=object)

    # colour
    categories = _colour_values(people, colour_by)
    if colour_by == "involvement":
        code_for = {label: code for code, label in INVOLVEMENT_LEVELS.items()} | {BLANK: ""}
        colours = categories.map(lambda c: INVOLVEMENT_COLOURS.get(code_for.get(c, c), NEUTRAL))
    else:
        palette = colour_for(categories.unique().tolist())
        palette[BLANK] = NEUTRAL
        colours = categories.map(palette)

    # size, position: aligned to stakeholder rows by id
    size_values = np.zeros(n)
    if size is not None and len(size):
        at = pd.Index(size.index.astype(str)).get_indexer(id_index)
        raw = size.astype("Float64").fillna(0).to_numpy(dtype=float)
        size_values = np.where(at >= 0, raw[at], 0.0)
        top = size_values.max() if n else 0
        sizes = 10 + 30 * (np.sqrt(size_values / top) if top > 0 else size_values)
    else:
        sizes = np.full(n, 14.0)
    at = pd.Index(positions["id"].astype(str).to_numpy(dtype=object)).get_indexer(id_index)
    xs = np.where(at >= 0, positions["x"].to_numpy(dtype=float)[at], 0.0)
    ys = np.where(at >= 0, positions["y"].to_numpy(dtype=float)[at], 0.0)

    kinds = people["kind"].astype(str)
    shapes = kinds.map(KIND_SHAPES).fillna(_OTHER_SHAPE)

    names = plain_text(people["name"])
    labels = names.where(names.str.len() <= 40, names.str.slice(0, 39) + "…")
    lines = [people["name"].astype(str), "Kind: " + _labels(kinds, KINDS)]
    lines.append("Involvement: " + _labels(people["involvement"], INVOLVEMENT_LEVELS))
    if colour_by not in ("involvement", "kind"):
        lines.append(colour_by.replace("_", " ").capitalize() + ": " + categories)
    roles = _list_text(people["roles"])
    lines.append(("Roles: " + roles).where(roles != "", ""))
    experience = _list_text(people["experience"], EXPERIENCES)
    lines.append(("Experience: " + experience).where(experience != "", ""))
    affected = people["affected"].astype("Int64")
    lines.append(("Affected: " + affected.map(AFFECTED_LEVELS, na_action="ignore").astype(str)).where(
        affected.notna(), ""))
    influence = people["influence"].astype("Int64")
    lines.append(("Influence: " + influence.astype(str) + " of 5").where(influence.notna(), ""))
    if size is not None and size_label:
        lines.append(size_label + ": " + pd.Series(np.round(size_values, 3)).astype(str))
    titles = plain_text(_join_lines(lines))

    nodes = [
        {"id": i, "label": lab, "title": t, "color": c, "size": s, "shape": sh, "x": x, "y": y}
        for i, lab, t, c, s, sh, x, y in zip(
            opaque.tolist(), labels.tolist(), titles.tolist(), colours.tolist(), np.round(sizes, 2).tolist(),
            shapes.tolist(), xs.tolist(), ys.tolist(), strict=True)
    ]

    # edges: both ends must be on the map
    src = id_index.get_indexer(relationships["source"].astype(str).to_numpy(dtype=object))
    dst = id_index.get_indexer(relationships["target"].astype(str).to_numpy(dtype=object))
    on_map = (src >= 0) & (dst >= 0)
    ties = relationships[on_map].reset_index(drop=True)
    src, dst = src[on_map], dst[on_map]
    types = ties["type"].astype(str)
    type_order = list(dict.fromkeys([*relationship_types, *sorted(types.unique())]))
    present = set(types.unique())
    used = [t for t in type_order if t in present]
    type_colour = dict(zip(used, qualitative(len(used)), strict=True))
    dashed = len(ties) <= 2000  # dashed lines are slow to draw on big maps
    type_dash = {t: (_DASHES[i % len(_DASHES)] if dashed else False) for i, t in enumerate(used)}
    arrows = ties["direction"].astype(str).map({"directed": "to", "mutual": "to, from"}).fillna("")
    strength = ties["strength"].astype("Float64")
    widths = (1 + strength.fillna(1).to_numpy(dtype=float) / 2).tolist()  # 1.5 when blank
    type_codes, type_values = pd.factorize(types.to_numpy(dtype=object))
    edge_colours = np.array([type_colour[t] for t in type_values], dtype=object)[type_codes]
    edges = [{"from": s, "to": t, "color": c}
             for s, t, c in zip(opaque[src].tolist(), opaque[dst].tolist(), edge_colours.tolist(), strict=True)]
    if len(edges) <= 5000:  # hover cards on lines only where someone can point at a line
        raw_names = people["name"].astype(str).to_numpy(dtype=object)
        edge_titles = plain_text(
            pd.Series(raw_names[src]) + " – " + pd.Series(raw_names[dst])
            + "\n" + types.where(types != "", "tie").str.capitalize()
            + ("\nStrength: " + strength.astype(str) + " of 5").where(strength.notna(), "")
        )
        for edge, title in zip(edges, edge_titles.tolist(), strict=True):
            edge["title"] = title
    # optional keys only where they say something: big maps stay small and quick to write
    for key, values, default in (("width", widths, 1.5), ("arrows", arrows.tolist(), ""),
                                 ("dashes", [type_dash[t] for t in type_values[type_codes]], False)):
        for edge, value in zip(edges, values, strict=True):
            if value != default:
                edge[key] = value
    html = _render(nodes, edges, height=height)
    legend = _legend(categories, colours, colour_by, kinds, used, type_colour, type_dash)
    return NetworkHtml(html=html, legend=legend, nodes=len(nodes), edges=len(edges))


def _join_lines(lines: list[pd.Series]) -> pd.Series:
    text = lines[0].reset_index(drop=True).astype(str)
    for line in lines[1:]:
        line = line.reset_index(drop=True).astype(str)
        text = text + ("\n" + line).where(line != "", "")
    return text


def _legend(categories, colours, colour_by, kinds, used_types, type_colour, type_dash) -> pd.DataFrame:
    colour_rows = pd.DataFrame({"category": categories, "colour": colours}).groupby(
        ["category", "colour"], sort=False).size().reset_index(name="stakeholders")
    rows = [{"shows": f"Colour ({colour_by.replace('_', ' ')})", "meaning": c, "style": col, "count": int(k)}
            for c, col, k in colour_rows.itertuples(index=False)]
    for kind, count in kinds.value_counts(sort=False).items():
        rows.append({"shows": "Shape (kind)", "meaning": KINDS.get(kind, kind or BLANK),
                     "style": KIND_SHAPES.get(kind, _OTHER_SHAPE), "count": int(count)})
    for t in used_types:
        dash = type_dash[t]
        rows.append({"shows": "Line (relationship type)", "meaning": t or "tie",
                     "style": f"{type_colour[t]}, {'dashed' if dash else 'solid'}", "count": pd.NA})
    legend = pd.DataFrame(rows, columns=["shows", "meaning", "style", "count"])
    legend["count"] = legend["count"].astype("Int64")
    return legend


# --- the aggregated map ------------------------------------------------------------------------------

def aggregate_html(
    groups: pd.DataFrame,
    group_ties: pd.DataFrame,
    *,
    positions: np.ndarray,
    by_label: str,
    height: int = 650,
) -> NetworkHtml:
    """Groups as nodes sized by how many stakeholders they hold, ties weighted by how many ties join them.

    ``groups`` and ``group_ties`` come from ``coprod_map.analysis.network.aggregate_map``; ``positions``
    (one row per group, in order) from ``coprod_map.analysis.layout.group_positions``.
    """
    names = plain_text(groups["group"])
    counts = groups["count"].to_numpy(dtype=float)
    top = counts.max() if len(counts) else 1
    sizes = 12 + 48 * np.sqrt(counts / top) if top > 0 else np.full(len(counts), 12.0)
    colours = qualitative(len(groups))
    opaque = [f"g{i}" for i in range(len(groups))]
    to_opaque = dict(zip(groups["group"].astype(str), opaque, strict=True))
    titles = plain_text(
        f"{by_label}: " + groups["group"].astype(str)
        + "\nStakeholders: " + groups["count"].astype(int).map("{:,}".format)
        + "\nTies within the group: " + groups["ties_within"].astype(int).map("{:,}".format)
    )
    labels = names + " (" + groups["count"].astype(int).map("{:,}".format) + ")"
    nodes = [
        {"id": i, "label": lab, "title": t, "color": c, "size": float(s), "shape": "dot",
         "x": float(x), "y": float(y)}
        for i, lab, t, c, s, x, y in zip(opaque, labels.tolist(), titles.tolist(), colours, sizes.tolist(),
                                         positions[:, 0].tolist(), positions[:, 1].tolist(), strict=True)
    ]
    ties = group_ties["ties"].to_numpy(dtype=float)
    top_ties = ties.max() if len(ties) else 1
    widths = (1 + 9 * np.log1p(ties) / np.log1p(top_ties)).tolist() if len(ties) else []
    edge_titles = plain_text(
        group_ties["ties"].astype(int).map("{:,}".format).astype(object) + " ties between "
        + group_ties["a"].astype(str) + " and " + group_ties["b"].astype(str)
    ) if len(group_ties) else pd.Series([], dtype=object)  # no ties between groups: an empty map's lines
    edges = [
        {"from": to_opaque[a], "to": to_opaque[b], "title": t, "width": w, "color": NEUTRAL}
        for a, b, t, w in zip(group_ties["a"].astype(str).tolist(), group_ties["b"].astype(str).tolist(),
                              edge_titles.tolist(), widths, strict=True)
    ]
    html = _render(nodes, edges, height=height)
    legend = pd.DataFrame({
        "shows": f"Group ({by_label})",
        "meaning": groups["group"].astype(str),
        "style": colours,
        "count": groups["count"].astype("Int64"),
    })
    return NetworkHtml(html=html, legend=legend, nodes=len(nodes), edges=len(edges))


# --- the whole view: filters, then a map or an aggregated map ---------------------------------------

#: Above this many stakeholders the view shows groups instead of people (browsers freeze beyond it).
NODE_LIMIT = 1500

#: What node size can show, and the words for it.
SIZE_MEASURES: dict[str, str] = {
    "": "Same size",
    "degree": "Number of ties",
    "betweenness": "Brokerage (betweenness)",
    "influence": "Influence",
    "affected": "How affected",
}


@dataclass(frozen=True)
class NetworkView:
    """What the Relationships page draws: the page, its legend, and what it stands for."""

    page: NetworkHtml
    aggregated: bool
    shown: int  # stakeholders represented
    note: str  # plain words on what the view shows (filters, aggregation, trimming)
    groups: tuple[str, ...] = ()  # groups the user can drill into when aggregated


def network_view(
    project,
    *,
    metrics: pd.DataFrame | None = None,
    colour_by: str = "involvement",
    size_by: str = "",
    kinds: tuple[str, ...] = (),
    roles: tuple[str, ...] = (),
    attribute: str | None = None,
    values: tuple[str, ...] = (),
    types: tuple[str, ...] = (),
    cycle: str | None = None,
    focus: str | None = None,
    steps: int = 1,
    group_by: str = "community",
    drill: str | None = None,
    limit: int = NODE_LIMIT,
    height: int = 650,
    seed: int = 0,
    tg=None,
) -> NetworkView:
    """Filter the map, then draw people (up to ``limit``) or groups of ``group_by`` (an attribute column or
    ``"community"``, which needs ``metrics`` from ``metrics_table``). ``drill`` shows one group's members.
    ``tg``: the whole project's ``tie_graph`` when the caller already has it (used when nothing is filtered).
    """
    from coprod_map.analysis import layout
    from coprod_map.analysis import network as nw

    unfiltered = not (kinds or roles or (attribute and values) or types or cycle or focus is not None)
    if unfiltered and tg is not None and drill is None and len(project.stakeholders) > limit:
        # nothing filtered out: the groups come straight from the project's graph, no copy of the tables
        people = project.stakeholders.reset_index(drop=True)
        return _aggregated(people, tg, _group_labels(people, group_by, metrics), group_by=group_by,
                           notes=[], height=height, seed=seed)
    people, ties = nw.select_view(project, kinds=kinds, roles=roles, attribute=attribute, values=values,
                                  types=types, cycle=cycle, focus=focus, steps=steps)
    total = len(people)
    notes = []
    if total < len(project.stakeholders):
        notes.append(f"The filters keep {total:,} of {len(project.stakeholders):,} stakeholders.")
    group_labels = _group_labels(people, group_by, metrics)
    if drill is not None:
        keep = (group_labels == drill).to_numpy()
        people = people[keep].reset_index(drop=True)
        ids = people["id"].astype(str)
        ties = ties[ties["source"].astype(str).isin(ids) & ties["target"].astype(str).isin(ids)]
        notes.append(f"Showing the {len(people):,} stakeholders in one group of {_by_words(group_by)}.")
    if len(people) > limit and drill is None:
        return _aggregated(people, nw.tie_graph(people, ties), group_labels, group_by=group_by, notes=notes,
                           height=height, seed=seed)
    if len(people) > limit:
        tg = nw.tie_graph(people, ties)
        top = np.sort(np.argsort(-tg.degree, kind="stable")[:limit])
        people = people.iloc[top].reset_index(drop=True)
        ids = people["id"].astype(str)
        ties = ties[ties["source"].astype(str).isin(ids) & ties["target"].astype(str).isin(ids)]
        notes.append(f"This group is large: showing its {limit:,} most connected members.")
    tg = nw.tie_graph(people, ties)
    positions = layout.positions(tg, seed=seed)
    size = None
    if size_by in ("degree", "betweenness") and metrics is not None:
        size = metrics.set_index(metrics["id"].astype(str))[size_by]
    elif size_by in ("influence", "affected"):
        size = people.set_index(people["id"].astype(str))[size_by]
    page = map_html(people, ties, positions=positions, colour_by=colour_by, size=size,
                    size_label=SIZE_MEASURES.get(size_by, ""),
                    relationship_types=tuple(project.settings.relationship_types), height=height)
    return NetworkView(page=page, aggregated=False, shown=len(people), note=" ".join(notes))


def _aggregated(people: pd.DataFrame, tg, group_labels: pd.Series, *, group_by: str, notes: list[str], height: int,
                seed: int) -> NetworkView:
    """The map of groups: ``tg`` is the graph of ``people`` (the kept stakeholders), ``group_labels`` their groups."""
    from coprod_map.analysis import layout
    from coprod_map.analysis import network as nw

    total = len(people)
    groups, group_ties = nw.aggregate_map(tg, group_labels.to_numpy(dtype=object))
    index = {g: i for i, g in enumerate(groups["group"])}
    edges = (group_ties["a"].map(index).to_numpy(dtype=np.int64),
             group_ties["b"].map(index).to_numpy(dtype=np.int64), group_ties["ties"].to_numpy())
    page = aggregate_html(groups, group_ties, positions=layout.group_positions(len(groups), edges, seed=seed),
                          by_label=_by_words(group_by).capitalize(), height=height)
    notes = [*notes,
             f"{total:,} stakeholders are too many to draw one by one, so each circle is a group of "
             f"{_by_words(group_by)}, sized by how many stakeholders it holds; lines are weighted by the ties "
             "between groups. Choose a group to see its members."]
    return NetworkView(page=page, aggregated=True, shown=total, note=" ".join(notes),
                       groups=tuple(groups["group"].astype(str)))


def _by_words(group_by: str) -> str:
    return "communities" if group_by == "community" else f"'{group_by.replace('_', ' ')}'"


def _group_labels(people: pd.DataFrame, group_by: str, metrics: pd.DataFrame | None) -> pd.Series:
    """Each kept stakeholder's group as text (community numbers read "Community 3"; no ties: "No ties")."""
    if group_by == "community":
        if metrics is None:
            return pd.Series(["All"] * len(people), dtype=object)
        ids = people["id"].astype(str).to_numpy(dtype=object)
        metric_ids = metrics["id"].astype(str).to_numpy(dtype=object)
        if len(ids) == len(metric_ids) and (ids == metric_ids).all():  # the same stakeholders in the same order
            community = metrics["community"].astype("Int64").reset_index(drop=True)
        else:
            community = pd.Series(ids).map(metrics.set_index(pd.Index(metric_ids))["community"]).astype("Int64")
        words = "Community " + community.astype(str)
        return pd.Series(np.where(community.isna().to_numpy(), "No ties", words.to_numpy(dtype=object)), dtype=object)
    if group_by in LIST_COLUMNS:
        return _colour_values(people, group_by).astype(object)
    return pd.Series(category_labels(people, group_by)["category"].astype(str).to_numpy(dtype=object))
