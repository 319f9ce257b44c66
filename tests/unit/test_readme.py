"""The README stays true: its two commands exist and every setting the code reads is documented."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_environment_setting_the_code_reads_is_in_the_readme():
    code = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "coprod_map").rglob("*.py"))
    settings = set(re.findall(r"\"(COPROD_MAP_[A-Z_]+)\"", code))
    assert settings, "the code reads no setting: the pattern above is out of date"
    missing = sorted(s for s in settings if f"`{s}`" not in README)
    assert not missing, f"settings missing from the README: {missing}"


def test_the_readme_commands_exist_and_ci_calls_the_test_command():
    assert "bash scripts/run-app" in README and "bash scripts/run-tests" in README
    assert (ROOT / "scripts" / "run-app").exists() and (ROOT / "scripts" / "run-tests").exists()
    assert "scripts/run-tests" in (ROOT / ".ci" / "run").read_text()


def test_every_cli_command_is_in_the_readme():
    from coprod_map.cli import build_parser

    parser = build_parser()
    commands = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction").choices
    missing = [name for name in commands if f"`{name}" not in README]
    assert not missing, f"commands missing from the README: {missing}"
