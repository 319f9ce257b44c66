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
- 4: history and privacy (see ``coprod_map.history``): ``changes`` (every row inserted, updated or
  deleted, old and new values as JSON, written by database triggers in the same transaction, so
  nothing escapes: cascades, record edits and raw SQL alike), ``actions`` (the audit trail: who, when,
  what kind, which fields; never values), ``named_snapshots`` and ``projects.retention_until``.
  History starts at the upgrade: earlier changes were never recorded.
- 5: participant voice (see ``coprod_map.participation_voice``): ``voice_links`` (a project's participant
  link: its token, on or off, which people's names the form may offer), ``voice_submissions`` (what
  participants sent, waiting for review or decided) and ``voice_ideas`` (the ideas and questions log).
  Not logged in ``changes``: a participant who withdraws is removed for good.
- 6: access (see ``coprod_map.access_store``): ``memberships`` (who may open a project when sign-in is set
  up: the person's sign-in email, their role, whether they may see private fields). Empty after the
  upgrade: until someone is added, only the deployment's admins see a project.
- 7: participation as columnar sets (see ``coprod_map.participation_sets``): the SQL table ``participation`` and
  its history triggers are gone; each project's participation is ONE Parquet payload in ``participation_sets``.
  ``changes`` gains a ``payload`` column: every save that changes participation adds one change row
  (``table_name='participation'``, ``op='batch'``, ``new`` = the counts as JSON, ``payload`` = the per-row diff).
  Participation no longer cascades in SQL: the store drops a deleted stakeholder's or activity's rows itself, in
  the same transaction. The upgrade copies each project's rows into its set without a change row; the JSON
  change rows written before it stay and keep working.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

__all__ = ["SCHEMA_VERSION", "METADATA", "V1_METADATA", "V2_METADATA", "V3_METADATA", "V4_METADATA", "V5_METADATA",
           "V6_METADATA", "VOICE_TABLES", "MIGRATIONS", "HISTORY_TABLES", "TRIGGER_TABLES", "KEYS", "RECORD_SQL_TABLES",
           "read_version", "create_schema", "trigger_tables"]

SCHEMA_VERSION = 7

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
        *([_text("retention_until")] if version >= 4 else []),
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
    if version < 7:
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
    else:
        _participation_sets(metadata)
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
    if version >= 4:
        _history_tables(metadata, version=version)
    if version >= 5:
        _voice_tables(metadata)
    if version >= 6:
        _access_tables(metadata)


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


def _participation_sets(metadata: sa.MetaData) -> None:
    """Version 7: one row per project holding all its participation (``coprod_map.participation_sets``)."""
    sa.Table(
        "participation_sets", metadata,
        _text("project_id", primary_key=True),
        sa.Column("payload", sa.LargeBinary, nullable=False),  # Parquet: stakeholder_id, activity_id, seq, notes
        sa.Column("rows", sa.Integer, nullable=False),
        _project_fk("participation_sets"),
    )


def _history_tables(metadata: sa.MetaData, *, version: int) -> None:
    """Version 4: the change log, the audit trail and named snapshots. No foreign key to ``projects``:
    a deleted project's audit row outlives it (with ``project_id`` "")."""
    sa.Table(
        "changes", metadata,
        sa.Column("seq", sa.Integer, sa.Identity(), primary_key=True),
        sa.Column("project_id", sa.Text, nullable=False),
        sa.Column("action_id", sa.Integer),  # NULL while the change's transaction is still open
        sa.Column("table_name", sa.Text, nullable=False),
        sa.Column("op", sa.Text, nullable=False),  # insert / update / delete
        sa.Column("old", sa.Text),  # the row before (JSON, without project_id); NULL for an insert
        sa.Column("new", sa.Text),  # the row after; NULL for a delete
        *([sa.Column("payload", sa.LargeBinary)] if version >= 7 else []),  # a participation batch's diff (Parquet)
        sa.Index("ix_changes_project_action", "project_id", "action_id"),
    )
    sa.Table(
        "actions", metadata,
        sa.Column("id", sa.Integer, sa.Identity(), primary_key=True),
        sa.Column("project_id", sa.Text, nullable=False),
        sa.Column("at", sa.Text, nullable=False),
        _text("actor"), _text("kind"), _text("summary"), _text("fields"),
        sa.Column("revision", sa.Integer, nullable=False, server_default="0"),
        sa.Column("reverts", sa.Integer),  # the action an undo/revert took back
        sa.Column("purged", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Index("ix_actions_project", "project_id", "id"),
    )
    sa.Table(
        "named_snapshots", metadata,
        sa.Column("id", sa.Integer, sa.Identity(), primary_key=True),
        sa.Column("project_id", sa.Text, nullable=False),
        _text("name"), sa.Column("taken_at", sa.Text, nullable=False), _text("actor"),
        sa.Column("data", sa.Text, nullable=False),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], name="fk_named_snapshots_project", **_CASCADE),
    )


#: Participant voice tables (version 5), in the order they are created.
VOICE_TABLES: tuple[str, ...] = ("voice_links", "voice_submissions", "voice_ideas")


def _voice_tables(metadata: sa.MetaData) -> None:
    """Version 5: participant links, submissions and the ideas log (``coprod_map.voice_store``).

    A submission's answers are one JSON text (``answers``); only what the queue sorts and matches on
    has a column. The link token is kept as it is: a facilitator must be able to show the link again,
    and anyone who can read this database can read the project itself.
    """
    sa.Table(
        "voice_links", metadata,
        _text("project_id", primary_key=True),
        sa.Column("token", sa.Text, nullable=False, unique=True),
        sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.false()),
        _text("people_ok"),  # ids of people whose names the form may offer, a|b
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        _project_fk("voice_links"),
    )
    sa.Table(
        "voice_submissions", metadata,
        _text("project_id", primary_key=True), _text("id", primary_key=True),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("receipt", sa.Text, nullable=False),
        sa.Column("submitted_at", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False, server_default="pending"),
        _text("name"), _text("answers"), _text("outcome"), _text("decided_at"), _text("stakeholder_id"),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.UniqueConstraint("project_id", "receipt", name="uq_voice_submissions_receipt"),
        _project_fk("voice_submissions"),
    )
    sa.Table(
        "voice_ideas", metadata,
        _text("project_id", primary_key=True), _text("id", primary_key=True),
        sa.Column("seq", sa.Integer, nullable=False),
        _text("submission_id"), _text("kind"), _text("text"), _text("raised_by"), _text("status"),
        _text("decision_id"), _text("action_id"), _text("response"), _text("raised_on"),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        _project_fk("voice_ideas"),
    )


def _access_tables(metadata: sa.MetaData) -> None:
    """Version 6: project memberships (``coprod_map.access_store``). Not logged in ``changes``: access changes
    are audit rows of their own (who gave whom which role), never map data to undo."""
    sa.Table(
        "memberships", metadata,
        _text("project_id", primary_key=True),
        _text("subject", primary_key=True),  # the sign-in email (lower case), or the provider's subject id
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("may_see_private", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("added_at", sa.Text, nullable=False),
        _text("added_by"),
        sa.CheckConstraint("role IN ('owner', 'facilitator', 'viewer')", name="ck_memberships_role"),
        _project_fk("memberships"),
        sa.Index("ix_memberships_subject", "subject"),
    )


#: The current schema (version ``SCHEMA_VERSION``).
METADATA = sa.MetaData()
_tables(METADATA, version=7)

#: Versions 1 and 2, kept so each upgrade can be tested against a real database of that version.
V1_METADATA = sa.MetaData()
_tables(V1_METADATA, version=1)
V2_METADATA = sa.MetaData()
_tables(V2_METADATA, version=2)

V3_METADATA = sa.MetaData()
_tables(V3_METADATA, version=3)

V4_METADATA = sa.MetaData()
_tables(V4_METADATA, version=4)

V5_METADATA = sa.MetaData()
_tables(V5_METADATA, version=5)

V6_METADATA = sa.MetaData()
_tables(V6_METADATA, version=6)

_HISTORY = {1: V1_METADATA, 2: V2_METADATA, 3: V3_METADATA, 4: V4_METADATA, 5: V5_METADATA, 6: V6_METADATA,
            7: METADATA}

#: Tables whose every row change is logged in ``changes`` (parents first: the order restores run in). The logical
#: list: since version 7 participation is logged by ``coprod_map.participation_sets`` (batch rows), not triggers.
HISTORY_TABLES: tuple[str, ...] = (
    "stakeholders", "activities", "stakeholder_attributes", "relationships", "participation", "reference",
    *RECORD_SQL_TABLES.values(),
)


def trigger_tables(version: int = 7) -> tuple[str, ...]:
    """The SQL tables of schema ``version`` whose row changes database triggers log."""
    return tuple(t for t in HISTORY_TABLES if version < 7 or t != "participation")


#: The tables the current schema's triggers log (``HISTORY_TABLES`` without participation).
TRIGGER_TABLES: tuple[str, ...] = trigger_tables(SCHEMA_VERSION)
#: Project columns whose changes are logged (revision and updated_at move on every save: not logged).
PROJECT_LOGGED = ("name", "description", "settings", "retention_until")


def create_schema(conn: Connection, *, version: int = SCHEMA_VERSION) -> None:
    """Create every table of ``version`` in an empty database and record the version (inside ``conn``'s transaction)."""
    metadata = _HISTORY[version]
    metadata.create_all(conn)
    if version >= 4:
        create_history_triggers(conn, version=version)
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


def _upgrade_3_to_4(conn: Connection) -> None:
    """Add the history tables, the retention date and the triggers that log every change from now on."""
    conn.execute(sa.text("ALTER TABLE projects ADD COLUMN retention_until TEXT NOT NULL DEFAULT ''"))
    for name in ("changes", "actions", "named_snapshots"):
        V4_METADATA.tables[name].create(conn)
    create_history_triggers(conn, version=4)


def _sqlite_json(prefix: str, columns: list[str], *, floats: frozenset[str] = frozenset()) -> str:
    """A row as JSON. SQLite's json_object writes a REAL with 15 significant digits (0.13999999999999999
    becomes 0.14), so REAL columns go through printf's 17 digits: history then holds the exact value."""
    def value(c: str) -> str:
        if c not in floats:
            return f'{prefix}."{c}"'
        v = f'{prefix}."{c}"'
        return (f"CASE WHEN {v} IS NULL OR typeof({v}) != 'real' OR abs({v}) > 1e308 THEN {v} "
                f"ELSE json(printf('%!.17g', {v})) END")  # anything but a finite REAL: as json_object writes it
    return "json_object(" + ", ".join(f"'{c}', {value(c)}" for c in columns) + ")"


def create_history_triggers(conn: Connection, *, version: int = SCHEMA_VERSION) -> None:
    """Triggers writing one ``changes`` row per row inserted, updated or deleted (FK cascades included), on the
    tables of schema ``version``."""
    logged = list(PROJECT_LOGGED)
    metadata = _HISTORY[version]
    if conn.dialect.name == "sqlite":
        for name in trigger_tables(version):
            cols = [c.name for c in metadata.tables[name].columns if c.name != "project_id"]
            floats = frozenset(c.name for c in metadata.tables[name].columns if isinstance(c.type, sa.Float))
            old, new = _sqlite_json("OLD", cols, floats=floats), _sqlite_json("NEW", cols, floats=floats)
            head = "INSERT INTO changes (project_id, table_name, op, old, new) VALUES"
            conn.exec_driver_sql(f"CREATE TRIGGER history_{name}_insert AFTER INSERT ON {name} BEGIN "
                                 f"{head} (NEW.project_id, '{name}', 'insert', NULL, {new}); END")
            conn.exec_driver_sql(f"CREATE TRIGGER history_{name}_update AFTER UPDATE ON {name} BEGIN "
                                 f"{head} (NEW.project_id, '{name}', 'update', {old}, {new}); END")
            conn.exec_driver_sql(f"CREATE TRIGGER history_{name}_delete AFTER DELETE ON {name} BEGIN "
                                 f"{head} (OLD.project_id, '{name}', 'delete', {old}, NULL); END")
        differs = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in logged)
        conn.exec_driver_sql(
            f"CREATE TRIGGER history_projects_update AFTER UPDATE OF {', '.join(logged)} ON projects "
            f"WHEN {differs} BEGIN INSERT INTO changes (project_id, table_name, op, old, new) VALUES "
            f"(NEW.id, 'projects', 'update', {_sqlite_json('OLD', logged)}, {_sqlite_json('NEW', logged)}); END")
        return
    pairs = lambda prefix: ", ".join(f"'{c}', {prefix}.{c}" for c in logged)  # noqa: E731
    conn.exec_driver_sql("""
        CREATE OR REPLACE FUNCTION coprod_history_row() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP = 'INSERT' THEN
            INSERT INTO changes (project_id, table_name, op, old, new)
            VALUES (NEW.project_id, TG_TABLE_NAME, 'insert', NULL, (to_jsonb(NEW) - 'project_id')::text);
            RETURN NEW;
          ELSIF TG_OP = 'UPDATE' THEN
            INSERT INTO changes (project_id, table_name, op, old, new)
            VALUES (NEW.project_id, TG_TABLE_NAME, 'update', (to_jsonb(OLD) - 'project_id')::text,
                    (to_jsonb(NEW) - 'project_id')::text);
            RETURN NEW;
          END IF;
          INSERT INTO changes (project_id, table_name, op, old, new)
          VALUES (OLD.project_id, TG_TABLE_NAME, 'delete', (to_jsonb(OLD) - 'project_id')::text, NULL);
          RETURN OLD;
        END $$""")
    conn.exec_driver_sql(f"""
        CREATE OR REPLACE FUNCTION coprod_history_project() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          INSERT INTO changes (project_id, table_name, op, old, new)
          VALUES (NEW.id, 'projects', 'update', jsonb_build_object({pairs('OLD')})::text,
                  jsonb_build_object({pairs('NEW')})::text);
          RETURN NEW;
        END $$""")
    for name in trigger_tables(version):
        conn.exec_driver_sql(f"CREATE TRIGGER history_{name} AFTER INSERT OR UPDATE OR DELETE ON {name} "
                             "FOR EACH ROW EXECUTE FUNCTION coprod_history_row()")
    differs = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in logged)
    conn.exec_driver_sql(f"CREATE TRIGGER history_projects AFTER UPDATE OF {', '.join(logged)} ON projects "
                         f"FOR EACH ROW WHEN ({differs}) EXECUTE FUNCTION coprod_history_project()")


def _upgrade_4_to_5(conn: Connection) -> None:
    """Add the participant voice tables (empty: version 4 had no participant links)."""
    for name in VOICE_TABLES:
        METADATA.tables[name].create(conn)


def _upgrade_5_to_6(conn: Connection) -> None:
    """Add the memberships table (empty: version 5 had no sign-in)."""
    METADATA.tables["memberships"].create(conn)


def _upgrade_6_to_7(conn: Connection) -> None:
    """Participation into columnar sets: ``participation_sets`` and ``changes.payload`` added, each project's rows
    copied into its set (ordered by seq; no change row: an upgrade is not a user's change), the participation
    triggers and table dropped. The JSON change rows already written stay as they are."""
    from coprod_map import participation_sets

    METADATA.tables["participation_sets"].create(conn)
    blob = sa.LargeBinary().compile(dialect=conn.dialect)
    conn.exec_driver_sql(f"ALTER TABLE changes ADD COLUMN payload {blob}")
    rows = pd.read_sql(sa.text("SELECT project_id, stakeholder_id, activity_id, seq, notes FROM participation "
                               "ORDER BY project_id, seq"), conn)
    for project_id, mine in rows.groupby("project_id", sort=False):
        participation_sets.store_set(conn, str(project_id), mine.drop(columns="project_id"))
    if conn.dialect.name == "sqlite":
        for op in ("insert", "update", "delete"):
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS history_participation_{op}")
    else:
        conn.exec_driver_sql("DROP TRIGGER IF EXISTS history_participation ON participation")
    conn.exec_driver_sql("DROP TABLE participation")


#: from-version -> the step that upgrades it by one.
MIGRATIONS: dict[int, Callable[[Connection], None]] = {1: _upgrade_1_to_2, 2: _upgrade_2_to_3, 3: _upgrade_3_to_4,
                                                       4: _upgrade_4_to_5, 5: _upgrade_5_to_6, 6: _upgrade_6_to_7}


def upgrade(conn: Connection, from_version: int) -> None:
    """Run every step from ``from_version`` to ``SCHEMA_VERSION`` inside the caller's transaction."""
    version = from_version
    while version < SCHEMA_VERSION:
        MIGRATIONS[version](conn)
        version += 1
    conn.execute(sa.text("UPDATE meta SET value = :v WHERE key = 'schema_version'"), {"v": str(version)})
