"""The database schema: table definitions for every version we have shipped, and the upgrades between them.

Every data table is keyed by ``project_id`` first, so projects never share a row. ``meta`` holds
``schema_version``. A new database gets ``SCHEMA_VERSION`` directly; an older one is upgraded step by
step in ONE transaction (all or nothing) when the store opens it. A newer one is refused.

Version history
- 1: stakeholder attributes kept as a JSON text column ``stakeholders.attributes``; no row versions.
- 2: attributes moved to the ``stakeholder_attributes`` table (one row per stakeholder and attribute);
  a ``version`` column on stakeholders, relationships and activities for conflict detection.
- 3: the co-production record (``record_*`` tables, see ``coprod_map.record``): decisions, what can
  change, reciprocity, needs and whether they were met, review-cycle notes, actions, snapshots and
  self-assessment scores. Cycle names and dates stay in the project settings.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

__all__ = ["SCHEMA_VERSION", "METADATA", "V1_METADATA", "V2_METADATA", "MIGRATIONS", "KEYS", "RECORD_SQL_TABLES",
           "read_version", "create_schema"]

SCHEMA_VERSION = 3

#: The key columns of each data table (after ``project_id``).
KEYS: dict[str, tuple[str, ...]] = {
    "stakeholders": ("id",),
    "relationships": ("id",),
    "activities": ("id",),
    "participation": ("stakeholder_id", "activity_id"),
    "reference": ("attribute", "category"),
}

_CASCADE = {"ondelete": "CASCADE"}


def _text(name: str, *, primary_key: bool = False) -> sa.Column:
    # Text is NOT NULL with "" for blanks, mirroring the model's convention; keys are plain text.
    return sa.Column(name, sa.Text, nullable=False, server_default="" if not primary_key else None,
                     primary_key=primary_key)


def _project_fk(name: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["project_id"], ["projects.id"], name=f"fk_{name}_project", **_CASCADE)


def _tables(metadata: sa.MetaData, *, version: int) -> None:
    """Define the tables of schema ``version`` (1, 2 or 3) on ``metadata``."""
    def row_version() -> list[sa.Column]:
        return [sa.Column("version", sa.Integer, nullable=False, server_default="1")] if version >= 2 else []

    sa.Table(
        "meta", metadata,
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    sa.Table(
        "projects", metadata,
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=False, unique=True),
        _text("description"),
        sa.Column("revision", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("updated_at", sa.Text, nullable=False),
        sa.Column("settings", sa.Text, nullable=False, server_default="{}"),
    )
    sa.Table(
        "stakeholders", metadata,
        _text("project_id", primary_key=True), _text("id", primary_key=True),
        sa.Column("seq", sa.Integer, nullable=False),
        _text("name"), _text("kind"), _text("roles"), _text("experience"),
        sa.Column("affected", sa.Integer), sa.Column("influence", sa.Integer),
        _text("involvement"), _text("speaks_for"), _text("speaks_basis"), _text("notes"),
        *([_text("attributes")] if version == 1 else []),
        *row_version(),
        _project_fk("stakeholders"),
    )
    if version >= 2:
        sa.Table(
            "stakeholder_attributes", metadata,
            _text("project_id", primary_key=True), _text("stakeholder_id", primary_key=True),
            _text("attribute", primary_key=True), _text("value"),
            sa.ForeignKeyConstraint(["project_id", "stakeholder_id"], ["stakeholders.project_id", "stakeholders.id"],
                                    name="fk_attributes_stakeholder", **_CASCADE),
        )
    sa.Table(
        "relationships", metadata,
        _text("project_id", primary_key=True), _text("id", primary_key=True),
        sa.Column("seq", sa.Integer, nullable=False),
        _text("source"), _text("target"), _text("type"), _text("direction"),
        sa.Column("strength", sa.Float), _text("since"), _text("until"), _text("notes"),
        *row_version(),
        _project_fk("relationships"),
        sa.ForeignKeyConstraint(["project_id", "source"], ["stakeholders.project_id", "stakeholders.id"],
                                name="fk_relationships_source", **_CASCADE),
        sa.ForeignKeyConstraint(["project_id", "target"], ["stakeholders.project_id", "stakeholders.id"],
                                name="fk_relationships_target", **_CASCADE),
    )
    sa.Table(
        "activities", metadata,
        _text("project_id", primary_key=True), _text("id", primary_key=True),
        sa.Column("seq", sa.Integer, nullable=False),
        _text("title"), _text("date"), _text("kind"), _text("cycle"), _text("notes"),
        *row_version(),
        _project_fk("activities"),
    )
    sa.Table(
        "participation", metadata,
        _text("project_id", primary_key=True), _text("stakeholder_id", primary_key=True),
        _text("activity_id", primary_key=True),
        sa.Column("seq", sa.Integer, nullable=False),
        _text("notes"),
        _project_fk("participation"),
        sa.ForeignKeyConstraint(["project_id", "stakeholder_id"], ["stakeholders.project_id", "stakeholders.id"],
                                name="fk_participation_stakeholder", **_CASCADE),
        sa.ForeignKeyConstraint(["project_id", "activity_id"], ["activities.project_id", "activities.id"],
                                name="fk_participation_activity", **_CASCADE),
    )
    sa.Table(
        "reference", metadata,
        _text("project_id", primary_key=True), _text("attribute", primary_key=True),
        _text("category", primary_key=True),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("count", sa.Integer), sa.Column("share", sa.Float), _text("source"),
        _project_fk("reference"),
    )
    if version >= 3:
        _record_tables(metadata)


#: record table (``coprod_map.record``) -> its database table.
RECORD_SQL_TABLES: dict[str, str] = {
    "decisions": "record_decisions",
    "changeables": "record_changeables",
    "reciprocity": "record_reciprocity",
    "needs": "record_needs",
    "need_met": "record_need_met",
    "cycles": "record_cycles",
    "actions": "record_actions",
    "snapshots": "record_snapshots",
    "self_assessment": "record_self_assessment",
}


def _record_tables(metadata: sa.MetaData) -> None:
    """The co-production record (version 3). Columns follow ``coprod_map.record.RECORD_TABLES``.

    Needs and ledger rows are about a person: they go when that stakeholder is deleted (FK cascade).
    Optional links (a ledger row's activity, a decision's ``made_by`` list) are checked on save instead.
    """
    from coprod_map.record import RECORD_KEYS, RECORD_TABLES

    kinds = {"str": sa.Text, "list": sa.Text, "Int64": sa.Integer, "Float64": sa.Float, "bool": sa.Boolean}
    extra = {
        "reciprocity": [sa.ForeignKeyConstraint(["project_id", "stakeholder_id"],
                                                ["stakeholders.project_id", "stakeholders.id"],
                                                name="fk_record_reciprocity_stakeholder", **_CASCADE)],
        "needs": [sa.ForeignKeyConstraint(["project_id", "stakeholder_id"],
                                          ["stakeholders.project_id", "stakeholders.id"],
                                          name="fk_record_needs_stakeholder", **_CASCADE)],
        "need_met": [
            sa.ForeignKeyConstraint(["project_id", "need_id"], ["record_needs.project_id", "record_needs.id"],
                                    name="fk_record_need_met_need", **_CASCADE),
            sa.ForeignKeyConstraint(["project_id", "activity_id"], ["activities.project_id", "activities.id"],
                                    name="fk_record_need_met_activity", **_CASCADE),
        ],
    }
    for table, columns in RECORD_TABLES.items():
        keys = RECORD_KEYS[table]
        cols = [_text("project_id", primary_key=True)]
        for name, kind in columns.items():
            if name in keys:
                cols.append(_text(name, primary_key=True))
            elif kind in ("str", "list"):
                cols.append(_text(name))
            elif kind == "bool":
                cols.append(sa.Column(name, sa.Boolean, nullable=False, server_default=sa.true()))
            else:
                cols.append(sa.Column(name, kinds[kind]))
        name = RECORD_SQL_TABLES[table]
        sa.Table(name, metadata, *cols,
                 sa.Column("seq", sa.Integer, nullable=False),
                 sa.Column("version", sa.Integer, nullable=False, server_default="1"),
                 _project_fk(name), *extra.get(table, []))


#: The current schema (version ``SCHEMA_VERSION``).
METADATA = sa.MetaData()
_tables(METADATA, version=3)

#: Versions 1 and 2, kept so each upgrade can be tested against a real database of that version.
V1_METADATA = sa.MetaData()
_tables(V1_METADATA, version=1)
V2_METADATA = sa.MetaData()
_tables(V2_METADATA, version=2)

_HISTORY = {1: V1_METADATA, 2: V2_METADATA, 3: METADATA}


def create_schema(conn: Connection, *, version: int = SCHEMA_VERSION) -> None:
    """Create every table of ``version`` in an empty database and record the version (inside ``conn``'s transaction)."""
    metadata = _HISTORY[version]
    metadata.create_all(conn)
    conn.execute(metadata.tables["meta"].insert(), [{"key": "schema_version", "value": str(version)}])


def read_version(conn: Connection) -> int | None:
    """The schema version recorded in ``meta``; ``None`` for a database without our tables."""
    names = set(sa.inspect(conn).get_table_names())
    if "meta" not in names:
        return None if "projects" not in names else 1
    value = conn.execute(sa.text("SELECT value FROM meta WHERE key = 'schema_version'")).scalar()
    return int(value) if value is not None else None


def _upgrade_1_to_2(conn: Connection) -> None:
    """Move the JSON attributes into ``stakeholder_attributes``; add row versions."""
    for table in ("stakeholders", "relationships", "activities"):
        conn.execute(sa.text(f"ALTER TABLE {table} ADD COLUMN version INTEGER NOT NULL DEFAULT 1"))
    METADATA.tables["stakeholder_attributes"].create(conn)
    old = pd.read_sql(sa.text("SELECT project_id, id, attributes FROM stakeholders"), conn)
    if len(old):
        parsed = old["attributes"].map(lambda text: json.loads(text) if text and text.strip() else {})
        long = pd.DataFrame({"project_id": old["project_id"], "stakeholder_id": old["id"],
                             "pairs": parsed.map(lambda d: list(d.items()))}).explode("pairs").dropna(subset="pairs")
        if len(long):
            long["attribute"] = long["pairs"].str[0].astype(str)
            long["value"] = long["pairs"].str[1].map(lambda v: "" if v is None else str(v))
            long = long.loc[long["value"] != "", ["project_id", "stakeholder_id", "attribute", "value"]]
            conn.execute(METADATA.tables["stakeholder_attributes"].insert(), long.to_dict("records"))
    conn.execute(sa.text("ALTER TABLE stakeholders DROP COLUMN attributes"))


def _upgrade_2_to_3(conn: Connection) -> None:
    """Add the co-production record's tables (empty: version 2 kept no record)."""
    for name in RECORD_SQL_TABLES.values():
        METADATA.tables[name].create(conn)


#: from-version -> the step that upgrades it by one.
MIGRATIONS: dict[int, Callable[[Connection], None]] = {1: _upgrade_1_to_2, 2: _upgrade_2_to_3}


def upgrade(conn: Connection, from_version: int) -> None:
    """Run every step from ``from_version`` to ``SCHEMA_VERSION`` inside the caller's transaction."""
    version = from_version
    while version < SCHEMA_VERSION:
        MIGRATIONS[version](conn)
        version += 1
    conn.execute(sa.text("UPDATE meta SET value = :v WHERE key = 'schema_version'"), {"v": str(version)})
