"""Errors raised by coprod_map.

CoprodError                 base of everything we raise on purpose
├── ImportRejected          a file (or several) could not be imported; carries every Problem
├── EditRejected            an edit in the browser or CLI broke a rule; carries every Problem
├── ProjectNotFound         no project with that id or name
└── StoreError              the database could not be opened or written (message is safe to show)

A ``Problem`` says where something is wrong the way a spreadsheet user sees it: file, 1-based
sheet row (header = row 1) and column name, then what is wrong and how to fix it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import pandas as pd

__all__ = [
    "CoprodError",
    "EditRejected",
    "ImportRejected",
    "Problem",
    "ProjectNotFound",
    "StoreError",
    "problems_frame",
]


class CoprodError(Exception):
    """Base class for errors coprod_map raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong in an input, located the way a spreadsheet shows it."""

    file: str
    row: int | None  # 1-based sheet row, header included; None when the whole file is wrong
    column: str | None
    message: str

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column '{self.column}'")
        return f"{', '.join(where)}: {self.message}"


def problems_frame(problems: list[Problem]) -> pd.DataFrame:
    """Problems as a table (file, row, column, problem): the form the app shows them in."""
    columns = ["file", "row", "column", "message"]
    frame = pd.DataFrame([asdict(p) for p in problems], columns=columns)
    frame["row"] = frame["row"].astype("Int64")
    return frame.rename(columns={"message": "what to fix"})


class _ProblemsError(CoprodError):
    verb = "changed"

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(f"{count} {noun} found; nothing was {self.verb}")

    def details(self) -> str:
        """Every problem, one line each."""
        return "\n".join(str(p) for p in self.problems)


class ImportRejected(_ProblemsError):
    """Raised with every problem found in the files. Nothing was saved."""

    verb = "imported"


class EditRejected(_ProblemsError):
    """Raised with every problem found in an edit. Nothing was saved."""

    verb = "saved"


class ProjectNotFound(CoprodError):
    """No project has that id or name."""


class StoreError(CoprodError):
    """The database could not be opened, read or written. The message is safe to show users."""
