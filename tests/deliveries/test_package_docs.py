"""A delivery package a recipient can use without asking: README in Dutch and English, a
codebook with a label for every code value and the unit of every quantity, the terms of use;
every fact from the registry (checked for every protocol), and the package stays valid."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest

from orchestration.deliveries import datapackage, package_docs, writer
from orchestration.protocols import load_registry
from orchestration.protocols.codebook import NUMERIC_TYPES, article, gaps, load_codebook
from tests.deliveries.conftest import build

REGISTRY = load_registry()
PROTOCOLS = [REGISTRY.protocol(pid) for pid in REGISTRY.ids]


def _one_line(text: str) -> str:
    return " ".join(text.split())


def test_the_codebook_labels_every_code_value_and_gives_every_quantity_a_unit():
    assert gaps(REGISTRY) == []


@pytest.mark.parametrize("protocol", PROTOCOLS, ids=lambda p: p.id)
def test_each_readme_states_the_registry_facts_a_recipient_needs(protocol):
    parts = [(f.id, 12, f) for f in protocol.delivery_files]
    props = {"delivery_id": "20260101T000000Z", "delivery_date": "2026-01-01"}
    nl = _one_line(package_docs.readme(protocol, parts, props, nl=True))
    en = _one_line(package_docs.readme(protocol, parts, props, nl=False))
    recipient = protocol.parties.recipient
    for text in (nl, en):
        assert "shared/" not in text  # no path outside the package
        for fact in (recipient.name, protocol.date_signed.isoformat(),
                     article(protocol, "legal_basis"), package_docs.citation(protocol),
                     *(s.name for s in protocol.parties.sources), package_docs.CODEBOOK,
                     package_docs.TERMS, *(f"{f.id}.csv" for f in protocol.delivery_files)):
            assert fact in text, (protocol.id, fact)
    # Dutch: the Dutch title and the protocol's own (Dutch) wording of legal basis, retention
    for fact in (protocol.title_nl, protocol.legal_basis.protocol_wording,
                 protocol.retention.protocol_wording, protocol.disclosure.protocol_wording):
        assert _one_line(fact) in nl, (protocol.id, fact[:40])
    for fact in (protocol.purpose, protocol.legal_basis.text, protocol.retention.description,
                 *protocol.disclosure.rules):
        assert _one_line(fact) in en, (protocol.id, fact[:40])
    terms = _one_line(package_docs.terms(protocol))
    assert "Geen open licentie" in terms and "No open licence" in terms
    assert all(_one_line(rule) in terms for rule in protocol.disclosure.rules)


@pytest.mark.parametrize("protocol", PROTOCOLS, ids=lambda p: p.id)
def test_the_codebook_file_has_every_column_every_code_label_and_every_unit(protocol):
    rows = package_docs.codebook_rows(protocol.delivery_files)
    book = load_codebook()
    for f in protocol.delivery_files:
        for v in f.variables:
            mine = [r for r in rows if r["file"] == f.id and r["column"] == v.name]
            column, codes = mine[0], mine[1:]
            assert column["code"] == "" and column["description"]
            if v.allowed_values is not None:
                assert sorted(r["code"] for r in codes) == sorted(str(x) for x in
                                                                   v.allowed_values)
            assert all(r["label_nl"] and r["label_en"] for r in codes)
            if v.type in NUMERIC_TYPES and not book.is_coded(v):
                assert column["unit_nl"] and column["unit_en"], (protocol.id, v.name)


@pytest.mark.integration
def test_a_delivered_package_holds_the_documents_and_stays_valid(warehouse):
    build(warehouse, {"zorgthuis"})
    outcome = writer.deliver("zorgthuis", today=dt.date(2024, 3, 1))
    folder = outcome.folder
    for name in package_docs.DOCUMENTS:
        assert (folder / name).is_file(), name
    body = json.loads((folder / "datapackage.json").read_text())
    assert body["licenses"][0]["path"] == package_docs.TERMS
    assert body["documentation"]["codebook"] == package_docs.CODEBOOK
    validation = datapackage.validate(folder / "datapackage.json")  # descriptor included
    assert validation.valid, validation.errors
    readme = (folder / "README.md").read_text(encoding="utf-8")
    assert outcome.delivery_id in readme and "2024-03-01" in readme
    book = list(csv.DictReader(io.StringIO((folder / package_docs.CODEBOOK).read_text()),
                               delimiter=";"))
    protocol = REGISTRY.protocol("zorgthuis")
    assert {(r["file"], r["column"]) for r in book} == {
        (f.id, v.name) for f in protocol.delivery_files for v in f.variables}
    labelled = {(r["column"], r["code"]) for r in book if r["code"]}
    assert ("list_kind", "VOORLOPIG") in labelled and ("list_kind", "DEFINITIEF") in labelled
