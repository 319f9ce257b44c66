"""Charts of the co-production record: table in, plotly figure out.

Same rules as ``coprod_map.viz.charts``: labels from the data are ``html.escape``d, hover text comes
from ``customdata`` through fixed templates holding no user text, colours are the Okabe-Ito palette,
and every bar carries a text label (on it, or in a column beside the plot) so colour is never the only
carrier of meaning.
"""

from __future__ import annotations

import html

import pandas as pd
import plotly.graph_objects as go

from coprod_map.record import ACTION_STATUSES, MET
from coprod_map.viz.charts import label_column
from coprod_map.viz.palette import NEUTRAL, OKABE_ITO

__all__ = ["actions_chart", "decision_power_chart", "health_chart", "needs_chart", "reciprocity_chart"]

_FONT = {"family": "Arial, sans-serif", "size": 14}
_COUNT_HOVER = "%{customdata[0]}<br>%{customdata[1]}: %{x}<extra></extra>"


def _escape(values) -> list[str]:
    return [html.escape(str(v)) for v in values]


def _layout(fig: go.Figure, *, title: str, x: str = "", y: str = "", **kw) -> go.Figure:
    fig.update_layout(title=html.escape(title), font=_FONT, xaxis_title=x, yaxis_title=y,
                      margin={"l": 10, "r": 10, "t": 60, "b": 10}, legend={"orientation": "h", "y": -0.2}, **kw)
    return fig


def decision_power_chart(power: pd.DataFrame) -> go.Figure:
    """Share of decisions people with lived experience took part in, beside their share of those taking part."""
    fig = go.Figure()
    periods = _escape(power["period"])
    for column, name, colour, pattern in (
        ("decision_share", "Share of decisions they took part in", OKABE_ITO["blue"], ""),
        ("participation_share", "Their share of everyone taking part", OKABE_ITO["orange"], "/"),
    ):
        values = (power[column].astype("Float64") * 100).round(1)
        fig.add_bar(x=periods, y=values.astype(float).fillna(0).tolist(), name=name, marker_color=colour,
                    marker_pattern_shape=pattern, text=[f"{v:.0f}%" if pd.notna(v) else "no data" for v in values],
                    textposition="outside", customdata=[[name] for _ in periods],
                    hovertemplate="%{x}<br>%{customdata[0]}: %{y:.1f}%<extra></extra>")
    return _layout(fig, title="People with lived experience: decisions and taking part", y="Percent",
                   barmode="group", yaxis_range=[0, 110])


def reciprocity_chart(by_group: pd.DataFrame) -> go.Figure:
    """Contributions per group, split into those with something returned and those with nothing."""
    groups = _escape(by_group["group"])
    returned = (by_group["contributions"] - by_group["nothing_returned"]).astype(int)
    nothing = by_group["nothing_returned"].astype(int)
    fig = go.Figure()
    fig.add_bar(y=groups, x=returned.tolist(), orientation="h", name="Something returned",
                marker_color=OKABE_ITO["bluish_green"], text=returned.tolist(),
                customdata=[[g, "Something returned"] for g in groups], hovertemplate=_COUNT_HOVER)
    fig.add_bar(y=groups, x=nothing.tolist(), orientation="h", name="Nothing returned",
                marker_color=OKABE_ITO["vermilion"], marker_pattern_shape="x", text=nothing.tolist(),
                customdata=[[g, "Nothing returned"] for g in groups], hovertemplate=_COUNT_HOVER)
    return _layout(fig, title="Contributions and what came back", x="Contributions", barmode="stack",
                   yaxis={"autorange": "reversed"})


def needs_chart(by_activity: pd.DataFrame) -> go.Figure:
    """Needs met, partly met and not met at each activity (counts only: no one's need is named)."""
    labels = _escape(by_activity["title"])
    colours = {"yes": OKABE_ITO["bluish_green"], "partly": OKABE_ITO["yellow"], "no": OKABE_ITO["vermilion"]}
    patterns = {"yes": "", "partly": ".", "no": "x"}
    fig = go.Figure()
    for code, words in MET.items():
        values = by_activity[code].astype(int).tolist() if code in by_activity else [0] * len(labels)
        fig.add_bar(y=labels, x=values, orientation="h", name=words, marker_color=colours[code],
                    marker_pattern_shape=patterns[code], text=values,
                    customdata=[[a, words] for a in labels], hovertemplate=_COUNT_HOVER)
    return _layout(fig, title="Were stated needs met at each activity?", x="Needs", barmode="stack",
                   yaxis={"autorange": "reversed"})


def actions_chart(by_status: pd.DataFrame) -> go.Figure:
    """Actions per review cycle, by status."""
    cycles = _escape(by_status["cycle"])
    colours = {"open": NEUTRAL, "doing": OKABE_ITO["sky_blue"], "done": OKABE_ITO["bluish_green"],
               "dropped": OKABE_ITO["reddish_purple"]}
    patterns = {"open": "", "doing": "/", "done": "", "dropped": "x"}
    fig = go.Figure()
    for code, words in ACTION_STATUSES.items():
        values = by_status[code].astype(int).tolist() if code in by_status else [0] * len(cycles)
        fig.add_bar(x=cycles, y=values, name=words, marker_color=colours[code], marker_pattern_shape=patterns[code],
                    text=values, customdata=[[c, words] for c in cycles],
                    hovertemplate="%{customdata[0]}<br>%{customdata[1]}: %{y}<extra></extra>")
    return _layout(fig, title="Actions in each review cycle", y="Actions", barmode="stack")


def health_chart(health: pd.DataFrame) -> go.Figure:
    """Evidence from the data (bars, 0-3) beside the mean self-assessment per cycle (markers, 1-5 scaled to 0-3)."""
    names = _escape(health["name"])
    ratings = _escape(health["rating"])
    fig = go.Figure()
    fig.add_bar(y=names, x=health["score"].astype(int).tolist(), orientation="h", name="Evidence from the data (0-3)",
                marker_color=OKABE_ITO["blue"],
                customdata=[[n, r] for n, r in zip(names, ratings, strict=True)],
                hovertemplate="%{customdata[0]}<br>%{customdata[1]}<extra></extra>")
    symbols = ["circle", "diamond", "square", "triangle-up", "x", "star"]
    cycle_columns = [c for c in health.columns if str(c).startswith("self-assessment: ")]
    for i, column in enumerate(cycle_columns):
        means = health[column].astype("Float64")
        cycle = html.escape(str(column).removeprefix("self-assessment: "))
        scaled = ((means - 1) * 3 / 4).astype(float)
        fig.add_scatter(y=names, x=scaled.tolist(), mode="markers", name=f"Self-assessment, {cycle} (1-5)",
                        marker={"symbol": symbols[i % len(symbols)], "size": 12,
                                "color": [OKABE_ITO["orange"], OKABE_ITO["reddish_purple"], OKABE_ITO["black"]][i % 3]},
                        customdata=[[n, cycle, float(m) if pd.notna(m) else 0.0] for n, m in zip(names, means, strict=True)],
                        hovertemplate="%{customdata[0]}<br>%{customdata[1]}: mean score %{customdata[2]:.1f} of 5"
                                      "<extra></extra>")
    # the rating words in a column right of the plot, where no self-assessment marker can cover them
    axis = {"autorange": "reversed", "automargin": True}
    label_column(fig, names, ratings, axis=axis)
    _layout(fig, title="Ten components: evidence and self-assessment", x="Evidence (0 none to 3 strong)",
            xaxis_range=[0, 3.2], yaxis=axis, height=520)
    return fig.update_layout(legend_yanchor="top", legend_y=-0.35)  # the legend clear of the axis title
