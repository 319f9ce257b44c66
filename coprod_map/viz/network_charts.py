"""Plotly charts for the Relationships page: the power and interest grid and the mixing heatmap.

User text reaches plotly only html-escaped, through ``customdata`` or axis categories, and every
hovertemplate is a fixed string: plotly renders a subset of HTML in hover labels and tick text.
"""

from __future__ import annotations

import html

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from coprod_map.analysis.network import OVERHEARD, OVERLOOKED
from coprod_map.model import AFFECTED_LEVELS, INVOLVEMENT_LEVELS, KINDS
from coprod_map.viz.palette import INVOLVEMENT_COLOURS, NEUTRAL, OKABE_ITO

__all__ = ["KIND_SYMBOLS", "POINTS_LIMIT", "mixing_heatmap", "power_interest_cells", "power_interest_chart",
           "power_interest_sentence", "selected_rows"]

#: Above this many stakeholders the power and interest grid shows counts per cell, not one point each
#: (100,000 plotly points take seconds to build and are unreadable anyway).
POINTS_LIMIT = 2000

#: Marker symbols by kind (plotly names); anything else is a star.
KIND_SYMBOLS: dict[str, str] = {
    "person": "circle",
    "group": "triangle-up",
    "organisation": "square",
    "community_asset": "diamond",
}

_HOVER = (
    "%{customdata[0]}<br>%{customdata[1]} · %{customdata[2]}<br>"
    "Affected: %{customdata[3]}<br>Influence: %{customdata[4]} of 5<extra></extra>"
)


def _escape(values: pd.Series) -> list[str]:
    return [html.escape(str(v)) for v in values]


def power_interest_chart(grid: pd.DataFrame, *, seed: int = 0, selected: str | None = None,
                         points_limit: int = POINTS_LIMIT, cells: pd.DataFrame | None = None) -> go.Figure:
    """Influence (0-5, up) against how affected (0-3, across), one trace per involvement rung.

    Above ``points_limit`` rows each trace holds one bubble per (affected, influence) cell sized by how
    many stakeholders are in it (``power_interest_cells``), and ``selected`` is drawn as its own point;
    bubbles carry no grid row, so ``selected_rows`` reads nothing from them.

    ``grid`` is ``coprod_map.analysis.network.power_interest_table``; ``cells``, its ``power_interest_cells``
    when the caller already has them. Points are jittered (seeded) so people
    with the same scores do not hide each other; shapes show kind; points in the two highlighted groups
    get a thick dark outline, and the two regions are shaded. ``customdata[5]`` of each point is its row in
    ``grid``, for reading a selection back (``selected_rows``). ``selected`` (an id) is drawn larger.
    """
    if len(grid) > points_limit:
        return _bubble_chart(grid, selected=selected, cells=cells)
    rng = np.random.default_rng(seed)
    jitter_x = rng.uniform(-0.18, 0.18, len(grid))
    jitter_y = rng.uniform(-0.25, 0.25, len(grid))
    fig = _frame()
    levels = [*INVOLVEMENT_LEVELS, ""]
    for level in levels:
        mask = (grid["involvement"] == level).to_numpy() if level else \
            ~grid["involvement"].isin(list(INVOLVEMENT_LEVELS)).to_numpy()
        if not mask.any():
            continue
        part = grid[mask]
        rows = np.flatnonzero(mask)
        highlighted = (part["highlight"] != "").to_numpy()
        is_selected = (part["id"] == selected).to_numpy() if selected is not None else np.zeros(len(part), bool)
        customdata = np.column_stack([
            _escape(part["name"]),
            [html.escape(INVOLVEMENT_LEVELS.get(v, v or "Not recorded")) for v in part["involvement"]],
            [html.escape(KINDS.get(v, v or "Not recorded")) for v in part["kind"]],
            [AFFECTED_LEVELS.get(int(v), str(v)) for v in part["affected"]],
            part["influence"].astype(int).astype(str).to_numpy(),
            rows.astype(str),
        ])
        fig.add_trace(go.Scatter(
            x=part["affected"].to_numpy(dtype=float) + jitter_x[mask],
            y=part["influence"].to_numpy(dtype=float) + jitter_y[mask],
            mode="markers",
            name=INVOLVEMENT_LEVELS.get(level, "Not recorded"),
            customdata=customdata,
            hovertemplate=_HOVER,
            marker={
                "color": INVOLVEMENT_COLOURS.get(level, NEUTRAL),
                "symbol": [KIND_SYMBOLS.get(k, "star") for k in part["kind"]],
                "size": np.where(is_selected, 20, 12).tolist(),
                "line": {"color": np.where(highlighted | is_selected, "#000000", "#555555").tolist(),
                         "width": np.where(highlighted | is_selected, 3, 1).tolist()},
            },
        ))
    return _layout(fig)


_CELL_HOVER = ("%{customdata[0]}<br>Affected: %{customdata[1]}<br>Influence: %{customdata[2]} of 5<br>"
               "%{customdata[3]} stakeholders%{customdata[4]}<extra></extra>")


def power_interest_cells(grid: pd.DataFrame) -> pd.DataFrame:
    """Stakeholders counted per (``involvement``, ``affected``, ``influence``) cell, with the cell's ``highlight``
    (it depends on those three only) and ``stakeholders``; involvement outside the ladder counts as ``""``."""
    involvement = grid["involvement"].where(grid["involvement"].isin(list(INVOLVEMENT_LEVELS)), "")
    cells = pd.DataFrame({"involvement": involvement.to_numpy(), "affected": grid["affected"].to_numpy(),
                          "influence": grid["influence"].to_numpy(), "highlight": grid["highlight"].to_numpy()})
    return cells.groupby(["involvement", "affected", "influence", "highlight"], sort=True).size() \
        .reset_index(name="stakeholders")


def _bubble_chart(grid: pd.DataFrame, *, selected: str | None, cells: pd.DataFrame | None = None) -> go.Figure:
    cells = power_interest_cells(grid) if cells is None else cells
    fig = _frame()
    levels = [*INVOLVEMENT_LEVELS, ""]
    biggest = max(int(cells["stakeholders"].max()), 1) if len(cells) else 1
    for i, level in enumerate(levels):
        part = cells[cells["involvement"] == level]
        if not len(part):
            continue
        count = part["stakeholders"].to_numpy()
        highlighted = (part["highlight"] != "").to_numpy()
        name = INVOLVEMENT_LEVELS.get(level, "Not recorded")
        customdata = np.column_stack([
            np.full(len(part), html.escape(name), dtype=object),
            [AFFECTED_LEVELS.get(int(v), str(v)) for v in part["affected"]],
            part["influence"].astype(int).astype(str).to_numpy(),
            [f"{int(c):,}" for c in count],
            np.where(highlighted, " (highlighted group)", ""),
        ])
        offset = (i - (len(levels) - 1) / 2) * 0.07  # levels side by side within a cell
        fig.add_trace(go.Scatter(
            x=part["affected"].to_numpy(dtype=float) + offset,
            y=part["influence"].to_numpy(dtype=float),
            mode="markers", name=name, customdata=customdata, hovertemplate=_CELL_HOVER,
            marker={"color": INVOLVEMENT_COLOURS.get(level, NEUTRAL), "sizemode": "diameter",
                    "size": 6 + 34 * np.sqrt(count / biggest),
                    "line": {"color": np.where(highlighted, "#000000", "#555555"),
                             "width": np.where(highlighted, 3, 1)}},
        ))
    chosen = grid[grid["id"] == selected] if selected is not None else grid.iloc[:0]
    if len(chosen):
        row = chosen.iloc[0]
        fig.add_trace(go.Scatter(
            x=[float(row["affected"])], y=[float(row["influence"])], mode="markers", name="Selected",
            customdata=[[html.escape(str(row["name"])), AFFECTED_LEVELS.get(int(row["affected"]), ""),
                         str(int(row["influence"])), "1", ""]],
            hovertemplate=_CELL_HOVER,
            marker={"color": "#000000", "symbol": "x", "size": 14},
        ))
    return _layout(fig)


#: The y axis runs past the scores (0-5) into a strip above and below that no point can reach (jitter is at most
#: 0.25 and the biggest marker about 0.4 of a unit at this height): the region labels sit there, clear of the data.
Y_RANGE = (-1.2, 6.2)
LABEL_Y = {"overlooked": -0.85, "overheard": 5.85}
_LABEL_STYLE = {"showarrow": False, "yanchor": "middle", "font": {"size": 12, "color": "#111111"},
                "bgcolor": "rgba(255,255,255,0.85)", "borderpad": 2}


def _frame() -> go.Figure:
    fig = go.Figure()
    low, high = Y_RANGE
    fig.add_shape(type="rect", x0=1.5, x1=3.5, y0=low, y1=2.5, fillcolor=OKABE_ITO["vermilion"], opacity=0.08,
                  line_width=0, layer="below")
    fig.add_shape(type="rect", x0=-0.5, x1=1.5, y0=3.5, y1=high, fillcolor=OKABE_ITO["blue"], opacity=0.08,
                  line_width=0, layer="below")
    fig.add_annotation(x=2.5, y=LABEL_Y["overlooked"], text="Highly affected, little power", **_LABEL_STYLE)
    fig.add_annotation(x=0.5, y=LABEL_Y["overheard"], text="Much power, little affected", **_LABEL_STYLE)
    return fig


def _layout(fig: go.Figure) -> go.Figure:
    fig.update_layout(
        xaxis={"title": "How affected", "range": [-0.5, 3.5], "tickvals": list(AFFECTED_LEVELS),
               "ticktext": list(AFFECTED_LEVELS.values()), "zeroline": False},
        yaxis={"title": "Influence (0 none, 5 a great deal)", "range": list(Y_RANGE), "tickvals": list(range(6)),
               "zeroline": False},
        legend={"title": {"text": "Involvement"}},
        margin={"l": 60, "r": 20, "t": 30, "b": 50},
        height=520,
        clickmode="event+select",
        dragmode="select",
    )
    return fig


def selected_rows(event: object) -> list[int]:
    """Rows of the grid table picked in a plotly selection event (read dict-style, as Streamlit returns it)."""
    try:
        points = event["selection"]["points"]  # type: ignore[index]
    except (KeyError, TypeError):
        return []
    rows = []
    for point in points or []:
        data = point.get("customdata") if isinstance(point, dict) else None
        if data is not None and len(data) > 5:
            try:
                rows.append(int(data[5]))
            except (TypeError, ValueError):
                continue
    return rows


def power_interest_sentence(grid: pd.DataFrame, *, total: int) -> str:
    """A plain summary of the grid: how many are placed and how many fall in each highlighted group."""
    overlooked = int((grid["highlight"] == OVERLOOKED).sum())
    overheard = int((grid["highlight"] == OVERHEARD).sum())
    missing = total - len(grid)
    text = (
        f"{len(grid)} stakeholders have both an influence and an 'affected' score. "
        f"{overlooked} are highly affected, have little power and are not taking part; "
        f"{overheard} have much power, are little affected and are heavily involved."
    )
    if missing:
        text += f" {missing} more are not shown because one of the two scores is blank."
    return text


def mixing_heatmap(matrix: pd.DataFrame, *, by: str) -> go.Figure:
    """Tie counts between categories as a heatmap with the count written in each cell."""
    labels = [html.escape(str(c)) for c in matrix.columns]
    fig = go.Figure(go.Heatmap(
        z=matrix.to_numpy(),
        x=labels,
        y=labels,
        colorscale="Blues",
        texttemplate="%{z}",
        hovertemplate="%{y} and %{x}: %{z} ties<extra></extra>",
        colorbar={"title": {"text": "Ties"}},
    ))
    title = html.escape(by.replace("_", " "))
    fig.update_layout(
        xaxis={"title": title, "type": "category"},
        yaxis={"title": title, "type": "category", "autorange": "reversed"},
        margin={"l": 80, "r": 20, "t": 30, "b": 80},
        height=max(320, 60 + 40 * len(labels)),
    )
    return fig
