"""Terms the protocol text does not give are unconfirmed, and shown so wherever validity is shown.

vtc_2015_34's second extension, vtc_2015_29's pilot and naft_evaluation's end of the research
assignment have no date in the texts (shared/protocols/000 and 002). The registry marks them
(``validity.end_unconfirmed``); the processing register, the dbt exposure and the delivery
asset show "unconfirmed", never a date that looks like the protocol's.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
import yaml

from orchestration.compliance import register
from orchestration.deliveries import assets, dbt_yaml
from orchestration.protocols import DEFINITIONS_DIR, RegistryError, load_registry, \
    load_registry_from

REGISTRY = load_registry()
UNCONFIRMED = ("vtc_2015_34", "vtc_2015_29", "naft_evaluation")
TODAY = dt.date(2026, 11, 22)
# "to 2027-12-31" or "to indefinite" right after the start: an end shown as if the text gave it
PLAIN_END = re.compile(r"\d{4}-\d{2}-\d{2} to (\d{4}-\d{2}-\d{2}|indefinite)\b")


@pytest.mark.parametrize("protocol_id", UNCONFIRMED)
def test_the_registry_marks_the_term_the_text_does_not_give(protocol_id):
    validity = REGISTRY.protocol(protocol_id).validity
    assert not validity.end_is_confirmed
    assert validity.end_unconfirmed.protocol_wording and validity.end_unconfirmed.remedy
    assert validity.end_label().startswith("UNCONFIRMED")


def test_terms_the_text_gives_stay_confirmed():
    for pid in set(REGISTRY.ids) - set(UNCONFIRMED):
        validity = REGISTRY.protocol(pid).validity
        assert validity.end_is_confirmed, pid
        assert not validity.end_label().startswith("UNCONFIRMED"), pid


@pytest.mark.parametrize("protocol_id", UNCONFIRMED)
def test_the_processing_register_shows_the_term_as_unconfirmed(protocol_id):
    page = register.render(REGISTRY, [], TODAY)
    section = page.split(f"## {protocol_id}: ", 1)[1].split("\n## ", 1)[0]
    (row,) = [line for line in section.splitlines() if line.startswith("| Validity |")]
    assert "UNCONFIRMED" in row
    assert not PLAIN_END.search(row), row


@pytest.mark.parametrize("protocol_id", UNCONFIRMED)
def test_the_dbt_exposure_shows_the_term_as_unconfirmed(protocol_id):
    protocol = REGISTRY.protocol(protocol_id)
    exposure = dbt_yaml.exposure_entry(REGISTRY, protocol)
    meta = exposure["config"]["meta"]
    assert meta["valid_until"] is None
    assert meta["end_of_term"].startswith("unconfirmed: ")
    validity_line = next(x for x in exposure["description"].splitlines()
                         if x.startswith("Validity:"))
    assert "UNCONFIRMED" in validity_line and not PLAIN_END.search(validity_line)
    # and the committed YAML is that generated one
    generated = yaml.safe_load(dbt_yaml.render(REGISTRY)[
        dbt_yaml.DELIVERIES_DIR / protocol_id / f"_{protocol_id}.yml"])
    assert generated["exposures"][0]["config"]["meta"]["end_of_term"] == meta["end_of_term"]


@pytest.mark.parametrize("protocol_id", UNCONFIRMED)
def test_the_delivery_asset_shows_the_term_as_unconfirmed(protocol_id):
    protocol = REGISTRY.protocol(protocol_id)
    definition = assets.build_delivery_asset(protocol)
    metadata = definition.specs_by_key[assets.delivery_asset_key(protocol_id)].metadata
    assert metadata["end_of_term_confirmed"].value is False
    assert "UNCONFIRMED" in metadata["validity"].value
    assert not PLAIN_END.search(metadata["validity"].value)


def test_a_placeholder_research_end_without_an_unconfirmed_term_is_refused(tmp_path):
    import shutil

    target = tmp_path / "definitions"
    shutil.copytree(DEFINITIONS_DIR, target)
    path = target / "naft_evaluation.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    del data["validity"]["end_unconfirmed"]
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(RegistryError, match="end_unconfirmed"):
        load_registry_from(target)
