"""Who is affected, who is involved, and the gap between them.

Everything here is a pure function of a :class:`coprod_map.model.Project` (its DataFrames and
settings) and plain keyword options; nothing reads a database or imports Streamlit.

The two sides of the comparison
-------------------------------
*Affected* comes from one of two places (``mode``):

- ``"population"``: the project's reference table (``attribute``, ``category``, ``count``,
  ``share``), for instance census figures or a service's caseload. Counts are used when every
  known category has one; otherwise shares, rescaled to sum to 1 over the known categories (so
  fractions and percentages both work; the reference must list every category). For a pair of
  attributes the reference holds rows whose ``attribute`` is ``"age_band by ethnicity"`` and whose
  ``category`` is ``"16-24 / Asian"`` (see :func:`pair_name`); without them the affected side of
  a pair is left blank.
- ``"register"``: the stakeholders the map marks as affected, ``affected >= affected_level``.

*Involved* (``involvement``):

- ``"took_part"``: distinct stakeholders with at least one participation record in an activity in
  the chosen period (``start``/``end`` ISO dates, inclusive, and/or ``cycles``). The number of
  participation records is kept too (``attendance_count``/``attendance_share``): the
  attendance-weighted view.
- ``"rung"``: stakeholders whose ``involvement`` is at or above ``rung`` on
  :data:`coprod_map.model.INVOLVEMENT_LEVELS`.

Categories
----------
``"not recorded"``, ``"prefer not to say"`` and blank (shown as ``"(blank)"``) get rows of their
own but are kept out of every share: shares are over the known categories only. A category the
project lists (settings or reference) with nobody in it appears with 0. Multi-valued columns
(``roles``, ``experience``) count a stakeholder once in each of their categories; a share is then
"the fraction of people with this role", and shares need not sum to 1.

Uncertainty and flags
---------------------
The involved share gets a Wilson 95% interval (:func:`coprod_map.analysis.stats.wilson_interval`);
the affected share is treated as the fixed yardstick. ``flag`` is ``"under"`` when the whole
interval lies below the affected share, ``"over"`` when above, ``"within"`` otherwise and ``""``
when there is nothing to compare (unknown rows, no one involved at all, no affected figure).

Small numbers
-------------
``suppressed`` is True when a count is from 1 to ``min_cell - 1`` (the project's
``settings.min_cell``, default 5). A count of 0 is not suppressed: it picks out nobody, and hiding
it would hide the very gap this page exists to show. :func:`suppress_small_cells` blanks the
figures of suppressed rows for anything shared.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd

from coprod_map.analysis.stats import wilson_interval
from coprod_map.model import INVOLVEMENT_LEVELS, NOT_RECORDED, PREFER_NOT_TO_SAY, Project, attribute_columns

__all__ = [
    "BLANK_LABEL",
    "GAP_COLUMNS",
    "INVOLVEMENT_MODES",
    "MODES",
    "PERIODS",
    "Participation",
    "activity_periods",
    "attribute_choices",
    "gap_overview",
    "gap_report",
    "gap_table",
    "involved_stakeholders",
    "is_known",
    "missing_stakeholders",
    "pair_name",
    "prepare_participation",
    "proxy_only_groups",
    "suppress_small_cells",
    "trend_table",
    "voice_table",
]

#: Exact columns of the CLI/export gap table, in order.
GAP_COLUMNS = [
    "attribute",
    "category",
    "affected_count",
    "affected_share",
    "involved_count",
    "involved_share",
    "gap",
    "ratio",
    "ci_low",
    "ci_high",
    "flag",
    "suppressed",
]

MODES: dict[str, str] = {
    "population": "A reference population (for example census figures)",
    "register": "The stakeholders the map marks as affected",
}

INVOLVEMENT_MODES: dict[str, str] = {
    "took_part": "Took part in at least one activity in the period",
    "rung": "At or above a rung on the involvement ladder",
}

PERIODS: dict[str, str] = {"cycle": "Review cycle", "quarter": "Quarter"}

BLANK_LABEL = "(blank)"
UNKNOWN = frozenset({NOT_RECORDED, PREFER_NOT_TO_SAY, ""})
#: Stakeholder columns besides the project's own attributes that can be compared in register mode.
REGISTER_COLUMNS = ("kind", "roles", "experience")
_LIST_COLUMNS = ("roles", "experience")
_PAIR_SEP = " by "
_CATEGORY_SEP = " / "
_DIRECT_BASES = ("lived_experience", "elected", "nominated")
#: Up to this many (period, stakeholder) cells, involvement is counted with ``np.bincount`` whatever the data size.
_BINCOUNT_MIN = 1 << 20
_FIGURES = [
    "affected_count",
    "affected_share",
    "involved_count",
    "involved_share",
    "gap",
    "ratio",
    "ci_low",
    "ci_high",
    "attendance_count",
    "attendance_share",
]


# --- small public helpers -----------------------------------------------------------------------

def pair_name(first: str, second: str) -> str:
    """The ``attribute`` value of a pair of attributes, as gap tables and the reference use it.

    >>> pair_name("age_band", "ethnicity")
    'age_band by ethnicity'
    """
    return f"{first}{_PAIR_SEP}{second}"


def is_known(categories: pd.Series) -> pd.Series:
    """True where a category is a real answer (not blank, "not recorded" or "prefer not to say").

    >>> is_known(pd.Series(["16-24", "Not recorded", "", "(blank)", "prefer not to say"])).tolist()
    [True, False, False, False, False]
    """
    text = categories.astype(str).str.strip().str.lower()
    return ~(text.isin(UNKNOWN) | (text == BLANK_LABEL))


def attribute_choices(project: Project, *, mode: str = "register") -> list[str]:
    """The attributes that can be compared: project attributes first (settings order), then, in
    register mode, ``kind``, ``roles`` and ``experience``; in population mode only attributes the
    reference table describes."""
    names = list(dict.fromkeys([*project.settings.attributes, *attribute_columns(project.stakeholders)]))
    if mode == "population":
        in_reference = set(project.reference["attribute"].astype(str)) if len(project.reference) else set()
        return [n for n in names if n in in_reference]
    _check_choice("mode", mode, MODES)
    return [*names, *REGISTER_COLUMNS]


def activity_periods(project: Project, *, period: str = "cycle") -> pd.Series:
    """Each activity's review cycle or quarter (``"2025-Q3"``), aligned with ``project.activities``.

    An activity's own ``cycle`` wins; a blank one is filled from the dates of the cycles in
    ``settings.cycles``. Activities without a usable date or cycle get ``""``.

    >>> p = Project(activities=pd.DataFrame({"id": ["a", "b"], "date": ["2025-08-01", ""], "cycle": ["", "Spring"]}))
    >>> p.settings.cycles = [{"name": "Summer", "start": "2025-06-01", "end": "2025-08-31"}]
    >>> activity_periods(p).tolist(), activity_periods(p, period="quarter").tolist()
    (['Summer', 'Spring'], ['2025-Q3', ''])
    """
    _check_choice("period", period, PERIODS)
    activities = project.activities
    dates = activities["date"].astype(str).str.strip() if "date" in activities else pd.Series("", index=activities.index)
    if period == "quarter":
        month = pd.to_numeric(dates.str[5:7], errors="coerce")
        valid = dates.str.match(r"^\d{4}-\d{2}") & month.between(1, 12)
        quarter = ((month - 1) // 3 + 1).fillna(0).astype(int).astype(str)
        return (dates.str[:4] + "-Q" + quarter).where(valid, "").astype(object)
    cycles = activities["cycle"].astype(str).str.strip() if "cycle" in activities else pd.Series("", index=dates.index)
    cycles = cycles.astype(object)
    # A handful of cycles: one vectorised mask each.
    for cycle in project.settings.cycles:
        start, end = str(cycle.get("start", "")), str(cycle.get("end", ""))
        inside = (cycles == "") & (dates != "")
        if start:
            inside &= dates >= start
        if end:
            inside &= dates <= end
        if start or end:
            cycles = cycles.where(~inside, str(cycle.get("name", "")))
    return cycles


# --- who is involved, who is affected ------------------------------------------------------------

def involved_stakeholders(
    project: Project,
    *,
    involvement: str = "took_part",
    rung: str = "involved",
    start: str = "",
    end: str = "",
    cycles: Sequence[str] | None = None,
    period: str | None = None,
    prepared: Participation | None = None,
) -> pd.DataFrame:
    """The involved stakeholders: ``stakeholder_id``, ``attendances`` (participation records;
    blank in rung mode) and, when ``period`` is given, ``period`` (one row per stakeholder and
    period they took part in).

    >>> p = Project(stakeholders=pd.DataFrame({"id": ["s1", "s2"], "involvement": ["informed", "co_designing"]}),
    ...             activities=pd.DataFrame({"id": ["a1", "a2"], "date": ["2025-01-05", "2025-03-01"]}),
    ...             participation=pd.DataFrame({"stakeholder_id": ["s1", "s1", "s2"],
    ...                                         "activity_id": ["a1", "a2", "a2"]})).normalised()
    >>> involved_stakeholders(p, start="2025-02-01")["stakeholder_id"].tolist()
    ['s1', 's2']
    >>> involved_stakeholders(p)["attendances"].tolist()
    [2, 1]
    >>> involved_stakeholders(p, involvement="rung", rung="involved")["stakeholder_id"].tolist()
    ['s2']
    """
    positions, periods = _involved_positions(
        project, involvement=involvement, rung=rung, start=start, end=end, cycles=cycles, period=period,
        prepared=prepared,
    )
    out = pd.DataFrame({"stakeholder_id": project.stakeholders["id"].to_numpy()[positions["_pos"].to_numpy()]})
    if period is not None:
        out["period"] = np.asarray(periods, dtype=object)[positions["_pcode"].to_numpy()]
    out["attendances"] = positions["attendances"].to_numpy()
    return out


def _check_choice(name: str, value: Any, allowed: Iterable) -> None:
    allowed = list(allowed)
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, allowed))}; got {value!r}.")


class Participation:
    """The participation records as integer row positions, worked out once per project and shared by
    every figure of a page (matching a million ids is the slow part of each of them).

    Built by :func:`prepare_participation`; pass it as ``prepared=`` to the functions here. It also
    remembers who is involved for each set of options it has been asked about, and each
    stakeholder's latest activity date. It belongs to the very project it was built from: given
    another project (or one whose tables were replaced) it is ignored and the figures are worked
    out afresh, so a stale one can cost time but never change a figure. The project's tables must
    not be changed in place while it is in use (cached projects are read-only).
    """

    _MEMO_SIZE = 64

    def __init__(self, project: Project) -> None:
        self._refs = tuple(
            weakref.ref(x) for x in (project, project.stakeholders, project.activities, project.participation)
        )
        self._ids = pd.Index(project.stakeholders["id"]), pd.Index(project.activities["id"])
        #: Stakeholder ids are unique, so a row position stands for its id.
        self.ids_unique = bool(self._ids[0].is_unique)
        self._positions: tuple[tuple[np.ndarray, np.ndarray] | None] | None = None
        self._memo: dict[tuple, tuple[pd.DataFrame, list[str]]] = {}
        self._coded: dict[str, _Coded] = {}
        self._last: tuple[np.ndarray | None] | None = None
        self._lock = threading.Lock()

    @property
    def positions(self) -> tuple[np.ndarray, np.ndarray] | None:
        """(activity row, stakeholder row) of each participation record (-1 = unknown id), matched on
        first use; None when ids repeat (the functions then raise as they always did)."""
        if self._positions is None:
            stakeholder_ids, activity_ids = self._ids
            project = self._refs[0]()
            found = None
            if project is not None and self.ids_unique and activity_ids.is_unique:
                participation = project.participation
                found = (_lookup(activity_ids, participation["activity_id"]),
                         _lookup(stakeholder_ids, participation["stakeholder_id"]))
            self._positions = (found,)
        return self._positions[0]

    def matches(self, project: Project) -> bool:
        """True when this was built from ``project`` and its tables are still the same objects."""
        current = (project, project.stakeholders, project.activities, project.participation)
        return all(ref() is obj for ref, obj in zip(self._refs, current, strict=True))

    def involved(self, project: Project, key: tuple, compute) -> tuple[pd.DataFrame, list[str]]:
        """The memoised ``_involved_positions`` result for ``key`` (shared: read it, never change it)."""
        key = (*key, repr(project.settings.cycles))
        with self._lock:
            found = self._memo.get(key)
        if found is None:
            found = compute()
            with self._lock:
                if len(self._memo) >= self._MEMO_SIZE:
                    self._memo.pop(next(iter(self._memo)))
                self._memo[key] = found
        return found

    def coded(self, attribute: str, compute) -> _Coded:
        """One stakeholder attribute as integer codes (memoised; shared: never change it)."""
        found = self._coded.get(attribute)
        if found is None:
            found = self._coded[attribute] = compute()
        return found

    def last_dates(self, project: Project) -> np.ndarray | None:
        """Each stakeholder's latest activity date (``""`` if never), aligned with
        ``project.stakeholders``; None when the fast path does not apply (repeated ids, dates that
        are not all text)."""
        if self._last is None:
            self._last = (self._last_dates(project),)
        return self._last[0]

    def _last_dates(self, project: Project) -> np.ndarray | None:
        dates = project.activities["date"].to_numpy(object)
        if self.positions is None or not all(isinstance(d, str) for d in dates):
            return None
        act_pos, who_pos = self.positions
        # ISO dates sort as text: rank each activity's date, keep each person's highest rank.
        labels, rank = np.unique(dates, return_inverse=True) if len(dates) else (np.array([], dtype=object),
                                                                              np.zeros(0, dtype=np.int64))
        rank = np.where(dates == "", -1, rank.reshape(-1)).astype(np.int64)
        valid = (act_pos >= 0) & (who_pos >= 0)
        best = np.full(len(project.stakeholders), -1, dtype=np.int64)
        np.maximum.at(best, who_pos[valid], rank[act_pos[valid]])
        out = np.full(len(best), "", dtype=object)
        out[best >= 0] = labels[best[best >= 0]]
        return out


def _lookup(ids: pd.Index, wanted: pd.Series) -> np.ndarray:
    """The row position in ``ids`` (unique) of each value of ``wanted``, -1 where absent. Arrow's hash
    lookup when pyarrow is there (about 3x quicker than pandas' on a million Python strings), else
    pandas'; anything Arrow cannot take as text (numbers, NaN, lone surrogates) goes to pandas."""
    try:
        import pyarrow as pa
        import pyarrow.compute as pc

        values = pa.array(ids.to_numpy(object), type=pa.string())
        found = pc.index_in(pa.array(wanted.to_numpy(object), type=pa.string()), value_set=values)
        return pc.fill_null(found, -1).to_numpy(zero_copy_only=False).astype(np.intp)
    except Exception:  # noqa: BLE001 - any failure here just means the plain pandas lookup
        return ids.get_indexer(wanted)


def prepare_participation(project: Project) -> Participation:
    """The project's participation records prepared once for every figure (see :class:`Participation`)."""
    return Participation(project)


def _usable(project: Project, prepared: Participation | None) -> Participation:
    return prepared if prepared is not None and prepared.matches(project) else Participation(project)


def _involved_positions(
    project: Project,
    *,
    involvement: str,
    rung: str,
    start: str,
    end: str,
    cycles: Sequence[str] | None,
    period: str | None,
    prepared: Participation | None = None,
) -> tuple[pd.DataFrame, list[str]]:
    """Involved stakeholders as row positions in ``project.stakeholders`` (``_pos``), with a period
    code (``_pcode``, an index into the returned period labels; one period ``""`` when not split)
    and ``attendances`` (participation records, Int64; blank in rung mode). With ``prepared`` (for
    this project) the result is remembered there and shared: never change it."""
    _check_choice("involvement", involvement, INVOLVEMENT_MODES)
    if involvement == "rung":
        _check_choice("rung", rung, INVOLVEMENT_LEVELS)
        if period is not None:
            raise ValueError("An involvement rung is today's state; over-time figures need involvement='took_part'.")
    if period is not None:
        _check_choice("period", period, PERIODS)

    if prepared is None or not prepared.matches(project):
        return _compute_involved(project, involvement=involvement, rung=rung, start=start, end=end, cycles=cycles,
                                 period=period, prepared=None)
    key = (involvement, rung, str(start), str(end), None if cycles is None else tuple(map(str, cycles)), period)
    return prepared.involved(project, key, lambda: _compute_involved(
        project, involvement=involvement, rung=rung, start=start, end=end, cycles=cycles, period=period,
        prepared=prepared))


def _compute_involved(
    project: Project,
    *,
    involvement: str,
    rung: str,
    start: str,
    end: str,
    cycles: Sequence[str] | None,
    period: str | None,
    prepared: Participation | None,
) -> tuple[pd.DataFrame, list[str]]:
    stakeholders = project.stakeholders
    if involvement == "rung":
        ranks = stakeholders["involvement"].map({code: i for i, code in enumerate(INVOLVEMENT_LEVELS)})
        chosen = np.flatnonzero(ranks.astype("Float64").fillna(-1).to_numpy(float) >= list(INVOLVEMENT_LEVELS).index(rung))
        return _positions(chosen), [""]

    activities = project.activities
    keep = pd.Series(True, index=activities.index)
    dates = activities["date"].astype(str).str.strip()
    if start:
        keep &= (dates != "") & (dates >= str(start))
    if end:
        keep &= (dates != "") & (dates <= str(end))
    if cycles is not None:
        keep &= activity_periods(project, period="cycle").isin([str(c) for c in cycles])
    keep_arr = keep.to_numpy(bool).copy()
    activity_code = np.full(len(activities), -1, dtype=np.int64)
    if period is None:
        periods = [""]
        activity_code[keep_arr] = 0
    else:
        labels = activity_periods(project, period=period).to_numpy(object)
        keep_arr &= labels != ""
        codes, uniques = pd.factorize(pd.Series(labels[keep_arr], dtype=object))
        activity_code[keep_arr] = codes
        periods = [str(u) for u in uniques]

    positions = prepared.positions if prepared is not None and prepared.matches(project) else None
    act_pos, who_pos = positions if positions is not None else _participation_positions(project)
    valid = (act_pos >= 0) & (who_pos >= 0)
    row_period = activity_code[act_pos[valid]]
    who_pos = who_pos[valid]
    chosen = row_period >= 0
    row_period, who_pos = row_period[chosen], who_pos[chosen]
    width = len(stakeholders) + 1
    keys = row_period * width + who_pos
    size = len(periods) * width
    if size <= max(2 * len(keys), _BINCOUNT_MIN):  # counting beats sorting while the grid is not much bigger than the data
        every = np.bincount(keys, minlength=size)
        unique_keys = np.flatnonzero(every)
        counts = every[unique_keys]
    else:
        unique_keys, counts = np.unique(keys, return_counts=True)
    return (
        pd.DataFrame(
            {
                "_pos": (unique_keys % width).astype(np.int64),
                "_pcode": (unique_keys // width).astype(np.int64),
                "attendances": pd.array(counts, dtype="Int64"),
            }
        ),
        periods,
    )


def _participation_positions(project: Project) -> tuple[np.ndarray, np.ndarray]:
    """Each participation record's activity and stakeholder as row positions (-1 = unknown id).
    Integer positions because string joins on a million rows are the slow part."""
    participation = project.participation
    act_pos = pd.Index(project.activities["id"]).get_indexer(participation["activity_id"])
    who_pos = pd.Index(project.stakeholders["id"]).get_indexer(participation["stakeholder_id"])
    return act_pos, who_pos


def _positions(chosen: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "_pos": chosen.astype(np.int64),
            "_pcode": np.zeros(len(chosen), dtype=np.int64),
            "attendances": pd.arrays.IntegerArray(np.zeros(len(chosen), dtype=np.int64),
                                                  np.ones(len(chosen), dtype=bool)),  # all blank
        }
    )


def _affected_positions(project: Project, *, affected_level: int) -> pd.DataFrame:
    level = pd.to_numeric(project.stakeholders["affected"], errors="coerce").astype("Float64").fillna(0)
    return _positions(np.flatnonzero(level.to_numpy(float) >= affected_level))


# --- categories per stakeholder -------------------------------------------------------------------

def _clean_categories(values: pd.Series) -> pd.Series:
    """Strip text; spell the two "unknown" answers one way whatever their case."""
    text = values.astype(object).where(values.notna(), "").astype(str).str.strip()
    lower = text.str.lower()
    text = text.where(lower != NOT_RECORDED, NOT_RECORDED)
    return text.where(lower != PREFER_NOT_TO_SAY, PREFER_NOT_TO_SAY).astype(object)


@dataclass
class _Coded:
    """One attribute (or pair) as integer codes: row ``i`` says stakeholder ``pos[i]`` is in
    category ``codes[i]``. ``single`` means exactly one row per stakeholder, in order, so a
    stakeholder's code is ``codes[pos]`` with no join."""

    pos: np.ndarray
    codes: np.ndarray
    categories: pd.Series  # code -> category text ("" = blank; pairs "a / b" with blanks shown)
    known: np.ndarray  # code -> bool
    single: bool
    parts: pd.DataFrame | None = None  # pairs: code -> category_a, category_b


def _factorize_clean(values: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """Codes and cleaned category text; cleaning runs on the distinct values only (fast)."""
    codes, uniques = pd.factorize(values.astype(object).where(values.notna(), ""), use_na_sentinel=False)
    cleaned = _clean_categories(pd.Series(np.asarray(uniques, dtype=object), dtype=object))
    merged, categories = pd.factorize(cleaned)  # "Not recorded" and "not recorded" become one
    return merged[codes].astype(np.int64), pd.Series(np.asarray(categories, dtype=object), dtype=object)


def _coded_attribute(stakeholders: pd.DataFrame, attribute: str) -> _Coded:
    if attribute not in stakeholders.columns:
        raise ValueError(
            f"'{attribute}' is not a stakeholder attribute. Expected one of: "
            f"{', '.join([*attribute_columns(stakeholders), *REGISTER_COLUMNS])}."
        )
    column = stakeholders[attribute]
    positions = np.arange(len(stakeholders), dtype=np.int64)
    if attribute in _LIST_COLUMNS:
        lists = column.map(lambda v: list(v) if isinstance(v, (list, tuple)) and len(v) else [""])
        frame = pd.DataFrame({"_pos": positions, "category": lists}).explode("category", ignore_index=True)
        codes, categories = _factorize_clean(frame["category"])
        pairs = pd.DataFrame({"pos": frame["_pos"].to_numpy(np.int64), "code": codes}).drop_duplicates()
        return _Coded(pairs["pos"].to_numpy(), pairs["code"].to_numpy(), categories, is_known(categories).to_numpy(),
                      single=False)
    codes, categories = _factorize_clean(column)
    return _Coded(positions, codes, categories, is_known(categories).to_numpy(), single=True)


def _coded_pair(stakeholders: pd.DataFrame, first: str, second: str, coded_of=None) -> _Coded:
    coded_of = coded_of or (lambda name: _coded_attribute(stakeholders, name))
    a, b = coded_of(first), coded_of(second)
    if a.single and b.single:
        pos, combined = a.pos, a.codes * len(b.categories) + b.codes
    else:
        both = pd.DataFrame({"pos": a.pos, "a": a.codes}).merge(pd.DataFrame({"pos": b.pos, "b": b.codes}), on="pos")
        pos, combined = both["pos"].to_numpy(), both["a"].to_numpy() * len(b.categories) + both["b"].to_numpy()
    codes, uniques = pd.factorize(combined)
    uniques = np.asarray(uniques, dtype=np.int64)
    code_a, code_b = uniques // len(b.categories), uniques % len(b.categories)
    cat_a = a.categories.to_numpy()[code_a]
    cat_b = b.categories.to_numpy()[code_b]
    parts = pd.DataFrame({"category_a": cat_a, "category_b": cat_b})
    categories = _display(parts["category_a"]) + _CATEGORY_SEP + _display(parts["category_b"])
    known = a.known[code_a] & b.known[code_b]
    return _Coded(pos, codes.astype(np.int64), categories.astype(object), known, single=a.single and b.single,
                  parts=parts)


def _display(categories: pd.Series) -> pd.Series:
    return categories.where(categories != "", BLANK_LABEL)


def _tally(people: pd.DataFrame, coded: _Coded, n_periods: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """People (and attendances) per period code and category code, and per period the number of
    distinct people with a known category (the share denominator). Plain integer counting."""
    n_cat = max(len(coded.categories), 1)
    people_pos = people["_pos"].to_numpy(np.int64)
    period = people["_pcode"].to_numpy(np.int64)
    attendance = people["attendances"].astype("Float64").fillna(0).to_numpy(float)
    if coded.single:
        codes = coded.codes[people_pos]
        row_pos = people_pos
    else:
        joined = pd.DataFrame({"pos": people_pos, "period": period, "att": attendance}).merge(
            pd.DataFrame({"pos": coded.pos, "code": coded.codes}), on="pos"
        )
        codes, row_pos = joined["code"].to_numpy(np.int64), joined["pos"].to_numpy(np.int64)
        period, attendance = joined["period"].to_numpy(np.int64), joined["att"].to_numpy(float)
    cell = period * n_cat + codes
    size = n_periods * n_cat
    counts = np.bincount(cell, minlength=size)
    attendances = np.bincount(cell, weights=attendance, minlength=size)
    known_rows = coded.known[codes] if len(codes) else np.zeros(0, dtype=bool)
    if coded.single:
        totals = np.bincount(period[known_rows], minlength=n_periods)
        attendance_totals = np.bincount(period[known_rows], weights=attendance[known_rows], minlength=n_periods)
    else:  # a person with two known roles is still one person
        distinct = pd.DataFrame({"period": period[known_rows], "pos": row_pos[known_rows],
                                 "att": attendance[known_rows]}).drop_duplicates(["period", "pos"])
        totals = np.bincount(distinct["period"].to_numpy(np.int64), minlength=n_periods)
        attendance_totals = np.bincount(distinct["period"].to_numpy(np.int64), weights=distinct["att"].to_numpy(float),
                                        minlength=n_periods)
    nonzero = np.flatnonzero(counts)
    cells = pd.DataFrame(
        {
            "_pcode": nonzero // n_cat,
            "category": coded.categories.to_numpy()[nonzero % n_cat] if len(coded.categories) else [],
            "count": counts[nonzero],
            "attendance": attendances[nonzero],
        }
    )
    per_period = pd.DataFrame({"_pcode": np.arange(n_periods), "total": totals, "attendance_total": attendance_totals})
    return cells, per_period


# --- the gap table ----------------------------------------------------------------------------------

def _reference_side(project: Project, attribute: str, known_of) -> pd.DataFrame | None:
    """Affected counts/shares for one attribute (or pair name) from the reference table."""
    reference = project.reference
    if not len(reference):
        return None
    rows = reference.loc[reference["attribute"].astype(str).str.strip() == attribute]
    if not len(rows):
        return None
    frame = pd.DataFrame(
        {
            "category": _clean_categories(rows["category"]).to_numpy(),
            "count": pd.to_numeric(rows["count"], errors="coerce").astype("Float64").to_numpy(),
            "share": pd.to_numeric(rows["share"], errors="coerce").astype("Float64").to_numpy(),
        }
    )
    frame = frame.groupby("category", sort=False).sum(min_count=1).reset_index()
    known = known_of(frame["category"])
    counts, shares = frame["count"], frame["share"]
    if known.any() and counts[known].notna().all() and counts[known].sum() > 0:
        share = counts / counts[known].sum()
    elif known.any() and shares[known].notna().all() and shares[known].sum() > 0:
        share = shares / shares[known].sum()
    else:
        share = pd.Series(pd.NA, index=frame.index, dtype="Float64")
    return pd.DataFrame(
        {
            "category": frame["category"],
            "affected_count": counts.round().astype("Int64"),
            "affected_share": share.astype("Float64").where(known, pd.NA),
        }
    )


def _order(categories: Iterable[str], preferred: Sequence[str], known_of) -> list[str]:
    """Preferred order first, then the rest as met; unknown answers last."""
    seen = pd.Series(list(dict.fromkeys([*preferred, *categories])), dtype=object)
    known = known_of(seen).to_numpy(bool)
    rank = {NOT_RECORDED: 0, PREFER_NOT_TO_SAY: 1, "": 2}
    unknown = seen[~known].sort_values(key=lambda s: s.map(rank).fillna(3), kind="stable")
    return [*seen[known], *unknown]


def _one_gap_table(
    project: Project,
    by: tuple[str, ...],
    *,
    mode: str,
    involved: pd.DataFrame,
    periods: list[str],
    affected: pd.DataFrame | None,
    min_cell: int,
    prepared: Participation | None = None,
) -> pd.DataFrame:
    stakeholders = project.stakeholders
    attribute = by[0] if len(by) == 1 else pair_name(*by)
    if prepared is not None and prepared.matches(project):
        def coded_of(name: str) -> _Coded:
            return prepared.coded(name, lambda: _coded_attribute(stakeholders, name))
    else:
        def coded_of(name: str) -> _Coded:
            return _coded_attribute(stakeholders, name)
    coded = coded_of(by[0]) if len(by) == 1 else _coded_pair(stakeholders, *by, coded_of=coded_of)
    code_known = pd.Series(coded.known, index=coded.categories.to_numpy(), dtype=bool)
    code_known = code_known[~code_known.index.duplicated()]

    def known_of(categories: pd.Series) -> pd.Series:
        if len(by) == 1:
            return is_known(categories)
        parts = categories.astype(str).str.split(_CATEGORY_SEP, n=1, regex=False)
        by_parts = is_known(parts.str[0].fillna("")) & is_known(parts.str[1].fillna(""))
        return categories.map(code_known).fillna(by_parts).astype(bool)

    inv, inv_totals = _tally(involved, coded, len(periods))
    if mode == "population":
        side = _reference_side(project, attribute, known_of)
        if side is None:
            side = pd.DataFrame({"category": pd.Series([], dtype=object), "affected_count": pd.Series([], dtype="Int64"),
                                 "affected_share": pd.Series([], dtype="Float64")})
    else:
        aff, aff_totals = _tally(affected, coded, 1)
        total = float(aff_totals["total"].iloc[0])
        side = pd.DataFrame(
            {
                "category": aff["category"],
                "affected_count": aff["count"].astype("Int64"),
                "affected_share": (aff["count"] / total if total else pd.Series(np.nan, index=aff.index))
                .astype("Float64")
                .where(known_of(aff["category"]).to_numpy(), pd.NA),
            }
        )

    preferred = list(project.settings.attributes.get(by[0], [])) if len(by) == 1 else []
    categories = _order([*side["category"], *inv["category"]], preferred, known_of)
    grid = pd.DataFrame(
        {
            "_pcode": np.repeat(np.arange(len(periods)), len(categories)),
            "category": pd.Series(categories * len(periods), dtype=object),
        }
    )
    out = grid.merge(side, on="category", how="left").merge(inv, on=["_pcode", "category"], how="left")
    out = out.merge(inv_totals, on="_pcode", how="left")
    out.insert(0, "period", np.asarray(periods, dtype=object)[out["_pcode"].to_numpy()] if len(out) else [])
    known = known_of(out["category"]).to_numpy(bool)

    total = out["total"].astype("Float64").fillna(0)
    out["involved_count"] = out["count"].astype("Float64").fillna(0).round().astype("Int64")
    rung_mode = involved["attendances"].isna().all() and len(involved) > 0
    out["attendance_count"] = out["attendance"].astype("Float64").fillna(0).round().astype("Int64")
    attendance_total = out["attendance_total"].astype("Float64")
    out["involved_share"] = (out["involved_count"].astype("Float64") / total.where(total > 0, pd.NA)).where(known, pd.NA)
    out["attendance_share"] = (out["attendance_count"].astype("Float64") / attendance_total.where(attendance_total > 0))
    out["attendance_share"] = out["attendance_share"].where(known, pd.NA).astype("Float64")
    if rung_mode:
        out["attendance_count"] = pd.array([pd.NA] * len(out), dtype="Int64")
        out["attendance_share"] = pd.array([pd.NA] * len(out), dtype="Float64")
    if mode == "register":
        # A category nobody affected is in still has a share: 0 of those affected.
        if affected is not None and len(affected):
            out.loc[known & out["affected_share"].isna().to_numpy(), "affected_share"] = 0.0
        out["affected_count"] = out["affected_count"].fillna(0)
    affected_share = out["affected_share"].astype("Float64")
    out["affected_share"] = affected_share
    out["gap"] = (out["involved_share"] - affected_share).astype("Float64")
    out["ratio"] = (out["involved_share"] / affected_share.where(affected_share > 0, pd.NA)).astype("Float64")
    low, high = wilson_interval(out["involved_count"], total)
    out["ci_low"] = pd.array(np.where(known, low, np.nan), dtype="Float64")
    out["ci_high"] = pd.array(np.where(known, high, np.nan), dtype="Float64")
    out["ci_low"] = out["ci_low"].astype("Float64")
    out["flag"] = _flags(out["ci_low"], out["ci_high"], out["affected_share"])
    out["suppressed"] = _small(out["affected_count"], min_cell) | _small(out["involved_count"], min_cell)
    out["known"] = known
    out["involved_total"] = total.round().astype("Int64")
    out.insert(1, "attribute", attribute)
    extras = ["known", "attendance_count", "attendance_share", "involved_total"]
    if len(by) == 2:
        parts = pd.DataFrame(
            {"category": coded.categories.to_numpy(), "category_a": _display(coded.parts["category_a"]).to_numpy(),
             "category_b": _display(coded.parts["category_b"]).to_numpy()}
        ).drop_duplicates("category")
        out = out.merge(parts, on="category", how="left")
        for index, column in enumerate(("category_a", "category_b")):
            missing = out[column].isna()
            if missing.any():  # pair categories only the reference lists
                split = out.loc[missing, "category"].astype(str).str.split(_CATEGORY_SEP, n=1, regex=False)
                out.loc[missing, column] = split.str[index].fillna("")
        extras += ["category_a", "category_b"]
    out["category"] = _display(out["category"])
    return out[["period", *GAP_COLUMNS, *extras]]


def _flags(low: pd.Series, high: pd.Series, affected_share: pd.Series) -> pd.Series:
    comparable = low.notna() & high.notna() & affected_share.notna()
    under = comparable & (high < affected_share)
    over = comparable & (low > affected_share)
    flag = np.select(
        [under.fillna(False).to_numpy(bool), over.fillna(False).to_numpy(bool), comparable.to_numpy(bool)],
        ["under", "over", "within"],
        default="",
    )
    return pd.Series(flag, index=low.index, dtype=object)


def _small(counts: pd.Series, min_cell: int) -> pd.Series:
    values = counts.astype("Float64")
    return ((values > 0) & (values < min_cell)).fillna(False).astype(bool)


def _normalise_by(project: Project, by: str | Sequence[str] | None, *, mode: str) -> list[str]:
    if by is None:
        return [a for a in attribute_choices(project, mode=mode) if a not in REGISTER_COLUMNS]
    return [by] if isinstance(by, str) else list(by)


def gap_table(
    project: Project,
    *,
    by: str | Sequence[str],
    mode: str = "population",
    affected_level: int = 1,
    involvement: str = "took_part",
    rung: str = "involved",
    start: str = "",
    end: str = "",
    cycles: Sequence[str] | None = None,
    min_cell: int | None = None,
    prepared: Participation | None = None,
) -> pd.DataFrame:
    """The gap table for one attribute (``by="age_band"``) or one pair (``by=("age_band", "area")``).

    Columns: :data:`GAP_COLUMNS`, then ``known`` (False for the unknown rows kept out of the
    shares), ``attendance_count``/``attendance_share`` (the attendance-weighted view; blank in
    rung mode), ``involved_total`` (people involved with a known category: the share
    denominator) and, for pairs, ``category_a``/``category_b``. Shares are fractions 0-1; ``gap``
    is involved share minus affected share; ``ratio`` involved share / affected share.
    ``prepared`` (from :func:`prepare_participation`) shares the participation work between calls.

    Examples
    --------
    Four affected people (two young), two involved (one young):

    >>> p = Project(stakeholders=pd.DataFrame({
    ...     "id": ["a", "b", "c", "d"], "affected": [2, 2, 2, 2],
    ...     "age": ["young", "young", "old", "old"]}),
    ...     activities=pd.DataFrame({"id": ["w"], "date": ["2025-01-01"]}),
    ...     participation=pd.DataFrame({"stakeholder_id": ["a", "c"], "activity_id": ["w", "w"]})).normalised()
    >>> t = gap_table(p, by="age", mode="register", min_cell=1)
    >>> t[["category", "affected_share", "involved_share", "gap"]].to_dict("list")
    {'category': ['young', 'old'], 'affected_share': [0.5, 0.5], 'involved_share': [0.5, 0.5], 'gap': [0.0, 0.0]}
    """
    return _gap_tables(
        project, [_key(by)], mode=mode, affected_level=affected_level, involvement=involvement, rung=rung,
        start=start, end=end, cycles=cycles, min_cell=min_cell, prepared=prepared,
    ).drop(columns="period")


def _key(by: str | Sequence[str]) -> tuple[str, ...]:
    key = (by,) if isinstance(by, str) else tuple(by)
    if len(key) not in (1, 2):
        raise ValueError(f"by must name one attribute or a pair of attributes; got {by!r}.")
    return key


def _gap_tables(
    project: Project,
    keys: list[tuple[str, ...]],
    *,
    mode: str,
    affected_level: int,
    involvement: str,
    rung: str,
    start: str,
    end: str,
    cycles: Sequence[str] | None,
    min_cell: int | None,
    period: str | None = None,
    prepared: Participation | None = None,
) -> pd.DataFrame:
    """Gap tables for several attributes/pairs, sharing one pass over the participation records."""
    _check_choice("mode", mode, MODES)
    involved, periods = _involved_positions(
        project, involvement=involvement, rung=rung, start=start, end=end, cycles=cycles, period=period,
        prepared=prepared,
    )
    affected = _affected_positions(project, affected_level=affected_level) if mode == "register" else None
    tables = [
        _one_gap_table(
            project, key, mode=mode, involved=involved, periods=periods, affected=affected,
            min_cell=_min_cell(project, min_cell), prepared=prepared,
        )
        for key in keys
    ]
    return pd.concat(tables, ignore_index=True)


def _min_cell(project: Project, min_cell: int | None) -> int:
    return int(project.settings.min_cell if min_cell is None else min_cell)


def trend_table(
    project: Project,
    *,
    by: str | Sequence[str] | list[str | Sequence[str]],
    period: str = "cycle",
    mode: str = "population",
    affected_level: int = 1,
    start: str = "",
    end: str = "",
    cycles: Sequence[str] | None = None,
    min_cell: int | None = None,
    prepared: Participation | None = None,
) -> pd.DataFrame:
    """The gap table once per review cycle or quarter: a ``period`` column, then the
    :func:`gap_table` columns. The affected side (reference or register) is the same in every
    period; the involved side counts who took part in that period's activities.

    ``by`` is one attribute, one pair (a tuple) or a list of either. Cycles come in
    ``settings.cycles`` order, then any others as met; quarters in date order. A period with
    activities but nobody taking part still gets its rows, with zeros. ``prepared``: see
    :func:`prepare_participation`.
    """
    keys = [_key(b) for b in by] if isinstance(by, list) else [_key(by)]
    _check_choice("period", period, PERIODS)
    labels = activity_periods(project, period=period)
    labels = labels[labels != ""]
    if period == "cycle":
        ordered = _order_periods([c.get("name", "") for c in project.settings.cycles], labels)
    else:
        ordered = sorted(set(labels))
    if cycles is not None:
        ordered = [p for p in ordered if p in set(map(str, cycles))]
    table = _gap_tables(
        project, keys, mode=mode, affected_level=affected_level, involvement="took_part", rung="",
        start=start, end=end, cycles=cycles, min_cell=min_cell, period=period, prepared=prepared,
    )
    present = set(pd.unique(table["period"]))
    missing = [p for p in ordered if p not in present]
    if missing and len(table):
        base = table.loc[table["period"] == table["period"].iloc[0]]
        zeros = pd.concat([base.assign(period=p) for p in missing], ignore_index=True)
        zeros[["involved_count", "involved_total", "attendance_count"]] = 0
        zeros.loc[:, ["involved_share", "gap", "ratio", "ci_low", "ci_high", "attendance_share"]] = pd.NA
        zeros["flag"] = ""
        zeros["suppressed"] = _small(zeros["affected_count"], _min_cell(project, min_cell))
        table = pd.concat([table, zeros], ignore_index=True)
    table = table.loc[table["period"].isin(ordered)]
    rank = {p: i for i, p in enumerate(ordered)}
    attribute_rank = {a: i for i, a in enumerate(pd.unique(table["attribute"]))}
    table = table.assign(_rank=table["period"].map(rank), _attr=table["attribute"].map(attribute_rank))
    table = table.sort_values(["_attr", "_rank"], kind="stable")
    return table.drop(columns=["_rank", "_attr"]).reset_index(drop=True)


def _order_periods(preferred: Sequence[str], labels: pd.Series) -> list[str]:
    return list(dict.fromkeys([p for p in preferred if p in set(labels)] + sorted(set(labels) - set(preferred))))


def gap_report(
    project: Project,
    *,
    by: list[str] | None = None,
    pairs: bool = False,
    mode: str = "population",
    affected_level: int = 1,
    involvement: str = "took_part",
    rung: str = "involved",
    start: str = "",
    end: str = "",
    cycles: Sequence[str] | None = None,
    min_cell: int | None = None,
    suppress: bool = True,
) -> pd.DataFrame:
    """The gap table for several attributes at once, in the exact CLI/export columns.

    This is what ``python -m coprod_map gaps --project NAME [--by ATTR ...] [--format csv|json]``
    writes: one row per attribute (or pair) and category with :data:`GAP_COLUMNS`.

    Parameters
    ----------
    project : the open project.
    by : attributes to compare; ``None`` = every project attribute (in population mode, every one
        the reference describes). ``kind``, ``roles`` and ``experience`` may be named in register mode.
    pairs : also (with ``by`` of one name: only) every pair of the ``by`` attributes.
    mode : ``"population"`` (reference table) or ``"register"`` (stakeholders with
        ``affected >= affected_level``).
    involvement : ``"took_part"`` (``start``/``end`` ISO dates inclusive, ``cycles`` names) or
        ``"rung"`` (``involvement`` at or above ``rung``).
    min_cell : small-number threshold; default ``project.settings.min_cell``.
    suppress : blank the figures of rows with a count from 1 to ``min_cell - 1``
        (:func:`suppress_small_cells`); keep True for anything shared.

    An unknown attribute raises ``ValueError`` naming the choices.
    """
    names = _normalise_by(project, by, mode=mode)
    keys: list[tuple[str, ...]] = [(n,) for n in names] if not pairs or len(names) < 2 else []
    if pairs:
        keys += list(combinations(names, 2))
        if len(names) >= 2:
            keys = [(n,) for n in names] + keys
    options = dict(
        mode=mode, affected_level=affected_level, involvement=involvement, rung=rung,
        start=start, end=end, cycles=cycles, min_cell=min_cell,
    )
    if not keys:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in GAP_COLUMNS})
    report = _gap_tables(project, keys, **options)
    if suppress:
        report = suppress_small_cells(report)
    return report[GAP_COLUMNS]


def suppress_small_cells(table: pd.DataFrame, *, min_cell: int | None = None) -> pd.DataFrame:
    """A copy with every figure of a suppressed row blanked (the row stays, ``suppressed=True``).

    With ``min_cell`` given, ``suppressed`` is worked out afresh from the counts (1 to
    ``min_cell - 1``); otherwise the table's own ``suppressed`` column is used. Other rows are
    left as they are (no secondary suppression).

    >>> t = pd.DataFrame({"category": ["a", "b"], "affected_count": [10, 12], "involved_count": [3, 0],
    ...                   "involved_share": [1.0, 0.0], "flag": ["over", "under"]})
    >>> out = suppress_small_cells(t, min_cell=5)
    >>> out["involved_count"].isna().tolist(), out["flag"].tolist(), out["suppressed"].tolist()
    ([True, False], ['', 'under'], [True, False])
    """
    out = table.copy()
    if min_cell is not None or "suppressed" not in out:
        threshold = 5 if min_cell is None else int(min_cell)
        flags = pd.Series(False, index=out.index)
        for column in ("affected_count", "involved_count"):
            if column in out:
                flags |= _small(out[column], threshold)
        out["suppressed"] = flags
    hide = out["suppressed"].astype(bool).to_numpy()
    for column in _FIGURES:
        if column in out:
            kind = "Int64" if column.endswith("_count") else "Float64"
            out[column] = out[column].astype(kind).mask(hide, pd.NA)
    if "flag" in out:
        out["flag"] = out["flag"].mask(hide, "")
    return out


# --- who is missing ---------------------------------------------------------------------------------

def _involved_mask(project: Project, prepared: Participation, **options) -> np.ndarray:
    """True for each row of ``project.stakeholders`` whose id is among the involved stakeholders'."""
    positions, _ = _involved_positions(project, period=None, prepared=prepared, **options)
    chosen = positions["_pos"].to_numpy()
    if prepared.ids_unique:
        mask = np.zeros(len(project.stakeholders), dtype=bool)
        mask[chosen] = True
        return mask
    ids = project.stakeholders["id"]
    return ids.isin(pd.Index(ids.to_numpy()[chosen])).to_numpy(bool)


def _last_took_part(project: Project, prepared: Participation, rows: np.ndarray) -> pd.Series:
    """The latest activity date ever of the stakeholders at positions ``rows`` (``""`` if never)."""
    last = prepared.last_dates(project)
    if last is not None:
        return pd.Series(last[rows], dtype=object)
    # Repeated ids or dates that are not all text: the plain join.
    ids = project.stakeholders["id"].iloc[rows]
    dates = project.participation[["stakeholder_id", "activity_id"]].merge(
        project.activities[["id", "date"]].rename(columns={"id": "activity_id"}), on="activity_id", how="inner"
    )
    dates = dates.loc[dates["date"].astype(str) != ""]
    # ISO dates sort as text; sort + drop_duplicates stays vectorised where groupby.max on text does not
    by_id = dates.sort_values("date").drop_duplicates("stakeholder_id", keep="last").set_index("stakeholder_id")["date"]
    return pd.Series(ids.map(by_id).fillna("").astype(object).to_numpy(), dtype=object)


def _sort_missing(out: pd.DataFrame) -> pd.DataFrame:
    """Most affected first, then by kind and name (stable): one ``np.lexsort`` on integer codes,
    which orders exactly as ``sort_values`` does (blank ``affected`` last), or ``sort_values``
    itself for values that do not compare as plain text."""
    try:
        level_codes, levels = pd.factorize(out["affected"], sort=True)  # NA -> -1
        level_key = np.where(level_codes < 0, len(levels), len(levels) - 1 - level_codes)  # descending, NA last
        kind_codes = _text_codes(out["kind"])
        name_codes = _text_codes(out["name"])
        order = np.lexsort((name_codes, kind_codes, level_key))
        return out.iloc[order].reset_index(drop=True)
    except TypeError:
        return out.sort_values(["affected", "kind", "name"], ascending=[False, True, True], kind="stable").reset_index(
            drop=True
        )


def _text_codes(values: pd.Series) -> np.ndarray:
    """Codes that sort as the text does, NA last (as ``sort_values`` puts it); TypeError for anything
    but text and NA."""
    array = values.to_numpy(object)
    missing = pd.isna(array)
    if pd.api.types.infer_dtype(array[~missing], skipna=False) not in ("string", "empty"):
        raise TypeError("not all text")
    codes, uniques = pd.factorize(array, sort=True)
    return np.where(missing, len(uniques), codes)


def missing_stakeholders(
    project: Project,
    *,
    affected_level: int = 1,
    involvement: str = "took_part",
    rung: str = "involved",
    start: str = "",
    end: str = "",
    cycles: Sequence[str] | None = None,
    prepared: Participation | None = None,
) -> pd.DataFrame:
    """Affected stakeholders (people, groups, organisations ...) who are not involved.

    Columns: ``id``, ``name``, ``kind``, ``affected``, ``involvement``, ``roles`` (as ``a, b``
    text), ``last_took_part`` (latest activity date ever, ``""`` if never). Most affected first.
    ``prepared``: see :func:`prepare_participation`.
    """
    stakeholders = project.stakeholders
    prepared = _usable(project, prepared)
    involved = _involved_mask(project, prepared, involvement=involvement, rung=rung, start=start, end=end, cycles=cycles)
    level = pd.to_numeric(stakeholders["affected"], errors="coerce").fillna(0)
    rows = np.flatnonzero((level >= affected_level).to_numpy(bool) & ~involved)
    def take(column: str) -> pd.Series:  # only the columns shown, not the whole stakeholder table
        return stakeholders[column].take(rows).reset_index(drop=True)

    roles = [", ".join(v) if isinstance(v, list) else str(v or "") for v in take("roles").to_numpy(object)]
    out = pd.DataFrame(
        {
            "id": take("id"),
            "name": take("name"),
            "kind": take("kind"),
            "affected": take("affected").astype("Int64"),
            "involvement": take("involvement"),
            "roles": pd.Series(roles),  # str, as Series.map makes it (object when empty)
            "last_took_part": _last_took_part(project, prepared, rows),
        }
    )
    return _sort_missing(out)


def voice_table(
    project: Project,
    *,
    affected_level: int = 1,
    involvement: str = "took_part",
    rung: str = "involved",
    start: str = "",
    end: str = "",
    cycles: Sequence[str] | None = None,
    prepared: Participation | None = None,
) -> pd.DataFrame:
    """Who speaks for each group, among the involved stakeholders.

    One row per group that some involved stakeholder speaks for (``speaks_for``), plus every
    affected stakeholder of kind ``group`` that is not involved and nobody involved speaks for.
    Columns: ``group`` (the ``speaks_for`` value or group id), ``group_name`` (the stakeholder's
    name when it is an id, else the value), ``direct`` (speakers with basis lived experience,
    elected or nominated), ``proxy``, ``basis_not_recorded``, ``proxies`` (names, ``a; b``) and
    ``status``: ``"direct voice"``, ``"proxy only"``, ``"basis not recorded"`` or ``"no voice"``.
    ``prepared``: see :func:`prepare_participation`.
    """
    stakeholders = project.stakeholders
    prepared = _usable(project, prepared)
    involved = _involved_mask(project, prepared, involvement=involvement, rung=rung, start=start, end=end, cycles=cycles)
    speakers = stakeholders.loc[involved, ["id", "name", "speaks_for", "speaks_basis"]]
    speakers = speakers.explode("speaks_for").dropna(subset=["speaks_for"])
    speakers["group"] = speakers["speaks_for"].astype(str).str.strip()
    speakers = speakers.loc[speakers["group"] != ""].drop_duplicates(["id", "group"])
    basis = speakers["speaks_basis"].astype(str).str.strip()
    speakers["direct"] = basis.isin(_DIRECT_BASES)
    speakers["proxy"] = basis == "proxy"
    speakers["basis_not_recorded"] = ~(speakers["direct"] | speakers["proxy"])
    grouped = speakers.groupby("group", sort=True).agg(
        direct=("direct", "sum"), proxy=("proxy", "sum"), basis_not_recorded=("basis_not_recorded", "sum")
    )
    proxy_names = speakers.loc[speakers["proxy"]].groupby("group")["name"].agg(lambda s: "; ".join(sorted(s)))
    grouped["proxies"] = proxy_names.reindex(grouped.index).fillna("")

    level = pd.to_numeric(stakeholders["affected"], errors="coerce").fillna(0)
    is_group = ((stakeholders["kind"] == "group") & (level >= affected_level)).to_numpy(bool)
    groups = stakeholders.loc[is_group & ~involved]
    silent = groups.loc[~groups["id"].isin(grouped.index), "id"]
    grouped = pd.concat(
        [grouped, pd.DataFrame({"direct": 0, "proxy": 0, "basis_not_recorded": 0, "proxies": ""}, index=silent)]
    )
    grouped.index.name = "group"
    out = grouped.reset_index()
    for column in ("direct", "proxy", "basis_not_recorded"):
        out[column] = out[column].astype("Int64")
    names = stakeholders.set_index("id")["name"] if stakeholders["id"].is_unique else pd.Series(dtype=object)
    out.insert(1, "group_name", out["group"].map(names).fillna(out["group"]).astype(object))
    out["status"] = np.select(
        [out["direct"] > 0, out["proxy"] > 0, out["basis_not_recorded"] > 0],
        ["direct voice", "proxy only", "basis not recorded"],
        default="no voice",
    )
    order = {"proxy only": 0, "no voice": 1, "basis not recorded": 2, "direct voice": 3}
    return out.sort_values("status", key=lambda s: s.map(order), kind="stable").reset_index(drop=True)


def proxy_only_groups(project: Project, **options) -> pd.DataFrame:
    """The rows of :func:`voice_table` whose groups only proxies speak for: no involved
    stakeholder with lived experience of the group, or elected or nominated by it, speaks for it,
    but at least one involved proxy does."""
    table = voice_table(project, **options)
    return table.loc[table["status"] == "proxy only"].reset_index(drop=True)


def gap_overview(
    project: Project,
    *,
    by: list[str] | None = None,
    period: str = "quarter",
    mode: str = "population",
    affected_level: int = 1,
    start: str = "",
    end: str = "",
    cycles: Sequence[str] | None = None,
    min_cell: int | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Overall gap tables and the same per period for every ``by`` attribute, in one pass over the
    participation records (the full computation the benchmark times). Returns
    ``(overall, over_time)``: :func:`gap_table` and :func:`trend_table` columns, unsuppressed."""
    names = _normalise_by(project, by, mode=mode)
    prepared = prepare_participation(project)
    options = dict(mode=mode, affected_level=affected_level, start=start, end=end, cycles=cycles, min_cell=min_cell)
    overall = _gap_tables(
        project, [(n,) for n in names], involvement="took_part", rung="", prepared=prepared, **options
    ).drop(columns="period")
    over_time = trend_table(project, by=list(names), period=period, prepared=prepared, **options)
    return overall, over_time
