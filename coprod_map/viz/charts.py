"""Representation charts: gap table in, plotly figure out.

Rules every chart here keeps:

- suppressed groups (and the unknown answers kept out of the shares) are left out, never drawn as 0;
  :func:`coprod_map.viz.summaries.suppressed_caption` says so beside the chart;
- category names are ``html.escape``d (plotly renders a subset of HTML in labels and hovers);
- hover text comes from ``customdata`` through a fixed ``hovertemplate`` with no user text in it;
- colour is never the only carrier of meaning: bars also carry a text label, lines a marker shape.

Shares are shown as percentages and gaps as percentage points.
"""

from __future__ import annotations

import html

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from coprod_map.viz.palette import NEUTRAL, OVER, UNDER, qualitative

__all__ = ["FLAG_STYLE", "gap_chart", "intersection_heatmap", "label_column", "share_chart", "shown_rows", "trend_chart"]

#: flag -> (legend words, colour, bar label)
FLAG_STYLE: dict[str, tuple[str, str, str]] = {
    "under": ("Fewer than expected", UNDER, "fewer"),
    "within": ("About as expected", NEUTRAL, "as expected"),
    "over": ("More than expected", OVER, "more"),
    "": ("No comparison", NEUTRAL, ""),
}

_GAP_HOVER = (
    "%{customdata[0]}<br>Affected: %{customdata[1]:.1f}%<br>Involved: %{customdata[2]:.1f}% "
    "(95% interval %{customdata[3]:.1f}% to %{customdata[4]:.1f}%)<br>Gap: %{x:+.1f} points<extra></extra>"
)
_SHARE_HOVER = "%{customdata[0]}<br>%{customdata[1]}: %{y:.1f}%<extra></extra>"
_HEAT_HOVER = (
    "%{customdata[0]} / %{customdata[1]}<br>Affected: %{customdata[2]:.1f}%<br>Involved: %{customdata[3]:.1f}%"
    "<br>Gap: %{z:+.1f} points<extra></extra>"
)
_TREND_HOVER = "%{customdata[0]}<br>%{x}<br>Gap: %{y:+.1f} points<extra></extra>"
_FONT = {"family": "Arial, sans-serif", "size": 14}


def _escape(values) -> list[str]:
    return [html.escape(str(v)) for v in values]


def shown_rows(table: pd.DataFrame) -> pd.DataFrame:
    """The rows a chart draws: known categories, not suppressed, with an involved share."""
    keep = ~table["suppressed"].astype(bool)
    if "known" in table:
        keep &= table["known"].astype(bool)
    keep &= table["involved_share"].notna()
    return table.loc[keep]


def _label(table: pd.DataFrame) -> pd.Series:
    """Category names, prefixed with the attribute when the table holds more than one."""
    if table["attribute"].nunique() > 1:
        return table["attribute"].astype(str) + ": " + table["category"].astype(str)
    return table["category"].astype(str)


def _pct(values: pd.Series) -> np.ndarray:
    return pd.to_numeric(values, errors="coerce").astype("float64").to_numpy() * 100


def gap_chart(table: pd.DataFrame, *, title: str = "") -> go.Figure:
    """A diverging bar per group: involved share minus affected share, with the 95% interval.

    Bars left of 0 mean fewer people involved than the affected share; the error bar shows how far
    chance alone could move the involved share. One trace per verdict so the legend names it.

    >>> t = pd.DataFrame({"attribute": ["age"] * 2, "category": ["young", "<b>old</b>"], "affected_share": [0.5, 0.5],
    ...                   "involved_share": [0.2, 0.8], "gap": [-0.3, 0.3], "ci_low": [0.1, 0.7], "ci_high": [0.3, 0.9],
    ...                   "flag": ["under", "over"], "suppressed": [False, False], "known": [True, True]})
    >>> fig = gap_chart(t)
    >>> [list(trace.y) for trace in fig.data if trace.type == "bar"]
    [['young'], ['&lt;b&gt;old&lt;/b&gt;']]
    >>> list(fig.layout.yaxis2.ticktext)  # the values in a column of their own, right of the plot
    ['-30 (fewer)', '+30 (more)']
    """
    rows = shown_rows(table)
    rows = rows.loc[rows["gap"].notna()]
    labels = _escape(_label(rows))
    order = labels[::-1]  # first category at the top
    fig = go.Figure()
    gap = _pct(rows["gap"])
    involved, low, high = _pct(rows["involved_share"]), _pct(rows["ci_low"]), _pct(rows["ci_high"])
    custom = np.empty((len(rows), 5), dtype=object)  # object: numbers stay numbers for the hover format
    if len(rows):
        custom[:, 0] = labels
        for i, values in enumerate((_pct(rows["affected_share"]), involved, low, high), start=1):
            custom[:, i] = values
    for flag, (name, colour, _word) in FLAG_STYLE.items():
        mask = (rows["flag"].astype(str) == flag).to_numpy()
        if not mask.any():
            continue
        fig.add_trace(
            go.Bar(
                x=gap[mask],
                y=np.asarray(labels, dtype=object)[mask],
                orientation="h",
                name=name,
                marker={"color": colour, "line": {"color": "#000000", "width": 1}},
                error_x={"type": "data", "symmetric": False, "array": (high - involved)[mask],
                         "arrayminus": (involved - low)[mask], "color": "#333333", "thickness": 1.5},
                customdata=custom[mask],
                hovertemplate=_GAP_HOVER,
            )
        )
    words = rows["flag"].astype(str).map({f: style[2] for f, style in FLAG_STYLE.items()}).fillna("").to_numpy(object)
    axis = {"categoryorder": "array", "categoryarray": order, "automargin": True}
    label_column(fig, labels, [f"{v:+.0f} ({w})" if w else f"{v:+.0f}" for v, w in zip(gap, words, strict=True)],
                 axis=axis)
    fig.add_vline(x=0, line_color="#000000", line_width=1)
    fig.update_layout(
        # the title at the very top, the legend above the plot (the right-hand side holds the gap labels)
        title={"text": html.escape(title) or "Involved minus affected share", "yref": "container", "y": 1,
               "yanchor": "top", "pad": {"t": 12}},
        xaxis_title="Gap in points (left of 0: fewer involved)",
        yaxis=axis,
        barmode="overlay",
        font=_FONT,
        legend={"title": {"text": "Compared with those affected"}, "orientation": "h",
                "x": 0, "xanchor": "left", "y": 1.02, "yanchor": "bottom"},
        margin={"t": 90},
        height=max(320, 150 + 40 * len(rows)),
    )
    return fig


def label_column(fig: go.Figure, categories: list[str], texts: list[str], *, axis: dict) -> None:
    """Show ``texts`` (no user words in them) as a column of labels right of the plot, one per category.

    They are the tick labels of a right-hand ``yaxis2`` laid over ``yaxis`` (``axis``: its settings, so the
    categories line up): beside the plot, never on a bar, marker or whisker, at any screen width, and
    ``automargin`` widens the margin to fit them. An invisible trace (no hover, no legend) puts the
    (escaped) ``categories`` on that axis.
    """
    fig.add_trace(go.Scatter(x=[0] * len(categories), y=list(categories), yaxis="y2", mode="markers",
                             marker={"opacity": 0}, hoverinfo="skip", showlegend=False))
    fig.update_layout(yaxis2={**axis, "overlaying": "y", "side": "right", "matches": "y", "automargin": True,
                              "showgrid": False, "zeroline": False, "ticks": "", "tickfont": {"color": "#111111"},
                              "tickmode": "array", "tickvals": list(categories), "ticktext": list(texts)})


def share_chart(table: pd.DataFrame, *, title: str = "") -> go.Figure:
    """Side-by-side bars: each group's share of those affected and of those involved.

    The involved bar carries its 95% interval; both bars carry their percentage as text.
    """
    rows = shown_rows(table)
    labels = _escape(_label(rows))
    affected, involved = _pct(rows["affected_share"]), _pct(rows["involved_share"])
    low, high = _pct(rows["ci_low"]), _pct(rows["ci_high"])
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            x=labels, y=affected, name="Share of those affected",
            marker={"color": "#BBBBBB", "line": {"color": "#000000", "width": 1}, "pattern": {"shape": "/"}},
            text=[f"{v:.0f}%" if not np.isnan(v) else "" for v in affected], textposition="outside",
            customdata=[[label, "Affected"] for label in labels], hovertemplate=_SHARE_HOVER,
        )
    )
    fig.add_trace(
        go.Bar(
            x=labels, y=involved, name="Share of those involved",
            marker={"color": OVER, "line": {"color": "#000000", "width": 1}},
            text=[f"{v:.0f}%" for v in involved], textposition="outside",
            error_y={"type": "data", "symmetric": False, "array": high - involved, "arrayminus": involved - low,
                     "color": "#333333"},
            customdata=[[label, "Involved"] for label in labels], hovertemplate=_SHARE_HOVER,
        )
    )
    fig.update_layout(
        title=html.escape(title) or "Share of those affected and of those involved",
        barmode="group",
        yaxis_title="Share (%)",
        xaxis={"automargin": True},
        font=_FONT,
        legend_title_text="",
    )
    return fig


def intersection_heatmap(table: pd.DataFrame, *, title: str = "") -> go.Figure:
    """A grid of gaps for a pair of attributes (``category_a`` rows by ``category_b`` columns).

    Each cell shows its gap as text with a marker: ▼ fewer than expected, ▲ more, = as expected.
    Suppressed and unknown cells stay empty (not 0).
    """
    rows = shown_rows(table)
    rows = rows.loc[rows["gap"].notna()]
    a_order = list(dict.fromkeys(rows["category_a"].astype(str)))
    b_order = list(dict.fromkeys(rows["category_b"].astype(str)))
    index = {c: i for i, c in enumerate(a_order)}
    column = {c: i for i, c in enumerate(b_order)}
    z = np.full((len(a_order), len(b_order)), np.nan)
    text = np.full(z.shape, "", dtype=object)
    custom = np.empty(z.shape + (4,), dtype=object)
    custom[...] = ""
    ai = rows["category_a"].astype(str).map(index).to_numpy(int)
    bi = rows["category_b"].astype(str).map(column).to_numpy(int)
    gap = _pct(rows["gap"])
    marks = rows["flag"].map({"under": "▼", "over": "▲", "within": "="}).fillna("").to_numpy(object)
    z[ai, bi] = gap
    text[ai, bi] = [f"{m} {g:+.0f}" for m, g in zip(marks, gap, strict=True)]
    custom[ai, bi, 0] = _escape(rows["category_a"])
    custom[ai, bi, 1] = _escape(rows["category_b"])
    custom[ai, bi, 2] = _pct(rows["affected_share"])
    custom[ai, bi, 3] = _pct(rows["involved_share"])
    limit = float(np.nanmax(np.abs(z))) if np.isfinite(z).any() else 1.0
    fig = go.Figure(
        go.Heatmap(
            z=z, x=_escape(b_order), y=_escape(a_order), text=text, texttemplate="%{text}",
            customdata=custom, hovertemplate=_HEAT_HOVER, zmid=0, zmin=-limit, zmax=limit,
            colorscale=[[0.0, UNDER], [0.5, "#FFFFFF"], [1.0, OVER]],
            colorbar={"title": {"text": "Gap (points)"}}, xgap=2, ygap=2,
        )
    )
    pair = str(table["attribute"].iloc[0]) if len(table) else ""
    fig.update_layout(
        title=html.escape(title) or f"Gap by {html.escape(pair.replace('_', ' '))} (▼ fewer, ▲ more than expected)",
        yaxis={"autorange": "reversed", "automargin": True},
        xaxis={"automargin": True},
        font=_FONT,
    )
    return fig


_SYMBOLS = ["circle", "square", "diamond", "triangle-up", "cross", "x", "star", "hexagon"]


def trend_chart(table: pd.DataFrame, *, title: str = "") -> go.Figure:
    """The gap per period for each group: a line with markers (a different shape per group) and
    the 95% interval as error bars; the 0 line is "as many involved as affected"."""
    rows = shown_rows(table)
    rows = rows.loc[rows["gap"].notna()]
    periods = list(dict.fromkeys(table["period"].astype(str)))
    categories = list(dict.fromkeys(rows["category"].astype(str)))
    colours = qualitative(len(categories))
    fig = go.Figure()
    for i, category in enumerate(categories):
        group = rows.loc[rows["category"].astype(str) == category]
        gap, involved = _pct(group["gap"]), _pct(group["involved_share"])
        low, high = _pct(group["ci_low"]), _pct(group["ci_high"])
        label = html.escape(category)
        fig.add_trace(
            go.Scatter(
                x=_escape(group["period"]), y=gap, name=label, mode="lines+markers",
                line={"color": colours[i], "width": 2},
                marker={"symbol": _SYMBOLS[i % len(_SYMBOLS)], "size": 10, "color": colours[i]},
                error_y={"type": "data", "symmetric": False, "array": high - involved, "arrayminus": involved - low},
                customdata=[[label]] * len(group), hovertemplate=_TREND_HOVER,
            )
        )
    fig.add_hline(y=0, line_color="#000000", line_width=1)
    fig.update_layout(
        title=html.escape(title) or "Gap over time (percentage points)",
        xaxis={"categoryorder": "array", "categoryarray": _escape(periods), "title": "Period"},
        yaxis_title="Involved minus affected share (points)",
        font=_FONT,
        legend_title_text="Group",
    )
    return fig
