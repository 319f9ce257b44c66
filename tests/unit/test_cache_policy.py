"""Graph objects and whole projects live in ``st.cache_resource``, never in ``st.cache_data``.

``cache_data`` pickles its value on every hit: a 100,000-stakeholder graph then costs about a second per
rerun instead of 30 ms (``../shared/notes/performance.md`` section 4). This lint reads every cached
function in the app and fails when a ``cache_data`` function is declared to return one of them, or
declares nothing the lint can judge.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted([*ROOT.glob("coprod_map/**/*.py"), *ROOT.glob("pages/*.py"), ROOT / "app.py"])

#: names in a return annotation that mark a heavy, shared object (graphs, projects, views built on them)
HEAVY = ("Graph", "TieGraph", "Project", "NetworkView", "PowerView", "Participation", "Store", "Record")

#: ``cache_data`` functions whose annotation is loose (``Any``/``object``) and what they really return
LOOSE_OK = {
    "choices": "widget options: lists of names and numbers",
}


def _cache_kind(decorator: ast.expr) -> str | None:
    """``"cache_data"`` / ``"cache_resource"`` for ``@st.cache_data`` or ``@st.cache_data(...)``, else None."""
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    if isinstance(target, ast.Attribute) and target.attr in ("cache_data", "cache_resource"):
        return target.attr
    return None


def cached_functions(source: str) -> list[tuple[str, str, str]]:
    """``(kind, function name, return annotation as written)`` of every cached function in ``source``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for decorator in node.decorator_list:
                kind = _cache_kind(decorator)
                if kind:
                    found.append((kind, node.name, ast.unparse(node.returns) if node.returns else ""))
    return found


def policy_problems(source: str, where: str) -> list[str]:
    problems = []
    for kind, name, returns in cached_functions(source):
        if kind != "cache_data":
            continue
        if not returns:
            problems.append(f"{where}: {name} is cached with cache_data but says nothing of what it returns")
        elif any(word in returns for word in HEAVY):
            problems.append(f"{where}: {name} returns {returns} through cache_data (pickled on every hit): "
                            "use cache_resource")
        elif any(word in returns for word in ("Any", "object")) and name not in LOOSE_OK:
            problems.append(f"{where}: {name} returns {returns}: too loose to tell what cache_data pickles")
    return problems


def test_the_lint_finds_cached_functions_in_the_app() -> None:
    kinds = [kind for path in SOURCES for kind, _, _ in cached_functions(path.read_text(encoding="utf-8"))]
    assert kinds.count("cache_resource") >= 10 and kinds.count("cache_data") >= 5


def test_no_graph_or_project_goes_through_cache_data() -> None:
    problems = [p for path in SOURCES
                for p in policy_problems(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(("source", "expected"), [
    ("import streamlit as st\n@st.cache_data\ndef g(p: str) -> nx.MultiDiGraph: ...", "use cache_resource"),
    ("import streamlit as st\n@st.cache_data(max_entries=4)\ndef g(p: str) -> TieGraph: ...", "use cache_resource"),
    ("import streamlit as st\n@st.cache_data\ndef g(p: str): ...", "says nothing"),
    ("import streamlit as st\n@st.cache_data\ndef g(p: str) -> dict[str, Any]: ...", "too loose"),
])
def test_the_lint_catches_what_it_is_for(source: str, expected: str) -> None:
    problems = policy_problems(source, "example.py")
    assert len(problems) == 1 and expected in problems[0]


def test_the_lint_lets_cache_resource_hold_graphs() -> None:
    source = "import streamlit as st\n@st.cache_resource\ndef g(p: str) -> nx.Graph: ...\n" \
             "@st.cache_data\ndef t(p: str) -> pd.DataFrame: ..."
    assert policy_problems(source, "example.py") == []
