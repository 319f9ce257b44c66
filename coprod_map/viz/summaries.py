"""Plain-language sentences for the representation figures: one per finding, plus an overview.

Sentences are plain text (they may hold users' category names): show them with ``st.text`` or
``coprod_map.ui.widgets.safe_text``, never as markdown or HTML.
"""

from __future__ import annotations

import pandas as pd

__all__ = [
    "gap_sentence",
    "gap_sentences",
    "gap_summary",
    "percent",
    "readable_table",
    "suppressed_caption",
    "trend_summary",
]

_VERDICT = {
    "under": "fewer than we would expect, even allowing for chance.",
    "over": "more than we would expect, even allowing for chance.",
    "within": "about what we would expect, allowing for chance.",
}


def percent(share) -> str:
    """A share 0-1 as a whole percentage people read easily.

    >>> percent(0.184), percent(0.004), percent(0), percent(1), percent(None)
    ('18%', 'less than 1%', '0%', '100%', 'not known')
    """
    if share is None or pd.isna(share):
        return "not known"
    value = float(share) * 100
    if 0 < value < 0.5:
        return "less than 1%"
    if 99.5 <= value < 100:
        return "more than 99%"
    return f"{value:.0f}%"


def _name(row: pd.Series) -> str:
    category = str(row["category"])
    attribute = str(row.get("attribute", "")).replace("_", " ")
    return f"{category} ({attribute})" if attribute else category


def gap_sentence(row: pd.Series, *, min_cell: int = 5) -> str:
    """One sentence for one row of a gap table.

    >>> row = pd.Series({"attribute": "age_band", "category": "16-24", "affected_share": 0.18,
    ...                  "involved_share": 0.04, "involved_count": 2, "flag": "under", "suppressed": False,
    ...                  "known": True})
    >>> gap_sentence(row)
    '16-24 (age band) are 18% of those affected and 4% of those involved: fewer than we would expect, even allowing for chance.'
    """
    name = _name(row)
    if bool(row.get("suppressed", False)):
        sentence = f"{name}: the numbers are too small to show safely (fewer than {min_cell})"
        if str(row.get("flag", "")) == "under":  # the finding, without the figures
            return f"{sentence}, and fewer are involved than we would expect, even allowing for chance."
        return f"{sentence}."
    if not bool(row.get("known", True)):
        count = row.get("involved_count")
        count = 0 if count is None or pd.isna(count) else int(count)
        who = "person" if count == 1 else "people"
        return f"{name}: {count} {who} involved, left out of the shares because the answer is not known."
    affected, involved = row.get("affected_share"), row.get("involved_share")
    if affected is None or pd.isna(affected):
        return f"{name} are {percent(involved)} of those involved; there is no figure for those affected to compare."
    if involved is None or pd.isna(involved):
        return f"{name} are {percent(affected)} of those affected; nobody involved has this recorded yet."
    involved_words = "none of those involved" if float(involved) == 0 else f"{percent(involved)} of those involved"
    verdict = _VERDICT.get(str(row.get("flag", "")), "")
    sentence = f"{name} are {percent(affected)} of those affected and {involved_words}"
    return f"{sentence}: {verdict}" if verdict else f"{sentence}."


def gap_sentences(table: pd.DataFrame, *, min_cell: int = 5, findings_only: bool = False) -> list[str]:
    """A sentence per row (known categories first); ``findings_only`` keeps the under/over rows."""
    rows = table
    if findings_only:
        rows = table.loc[table["flag"].isin(["under", "over"])]
    return [gap_sentence(row, min_cell=min_cell) for _, row in rows.iterrows()]


def _names(rows: pd.DataFrame) -> str:
    names = [str(c) for c in rows["category"]]
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def gap_summary(table: pd.DataFrame, *, min_cell: int = 5) -> str:
    """A short overall summary of a gap table (one attribute or pair).

    >>> t = pd.DataFrame({"attribute": ["age"] * 3, "category": ["young", "old", "not recorded"],
    ...     "flag": ["under", "within", ""], "suppressed": [False, False, False], "known": [True, True, False],
    ...     "involved_count": [1, 9, 2], "involved_total": [10, 10, 10]})
    >>> gap_summary(t)
    'By age: 1 of 2 groups has fewer people involved than we would expect (young). No group has clearly more. 2 people involved have no answer recorded and are left out of the shares.'

    Several attributes are summarised one after another:

    >>> both = pd.concat([t, t.assign(attribute="home_area")])
    >>> gap_summary(both).count("By "), gap_summary(both).split(". By ")[1][:10]
    (2, 'home area:')
    """
    if table.empty:
        return "There is nothing to compare yet."
    if table["attribute"].nunique() > 1:  # a table of several attributes (History's map as it was): each in turn
        return " ".join(gap_summary(part, min_cell=min_cell)
                        for _, part in table.groupby("attribute", sort=False, observed=True))
    attribute = str(table["attribute"].iloc[0]).replace("_", " ")
    # Small groups keep their flag: naming them without figures discloses no count, and leaving them
    # out would contradict the per-group sentences ("no group has fewer ..." while one does).
    known = table.loc[table["known"].astype(bool)] if "known" in table else table
    under, over = known.loc[known["flag"] == "under"], known.loc[known["flag"] == "over"]
    groups = int(table["known"].astype(bool).sum()) if "known" in table else len(table)
    parts = [f"By {attribute}:"]
    if under.empty:
        parts.append("no group has clearly fewer people involved than we would expect.")
    else:
        verb = "has" if len(under) == 1 else "have"
        parts.append(f"{len(under)} of {groups} groups {verb} fewer people involved than we would expect ({_names(under)}).")
    if over.empty:
        parts.append("No group has clearly more.")
    else:
        verb = "has" if len(over) == 1 else "have"
        parts.append(f"{len(over)} {verb} more than we would expect ({_names(over)}).")
    if "known" in table:
        unknown = table.loc[~table["known"].astype(bool) & ~table["suppressed"].astype(bool), "involved_count"]
        missing = int(pd.to_numeric(unknown, errors="coerce").fillna(0).sum())
        if missing:
            who = "person involved has" if missing == 1 else "people involved have"
            parts.append(f"{missing} {who} no answer recorded and are left out of the shares.")
    caption = suppressed_caption(table, min_cell=min_cell)
    if caption:
        parts.append(caption)
    return " ".join(parts)


def suppressed_caption(table: pd.DataFrame, *, min_cell: int = 5) -> str:
    """Says which groups a chart leaves out because their numbers are too small ("" if none).

    >>> suppressed_caption(pd.DataFrame({"category": ["a", "b"], "suppressed": [True, False]}))
    'Not shown because the numbers are too small to share safely (fewer than 5): a.'
    """
    if "suppressed" not in table:
        return ""
    hidden = table.loc[table["suppressed"].astype(bool)]
    if hidden.empty:
        return ""
    names = list(dict.fromkeys(str(c) for c in hidden["category"]))
    return f"Not shown because the numbers are too small to share safely (fewer than {min_cell}): {', '.join(names)}."


def trend_summary(table: pd.DataFrame, *, category: str | None = None) -> str:
    """How the gap moved from the first period to the last, per category (known, unsuppressed).

    >>> t = pd.DataFrame({"period": ["C1", "C2"], "category": ["young", "young"], "gap": [-0.2, -0.05],
    ...                   "known": [True, True], "suppressed": [False, False]})
    >>> trend_summary(t)
    'From C1 to C2, the gap for young went from 20 points below to 5 points below (narrower).'
    """
    rows = table.loc[table["known"].astype(bool) & ~table["suppressed"].astype(bool) & table["gap"].notna()]
    if category is not None:
        rows = rows.loc[rows["category"] == category]
    if rows.empty or rows["period"].nunique() < 2:
        return "There are not yet two periods with figures to compare."
    sentences = []
    for name, group in rows.groupby("category", sort=False):
        first, last = group.iloc[0], group.iloc[-1]
        if first["period"] == last["period"]:
            continue
        before, after = round(abs(float(first["gap"])) * 100), round(abs(float(last["gap"])) * 100)
        change = "narrower" if after < before else "wider" if after > before else "about the same"
        sentences.append(
            f"From {first['period']} to {last['period']}, the gap for {name} went from {_points(first['gap'])} "
            f"to {_points(last['gap'])} ({change})."
        )
    return " ".join(sentences) or "There are not yet two periods with figures to compare."


def _points(gap: float) -> str:
    value = round(float(gap) * 100)
    if value == 0:
        return "level"
    unit = "point" if abs(value) == 1 else "points"
    return f"{abs(value)} {unit} {'below' if value < 0 else 'above'}"


def readable_table(table: pd.DataFrame) -> pd.DataFrame:
    """A gap table as people read it: plain headers, percentages, the verdict in words.

    Suppressed figures stay blank (run ``suppress_small_cells`` first for anything shared).
    """
    def pct(column: str) -> pd.Series:
        return (pd.to_numeric(table[column], errors="coerce").astype("Float64") * 100).round(1)

    verdict = table["flag"].map({"under": "fewer than expected", "over": "more than expected",
                                 "within": "about as expected"}).fillna("")
    verdict = verdict.mask(table["suppressed"].astype(bool), "numbers too small to show")
    out = pd.DataFrame(
        {
            "Group": table["category"].astype(str),
            "Affected (number)": table["affected_count"].astype("Int64"),
            "Affected (%)": pct("affected_share"),
            "Involved (number)": table["involved_count"].astype("Int64"),
            "Involved (%)": pct("involved_share"),
            "Gap (points)": pct("gap"),
            "Lowest likely involved (%)": pct("ci_low"),
            "Highest likely involved (%)": pct("ci_high"),
            "Compared with those affected": verdict,
        }
    )
    if "period" in table:
        out.insert(0, "Period", table["period"].astype(str))
    if table["attribute"].nunique() > 1:
        out.insert(0, "Attribute", table["attribute"].astype(str))
    return out.reset_index(drop=True)
