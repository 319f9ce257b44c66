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
from coprod_map.io.tables import Part, Sheet, header_key

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
    """``slug`` of each value: plain-ASCII values in a few whole-column arrow passes, the others one by one.

    For ASCII text ``slug`` is lower case, runs of other characters -> ``-``, ``-`` trimmed (NFKD and
    the ASCII filter change nothing); a value left empty takes ``slug``'s own fallback.
    """
    values = [str(v) for v in values]
    if not values:
        return []
    text = pa.array(values, type=pa.large_string())
    fast = pc.utf8_trim(pc.replace_substring_regex(pc.ascii_lower(text), pattern="[^a-z0-9]+", replacement="-"),
                        characters="-").to_pylist()
    ascii_ = pc.string_is_ascii(text).to_pylist()
    return [f if a and f else slug(v) for v, f, a in zip(values, fast, ascii_, strict=True)]


def _codes(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes (in order of first appearance) and the distinct values, as an object array."""
    codes, uniques = pd.factorize(values)
    return codes.astype(np.int64), np.asarray(uniques, dtype=object)


def _text(values: np.ndarray, index: pd.Index, codes: np.ndarray | None = None) -> pd.Series:
    """``values`` (or ``values[codes]``) as a text column, built in arrow without a per-value pass."""
    array = pa.array(values.tolist(), type=pa.large_string())
    if codes is not None:
        array = array.take(pa.array(codes))
    return pd.Series(array, index=index, dtype="str")


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


def attendance_parts(sheet: Sheet) -> tuple[list[Part], list[Problem], list[str]]:
    person_col = _find(sheet.headers, ATTENDANCE_PERSON)
    event_col = _find(sheet.headers, ATTENDANCE_EVENT)
    date_col = _find(sheet.headers, ATTENDANCE_DATE)
    if not person_col or not event_col:
        return [], [Problem(sheet.file, 1, None, "an attendance list needs a person column (person, name, participant) "
                            f"and an event column (event, activity, session). Found: {', '.join(sheet.headers)}.")], []
    frame = sheet.frame
    names = frame[person_col].str.strip()
    titles = frame[event_col].str.strip()
    dates = frame[date_col].str.strip() if date_col else pd.Series("", index=frame.index)
    problems = [Problem(sheet.file, int(r), person_col, "the person's name is blank. Every row needs one.")
                for r in frame["_row"][names == ""]]
    problems += [Problem(sheet.file, int(r), event_col, "the event is blank. Every row needs one.")
                 for r in frame["_row"][titles == ""]]
    keep = (names != "") & (titles != "")
    if not keep.all():
        names, titles, dates = names[keep], titles[keep], dates[keep]
    base = frame.loc[keep, ["_file", "_row"]] if not keep.all() else frame[["_file", "_row"]]

    # Everything below works on integer codes: each distinct name, title and date is handled once.
    name_codes, name_values = _codes(names)
    id_of_name, person_id_values = _codes(pd.Series(_slugs(name_values), dtype=object))
    person_codes = id_of_name[name_codes] if len(name_codes) else name_codes
    title_codes, title_values = _codes(titles)
    date_codes, date_values = _codes(dates)
    pair_codes, pairs = _codes(pd.Series(title_codes * max(len(date_values), 1) + date_codes))
    keys = [f"{title_values[p // max(len(date_values), 1)]}\x1f{date_values[p % max(len(date_values), 1)]}"
            for p in pairs.tolist()]
    title_slugs = _slugs([k.split("\x1f")[0] for k in keys])
    id_of_pair, activity_id_values = _codes(pd.Series(
        ["-".join(filter(None, (s, k.split("\x1f")[1]))) for s, k in zip(title_slugs, keys, strict=True)],
        dtype=object))
    activity_codes = id_of_pair[pair_codes] if len(pair_codes) else pair_codes

    first_person = _first_rows(person_codes)
    people = base.iloc[first_person]
    people = people.assign(id=_text(person_id_values, people.index), name=names.iloc[first_person].to_numpy(),
                           kind="person")
    first_activity = _first_rows(activity_codes)
    activities = base.iloc[first_activity]
    activities = activities.assign(id=_text(activity_id_values, activities.index),
                                   title=titles.iloc[first_activity].to_numpy(),
                                   date=dates.iloc[first_activity].to_numpy())
    attended = person_codes * max(len(activity_id_values), 1) + activity_codes
    once = ~pd.Series(attended).duplicated(keep="first").to_numpy()
    repeated = int((~once).sum())
    participation = base[once] if repeated else base
    participation = participation.assign(
        stakeholder_id=_text(person_id_values, participation.index, person_codes[once]),
        activity_id=_text(activity_id_values, participation.index, activity_codes[once]))
    notices = [f"{sheet.file}: created {len(people)} people and {len(activities)} activities from the attendance "
               "list, with ids made from their names; people already saved under the same name keep their id "
               "when the import is merged"]
    if repeated:
        notices.append(f"{sheet.file}: {repeated} repeated attendance rows were counted once")
    if len(name_values) > len(person_id_values):  # some id was made from two or more different names
        notices.append(f"{sheet.file}: some names differ only in case or punctuation and were treated as one person")
    parts = [
        Part("stakeholders", people[["id", "name", "kind", "_file", "_row"]], {"name": person_col}),
        Part("activities", activities[["id", "title", "date", "_file", "_row"]],
             {"title": event_col, **({"date": date_col} if date_col else {})}),
        Part("participation", participation[["stakeholder_id", "activity_id", "_file", "_row"]],
             {"stakeholder_id": person_col, "activity_id": event_col}),
    ]
    return parts, problems, notices
