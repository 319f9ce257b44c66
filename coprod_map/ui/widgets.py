"""Small building blocks every page uses: problems as a table, a chart with its table, safe text.

User text never reaches the screen as markup: pass it through ``safe_text`` before
``st.caption``/``st.write``, or show it with ``st.text``/``st.dataframe``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd
import streamlit as st

from coprod_map.errors import Problem, problems_frame

__all__ = ["MISSING_NOTE", "SHOWN_ROWS", "chart_with_table", "headings", "in_words", "long_table", "plain_heading",
           "safe_text", "show_once", "show_problems"]

#: the most rows a table sends to the browser: longer ones are slow to send on every change (50 ms at
#: 100,000 rows), and the whole table is a download instead
SHOWN_ROWS = 20_000

#: under a chart's table that has gaps (Streamlit shows a missing figure as "None", which can be read as zero)
MISSING_NOTE = "None in the table means no figure: not known, or too few people to show safely."

# Everything Streamlit's markdown treats specially: CommonMark punctuation, plus ``:`` (emoji
# shortcodes and ``:red[...]``), ``$`` (LaTeX) and ``~`` (strikethrough).
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|$~:&=\"'^])")
# GitHub-style "autolink literals" are found in the text *after* escapes are undone, so escaping cannot stop
# ``https://...``, ``www.`` or ``a@b.org`` becoming live links (verified in Chromium). A WORD JOINER (U+2060,
# invisible, no line break) inside each of them does.
_WORD_JOINER = "\u2060"
_AUTOLINK = re.compile(r"(?i)(https?|ftp|xmpp|mailto)(?=\\?:)|(www)(?=\\?\.)|(@)")


def safe_text(value: Any) -> str:
    r"""``value`` as text that markdown shows literally (every special character escaped).

    Newlines become spaces, so a user cannot start a heading or a list.

    >>> safe_text("**bold** [link](javascript:x) :red[hi] $x$")
    '\\*\\*bold\\*\\* \\[link\\]\\(javascript\\:x\\) \\:red\\[hi\\] \\$x\\$'
    >>> safe_text(None)
    ''
    >>> safe_text("https://evil.invalid www.x.org a@b.org").count("\u2060")
    3
    """
    if value is None:
        return ""
    text = " ".join(str(value).split())
    escaped = _MARKDOWN_SPECIAL.sub(r"\\\1", text)
    return _AUTOLINK.sub(lambda m: m.group(0) + _WORD_JOINER, escaped)


def plain_heading(column: Any) -> str:
    """A column id in words, for a table heading nobody has worded yet.

    >>> plain_heading("people_with_needs"), plain_heading("within_2"), plain_heading("Age band")
    ('People with needs', 'Within 2', 'Age band')
    """
    words = " ".join(str(column).replace("_", " ").split())
    return words[:1].upper() + words[1:]


def headings(frame: pd.DataFrame, words: Mapping[str, str] | None = None) -> dict[str, str]:
    """``column_config`` for ``st.dataframe`` giving every column of ``frame`` a heading in words: ``words`` where
    it has one, else :func:`plain_heading`. The frame itself (and any download of it) keeps its column ids.

    >>> headings(pd.DataFrame(columns=["stakeholder_id", "hours"]), {"stakeholder_id": "Who contributed"})
    {'stakeholder_id': 'Who contributed', 'hours': 'Hours'}
    """
    words = words or {}
    return {str(c): words.get(str(c)) or plain_heading(c) for c in frame.columns}


def in_words(frame: pd.DataFrame, words: Mapping[str, Mapping[Any, str]]) -> pd.DataFrame:
    """A copy of ``frame`` for the screen with coded cells in words (``{column: {code: words}}``; other values
    kept). Better than a ``SelectboxColumn``'s ``format_func`` in a read-only table: the grid draws the words
    either way, but the table a screen reader reads holds the cell values, so it would read the codes.

    >>> in_words(pd.DataFrame({"kind": ["person", "community_asset", "other"]}),
    ...          {"kind": {"person": "Person", "community_asset": "Community asset"}})["kind"].tolist()
    ['Person', 'Community asset', 'other']

    A list column (such as experience) becomes one text of its items in words:

    >>> in_words(pd.DataFrame({"experience": [["lived", "x"], []]}), {"experience": {"lived": "Lived"}})["experience"].tolist()
    ['Lived, x', '']
    """
    present = {c: w for c, w in words.items() if c in frame.columns}
    return frame.assign(**{c: _list_in_words(frame[c], w) if _holds_lists(frame[c]) else
                           frame[c].map(w).astype(object).where(frame[c].map(w).notna(), frame[c].astype(object))
                           for c, w in present.items()})


def _holds_lists(column: pd.Series) -> bool:
    return column.dtype == object and any(isinstance(v, list) for v in column.head(50))


def _list_in_words(column: pd.Series, words: Mapping[Any, str]) -> pd.Series:
    """Each list as its items in words joined by commas (a shown table is at most ``SHOWN_ROWS`` rows)."""
    return column.map(lambda items: ", ".join(str(words.get(i, i)) for i in items) if isinstance(items, list)
                      else words.get(items, items)).astype(object)


def show_once(key: str) -> None:
    """The ``(kind, text)`` message an action left under ``key`` ("success", "error" or "info"), shown once as text."""
    message = st.session_state.pop(key, None)
    if message:
        kind, text = message
        {"success": st.success, "error": st.error, "info": st.info}[kind](safe_text(text))


def show_problems(problems: Iterable[Problem], *, intro: str | None = None) -> None:
    """Every problem as one table (file, row, column, what to fix); nothing when there are none."""
    problems = list(problems)
    if not problems:
        return
    count = len(problems)
    noun = "problem" if count == 1 else "problems"
    st.error(intro or f"{count} {noun} found. Nothing was saved. Fix the rows below and try again.")
    frame = problems_frame(problems)
    if frame["row"].isna().all():  # problems in an edited table have no sheet row: leave out an empty column
        frame = frame.drop(columns=["row"])
    st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        column_config={
            "file": st.column_config.TextColumn("File", help="Which file or table the problem is in"),
            "row": st.column_config.NumberColumn("Row", help="Row as a spreadsheet shows it (the header is row 1)"),
            "column": st.column_config.TextColumn("Column", help="Which column the problem is in"),
            "what to fix": st.column_config.TextColumn("What to fix", width="large"),
        },
    )


def chart_with_table(
    fig: Any,
    table: pd.DataFrame,
    *,
    summary: str,
    key: str | None = None,
    table_label: str = "Show the figures as a table",
    on_select: str = "ignore",
    selection_mode: Any = ("points", "box", "lasso"),
    column_config: Mapping[str, Any] | None = None,
) -> Any:
    """A plotly chart, its plain-language summary, and the same figures as a table in an expander.

    ``summary`` is shown as text (escaped), so it may contain user words. ``column_config`` (for example
    :func:`headings`) words the table's headings. Returns what ``st.plotly_chart`` returns (the selection
    state when ``on_select="rerun"``).
    """
    result = st.plotly_chart(
        fig,
        key=key,
        width="stretch",
        on_select=on_select,
        selection_mode=selection_mode,
        config={"displaylogo": False, "responsive": True},
    )
    st.caption(safe_text(summary))
    with st.expander(table_label):
        st.dataframe(table, hide_index=True, width="stretch", column_config=column_config)
        if table.isna().to_numpy().any():  # Streamlit draws a missing figure as the word None: say what it means
            st.caption(MISSING_NOTE)
    return result


def long_table(frame: pd.DataFrame, *, key: str, file_name: str, first: str = "first", limit: int = SHOWN_ROWS,
               words: Mapping[str, Mapping[Any, str]] | None = None, **options: Any) -> None:
    """``st.dataframe`` of at most ``limit`` rows, and the whole table as a CSV download when longer.

    ``words`` (see :func:`in_words`) puts coded cells in words on screen; the download keeps the codes.
    """
    shown = frame.head(limit)
    st.dataframe(in_words(shown, words) if words else shown, hide_index=True, width="stretch", **options)
    if len(frame) > limit:
        from coprod_map.io.export import table_csv

        st.caption(f"The table shows the {first} {limit:,} of {len(frame):,} rows; download them all below.")
        st.download_button("Download the whole table (CSV)", key=key, mime="text/csv", file_name=file_name,
                           on_click="ignore", data=lambda: table_csv(frame))
