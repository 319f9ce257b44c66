"""The command line, run for real: ``.venv/bin/python -m coprod_map ...`` against a temporary SQLite file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from coprod_map.store import Store

ROOT = Path(__file__).resolve().parents[2]
PYTHON = ROOT / ".venv" / "bin" / "python"
COMMANDS = ["projects", "import", "validate", "export", "demo"]

PEOPLE = "id,name,kind,area\n007,James,person,north\nNA,NA,group,south\ns3,Riverside Trust,organisation,north\n"
TIES = "id,source,target,type\nr1,007,NA,knows\nr2,s3,007,funds\n"
BAD_TIES = "id,source,target,type\nr1,007,ghost,knows\nr2,s3,007,funds\n"


def run(*args: str, db: str | None = None) -> subprocess.CompletedProcess:
    command = [str(PYTHON if PYTHON.exists() else sys.executable), "-m", "coprod_map", *args]
    if db:
        command += ["--db", db]
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=120)


@pytest.fixture
def db(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


@pytest.fixture
def files(tmp_path) -> dict[str, Path]:
    paths = {}
    for name, text in {"stakeholders.csv": PEOPLE, "relationships.csv": TIES, "bad/relationships.csv": BAD_TIES}.items():
        path = tmp_path / name
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
        paths[name] = path
    return paths


@pytest.mark.parametrize("command", [[], *[[c] for c in COMMANDS]])
def test_help_works_for_every_command(command):
    result = run(*command, "--help")
    assert result.returncode == 0, result.stderr
    assert "usage:" in result.stdout
    if command:
        assert command[0] in result.stdout


@pytest.mark.parametrize("args", [[], ["nonsense"], ["import", "x.csv"], ["export", "--project", "p", "--out", "x"],
                                  ["export", "--project", "p", "--format", "pdf", "--out", "x"]])
def test_usage_errors_exit_2(args, db):
    result = run(*args, db=db)
    assert result.returncode == 2 and "usage:" in result.stderr


def test_projects_on_an_empty_database(db):
    result = run("projects", db=db)
    assert result.returncode == 0 and "No projects yet" in result.stdout


def test_import_creates_the_project_and_saves_the_rows(db, files):
    result = run("import", "--project", "Riverside", str(files["stakeholders.csv"]), str(files["relationships.csv"]), db=db)
    assert result.returncode == 0, result.stderr
    assert "3 stakeholders" in result.stdout and "2 relationships" in result.stdout
    store = Store(db)
    project = store.load(store.find_project("Riverside"))
    store.close()
    assert project.stakeholders["id"].tolist() == ["007", "NA", "s3"] and project.stakeholders["name"][1] == "NA"
    assert project.relationships[["source", "target"]].values.tolist() == [["007", "NA"], ["s3", "007"]]
    listed = run("projects", db=db)
    assert listed.returncode == 0 and "Riverside" in listed.stdout


def test_refused_import_exits_1_names_the_place_and_saves_nothing(db, files):
    result = run("import", "--project", "Riverside", str(files["stakeholders.csv"]), str(files["bad/relationships.csv"]),
                 db=db)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert any(line.startswith("relationships.csv, row 2, column 'target'") and "ghost" in line for line in lines), lines
    assert "nothing was imported" in lines[-1]
    store = Store(db)
    assert store.list_projects().empty  # not even an empty project was left behind
    store.close()


def test_import_into_an_existing_project_merges(db, files):
    assert run("import", "--project", "Riverside", str(files["stakeholders.csv"]), db=db).returncode == 0
    assert run("import", "--project", "riverside", str(files["relationships.csv"]), db=db).returncode == 0
    store = Store(db)
    pid = store.find_project("Riverside")
    assert store.revision(pid) == 2 and store.load(pid).counts()["relationships"] == 2
    store.close()


def test_validate_reports_and_changes_nothing(db, files, tmp_path):
    good = run("validate", str(files["stakeholders.csv"]), str(files["relationships.csv"]), db=db)
    assert good.returncode == 0 and "No problems" in good.stdout, good.stderr
    bad = run("validate", str(files["stakeholders.csv"]), str(files["bad/relationships.csv"]), db=db)
    assert bad.returncode == 1 and "relationships.csv, row 2, column 'target'" in bad.stderr
    assert not (tmp_path / "cli.db").exists()
    missing = run("validate", str(tmp_path / "nope.csv"))
    assert missing.returncode == 1 and "nope.csv" in missing.stderr


@pytest.fixture(scope="module")
def exported_db(tmp_path_factory) -> str:
    """A database holding one imported project, built in-process once for the export tests."""
    from coprod_map.io.read import read_files

    url = f"sqlite:///{tmp_path_factory.mktemp('export') / 'cli.db'}"
    store = Store(url)
    staged = read_files([("stakeholders.csv", PEOPLE.encode()), ("relationships.csv", TIES.encode())])
    store.import_project(store.create_project("Riverside"), staged.project)
    store.close()
    return url


@pytest.mark.parametrize("fmt", ["bundle", "xlsx", "kumu", "gephi", "graphml", "gexf", "json"])
def test_export_writes_each_format(exported_db, tmp_path, fmt):
    out = tmp_path / "out"
    out.mkdir()
    result = run("export", "--project", "Riverside", "--format", fmt, "--out", str(out), db=exported_db)
    assert result.returncode == 0, result.stderr
    written = list(out.iterdir())
    assert len(written) == 1 and written[0].stat().st_size > 0
    data = written[0].read_bytes()
    if fmt in ("bundle", "xlsx", "kumu", "gephi"):
        assert data[:2] == b"PK" or b"007" in data
    if fmt == "json":
        assert "007" in json.dumps(json.loads(data))
    if fmt in ("graphml", "gexf"):
        assert b"007" in data and data.lstrip().startswith(b"<?xml")
    if fmt != "json":
        return
    named = tmp_path / "chosen.json"
    assert run("export", "--project", "Riverside", "--format", fmt, "--out", str(named), db=exported_db).returncode == 0
    assert named.read_bytes() == data  # a file path is used as given


def test_export_of_an_unknown_project_exits_1(db):
    result = run("export", "--project", "Nope", "--format", "json", "--out", "/tmp/never.json", db=db)
    assert result.returncode == 1 and "No project" in result.stderr


def test_demo_loads_the_sample_once(db):
    first = run("demo", db=db)
    assert first.returncode == 0, first.stderr
    again = run("demo", db=db)
    assert again.returncode == 0, again.stderr
    store = Store(db)
    listed = store.list_projects()
    store.close()
    assert len(listed) == 1 and listed["stakeholders"].iloc[0] > 0


def test_database_in_a_missing_folder_exits_1(tmp_path):
    result = run("projects", db=f"sqlite:///{tmp_path / 'no' / 'such' / 'x.db'}")
    assert result.returncode == 1 and "folder" in result.stderr
    assert not (tmp_path / "no").exists()
