"""Projects in a real database: SQLAlchemy 2 over SQLite by default, PostgreSQL through the same code.

INTERFACE STUB written by the lead: the signatures and docstrings below are the contract the rest
of the package and the app code against. The store helper fills in the bodies.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from coprod_map.model import Project, ProjectSettings

__all__ = ["ProjectInfo", "Store", "default_database_url"]


def default_database_url() -> str:
    """``COPROD_MAP_DB`` if set, else SQLite at ``~/.local/share/coprod_map/coprod_map.db``
    (``$XDG_DATA_HOME`` respected). The folder is created when missing."""
    raise NotImplementedError


@dataclass(frozen=True)
class ProjectInfo:
    id: str
    name: str
    description: str
    revision: int
    created_at: str  # ISO 8601 UTC, seconds
    updated_at: str
    settings: ProjectSettings


class Store:
    """One database holding many projects, each kept apart by ``project_id``.

    Every method that changes data runs in one transaction and returns the project's new
    revision (an int that grows by one with each change). Bad edits raise ``EditRejected``,
    bad imports ``ImportRejected``; in both cases nothing was written.
    """

    def __init__(self, url: str | None = None) -> None:
        raise NotImplementedError

    @property
    def url_display(self) -> str:
        """The database URL with any password masked."""
        raise NotImplementedError

    def list_projects(self) -> pd.DataFrame:
        """Columns: id, name, description, revision, updated_at, and the row count of each table."""
        raise NotImplementedError

    def create_project(self, name: str, *, description: str = "", settings: ProjectSettings | None = None) -> str:
        raise NotImplementedError

    def find_project(self, name_or_id: str) -> str:
        raise NotImplementedError

    def project_info(self, project_id: str) -> ProjectInfo:
        raise NotImplementedError

    def revision(self, project_id: str) -> int:
        raise NotImplementedError

    def rename_project(self, project_id: str, name: str, *, description: str | None = None) -> int:
        raise NotImplementedError

    def copy_project(self, project_id: str, name: str) -> str:
        raise NotImplementedError

    def delete_project(self, project_id: str) -> None:
        raise NotImplementedError

    def load(self, project_id: str) -> Project:
        raise NotImplementedError

    def save_settings(self, project_id: str, settings: ProjectSettings) -> int:
        raise NotImplementedError

    def import_project(self, project_id: str, incoming: Project, *, replace: bool = False) -> int:
        raise NotImplementedError

    def apply_edits(
        self,
        project_id: str,
        table: str,
        *,
        upserts: pd.DataFrame | None = None,
        deletes: list | None = None,
    ) -> int:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError
