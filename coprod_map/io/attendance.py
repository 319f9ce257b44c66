"""Attendance lists: one row per person per session. Creates the people, the activities and who took part.

Ids are derived from names so the same list always gives the same ids: a person "Amira Khan" ->
``amira-khan``; an activity "Workshop 1" on 2024-03-05 -> ``workshop-1-2024-03-05``. The importer
cannot see the saved project, so matching these to people already saved (by exact name) is the
store's job on merge; a notice says so.
"""

from __future__ import annotations

import re
import unicodedata

import pandas as pd

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
    names, titles, dates, base = names[keep], titles[keep], dates[keep], frame.loc[keep, ["_file", "_row"]]
    person_ids = names.map({n: slug(n) for n in names.unique()})
    activity_keys = titles.str.cat(dates, sep="\x1f")
    activity_ids = activity_keys.map({k: "-".join(filter(None, (slug(k.split("\x1f")[0]), k.split("\x1f")[1])))
                                      for k in activity_keys.unique()})

    people = base.assign(id=person_ids, name=names, kind="person").drop_duplicates("id")
    activities = base.assign(id=activity_ids, title=titles, date=dates).drop_duplicates("id")
    participation = base.assign(stakeholder_id=person_ids, activity_id=activity_ids)
    repeated = int(participation.duplicated(["stakeholder_id", "activity_id"]).sum())
    participation = participation.drop_duplicates(["stakeholder_id", "activity_id"])
    notices = [f"{sheet.file}: created {len(people)} people and {len(activities)} activities from the attendance "
               "list, with ids made from their names; people already saved under the same name keep their id "
               "when the import is merged"]
    if repeated:
        notices.append(f"{sheet.file}: {repeated} repeated attendance rows were counted once")
    spelled = names.groupby(person_ids).nunique()
    if (spelled > 1).any():
        notices.append(f"{sheet.file}: some names differ only in case or punctuation and were treated as one person")
    parts = [
        Part("stakeholders", people[["id", "name", "kind", "_file", "_row"]], {"name": person_col}),
        Part("activities", activities[["id", "title", "date", "_file", "_row"]],
             {"title": event_col, **({"date": date_col} if date_col else {})}),
        Part("participation", participation[["stakeholder_id", "activity_id", "_file", "_row"]],
             {"stakeholder_id": person_col, "activity_id": event_col}),
    ]
    return parts, problems, notices
