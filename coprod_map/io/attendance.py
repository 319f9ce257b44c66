"""Attendance lists: one row per person per session. Creates the people, the activities and who took part.

Ids are derived from names so the same list always gives the same ids: a person "Amira Khan" ->
``amira-khan``; an activity "Workshop 1" on 2024-03-05 -> ``workshop-1-2024-03-05``. The importer
cannot see the saved project, so matching these to people already saved (by exact name) is the
store's job on merge; a notice says so.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from coprod_map.errors import Problem
from coprod_map.io.detect import ATTENDANCE_DATE, ATTENDANCE_EVENT, ATTENDANCE_PERSON
from coprod_map.io.tables import Part, Sheet, column_codes, header_key

__all__ = ["attendance_parts", "slug"]


def slug(text: str) -> str:
    """A stable id from a name: lower case, accents dropped, runs of other characters -> ``-``.

    Names with no Latin letters or digits keep their own letters (never a random id).

    >>> slug("  Zoë O’Brien "), slug("Workshop #1"), slug("Мария")
    ('zoe-obrien', 'workshop-1', 'мария')
    """
    plain = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode("ascii")
    out = re.sub(r"[^a-z0-9]+", "-", plain.casefold()).strip("-")
    if out:
        return out
    return re.sub(r"\W+", "-", str(text).casefold()).strip("-_") or "unnamed"


def _find(headers: list[str], names: tuple[str, ...]) -> str | None:
    for name in names:
        for header in headers:
            if header_key(header) == name:
                return header
    return None


def _slugs(values) -> list[str]:
    """``slug`` of each value (a sequence, or arrow text)."""
    return _slug_array(values).to_pylist()


def _slug_array(values) -> pa.Array:
    """``slug`` of each value as arrow text: plain-ASCII values in a few whole-column arrow passes, the others
    one by one.

    For ASCII text ``slug`` is lower case, runs of other characters -> ``-``, ``-`` trimmed (NFKD and
    the ASCII filter change nothing); a value left empty takes ``slug``'s own fallback.
    """
    text = values if isinstance(values, pa.Array) else pa.array([str(v) for v in values], type=pa.large_string())
    text = text.cast(pa.large_string())
    fast = pc.utf8_trim(pc.replace_substring_regex(pc.ascii_lower(text), pattern="[^a-z0-9]+", replacement="-"),
                        characters="-")
    done = pc.and_(pc.string_is_ascii(text), pc.not_equal(fast, "")).to_numpy(zero_copy_only=False).astype(bool)
    if done.all():
        return fast
    out = fast.to_pylist()
    for at, value in zip(np.flatnonzero(~done).tolist(), text.filter(pa.array(~done)).to_pylist(), strict=True):
        out[at] = slug(value)
    return pa.array(out, type=pa.large_string())


def _encode(values: pa.Array) -> tuple[np.ndarray, pa.Array]:
    """Integer codes (in order of first appearance) and the distinct values of arrow text."""
    encoded = pc.dictionary_encode(values)
    return encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64), encoded.dictionary


def _first_of_each(keys: np.ndarray, size: int) -> np.ndarray:
    """Whether each row is the first with its key (keys from 0 to ``size - 1``).

    Key and row are packed into one integer and sorted (a few times faster than hashing a million keys that
    are nearly all distinct): each key's first entry then holds its first row.

    >>> _first_of_each(np.array([3, 1, 3, 0, 1]), 4).tolist()
    [True, True, False, True, False]
    """
    n = len(keys)
    shift = max(int(n - 1).bit_length(), 1)
    if not n or int(size - 1).bit_length() + shift > 62:
        return ~pd.Series(keys, dtype=np.int64).duplicated(keep="first").to_numpy()
    packed = np.sort((keys.astype(np.int64) << shift) | np.arange(n, dtype=np.int64))
    starts = np.ones(n, dtype=bool)
    starts[1:] = (packed[1:] >> shift) != (packed[:-1] >> shift)
    once = np.zeros(n, dtype=bool)
    once[packed[starts] & ((1 << shift) - 1)] = True
    return once


def _stripped(sheet: Sheet, header: str) -> tuple[np.ndarray, pa.Array]:
    """A column's values with white space trimmed, as a code per row and the distinct values (arrow text),
    both in order of first appearance: from the column's dictionary encoding, one strip per distinct value."""
    codes, distinct = column_codes(sheet, header)
    trimmed = pc.utf8_trim_whitespace(distinct)
    if trimmed.equals(distinct):
        return codes.astype(np.int64), distinct
    # Trimming may make two values one ("Ann", " Ann"); the first of them in ``distinct`` is the first seen.
    encoded = pc.dictionary_encode(trimmed)
    return encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)[codes], encoded.dictionary


def _renumbered(codes: np.ndarray, distinct: pa.Array) -> tuple[np.ndarray, pa.Array]:
    """Codes and distinct values of a subset of rows: unused values dropped, renumbered by first appearance."""
    new, used = pd.factorize(codes)
    return new.astype(np.int64), distinct.take(pa.array(used.astype(np.int64)))


def _text(values: pa.Array, index: pd.Index, codes: np.ndarray | None = None) -> pd.Series:
    """``values`` (or ``values[codes]``) as a text column, built in arrow without a per-value pass."""
    array = values.cast(pa.large_string())
    if codes is not None:
        array = array.take(pa.array(codes))
    return pd.Series(array, index=index, dtype="str")


def _objects(values: pa.Array, index: pd.Index, codes: np.ndarray) -> pd.Series:
    """``values[codes]`` as an object column of ``str``, each distinct value made once and shared: the form
    ``normalised`` gives text, so the million-row participation ids are not converted again there."""
    return pd.Series(values.to_numpy(zero_copy_only=False).astype(object)[codes], index=index, dtype=object)


def _first_rows(codes: np.ndarray) -> np.ndarray:
    """Positions of each code's first row, in code order. Codes are numbered in order of first appearance,
    so a row is a code's first exactly when its code is above every code before it.

    >>> _first_rows(np.array([0, 1, 0, 2, 1, 3])).tolist()
    [0, 1, 3, 5]
    """
    if not len(codes):
        return np.zeros(0, dtype=np.int64)
    before = np.concatenate(([-1], np.maximum.accumulate(codes)[:-1]))
    return np.flatnonzero(codes > before)


def _blank_rows(codes: np.ndarray, distinct: pa.Array) -> np.ndarray:
    blank = pc.equal(distinct, "").to_numpy(zero_copy_only=False).astype(bool)
    return blank[codes] if blank.any() else np.zeros(len(codes), dtype=bool)


def attendance_parts(sheet: Sheet) -> tuple[list[Part], list[Problem], list[str]]:
    """People, activities and participation from an attendance list, every distinct name, title and date
    handled once: the rows are only integer codes into the column's distinct values (``column_codes``)."""
    person_col = _find(sheet.headers, ATTENDANCE_PERSON)
    event_col = _find(sheet.headers, ATTENDANCE_EVENT)
    date_col = _find(sheet.headers, ATTENDANCE_DATE)
    if not person_col or not event_col:
        return [], [Problem(sheet.file, 1, None, "an attendance list needs a person column (person, name, participant) "
                            f"and an event column (event, activity, session). Found: {', '.join(sheet.headers)}.")], []
    frame = sheet.frame
    name_codes, names = _stripped(sheet, person_col)
    title_codes, titles = _stripped(sheet, event_col)
    if date_col:
        date_codes, dates = _stripped(sheet, date_col)
    else:
        date_codes, dates = np.zeros(len(frame), dtype=np.int64), pa.array([""], type=pa.large_string())
    rows = frame["_row"].to_numpy()
    blank_name, blank_title = _blank_rows(name_codes, names), _blank_rows(title_codes, titles)
    problems = [Problem(sheet.file, int(r), person_col, "the person's name is blank. Every row needs one.")
                for r in rows[blank_name]]
    problems += [Problem(sheet.file, int(r), event_col, "the event is blank. Every row needs one.")
                 for r in rows[blank_title]]
    base = frame[["_file", "_row"]]
    keep = ~(blank_name | blank_title)
    if not keep.all():
        base = base[keep]
        name_codes, names = _renumbered(name_codes[keep], names)
        title_codes, titles = _renumbered(title_codes[keep], titles)
        date_codes, dates = _renumbered(date_codes[keep], dates)
    elif not len(frame):
        dates = dates.slice(0, 0)

    # People: one id per distinct name (names that slug alike share it), in order of first appearance.
    id_of_name, person_ids = _encode(_slug_array(names))
    person_codes = id_of_name[name_codes]
    # Activities: one per distinct (title, date) pair, named by the title's slug and the date.
    n_dates = max(len(dates), 1)
    pair_codes, pairs = pd.factorize(title_codes * n_dates + date_codes)
    pair_titles, pair_dates = pa.array(pairs // n_dates), dates.cast(pa.large_string()).take(pa.array(pairs % n_dates))
    title_slugs = _slug_array(titles).take(pair_titles)
    id_of_pair, activity_ids = _encode(pc.if_else(pc.equal(pair_dates, ""), title_slugs,
                                                  pc.binary_join_element_wise(title_slugs, pair_dates, pa.scalar("-", pa.large_string()))))
    activity_codes = id_of_pair[pair_codes]

    first_person = _first_rows(person_codes)
    people = base.iloc[first_person]
    people = people.assign(id=_text(person_ids, people.index),
                           name=_text(names, people.index, name_codes[first_person]), kind="person")
    first_activity = _first_rows(activity_codes)
    activities = base.iloc[first_activity]
    activities = activities.assign(id=_text(activity_ids, activities.index),
                                   title=_text(titles, activities.index, title_codes[first_activity]),
                                   date=_text(dates, activities.index, date_codes[first_activity]))
    once = _first_of_each(person_codes * max(len(activity_ids), 1) + activity_codes,
                          len(person_ids) * max(len(activity_ids), 1))
    repeated = int(len(once) - once.sum())
    participation = base[once] if repeated else base
    participation = participation.assign(
        stakeholder_id=_objects(person_ids, participation.index, person_codes[once] if repeated else person_codes),
        activity_id=_objects(activity_ids, participation.index, activity_codes[once] if repeated else activity_codes))
    notices = [f"{sheet.file}: created {len(people)} people and {len(activities)} activities from the attendance "
               "list, with ids made from their names; people already saved under the same name keep their id "
               "when the import is merged"]
    if repeated:
        notices.append(f"{sheet.file}: {repeated} repeated attendance rows were counted once")
    if len(names) > len(person_ids):  # some id was made from two or more different names
        notices.append(f"{sheet.file}: some names differ only in case or punctuation and were treated as one person")
    parts = [
        Part("stakeholders", people[["id", "name", "kind", "_file", "_row"]], {"name": person_col}),
        Part("activities", activities[["id", "title", "date", "_file", "_row"]],
             {"title": event_col, **({"date": date_col} if date_col else {})}),
        Part("participation", participation[["stakeholder_id", "activity_id", "_file", "_row"]],
             {"stakeholder_id": person_col, "activity_id": event_col}),
    ]
    return parts, problems, notices
