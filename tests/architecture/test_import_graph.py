"""The package's shape, read from its import statements (no module is imported).

Layers, bottom up: ``foundations`` (pure code) and ``protocols`` (the registry) import nothing
above them and no Dagster; ``platform`` (shared Dagster wiring) imports only those; each slice
(ingestion, linkage, transform, quality, deliveries, disclosure, retention, compliance) imports
the layers below it and another slice only through the modules that slice declares public in
its ``__init__`` (``PUBLIC_MODULES``); the root (``definitions``, ``jobs``, ``main``) gathers.
The code location never imports ``tools`` (generator, benchmark).
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

PACKAGE = Path(__file__).resolve().parents[2] / "orchestration"
BOTTOM = ("foundations", "protocols")
PLATFORM = "platform"
ROOT = "root"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


MODULES = {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _imports(path: Path) -> set[str]:
    """Every module of the package (or outside it) that ``path`` imports, at any depth of the file
    (an import inside a function is an import too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                found.add(candidate if candidate in MODULES else node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


GRAPH = {m: _imports(p) for m, p in MODULES.items()}


def layer_of(module: str) -> str:
    parts = module.split(".")
    if parts[0] != "orchestration":
        return "outside"
    if len(parts) == 1 or (len(parts) == 2 and MODULES[module].name != "__init__.py"):
        return ROOT
    return parts[1]


def public_modules(slice_name: str) -> set[str]:
    """The modules a slice offers to the others: ``PUBLIC_MODULES`` in its ``__init__``."""
    init = PACKAGE / slice_name / "__init__.py"
    for node in ast.parse(init.read_text()).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "PUBLIC_MODULES"
                                                for t in node.targets):
            names = ast.literal_eval(node.value)
            return {f"orchestration.{slice_name}"} | {f"orchestration.{slice_name}.{n}"
                                                       for n in names}
    return {f"orchestration.{slice_name}"}


def internal_edges():
    for source, targets in GRAPH.items():
        for target in targets:
            if target in MODULES:
                yield source, target


def test_the_package_has_no_import_circle():
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []
    children = defaultdict(list)
    for a, b in internal_edges():
        if a != b and not (MODULES[a].name == "__init__.py" and b.startswith(a + ".")):
            children[a].append(b)

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in children[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for module in sorted(MODULES):
        if module not in index:
            visit(module)
    assert circles == []


def test_foundations_and_the_registry_import_nothing_above_them_and_no_dagster():
    wrong = sorted((a, b) for a, targets in GRAPH.items() if layer_of(a) in BOTTOM
                   for b in targets
                   if (layer_of(b) not in (*BOTTOM, "outside"))
                   or b.split(".")[0] in ("dagster", "dagster_dbt"))
    assert wrong == []


def test_the_platform_imports_only_the_foundations_and_the_registry():
    wrong = sorted((a, b) for a, b in internal_edges()
                   if layer_of(a) == PLATFORM and layer_of(b) not in (*BOTTOM, PLATFORM))
    assert wrong == []


def test_a_slice_uses_another_slice_only_through_its_public_modules():
    wrong = sorted((a, b) for a, b in internal_edges()
                   if layer_of(a) not in (*BOTTOM, PLATFORM, ROOT)
                   and layer_of(b) not in (*BOTTOM, PLATFORM, layer_of(a))
                   and (layer_of(b) == ROOT or b not in public_modules(layer_of(b))))
    assert wrong == []


def test_the_root_gathers_slices_through_their_public_modules():
    wrong = sorted((a, b) for a, b in internal_edges()
                   if layer_of(a) == ROOT and layer_of(b) not in (*BOTTOM, PLATFORM, ROOT)
                   and b not in public_modules(layer_of(b)) | {
                       f"orchestration.{layer_of(b)}.definitions"})
    assert wrong == []


def test_the_code_location_never_imports_the_tools():
    assert sorted((a, b) for a, targets in GRAPH.items() for b in targets
                  if b.split(".")[0] == "tools") == []


def test_no_import_is_guarded_by_an_import_error_inside_the_project():
    guarded = sorted(str(p.relative_to(PACKAGE.parent)) for p in MODULES.values()
                     if re.search(r"except\s*\(?[^:]*\b(ImportError|ModuleNotFoundError)\b",
                                  p.read_text()))
    assert guarded == []


def test_the_graph_reader_sees_the_imports_it_judges():
    # guards the tests above against reading nothing: known edges of today's shape
    assert "orchestration.foundations.settings" in GRAPH["orchestration.foundations.warehouse"]
    assert "orchestration.transform.definitions" in GRAPH["orchestration.definitions"]
    assert layer_of("orchestration.main") == ROOT
    assert layer_of("orchestration.ingestion") == "ingestion"
    assert layer_of("orchestration.foundations.audit") == "foundations"
