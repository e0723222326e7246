"""Retention planning: the registry's rules turned into erasures, without touching anything."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import pytest

from orchestration.retention import plan as r
from orchestration.retention.jobs import retention_job
from orchestration.protocols import load_registry
from orchestration.protocols.registry import SourceUse
from orchestration.foundations.sources import BY_FILE_TYPE
from tests.operations.conftest import write_inbox

pytestmark = pytest.mark.usefixtures("test_master_key")
REGISTRY = load_registry()
RECEIVED = dt.date(2026, 11, 22)
SHA = "c0ffee" * 10 + "beef"


def rule(file_type: str) -> r.TypeRule:
    return r.type_rule(BY_FILE_TYPE[file_type], REGISTRY)


def ingested(file_type: str, name: str, **kw) -> r.IngestedFile:
    return r.IngestedFile(kw.pop("sha256", SHA), file_type, name, kw.pop("status", "loaded"),
                          kw.pop("received_on", RECEIVED), **kw)


def test_each_file_types_rule_comes_from_the_protocols_it_serves():
    assert (rule("zorgthuis_lists").kind, rule("zorgthuis_lists").term) == ("receipt", "P30Y")
    duo = rule("duo_registrations")
    assert (duo.kind, duo.term, duo.age_min, duo.landing_wipe_after) == ("birth", "P30Y", 5, "P3M")
    rr = rule("rijksregister_children")
    assert (rr.kind, rr.landing_wipe_after) == ("birth", None)  # AGODI's own extract
    binc = rule("binc_naft_beneficiaries")
    assert (binc.kind, binc.until, binc.placeholder) == ("fixed", dt.date(2027, 12, 31), True)
    assert rule("discimus_enrolments").kind == "keep"  # protocols without a term use it too
    assert rule("school_register_schools").kind == "keep"  # no protocol: reference data


def test_protocols_that_combine_different_kinds_of_rules_are_reported_unresolved():
    naft = REGISTRY.protocol("naft_evaluation")
    also_zorgthuis = naft.model_copy(update={"draws_on": [
        *naft.draws_on, SourceUse(file_type="zorgthuis_lists")]})
    mixed = REGISTRY.model_copy(update={"protocols": {**REGISTRY.protocols,
                                                      "naft_evaluation": also_zorgthuis}})
    combined = r.type_rule(BY_FILE_TYPE["zorgthuis_lists"], mixed)
    assert combined.kind == "unresolved" and "decide in the registry" in combined.label


def test_a_zorgthuis_list_is_erased_the_day_after_thirty_years_from_receipt():
    holdings = r.Holdings(files=[ingested("zorgthuis_lists", "zorgthuis_2025-10-01_voorlopig.csv",
                                          rows=3)])
    assert r.plan(REGISTRY, holdings, dt.date(2056, 11, 22)).actions == []
    [action] = r.plan(REGISTRY, holdings, dt.date(2056, 11, 23)).actions
    assert (action.kind, action.sha256, action.rows) == ("erase_file", SHA, 3)
    assert action.keep_until == dt.date(2056, 11, 22)


def test_duo_rows_are_erased_per_birth_date_thirty_years_after_birth():
    holdings = r.Holdings(births={"duo_registrations": [(dt.date(2012, 3, 4), 2),
                                                        (dt.date(2014, 5, 6), 1)]})
    [action] = r.plan(REGISTRY, holdings, dt.date(2042, 3, 5)).actions
    assert (action.kind, action.file_type, action.rows) == ("erase_born_before",
                                                            "duo_registrations", 2)
    assert action.born_before == dt.date(2012, 3, 5)
    assert r.plan(REGISTRY, holdings, dt.date(2042, 3, 4)).actions == []


def test_a_leap_day_birth_is_kept_until_the_28th_of_february_thirty_years_later():
    assert r.first_birth_date_kept(dt.date(2042, 2, 28), "P30Y") == dt.date(2012, 2, 28)
    assert r.first_birth_date_kept(dt.date(2042, 3, 1), "P30Y") == dt.date(2012, 3, 1)


def test_duo_landing_files_are_removed_three_months_after_receipt_even_before_ingestion():
    stored = r.StoredFile("inbox/duo/duo_onderwijsdeelnemers_2026-10-15.csv", "inbox", "duo",
                          dt.date(2026, 10, 16), sha256="f" * 64)
    holdings = r.Holdings(stored=[stored])
    assert r.plan(REGISTRY, holdings, dt.date(2027, 1, 16)).actions == []
    [action] = r.plan(REGISTRY, holdings, dt.date(2027, 1, 17)).actions
    assert action.kind == "delete_stored_file" and "landing area" in action.rule


def test_naft_data_waits_for_a_confirmed_end_date_while_the_registry_has_a_placeholder():
    holdings = r.Holdings(files=[ingested("binc_naft_beneficiaries",
                                          "binc_naft_begunstigden_2024-2025.csv", rows=5)])
    plan = r.plan(REGISTRY, holdings, dt.date(2028, 1, 1))
    [action] = plan.actions
    assert action.is_held and "placeholder" in action.held
    assert plan.to_apply() == [] and plan.to_apply(confirm_placeholders=True) == [action]


def test_at_the_end_of_the_research_only_person_level_naft_deliveries_go():
    outbox = [r.StoredFile(f"outbox/naft_evaluation/{name}", "outbox", "naft_evaluation",
                           dt.date(2026, 9, 1))
              for name in ("dov_pupils_2024-25.csv", "dov_semi_aggregated_2024-25.csv",
                           "notes_without_a_known_file_id.txt")]
    plan = r.plan(REGISTRY, r.Holdings(stored=outbox), dt.date(2028, 1, 1))
    targets = {a.target for a in plan.to_apply(confirm_placeholders=True)}
    assert targets == {"outbox/naft_evaluation/dov_pupils_2024-25.csv",
                       "outbox/naft_evaluation/notes_without_a_known_file_id.txt"}


def test_refused_files_are_deleted_thirty_days_after_they_were_refused():
    refused = r.StoredFile("restricted/refused/zorgthuis/0123456789ab_lijst.xlsx", "refused",
                           "zorgthuis", dt.date(2026, 11, 1), sha256="0123456789ab")
    holdings = r.Holdings(stored=[refused])
    assert r.plan(REGISTRY, holdings, dt.date(2026, 12, 1)).actions == []
    assert len(r.plan(REGISTRY, holdings, dt.date(2026, 12, 2)).actions) == 1


def test_a_rejected_files_quarantine_copy_follows_its_sources_rule():
    files = [ingested("zorgthuis_lists", "zorgthuis_2025-10-01_definitief.csv", status="rejected")]
    copy = r.StoredFile(f"restricted/quarantine/zorgthuis/{SHA[:12]}_zorgthuis_2025-10-01_"
                        "definitief.csv", "quarantine", "zorgthuis", RECEIVED, sha256=SHA[:12])
    plan = r.plan(REGISTRY, r.Holdings(files=files, stored=[copy]), dt.date(2056, 11, 23))
    assert {a.kind for a in plan.actions} == {"erase_file", "delete_stored_file"}


def test_discimus_data_is_never_planned_for_erasure():
    holdings = r.Holdings(files=[ingested("discimus_enrolments",
                                          "discimus_inschrijvingen_2015-2016.csv", rows=9,
                                          received_on=dt.date(2016, 1, 1))])
    assert r.plan(REGISTRY, holdings, dt.date(2099, 1, 1)).actions == []


@pytest.mark.integration
def test_the_retention_job_started_by_hand_is_a_dry_run_that_lists_what_would_go(data_dir):
    write_inbox(data_dir, "duo", "duo_onderwijsdeelnemers_2026-10-15.csv", "DUO file\n")
    result = retention_job.execute_in_process(
        run_config={"ops": {"apply_retention": {"config": {"today": "2027-06-01"}}}},
        instance=dg.DagsterInstance.ephemeral())
    assert result.success
    [output] = [e for e in result.all_events if e.event_type_value == "STEP_OUTPUT"]
    metadata = output.event_specific_data.metadata
    assert metadata["dry_run"].value is True
    assert metadata["stored_files_to_delete"].value == 1
    assert "duo_onderwijsdeelnemers_2026-10-15.csv" in metadata["plan"].value
    assert (data_dir.inbox_of("duo") / "duo_onderwijsdeelnemers_2026-10-15.csv").exists()


@pytest.mark.integration
def test_the_retention_job_with_dry_run_off_erases(data_dir):
    write_inbox(data_dir, "duo", "duo_onderwijsdeelnemers_2026-10-15.csv", "DUO file\n")
    result = retention_job.execute_in_process(
        run_config={"ops": {"apply_retention": {"config": {"today": "2027-06-01",
                                                           "dry_run": False}}}},
        instance=dg.DagsterInstance.ephemeral())
    assert result.success
    assert not (data_dir.inbox_of("duo") / "duo_onderwijsdeelnemers_2026-10-15.csv").exists()


def _hand_off_protocol():
    return next(p for p in REGISTRY.protocols.values()
                if any(f.processor_hand_off for f in p.delivery_files))


def test_processor_hand_offs_and_answers_are_inventoried_under_their_protocols_rule(tmp_path):
    """What a protocol handed its processor (outbox) and what the processor answered (inbox)
    hold the protocol's keys: listed for retention and kept as long as that protocol says."""
    from orchestration.foundations.settings import Paths
    from orchestration.retention.inventory import stored_files

    protocol = _hand_off_protocol()
    delivery = next(f for f in protocol.delivery_files if f.processor_hand_off)
    processor = delivery.processor_hand_off.processor
    p = Paths(tmp_path / "data")
    written = {
        f"outbox/processors/{processor}/{protocol.id}/{delivery.id}_2024-25.csv",
        f"outbox/processors/{processor}/{protocol.id}/rejected/answers.rejected.csv",
        f"inbox/processors/{processor}/{protocol.id}/{delivery.id}_2024-25.csv",
        f"inbox/processors/{processor}/{protocol.id}/answers.xlsx",
    }
    for path in written:
        (p.data / path).parent.mkdir(parents=True, exist_ok=True)
        (p.data / path).write_text("key;statistical_sector\n", encoding="utf-8")
    stored = [s for s in stored_files(p, REGISTRY) if "processors" in s.path]
    assert {s.path for s in stored} == written
    assert {(s.area, s.owner) for s in stored} == {("processor", protocol.id)}

    # the period is the protocol's own: as the registry has it, and under a term of receipt
    expected_rule = protocol.retention.rule
    plan = r.plan(REGISTRY, r.Holdings(stored=stored), dt.date(2099, 1, 1))
    deleted = {a.target for a in plan.actions}
    assert deleted == (set() if expected_rule == "not_stated" else written)
    one_year = protocol.model_copy(update={"retention": protocol.retention.model_copy(
        update={"rule": "years_after_receipt", "term": "P1Y"})})
    shorter = REGISTRY.model_copy(update={"protocols": {**REGISTRY.protocols,
                                                        protocol.id: one_year}})
    written_on = stored[0].modified_on
    assert r.plan(shorter, r.Holdings(stored=stored),
                  written_on + dt.timedelta(days=365)).actions == []
    actions = r.plan(shorter, r.Holdings(stored=stored), written_on + dt.timedelta(days=400)
                     ).actions
    assert {a.target for a in actions} == written
    assert all(a.protocols == (protocol.id,) and "processor hand-off or answer" in a.rule
               for a in actions)
