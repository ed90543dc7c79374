"""The import graph of src/rota: no circles, and no module importing a package above it.

Imports are read with `ast`, including those inside functions (a lazy import is still a
dependency); those under `if TYPE_CHECKING:` are left out (they never run). `from P import x`
is an edge to the module P.x when there is one, else to the package P itself.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"
ROOT = "rota"


def module_names() -> dict[str, Path]:
    out = {}
    for path in sorted((SRC / ROOT).rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    found: list[ast.Import | ast.ImportFrom] = []

    def walk(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                for other in child.orelse:
                    walk(other)
                continue
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                found.append(child)
            walk(child)

    walk(tree)
    return found


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The rota modules (or packages, for names from their __init__) that `name` imports."""
    is_pkg = path.name == "__init__.py"
    package = name if is_pkg else name.rpartition(".")[0]
    out: set[str] = set()
    for node in _runtime_imports(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.split(".")[0] == ROOT)
            continue
        base = node.module or ""
        if node.level:
            anchor = package.split(".")
            anchor = anchor[: len(anchor) - (node.level - 1)]
            base = ".".join([*anchor, *([base] if base else [])])
        if base.split(".")[0] != ROOT:
            continue
        for alias in node.names:
            sub = f"{base}.{alias.name}"
            out.add(sub if sub in modules else base)
    out.discard(name)
    return out


@functools.cache
def graph() -> dict[str, set[str]]:
    modules = module_names()
    return {m: {t for t in imports_of(m, p, modules) if t in modules} for m, p in modules.items()}


def circles(g: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = 0
    for root in sorted(g):
        if root in index:
            continue
        work = [(root, iter(sorted(g[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, it = work[-1]
            nxt = next(it, None)
            if nxt is not None:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(g[nxt]))))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    m = stack.pop()
                    on_stack.discard(m)
                    comp.append(m)
                    if m == node:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return out


def upward(g: dict[str, set[str]]) -> list[tuple[str, str]]:
    """(module, package) where a module imports a package that contains it.

    The root package is left out: its __init__ holds only metadata (__version__) and imports
    nothing (test_the_root_package_imports_nothing), so depending on it inverts no floors.
    """
    return sorted(
        (m, t) for m, targets in g.items() for t in targets if t != ROOT and m.startswith(t + ".")
    )


def test_the_checker_sees_a_circle_and_an_upward_import() -> None:
    g = {"rota.a": {"rota.b"}, "rota.b": {"rota.a"}, "rota.p": set(), "rota.p.c": {"rota.p"}}
    assert circles(g) == [["rota.a", "rota.b"]]
    assert upward(g) == [("rota.p.c", "rota.p")]
    assert upward({"rota.cli": {"rota"}}) == []  # the root package holds only metadata


def test_the_checker_reads_real_imports() -> None:
    g = graph()
    assert "rota.learning.bandit" in g["rota.learning.policy"]
    assert "rota.store.sql" in g["rota.store.sqlite"]


def test_src_rota_has_no_import_circle() -> None:
    found = circles(graph())
    assert found == [], "import circles: " + "; ".join(" <-> ".join(c) for c in found)


def test_src_rota_has_no_upward_import() -> None:
    found = upward(graph())
    assert found == [], "upward imports: " + ", ".join(f"{m} -> {p}" for m, p in found)


def test_the_root_package_imports_nothing() -> None:
    assert graph()[ROOT] == set()
