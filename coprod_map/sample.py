"""The sample project: an invented redesign of Riverside's community mental-health service.

The files live in ``sample_data/riverside/`` (CSV bundle plus ``settings.json``) and are written by
``sample_data/build_sample.py``. Loading goes through the same reader and store calls as any
upload, so the sample also exercises the real import path.
"""

from __future__ import annotations

from pathlib import Path

from coprod_map.errors import CoprodError, EditRejected, ProjectNotFound
from coprod_map.model import ProjectSettings

__all__ = ["SAMPLE_DESCRIPTION", "SAMPLE_DIR", "SAMPLE_NAME", "load_sample", "load_sample_record",
           "sample_files", "sample_record_files", "sample_settings"]

SAMPLE_NAME = "Sample: Riverside mental health redesign"
SAMPLE_DESCRIPTION = (
    "An invented project for trying the app: redesigning a community mental-health service in the "
    "fictional town of Riverside. Every person, organisation and figure is made up."
)
SAMPLE_DIR = Path(__file__).resolve().parents[1] / "sample_data" / "riverside"
SETTINGS_FILE = "settings.json"


def sample_files() -> list[tuple[str, bytes]]:
    """``(file name, bytes)`` of every sample file: one CSV per table, then ``settings.json``."""
    if not SAMPLE_DIR.is_dir():
        raise CoprodError("The sample files are missing. Run: python sample_data/build_sample.py")
    paths = sorted(SAMPLE_DIR.glob("*.csv")) + [SAMPLE_DIR / SETTINGS_FILE]
    return [(path.name, path.read_bytes()) for path in paths if path.is_file()]


def sample_settings(files: list[tuple[str, bytes]] | None = None) -> ProjectSettings:
    """The sample's settings (attribute categories, relationship types, review cycles)."""
    import json

    for name, data in files if files is not None else sample_files():
        if name == SETTINGS_FILE:
            return ProjectSettings.from_dict(json.loads(data.decode("utf-8")))
    return ProjectSettings()


def load_sample(store, *, name: str = SAMPLE_NAME) -> str:
    """The id of the project called ``name``, creating it from the sample files the first time.

    Settings are saved before the rows are imported, so the import is checked against the
    sample's categories. If the import is refused, the new project is removed again and the
    error raised, so a half-made sample never lingers.
    """
    from coprod_map.io.read import read_files

    try:
        return store.find_project(name)
    except ProjectNotFound:
        pass
    files = sample_files()
    settings = sample_settings(files)
    staged = read_files([(n, d) for n, d in files if n.endswith(".csv")])
    try:
        project_id = store.create_project(name, description=SAMPLE_DESCRIPTION, settings=settings)
    except EditRejected:  # another session created it a moment ago
        return store.find_project(name)
    try:
        store.save_settings(project_id, settings)
        store.import_project(project_id, staged.project, replace=True)
        load_sample_record(store, project_id)
    except Exception:
        store.delete_project(project_id)
        raise
    return project_id


RECORD_DIR = "record"


def sample_record_files() -> list[tuple[str, bytes]]:
    """``(record/<table>.csv, bytes)`` of the sample's co-production record."""
    folder = SAMPLE_DIR / RECORD_DIR
    return [(f"{RECORD_DIR}/{path.name}", path.read_bytes()) for path in sorted(folder.glob("*.csv"))]


def load_sample_record(store, project_id: str) -> int:
    """Save the sample's record into ``project_id`` (replacing any record it has), then keep a snapshot of
    the figures for each review cycle that has ended by the last activity, as a facilitator would have.
    Returns the project's revision."""
    from coprod_map.analysis.record import snapshot_rows
    from coprod_map.record import Record, read_record_files
    from coprod_map.record_store import apply_record_edits, import_record

    record: Record = read_record_files(sample_record_files())
    revision = import_record(store, project_id, record, replace=True)
    project = store.load(project_id)
    dates = sorted(d for d in project.activities["date"].astype(str) if d)
    last = dates[-1] if dates else ""
    for cycle in project.settings.cycles:
        if cycle.get("end") and last and cycle["end"] < last:
            rows = snapshot_rows(project, cycle=cycle["name"], taken_at=cycle["end"])
            revision = apply_record_edits(store, project_id, "snapshots", upserts=rows)
    return revision
