"""The package stays pure: only coprod_map/ui imports Streamlit, and nothing is loaded from a CDN."""

from __future__ import annotations

import ast
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    roots = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    roots |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    return roots


def test_only_ui_imports_streamlit():
    for path in (ROOT / "coprod_map").rglob("*.py"):
        if "ui" in path.relative_to(ROOT / "coprod_map").parts:
            continue
        assert "streamlit" not in imported_roots(path), f"{path} imports streamlit; move that code to coprod_map/ui/"


def test_no_source_file_names_a_cdn():
    files = subprocess.run(["git", "ls-files", "*.py", "*.toml", "*.html", "*.js"], cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout.split()
    cdn = re.compile(r"https?://(cdn\.|unpkg\.com|cdnjs\.|fonts\.googleapis)")
    offenders = [f for f in files if not f.startswith("tests/") and cdn.search((ROOT / f).read_text(encoding="utf-8"))]
    assert not offenders


def test_app_config_is_offline_and_private():
    import tomllib

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["browser"]["gatherUsageStats"] is False
    assert config["client"]["showErrorDetails"] == "none"
    assert config["server"]["address"] == "127.0.0.1"
    assert 0 < config["server"]["maxUploadSize"] <= 50
