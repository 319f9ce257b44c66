"""Project settings as the settings page edits them: tables and lines of text <-> ``ProjectSettings``.

The conversion functions are pure (no Streamlit), so they are tested with plain pytest.
"""

from __future__ import annotations

import pandas as pd

from coprod_map.errors import Problem
from coprod_map.model import LIST_SEPARATOR, STAKEHOLDER_COLUMNS, ProjectSettings, split_list
from coprod_map.validate import is_iso_date

__all__ = ["FILE", "attributes_frame", "cycles_frame", "lines", "settings_from_form"]

FILE = "Project settings"


def attributes_frame(settings: ProjectSettings) -> pd.DataFrame:
    """One row per attribute: its name and its categories written ``a|b|c``."""
    return pd.DataFrame(
        {
            "attribute": list(settings.attributes),
            "categories": [LIST_SEPARATOR.join(v) for v in settings.attributes.values()],
        },
        dtype=object,
    )


def cycles_frame(settings: ProjectSettings) -> pd.DataFrame:
    """One row per review cycle: name, start and end (ISO dates as text)."""
    rows = [{k: str(c.get(k, "") or "") for k in ("name", "start", "end")} for c in settings.cycles]
    return pd.DataFrame(rows, columns=["name", "start", "end"], dtype=object)


def lines(text: str | None) -> list[str]:
    """Non-blank lines, trimmed, first occurrence kept (capitals ignored when comparing).

    >>> lines(" workshop\\n\\nSurvey\\nworkshop ")
    ['workshop', 'Survey']
    """
    seen: dict[str, str] = {}
    for line in str(text or "").splitlines():
        line = line.strip()
        if line and line.lower() not in seen:
            seen[line.lower()] = line
    return list(seen.values())


def _cell(value: object) -> str:
    if value is None or (isinstance(value, float) and value != value) or value is pd.NA:
        return ""
    return str(value).strip()


def settings_from_form(
    attributes: pd.DataFrame,
    relationship_types: str,
    activity_kinds: str,
    cycles: pd.DataFrame,
    min_cell: int | float | None,
) -> tuple[ProjectSettings, list[Problem]]:
    """The settings the form describes, and every problem with it (save only when there are none).

    Rows are numbered as on screen, first row = 1.

    >>> attrs = pd.DataFrame({"attribute": ["age band", "name"], "categories": ["16-24|25-64", "x"]})
    >>> cyc = pd.DataFrame({"name": ["Spring"], "start": ["2026-03-01"], "end": ["2026-02-01"]})
    >>> s, problems = settings_from_form(attrs, "knows", "workshop", cyc, 5)
    >>> s.attributes, [p.message for p in problems]  # doctest: +NORMALIZE_WHITESPACE
    ({'age band': ['16-24', '25-64']},
     ["'name' is a built-in stakeholder column. Choose another name.", 'The cycle ends before it starts.'])
    """
    problems: list[Problem] = []
    parsed: dict[str, list[str]] = {}
    for i, row in enumerate(attributes.to_dict("records"), start=1):
        name, categories = _cell(row.get("attribute")), split_list(_cell(row.get("categories")))
        if not name and not categories:
            continue
        if not name:
            problems.append(Problem(FILE, i, "attribute", "This attribute has categories but no name. Give it a name."))
        elif name in STAKEHOLDER_COLUMNS or name.startswith("_"):
            problems.append(Problem(FILE, i, "attribute", f"'{name}' is a built-in stakeholder column. Choose another name."))
        elif name.lower() in {k.lower() for k in parsed}:
            problems.append(Problem(FILE, i, "attribute", f"'{name}' is listed twice. Keep one row for it."))
        elif not categories:
            problems.append(Problem(FILE, i, "categories", f"'{name}' needs at least one category, separated by |."))
        else:
            parsed[name] = list(dict.fromkeys(categories))

    cycle_rows: list[dict[str, str]] = []
    for i, row in enumerate(cycles.to_dict("records"), start=1):
        name, start, end = (_cell(row.get(k)) for k in ("name", "start", "end"))
        if not (name or start or end):
            continue
        if not name:
            problems.append(Problem(FILE, i, "name", "This review cycle needs a name."))
            continue
        if name.lower() in {c["name"].lower() for c in cycle_rows}:
            problems.append(Problem(FILE, i, "name", f"The cycle '{name}' is listed twice. Use a different name."))
            continue
        bad = False
        for column, value in (("start", start), ("end", end)):
            if value and not is_iso_date(value):
                problems.append(Problem(FILE, i, column, f"'{value}' is not a date. Write it as YYYY-MM-DD."))
                bad = True
        if not bad and start and end and end < start:
            problems.append(Problem(FILE, i, "end", "The cycle ends before it starts."))
        cycle_rows.append({"name": name, "start": start, "end": end})

    threshold = 5 if min_cell is None else int(min_cell)
    if threshold < 1:
        problems.append(Problem(FILE, None, "min_cell", "The smallest number shown must be 1 or more."))
    settings = ProjectSettings(
        attributes=parsed,
        relationship_types=lines(relationship_types),
        activity_kinds=lines(activity_kinds),
        cycles=cycle_rows,
        min_cell=threshold,
    )
    return settings, problems
