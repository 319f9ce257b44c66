"""The words users see: plain-language names and help text for every table, column and setting.

Kept apart from ``model.py`` so the wording can change without touching code that uses the
column names.
"""

from __future__ import annotations

from coprod_map.model import AFFECTED_LEVELS, BASES, DIRECTIONS, EXPERIENCES, INVOLVEMENT_LEVELS, KINDS
from coprod_map.record import ACTION_STATUSES, FIELDS, MET

__all__ = [
    "COLUMN_LABELS",
    "EDITABLE_TABLES",
    "FIELD_HELP",
    "GAP_FLAG_WORDS",
    "MEASURE_HEADINGS",
    "MEASURE_HELP",
    "NETWORK_HEADINGS",
    "RECORD_HEADINGS",
    "SETTINGS_HELP",
    "TABLE_HELP",
    "TABLE_LABELS",
    "WELCOME",
    "column_label",
    "field_help",
]

WELCOME = (
    "coprod_map helps you see who your work affects and who is actually taking part. "
    "Map every person, group, organisation and community asset, the ties between them, "
    "and who came to which activity. Then compare who is affected with who is involved, "
    "look at the relationships, keep a record of decisions, and share an accessible report. "
    "Everything stays on this computer (or your own server)."
)

TABLE_LABELS: dict[str, str] = {
    "stakeholders": "Stakeholders",
    "relationships": "Relationships",
    "activities": "Activities",
    "participation": "Participation records",
    "reference": "Reference population",
}

#: The tables a user edits on the "Stakeholders and ties" page, in tab order.
EDITABLE_TABLES = ("stakeholders", "relationships", "activities", "participation")

TABLE_HELP: dict[str, str] = {
    "stakeholders": "Everyone who is affected by the work or could take part: people, groups, organisations "
    "and community assets. One row each.",
    "relationships": "Who is connected to whom, and how. One row per tie between two stakeholders.",
    "activities": "Workshops, meetings, surveys and other chances to take part. One row each.",
    "participation": "Who took part in which activity. One row per stakeholder per activity.",
    "reference": "How many people in the wider population belong to each group, to compare against.",
}


def _choices(coded: dict) -> str:
    return "; ".join(str(label) for label in coded.values())


COLUMN_LABELS: dict[str, dict[str, str]] = {
    "stakeholders": {
        "id": "ID",
        "name": "Name",
        "kind": "Kind",
        "roles": "Roles",
        "experience": "Experience",
        "affected": "How affected (0-3)",
        "influence": "Influence (0-5)",
        "involvement": "Involvement",
        "speaks_for": "Speaks for",
        "speaks_basis": "Speaks on what basis",
        "notes": "Notes",
    },
    "relationships": {
        "id": "ID",
        "source": "From",
        "target": "To",
        "type": "Type of tie",
        "direction": "Direction",
        "strength": "Strength (0-5)",
        "since": "Since",
        "until": "Until",
        "notes": "Notes",
    },
    "activities": {
        "id": "ID",
        "title": "Title",
        "date": "Date",
        "kind": "Kind of activity",
        "cycle": "Review cycle",
        "notes": "Notes",
    },
    "participation": {
        "stakeholder_id": "Stakeholder",
        "activity_id": "Activity",
        "notes": "Notes",
    },
    "reference": {
        "attribute": "Attribute",
        "category": "Category",
        "count": "Count",
        "share": "Share",
        "source": "Source of the figures",
    },
}

FIELD_HELP: dict[str, dict[str, str]] = {
    "stakeholders": {
        "id": "A short code that never changes, used to link relationships and participation to this "
        "stakeholder. Leave it blank on a new row and one is made for you.",
        "name": "What people call this person, group or organisation. Use initials or a role if a name "
        "should not be kept.",
        "kind": f"What sort of stakeholder this is: {_choices(KINDS)}.",
        "roles": "Roles this stakeholder holds, for example carer, councillor, youth worker. Several allowed.",
        "experience": f"Kinds of experience they bring: {_choices(EXPERIENCES)}. Several allowed.",
        "affected": "How strongly the work affects them: "
        + "; ".join(f"{k} = {v}" for k, v in AFFECTED_LEVELS.items())
        + ".",
        "influence": "How much say they have over the work, from 0 (none) to 5 (a great deal).",
        "involvement": f"How far they take part, lowest first: {_choices(INVOLVEMENT_LEVELS)}.",
        "speaks_for": "Wider groups this stakeholder speaks for, for example young carers. Several allowed.",
        "speaks_basis": f"Why they can speak for those groups: {_choices(BASES)}.",
        "notes": "Anything else worth keeping. Keep personal details to the minimum you need.",
    },
    "relationships": {
        "id": "A short code for this tie. Leave it blank on a new row and one is made for you.",
        "source": "The stakeholder the tie starts from.",
        "target": "The stakeholder the tie goes to.",
        "type": "What kind of tie this is. The choices are set on the Project settings page.",
        "direction": f"Which way the tie runs: {_choices(DIRECTIONS)}.",
        "strength": "How strong the tie is, from 0 (very weak) to 5 (very strong).",
        "since": "When the tie began, as YYYY-MM-DD. Leave blank if not known.",
        "until": "When the tie ended, as YYYY-MM-DD. Leave blank if it still holds.",
        "notes": "Anything else worth keeping about this tie.",
    },
    "activities": {
        "id": "A short code for this activity. Leave it blank on a new row and one is made for you.",
        "title": "A name people will recognise, for example 'Young people's workshop'.",
        "date": "The day it took place, as YYYY-MM-DD.",
        "kind": "What sort of activity it was. The choices are set on the Project settings page.",
        "cycle": "Which review cycle it belongs to. Cycles are set on the Project settings page.",
        "notes": "Anything else worth keeping about this activity.",
    },
    "participation": {
        "stakeholder_id": "Who took part.",
        "activity_id": "Which activity they took part in.",
        "notes": "Anything worth keeping about how they took part.",
    },
    "reference": {
        "attribute": "The attribute these figures describe, for example age band.",
        "category": "One category of that attribute, for example 16-24.",
        "count": "How many people in the wider population are in this category.",
        "share": "The share of the wider population in this category, from 0 to 1.",
        "source": "Where the figures come from, for example the 2021 census.",
    },
}

ATTRIBUTE_HELP = (
    "A category this project records to check who is involved. The choices are set on the "
    "Project settings page. 'not recorded' and 'prefer not to say' are kept apart from blank."
)

SETTINGS_HELP: dict[str, str] = {
    "attributes": "Things you record about stakeholders to check who is taking part, for example age band, "
    "area or disability. One row per attribute; list its categories separated by |.",
    "relationship_types": "The kinds of tie people can choose when recording a relationship. One per line.",
    "activity_kinds": "The kinds of activity people can choose, for example workshop or survey. One per line.",
    "cycles": "Review cycles: stretches of work you look back on together. Give each a name, a start and an end.",
    "min_cell": "Counts smaller than this are hidden in anything you share, so no one can be picked out. "
    "5 is a common choice.",
    "project_name": "A name for the project that everyone using it will recognise.",
    "project_description": "A sentence on what the project is about (optional).",
}


def column_label(table: str, column: str) -> str:
    """The plain-language header for a column (attributes keep their own name)."""
    return COLUMN_LABELS.get(table, {}).get(column, column)


def field_help(table: str, column: str) -> str:
    """Help text for a column; attribute columns get the general attribute help."""
    return FIELD_HELP.get(table, {}).get(column, ATTRIBUTE_HELP)


# --- headings of the tables the pages work out (the analysis keeps its column ids; these are what people read) ---

#: A gap table's ``flag`` in words (as the "Who is involved" page's tables say it).
GAP_FLAG_WORDS: dict[str, str] = {"under": "fewer than expected", "over": "more than expected",
                                  "within": "about as expected"}


def _field(table: str, column: str) -> str:
    return FIELDS[table][column][0]


#: The "Decisions and record" page's worked-out tables, by the analysis function that makes them.
RECORD_HEADINGS: dict[str, dict[str, str]] = {
    "decision_power": {
        "period": "Period",
        "decisions": "Decisions",
        "recorded": "Decisions that say who took part",
        "with_lived": "Of those, with someone with lived experience",
        "participants": "People who took part in activities",
        "lived_participants": "Of those, with lived experience",
        "decision_share": "Share of decisions with lived experience",
        "participation_share": "Share of participants with lived experience",
        "ratio": "Decisions share / participation share (1 = the same)",
    },
    "reciprocity_by_person": {
        "stakeholder_id": "ID",
        "name": _field("reciprocity", "stakeholder_id"),
        "contributions": "Contributions",
        "hours": _field("reciprocity", "hours"),
        "value": _field("reciprocity", "value"),
        "returned": "Something returned",
        "nothing_returned": "Nothing returned",
    },
    "unreturned_contributions": {
        "id": "Contribution ID",
        "stakeholder_id": "Their ID",
        "name": _field("reciprocity", "stakeholder_id"),
        "date": "Date",
        "contributed": _field("reciprocity", "contributed"),
        "hours": _field("reciprocity", "hours"),
    },
    "needs_by_activity": {
        "activity_id": "Activity ID",
        "title": "Activity",
        **MET,
        "total": "Needs checked",
    },
    "unmet_needs_by_group": {
        "people_with_needs": "People with a stated need",
        "people_unmet": "Of those, a need not met",
        "people_partly": "Of those, a need partly met",
        "gap": "Gap (points)",
        "flag": "Compared with those affected",
    },
    "cycle_overview": {
        "cycle": "Review cycle",
        "start": "Start",
        "end": "End",
        "good_and_done_agreed": "Good and done agreed",
        "reflections": "Reflections written",
        "lessons": "Lessons written",
        "actions": "Actions",
        "actions_done": "Actions done",
        "snapshots": "Snapshots kept",
    },
    "actions_by_status": {"cycle": "Review cycle", **ACTION_STATUSES, "total": "Total"},
    "overdue_actions": {column: words for column, (words, _) in FIELDS["actions"].items()},
    "compare_representation": {
        "attribute": "Attribute",
        "category": "Group",
        "gap_then": "Gap then (points)",
        "gap_now": "Gap now (points)",
        "change": "Change (points)",
        "flag_then": "Then, compared with those affected",
        "flag_now": "Now, compared with those affected",
    },
}

#: The "Relationships" page's worked-out tables, by the analysis function that makes them.
#: the network measures' headings (``analysis.network.metrics_table``'s columns), on Relationships and History
MEASURE_HEADINGS: dict[str, str] = {
    "id": "ID", "name": "Name", "degree": "Ties", "betweenness": "Brokerage", "betweenness_estimated": "Estimated",
    "community": "Community", "constraint": "Overlapping ties", "articulation_point": "Cut point",
    "bridge_ties": "Bridge ties", "isolated": "No ties", "component": "Part of map",
}

#: what each measure means, in plain words (the headings' help)
MEASURE_HELP: dict[str, str] = {
    "degree": "How many different stakeholders they are tied to",
    "betweenness": "Share of shortest paths between others that pass through them (0 to 1)",
    "betweenness_estimated": "Brokerage is an estimate",
    "community": "1 is the largest; blank: no ties",
    "constraint": "How much their ties all lead to the same people: high means few separate routes; low means "
                  "they link circles that are otherwise apart (Burt's constraint, 0 to 1)",
    "articulation_point": "Removing them splits the map",
    "bridge_ties": "Ties that are the only link",
    "component": "1 is the largest connected part",
}


NETWORK_HEADINGS: dict[str, dict[str, str]] = {
    "tie_changes": {
        "change": "New or ended",
        "source": "From (ID)",
        "source_name": "From",
        "target": "To (ID)",
        "target_name": "To",
        "type": "Type of tie",
        "across_roles": "Across roles (they share none)",
        "across_experience": "Across experience (they share no kind)",
    },
    "cycle_dropouts": {"id": "ID", "name": "Name", "kind": "Kind"},
    "introducers": {"group": "Group", "rank": "Rank", "id": "ID", "name": "Name",
                    "nearest": "Steps to the nearest", "within_1": "Within 1 step"},
}
