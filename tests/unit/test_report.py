"""The steering-group report: every section, no private field, no suppressed count, nothing from the data as markup."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pandas as pd
import pytest

from coprod_map.components import CREDIT
from coprod_map.record_store import load_record
from coprod_map.report import OPTIONAL_SECTIONS, SECTIONS, build_report, report_content, report_filename

MARKER = "PRIVATE-MARKER-7f3a9c"
IMG = "<img src=x onerror=alert(1)>"
SCRIPT = "</script><script>window.__pwned=1</script>"


class _Page(HTMLParser):
    """Every element's tag and attributes, the text of each heading and each table's cells."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.headings: list[tuple[str, str]] = []
        self.tables: list[dict] = []
        self._heading: str | None = None
        self._text: list[str] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag in ("h1", "h2", "h3"):
            self._heading, self._text = tag, []
        elif tag == "table":
            self.tables.append({"caption": "", "rows": []})
        elif tag == "tr" and self.tables:
            self.tables[-1]["rows"].append([])
        elif tag in ("td", "th", "caption"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag == self._heading:
            self.headings.append((tag, "".join(self._text).strip()))
            self._heading = None
        elif tag in ("td", "th") and self._cell is not None:
            self.tables[-1]["rows"][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "caption" and self._cell is not None:
            self.tables[-1]["caption"] = "".join(self._cell).strip()
            self._cell = None

    def handle_data(self, data):
        if self._heading:
            self._text.append(data)
        if self._cell is not None:
            self._cell.append(data)


def parse(page: str) -> _Page:
    parser = _Page()
    parser.feed(page)
    return parser


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """The sample project and its record (one real SQLite file for the module: building a report takes a
    second), with private markers and hostile names planted. Tests must not change it."""
    from coprod_map.sample import load_sample
    from coprod_map.store import Store

    store = Store(f"sqlite:///{tmp_path_factory.mktemp('report') / 'coprod_map.db'}")
    project_id = load_sample(store)
    project = store.load(project_id)
    record = load_record(store, project_id)
    store.close()
    assert len(record.needs) and len(record.decisions) and len(record.actions)
    record.needs["need"] = MARKER + " need"
    record.needs["adjustment"] = MARKER + " adjustment"
    for table in ("stakeholders", "relationships", "activities", "participation"):
        project.table(table)["notes"] = MARKER + " notes"
    people = project.stakeholders
    organisation = people.index[people["kind"] == "organisation"][0]
    people.loc[organisation, "name"] = "Trust " + IMG + SCRIPT
    record.decisions.loc[0, "title"] = "Decision " + IMG + SCRIPT
    record.actions.loc[0, "owner"] = "Owner " + IMG + SCRIPT
    project.name = "Riverside " + IMG
    return store, project_id, project, record


@pytest.fixture(scope="module")
def default_page(sample) -> str:
    _, _, project, record = sample
    return build_report(project, record=record, today="2026-03-01")


def test_report_holds_every_section_with_headings_in_order(default_page):
    page = parse(default_page)
    h2 = [text for tag, text in page.headings if tag == "h2"]
    assert h2 == list(SECTIONS.values())
    assert [tag for tag, _ in page.headings][0] == "h1" and sum(tag == "h1" for tag, _ in page.headings) == 1
    levels = [int(tag[1]) for tag, _ in page.headings]
    assert all(b - a <= 1 for a, b in zip(levels, levels[1:], strict=False))  # no level skipped
    html_tag = next(attrs for tag, attrs in page.tags if tag == "html")
    assert html_tag.get("lang") == "en"
    assert all(t["caption"] for t in page.tables)  # every table has a caption
    headers = [attrs for tag, attrs in page.tags if tag == "th"]
    assert headers and all(a.get("scope") in ("col", "row") for a in headers)
    assert CREDIT.replace("'", "&#39;") in default_page


def test_no_private_field_reaches_the_report(sample, default_page):
    _, _, project, record = sample
    assert MARKER not in default_page
    assert MARKER not in build_report(project, record=record, today="2026-03-01", name_people=True)


def test_suppressed_count_is_not_in_the_gap_table(sample, default_page):
    _, _, project, _ = sample
    # independent count: distinct people who took part at all, per age band
    took_part = project.stakeholders.loc[project.stakeholders["id"].isin(project.participation["stakeholder_id"])]
    counts = took_part["age_band"].value_counts()
    small = {c: int(n) for c, n in counts.items() if 0 < n < project.settings.min_cell and c}
    assert small, "the sample should have a small group to suppress"
    page = parse(default_page)
    table = next(t for t in page.tables if t["caption"].startswith("Affected and involved by age band"))
    header, *rows = table["rows"]
    by_group = {row[0]: row for row in rows}
    for category, n in small.items():
        row = by_group[category]
        assert str(n) not in row[1:] and all(cell == "" for cell in row[1:-1])
        assert row[-1] == "numbers too small to show"
    big = counts[counts >= project.settings.min_cell]
    involved = header.index("Involved (number)")
    for category, n in big.items():
        if category in by_group:
            assert by_group[category][involved] == f"{int(n):,}"


def test_min_cell_override_shows_small_counts(sample):
    _, _, project, record = sample
    took_part = project.stakeholders.loc[project.stakeholders["id"].isin(project.participation["stakeholder_id"])]
    n = int((took_part["age_band"] == "16-24").sum())
    page = parse(build_report(project, record=record, today="2026-03-01", min_cell=1))
    table = next(t for t in page.tables if t["caption"].startswith("Affected and involved by age band"))
    header, *rows = table["rows"]
    row = next(r for r in rows if r[0] == "16-24")
    assert row[header.index("Involved (number)")] == str(n)


def test_hostile_text_appears_only_escaped(sample):
    _, _, project, record = sample
    page = build_report(project, record=record, today="2026-03-01", name_people=True)
    assert IMG not in page and SCRIPT not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    parsed = parse(page)
    assert not any(tag == "img" for tag, _ in parsed.tags)
    scripts = [attrs for tag, attrs in parsed.tags if tag == "script"]
    assert len(scripts) == page.count("<script")  # no script tag beyond plotly's own
    names = [cell for t in parsed.tables for row in t["rows"] for cell in row]
    assert "Trust " + IMG + SCRIPT in names and "Owner " + IMG + SCRIPT in names  # shown, as text


def test_nothing_is_loaded_from_the_internet(default_page):
    page = default_page
    parsed = parse(page)
    links = [v for _, attrs in parsed.tags for k, v in attrs.items() if k in ("src", "href") and v]
    assert links and all(v.startswith("#") for v in links)  # only the contents' own anchors
    assert not re.search(r"<(?:script|link|img|iframe)[^>]+(?:src|href)\s*=\s*[\"']?(?:https?:)?//", page, re.I)
    assert page.count("plotly.js v") <= 2  # plotly.js inlined once (its banner names the version)
    assert len([1 for tag, attrs in parsed.tags if tag == "script" and not attrs]) >= 1


def test_people_are_counted_not_named_by_default(sample, default_page):
    _, _, project, record = sample
    people = project.stakeholders.loc[project.stakeholders["kind"] == "person", "name"]

    def cells(page: str) -> set[str]:
        return {cell for t in parse(page).tables for row in t["rows"] for cell in row}

    default = cells(default_page)
    assert not set(people) & default
    organisations = project.stakeholders.loc[project.stakeholders["kind"] != "person", "name"]
    assert set(organisations) & default  # organisations and groups are named
    named = cells(build_report(project, record=record, today="2026-03-01", name_people=True))
    assert set(people) & named


def test_missing_people_by_role_are_suppressed_and_match_an_independent_count(sample, default_page):
    _, _, project, _ = sample
    s = project.stakeholders
    took_part = set(project.participation["stakeholder_id"])
    missing = s.loc[(s["kind"] == "person") & (s["affected"].fillna(0) >= 1) & ~s["id"].isin(took_part)]
    roles = missing["roles"].map(lambda r: r or ["no role recorded"]).explode().value_counts()
    page = parse(default_page)
    table = next(t for t in page.tables if t["caption"].startswith("Affected people not taking part, by role"))
    shown = dict(table["rows"][1:])
    expected = {r: (f"fewer than {project.settings.min_cell}" if n < project.settings.min_cell else str(n))
                for r, n in roles.items()}
    assert shown == expected


def test_decisions_and_actions_match_the_record(sample):
    _, _, project, record = sample
    content = report_content(project, record=record, today="2026-03-01")
    decisions = content.section("decisions")
    reported = int(((record.decisions["reported_back_on"] != "") | (record.decisions["reported_how"] != "")).sum())
    assert f"{reported} of them" in decisions.intro[0]
    table = decisions.blocks[0].table
    assert len(table) == len(record.decisions)
    assert (table["Reported back"] == "not yet").sum() == len(record.decisions) - reported
    actions = content.section("actions").blocks[0].table
    assert len(actions) == len(record.actions)
    late = ((record.actions["due"] != "") & (record.actions["due"] < "2026-03-01")
            & record.actions["status"].isin(["open", "doing"])).sum()
    assert actions["Status"].str.endswith("(overdue)").sum() == late


def test_health_check_lists_every_component(sample):
    _, _, project, record = sample
    block = report_content(project, record=record, today="2026-03-01").section("health").blocks[0]
    assert len(block.table) == 10 and block.figure is not None
    scores = record.self_assessment.assign(score=record.self_assessment["score"].astype(float))
    cycle = scores["cycle"].iloc[-1]
    mean = scores.loc[(scores["cycle"] == cycle) & (scores["component"] == "equal"), "score"].mean()
    row = block.table.set_index("Component").loc["Equal"]
    assert row[f"Self-assessment, {cycle}"] == f"{mean:.1f}"


def test_sections_can_be_left_out_and_missing_record_is_explained(sample):
    _, _, project, _ = sample
    content = report_content(project, sections=["gaps", "decisions"], today="2026-03-01")
    assert [s.key for s in content.sections] == ["about", "gaps", "decisions", "credit"]
    assert content.section("decisions").note  # no record passed: says so instead of failing
    with pytest.raises(ValueError, match="Unknown report sections: nonsense"):
        report_content(project, sections=["nonsense"])
    assert set(OPTIONAL_SECTIONS) < set(SECTIONS)


def test_empty_project_still_makes_a_report():
    from coprod_map.model import empty_project

    page = parse(build_report(empty_project("Empty"), today="2026-03-01"))
    assert [t for tag, t in page.headings if tag == "h2"] == list(SECTIONS.values())


def test_report_filename_is_safe():
    assert report_filename("../../etc/passwd", "2026-03-01") == "etc-passwd-report-2026-03-01.html"
    assert report_filename("", "2026-03-01") == "project-report-2026-03-01.html"


def test_charts_leave_suppressed_groups_out(sample):
    _, _, project, record = sample
    block = report_content(project, record=record, today="2026-03-01").section("gaps").blocks[0]
    drawn = {y for trace in block.figure.data for y in trace.y}
    hidden = set(block.table.loc[block.table["Compared with those affected"] == "numbers too small to show", "Group"])
    assert hidden and not drawn & hidden
    assert isinstance(block.table, pd.DataFrame)
    assert all(isinstance(v, str) for column in block.table for v in block.table[column])  # display text only
