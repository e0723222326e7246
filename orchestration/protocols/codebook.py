"""The codebook: labels (Dutch, English) of every code value and the unit of every number that a
delivery file carries, read from ``codebook.yaml`` beside this file.

Why a registry file of its own: a variable name means the same thing in every protocol (``gender``,
``oki``, ``pupil_count``), so its labels and unit are written once; the protocol definitions say
which values a file allows, this file says what they mean. :func:`gaps` lists what a delivery
variable lacks (a test keeps it empty), and :func:`article` finds the article of a protocol that
covers a topic, for the documents of a delivery package.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from orchestration.protocols.registry import Protocol, Registry, Variable

CODEBOOK_FILE = Path(__file__).resolve().parent / "codebook.yaml"
NUMERIC_TYPES = ("integer", "bigint", "double", "decimal")


@dataclass(frozen=True)
class Label:
    nl: str
    en: str


@dataclass(frozen=True)
class Codebook:
    codes: dict[str, dict[str, Label]]  # variable -> code value (as text) -> label
    units: dict[str, Label]  # variable -> unit

    def labels(self, variable: Variable) -> dict[str, Label]:
        """The labels of the values this variable allows (its registry ``allowed_values``, or
        every code the codebook knows for a coded number without them)."""
        known = self.codes.get(variable.name, {})
        if variable.allowed_values is None:
            return dict(known)
        return {str(v): known[str(v)] for v in variable.allowed_values if str(v) in known}

    def unit(self, variable: Variable) -> Label | None:
        return self.units.get(variable.name)

    def is_coded(self, variable: Variable) -> bool:
        return variable.allowed_values is not None or variable.name in self.codes


def _text_key(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


@cache
def load_codebook(path: Path = CODEBOOK_FILE) -> Codebook:
    body = yaml.safe_load(path.read_text(encoding="utf-8"))
    codes = {name: {_text_key(code): Label(**label) for code, label in values.items()}
             for name, values in body["codes"].items()}
    units = {name: Label(**label) for name, label in body["units"].items()}
    return Codebook(codes, units)


def gaps(registry: Registry, codebook: Codebook | None = None) -> list[str]:
    """What the codebook lacks: a code value of a delivery variable without a label, a number
    that is not a code without a unit."""
    codebook = codebook or load_codebook()
    missing = []
    for protocol_id in registry.protocols:
        protocol = registry.protocol(protocol_id)
        for delivery in protocol.delivery_files:
            for v in delivery.variables:
                where = f"{protocol.id}.{delivery.id}.{v.name}"
                if v.allowed_values is not None:
                    known = codebook.codes.get(v.name, {})
                    missing += [f"{where}: no label for code {value!r}"
                                for value in v.allowed_values if _text_key(value) not in known]
                elif v.type in NUMERIC_TYPES and not codebook.is_coded(v) \
                        and codebook.unit(v) is None:
                    missing.append(f"{where}: no unit")
    return missing


def article(protocol: Protocol, topic: str) -> str:
    """Where in the protocol's text a topic is (``legal_basis``, ``quality``, ``recipients``,
    ``transparency``, ...): "art. 2", or the deliberation itself for a text without articles."""
    for key, number in protocol.text_reference.articles.items():
        if key == topic or key.startswith(f"{topic}_") or f"_{topic}" in key:
            return f"art. {number}"
    return protocol.text_reference.section or f"the protocol of {protocol.date_signed}"
