"""Whitelist resolution: model columns, delivered columns and the column check agree with the
registry for every delivery file, and every kind of drift is caught."""

from __future__ import annotations

import pytest

from orchestration.deliveries import spec
from orchestration.protocols import load_registry

REGISTRY = load_registry()
MODELS = spec.delivery_models(REGISTRY)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.name)
def test_a_model_with_the_spec_columns_delivers_exactly_the_registry_columns(model):
    delivered = spec.delivered_columns(model.protocol, model.delivery, model.columns)
    assert delivered == model.protocol.columns(model.delivery.id)
    assert spec.column_differences(model.protocol, model.delivery, model.columns) == []


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.name)
def test_person_level_models_carry_the_internal_pupil_key_and_aggregates_do_not(model):
    names = [name for name, _ in model.columns]
    assert ("pupil_key" in names) == model.delivery.person_level


def test_every_delivery_file_of_the_registry_has_one_model():
    assert len(MODELS) == len(REGISTRY.all_delivery_files())
    assert len({m.name for m in MODELS}) == len(MODELS)


def test_identification_never_sits_in_a_model():
    for m in MODELS:
        names = {name for name, _ in m.columns}
        assert not names & {"insz", "last_name", "first_names", "street", "house_number",
                            "duo_fictitious_number", "request_id"}, m.name


def test_only_identified_and_request_protocols_fill_columns_at_delivery_time():
    """Identification from the vault or a request; a processor's answer (vtc_2015_34's
    geo-referencing) is no identification and needs a hand-off."""
    filling = {p.id for p, f in REGISTRY.all_delivery_files()
               if any(x.source != "processor_answer" for x in spec.fills_of(f))}
    answered = {(p.id, f.id) for p, f in REGISTRY.all_delivery_files()
                if any(x.source == "processor_answer" for x in spec.fills_of(f))}
    assert answered == {("vtc_2015_34", "social_planning")}
    assert all(REGISTRY.protocol(pid).delivery_file(fid).processor_hand_off
               for pid, fid in answered)
    assert filling == {p.id for p in REGISTRY.protocols.values()
                       if p.pseudonym.scheme in ("identified", "request_by_insz")}
    assert filling == {"zorgthuis", "duo_leerplicht", "vtc_2015_35", "vtc_2015_31",
                       "vtc_2015_29"}
    for p, f in REGISTRY.all_delivery_files():
        assert set(f.filled_columns) <= set(f.column_names), (p.id, f.id)
        request_fills = {fill.source == "request" for fill in spec.fills_of(f)}
        assert request_fills <= {p.pseudonym.scheme == "request_by_insz"}, (p.id, f.id)


def _check(file_id, protocol_id, columns):
    p = REGISTRY.protocol(protocol_id)
    return spec.column_differences(p, p.delivery_file(file_id), columns)


def test_an_extra_column_is_caught():
    m = spec.DeliveryModel(REGISTRY.protocol("naft_evaluation"),
                           REGISTRY.protocol("naft_evaluation").delivery_file("dov_pupils"))
    problems = _check("dov_pupils", "naft_evaluation", m.columns + [("birth_date", "date")])
    assert problems == ["columns not in the registry: ['birth_date']"]


def test_a_missing_column_is_caught():
    m = spec.DeliveryModel(REGISTRY.protocol("antwerpen_okan"),
                           REGISTRY.protocol("antwerpen_okan").delivery_file("later_career"))
    columns = [c for c in m.columns if c[0] != "oki"]
    assert _check("later_career", "antwerpen_okan", columns) == \
        ["registry columns missing: ['oki']"]


def test_a_retyped_column_is_caught():
    m = spec.DeliveryModel(REGISTRY.protocol("antwerpen_okan"),
                           REGISTRY.protocol("antwerpen_okan").delivery_file("first_okan_enrolment"))
    columns = [(n, "date" if n == "birth_year" else t) for n, t in m.columns]
    assert _check("first_okan_enrolment", "antwerpen_okan", columns) == \
        ["column birth_year is date, the registry says integer"]


def test_identification_held_in_the_warehouse_is_caught():
    m = spec.DeliveryModel(REGISTRY.protocol("zorgthuis"),
                           REGISTRY.protocol("zorgthuis").delivery_file("verification_list"))
    problems = _check("verification_list", "zorgthuis", m.columns + [("insz", "varchar")])
    assert any("must be filled at delivery time" in p for p in problems)


def test_duckdb_type_spellings_are_normalised():
    assert spec.normalise_type("INTEGER") == "integer"
    assert spec.normalise_type("DECIMAL(18,1)") == "decimal"
    assert spec.normalise_type("VARCHAR") == "varchar"
    assert spec.normalise_type("BIGINT") == "bigint"


def test_only_identified_and_insz_request_protocols_may_deliver_an_insz():
    assert spec.identified_protocols(REGISTRY) == {"zorgthuis", "duo_leerplicht", "vtc_2015_35",
                                                   "vtc_2015_31"}
