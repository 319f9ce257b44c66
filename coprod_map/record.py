"""The co-production record: decisions, what can change, reciprocity, needs, review cycles, snapshots.

The record sits beside the participation map (``coprod_map.model``) and follows its conventions:
tables are DataFrames, ids and text are ``str`` with ``""`` for blanks, list columns hold lists of
str (``a|b`` in files and the database), numbers are nullable ``Int64``/``Float64``, dates ISO text.
One extra kind, ``"bool"``, is a nullable ``boolean`` column (``private``).

Review cycles keep ONE source of truth: their names and dates stay in ``project.settings.cycles``.
The ``cycles`` table here holds only what the record adds to a cycle (what good and done look like,
reflections, lessons), keyed by the cycle's name; :func:`cycle_frame` joins the dates back in.

Needs are private by default: :data:`PRIVATE_COLUMNS` lists what never leaves the app's private view.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from typing import Any

import pandas as pd

from coprod_map.errors import EditRejected, Problem
from coprod_map.model import ProjectSettings, join_list, normalise_code, split_list
from coprod_map.validate import MAX_CELL_CHARS, REFUSED_RE, is_iso_date

__all__ = [
    "ACTION_STATUSES",
    "CHANGE_STATUSES",
    "MET",
    "NEED_CATEGORIES",
    "PRIVATE_COLUMNS",
    "RECORD_KEYS",
    "RECORD_TABLES",
    "RETURNED_KINDS",
    "SCORE_RANGE",
    "SNAPSHOT_KINDS",
    "TABLE_WORDS",
    "Record",
    "check_record",
    "FIELDS",
    "check_table",
    "cycle_frame",
    "edits_from_changes",
    "cycle_names",
    "empty_record",
    "empty_record_frame",
    "normalise_record_frame",
    "read_record_files",
    "record_rows",
]

# --- coded values: code -> words users see -------------------------------------------------

CHANGE_STATUSES: dict[str, str] = {
    "open": "Open to change",
    "fixed": "Fixed (cannot change)",
    "out_of_scope": "Out of scope",
}

RETURNED_KINDS: dict[str, str] = {
    "payment": "Payment",
    "voucher": "Voucher",
    "expenses": "Expenses paid",
    "training": "Training",
    "reference": "A reference",
    "feedback_on_influence": "Feedback on what their input changed",
    "other": "Something else",
    "none": "Nothing yet",
}

NEED_CATEGORIES: dict[str, str] = {
    "access": "Access",
    "communication": "Communication",
    "care": "Care",
    "travel": "Travel",
    "timing": "Timing",
    "other": "Other",
}

MET: dict[str, str] = {"yes": "Met", "partly": "Partly met", "no": "Not met"}

ACTION_STATUSES: dict[str, str] = {"open": "Open", "doing": "Under way", "done": "Done", "dropped": "Dropped"}

SNAPSHOT_KINDS: dict[str, str] = {"representation": "Who is involved", "network": "Relationships"}

SCORE_RANGE = (1, 5)

# --- tables ---------------------------------------------------------------------------------

RECORD_TABLES: dict[str, dict[str, str]] = {
    "decisions": {
        "id": "str", "date": "str", "title": "str", "decision": "str", "reasons": "str", "made_by": "list",
        "input_from": "str", "reported_back_on": "str", "reported_how": "str", "area": "str",
    },
    "changeables": {"id": "str", "area": "str", "status": "str", "why": "str"},
    "reciprocity": {
        "id": "str", "stakeholder_id": "str", "activity_id": "str", "date": "str", "contributed": "str",
        "hours": "Float64", "returned_kind": "str", "returned_detail": "str", "value": "Float64",
    },
    "needs": {
        "id": "str", "stakeholder_id": "str", "need": "str", "category": "str", "adjustment": "str",
        "private": "bool",
    },
    "need_met": {"need_id": "str", "activity_id": "str", "met": "str"},
    "cycles": {"cycle": "str", "good_looks_like": "str", "done_looks_like": "str", "reflections": "str",
               "lessons": "str"},
    "actions": {"id": "str", "cycle": "str", "title": "str", "owner": "str", "due": "str", "status": "str",
                "from_gap": "str"},
    "snapshots": {"cycle": "str", "kind": "str", "taken_at": "str", "figures": "str"},
    "self_assessment": {"id": "str", "cycle": "str", "component": "str", "score": "Int64", "respondent": "str"},
}

RECORD_KEYS: dict[str, tuple[str, ...]] = {
    "decisions": ("id",),
    "changeables": ("id",),
    "reciprocity": ("id",),
    "needs": ("id",),
    "need_met": ("need_id", "activity_id"),
    "cycles": ("cycle",),
    "actions": ("id",),
    "snapshots": ("cycle", "kind"),
    "self_assessment": ("id",),
}

#: table -> (plain name of the table, what one row is called)
TABLE_WORDS: dict[str, tuple[str, str]] = {
    "decisions": ("Decision log", "decision"),
    "changeables": ("What can and can't change", "area"),
    "reciprocity": ("Contributions and returns", "contribution"),
    "needs": ("Needs register", "need"),
    "need_met": ("Needs met at activities", "row"),
    "cycles": ("Review cycles", "cycle"),
    "actions": ("Actions", "action"),
    "snapshots": ("Snapshots", "snapshot"),
    "self_assessment": ("Self-assessment", "score"),
}

#: Columns only the private view shows (never in shared reports).
PRIVATE_COLUMNS: dict[str, tuple[str, ...]] = {"needs": ("need", "adjustment")}

#: New rows with a blank id get ``<prefix><number>``.
ID_PREFIX: dict[str, str] = {"decisions": "D", "changeables": "W", "reciprocity": "C", "needs": "N",
                             "actions": "T", "self_assessment": "S"}

_REQUIRED: dict[str, tuple[str, ...]] = {
    "decisions": ("id", "title"),
    "changeables": ("id", "area", "status"),
    "reciprocity": ("id", "stakeholder_id"),
    "needs": ("id", "stakeholder_id"),
    "need_met": ("need_id", "activity_id", "met"),
    "cycles": ("cycle",),
    "actions": ("id", "cycle", "title", "status"),
    "snapshots": ("cycle", "kind", "figures"),
    "self_assessment": ("id", "cycle", "component", "score"),
}

_CODED: dict[tuple[str, str], tuple[dict, str]] = {
    ("changeables", "status"): (CHANGE_STATUSES, "status"),
    ("reciprocity", "returned_kind"): (RETURNED_KINDS, "kind of return"),
    ("needs", "category"): (NEED_CATEGORIES, "kind of need"),
    ("need_met", "met"): (MET, "answer"),
    ("actions", "status"): (ACTION_STATUSES, "status"),
    ("snapshots", "kind"): (SNAPSHOT_KINDS, "kind of snapshot"),
}

_DATES: dict[str, tuple[str, ...]] = {
    "decisions": ("date", "reported_back_on"),
    "reciprocity": ("date",),
    "actions": ("due",),
}

# (table, column) -> (low, high or None, whole?)
_NUMBERS: dict[tuple[str, str], tuple[float, float | None, bool]] = {
    ("reciprocity", "hours"): (0, None, False),
    ("reciprocity", "value"): (0, None, False),
    ("self_assessment", "score"): (SCORE_RANGE[0], SCORE_RANGE[1], True),
}

_TRUE = {"true", "yes", "y", "1", "private"}
_FALSE = {"false", "no", "n", "0", "shared", "not private"}


# --- frames -----------------------------------------------------------------------------------

def _text(series: pd.Series) -> pd.Series:
    values = series.astype(object).where(series.notna(), "")
    return pd.Series([v if isinstance(v, str) else _plain(v) for v in values], index=series.index, dtype=object)


def _plain(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _bool(value: Any) -> Any:
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return True  # private unless said otherwise
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text == "":
        return True
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    return pd.NA  # refused by check_table


def _numbers(series: pd.Series) -> pd.Series:
    values = series.astype(object)
    values = values.where(~values.map(lambda v: isinstance(v, str) and not v.strip()), None)
    return pd.to_numeric(values, errors="coerce").astype("Float64")


def normalise_record_frame(table: str, frame: pd.DataFrame) -> pd.DataFrame:
    """A record table with its columns (blank when missing) in canonical dtypes; ``_file``/``_row`` kept.

    Text that is not a number in a number column becomes missing here: :func:`check_table` on the
    raw frame reports it first (callers that take user input check before normalising).

    >>> normalise_record_frame("needs", pd.DataFrame({"id": ["N1"], "private": ["no"]}))["private"].tolist()
    [False]
    """
    columns = RECORD_TABLES[table]
    out = frame.reset_index(drop=True).copy()
    n = len(out)
    for name, kind in columns.items():
        if name not in out.columns:
            out[name] = [[] for _ in range(n)] if kind == "list" else pd.Series([None] * n, dtype=object)
        if kind == "str":
            out[name] = _text(out[name])
        elif kind == "list":
            out[name] = pd.Series([split_list(v) for v in out[name]], index=out.index, dtype=object)
        elif kind == "Int64":
            out[name] = _numbers(out[name]).round().astype("Int64")
        elif kind == "Float64":
            out[name] = _numbers(out[name])
        elif kind == "bool":
            out[name] = pd.array([_bool(v) for v in out[name]], dtype="boolean")
    extras = [c for c in out.columns if c not in columns and str(c).startswith("_")]
    return out[list(columns) + extras]


def empty_record_frame(table: str) -> pd.DataFrame:
    return normalise_record_frame(table, pd.DataFrame())


def record_rows(table: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Every cell in database form: lists ``a|b``, numbers as Python numbers or None, booleans as bool."""
    out = {}
    for name, kind in RECORD_TABLES[table].items():
        series = frame[name]
        if kind == "list":
            out[name] = series.map(join_list).astype(object)
        elif kind in ("Int64", "Float64"):
            out[name] = pd.Series([None if pd.isna(v) else (int(v) if kind == "Int64" else float(v)) for v in series],
                                  index=series.index, dtype=object)
        elif kind == "bool":
            out[name] = pd.Series([bool(v) for v in series.astype("boolean").fillna(True)], index=series.index,
                                  dtype=object)
        else:
            out[name] = series.astype(object)
    return pd.DataFrame(out, index=frame.index)


@dataclass
class Record:
    """The whole co-production record of one project, one DataFrame per table."""

    decisions: pd.DataFrame = field(default_factory=lambda: empty_record_frame("decisions"))
    changeables: pd.DataFrame = field(default_factory=lambda: empty_record_frame("changeables"))
    reciprocity: pd.DataFrame = field(default_factory=lambda: empty_record_frame("reciprocity"))
    needs: pd.DataFrame = field(default_factory=lambda: empty_record_frame("needs"))
    need_met: pd.DataFrame = field(default_factory=lambda: empty_record_frame("need_met"))
    cycles: pd.DataFrame = field(default_factory=lambda: empty_record_frame("cycles"))
    actions: pd.DataFrame = field(default_factory=lambda: empty_record_frame("actions"))
    snapshots: pd.DataFrame = field(default_factory=lambda: empty_record_frame("snapshots"))
    self_assessment: pd.DataFrame = field(default_factory=lambda: empty_record_frame("self_assessment"))

    def table(self, name: str) -> pd.DataFrame:
        return getattr(self, name)

    def normalised(self) -> Record:
        return Record(**{f.name: normalise_record_frame(f.name, getattr(self, f.name)) for f in fields(self)})

    def counts(self) -> dict[str, int]:
        return {name: len(self.table(name)) for name in RECORD_TABLES}


def empty_record() -> Record:
    return Record()


def cycle_names(settings: ProjectSettings) -> list[str]:
    """The review cycles' names, from the project settings (their one source of truth)."""
    return [str(c.get("name", "")) for c in settings.cycles if str(c.get("name", "")).strip()]


def cycle_frame(settings: ProjectSettings, record: Record) -> pd.DataFrame:
    """Every review cycle with its dates (from settings) and what the record says about it.

    Cycles named in the settings come first, in order; record rows for a cycle the settings no
    longer name follow (``in_settings`` False), so nothing written is hidden.
    """
    dates = pd.DataFrame([{"cycle": str(c.get("name", "")), "start": str(c.get("start", "")),
                           "end": str(c.get("end", ""))} for c in settings.cycles if str(c.get("name", "")).strip()],
                         columns=["cycle", "start", "end"])
    notes = record.cycles[list(RECORD_TABLES["cycles"])]
    out = dates.merge(notes, on="cycle", how="outer", sort=False, indicator=True)
    out["in_settings"] = out["_merge"] != "right_only"
    out = out.drop(columns="_merge")
    order = {name: i for i, name in enumerate(dates["cycle"])}
    out["_order"] = out["cycle"].map(order).fillna(len(order))
    out = out.sort_values(["_order"], kind="stable").drop(columns="_order").reset_index(drop=True)
    for column in out.columns:
        if column != "in_settings":
            out[column] = out[column].astype(object).where(out[column].notna(), "")
    return out


# --- checks -----------------------------------------------------------------------------------

def _row_ids(table: str, frame: pd.DataFrame) -> pd.Series:
    keys = RECORD_KEYS[table]
    parts = [_text(frame[k]) if k in frame else pd.Series("", index=frame.index) for k in keys]
    joined = parts[0]
    for part in parts[1:]:
        joined = joined + " / " + part
    return joined


def check_table(
    table: str,
    frame: pd.DataFrame,
    *,
    stakeholder_ids: Iterable[str] = (),
    activity_ids: Iterable[str] = (),
    cycles: Iterable[str] | None = None,
    need_ids: Iterable[str] = (),
    components: Iterable[str] = (),
    cells: pd.DataFrame | None = None,
) -> list[Problem]:
    """Every problem in one record table (raw or normalised), each naming the table, the row's id and the column.

    ``cycles=None`` skips the check that cycle names are in the settings. ``cells`` (default the
    whole frame) are the rows whose characters and lengths are checked: the rows coming in.

    >>> [str(p) for p in check_table("actions", pd.DataFrame({"id": ["T1"], "cycle": ["C9"], "title": ["x"],
    ...                                                        "status": ["late"]}), cycles=["C1"])]
    ... # doctest: +NORMALIZE_WHITESPACE
    ["Actions, column 'status': action 'T1': 'late' is not a known status. Expected one of: open, doing, done, dropped.",
     "Actions, column 'cycle': action 'T1': 'C9' is not a review cycle in the project settings. Expected one of: C1."]
    """
    words, noun = TABLE_WORDS[table]
    frame = frame.reset_index(drop=True)
    ids = _row_ids(table, frame)
    problems: list[Problem] = []

    def add(mask: pd.Series, column: str, messages: list[str] | str) -> None:
        texts = [messages] * int(mask.sum()) if isinstance(messages, str) else list(messages)
        problems.extend(Problem(words, None, column, f"{noun} '{i}': {m}") for i, m in zip(ids[mask], texts, strict=True))

    text = {c: _text(frame[c].map(join_list) if RECORD_TABLES[table][c] == "list" else frame[c])
            for c in RECORD_TABLES[table] if c in frame}
    for column in _REQUIRED[table]:
        if column in text:
            add(text[column].str.strip() == "", column, f"the {column.replace('_', ' ')} is blank. Every row needs one.")
        else:
            problems.append(Problem(words, None, column, f"the rows have no '{column}' column."))
    keys = [k for k in RECORD_KEYS[table] if k in text]
    if len(keys) == len(RECORD_KEYS[table]) and len(frame):
        key_frame = pd.DataFrame({k: text[k] for k in keys})
        dup = key_frame.duplicated(keep="first") & (key_frame != "").all(axis=1)
        add(dup, keys[-1], f"{' and '.join(k.replace('_', ' ') for k in keys)} is used more than once. "
                           "Choose one that no other row has.")
    for (t, column), (codes, what) in _CODED.items():
        if t != table or column not in text:
            continue
        values = text[column].str.strip()
        bad = (values != "") & values.map(lambda v, c=codes: normalise_code(v, c) is None)
        expected = ", ".join(str(c).replace("_", " ") for c in codes)
        add(bad, column, [f"'{v[:60]}' is not a known {what}. Expected one of: {expected}." for v in values[bad]])
    for (t, column), (low, high, whole) in _NUMBERS.items():
        if t != table or column not in frame:
            continue
        raw = frame[column].astype(object)
        blank = raw.isna() | raw.map(lambda v: isinstance(v, str) and not v.strip())
        numbers = pd.to_numeric(raw.where(~blank, None), errors="coerce").astype("Float64")
        expected = f"from {low} to {high}" if high is not None else f"of {low} or more"
        kind = "a whole number" if whole else "a number"
        bad = (~blank & numbers.isna()).astype(bool)
        in_range = numbers >= low
        if high is not None:
            in_range &= numbers <= high
        if whole:
            in_range &= numbers.fillna(0) % 1 == 0
        bad |= (~blank & numbers.notna() & ~in_range.fillna(False)).astype(bool)
        add(bad, column, [f"'{str(v)[:60]}' is not valid here. Expected {kind} {expected}." for v in raw[bad]])
    for column in _DATES.get(table, ()):
        if column not in text:
            continue
        values = text[column].str.strip()
        bad = (values != "") & ~values.map(is_iso_date)
        add(bad, column, [f"'{v[:60]}' is not a date written as YYYY-MM-DD, such as 2026-03-05." for v in values[bad]])
    if table == "needs" and "private" in frame:
        raw = frame["private"].astype(object)
        bad = pd.Series([_bool(v) is pd.NA for v in raw], index=frame.index, dtype=bool)
        add(bad, "private", [f"'{str(v)[:60]}' is not yes or no." for v in raw[bad]])
    links: list[tuple[str, Iterable[str], str, bool]] = []
    if table in ("reciprocity", "needs"):
        links.append(("stakeholder_id", stakeholder_ids, "stakeholder id", True))
    if table in ("reciprocity", "need_met"):
        links.append(("activity_id", activity_ids, "activity id", True))
    if table == "need_met":
        links.append(("need_id", need_ids, "need id", True))
    if table == "self_assessment" and components:
        links.append(("component", components, "component", True))
    for column, allowed, what, _ in links:
        if column not in text:
            continue
        allowed = set(map(str, allowed))
        values = text[column]
        bad = (values != "") & ~values.isin(allowed)
        add(bad, column, [f"'{v[:60]}' is not a known {what}. Add it first or correct it." for v in values[bad]])
    if table == "decisions" and "made_by" in frame:
        allowed = set(map(str, stakeholder_ids))
        unknown = frame["made_by"].map(lambda v: [x for x in split_list(v) if x not in allowed])
        bad = unknown.map(bool)
        add(bad, "made_by", [f"'{u[0][:60]}' is not a known stakeholder id. Add it first or correct it."
                             for u in unknown[bad]])
    if cycles is not None and table in ("cycles", "actions", "snapshots", "self_assessment") and "cycle" in text:
        allowed = list(cycles)
        values = text["cycle"]
        bad = (values != "") & ~values.isin(set(allowed))
        shown = ", ".join(allowed) or "(none yet: add review cycles on the Project settings page)"
        add(bad, "cycle", [f"'{v[:60]}' is not a review cycle in the project settings. Expected one of: {shown}."
                           for v in values[bad]])
    subject = frame if cells is None else cells.reset_index(drop=True)
    cell_ids = _row_ids(table, subject)
    for column, kind in RECORD_TABLES[table].items():
        if column not in subject or kind not in ("str", "list"):
            continue
        values = _text(subject[column].map(join_list) if kind == "list" else subject[column])
        long = values.str.len() > MAX_CELL_CHARS
        refused = values.str.contains(REFUSED_RE, regex=True)
        for mask, message in ((long, f"this cell is longer than {MAX_CELL_CHARS:,} characters. Shorten it."),
                              (refused, "contains a control or invisible character that cannot be stored. Remove it.")):
            problems.extend(Problem(words, None, column, f"{noun} '{i}': {message}") for i in cell_ids[mask])
    return problems


def check_record(record: Record, *, stakeholder_ids: Iterable[str], activity_ids: Iterable[str],
                 settings: ProjectSettings | None = None) -> list[Problem]:
    """Every problem in a whole record, table by table (used on import)."""
    from coprod_map.components import COMPONENTS

    stakeholder_ids, activity_ids = list(stakeholder_ids), list(activity_ids)
    cycles = cycle_names(settings) if settings is not None else None
    problems: list[Problem] = []
    for table in RECORD_TABLES:
        frame = record.table(table)
        if len(frame):
            problems += check_table(table, frame, stakeholder_ids=stakeholder_ids, activity_ids=activity_ids,
                                    cycles=cycles, need_ids=_text(record.needs["id"]).tolist(),
                                    components=[c.key for c in COMPONENTS])
    return problems


def read_record_files(files: list[tuple[str, bytes]]) -> Record:
    """A record from CSV files named ``<table>.csv`` (or ``record/<table>.csv``); other files are ignored.

    Cells are read as text (ids like ``007`` stay as written) and normalised; check the result with
    :func:`check_record` before saving (``coprod_map.record_store.import_record`` does).
    """
    import io

    frames: dict[str, pd.DataFrame] = {}
    for name, data in files:
        table = name.rsplit("/", 1)[-1].removesuffix(".csv")
        if table not in RECORD_TABLES or not name.endswith(".csv"):
            continue
        raw = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, encoding="utf-8-sig")
        frames[table] = normalise_record_frame(table, raw)
    return Record(**frames)


# --- words users see, and edits made in a table ---------------------------------------------

#: table -> column -> (label, help). Every field the page shows has both.
FIELDS: dict[str, dict[str, tuple[str, str]]] = {
    "decisions": {
        "id": ("ID", "A short code for the decision. Left blank, one is made for you."),
        "date": ("Date (YYYY-MM-DD)", "When the decision was made."),
        "title": ("Decision in brief", "A few words naming the decision."),
        "decision": ("What was decided", "The decision itself, in plain words."),
        "reasons": ("Why", "The reasons for it, as they were given."),
        "made_by": ("Who took part", "The stakeholders who took part in making it: this shows whose experience "
                    "was in the room."),
        "input_from": ("What input shaped it", "Which activity, survey or group's input shaped the decision."),
        "reported_back_on": ("Reported back on (YYYY-MM-DD)", "When participants and the community were told "
                             "(\"you said, we did\"). Blank = not yet."),
        "reported_how": ("Reported back how", "How they were told: a letter, a meeting, a newsletter ..."),
        "area": ("Area of the work", "Which area it belongs to (see What can change)."),
    },
    "changeables": {
        "id": ("ID", "A short code. Left blank, one is made for you."),
        "area": ("Area of the work", "For example: where we meet, what the service offers, money."),
        "status": ("Can it change?", "Open to change, fixed, or out of scope for this work."),
        "why": ("Why", "Why it is open, fixed or out of scope, so everyone knows what their input can change."),
    },
    "reciprocity": {
        "id": ("ID", "A short code. Left blank, one is made for you."),
        "stakeholder_id": ("Who contributed", "The person who gave their time or knowledge."),
        "activity_id": ("At which activity", "The activity, if the contribution was at one (optional)."),
        "date": ("Date (YYYY-MM-DD)", "When they contributed."),
        "contributed": ("What they contributed", "Time, knowledge, a review, chairing ..."),
        "hours": ("Hours", "About how many hours it took them."),
        "returned_kind": ("What they got back", "Payment, a voucher, expenses, training, a reference, feedback on "
                          "what their input changed, something else, or nothing yet."),
        "returned_detail": ("Details of what came back", "For example: £25 voucher, bus fares."),
        "value": ("Money value", "The money value of what came back, if any (optional)."),
    },
    "needs": {
        "id": ("ID", "A short code. Left blank, one is made for you."),
        "stakeholder_id": ("Whose need", "The person who stated the need."),
        "need": ("The need, in their words", "What the person said they need. Private."),
        "category": ("Kind of need", "Access, communication, care, travel, timing or other."),
        "adjustment": ("Adjustment made", "What is done to meet it. Private."),
        "private": ("Private", "Ticked: shown only in the private view, never in shared reports. "
                    "Untick only if the person agreed it can be shared."),
    },
    "need_met": {
        "need_id": ("Need", "Which stated need."),
        "activity_id": ("Activity", "The activity the person came to."),
        "met": ("Was it met?", "Met, partly met, or not met at this activity."),
    },
    "cycles": {
        "cycle": ("Review cycle", "The cycle's name, from Project settings (where its dates are set)."),
        "good_looks_like": ("What good looks like", "What everyone agreed \"good\" means for this cycle."),
        "done_looks_like": ("What done looks like", "What everyone agreed \"done\" means for this cycle."),
        "reflections": ("Reflections", "What went well and what did not, looking back."),
        "lessons": ("Lessons", "What the next cycle will do differently."),
    },
    "actions": {
        "id": ("ID", "A short code. Left blank, one is made for you."),
        "cycle": ("Review cycle", "The cycle the action belongs to."),
        "title": ("Action", "What will be done."),
        "owner": ("Owner", "Who makes sure it happens."),
        "due": ("Due (YYYY-MM-DD)", "When it should be done by."),
        "status": ("Status", "Open, under way, done or dropped."),
        "from_gap": ("Answers which gap", "The gap or missing group it responds to, if any."),
    },
    "snapshots": {
        "cycle": ("Review cycle", "The cycle the figures belong to."),
        "kind": ("Figures", "Who is involved, or relationships."),
        "taken_at": ("Kept on", "When the snapshot was taken."),
        "figures": ("Figures (JSON)", "The figures as they were."),
    },
    "self_assessment": {
        "id": ("ID", "A short code. Left blank, one is made for you."),
        "cycle": ("Review cycle", "The cycle being scored."),
        "component": ("Component", "Which of the ten components of co-production."),
        "score": ("Score (1-5)", "1 = not at all, 5 = fully, as the respondent sees it."),
        "respondent": ("Respondent code", "An anonymous code, or blank. Never a name."),
    },
}


def edits_from_changes(table: str, shown: pd.DataFrame, changes: dict, *,
                       existing: pd.DataFrame | None = None) -> tuple[pd.DataFrame, list]:
    """``(upserts, deletes)`` for ``record_store.apply_record_edits`` from a ``st.data_editor`` change-set.

    Positions refer to ``shown``. New rows with a blank id get the next free id; a changed key deletes
    the old one; a new or changed key that another saved row (``existing``, else ``shown``) already has is
    refused with ``EditRejected``, as the map's editors do, instead of overwriting that row. Raw values are
    passed on unnormalised, so the store's checks see what was typed.

    >>> shown = pd.DataFrame({"id": ["D1", "D2"], "title": ["a", "b"]})
    >>> ups, dels = edits_from_changes("decisions", shown, {"edited_rows": {"1": {"title": "B"}},
    ...                                "added_rows": [{"title": "c"}], "deleted_rows": [0]})
    >>> ups[["id", "title"]].values.tolist(), dels
    ([['D2', 'B'], ['D3', 'c']], ['D1'])
    """
    from coprod_map.editing import next_ids

    keys = RECORD_KEYS[table]

    def key(row: dict) -> Any:
        values = tuple("" if row.get(k) is None else str(row.get(k)) for k in keys)
        return values[0] if len(values) == 1 else values

    edited = {int(p): dict(v) for p, v in (changes.get("edited_rows") or {}).items()}
    deleted = sorted({int(p) for p in (changes.get("deleted_rows") or [])})
    deletes = [key(shown.iloc[p].to_dict()) for p in deleted if p < len(shown)]
    rows = []
    new_keys: list[int] = []  # positions in ``rows`` whose key is new (added, or changed)
    for pos, values in sorted(edited.items()):
        if pos in deleted or pos >= len(shown):
            continue
        before = shown.iloc[pos].to_dict()
        after = {**before, **values}
        if key(after) != key(before):
            deletes.append(key(before))
            new_keys.append(len(rows))
        rows.append(after)
    added = [dict(r) for r in (changes.get("added_rows") or [])]
    new_keys += range(len(rows), len(rows) + len(added))
    rows += added
    columns = list(dict.fromkeys([*[c for c in shown.columns if not str(c).startswith("_")], *RECORD_TABLES[table]]))
    frame = pd.DataFrame(rows, columns=columns)
    frame = frame[[c for c in columns if c in RECORD_TABLES[table]]]
    prefix = ID_PREFIX.get(table)
    if prefix and len(frame):
        ids = frame["id"].astype(object).where(frame["id"].notna(), "").astype(str).str.strip()
        blank = ids == ""
        if blank.any():
            taken = pd.concat([pd.Series(list(existing["id"] if existing is not None else shown.get("id", [])),
                                         dtype=object), ids[~blank]], ignore_index=True)
            ids[blank] = next_ids(taken, prefix, int(blank.sum()))
        frame["id"] = ids
    frame = frame.reset_index(drop=True)
    saved = existing if existing is not None else shown
    _refuse_taken_keys(table, frame, new_keys, saved, deletes)
    return frame, deletes


def _refuse_taken_keys(table: str, frame: pd.DataFrame, new_rows: list[int], saved: pd.DataFrame,
                       deletes: list) -> None:
    """A new or changed key that another row already has is refused (an upsert would overwrite that row)."""
    keys = RECORD_KEYS[table]
    if not new_rows or not all(k in saved for k in keys):
        return

    def key_of(values: dict) -> tuple[str, ...]:
        return tuple("" if values.get(k) is None or values.get(k) is pd.NA else str(values.get(k)).strip()
                     for k in keys)

    gone = {d if isinstance(d, tuple) else (d,) for d in deletes}
    taken = {key_of(r) for r in saved[list(keys)].to_dict("records")} - {tuple(map(str, g)) for g in gone}
    words, noun = TABLE_WORDS[table]
    problems, seen = [], set()
    for pos in new_rows:
        k = key_of(frame.iloc[pos].to_dict())
        if "" in k:
            continue  # a blank key is reported by the store's checks
        if k in taken or k in seen:
            what = " and ".join(c.replace("_", " ") for c in keys)
            problems.append(Problem(words, None, keys[-1], f"{noun} '{' / '.join(k)}': this {what} is already used "
                                    "by another row. Choose one that no other row has; nothing was changed."))
        seen.add(k)
    if problems:
        raise EditRejected(problems)
