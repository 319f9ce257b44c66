"""A real PostgreSQL server for tests, started once per session in a temporary folder.

Fixtures: ``pg_server`` (session; the server's base URL) and ``pg_url`` (a fresh, empty database of
the test's own). As root, ``initdb`` refuses to run, so the cluster is made by the ``postgres`` user
with ``runuser``. Tests are skipped, with the reason shown, only when the PostgreSQL binaries are missing.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

PG_BIN_DIRS = [Path("/usr/lib/postgresql") / v / "bin" for v in ("17", "16", "15", "14", "13")]
USER = "coprod"


def _pg_bin() -> Path | None:
    configured = os.environ.get("COPROD_MAP_PG_BIN")
    candidates = [Path(configured)] if configured else []
    candidates += PG_BIN_DIRS
    found = shutil.which("initdb")
    if found:
        candidates.append(Path(found).parent)
    for folder in candidates:
        if (folder / "initdb").exists() and (folder / "pg_ctl").exists():
            return folder
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_postgres(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


_RUNNING: dict[str, object] = {"url": None, "users": 0, "stop": None}


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """Start a throwaway PostgreSQL cluster; yield ``postgresql+psycopg://coprod@127.0.0.1:PORT``.

    One server per test process, however many modules import this fixture (each import makes its own
    fixture definition): the first starts it, the last to finish stops it.
    """
    if _RUNNING["url"] is None:
        _RUNNING["url"], _RUNNING["stop"] = _start()
    _RUNNING["users"] = int(_RUNNING["users"]) + 1
    try:
        yield str(_RUNNING["url"])
    finally:
        _RUNNING["users"] = int(_RUNNING["users"]) - 1
        if _RUNNING["users"] == 0:
            stop, _RUNNING["url"], _RUNNING["stop"] = _RUNNING["stop"], None, None
            stop()


def _start():
    bin_dir = _pg_bin()
    if bin_dir is None:
        pytest.skip("PostgreSQL binaries (initdb, pg_ctl) are not installed; install Debian's postgresql package")
    root = Path(tempfile.mkdtemp(prefix="coprod_pg_"))
    data, log = root / "data", root / "log"
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    port = _free_port()
    run = {"check": True, "capture_output": True, "text": True, "timeout": 60}
    try:
        subprocess.run(_as_postgres([str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", USER,
                                     "--no-sync", "-E", "UTF8"]), **run)
        subprocess.run(_as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w",
                                     "-o", f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off",
                                     "start"]), **run)
    except subprocess.CalledProcessError as error:
        text = log.read_text() if log.exists() else ""
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"PostgreSQL did not start: {error.stderr}\n{text}") from error

    def stop() -> None:
        subprocess.run(_as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]),
                       capture_output=True, timeout=60)
        shutil.rmtree(root, ignore_errors=True)

    return f"postgresql+psycopg://{USER}@127.0.0.1:{port}", stop


@pytest.fixture
def pg_url(pg_server: str) -> Iterator[str]:
    """A new empty database on the session's server, dropped after the test."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    plain = pg_server.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(f"{plain}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"{pg_server}/{name}"
    with psycopg.connect(f"{plain}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
