"""The house rules of docs/architecture.md, read from the source (no import is executed).

- Only ``reaccreditation.orchestration`` imports Airflow; the rest of ``reaccreditation`` is plain Python.
- Nothing in the domain imports the seam back (a ``__main__`` entry point may: it runs in a deployment).
- The import graph of ``reaccreditation`` has no cycle.

Every ``import`` counts: at module level, inside functions and under ``TYPE_CHECKING``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INCLUDE = ROOT / "include"
SEAM = "reaccreditation.orchestration"


def _modules() -> dict[str, Path]:
    """Module name -> file, for every module under include/ (migrations excluded: Alembic's, not ours)."""
    out = {}
    for path in sorted(INCLUDE.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        parts = list(path.relative_to(INCLUDE).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _imports(name: str, path: Path) -> Iterator[tuple[int, str]]:
    """(line, imported name) of every import in the file; ``from a import b`` gives ``a.b``."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            yield node.lineno, base
            for alias in node.names:
                yield node.lineno, f"{base}.{alias.name}"


def _ours(imported: str) -> str | None:
    """The module of ours an imported name belongs to (the longest known prefix), if any."""
    while imported and imported not in MODULES:
        imported = imported.rpartition(".")[0]
    return imported or None


def import_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {name: set() for name in MODULES}
    for name, path in MODULES.items():
        for _, imported in _imports(name, path):
            target = _ours(imported)
            if target and target != name:
                graph[name].add(target)
    return graph


def cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of two or more modules (Tarjan), each sorted: the cycles."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def _in_seam(name: str) -> bool:
    return name == SEAM or name.startswith(SEAM + ".")


def test_only_the_orchestration_package_imports_airflow():
    assert any(_in_seam(n) for n in MODULES), "the orchestration package is missing"
    leaks = [
        f"{path.relative_to(ROOT)}:{line} imports {imported}"
        for name, path in MODULES.items()
        if not _in_seam(name)
        for line, imported in _imports(name, path)
        if imported == "airflow" or imported.startswith("airflow.")
    ]
    assert leaks == [], "Airflow belongs in include/reaccreditation/orchestration/ only:\n" + "\n".join(leaks)


def test_the_domain_never_imports_the_seam():
    back = [
        f"{path.relative_to(ROOT)}:{line} imports {imported}"
        for name, path in MODULES.items()
        if not _in_seam(name) and not name.endswith(".__main__")
        for line, imported in _imports(name, path)
        if _in_seam(_ours(imported) or "")
    ]
    assert back == [], "domain code takes plain values; only DAGs, plugins and entry points use the seam:\n" + "\n".join(back)


def test_the_import_graph_of_reaccreditation_has_no_cycle():
    graph = import_graph()
    assert len(graph) > 50 and sum(map(len, graph.values())) > 100  # the scan sees the real package
    assert cycles(graph) == []


def test_the_cycle_check_finds_a_cycle_through_a_function_level_import(tmp_path):
    """The checks above would pass on an empty scan; this proves they read what they claim to."""
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    module = tmp_path / "m.py"
    module.write_text("import os\n\ndef f():\n    from airflow.sdk import task\n    from . import sibling\n")
    assert [name for _, name in _imports("pkg.m", module)] == ["os", "airflow.sdk", "airflow.sdk.task", "pkg", "pkg.sibling"]
