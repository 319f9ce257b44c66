"""Node positions computed on the server (igraph), so the browser never runs a physics simulation.

vis-network's own physics takes seconds at 100 nodes and never settles at a few thousand; positions
computed here and drawn with physics off are ready in well under a second (see performance notes §3).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from coprod_map.analysis.network import TieGraph

__all__ = ["SCALE", "group_positions", "positions"]

#: Positions are scaled to about -SCALE..SCALE, which suits vis-network's default zoom.
SCALE = 1000.0


def positions(tg: TieGraph, *, seed: int = 0, weights: np.ndarray | None = None) -> pd.DataFrame:
    """``id``, ``x``, ``y`` for every stakeholder in ``tg`` (row order), from a Fruchterman-Reingold layout.

    Deterministic for a given ``seed``: the starting positions come from a seeded generator.
    Isolated stakeholders are placed by the layout too (on the edge of the drawing).
    ``weights`` (one per tie, larger = pulled closer) is optional.

    >>> import pandas as pd
    >>> from coprod_map.analysis.network import tie_graph
    >>> tg = tie_graph(pd.DataFrame({"id": ["a", "b", "c"]}), pd.DataFrame({"source": ["a"], "target": ["b"]}))
    >>> p = positions(tg)
    >>> list(p.columns), len(p), bool(p[["x", "y"]].abs().max().max() <= SCALE)
    (['id', 'x', 'y'], 3, True)
    """
    n = tg.n
    if n == 0:
        return pd.DataFrame({"id": pd.Series([], dtype=object), "x": [], "y": []})
    if n == 1:
        xy = np.zeros((1, 2))
    else:
        start = np.random.default_rng(seed).uniform(-1, 1, size=(n, 2)) * np.sqrt(n)
        niter = 500 if n <= 300 else 200
        layout = tg.graph.layout_fruchterman_reingold(
            seed=start.tolist(), niter=niter, weights=None if weights is None else list(map(float, weights)),
            grid="auto",
        )
        xy = np.asarray(layout.coords, dtype=float)
    return pd.DataFrame({"id": tg.ids.to_numpy(), "x": _scaled(xy[:, 0]), "y": _scaled(xy[:, 1])})


def group_positions(count: int, edges: tuple[np.ndarray, np.ndarray, np.ndarray], *, seed: int = 0) -> np.ndarray:
    """Positions (``count`` x 2) for an aggregated map: groups as nodes, ``edges`` = (a, b, ties) index arrays."""
    import igraph as ig

    if count <= 1:
        return np.zeros((count, 2))
    g = ig.Graph(n=count, edges=list(zip(edges[0].tolist(), edges[1].tolist(), strict=True)))
    start = np.random.default_rng(seed).uniform(-1, 1, size=(count, 2)) * np.sqrt(count)
    weights = np.log1p(np.asarray(edges[2], dtype=float)).tolist() if len(edges[2]) else None
    layout = g.layout_fruchterman_reingold(seed=start.tolist(), niter=500, weights=weights)
    xy = np.asarray(layout.coords, dtype=float)
    return np.column_stack([_scaled(xy[:, 0]), _scaled(xy[:, 1])])


def _scaled(values: np.ndarray) -> np.ndarray:
    centred = values - (values.max() + values.min()) / 2
    span = np.abs(centred).max()
    return np.round(centred / span * SCALE if span > 0 else centred, 1)
