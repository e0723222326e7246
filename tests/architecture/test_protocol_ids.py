"""A protocol is one unit: its facts live in its registry YAML, and code that truly differs per
protocol in its own module (``orchestration/<slice>/protocols/<protocol_id>.py``, found by id).

So no other module of the code location may name a protocol: no dictionary keyed by a protocol
id, no ``if protocol.id == "..."``, no list of protocol ids. The test reads every module's
syntax tree (no module is imported) and fails on any string literal equal to a protocol id,
docstrings aside. A protocol id that is also a source system's name (the zorgthuis source of
Opgroeien) is allowed only where it names the source: the ``source=`` of a source contract or a
key of a mapping keyed by source systems.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from orchestration.foundations.sources import SOURCES
from orchestration.protocols import load_registry

pytestmark = pytest.mark.unit

PACKAGE = Path(__file__).resolve().parents[2] / "orchestration"
REGISTRY = PACKAGE / "protocols"


def is_protocol_home(path: Path, ids: set[str]) -> bool:
    """The registry package, or a per-protocol module ``<slice>/protocols/<id>.py``."""
    return path.is_relative_to(REGISTRY) or (path.parent.name == "protocols"
                                             and path.stem in ids)


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def _source_names(tree: ast.AST, sources: set[str]) -> set[int]:
    """Literals that name a source system: ``source="..."``, the name given to a
    ``SourceSystem(...)``, and keys of a mapping keyed by source systems only."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "SourceSystem" \
                and node.args and isinstance(node.args[0], ast.Constant):
            found.add(id(node.args[0]))
        if isinstance(node, ast.keyword) and node.arg == "source" and \
                isinstance(node.value, ast.Constant):
            found.add(id(node.value))
        if isinstance(node, ast.Dict) and node.keys and all(
                isinstance(k, ast.Constant) and k.value in sources for k in node.keys):
            found.update(id(k) for k in node.keys)
    return found


def protocol_id_literals(source: str, ids: set[str], sources: set[str]) -> list[tuple[int, str]]:
    """(line, id) of every string literal in ``source`` that names a protocol."""
    tree = ast.parse(source)
    skip = _docstrings(tree) | _source_names(tree, sources)
    return sorted((node.lineno, node.value) for node in ast.walk(tree)
                  if isinstance(node, ast.Constant) and isinstance(node.value, str)
                  and node.value in ids and id(node) not in skip)


def test_no_module_outside_the_registry_and_the_protocol_modules_names_a_protocol():
    ids = set(load_registry().ids)
    found = [f"{path.relative_to(PACKAGE.parent)}:{line}: {value!r}"
             for path in sorted(PACKAGE.rglob("*.py")) if not is_protocol_home(path, ids)
             for line, value in protocol_id_literals(path.read_text(), ids, set(SOURCES))]
    assert found == []


@pytest.mark.parametrize("code", [
    'FILLED = {("zorgthuis", "verification_list"): 1}',
    'KINDS = {"naft_evaluation", "antwerpen_okan"}',
    'def f(p):\n    """Doc."""\n    return p.id == "vtc_2015_29"',
    'x = load_registry().protocol("naft_evaluation")',
    'REQUEST = {"vtc_2015_35": ("left", {})}',
    'SOURCE_DESCRIPTIONS = {"zorgthuis": "a source", "vtc_2015_34": "not a source"}',
])
def test_the_reader_finds_a_protocol_named_in_code(code):
    ids = set(load_registry().ids)
    assert protocol_id_literals(code, ids, set(SOURCES))


@pytest.mark.parametrize("code", [
    '"""The zorgthuis and vtc_2015_35 protocols, in a docstring."""',
    'SourceFile(file_type="zorgthuis_lists", source="zorgthuis")',
    'SOURCE_DESCRIPTIONS = {"zorgthuis": "lists", "discimus": "enrolments"}',
    'name = f"pseudonym_{protocol.id}"',
])
def test_the_reader_leaves_docstrings_and_source_names_alone(code):
    ids = set(load_registry().ids)
    assert protocol_id_literals(code, ids, set(SOURCES)) == []


def test_the_protocol_homes_are_the_registry_and_modules_named_after_a_protocol():
    ids = set(load_registry().ids)
    homes = sorted(str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py")
                   if is_protocol_home(p, ids) and not p.is_relative_to(REGISTRY))
    assert homes and all(Path(h).stem in ids for h in homes)
