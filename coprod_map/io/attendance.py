"""Attendance lists: one row per person per session. Creates the people, the activities and who took part.

Ids are derived from names so the same list always gives the same ids: a person "Amira Khan" ->
``amira-khan``; an activity "Workshop 1" on 2024-03-05 -> ``workshop-1-2024-03-05``. The importer
cannot see the saved project, so matching these to people already saved (by exact name) is the
store's job on merge; a notice says so.

Columns are found by header (``coprod_map.io.detect``: a whole name or first + last name, the event, the date,
notes on taking part); when two headers could fill one column the most specific is used, and every column
not used is named in a notice: nothing is dropped without a word.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from coprod_map.errors import Problem
from coprod_map.io.dates import sheet_dates
from coprod_map.io.detect import (
    ATTENDANCE_DATE,
    ATTENDANCE_EVENT,
    ATTENDANCE_FIRST_NAME,
    ATTENDANCE_LAST_NAME,
    ATTENDANCE_NOTES,
    ATTENDANCE_PERSON,
)
from coprod_map.io.tables import BIRTH_DATE_KEYS, Part, Sheet, column_codes, header_key

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


@dataclass
class _Columns:
    """Which of a sheet's headers an attendance list uses, and the notices about the choice."""

    person: str | None = None      # one column with the whole name
    first: str | None = None       # or first and last name columns, joined
    last: str | None = None
    event: str | None = None
    date: str | None = None
    notes: str | None = None
    notices: list[str] = field(default_factory=list)
    passed_over: list[str] = field(default_factory=list)  # candidates not chosen (named in ``notices``)

    @property
    def person_label(self) -> str | None:
        """How problems name the person's column: its header, or both name headers."""
        return self.person or (f"{self.first} + {self.last}" if self.first and self.last else None)

    def used(self) -> list[str]:
        return [h for h in (self.person, self.first, self.last, self.event, self.date, self.notes) if h]


def _candidates(headers: list[str], keys: tuple[str, ...]) -> list[str]:
    """Headers whose key is one of ``keys``, the most specific (earliest in ``keys``) first.

    >>> _candidates(["Date", "Venue", "Date attended"], ATTENDANCE_DATE)
    ['Date attended', 'Date']
    """
    rank = {key: i for i, key in enumerate(keys)}
    return sorted((h for h in headers if header_key(h) in rank), key=lambda h: rank[header_key(h)])


def _quoted(headers: list[str]) -> str:
    """``'a'``, ``'a' and 'b'``, ``'a', 'b' and 'c'``.

    >>> _quoted(["Date"]), _quoted(["Org", "Role", "Postcode"])
    ("'Date'", "'Org', 'Role' and 'Postcode'")
    """
    names = [f"'{h}'" for h in headers]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _choose(file: str, what: str, candidates: list[str], columns: _Columns) -> str | None:
    """The first (most specific) candidate; a notice names the others, which are not imported."""
    if len(candidates) > 1:
        chosen, others = candidates[0], candidates[1:]
        columns.passed_over += others
        columns.notices.append(
            f"{file}: {_quoted(candidates)} could each be {what}. '{chosen}' was used and {_quoted(others)} "
            f"{'was' if len(others) == 1 else 'were'} not imported. If you meant another, choose "
            f"'(leave this column out)' for '{chosen}' under 'Match columns'.")
    return candidates[0] if candidates else None


def _columns(sheet: Sheet) -> _Columns:
    headers = [h for h in sheet.headers if not str(h).startswith("_")]
    columns = _Columns()
    whole = _candidates(headers, ATTENDANCE_PERSON)
    firsts, lasts = _candidates(headers, ATTENDANCE_FIRST_NAME), _candidates(headers, ATTENDANCE_LAST_NAME)
    if whole:  # a column with the whole name is preferred to first and last name columns
        columns.person = _choose(sheet.file, "the person's name", whole + firsts + lasts, columns)
    elif firsts and lasts:
        columns.first = _choose(sheet.file, "the first name", firsts, columns)
        columns.last = _choose(sheet.file, "the last name", lasts, columns)
    columns.event = _choose(sheet.file, "the event", _candidates(headers, ATTENDANCE_EVENT), columns)
    columns.date = _choose(sheet.file, "the date", _candidates(headers, ATTENDANCE_DATE), columns)
    columns.notes = _choose(sheet.file, "the notes", _candidates(headers, ATTENDANCE_NOTES), columns)
    unused = [h for h in headers if h not in columns.used() and h not in columns.passed_over]
    kept_out = [h for h in unused if header_key(h) in BIRTH_DATE_KEYS]
    if kept_out:
        columns.notices.append(f"{sheet.file}: {_quoted(kept_out)} {'was' if len(kept_out) == 1 else 'were'} not "
                               "imported: coprod_map does not keep dates of birth")
    unused = [h for h in unused if h not in kept_out]
    if len(unused) == 1:
        columns.notices.append(
            f"{sheet.file}: the column {_quoted(unused)} was not imported (an attendance list brings who took part "
            "in what, and when). To keep it, import it with the stakeholders (a list with id and name columns; "
            "people are matched by name), or, if it holds the name, the date or notes, match it to name, date or "
            "notes under 'Match columns'.")
    elif unused:
        columns.notices.append(
            f"{sheet.file}: the columns {_quoted(unused)} were not imported (an attendance list brings who took part "
            "in what, and when). To keep them, import them with the stakeholders (a list with id and name columns; "
            "people are matched by name), or, for one that holds the name, the date or notes, match it to name, "
            "date or notes under 'Match columns'.")
    return columns


def _joined_names(sheet: Sheet, first: str, last: str) -> tuple[np.ndarray, pa.Array]:
    """First and last name joined with a space (a blank part leaves the other alone), as a code per row and
    the distinct names in order of first appearance: one join per distinct (first, last) pair."""
    first_codes, firsts = _stripped(sheet, first)
    last_codes, lasts = _stripped(sheet, last)
    n_lasts = max(len(lasts), 1)
    pair_codes, pairs = pd.factorize(first_codes * n_lasts + last_codes)
    joined = pc.utf8_trim(pc.binary_join_element_wise(firsts.cast(pa.large_string()).take(pa.array(pairs // n_lasts)),
                                                      lasts.cast(pa.large_string()).take(pa.array(pairs % n_lasts)),
                                                      pa.scalar(" ", pa.large_string())), characters=" ")
    # Two pairs may join alike ("Ann Marie" + "Lee", "Ann" + "Marie Lee"): one name.
    encoded = pc.dictionary_encode(joined)
    return encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)[pair_codes], encoded.dictionary


def _joined_notes(keys: np.ndarray, note_codes: np.ndarray, notes: pa.Array) -> tuple[np.ndarray, pa.Array, int]:
    """The notes of each (person, activity) when repeated rows are counted once: every different note its rows
    carry, joined with ``; `` in file order. Returns a code per kept row (kept rows in file order, one per key)
    into the notes' distinct values plus the joined ones, those values, and how many kept rows got joined notes.
    Only notes are handled one by one, and only those of keys with two or more different notes."""
    groups = pd.factorize(keys)[0]  # each row's kept row: keys numbered in order of first appearance
    n_notes = max(len(notes), 1)
    blank = pc.equal(notes, "").to_numpy(zero_copy_only=False).astype(bool)
    noted = ~blank[note_codes] if blank.any() else np.ones(len(note_codes), dtype=bool)
    taken = pd.unique(groups[noted].astype(np.int64) * n_notes + note_codes[noted])  # in file order
    group_of, note_of = taken // n_notes, taken % n_notes
    texts = notes.to_pylist()
    if not blank.any():
        texts.append("")
    codes = np.full(int(groups.max()) + 1 if len(groups) else 0, texts.index(""), dtype=np.int64)
    first = ~pd.Series(group_of).duplicated().to_numpy()
    codes[group_of[first]] = note_of[first]
    several = ~first | np.isin(group_of, group_of[~first])
    if not several.any():
        return codes, pa.array(texts, type=pa.large_string()), 0
    joined = pd.Series(note_of[several]).groupby(group_of[several], sort=False).agg(
        lambda at: "; ".join(texts[i] for i in at))
    codes[joined.index.to_numpy()] = np.arange(len(texts), len(texts) + len(joined))
    return codes, pa.array(texts + joined.tolist(), type=pa.large_string()), len(joined)


def attendance_parts(sheet: Sheet) -> tuple[list[Part], list[Problem], list[str]]:
    """People, activities and participation from an attendance list, every distinct name, title and date
    handled once: the rows are only integer codes into the column's distinct values (``column_codes``).

    Every column the list does not use is named in a notice (nothing is dropped without a word)."""
    columns = _columns(sheet)
    person_col, event_col, date_col = columns.person_label, columns.event, columns.date
    if not person_col or not event_col:
        alone = ("; a first name alone is not enough: add a last name column or one with the whole name"
                 if _candidates(sheet.headers, ATTENDANCE_FIRST_NAME) and not person_col else "")
        return [], [Problem(sheet.file, 1, None, "an attendance list needs a person column (person, name, participant, "
                            "or first name and last name) and an event column (event, activity, session, course)"
                            f"{alone}. Found: {', '.join(sheet.headers)}.")], []
    frame = sheet.frame
    if columns.person:
        name_codes, names = _stripped(sheet, columns.person)
    else:
        name_codes, names = _joined_names(sheet, columns.first, columns.last)
    title_codes, titles = _stripped(sheet, event_col)
    date_problems: list[Problem] = []
    date_notices: list[str] = []
    if date_col:  # dates as people write them -> ISO first: activity ids are made from them
        _, date_problems, date_notices = sheet_dates(sheet, date_col)
        date_codes, dates = _stripped(sheet, date_col)
    else:
        date_codes, dates = np.zeros(len(frame), dtype=np.int64), pa.array([""], type=pa.large_string())
    if columns.notes:
        note_codes, notes = _stripped(sheet, columns.notes)
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
        if columns.notes:
            note_codes, notes = _renumbered(note_codes[keep], notes)
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
    pair_keys = person_codes * max(len(activity_ids), 1) + activity_codes
    once = _first_of_each(pair_keys, len(person_ids) * max(len(activity_ids), 1))
    repeated = int(len(once) - once.sum())
    participation = base[once] if repeated else base
    participation = participation.assign(
        stakeholder_id=_objects(person_ids, participation.index, person_codes[once] if repeated else person_codes),
        activity_id=_objects(activity_ids, participation.index, activity_codes[once] if repeated else activity_codes))
    joined_notes = 0
    if columns.notes:
        if repeated:
            kept_codes, kept_notes, joined_notes = _joined_notes(pair_keys, note_codes, notes)
            participation = participation.assign(notes=_text(kept_notes, participation.index, kept_codes))
        else:
            participation = participation.assign(notes=_text(notes, participation.index, note_codes))
    notices = [f"{sheet.file}: created {len(people)} people and {len(activities)} activities from the attendance "
               "list, with ids made from their names; people already saved under the same name keep their id "
               "when the import is merged"]
    notices += columns.notices
    if repeated:
        notices.append(f"{sheet.file}: {repeated} repeated attendance rows were counted once")
    if joined_notes:
        who = "1 person" if joined_notes == 1 else f"{joined_notes} people"
        notices.append(f"{sheet.file}: {who} came to the same event on more than one row with different notes; "
                       "the notes were kept together, separated by '; '")
    if len(names) > len(person_ids):  # some id was made from two or more different names
        notices.append(f"{sheet.file}: some names differ only in case or punctuation and were treated as one person")
    notes_source = {"notes": columns.notes} if columns.notes else {}
    parts = [
        Part("stakeholders", people[["id", "name", "kind", "_file", "_row"]], {"name": person_col}),
        Part("activities", activities[["id", "title", "date", "_file", "_row"]],
             {"title": event_col, **({"date": date_col} if date_col else {})}),
        Part("participation", participation[["stakeholder_id", "activity_id", *notes_source, "_file", "_row"]],
             {"stakeholder_id": person_col, "activity_id": event_col, **notes_source}),
    ]
    return parts, problems + date_problems, notices + date_notices
