"""The command line: ``python -m coprod_map COMMAND``.

Exit codes: 0 done; 1 input refused or the database could not be used (messages on stderr, one
problem per line as ``file, row N, column 'x': message``); 2 the command itself was wrong (argparse).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from coprod_map.errors import Problem

__all__ = ["main", "build_parser"]

EXPORT_FORMATS = ("bundle", "xlsx", "kumu", "gephi", "graphml", "gexf", "json")


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", metavar="URL", default=argparse.SUPPRESS,
                        help="SQLAlchemy database URL (default: $COPROD_MAP_DB, else a SQLite file in your data folder)")
    parser = argparse.ArgumentParser(
        prog="python -m coprod_map", parents=[common],
        description="Participation mapping for co-production: keep projects, import and check files, export.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    commands.add_parser("projects", parents=[common], help="list the projects in the database",
                        description="List every project with its revision and the number of rows in each table.")

    imp = commands.add_parser("import", parents=[common], help="import files into a project (created if needed)",
                              description="Check the files, then import them into the project in one step. "
                                          "Nothing is saved if any problem is found.")
    imp.add_argument("--project", required=True, metavar="NAME", help="project name or id")
    imp.add_argument("--replace", action="store_true", help="replace the project's data instead of merging into it")
    imp.add_argument("files", nargs="+", metavar="FILE", type=Path, help="CSV, XLSX, ZIP, GraphML or GEXF files")

    val = commands.add_parser("validate", parents=[common], help="check files and report every problem",
                              description="Check files the way import does. Changes nothing.")
    val.add_argument("files", nargs="+", metavar="FILE", type=Path)

    exp = commands.add_parser("export", parents=[common], help="export a project to a file",
                              description="Write a project in one of the export formats.")
    exp.add_argument("--project", required=True, metavar="NAME", help="project name or id")
    exp.add_argument("--format", required=True, choices=EXPORT_FORMATS, dest="fmt")
    exp.add_argument("--out", required=True, metavar="PATH", type=Path,
                     help="file to write, or an existing folder to write the suggested file name into")
    exp.add_argument("--no-private", action="store_true", dest="no_private",
                     help="leave people's stated needs out (bundle, xlsx and json carry the co-production record)")

    commands.add_parser("demo", parents=[common], help="add the sample project",
                        description="Load the sample project into the database (once).")
    _add_output_commands(commands, common)
    _add_backup_commands(commands, common)
    return parser


def _add_output_commands(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """The analysts' outputs: the steering-group report, the gap table and the network measures."""
    rep = commands.add_parser("report", parents=[common], help="write the steering-group report (one HTML file)",
                              description="Write the steering-group report: one self-contained HTML file that opens "
                                          "offline and prints well. Small numbers are suppressed; needs and notes "
                                          "are never included.")
    rep.add_argument("--project", required=True, metavar="NAME", help="project name or id")
    rep.add_argument("--out", required=True, metavar="PATH.html", type=Path, help="the HTML file to write")
    rep.add_argument("--min-cell", type=int, metavar="N", default=None,
                     help="smallest count shown (default: the project's setting)")
    rep.add_argument("--name-people", action="store_true",
                     help="name individual people (default: roles and counts only)")

    gaps = commands.add_parser("gaps", parents=[common], help="write the gap table (who is affected vs involved)",
                               description="Write the representation gap table: one row per attribute and "
                                           "category. Shares are fractions 0-1; small counts are blanked.")
    gaps.add_argument("--project", required=True, metavar="NAME", help="project name or id")
    gaps.add_argument("--by", nargs="+", metavar="ATTR", default=None,
                      help="attributes to compare (default: every project attribute)")
    gaps.add_argument("--pairs", action="store_true", help="also every pair of the attributes")
    gaps.add_argument("--mode", choices=("auto", "population", "register"), default="auto",
                      help="compare with the reference population or with the stakeholders marked as affected "
                           "(default: population when the project has a reference table)")
    gaps.add_argument("--min-cell", type=int, metavar="N", default=None,
                      help="smallest count shown (default: the project's setting)")
    _add_format(gaps)

    met = commands.add_parser("metrics", parents=[common], help="write the network measures per stakeholder",
                              description="Write one row per stakeholder: id, name, degree, betweenness, community "
                                          "and the broker measures.")
    met.add_argument("--project", required=True, metavar="NAME", help="project name or id")
    _add_format(met)


def _add_format(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=("csv", "json"), default="csv", dest="fmt", help="default: csv")
    parser.add_argument("--out", metavar="PATH", type=Path, default=None, help="file to write (default: standard output)")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # Imported after parsing so that --help and usage errors answer at once (pandas is slow to import).
    from coprod_map.errors import CoprodError, EditRejected, ImportRejected

    try:
        return _COMMANDS[args.command](args)
    except (ImportRejected, EditRejected) as error:
        _fail(str(error), error.problems)
    except CoprodError as error:
        _fail(str(error), [])
    return 1


def _fail(headline: str, problems: list[Problem]) -> None:
    for problem in problems:
        print(str(problem), file=sys.stderr)
    print(headline, file=sys.stderr)


def _store(args: argparse.Namespace):
    from coprod_map.store import Store

    return Store(getattr(args, "db", None))


def _read(paths: list[Path]) -> list[tuple[str, bytes]]:
    from coprod_map.errors import ImportRejected, Problem

    files, problems = [], []
    for path in paths:
        try:
            files.append((path.name, path.read_bytes()))
        except OSError as error:
            problems.append(Problem(str(path), None, None, f"could not be read ({error.strerror or 'unknown error'})."))
    if problems:
        raise ImportRejected(problems)
    return files


def _projects(args: argparse.Namespace) -> int:
    store = _store(args)
    try:
        frame = store.list_projects()
    finally:
        store.close()
    if frame.empty:
        print("No projects yet. Add one with: python -m coprod_map import --project NAME FILE")
        return 0
    print(frame.to_string(index=False))
    return 0


def _import(args: argparse.Namespace) -> int:
    from coprod_map.errors import CoprodError, ProjectNotFound
    from coprod_map.io.read import read_files
    from coprod_map.record_store import import_with_record

    files = _read(args.files)
    store = _store(args)
    try:
        try:
            project_id, created = store.find_project(args.project), False
        except ProjectNotFound:
            project_id, created = None, True
        existing = store.load(project_id) if project_id and not args.replace else None
        staged = read_files(files, existing=existing)
        if created:
            project_id = store.create_project(args.project)
        try:
            revision = import_with_record(store, project_id, staged.project, staged.record,
                                          tables=staged.record_tables, replace=args.replace)
        except CoprodError:
            if created:  # a refused import leaves no empty project behind
                store.delete_project(project_id)
            raise
        for notice in staged.notices:
            print(notice)
        counts = ", ".join(f"{n} {table}" for table, n in staged.project.counts().items() if n)
        if staged.record is not None:
            kept = {t: n for t, n in staged.record.counts().items() if t in staged.record_tables}
            counts += f"; the record: {', '.join(f'{n} {t}' for t, n in kept.items())}"
        print(f"Imported {counts or 'nothing'} into '{args.project}' (revision {revision}).")
    finally:
        store.close()
    return 0


def _validate(args: argparse.Namespace) -> int:
    from coprod_map.io.read import check_files

    problems = check_files(_read(args.files))
    if problems:
        _fail(f"{len(problems)} {'problem' if len(problems) == 1 else 'problems'} found; nothing was changed", problems)
        return 1
    print(f"No problems found in {len(args.files)} {'file' if len(args.files) == 1 else 'files'}.")
    return 0


def _export(args: argparse.Namespace) -> int:
    from coprod_map.errors import CoprodError
    from coprod_map.io.export import export_project
    from coprod_map.record_store import load_record

    store = _store(args)
    try:
        project_id = store.find_project(args.project)
        info = store.project_info(project_id)
        project = store.load(project_id)
        record = load_record(store, project_id)
    finally:
        store.close()
    filename, data, _mime = export_project(project, args.fmt, name=info.name, record=record,
                                           private=not args.no_private)
    target = args.out / filename if args.out.is_dir() else args.out
    try:
        target.write_bytes(data)
    except OSError as error:
        raise CoprodError(f"Could not write {target}: {error.strerror or 'unknown error'}.") from None
    print(f"Wrote {target} ({len(data):,} bytes).")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from coprod_map.sample import SAMPLE_NAME, load_sample

    store = _store(args)
    try:
        project_id = load_sample(store)
        info = store.project_info(project_id)
        counts = store.load(project_id).counts()
    finally:
        store.close()
    print(f"The sample project '{info.name or SAMPLE_NAME}' is ready (id {project_id}): "
          + ", ".join(f"{n} {table}" for table, n in counts.items()) + ".")
    return 0


_COMMANDS = {"projects": _projects, "import": _import, "validate": _validate, "export": _export, "demo": _demo}


# --- analysts' outputs: report, gaps, metrics -----------------------------------------------------

def _load(args: argparse.Namespace):
    """``(ProjectInfo, Project, record or None)`` for ``--project``."""
    from coprod_map.report import load_record

    store = _store(args)
    try:
        project_id = store.find_project(args.project)
        info = store.project_info(project_id)
        project = store.load(project_id)
        project.name = project.name or info.name
        record = load_record(store, project_id) if args.command == "report" else None
    finally:
        store.close()
    return info, project, record


def _min_cell(value: int | None) -> int | None:
    from coprod_map.errors import CoprodError

    if value is not None and value < 1:
        raise CoprodError(f"--min-cell must be 1 or more; got {value}.")
    return value


def _write(target: Path, data: bytes) -> None:
    from coprod_map.errors import CoprodError

    try:
        target.write_bytes(data)
    except OSError as error:
        raise CoprodError(f"Could not write {target}: {error.strerror or 'unknown error'}.") from None


def _table_text(frame, fmt: str) -> str:
    """CSV (text cells formula-neutralised, numbers as numbers) or JSON records (blanks as null)."""
    import pandas as pd

    from coprod_map.io.cells import neutralise_series

    if fmt == "json":
        return frame.to_json(orient="records", force_ascii=False, indent=2, double_precision=15) + "\n"
    safe = pd.DataFrame(index=frame.index)
    for column in frame.columns:
        values = frame[column]
        if pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype):
            safe[column] = values
        else:
            safe[column] = neutralise_series(values.astype(object).where(values.notna(), "").astype(str))
    return safe.to_csv(index=False, lineterminator="\n")


def _emit(args: argparse.Namespace, frame, what: str) -> int:
    text = _table_text(frame, args.fmt)
    if args.out is None:
        sys.stdout.write(text)
    else:
        _write(args.out, text.encode("utf-8"))
        print(f"Wrote {what} for {len(frame):,} rows to {args.out}.")
    return 0


def _report(args: argparse.Namespace) -> int:
    from coprod_map.errors import CoprodError
    from coprod_map.report import build_report

    min_cell = _min_cell(args.min_cell)
    _info, project, record = _load(args)
    try:
        page = build_report(project, record=record, min_cell=min_cell, name_people=args.name_people)
    except ValueError as error:
        raise CoprodError(str(error)) from None
    target = args.out / "report.html" if args.out.is_dir() else args.out
    _write(target, page.encode("utf-8"))
    print(f"Wrote the report to {target} ({len(page.encode('utf-8')):,} bytes).")
    return 0


def _gaps(args: argparse.Namespace) -> int:
    from coprod_map.analysis.representation import GAP_COLUMNS, attribute_choices, gap_report
    from coprod_map.errors import CoprodError

    min_cell = _min_cell(args.min_cell)
    _info, project, _ = _load(args)
    mode = args.mode
    if mode == "auto":
        mode = "population" if len(project.reference) else "register"
    if args.by:
        known = attribute_choices(project, mode=mode)
        unknown = [b for b in args.by if b not in known]
        if unknown:
            raise CoprodError(f"--by: {', '.join(map(repr, unknown))} cannot be compared in {mode} mode. "
                              f"Expected one of: {', '.join(known) or '(none: add attributes first)'}.")
    try:
        table = gap_report(project, by=args.by, pairs=args.pairs, mode=mode, min_cell=min_cell)
    except ValueError as error:
        raise CoprodError(str(error)) from None
    return _emit(args, table[GAP_COLUMNS], "the gap table")


def _metrics(args: argparse.Namespace) -> int:
    from coprod_map.analysis.network import metrics_table

    _info, project, _ = _load(args)
    return _emit(args, metrics_table(project), "the network measures")


_COMMANDS.update({"report": _report, "gaps": _gaps, "metrics": _metrics})


# --- backup and restore (coprod_map.backup) -------------------------------------------------------

def _add_backup_commands(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    bak = commands.add_parser("backup", parents=[common], help="write a consistent backup of the whole database",
                              description="Copy the whole SQLite database to one file, safely while the app is in "
                                          "use. For PostgreSQL, use pg_dump (the message says how).")
    bak.add_argument("--out", required=True, metavar="PATH", type=Path, help="the backup file to write")
    res = commands.add_parser("restore", parents=[common], help="add the projects of a backup file as new projects",
                              description="Check a backup file, then add its projects to the database as NEW "
                                          "projects. Nothing already there is changed or overwritten.")
    res.add_argument("file", metavar="FILE", type=Path, help="a backup made with 'backup' or the app")
    res.add_argument("--project", action="append", metavar="ID", dest="projects",
                     help="restore only this project of the backup (repeat for more; default: all)")


def _backup(args: argparse.Namespace) -> int:
    from coprod_map.backup import backup_sqlite

    store = _store(args)
    try:
        path = backup_sqlite(store, args.out)
    finally:
        store.close()
    print(f"Backup written to {path}")
    return 0


def _restore(args: argparse.Namespace) -> int:
    from coprod_map.backup import restore_backup

    store = _store(args)
    try:
        done = restore_backup(store, args.file, project_ids=args.projects, actor="command line")
    finally:
        store.close()
    for item in done:
        print(f"Restored '{item.name}' as project {item.new_id} (it was {item.backup_id} in the backup)")
    return 0


_COMMANDS.update({"backup": _backup, "restore": _restore})
