"""The steering-group report for the "Share a report" page: cached content and HTML, and the preview.

Keyed on ``(project_id, revision, options)``: the cache is shared by every user and a save (map or
record) moves the revision on, so a report is never stale and projects never share an entry. The
content (with its plotly figures) is a shared ``cache_resource`` value: never mutate it.

The report draws on work other pages cache per revision too (the record, the health check and its gap tables, the tie graph,
the participation records matched to the map): it takes those from their caches, so whichever page is
opened first does the work once for all of them.
"""

from __future__ import annotations

import streamlit as st

from coprod_map import report
from coprod_map.ui import network_cache, record_cache, representation_cache
from coprod_map.ui.cache import load_project
from coprod_map.ui.widgets import safe_text

__all__ = ["content", "default_min_cell", "html", "preview"]


@st.cache_resource(max_entries=8, show_spinner="Preparing the report...")
def content(project_id: str, revision: int, sections: tuple[str, ...], min_cell: int, name_people: bool,
            today: str) -> report.Report:
    """``report.report_content`` for the project at ``revision`` (read-only: shared between sessions)."""
    project = load_project(project_id, revision)
    record = record_cache.record_for(project_id, revision)
    chosen = set(sections)
    return report.report_content(
        project, record=record, sections=sections, min_cell=min_cell, name_people=name_people, today=today,
        health=record_cache.health_for(project_id, revision) if "health" in chosen else None,
        tg=network_cache.tie_graph_for(project_id, revision) if "network" in chosen else None,
        prepared=representation_cache.participation(project_id, revision) if "missing" in chosen else None,
        gap_table=representation_cache.gap_table_for(project_id, revision),
    )


@st.cache_data(max_entries=8, show_spinner="Writing the file...")
def html(project_id: str, revision: int, sections: tuple[str, ...], min_cell: int, name_people: bool,
         today: str) -> bytes:
    """The report file's bytes (UTF-8 HTML)."""
    built = content(project_id, revision, sections, min_cell, name_people, today)
    return report.render_html(built).encode("utf-8")


def default_min_cell(project_id: str, revision: int) -> int:
    return int(load_project(project_id, revision).settings.min_cell)


def preview(built: report.Report) -> None:
    """The report drawn with Streamlit's own elements: the same sentences, charts and tables as the file.

    Every sentence and table cell may hold users' words: sentences go through ``safe_text``, tables
    through ``st.dataframe``; plotly labels were escaped when the figures were made.
    """
    st.subheader(safe_text(built.title))
    st.caption(f"Prepared on {built.date}")
    for number, section in enumerate(built.sections):
        with st.container(border=True):
            st.markdown(f"### {safe_text(section.title)}")
            for paragraph in section.intro:
                st.write(safe_text(paragraph))
            if section.note:
                st.info(safe_text(section.note))
            for index, block in enumerate(section.blocks):
                if block.heading:
                    st.markdown(f"#### {safe_text(block.heading)}")
                for sentence in block.sentences:
                    st.write(safe_text(sentence))
                if block.figure is not None:
                    st.plotly_chart(block.figure, key=f"report_chart_{number}_{index}",
                                    config={"displayModeBar": False}, width="content")
                    st.caption(safe_text(block.figure_label))
                if block.table is not None:
                    st.caption(safe_text(block.caption))
                    st.dataframe(block.table, hide_index=True, width="stretch")
