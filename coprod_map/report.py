"""The steering-group report: one self-contained HTML file built from the analysis and the charts.

The report is assembled in two steps so the app can preview exactly what the file will hold:

- :func:`report_content` turns a project (and its co-production record, when there is one) into a
  :class:`Report`: sections of plain sentences, display tables (every cell already text) and plotly
  figures. Nothing here is markup: every string is shown as text.
- :func:`render_html` writes that as one HTML page through a Jinja2 template with autoescaping on.
  plotly.js is inlined once (first chart) so the file opens offline and loads nothing from the
  internet; a print style sheet gives a printable version (page breaks, no interactive controls).

What the report never holds: needs (private by definition), any ``notes`` column, counts from 1 to
``min_cell - 1`` in the gap tables (the project's ``settings.min_cell`` unless overridden), and by
default the names of individual people (counts and roles instead; organisations, groups and
community assets are named). ``name_people=True`` adds people's names where a steering group has
agreed to share them.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from importlib import import_module
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from jinja2 import Environment, FileSystemLoader
from markupsafe import Markup

from coprod_map.analysis import network as nw
from coprod_map.analysis import representation as rep
from coprod_map.components import COMPONENTS, CREDIT
from coprod_map.model import EXPERIENCES, KINDS, Project, split_list
from coprod_map.viz import charts, summaries
from coprod_map.viz.palette import OKABE_ITO, qualitative

__all__ = [
    "BROKERAGE_LIMIT",
    "OPTIONAL_SECTIONS",
    "SECTIONS",
    "Block",
    "Report",
    "Section",
    "build_report",
    "load_record",
    "render_html",
    "report_content",
    "report_filename",
]

#: Section key -> heading, in report order.
SECTIONS: dict[str, str] = {
    "about": "What this report is",
    "gaps": "Headline gaps: who is affected and who is involved",
    "missing": "Who is missing",
    "network": "The network of relationships",
    "decisions": "Decisions and reporting back",
    "actions": "Actions",
    "health": "Ten-component health check",
    "credit": "About this report",
}
#: The sections a user may leave out ("about" and "credit" are always there).
OPTIONAL_SECTIONS: tuple[str, ...] = ("gaps", "missing", "network", "decisions", "actions", "health")

_TEMPLATES = Path(__file__).resolve().parent / "templates"
_FIGURE_WIDTH = 700  # px: about the printable width of an A4 page with 15 mm margins
_TOP_BROKERS = 5
#: Up to this many stakeholders the report names the main brokers: worked out exactly up to
#: ``network.EXACT_BETWEENNESS_LIMIT``, estimated from a sample above it (and said to be). On bigger maps
#: even the estimate takes many seconds (about 10 at 100,000), so the report leaves brokers out and says why.
BROKERAGE_LIMIT = 20_000
_NOT_PEOPLE = ("organisation", "group", "community_asset")
_PLOT_CONFIG = {"displayModeBar": False, "responsive": False, "staticPlot": False}


# --- the content --------------------------------------------------------------------------------

@dataclass
class Block:
    """One finding: an optional sub-heading, sentences, an optional chart and an optional table.

    ``table`` holds text only (numbers already formatted), so every renderer shows it the same.
    """

    heading: str = ""
    sentences: list[str] = field(default_factory=list)
    figure: go.Figure | None = None
    figure_label: str = ""
    table: pd.DataFrame | None = None
    caption: str = ""


@dataclass
class Section:
    key: str
    title: str
    intro: list[str] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)
    note: str = ""


@dataclass
class Report:
    title: str
    date: str
    sections: list[Section]
    min_cell: int

    def section(self, key: str) -> Section:
        return next(s for s in self.sections if s.key == key)


def report_content(
    project: Project,
    *,
    record: Any | None = None,
    health: pd.DataFrame | None = None,
    sections: Iterable[str] | None = None,
    min_cell: int | None = None,
    name_people: bool = False,
    today: str | None = None,
    title: str | None = None,
    tg: nw.TieGraph | None = None,
    prepared: rep.Participation | None = None,
    gap_table: Callable[..., pd.DataFrame] | None = None,
) -> Report:
    """Everything the report shows, as plain text, display tables and figures.

    ``record`` is the project's co-production record (an object whose ``decisions`` and ``actions``
    attributes are DataFrames, as ``Store.load_record`` returns), or ``None``. ``health`` is the
    health-check table; by default it is worked out with ``coprod_map.analysis.health`` when that
    module exists. ``sections`` picks among :data:`OPTIONAL_SECTIONS` (default: all).

    ``tg`` (the project's ``network.tie_graph``), ``prepared`` (its ``representation.prepare_participation``)
    and ``gap_table`` (called as ``gap_table(by=..., mode=..., min_cell=...)``, returning the project's
    ``representation.gap_table`` with those arguments, from a cache) are work the app may already have done
    for this revision: passed in, they are used instead of redone.
    """
    chosen = set(OPTIONAL_SECTIONS if sections is None else sections)
    unknown = chosen - set(OPTIONAL_SECTIONS)
    if unknown:
        raise ValueError(f"Unknown report sections: {', '.join(sorted(unknown))}. "
                         f"Expected some of: {', '.join(OPTIONAL_SECTIONS)}.")
    threshold = int(project.settings.min_cell if min_cell is None else min_cell)
    if threshold < 1:
        raise ValueError(f"min_cell must be 1 or more; got {threshold}.")
    today = today or dt.date.today().isoformat()
    name = project.name or "Co-production project"
    builders = {
        "gaps": lambda: _gaps_section(project, threshold, gap_table or partial(rep.gap_table, project,
                                                                              prepared=prepared)),
        "missing": lambda: _missing_section(project, threshold, name_people, prepared),
        "network": lambda: _network_section(project, threshold, name_people, tg),
        "decisions": lambda: _decisions_section(project, record),
        "actions": lambda: _actions_section(record, today),
        "health": lambda: _health_section(project, record, health),
    }
    out = [_about_section(name, today, chosen, name_people)]
    out += [builders[key]() for key in OPTIONAL_SECTIONS if key in chosen]
    out.append(_credit_section(threshold, today))
    return Report(title=title or f"{name}: report for the steering group", date=today, sections=out,
                  min_cell=threshold)


def _about_section(name: str, today: str, chosen: set[str], name_people: bool) -> Section:
    left_out = [SECTIONS[k] for k in OPTIONAL_SECTIONS if k not in chosen]
    intro = [
        f"This report sums up where the co-production work on {name} stands on {_long_date(today)}. "
        "It compares the people the work affects with the people taking part, names the groups that "
        "are missing or only spoken for by others, describes the web of relationships around the work, "
        "and lists the decisions made, the actions agreed and how well the work lives up to the ten "
        "components of co-production.",
        "Percentages leave out answers that are not known. Where a figure would describe fewer than a "
        "handful of people it is not shown, so that nobody can be picked out. Personal notes and "
        "people's access and support needs are never included.",
    ]
    intro.append(
        "People are named in this report because the people preparing it chose to include names."
        if name_people else
        "Individual people are described by their roles, not their names; organisations, groups and "
        "community assets are named."
    )
    if left_out:
        intro.append("Left out of this version: " + "; ".join(left_out) + ".")
    return Section("about", SECTIONS["about"], intro=intro)


def _credit_section(threshold: int, today: str) -> Section:
    return Section("credit", SECTIONS["credit"], intro=[
        CREDIT,
        f"Small numbers: counts from 1 to {threshold - 1} are not shown in the gap tables and in the counts of "
        "people, and charts leave those groups out rather than drawing them as zero."
        if threshold > 1 else "Small numbers: every count is shown (the threshold is set to 1).",
        "The range given for each share is a 95% interval: how far chance alone could move the figure.",
        f"Made with coprod_map on {_long_date(today)}. This file works offline and loads nothing from the internet.",
    ])


# --- gaps ------------------------------------------------------------------------------------------

def _gaps_section(project: Project, threshold: int, gap_table: Callable[..., pd.DataFrame] | None = None) -> Section:
    gap_table = partial(rep.gap_table, project) if gap_table is None else gap_table
    section = Section("gaps", SECTIONS["gaps"])
    population = set(rep.attribute_choices(project, mode="population"))
    attributes = [a for a in rep.attribute_choices(project, mode="register") if a not in rep.REGISTER_COLUMNS]
    if not attributes:
        section.note = "There is nothing to compare yet: the project has no attributes such as age band or area."
        return section
    section.intro.append(
        "For each attribute, the chart shows how far each group's share of the people taking part is from "
        "its share of the people affected. Bars left of the line mean fewer people from that group are "
        "involved than we would expect; the whiskers show the likely range."
    )
    for attribute in attributes:
        mode = "population" if attribute in population else "register"
        table = gap_table(by=attribute, mode=mode, min_cell=threshold)
        label = attribute.replace("_", " ")
        basis = ("the reference population (for example census figures)" if mode == "population"
                 else "the stakeholders the map marks as affected")
        sentences = [summaries.gap_summary(table, min_cell=threshold), f"Compared with {basis}."]
        sentences += summaries.gap_sentences(table, min_cell=threshold, findings_only=True)
        shown = rep.suppress_small_cells(table)
        figure = charts.gap_chart(table, title=f"By {label}: involved minus affected share")
        section.blocks.append(Block(
            heading=f"By {label}",
            sentences=sentences,
            figure=_sized(figure),
            figure_label=f"Bar chart of the gap between involved and affected shares by {label}. "
                         "The same figures are in the table below.",
            table=_text_table(summaries.readable_table(shown)),
            caption=f"Affected and involved by {label} (blank where the numbers are too small to show)",
        ))
    return section


# --- who is missing ----------------------------------------------------------------------------------

def _missing_section(project: Project, threshold: int, name_people: bool,
                     prepared: rep.Participation | None = None) -> Section:
    section = Section("missing", SECTIONS["missing"])
    missing = rep.missing_stakeholders(project, prepared=prepared)
    people = missing.loc[missing["kind"] == "person"]
    others = missing.loc[missing["kind"] != "person"]
    section.intro.append(
        f"{_total_words(len(others), len(people), threshold).capitalize()} the work affects "
        f"{'has' if len(missing) == 1 else 'have'} not taken part in any activity so far."
    )
    by_kind = missing["kind"].map(lambda k: KINDS.get(k, k or "Not recorded")).value_counts()
    kinds = pd.DataFrame({
        "Kind of stakeholder": by_kind.index.astype(str),
        "Affected but not taking part": [
            _suppressed_count(n, threshold) if kind == KINDS["person"] else str(int(n))
            for kind, n in by_kind.items()
        ],
    })
    section.blocks.append(Block(table=kinds, caption="Affected stakeholders not taking part, by kind"))
    if len(others):
        named = pd.DataFrame({
            "Name": others["name"].astype(str),
            "Kind": others["kind"].map(lambda k: KINDS.get(k, k)).astype(str),
            "How affected": others["affected"].map(_affected_words),
            "Last took part": others["last_took_part"].astype(str).replace("", "never"),
        })
        section.blocks.append(Block(
            heading="Organisations, groups and community assets not taking part",
            table=named, caption="Affected organisations, groups and community assets not taking part",
        ))
    if len(people):
        if name_people:
            table = pd.DataFrame({
                "Name": people["name"].astype(str),
                "Roles": people["roles"].astype(str),
                "How affected": people["affected"].map(_affected_words),
                "Last took part": people["last_took_part"].astype(str).replace("", "never"),
            })
            caption = "Affected people not taking part"
        else:
            counts = _role_counts(project.stakeholders, people["id"])
            table = pd.DataFrame({
                "Role": counts.index.astype(str),
                "People": [_suppressed_count(n, threshold) for n in counts],
            })
            caption = "Affected people not taking part, by role (a person with several roles counts in each)"
        section.blocks.append(Block(heading="People not taking part", table=table, caption=caption))

    voices = rep.voice_table(project, prepared=prepared)
    proxy_only = voices.loc[voices["status"] == "proxy only"]
    silent = voices.loc[voices["status"] == "no voice"]
    sentences = [
        f"{_count_words(len(proxy_only), 'group', threshold=None)} {'is' if len(proxy_only) == 1 else 'are'} "
        "spoken for only by proxies: nobody taking part has lived experience of the group, or was elected or "
        "nominated by it.",
        f"{_count_words(len(silent), 'affected group', threshold=None)} "
        f"{'has' if len(silent) == 1 else 'have'} nobody taking part who speaks for them.",
    ]
    status_words = {"proxy only": "Only proxies speak for this group", "no voice": "Nobody taking part speaks for it"}
    voice = pd.concat([proxy_only, silent])
    block = Block(heading="Groups only proxies speak for", sentences=sentences)
    if len(voice):
        block.table = pd.DataFrame({
            "Group": voice["group_name"].astype(str),
            "Voice": voice["status"].map(status_words).astype(str),
        })
        block.caption = "Groups without a direct voice among the people taking part"
    section.blocks.append(block)
    return section


# --- network -----------------------------------------------------------------------------------------

def _network_section(project: Project, threshold: int, name_people: bool, tg: nw.TieGraph | None = None) -> Section:
    section = Section("network", SECTIONS["network"])
    stakeholders = project.stakeholders
    if stakeholders.empty:
        section.note = "The map has no stakeholders yet."
        return section
    tg = nw.tie_graph(stakeholders, project.relationships) if tg is None else tg
    overview = nw.network_overview(tg, stakeholders, by="kind")
    figures = pd.DataFrame({
        "Figure": ["Stakeholders on the map", "Relationships between them", "Stakeholders with no relationship recorded",
                   "Separate connected parts (two or more stakeholders)", "Stakeholders in the largest connected part",
                   "Relationships that are the only link between two parts",
                   "Stakeholders whose loss would split the map"],
        "Number": [f"{int(overview[k]):,}" for k in ("stakeholders", "ties", "isolated", "components",
                                                     "largest_component", "bridges", "articulation_points")],
    })
    degree = tg.degree
    kinds = stakeholders["kind"].astype(str).to_numpy()
    lonely = kinds[degree == 0]
    isolated_people = int((lonely == "person").sum())
    isolated_total = _total_words(len(lonely) - isolated_people, isolated_people, threshold, noun="")
    figures.loc[2, "Number"] = isolated_total
    section.intro.append(
        f"The map holds {overview['stakeholders']:,} stakeholders and {overview['ties']:,} relationships between "
        f"them. {isolated_total.capitalize()} {'has' if overview['isolated'] == 1 else 'have'} no relationship "
        f"recorded, and the largest connected part holds {overview['largest_component']:,} stakeholders."
    )
    section.blocks.append(Block(table=figures, caption="The network in figures"))

    isolated = pd.Series(lonely).map(lambda k: KINDS.get(k, k or "Not recorded"))
    if len(isolated):
        counts = isolated.value_counts()
        section.blocks.append(Block(
            heading="Stakeholders with no relationship recorded",
            sentences=["They may be new to the map, or ties to them may simply not be recorded yet."],
            table=pd.DataFrame({
                "Kind of stakeholder": counts.index.astype(str),
                "No relationship recorded": [_suppressed_count(n, threshold) if k == KINDS["person"] else str(int(n))
                                             for k, n in counts.items()],
            }),
            caption="Stakeholders with no relationship recorded, by kind",
        ))

    if tg.n > BROKERAGE_LIMIT:
        section.blocks.append(Block(heading=_BROKERS_HEADING, sentences=[
            f"This report does not say who the main brokers are (the people and organisations that link otherwise "
            f"separate parts of the map). On a map of {tg.n:,} stakeholders, working that out would take too long, "
            "and a quick estimate from a sample could put the wrong people at the top.",
            "The Relationships page can estimate brokerage for this map (Measures tab, \"Estimate brokerage\"); "
            "its figures are estimates, not exact counts.",
        ]))
        return section
    between = nw.betweenness_table(tg)
    estimated = bool(between["betweenness_estimated"].any())
    articulation = np.zeros(tg.n, dtype=bool)
    articulation[np.asarray(tg.graph.articulation_points(), dtype=np.int64)] = True
    brokers = pd.DataFrame({
        "name": nw.text_values(stakeholders["name"]), "kind": kinds, "roles": stakeholders["roles"].to_numpy(),
        "degree": degree, "betweenness": between["betweenness"].to_numpy(), "articulation_point": articulation,
    })
    brokers = brokers.loc[brokers["betweenness"] > 0].sort_values(["betweenness", "name"], ascending=[False, True])
    brokers = brokers.head(_TOP_BROKERS)
    sample = (f"On a map of {tg.n:,} stakeholders brokerage is estimated from a sample of "
              f"{nw.BETWEENNESS_SAMPLES} starting points rather than worked out exactly")
    if brokers.empty:
        section.blocks.append(Block(heading="Brokers", sentences=[
            f"{sample}, and nobody stood out as linking otherwise separate stakeholders." if estimated else
            "Nobody links otherwise separate stakeholders yet."]))
        return section
    labels = _broker_labels(brokers, name_people)
    share = "Share of shortest paths through them" + (" (estimate)" if estimated else "")
    table = pd.DataFrame({
        "Who": labels,
        "Kind": brokers["kind"].map(lambda k: KINDS.get(k, k)).astype(str).to_numpy(),
        "Relationships": brokers["degree"].map(lambda v: f"{int(v):,}").to_numpy(),
        share: brokers["betweenness"].map(lambda v: f"{100 * v:.1f}%").to_numpy(),
        "Map splits without them": brokers["articulation_point"].map({True: "yes", False: "no"}).to_numpy(),
    })
    people = int((brokers["kind"] == "person").sum())
    sentences = [
        f"These {len(brokers)} stakeholders link the most others who would otherwise be further apart: "
        "information and invitations tend to pass through them. "
        + (f"{people} of them {'is a person' if people == 1 else 'are people'}, described by role."
           if people and not name_people else "")
    ]
    if estimated:
        sentences.append(f"{sample}: the shares are estimates, and stakeholders with similar shares could swap places.")
    section.blocks.append(Block(
        heading=_BROKERS_HEADING,
        sentences=[s.strip() for s in sentences],
        figure=_sized(_broker_chart(labels, brokers["betweenness"].to_numpy(), estimated=estimated)),
        figure_label=f"Bar chart of the {'estimated ' if estimated else ''}share of shortest paths that pass through "
                     "each broker. The same figures are in the table below.",
        table=table, caption="The main brokers",
    ))
    return section


_BROKERS_HEADING = "Brokers: who links different parts of the map"


def _role_counts(stakeholders: pd.DataFrame, ids: pd.Series) -> pd.Series:
    """How many of the stakeholders ``ids`` hold each role ("no role recorded" for none), most held first.

    The same counts, in the same order, as ``value_counts`` of every listed role, person by person, but
    with the lists split without a Python call per person.

    >>> people = pd.DataFrame({"id": ["a", "b", "c"], "roles": [["carer", "resident"], "", "resident|"]})
    >>> _role_counts(people, pd.Series(["c", "b", "a"])).to_dict()
    {'resident': 2, 'no role recorded': 1, 'carer': 1}
    """
    positions = pd.Index(stakeholders["id"]).get_indexer(ids)
    if (positions < 0).any():
        raise KeyError(f"{int((positions < 0).sum())} ids are not on the map")
    rows, items = nw.split_lists(stakeholders["roles"].iloc[positions])
    none = np.flatnonzero(np.bincount(rows, minlength=len(positions)) == 0)
    order = np.argsort(np.concatenate([rows, none]), kind="stable")  # each person's roles, in list order
    values = np.concatenate([items, np.full(len(none), "no role recorded", dtype=object)])[order]
    return pd.Series(values, dtype=object).value_counts()


def _broker_labels(brokers: pd.DataFrame, name_people: bool) -> list[str]:
    labels, person = [], 0
    for name, kind, roles in zip(brokers["name"], brokers["kind"], brokers["roles"], strict=True):
        if kind in _NOT_PEOPLE or name_people:
            labels.append(str(name))
        else:
            person += 1
            role = ", ".join(split_list(roles)) or "no role recorded"
            labels.append(f"Person {person} ({role})")
    return labels


def _broker_chart(labels: list[str], betweenness, *, estimated: bool = False) -> go.Figure:
    escaped = [html.escape(label) for label in labels]
    values = [100 * float(v) for v in betweenness]
    fig = go.Figure(go.Bar(
        x=values, y=escaped, orientation="h", marker={"color": OKABE_ITO["blue"], "line": {"color": "#000000", "width": 1}},
        text=[f"{v:.1f}%" for v in values], textposition="outside",
        hovertemplate="%{x:.1f}% of shortest paths<extra></extra>",
    ))
    fig.update_layout(
        title="Brokers: " + ("estimated share" if estimated else "share") + " of shortest paths through them",
        xaxis_title=("Estimated share" if estimated else "Share") + " of shortest paths between others (%)",
        yaxis={"categoryorder": "array", "categoryarray": escaped[::-1], "automargin": True},
        xaxis={"range": [0, max(values) * 1.3]},  # room for the value written after each bar
        font={"family": "Arial, sans-serif", "size": 14}, height=max(280, 90 + 45 * len(labels)),
    )
    return fig


# --- the record ----------------------------------------------------------------------------------------

def _frame(record: Any, name: str) -> pd.DataFrame | None:
    frame = getattr(record, name, None) if record is not None else None
    return frame if isinstance(frame, pd.DataFrame) else None


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame:
        return frame[name].astype(object).where(frame[name].notna(), "").astype(str)
    return pd.Series([""] * len(frame), index=frame.index, dtype=object)


def _decisions_section(project: Project, record: Any) -> Section:
    section = Section("decisions", SECTIONS["decisions"])
    decisions = _frame(record, "decisions")
    if decisions is None:
        section.note = "No decision log is available for this project yet."
        return section
    if decisions.empty:
        section.note = "No decisions have been recorded yet."
        return section
    stakeholders = project.stakeholders.set_index("id")
    experience = stakeholders["experience"].map(split_list).to_dict()
    kinds = stakeholders["kind"].astype(str).to_dict()
    made_by = decisions["made_by"].map(split_list)

    def in_the_room(ids: list[str]) -> str:
        found = {e for i in ids for e in experience.get(i, [])}
        words = [EXPERIENCES[e].split(" (")[0] for e in EXPERIENCES if e in found]
        others = sorted({KINDS.get(kinds[i], kinds[i]) for i in ids if i in kinds and kinds[i] in _NOT_PEOPLE})
        return ", ".join(words + others) or "not recorded"

    from coprod_map.analysis import record as rec

    people = rec.decisions_with_people(record, project)
    reported_on = _column(decisions, "reported_back_on").str.strip()
    how = _column(decisions, "reported_how").str.strip()
    reported = int(people["reported_back"].sum())
    waiting = len(decisions) - reported
    sentence = (
        f"{len(decisions)} {'decision has' if len(decisions) == 1 else 'decisions have'} been recorded. "
        f"{reported} of them {'was' if reported == 1 else 'were'} reported back to the people who took part and the "
        f"community (\"you said, we did\"); {waiting} {'is' if waiting == 1 else 'are'} still to be reported back."
    )
    power = rec.decision_power(record, project)
    overall = power.iloc[0] if len(power) else None
    if overall is not None and int(overall["recorded"]):
        sentence += (f" People with lived experience took part in {int(overall['with_lived'])} of the "
                     f"{int(overall['recorded'])} decisions that say who made them")
        if not pd.isna(overall["participation_share"]):
            sentence += (f" ({summaries.percent(overall['decision_share'])}), and make up "
                         f"{summaries.percent(overall['participation_share'])} of the people taking part in activities")
        sentence += "."
    section.intro.append(sentence)
    table = pd.DataFrame({
        "Date": _column(decisions, "date").to_numpy(),
        "Decision": (_column(decisions, "title").str.strip().where(lambda s: s != "", _column(decisions, "decision"))
                     ).to_numpy(),
        "What was decided": _column(decisions, "decision").to_numpy(),
        "Why": _column(decisions, "reasons").to_numpy(),
        "Experience in the room": made_by.map(in_the_room).to_numpy(),
        "Reported back": [f"{d} ({h})" if d and h else d or h or "not yet" for d, h in zip(reported_on, how, strict=True)],
    })
    section.blocks.append(Block(table=table, caption="Decisions, who shaped them and whether they were reported back"))
    return section


_STATUS_WORDS = {"open": "Open", "doing": "Under way", "done": "Done", "dropped": "Dropped"}


def _actions_section(record: Any, today: str) -> Section:
    section = Section("actions", SECTIONS["actions"])
    actions = _frame(record, "actions")
    if actions is None:
        section.note = "No review cycles or actions are available for this project yet."
        return section
    if actions.empty:
        section.note = "No actions have been agreed yet."
        return section
    status = _column(actions, "status").str.strip()
    due = _column(actions, "due").str.strip()
    overdue = status.isin(["open", "doing"]) & (due != "") & (due < today)
    counts = status.map(lambda s: _STATUS_WORDS.get(s, s or "No status")).value_counts()
    section.intro.append(
        f"{len(actions)} {'action has' if len(actions) == 1 else 'actions have'} been agreed: "
        + ", ".join(f"{n} {word.lower()}" for word, n in counts.items())
        + f". {int(overdue.sum())} {'is' if int(overdue.sum()) == 1 else 'are'} past the due date and not done."
    )
    table = pd.DataFrame({
        "Cycle": _column(actions, "cycle").to_numpy(),
        "Action": _column(actions, "title").to_numpy(),
        "Owner": _column(actions, "owner").to_numpy(),
        "Due": due.to_numpy(),
        "Status": [_STATUS_WORDS.get(s, s) + (" (overdue)" if late else "")
                   for s, late in zip(status, overdue, strict=True)],
        "Answers which gap": _column(actions, "from_gap").to_numpy(),
    })
    section.blocks.append(Block(table=table, caption="Actions, their owners and where they stand"))
    return section


def _health_section(project: Project, record: Any, health: pd.DataFrame | None) -> Section:
    section = Section("health", SECTIONS["health"])
    section.intro.append(
        "For each of Co-Create's ten components of co-production: what the project's own records show (a rough "
        "guide, never a verdict: little recorded reads as \"no evidence yet\"), beside how participants scored "
        "the work themselves in each review cycle (1 low to 5 high)."
    )
    if health is None:
        health = _computed_health(project, record)
    if health is None:
        section.note = ("The health check is not available in this version of coprod_map, so its evidence and "
                        "scores are left out for now. The ten components it will report on are listed below.")
        section.blocks.append(Block(
            heading="The ten components",
            table=pd.DataFrame({"Component": [c.name for c in COMPONENTS], "What it asks": [c.summary for c in COMPONENTS]}),
            caption="The ten components of co-production, in coprod_map's words",
        ))
        return section
    names = {c.key: c.name for c in COMPONENTS}
    component = health["name"] if "name" in health else health["component"].map(lambda k: names.get(k, k))
    cycles = [c for c in health.columns if str(c).startswith(_SELF_PREFIX)]
    table = pd.DataFrame({
        "Component": component.astype(str).to_numpy(),
        "Evidence from the records": _column(health, "rating").to_numpy(),
        "What the records show": _column(health, "evidence").to_numpy(),
    })
    for column in cycles:
        values = pd.to_numeric(health[column], errors="coerce")
        table[f"Self-assessment, {str(column)[len(_SELF_PREFIX):]}"] = [
            "" if pd.isna(v) else f"{float(v):.1f}" for v in values]
    ratings = _column(health, "rating").value_counts()
    sentences = ["The records show " + ", ".join(
        f"{label} for {int(ratings[label])} component{'s' if int(ratings[label]) != 1 else ''}"
        for label in ("strong evidence", "some evidence", "little evidence", "no evidence yet") if label in ratings
    ) + "."] if len(ratings) else []
    if cycles:
        latest = pd.to_numeric(health[cycles[-1]], errors="coerce")
        scored = pd.Series(latest.to_numpy(), index=component.astype(str).to_numpy()).dropna()
        if len(scored):
            cycle = str(cycles[-1])[len(_SELF_PREFIX):]
            sentences.append(
                f"In {cycle}, participants scored the work lowest on {scored.idxmin()} ({scored.min():.1f} out of 5) "
                f"and highest on {scored.idxmax()} ({scored.max():.1f})."
            )
        figure = _self_assessment_chart(component.astype(str).tolist(), health, cycles)
        label = "Bar chart of the mean self-assessment score for each component in each review cycle."
    else:
        sentences.append("No self-assessment scores have been recorded yet.")
        figure = _evidence_chart(component.astype(str).tolist(), pd.to_numeric(health["score"], errors="coerce"),
                                 _column(health, "rating").tolist())
        label = "Bar chart of how much evidence the records hold for each component (0 none yet, 3 strong)."
    section.blocks.append(Block(
        sentences=sentences, figure=_sized(figure), figure_label=label + " The same figures are in the table below.",
        table=table, caption="Evidence and self-assessment for each component",
    ))
    return section


_SELF_PREFIX = "self-assessment: "


def _computed_health(project: Project, record: Any) -> pd.DataFrame | None:
    """``coprod_map.analysis.health.health_table`` when that module exists, else ``None``."""
    try:
        health = import_module("coprod_map.analysis.health")
        from coprod_map.record import empty_record
    except ImportError:
        return None
    return health.health_table(project, record if record is not None else empty_record())


def _self_assessment_chart(components: list[str], health: pd.DataFrame, cycles: list[str]) -> go.Figure:
    labels = [html.escape(c) for c in components]
    fig = go.Figure()
    colours = qualitative(len(cycles))
    patterns = ["", "/", ".", "x", "-", "+"]
    # added last cycle first: plotly stacks horizontal groups bottom-up, so Cycle 1 ends up on top
    for i, column in reversed(list(enumerate(cycles))):
        values = pd.to_numeric(health[column], errors="coerce").astype(float).tolist()
        fig.add_trace(go.Bar(
            x=values, y=labels, orientation="h", name=html.escape(str(column)[len(_SELF_PREFIX):]),
            marker={"color": colours[i], "line": {"color": "#000000", "width": 1},
                    "pattern": {"shape": patterns[i % len(patterns)]}},
            hovertemplate="%{x:.1f} out of 5<extra></extra>",
        ))
    fig.update_layout(
        title="Self-assessment: mean score out of 5, per review cycle", barmode="group",
        legend={"traceorder": "reversed"},
        xaxis={"range": [0, 5], "title": "Mean score (1 low, 5 high)", "dtick": 1},
        yaxis={"categoryorder": "array", "categoryarray": labels[::-1], "automargin": True},
        font={"family": "Arial, sans-serif", "size": 14}, height=max(420, 80 + 22 * len(labels) * max(1, len(cycles))),
    )
    return fig


def _evidence_chart(components: list[str], scores: pd.Series, ratings: list[str]) -> go.Figure:
    labels = [html.escape(c) for c in components]
    values = scores.astype(float).tolist()
    fig = go.Figure(go.Bar(
        x=values, y=labels, orientation="h",
        marker={"color": OKABE_ITO["bluish_green"], "line": {"color": "#000000", "width": 1}},
        text=[html.escape(r) for r in ratings], textposition="outside", hovertemplate="%{x} of 3<extra></extra>",
    ))
    fig.update_layout(
        title="Evidence in the records (0 none yet, 3 strong)", xaxis={"range": [0, 4.2], "dtick": 1},
        yaxis={"categoryorder": "array", "categoryarray": labels[::-1], "automargin": True},
        font={"family": "Arial, sans-serif", "size": 14}, height=max(360, 80 + 32 * len(labels)),
    )
    return fig


# --- small helpers --------------------------------------------------------------------------------------

def _sized(fig: go.Figure) -> go.Figure:
    # legend under the plot: at a printable width a side legend leaves the bars too little room
    fig.update_layout(width=_FIGURE_WIDTH, paper_bgcolor="#FFFFFF", plot_bgcolor="#FFFFFF",
                      margin={"l": 20, "r": 60, "t": 60, "b": 40},
                      legend={"orientation": "h", "yanchor": "top", "y": -0.22, "x": 0, "xanchor": "left"},
                      title={"font": {"size": 17}, "x": 0, "xanchor": "left"})
    height = fig.layout.height or 320
    fig.update_layout(height=height + 70)
    fig.update_xaxes(gridcolor="#DDDDDD", zerolinecolor="#000000")
    return fig


def _suppressed_count(n: int, threshold: int) -> str:
    """A count as text, or "fewer than N" for 1 to N-1.

    >>> _suppressed_count(3, 5), _suppressed_count(0, 5), _suppressed_count(12, 5)
    ('fewer than 5', '0', '12')
    """
    n = int(n)
    return f"fewer than {threshold}" if 0 < n < threshold else f"{n:,}"


def _count_words(n: int, noun: str, *, threshold: int | None) -> str:
    text = _suppressed_count(n, threshold) if threshold else f"{int(n):,}"
    return f"{text} {noun}{'' if n == 1 else 's'}"


def _total_words(others: int, people: int, threshold: int, *, noun: str = "stakeholder") -> str:
    """A total of stakeholders that never gives away a suppressed number of people (no total minus the
    named organisations).

    >>> _total_words(18, 14, 5), _total_words(2, 3, 5), _total_words(0, 0, 5, noun="")
    ('32 stakeholders', '2 organisations, groups or assets and fewer than 5 people', '0')
    """
    if 0 < people < threshold:
        return f"{others:,} organisations, groups or assets and fewer than {threshold} people"
    total = others + people
    return f"{total:,} {noun}{'' if total == 1 else 's'}".strip() if noun else f"{total:,}"


def _affected_words(value: Any) -> str:
    from coprod_map.model import AFFECTED_LEVELS

    if value is None or value is pd.NA or pd.isna(value):
        return "not recorded"
    return AFFECTED_LEVELS.get(int(value), str(value))


def _text_table(table: pd.DataFrame) -> pd.DataFrame:
    """Every cell as display text: blanks for missing values, one decimal place for decimals."""
    out = pd.DataFrame(index=range(len(table)))
    for column in table.columns:
        values = table[column].reset_index(drop=True)
        if pd.api.types.is_float_dtype(values.dtype):
            text = values.map(lambda v: "" if pd.isna(v) else f"{float(v):,.1f}")
        elif pd.api.types.is_integer_dtype(values.dtype):
            text = values.map(lambda v: "" if pd.isna(v) else f"{int(v):,}")
        else:
            text = values.map(lambda v: "" if v is None or v is pd.NA or (isinstance(v, float) and pd.isna(v))
                              else ", ".join(map(str, v)) if isinstance(v, list) else str(v))
        out[str(column)] = text.astype(object)
    return out


def _long_date(iso: str) -> str:
    try:
        day = dt.date.fromisoformat(iso)
    except ValueError:
        return iso
    return f"{day.day} {day:%B %Y}"


def report_filename(project_name: str, today: str | None = None) -> str:
    """A safe file name for the report.

    >>> report_filename("Riverside: mental health / 2026", "2026-03-01")
    'riverside-mental-health-2026-report-2026-03-01.html'
    """
    import re

    slug = re.sub(r"[^a-z0-9]+", "-", project_name.lower()).strip("-")[:60] or "project"
    return f"{slug}-report-{today or dt.date.today().isoformat()}.html"


# --- rendering ------------------------------------------------------------------------------------------

def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(str(_TEMPLATES)), autoescape=True, trim_blocks=True,
                      lstrip_blocks=True)
    env.filters["id"] = id  # blocks are looked up in the chart/table dicts by identity
    return env


def render_html(report: Report) -> str:
    """The report as one self-contained HTML page (plotly.js inlined once, nothing fetched)."""
    charts_html: dict[int, Markup] = {}
    first = True
    for section in report.sections:
        for block in section.blocks:
            if block.figure is None:
                continue
            # plotly escapes "</" in the figure JSON; every label in it was html.escape'd by the builders
            charts_html[id(block)] = Markup(pio.to_html(
                block.figure, full_html=False, include_plotlyjs=first, include_mathjax=False,
                config=_PLOT_CONFIG, default_width=f"{_FIGURE_WIDTH}px",
            ))
            first = False
    tables = {
        id(block): {"columns": list(block.table.columns), "rows": block.table.to_numpy(dtype=object).tolist()}
        for section in report.sections for block in section.blocks if block.table is not None
    }
    template = _environment().get_template("report.html.j2")
    return template.render(report=report, charts=charts_html, tables=tables, long_date=_long_date(report.date))


def build_report(project: Project, **options: Any) -> str:
    """:func:`report_content` then :func:`render_html`: the finished HTML page."""
    return render_html(report_content(project, **options))


def load_record(store: Any, project_id: str) -> Any | None:
    """The project's co-production record if this version of coprod_map keeps one, else ``None``.

    Looks for ``Store.load_record`` first, then ``coprod_map.record_store.load_record``.
    """
    method = getattr(store, "load_record", None)
    if callable(method):
        return method(project_id)
    try:
        module = import_module("coprod_map.record_store")
    except ImportError:
        return None
    function = getattr(module, "load_record", None)
    return function(store, project_id) if callable(function) else None
