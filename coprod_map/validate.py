"""Checks on a whole project: every problem found, located, in one sentence pattern.

Used on import (before anything is saved) and on edits made in the browser. Every check is
vectorised (``isin``, ``duplicated``, string methods on whole columns) so 100k rows check in well
under a second.

Location: frames read from files carry ``_file`` and ``_row`` (1-based sheet row, header = 1) and
problems point there. Frames without them (edits) get ``file`` = the table in plain words
("Stakeholders table"), ``row`` = None, and the message starts with the row's id.

Policies decided here:

- ``reference.share`` is a fraction from 0 to 1. The importers turn a column written as percentages
  (any value above 1, none above 100) into fractions before this check, and say so in a notice.
- Refused characters: C0 control characters other than tab, LF and CR (NUL ...), DEL, the bidi
  embedding/override/isolate controls U+202A-U+202E and U+2066-U+2069 (they can make text read
  backwards), and the invisible U+200B zero-width space, U+2060 word joiner and U+FEFF. The
  zero-width (non-)joiners U+200C/U+200D stay allowed: several scripts and emoji need them.
- A cell holds at most ``MAX_CELL_CHARS`` characters.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pandas.api.types import infer_dtype

from coprod_map import model
from coprod_map.errors import Problem

__all__ = [
    "MAX_CELL_CHARS",
    "REFUSED_RE",
    "Texts",
    "check_cells",
    "check_project",
    "is_iso_date",
    "plain_code_list",
    "refused_characters",
    "same_cells",
]

MAX_CELL_CHARS = 10_000

CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
INVISIBLE_RE = re.compile(r"[\u202a-\u202e\u2066-\u2069\u200b\u2060\ufeff]")
REFUSED_RE = re.compile(f"{CONTROL_RE.pattern}|{INVISIBLE_RE.pattern}")
_ISO_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
#: ``REFUSED_RE`` for pyarrow's RE2 (the same characters: a test compares them on every code point).
REFUSED_RE2 = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\x{202a}-\x{202e}\x{2066}-\x{2069}\x{200b}\x{2060}\x{feff}]"


def refused_characters(text: str) -> bool:
    """True when ``text`` holds a control or invisible character we never store (NUL, bidi overrides ...).

    >>> refused_characters("Riverside"), refused_characters("abc\u202edef")
    (False, True)
    """
    return bool(REFUSED_RE.search(text))

TABLE_WORDS = {
    "stakeholders": ("Stakeholders table", "stakeholder"),
    "relationships": ("Relationships table", "relationship"),
    "activities": ("Activities table", "activity"),
    "participation": ("Participation table", "participation row"),
    "reference": ("Reference population table", "reference row"),
}

REQUIRED = {
    "stakeholders": ("id", "name"),
    "relationships": ("id", "source", "target"),
    "activities": ("id", "title"),
    "participation": ("stakeholder_id", "activity_id"),
    "reference": ("attribute", "category"),
}

KEYS = {
    "stakeholders": ("id",),
    "relationships": ("id",),
    "activities": ("id",),
    "participation": ("stakeholder_id", "activity_id"),
    "reference": ("attribute", "category"),
}

# (table, column) -> (codes, what the value is called, multi-valued?)
CODED = {
    ("stakeholders", "kind"): (model.KINDS, "kind", False),
    ("stakeholders", "experience"): (model.EXPERIENCES, "kind of experience", True),
    ("stakeholders", "involvement"): (model.INVOLVEMENT_LEVELS, "involvement level", False),
    ("stakeholders", "speaks_basis"): (model.BASES, "basis for speaking for others", False),
    ("relationships", "direction"): (model.DIRECTIONS, "direction", False),
}

# (table, column) -> (low, high or None, whole numbers only?, what it is called)
NUMBERS = {
    ("stakeholders", "affected"): (0, 3, True, "affected level"),
    ("stakeholders", "influence"): (0, 5, True, "influence level"),
    ("relationships", "strength"): (0, 5, False, "strength"),
    ("reference", "count"): (0, None, True, "count"),
    ("reference", "share"): (0, 1, False, "share"),
}

DATES = {"activities": ("date",), "relationships": ("since", "until")}

ALWAYS_ALLOWED_CATEGORIES = ("", model.NOT_RECORDED, model.PREFER_NOT_TO_SAY)


def plain_code_list(codes: Iterable) -> str:
    """Codes as the words a user types: ``community_asset`` -> ``community asset``.

    >>> plain_code_list(model.KINDS)
    'person, group, organisation, community asset'
    """
    return ", ".join(str(c).replace("_", " ") for c in codes)


class _Locator:
    """Turns a boolean mask over one frame into located Problems."""

    def __init__(self, table: str, frame: pd.DataFrame, *, file: str | None = None,
                 source_columns: dict[str, str] | None = None) -> None:
        self.table = table
        self.frame = frame
        self.source_columns = source_columns or {}
        self.has_provenance = "_file" in frame.columns and "_row" in frame.columns
        self.default_file = file or TABLE_WORDS.get(table, (table, "row"))[0]

    def column(self, name: str | None) -> str | None:
        return self.source_columns.get(name, name) if name else name

    def problems(self, mask: pd.Series, column: str | None, messages: pd.Series | list[str] | str) -> list[Problem]:
        if not bool(mask.any()):
            return []
        rows = self.frame.loc[mask]
        if isinstance(messages, str):
            texts = [messages] * len(rows)
        elif isinstance(messages, pd.Series):
            texts = list(messages.loc[mask]) if len(messages) == len(mask) else list(messages)
        else:
            texts = list(messages)
        col = self.column(column)
        noun = TABLE_WORDS.get(self.table, (self.table, "row"))[1]
        ids = _row_ids(self.table, rows)
        if self.has_provenance:
            # Rows from files point at the sheet row; rows without one (graph files) name their id.
            files = rows["_file"].astype(str).tolist()
            numbers = [_as_row(r) for r in rows["_row"].tolist()]
            return [Problem(f, r, col, m if r is not None else f"{noun} {i}: {m}")
                    for f, r, i, m in zip(files, numbers, ids, texts, strict=True)]
        return [Problem(self.default_file, None, col, f"{noun} {i}: {m}") for i, m in zip(ids, texts, strict=True)]


def _as_row(value) -> int | None:
    if value is None or value is pd.NA:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _row_ids(table: str, rows: pd.DataFrame) -> list[str]:
    keys = [k for k in KEYS.get(table, ()) if k in rows.columns]
    if not keys:
        return [f"#{i + 1}" for i in rows.index]
    parts = [rows[k].astype(str) for k in keys]
    joined = parts[0] if len(parts) == 1 else parts[0].str.cat(parts[1:], sep=" / ")
    return [f"'{v}'" for v in joined]


def _lists_joined(series: pd.Series) -> pd.Series:
    """The column as objects, list cells joined with ``|`` (missing values left missing)."""
    values = series.astype(object)
    if values.dtype == object and len(values) and isinstance(values.iloc[0], (list, tuple)) or (
            series.name in model.LIST_COLUMNS):
        is_list = values.map(lambda v: isinstance(v, (list, tuple)))
        if is_list.any():
            values = values.where(~is_list, values[is_list].str.join(model.LIST_SEPARATOR))
    return values


def _text(series: pd.Series) -> pd.Series:
    """A column as text: lists joined with ``|``, missing values as ``""``."""
    values = _lists_joined(series)
    return values.where(values.notna(), "").astype(str)


def _text_values(series: pd.Series) -> list[str]:
    """``_text(series)`` as a list of Python ``str`` (no arrow round trip: cheap at 1,000,000 cells)."""
    values = _lists_joined(series)
    plain = values.where(values.notna(), "").tolist()
    if set(map(type, plain)) - {str}:
        plain = [v if type(v) is str else str(v) for v in plain]
    return plain


def _isin(text: pd.Series, allowed: pd.Series) -> pd.Series:
    """``text.isin(allowed)`` through a hash index: ~20x faster than ``isin`` on arrow strings here."""
    index = pd.Index(pd.unique(allowed.astype(object).to_numpy()))
    return pd.Series(index.get_indexer(text.astype(object).to_numpy()) >= 0, index=text.index)


def _arrow_text(series: pd.Series) -> pa.Array | None:
    """``_text(series)`` as one arrow string array when that is exact and cheap: arrow-backed text, or an
    object column holding only ``str``. None otherwise (lists, numbers, missing values in an object column,
    text arrow cannot hold): callers then take the pandas path.

    The fast paths below use it for a clean-data answer in one C pass per column (1,000,000-row
    participation tables); whenever they find something to report, the pandas path builds the messages.
    """
    dtype = series.dtype
    try:
        if isinstance(dtype, pd.StringDtype):
            values = pa.array(series)
        elif pd.api.types.is_object_dtype(dtype):
            plain = series.to_numpy()
            if infer_dtype(plain, skipna=False) not in ("string", "empty"):
                return None
            values = pa.array(plain, type=pa.large_string())
        else:
            return None
    except (pa.ArrowException, ValueError, TypeError):  # e.g. a lone surrogate: UnicodeEncodeError
        return None
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if values.type != pa.large_string():
        values = values.cast(pa.large_string())
    return values.fill_null("")


# Bytes that can start a refused character's UTF-8 (C0 controls but tab/LF/CR, DEL; 0xE2 and 0xEF lead
# the bidi/invisible ones). Text without any of them is clean; text with some (curly quotes start with
# 0xE2 too) gets the exact check.
_SUSPECT = {*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F, 0xE2, 0xEF}
_INNOCENT_BYTES = bytes(b for b in range(256) if b not in _SUSPECT)


def _clean_arrow(values: pa.Array) -> bool:
    """True when no cell of ``values`` (from ``_arrow_text``) is too long or holds a refused character.

    Bytes first (a cell's UTF-8 length bounds its length in characters; a scan of the value bytes for
    suspect bytes), the character-exact arrow checks only when those cannot decide.
    """
    if not len(values):
        return True
    offsets = np.frombuffer(values.buffers()[1], dtype=np.int64)[values.offset: values.offset + len(values) + 1]
    if int(np.diff(offsets).max()) > MAX_CELL_CHARS and (pc.max(pc.utf8_length(values)).as_py() or 0) > MAX_CELL_CHARS:
        return False
    data = values.buffers()[2]
    if data is None or not bytes(memoryview(data)[int(offsets[0]): int(offsets[-1])]).translate(None, _INNOCENT_BYTES):
        return True
    return not pc.any(pc.match_substring_regex(values, REFUSED_RE2)).as_py()


def _encoded(series: pd.Series) -> tuple[np.ndarray, pa.Array] | None:
    """``_text(series)`` as codes (one per row) into its distinct values (an arrow string array), or None
    when that is not exact and cheap (numbers, mixed cells, text arrow cannot hold): callers then take the
    pandas path.

    Every check below asks its question once per distinct value and spreads the answer over the rows by
    the codes: a 1,000,000-row participation table has some 40,000 distinct stakeholder ids. Lists (all
    cells lists of text) are joined with ``|`` first, as ``_text`` does. Only the distinct values go
    through ``_arrow_text``, so switching that off switches every fast path off.
    """
    dtype = series.dtype
    if isinstance(dtype, pd.StringDtype):
        codes, uniques = pd.factorize(series)
        distinct = np.asarray(uniques, dtype=object)
    elif pd.api.types.is_object_dtype(dtype):
        values = series.to_numpy(dtype=object)
        try:
            codes, distinct = _factorize_objects(values)
        except TypeError:  # unhashable cells: a list column
            plain = values.tolist()
            if not set(map(type, plain)) <= {list, tuple}:
                return None
            try:
                joined = list(map(model.LIST_SEPARATOR.join, plain))
            except TypeError:  # an item that is not text
                return None
            codes, distinct = pd.factorize(np.asarray(joined, dtype=object))
        if infer_dtype(distinct, skipna=False) not in ("string", "empty"):
            return None
    else:
        return None
    if len(codes) and codes.min() < 0:  # missing values read as ""
        blank = np.flatnonzero(distinct == "")
        if len(blank):
            codes = np.where(codes < 0, blank[0], codes)
        else:
            codes = np.where(codes < 0, len(distinct), codes)
            distinct = np.append(distinct, np.asarray([""], dtype=object))
    values = _arrow_text(pd.Series(distinct, dtype=object))
    return None if values is None else (codes, values)


#: Below this many cells an object column is factorized directly (``_factorize_objects``).
_SHARED_MIN = 50_000


def _factorize_objects(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``pd.factorize(values)`` of an object array: the same codes and distinct values.

    Columns read through an Arrow dictionary hold one Python object per distinct text (a million participation
    ids are some 40,000 objects, scattered in memory: hashing them row by row is slow). When a sample says so
    (``_shares_objects``), the objects are told apart by address first (an integer hash table, 3-4x quicker) and
    only the distinct objects are compared by value. Exact whatever the sample says: one address is one object,
    so one value, and both passes keep first-appearance order."""
    if len(values) >= _SHARED_MIN and values.flags.c_contiguous and _shares_objects(values):
        try:
            addresses = np.frombuffer(values, dtype=np.intp)  # the cells' object pointers: identity, never read
        except (TypeError, ValueError, BufferError):
            addresses = None
        if addresses is not None and len(addresses) == len(values):
            by_object, _ = pd.factorize(addresses)
            one_of_each = np.empty(int(by_object.max()) + 1, dtype=np.intp)
            one_of_each[by_object] = np.arange(len(values), dtype=np.intp)  # any cell holding that object
            codes, distinct = pd.factorize(values[one_of_each])
            return codes[by_object], distinct
    return pd.factorize(values)


def _shares_objects(values: np.ndarray, *, size: int = 4096) -> bool:
    """True when, in a sample spread over ``values``, texts repeat and every repeat is the same object."""
    sample = values[:: max(1, len(values) // size)]
    try:
        distinct = len(set(sample))
    except TypeError:  # unhashable cells (lists): the caller's factorize says so
        return False
    return distinct < len(sample) and len({id(v) for v in sample}) == distinct


def _source(series: pd.Series) -> object:
    """What identifies a column's cells: its object array (a view, not a copy) or its extension array."""
    return series.to_numpy(dtype=object) if pd.api.types.is_object_dtype(series.dtype) else series.array


def same_cells(a: object, b: object) -> bool:
    """True when ``a`` and ``b`` are the very same cells: one memory (object arrays: the same data pointer, length
    and stride, as views of one column are) or one extension array object. Never compares values."""
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
        return (a.dtype == b.dtype and a.shape == b.shape and a.strides == b.strides
                and a.__array_interface__["data"][0] == b.__array_interface__["data"][0])
    return a is b


class Texts:
    """Each text column encoded once (``_encoded``: codes + distinct values), for every check of one validation.

    Keyed by (table, column) AND by the column's cells themselves (``same_cells``): one cache serves
    ``check_project`` on the merged project and ``check_cells`` on the incoming rows, sharing an encoding only
    where the two frames hold the same column (a first import). The store then writes participation from the
    same codes (``known``). A cache is for one validation: the frames must not change while it is in use (it
    holds their arrays, so their memory is not reused meanwhile)."""

    def __init__(self) -> None:
        self._codes: dict[tuple, list[tuple[object, tuple[np.ndarray, pa.Array] | None]]] = {}

    def codes(self, key: tuple, series: pd.Series) -> tuple[np.ndarray, pa.Array] | None:
        source = _source(series)
        entries = self._codes.setdefault(key, [])
        for cells, encoded in entries:
            if same_cells(cells, source):
                return encoded
        encoded = _encoded(series)
        entries.append((source, encoded))
        return encoded

    def known(self, table: str) -> list[tuple[str, object, np.ndarray, pa.Array]]:
        """The encodings made of ``table``'s columns: (column, cells, codes, distinct) with ``distinct[codes]`` equal
        to the cells as text (missing cells as ""), for a writer that checks ``same_cells`` before using one."""
        return [(key[1], cells, *encoded) for key, entries in self._codes.items() if key[0] == table
                for cells, encoded in entries if encoded is not None]


def _spread(flags: np.ndarray, codes: np.ndarray, index: pd.Index) -> pd.Series:
    """A per-distinct-value answer as a per-row mask."""
    return pd.Series(flags[codes] if len(codes) else np.zeros(0, bool), index=index)


def _bools(values: pa.Array) -> np.ndarray:
    return values.to_numpy(zero_copy_only=False).astype(bool)


def _short(value: str, limit: int = 60) -> str:
    value = INVISIBLE_RE.sub("?", CONTROL_RE.sub("?", value))
    return value if len(value) <= limit else value[: limit - 1] + "…"


# --- cell-level checks (shared with the file readers) --------------------------------------

def check_cells(frame: pd.DataFrame, *, table: str = "", file: str | None = None,
                columns: Iterable[str] | None = None,
                source_columns: dict[str, str] | None = None, texts: Texts | None = None) -> list[Problem]:
    """Control characters, bidi overrides/invisible characters, and over-long cells, in every text column.

    ``texts``: ``check_project``'s cache of encoded columns (keyed by ``table``), so each is encoded once.
    """
    texts = texts or Texts()
    locator = _Locator(table, frame, file=file, source_columns=source_columns)
    problems: list[Problem] = []
    names = [c for c in (columns if columns is not None else frame.columns) if not str(c).startswith("_")]
    for name in names:
        series = frame[name]
        if series.dtype != object and not pd.api.types.is_string_dtype(series):
            continue
        encoded = texts.codes((table, name), series)
        if encoded is not None and _clean_arrow(encoded[1]):
            continue  # clean: a few C passes over the distinct values
        values = _text_values(series)
        # the common, clean case in two C-speed passes: the longest cell, and one regex search over the
        # column joined by newlines (allowed, and never part of a refused character)
        if not values or (max(map(len, values)) <= MAX_CELL_CHARS and not REFUSED_RE.search("\n".join(values))):
            continue
        text = pd.Series(values, index=series.index, dtype=object)
        lengths = text.str.len()
        long = lengths > MAX_CELL_CHARS
        if long.any():
            msgs = [f"this cell has {n:,} characters; the limit is {MAX_CELL_CHARS:,}. Shorten it." for n in lengths[long]]
            problems += locator.problems(long, name, msgs)
        if not text.str.contains(REFUSED_RE, regex=True).any():
            continue  # one pass over the column in the common, clean case
        control = text.str.contains(CONTROL_RE, regex=True)
        if control.any():
            found = text[control].str.extract(f"({CONTROL_RE.pattern})", expand=False)
            msgs = [f"contains a control character (U+{ord(c):04X}) that cannot be stored. "
                    "Remove it and try again." for c in found]
            problems += locator.problems(control, name, msgs)
        invisible = text.str.contains(INVISIBLE_RE, regex=True)
        if invisible.any():
            found = text[invisible].str.extract(f"({INVISIBLE_RE.pattern})", expand=False)
            msgs = [f"contains an invisible character (U+{ord(c):04X}) that can change how text reads. "
                    "Remove it and try again." for c in found]
            problems += locator.problems(invisible, name, msgs)
    return problems


# --- the whole project ----------------------------------------------------------------------

def check_project(project: model.Project, *, cells: bool = True, references: bool = True,
                  source_columns: dict[str, dict[str, str]] | None = None,
                  texts: Texts | None = None) -> list[Problem]:
    """Every problem in a project's tables, in table order. Never raises, changes nothing.

    ``cells=False`` skips the character/length checks (the file readers have already run them on
    the raw cells); ``references=False`` skips the cross-table id checks (the importer checks them
against the project being imported into). ``source_columns`` maps table -> {our column: the file's header} so that
    problems name the column the user sees. ``texts``: a cache of encoded columns to fill (and share with
    ``check_cells`` and the store's participation write, ``Texts``); a new one when not given.

    >>> p = model.Project(stakeholders=pd.DataFrame({"id": ["007", "007"], "name": ["Ann", "Bo"], "kind": ["person", "Carer"]}))
    >>> [str(x) for x in check_project(p)]  # doctest: +NORMALIZE_WHITESPACE
    ["Stakeholders table, column 'id': stakeholder '007': id '007' is used more than once.",
     "Stakeholders table, column 'kind': stakeholder '007': 'Carer' is not a known kind. Expected one of: person, group, organisation, community asset."]
    """
    source_columns = source_columns or {}
    problems: list[Problem] = []
    texts = texts if texts is not None else Texts()
    for table in model.TABLES:
        frame = project.table(table)
        if frame is None or len(frame) == 0:
            continue
        frame = frame.reset_index(drop=True)
        loc = _Locator(table, frame, source_columns=source_columns.get(table))
        problems += _check_required(loc, texts)
        problems += _check_keys(loc, texts)
        problems += _check_codes(loc, texts)
        problems += _check_numbers(loc)
        problems += _check_dates(loc, texts)
        if cells:
            problems += check_cells(frame, table=table, source_columns=source_columns.get(table), texts=texts)
    if references:
        problems += _check_references(project, source_columns, texts)
    problems += _check_attributes(project, source_columns.get("stakeholders"), texts)
    return problems


def _check_required(loc: _Locator, texts: Texts | None = None) -> list[Problem]:
    problems = []
    for name in REQUIRED[loc.table]:
        if name not in loc.frame.columns:
            continue
        encoded = (texts or Texts()).codes((loc.table, name), loc.frame[name])
        if encoded is not None:  # blank or not, decided once per distinct value
            codes, distinct = encoded
            blank_values = _bools(pc.equal(pc.utf8_trim_whitespace(distinct), ""))
            blank = pd.Series(blank_values[codes] if len(codes) else np.zeros(0, bool), index=loc.frame.index)
        else:
            blank = _text(loc.frame[name]).str.strip() == ""
        problems += loc.problems(blank, name, f"the {name.replace('_', ' ')} is blank. Every row needs one.")
    return problems


def _check_keys(loc: _Locator, texts: Texts | None = None) -> list[Problem]:
    keys = [k for k in KEYS[loc.table] if k in loc.frame.columns]
    if len(keys) != len(KEYS[loc.table]):
        return []
    frame = loc.frame
    texts = texts or Texts()
    encoded = [texts.codes((loc.table, k), frame[k]) for k in keys]
    if all(e is not None for e in encoded) and len(frame):
        if len(encoded) == 1 and len(encoded[0][1]) == len(frame):
            return []  # one key, every row's value distinct
        # Duplicates of the (one or two) key columns as integer codes; the messages below only when some.
        combined = np.zeros(len(frame), dtype=np.int64)
        present = np.ones(len(frame), dtype=bool)
        for codes, distinct in encoded:
            combined = combined * max(len(distinct), 1) + codes
            present &= _bools(pc.not_equal(distinct, ""))[codes]
        if not (pd.Series(combined).duplicated(keep="first").to_numpy() & present).any():
            return []
    texts = pd.DataFrame({k: _text(frame[k]) for k in keys}, index=frame.index)
    present = (texts != "").all(axis=1)
    dup = texts.duplicated(keep="first") & present
    if not dup.any():
        return []
    label = " and ".join(keys)
    value = texts[keys[0]] if len(keys) == 1 else texts[keys[0]].str.cat([texts[k] for k in keys[1:]], sep=" / ")
    if loc.has_provenance:
        first = frame.assign(_key=value)[present].groupby("_key", sort=False)["_row"].first()
        first_file = frame.assign(_key=value)[present].groupby("_key", sort=False)["_file"].first()
        msgs = [f"{label} '{v}' is already used in {first_file[v]} row {first[v]}." for v in value[dup]]
    else:
        msgs = [f"{label} '{v}' is used more than once." for v in value[dup]]
    return loc.problems(dup, keys[-1] if len(keys) > 1 else keys[0], msgs)


def _code_table(values: pd.Series, codes: dict) -> dict[str, bool]:
    return {v: model.normalise_code(v, codes) is not None for v in values.unique()}


def _check_codes(loc: _Locator, texts: Texts | None = None) -> list[Problem]:
    problems = []
    for (table, column), (codes, what, multi) in CODED.items():
        if table != loc.table or column not in loc.frame.columns:
            continue
        expected = f"Expected one of: {plain_code_list(codes)}."
        series = loc.frame[column]
        encoded = (texts or Texts()).codes((table, column), series)
        if encoded is not None:
            problems += _codes_by_value(loc, column, encoded, codes, multi, f" is not a known {what}. {expected}")
            continue
        if multi:
            text = _text(series)
            text = text[text.str.strip() != ""]
            items = text.str.split(model.LIST_SEPARATOR, regex=False).explode().str.strip()
            items = items[items.notna() & (items != "")].astype(str)
            if items.empty:
                continue
            ok = items.map(_code_table(items, codes))
            bad_items = items[~ok.astype(bool)]
            if bad_items.empty:
                continue
            first_bad = bad_items.groupby(level=0).first()
            mask = pd.Series(False, index=loc.frame.index)
            mask.loc[first_bad.index] = True
            msgs = [f"'{_short(v)}' is not a known {what}. {expected}" for v in first_bad.reindex(loc.frame.index[mask])]
            problems += loc.problems(mask, column, msgs)
        else:
            text = _text(series).str.strip()
            filled = text != ""
            ok = pd.Series(True, index=text.index)
            ok[filled] = text[filled].map(_code_table(text[filled], codes)).astype(bool)
            bad = filled & ~ok
            msgs = [f"'{_short(v)}' is not a known {what}. {expected}" for v in text[bad]]
            problems += loc.problems(bad, column, msgs)
    return problems


def _codes_by_value(loc: _Locator, column: str, encoded: tuple[np.ndarray, pa.Array], codes: dict, multi: bool,
                    message: str) -> list[Problem]:
    """``_check_codes`` for an encoded column: each distinct value looked at once (the same trimming,
    splitting and messages as the pandas path)."""
    row_codes, distinct = encoded
    known: dict[str, bool] = {}

    def ok(value: str) -> bool:
        if value not in known:
            known[value] = model.normalise_code(value, codes) is not None
        return known[value]

    trimmed = pc.utf8_trim_whitespace(distinct)
    if multi:  # the first unknown item of each distinct list, if any
        parts = pc.split_pattern(distinct, model.LIST_SEPARATOR)
        items = pc.utf8_trim_whitespace(pc.list_flatten(parts)).to_pylist()
        owners = pc.list_parent_indices(parts).to_numpy(zero_copy_only=False).tolist()
        filled = _bools(pc.not_equal(trimmed, ""))
        first_bad: list[str | None] = [None] * len(distinct)
        for owner, item in zip(owners, items, strict=True):
            if item and filled[owner] and first_bad[owner] is None and not ok(item):
                first_bad[owner] = item
        shown = first_bad
        bad_values = np.asarray([v is not None for v in first_bad], dtype=bool)
    else:
        shown = trimmed.to_pylist()
        bad_values = np.asarray([v != "" and not ok(v) for v in shown], dtype=bool)
    bad = _spread(bad_values, row_codes, loc.frame.index)
    if not bad.any():
        return []
    return loc.problems(bad, column, [f"'{_short(shown[c])}'{message}" for c in row_codes[bad.to_numpy()]])


def _check_numbers(loc: _Locator) -> list[Problem]:
    problems = []
    for (table, column), (low, high, whole, what) in NUMBERS.items():
        if table != loc.table or column not in loc.frame.columns:
            continue
        raw = loc.frame[column]
        range_text = f"from {low} to {high}" if high is not None else f"of {low} or more"
        kind = "a whole number" if whole else "a number"
        if str(raw.dtype) in _NUMBER_DTYPES:  # numbers already: nothing to parse, text only for the messages
            numbers = raw.astype("Float64")
            text = None
        else:
            text = _text(raw).str.strip()
            filled = text != ""
            numbers = pd.to_numeric(text.where(filled, None), errors="coerce").astype("Float64")
            not_number = filled & numbers.isna()
            problems += loc.problems(not_number, column, [
                f"'{_short(v)}' is not a valid {what}. Expected {kind} {range_text}." for v in text[not_number]])
        valid = numbers.notna()
        out = valid & (numbers < low)
        if high is not None:
            out |= valid & (numbers > high)
        if whole:
            out |= valid & (numbers.fillna(0) % 1 != 0)
        out = out.fillna(False).astype(bool)
        if not out.any():
            continue
        shown = text[out] if text is not None else _text(raw[out]).str.strip()
        problems += loc.problems(out, column, [f"'{v}' is not a valid {what}. Expected {kind} {range_text}."
                                               for v in shown])
    return problems


def is_iso_date(value: str) -> bool:
    """True for a real calendar date written ``YYYY-MM-DD`` (the one date form every file and table uses).

    >>> is_iso_date("2026-03-05"), is_iso_date("2026-02-30"), is_iso_date("5/3/2026"), is_iso_date("")
    (True, False, False, False)
    """
    if not _ISO_RE.match(value):
        return False
    try:
        _dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


_NUMBER_DTYPES = frozenset({"Int64", "Float64", "int64", "float64", "int32", "float32"})


def _check_dates(loc: _Locator, texts: Texts | None = None) -> list[Problem]:
    problems = []
    for column in DATES.get(loc.table, ()):
        if column not in loc.frame.columns:
            continue
        encoded = (texts or Texts()).codes((loc.table, column), loc.frame[column])
        if encoded is not None:  # each distinct date looked at once
            row_codes, distinct = encoded
            shown = pc.utf8_trim_whitespace(distinct).to_pylist()
            bad = _spread(np.asarray([v != "" and not is_iso_date(v) for v in shown], dtype=bool), row_codes,
                          loc.frame.index)
            if bad.any():
                problems += loc.problems(bad, column, [f"'{_short(shown[c])}' is not a date written as YYYY-MM-DD. "
                                                       "Expected a date such as 2024-03-05."
                                                       for c in row_codes[bad.to_numpy()]])
            continue
        text = _text(loc.frame[column]).str.strip()
        filled = text != ""
        if not filled.any():
            continue
        uniques = text[filled].unique()
        ok = {v: is_iso_date(v) for v in uniques}
        valid = pd.Series(True, index=text.index)
        valid[filled] = text[filled].map(ok).astype(bool)
        bad = filled & ~valid
        problems += loc.problems(bad, column, [f"'{_short(v)}' is not a date written as YYYY-MM-DD. "
                                               "Expected a date such as 2024-03-05." for v in text[bad]])
    return problems


def _check_references(project: model.Project, source_columns: dict[str, dict[str, str]],
                      texts: Texts | None = None) -> list[Problem]:
    problems = []
    texts = texts or Texts()
    known = {
        what: _distinct_values(texts, table, project.table(table))
        for what, table in (("stakeholder id", "stakeholders"), ("activity id", "activities"))
    }
    stakeholder_ids = _text(project.stakeholders["id"]) if "id" in project.stakeholders.columns else pd.Series([], dtype=str)
    activity_ids = _text(project.activities["id"]) if "id" in project.activities.columns else pd.Series([], dtype=str)
    links = [
        ("relationships", "source", stakeholder_ids, "stakeholder id"),
        ("relationships", "target", stakeholder_ids, "stakeholder id"),
        ("participation", "stakeholder_id", stakeholder_ids, "stakeholder id"),
        ("participation", "activity_id", activity_ids, "activity id"),
    ]
    for table, column, ids, what in links:
        frame = project.table(table)
        if len(frame) == 0 or column not in frame.columns:
            continue
        encoded = texts.codes((table, column), frame[column])
        if encoded is not None and known[what] is not None:  # one arrow hash pass; messages only when some
            values = encoded[1]
            outside = pc.invert(pc.is_in(values, value_set=known[what].cast(values.type)))
            if not _bools(pc.and_(outside, pc.not_equal(values, ""))).any():
                continue
        loc = _Locator(table, frame, source_columns=source_columns.get(table))
        text = _text(frame[column])
        bad = (text != "") & ~_isin(text, ids)
        problems += loc.problems(bad, column, [f"'{_short(v)}' is not a known {what}. Add it first or correct the id."
                                               for v in text[bad]])
    return problems


def _distinct_values(texts: Texts, table: str, frame: pd.DataFrame) -> pa.Array | None:
    """The distinct texts of a table's ``id`` column (None when it has no encoding)."""
    if "id" not in frame.columns:
        return pa.array([], type=pa.large_string())
    encoded = texts.codes((table, "id"), frame["id"])
    return None if encoded is None else encoded[1]


def _check_attributes(project: model.Project, source_columns: dict[str, str] | None,
                      texts: Texts | None = None) -> list[Problem]:
    problems = []
    frame = project.stakeholders
    if len(frame) == 0:
        return problems
    loc = _Locator("stakeholders", frame, source_columns=source_columns)
    for attribute, categories in project.settings.attributes.items():
        if not categories or attribute not in frame.columns:
            continue
        allowed = [*categories, *ALWAYS_ALLOWED_CATEGORIES]
        encoded = (texts or Texts()).codes(("stakeholders", attribute), frame[attribute])
        values = None if encoded is None else encoded[1]
        if values is not None and all(type(a) is str for a in allowed) and _bools(
                pc.is_in(values, value_set=pa.array(allowed, type=values.type))).all():
            continue
        text = _text(frame[attribute])
        bad = ~_isin(text, pd.Series(allowed, dtype=object))
        shown = ", ".join([*categories, model.NOT_RECORDED, model.PREFER_NOT_TO_SAY])
        problems += loc.problems(bad, attribute, [f"'{_short(v)}' is not a known {attribute}. Expected one of: {shown}."
                                                  for v in text[bad]])
    return problems
