"""Dates as people's files write them, stored as ISO ``YYYY-MM-DD`` text.

Forms read (case and spaces forgiven):

- ``2025-04-03`` (kept exactly as it is) and other year-first dates: ``2025/04/03``, ``2025.4.3``;
- day, month and a four-digit year as numbers, separated by ``/``, ``-`` or ``.``: ``3/4/2025``, ``03-04-2025``;
- the month in English words: ``3 April 2025``, ``3rd Apr 2025``, ``03-Apr-2025``, ``April 3, 2025``,
  ``Thursday 3 April 2025`` (a weekday, when given, must be the date's own).

A time of day after any of these (``2025-04-03 10:30:00``, ``2025-04-03T10:30:00Z``, ``03/04/2025 10:30``,
``3/4/2025 10:30:15 AM``, ``3 April 2025, 9:05pm``: ``T``, space, comma or "at" between; seconds, a fraction, AM or PM
and a time zone if given) is left out, one notice per column saying so: the model keeps days. The date is kept as
written, with no time zone conversion (a session on the evening of 3 April is on 3 April wherever the file was
made). An XLSX date cell with a time arrives as ``2025-04-03 10:30:00`` (``tables._cell_text``) and is read the same.

Refused, each with a message: a two-digit year (``3/4/25``: which century?), a date that does not exist
(``31/02/2025``), a weekday that does not match, a time that does not exist (``25:61``, ``13:00 PM``). Anything else
(``45750``, an Excel serial number from a broken export; ``next week``) is left as it is, for ``coprod_map.validate``
to refuse with its usual message.

Day or month first is decided per column of a file, from the values that can only be read one way: ``25/12/2025``
proves day first, ``12/25/2025`` month first. A column proving both is refused, naming example rows of each; a
column proving neither is read day first (the UK way), and a notice says so in plain words.

Everything is worked out on a column's distinct values (a million-row attendance list has some hundreds of
distinct dates; timestamps, nearly all distinct, are read once per distinct date before the time), and a column
whose values are all ``YYYY-MM-DD`` already (or blank) takes one regex pass over them and is left untouched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from coprod_map.errors import Problem

__all__ = ["DatesRead", "all_iso", "encoded_dates", "frame_dates", "read_dates", "sheet_dates"]

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

_MONTH_WORDS: dict[str, int] = {
    **{m.casefold(): i for i, m in enumerate(MONTHS, start=1)},
    **{m[:3].casefold(): i for i, m in enumerate(MONTHS, start=1)},
    "sept": 9,
}
_WEEKDAY_WORDS: dict[str, int] = {
    **{w.casefold(): i for i, w in enumerate(WEEKDAYS)},
    **{w[:3].casefold(): i for i, w in enumerate(WEEKDAYS)},
    "tues": 1, "weds": 2, "thur": 3, "thurs": 3,
}

_ISO = r"^\d{4}-\d{2}-\d{2}$"
_BLANK_OR_ISO = r"^\s*(\d{4}-\d{2}-\d{2})?\s*$"
_SEP = r"[/.\-]"
_YEAR_FIRST = rf"^(?P<y>\d{{4}})(?P<s1>{_SEP})(?P<b>\d{{1,2}})(?P<s2>{_SEP})(?P<a>\d{{1,2}})$"
_NUMERIC = rf"^(?P<a>\d{{1,2}})(?P<s1>{_SEP})(?P<b>\d{{1,2}})(?P<s2>{_SEP})(?P<y>\d{{2,4}})$"
_WEEKDAY = r"(?:(?P<w>[a-z]+)\.?,?\s+)?"
_ORDINAL = r"(?:st|nd|rd|th)?"
_DAY_MONTH = rf"^{_WEEKDAY}(?P<a>\d{{1,2}}){_ORDINAL}(?:\s+of)?[\s/.,\-]*(?P<m>[a-z]+)\.?[\s/.,\-]+(?P<y>\d{{2,4}})$"
_MONTH_DAY = rf"^{_WEEKDAY}(?P<m>[a-z]+)\.?[\s/.\-]*(?P<a>\d{{1,2}}){_ORDINAL},?[\s/.\-]+(?P<y>\d{{2,4}})$"
#: A date (``d``, ending in a digit as every form does) and a time of day: ``T``, space, comma or "at" between;
#: hours and minutes, seconds and a fraction if given, AM or PM, a time zone (``Z``, ``+01:00``, ``UTC+1``).
_BETWEEN = r"(?:t|\s*,\s*|\s+at\s+|\s+)"
_HALF = r"[ap]\.?\s?m\.?"
_TIME = (rf"(?i)^(?P<d>.*?\d){_BETWEEN}(?P<h>\d{{1,2}}):(?P<mi>\d{{2}})(?::(?P<s>\d{{2}})(?:[.,]\d+)?)?"
         rf"\s*(?P<ap>{_HALF})?\s*(?P<z>z|(?:utc|gmt)?\s*(?P<zs>[+\-])(?P<zh>\d{{1,2}})(?::?(?P<zm>\d{{2}}))?|utc|gmt)?$")
#: ``_TIME`` without its groups but the date's last digit: found and cut off in one fast pass (no ``.*?``).
_AFTER_DATE = (rf"(?i)(\d){_BETWEEN}\d{{1,2}}:\d{{2}}(?::\d{{2}}(?:[.,]\d+)?)?\s*(?:{_HALF})?\s*"
               r"(?:z|(?:utc|gmt)?\s*[+\-]\d{1,2}(?::?\d{2})?|utc|gmt)?$")
#: The times of day that exist (``_TIME`` matches more: 25:61): 0-23 hours, or 1-12 with AM/PM; 0-59 minutes and
#: seconds; a zone less than 24 hours from UTC.
_ZONE = r"(?:z|(?:utc|gmt)?\s*[+\-](?:[01]?\d|2[0-3])(?::?[0-5]\d)?|utc|gmt)"
_REAL_TIME = (rf"(?i)\d{_BETWEEN}(?:(?:[01]?\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:[.,]\d+)?)?\s*"
              rf"|(?:0?[1-9]|1[0-2]):[0-5]\d(?::[0-5]\d(?:[.,]\d+)?)?\s*{_HALF}\s*){_ZONE}?$")

#: At most this many rows are named for one column's refused dates; one more problem counts the rest.
MAX_ROWS_NAMED = 200

_DAYS_IN_MONTH = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


@dataclass(frozen=True)
class DatesRead:
    """What ``read_dates`` made of some distinct values (every array in the values' order).

    ``text``: each value as ISO text when read; ``""`` when refused; else the value as it was (ISO values, blanks,
    and what is not a date at all, left for validation). ``refused``: position -> why (one sentence, no location).
    ``order``: ``"day"`` or ``"month"``, how numbers such as 03/04/2025 were read; ``proven`` whether some value
    shows it (``proof``: the first such); ``example``: the first value that reads differently the other way.
    ``conflict``: (positions that can only be day first, positions that can only be month first) when both come.
    ``timed``: whether each value had a time of day that was left out (None when no value had one).
    """

    text: pa.Array
    changed: np.ndarray
    refused: dict[int, str] = field(default_factory=dict)
    order: str = "day"
    proven: bool = False
    proof: int | None = None
    example: int | None = None
    conflict: tuple[list[int], list[int]] | None = None
    timed: np.ndarray | None = None


def all_iso(values: pa.Array) -> bool:
    """True when every value is blank or written ``YYYY-MM-DD`` (space around allowed): nothing to read.

    >>> all_iso(pa.array(["2025-04-03", "", " 2024-02-30 "])), all_iso(pa.array(["03/04/2025"]))
    (True, False)
    """
    return bool(pc.all(pc.match_substring_regex(values, _BLANK_OR_ISO)).as_py() is not False)


def _match(lower: pa.Array, pattern: str) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Which values match ``pattern`` and its named groups as numpy text arrays."""
    found = pc.extract_regex(lower, pattern)
    matched = found.is_valid().to_numpy(zero_copy_only=False).astype(bool)
    groups = {found.type.field(i).name: found.field(i).to_numpy(zero_copy_only=False).astype(str)
              for i in range(found.type.num_fields)}
    return matched, groups


def _numbers(text: np.ndarray, where: np.ndarray) -> np.ndarray:
    out = np.full(len(text), -1, dtype=np.int64)
    if where.any():
        out[where] = text[where].astype(np.int64)
    return out


def _valid(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Whether (year, month, day) is a real date (year 1 to 9999, leap years counted).

    >>> _valid(np.array([2024, 2025, 2025, 1900]), np.array([2, 2, 13, 2]), np.array([29, 29, 1, 29])).tolist()
    [True, False, False, False]
    """
    leap = (y % 4 == 0) & ((y % 100 != 0) | (y % 400 == 0))
    days = _DAYS_IN_MONTH[np.clip(m - 1, 0, 11)] + ((m == 2) & leap)
    return (y >= 1) & (y <= 9999) & (m >= 1) & (m <= 12) & (d >= 1) & (d <= days)


def _days(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Real dates as ``datetime64[D]``."""
    years = (y - 1970).astype("timedelta64[Y]") + np.datetime64("1970", "Y")
    months = years.astype("datetime64[M]") + (m - 1).astype("timedelta64[M]")
    return months.astype("datetime64[D]") + (d - 1).astype("timedelta64[D]")


def _spoken(y: int, m: int, d: int, *, month_first: bool = False) -> str:
    return f"{MONTHS[m - 1]} {d}, {y}" if month_first else f"{d} {MONTHS[m - 1]} {y}"


def _impossible(value: str, y: int, m: int, d: int) -> str:
    if y < 1:
        return f"'{value}' is not a real date: there is no year 0. Check the year."
    if not 1 <= m <= 12:
        return f"'{value}' is not a real date: there is no month {m}. Check the day and month."
    return f"'{value}' is not a real date: {MONTHS[m - 1]} {y} has no day {d}. Check the day and month."


def read_dates(values) -> DatesRead:
    """Each of ``values`` (distinct texts: a list or arrow text) read as a date, day or month first decided
    from the values themselves (see the module's docstring). A time after the date is left out (``timed``).

    >>> r = read_dates(["03/04/2025", "2025-04-05", "3 April 2025", "", "soon", "2025/4/6"])
    >>> r.text.to_pylist(), r.order, r.proven
    (['2025-04-03', '2025-04-05', '2025-04-03', '', 'soon', '2025-04-06'], 'day', False)
    >>> r = read_dates(["03/04/2025", "04/13/2025"])
    >>> r.text.to_pylist(), r.order, r.proven
    (['2025-03-04', '2025-04-13'], 'month', True)
    >>> read_dates(["31/02/2025", "3/4/25"]).refused  # doctest: +NORMALIZE_WHITESPACE
    {0: "'31/02/2025' is not a real date: February 2025 has no day 31. Check the day and month.",
     1: "'3/4/25' has a two-digit year, so the century is unclear (2025 or 1925?). Write the year in full."}
    """
    array = values if isinstance(values, pa.Array) else pa.array(list(values), type=pa.large_string())
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    array = array.cast(pa.large_string()).fill_null("")
    trimmed = pc.utf8_trim_whitespace(array)
    timed = pc.match_substring_regex(trimmed, _AFTER_DATE).to_numpy(zero_copy_only=False).astype(bool)
    if not timed.any():
        return _read(array)
    return _read_timed(array, trimmed, timed)


def _read(array: pa.Array) -> DatesRead:
    """``read_dates`` for values without a time of day (``array``: large text, no nulls)."""
    n = len(array)
    trimmed = pc.utf8_trim_whitespace(array)
    lower = pc.utf8_lower(trimmed)
    shown = trimmed.to_numpy(zero_copy_only=False).astype(object)
    iso = pc.match_substring_regex(trimmed, _ISO).to_numpy(zero_copy_only=False).astype(bool)

    year_first, g1 = _match(lower, _YEAR_FIRST)
    numeric, g2 = _match(lower, _NUMERIC)
    day_month, g3 = _match(lower, _DAY_MONTH)
    month_day, g4 = _match(lower, _MONTH_DAY)
    year_first &= ~iso & (g1["s1"] == g1["s2"])
    numeric &= g2["s1"] == g2["s2"]

    # Every form as (a, b, year): numbers where b is the month for all but numeric d/m/y, decided below.
    a = np.full(n, -1, dtype=np.int64)
    b = np.full(n, -1, dtype=np.int64)
    y = np.full(n, -1, dtype=np.int64)
    y_digits = np.zeros(n, dtype=np.int64)
    weekday = np.full(n, -1, dtype=np.int64)
    taken = np.zeros(n, dtype=bool)
    for where, groups in ((year_first, g1), (numeric, g2), (day_month, g3), (month_day, g4)):
        where = where & ~taken
        if not where.any():
            continue
        if "b" in groups:
            b[where] = _numbers(groups["b"], where)[where]
        else:  # month and weekday in words: only known words ("3rd April" is not "3" and a month "rd")
            months = pd.Series(groups["m"][where]).map(_MONTH_WORDS)
            words = groups["w"][where]
            days = pd.Series(words).map(_WEEKDAY_WORDS)
            known = (months.notna() & ((words == "") | days.notna())).to_numpy()
            where[where] = known
            b[where] = months[known].to_numpy(dtype=np.int64)
            weekday[where] = days[known].fillna(-1).to_numpy(dtype=np.int64)
        a[where] = _numbers(groups["a"], where)[where]
        y[where] = _numbers(groups["y"], where)[where]
        y_digits[where] = np.char.str_len(groups["y"][where])
        taken |= where
    read = taken & ((y_digits == 4) | (y_digits == 2))
    two_digit = read & (y_digits == 2)
    read &= ~two_digit
    ambiguous = read & numeric & ~year_first  # a/b: day/month or month/day

    day_first = ambiguous & _valid(y, b, a)
    month_first = ambiguous & _valid(y, a, b)
    only_day, only_month = day_first & ~month_first, month_first & ~day_first
    conflict = None
    if only_day.any() and only_month.any():
        conflict = (np.flatnonzero(only_day)[:2].tolist(), np.flatnonzero(only_month)[:2].tolist())
    order = "month" if only_month.any() and not only_day.any() else "day"
    swap = ambiguous if order == "month" else np.zeros(n, dtype=bool)
    month = np.where(swap, a, b)
    day = np.where(swap, b, a)
    real = read & _valid(y, month, day)
    if conflict is not None:
        real &= ~ambiguous

    refused: dict[int, str] = {}
    for i in np.flatnonzero(two_digit).tolist():
        yy = str(shown[i]).rstrip()[-2:]
        refused[i] = (f"'{shown[i]}' has a two-digit year, so the century is unclear (20{yy} or 19{yy}?). "
                      "Write the year in full.")
    impossible = read & ~real & ~(ambiguous if conflict is not None else np.zeros(n, dtype=bool))
    impossible |= read & ambiguous & ~day_first & ~month_first  # not a date either way
    for i in np.flatnonzero(impossible).tolist():
        refused[i] = _impossible(shown[i], int(y[i]), int(month[i]), int(day[i]))

    out = shown.copy()
    if real.any():
        dates = _days(y[real], month[real], day[real])
        out[real] = np.datetime_as_string(dates, unit="D").astype(object)
        given = weekday[real]
        actual = (dates.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday
        for i, g, t in zip(np.flatnonzero(real)[given >= 0].tolist(), given[given >= 0].tolist(),
                           actual[given >= 0].tolist(), strict=True):
            if g != t:
                refused[i] = (f"'{shown[i]}': {_spoken(int(y[i]), int(month[i]), int(day[i]))} is a {WEEKDAYS[t]}, "
                              f"not a {WEEKDAYS[g]}. Check the date.")
    if conflict is not None:
        out[ambiguous] = ""
    for i in refused:
        out[i] = ""
    changed = (real | ambiguous & (conflict is not None)) & ~iso
    changed[list(refused)] = True
    text = np.where(changed, out, array.to_numpy(zero_copy_only=False).astype(object))
    proof_values = only_month if order == "month" else only_day
    differs = ambiguous & day_first & month_first & (a != b)
    refused = dict(sorted(refused.items()))
    return DatesRead(
        text=pa.array(text.tolist(), type=pa.large_string()), changed=changed, refused=refused, order=order,
        proven=bool(proof_values.any()),
        proof=int(np.flatnonzero(proof_values)[0]) if proof_values.any() else None,
        example=int(np.flatnonzero(differs & real)[0]) if (differs & real).any() else None,
        conflict=conflict)


def _read_timed(array: pa.Array, trimmed: pa.Array, timed: np.ndarray) -> DatesRead:
    """``read_dates`` when some values (``timed``: ``trimmed`` matches ``_AFTER_DATE``) have a time after the date.

    The dates are read once per distinct date part (a sign-in list's timestamps are nearly all distinct, its days
    are not) and the times checked. A value whose part before the time is not a date is left as it is.
    """
    n = len(array)
    part = pc.replace_substring_regex(trimmed, _AFTER_DATE, r"\1")  # the date before the time
    encoded = pc.dictionary_encode(part)
    at = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)  # value -> its distinct date part
    parts = encoded.dictionary
    core = _read(parts)
    refused_part = dict(core.refused)
    # An ISO date with a time is read here (an ISO date alone is left for validation's message, as before).
    timed_part = np.zeros(len(parts), dtype=bool)
    timed_part[at[timed]] = True
    iso, g = _match(parts, r"^(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})$")
    iso &= timed_part
    if iso.any():
        y, m, d = (_numbers(g[k], iso) for k in "ymd")
        for i in np.flatnonzero(iso & ~_valid(y, m, d)).tolist():
            refused_part[i] = _impossible(str(parts[i].as_py()), int(y[i]), int(m[i]), int(d[i]))
    dated = (core.changed | iso)[at] & timed  # timed values with a date before the time (refused or not)
    changed = np.where(timed, dated, core.changed[at])
    flags = np.zeros(len(parts), dtype=bool)
    flags[list(refused_part)] = True
    part_text = pc.if_else(pa.array(flags), "", core.text)  # ISO text, or "" when refused

    refused: dict[int, str] = {}
    for i in np.flatnonzero(changed & flags[at]).tolist():
        message = refused_part[int(at[i])]
        quoted, shown = f"'{parts[int(at[i])].as_py()}'", trimmed[i].as_py()
        refused[i] = f"'{shown}'{message[len(quoted):]}" if timed[i] and message.startswith(quoted) else message
    real_time = pc.match_substring_regex(trimmed, _REAL_TIME).to_numpy(zero_copy_only=False).astype(bool)
    checked = np.flatnonzero(dated & ~real_time & ~(changed & flags[at]))  # few: their numbers read one by one
    for j, what in _bad_times(trimmed.take(pa.array(checked))):
        refused[int(checked[j])] = (f"'{trimmed[int(checked[j])].as_py()}' has a time that does not exist: there is "
                                    f"no {what}. Correct the time or delete it: coprod_map keeps only the day.")
    bad = np.zeros(n, dtype=bool)
    bad[list(refused)] = True
    text = pc.if_else(pa.array(changed & ~bad), part_text.take(pa.array(at)), pc.if_else(pa.array(changed), "", array))
    kept = dated & ~bad & (pc.utf8_length(part_text).to_numpy(zero_copy_only=False) > 0)[at]

    first = np.full(len(parts), -1, dtype=np.int64)  # distinct date part -> its first value
    first[at[::-1]] = np.arange(n - 1, -1, -1, dtype=np.int64)

    def value(i: int | None) -> int | None:
        return None if i is None else int(first[i])

    return DatesRead(
        text=text, changed=changed, refused=dict(sorted(refused.items())),
        order=core.order, proven=core.proven, proof=value(core.proof), example=value(core.example),
        conflict=None if core.conflict is None else tuple([int(first[i]) for i in side] for side in core.conflict),
        timed=kept)


def _bad_times(values: pa.Array) -> list[tuple[int, str]]:
    """(position, what does not exist) for each of ``values`` (dates with a time) whose time is not a time of day.

    >>> _bad_times(pa.array(["1/1/2025 23:59:59", "1/1/2025 25:61", "1/1/2025 12:00 AM", "1/1/2025 13:00 PM",
    ...                      "1/1/2025 10:00:60", "1/1/2025T10:00+24:00", "1/1/2025 0:30 am"]))
    ... # doctest: +NORMALIZE_WHITESPACE
    [(1, 'hour 25'), (3, 'hour 13 with PM (the hours run 1 to 12)'), (4, 'second 60'), (5, 'time zone +24:00'),
     (6, 'hour 0 with AM (the hours run 1 to 12)')]
    """
    out = []
    for j, found in enumerate(pc.extract_regex(values, _TIME).to_pylist()):
        if found is None:
            continue
        h, mi, s, zh, zm = (int(found[k] or 0) for k in ("h", "mi", "s", "zh", "zm"))
        half = found["ap"].lower()
        if half and not 1 <= h <= 12:
            what = f"hour {h} with {'AM' if half.startswith('a') else 'PM'} (the hours run 1 to 12)"
        elif h > 23:
            what = f"hour {h}"
        elif mi > 59:
            what = f"minute {mi}"
        elif s > 59:
            what = f"second {s}"
        elif zh > 23 or zm > 59:
            what = f"time zone {found['zs']}{zh:02d}:{zm:02d}"
        else:
            continue
        out.append((j, what))
    return out

def _without_time(value: str) -> str:
    """``value`` trimmed, without a time after the date.

    >>> _without_time(" 03/04/2025 10:30 "), _without_time("03/04/2025")
    ('03/04/2025', '03/04/2025')
    """
    found = re.match(_TIME, value.strip())
    return found.group("d") if found else value.strip()


def _order_notice(read: DatesRead, distinct: pa.Array, *, file: str, column: str) -> str | None:
    """Plain words on how numbers such as 03/04/2025 were read, when some value reads differently the other way."""
    if read.example is None or read.conflict is not None:
        return None
    shown = _without_time(str(distinct[read.example].as_py()))
    y, m, d = (int(p) for p in str(read.text[read.example].as_py()).split("-"))
    if read.order == "month":
        proof = _without_time(str(distinct[read.proof].as_py()))
        return (f"Dates in '{column}' of {file} were read month first, as {proof} can only be: {shown} is "
                f"{_spoken(y, m, d, month_first=True)}. If that is wrong, check the file: the dates are not all "
                "written the same way.")
    if read.proven:
        return None  # day first, shown by the file itself: nothing to warn about
    return (f"Dates in '{column}' of {file} were read day first: {shown} is {_spoken(y, m, d)}. If your file writes "
            "the month first (as in the US), undo this import on the History page, save the dates as YYYY-MM-DD "
            "(in Excel: format the column as yyyy-mm-dd) and import the file again.")


def _conflict_problem(read: DatesRead, distinct: pa.Array, first_rows: np.ndarray, *, file: str, column: str,
                      rows: np.ndarray) -> Problem:
    assert read.conflict is not None

    def named(positions: list[int]) -> str:
        return " and ".join(f"row {_row_text(rows[first_rows[i]])} ({str(distinct[i].as_py()).strip()})"
                            for i in positions)

    day, month = read.conflict
    return Problem(file, _row(rows[first_rows[day[0]]]), column,
                   f"dates in this column are written both day first, as in {named(day)}, and month first, as in "
                   f"{named(month)}. Write every date the same way (best as YYYY-MM-DD, such as 2025-04-03) and "
                   "import again.")


def _row(value) -> int | None:
    return None if value is None or value is pd.NA or (isinstance(value, float) and value != value) else int(value)


def _row_text(value) -> str:
    row = _row(value)
    return "?" if row is None else str(row)


@dataclass
class EncodedDates:
    """``encoded_dates``' answer: the column's new encoding (unchanged when ``changed`` is False), what was
    refused (located) and notices."""

    codes: np.ndarray
    distinct: pa.Array
    changed: bool = False
    problems: list[Problem] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    #: per row: whether its value was refused (for callers that locate problems their own way)
    refused_rows: np.ndarray | None = None
    messages: list[str] | None = None


def encoded_dates(codes: np.ndarray, distinct: pa.Array, *, file: str, column: str, rows: np.ndarray | None = None,
                  locate: bool = True, kept: str = "the day of each session") -> EncodedDates:
    """A column given as a code per row into its distinct values, with its dates read (``read_dates``): new codes
    and distinct values (re-encoded: ``3/4/2025`` and ``03/04/2025`` become one value), problems naming ``file``,
    the sheet row (``rows``, one per code) and ``column``, and notices (times left out: coprod_map keeps ``kept``).
    An all-ISO column comes back as it is.

    >>> out = encoded_dates(np.array([0, 1, 0, 2]), pa.array(["3/4/2025", "03/04/2025", ""]), file="a.csv",
    ...                     column="Date", rows=np.array([2, 3, 4, 5]))
    >>> out.codes.tolist(), out.distinct.to_pylist(), out.problems
    ([0, 0, 0, 1], ['2025-04-03', ''], [])
    """
    if not len(distinct) or all_iso(distinct):
        return EncodedDates(codes, distinct)
    read = read_dates(distinct)
    if not read.changed.any():
        return EncodedDates(codes, distinct)
    first_rows = np.full(len(distinct), -1, dtype=np.int64)
    first_rows[codes[::-1]] = np.arange(len(codes) - 1, -1, -1, dtype=np.int64)
    rows = rows if rows is not None else np.full(len(codes), None, dtype=object)
    out = EncodedDates(codes, distinct, changed=True)
    notice = _order_notice(read, distinct, file=file, column=column)
    if notice:
        out.notices.append(notice)
    if read.timed is not None and read.timed.any():
        out.notices.append(f"Times in '{column}' of {file} were left out: coprod_map keeps {kept}.")
    if read.conflict is not None:
        out.problems.append(_conflict_problem(read, distinct, first_rows, file=file, column=column, rows=rows))
    if read.refused:
        messages = [""] * len(distinct)
        for i, message in read.refused.items():
            messages[i] = message
        flags = np.zeros(len(distinct), dtype=bool)
        flags[list(read.refused)] = True
        out.refused_rows = flags[codes]
        out.messages = messages
        if locate:
            at = np.flatnonzero(out.refused_rows)
            out.problems += [Problem(file, _row(rows[i]), column, messages[codes[i]]) for i in at[:MAX_ROWS_NAMED]]
            if len(at) > MAX_ROWS_NAMED:
                out.problems.append(Problem(file, None, column, f"and {len(at) - MAX_ROWS_NAMED:,} more rows with "
                                            "such dates in this column."))
    encoded = pc.dictionary_encode(read.text.cast(distinct.type))
    out.codes = encoded.indices.to_numpy(zero_copy_only=False).astype(codes.dtype, copy=False)[codes]
    out.distinct = encoded.dictionary
    return out


def sheet_dates(sheet, header: str) -> tuple[bool, list[Problem], list[str]]:
    """Read the dates of one column of a ``tables.Sheet`` in place (its frame and its dictionary encoding):
    whether it changed, problems, notices. For readers that work from the sheet's codes (attendance lists)."""
    from coprod_map.io.tables import column_codes

    codes, distinct = column_codes(sheet, header)
    out = encoded_dates(np.asarray(codes), distinct, file=sheet.file, column=header,
                        rows=sheet.frame["_row"].to_numpy())
    if out.changed:
        sheet.codes[header] = (out.codes, out.distinct)
        sheet.frame[header] = pd.Series(out.distinct.take(pa.array(out.codes)), index=sheet.frame.index, dtype="str")
    return out.changed, out.problems, out.notices


def frame_dates(frame: pd.DataFrame, column: str, *, table: str, header: str | None = None
                ) -> tuple[pd.DataFrame, list[Problem], list[str]]:
    """``frame`` (one table as read from one file, with ``_file``/``_row``) with ``column``'s dates read:
    the new frame (the same object when nothing changed), problems naming file, row and ``header`` (the file's
    name for the column), and notices. Rows without a sheet row are named by their id, as validation does."""
    from coprod_map import validate

    if column not in frame.columns or not len(frame):
        return frame, [], []
    series = frame[column]
    encoded = validate._encoded(series)
    if encoded is None:  # numbers or mixed cells: as text, missing as ""
        codes, uniques = pd.factorize(validate._text(series))
        encoded = codes, pa.array(np.asarray(uniques, dtype=object).tolist(), type=pa.large_string())
    codes, distinct = encoded
    files = frame["_file"] if "_file" in frame.columns else None
    file = str(files.iloc[0]) if files is not None else validate.TABLE_WORDS.get(table, (table,))[0]
    rows = frame["_row"].to_numpy(dtype=object) if "_row" in frame.columns else None
    out = encoded_dates(np.asarray(codes), distinct, file=file, column=header or column, rows=rows, locate=False,
                        kept="the day of each session" if table == "activities" else "only the day")
    if not out.changed:
        return frame, [], []
    problems = list(out.problems)
    if out.refused_rows is not None and out.messages is not None:
        mask = pd.Series(out.refused_rows, index=frame.index)
        if int(mask.sum()) > MAX_ROWS_NAMED:
            extra = int(mask.sum()) - MAX_ROWS_NAMED
            mask[mask.to_numpy().cumsum() > MAX_ROWS_NAMED] = False
        else:
            extra = 0
        locator = validate._Locator(table, frame, source_columns={column: header} if header else None)
        problems += locator.problems(mask, column, [out.messages[c] for c in np.asarray(codes)[mask.to_numpy()]])
        if extra:
            problems.append(Problem(file, None, header or column, f"and {extra:,} more rows with such dates in "
                                    "this column."))
    new = out.distinct.to_numpy(zero_copy_only=False).astype(object)[out.codes]
    values = pd.Series(new, index=frame.index, dtype=series.dtype if isinstance(series.dtype, pd.StringDtype) else object)
    return frame.assign(**{column: values}), problems, out.notices
