"""One colour-blind-safe palette for every chart and network view (Okabe & Ito, 2008).

Colour is never the only carrier of meaning: charts also use position, labels, shapes and a
table beside them.
"""

from __future__ import annotations

__all__ = ["INVOLVEMENT_COLOURS", "OKABE_ITO", "OVER", "UNDER", "NEUTRAL", "colour_for", "qualitative"]

OKABE_ITO: dict[str, str] = {
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermilion": "#D55E00",
    "reddish_purple": "#CC79A7",
    "black": "#000000",
}

UNDER = OKABE_ITO["vermilion"]  # under-represented
OVER = OKABE_ITO["blue"]  # over-represented
NEUTRAL = "#7F7F7F"  # within the interval / no clear gap

#: Involvement ladder: light (not involved) to dark (co-producing), a single-hue ramp that
#: stays readable in grey.
INVOLVEMENT_COLOURS: dict[str, str] = {
    "not_involved": "#D9D9D9",
    "informed": "#C6DBEF",
    "consulted": "#9ECAE1",
    "involved": "#4292C6",
    "co_designing": "#2171B5",
    "co_producing": "#08306B",
    "": "#F2F2F2",
}

_ORDER = ["blue", "orange", "bluish_green", "reddish_purple", "sky_blue", "vermilion", "yellow", "black"]


def qualitative(n: int) -> list[str]:
    """``n`` distinct colours, repeating the eight Okabe-Ito colours when ``n`` is larger."""
    return [OKABE_ITO[_ORDER[i % len(_ORDER)]] for i in range(n)]


def colour_for(values: list[str]) -> dict[str, str]:
    """A stable colour per distinct value, in sorted order."""
    distinct = sorted({str(v) for v in values})
    return dict(zip(distinct, qualitative(len(distinct)), strict=True))
