"""The protocol registry: every protocol loads, and the registry keeps the protocols' rules.

These tests read the YAML facts through the loader, so a wrong edit of a definition fails here
before it reaches a delivery model.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import duckdb
import pytest
import yaml
from pydantic import BaseModel

from orchestration.foundations import school_year as sy
from orchestration.foundations import sources
from orchestration.protocols import (
    COLUMN_TYPES,
    DEFINITIONS_DIR,
    RegistryError,
    add_duration,
    all_delivery_files,
    dates,
    load_registry,
    load_registry_from,
)

ROOT = Path(__file__).resolve().parents[1]
PROTOCOL_IDS = {
    "naft_evaluation", "antwerpen_okan", "zorgthuis", "duo_leerplicht",
    "vtc_2015_35", "vtc_2015_29", "vtc_2015_34", "vtc_2015_31",
}
TODAY = dt.date(2026, 11, 22)

# Column names that would carry a direct identifier of a person: never in a pseudonymised delivery.
PERSONAL_IDENTIFIER = re.compile(
    r"^(name|names|person_name|full_name)$|"
    r"(^|_)(insz|rijksregisternummer|national_number|nn|bis|first_names?|given_names?|last_name|"
    r"surname|street|house_number|address|birth_date|date_of_birth|phone|email)($|_)"
)


@pytest.fixture(scope="module")
def registry():
    return load_registry()


def _copy_definitions(tmp_path: Path) -> Path:
    target = tmp_path / "definitions"
    shutil.copytree(DEFINITIONS_DIR, target)
    return target


def _edit(directory: Path, protocol_id: str, edit) -> None:
    """Load one YAML file of a copied registry, change it with ``edit``, write it back."""
    path = directory / f"{protocol_id}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    edit(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


# ------------------------------------------------------------------------------------ loading


def test_all_eight_protocols_load(registry):
    assert set(registry.ids) == PROTOCOL_IDS


def test_the_registry_is_loaded_once_per_process():
    assert load_registry() is load_registry()


def test_each_definition_file_is_named_after_its_protocol_id():
    assert {p.stem for p in DEFINITIONS_DIR.glob("*.yaml")} == PROTOCOL_IDS


def test_the_expected_delivery_files_are_declared(registry):
    expected = {
        "naft_evaluation": {"binc_trajectories", "binc_beneficiaries", "binc_providers",
                            "dov_pupils", "dov_schools", "dov_semi_aggregated"},
        "antwerpen_okan": {"first_okan_enrolment", "later_career", "early_school_leaving"},
        "zorgthuis": {"verification_list", "funding_counts"},
        "duo_leerplicht": {"follow_up_list", "parliamentary_figures"},
        "vtc_2015_35": {"admission_check"},
        "vtc_2015_29": {"maastricht_pilot"},
        "vtc_2015_34": {"social_planning"},
        "vtc_2015_31": {"hr_certificates"},
    }
    for protocol_id, files in expected.items():
        declared = {f.id for f in registry.protocol(protocol_id).delivery_files}
        assert files <= declared, (protocol_id, files - declared)


def test_all_delivery_files_lists_every_file_of_every_protocol(registry):
    pairs = all_delivery_files()
    assert len(pairs) == sum(len(p.delivery_files) for p in registry.protocols.values())
    assert {(p.id, f.id) for p, f in pairs} >= {("zorgthuis", "verification_list")}


def test_an_unknown_protocol_or_file_names_the_known_ones(registry):
    with pytest.raises(KeyError, match="antwerpen_okan"):
        registry.protocol("antwerp")
    with pytest.raises(KeyError, match="later_career"):
        registry.protocol("antwerpen_okan").delivery_file("11b")


# ------------------------------------------------------------------------------------ validity


def test_antwerpen_okan_is_valid_until_the_end_of_august_2025(registry):
    okan = registry.protocol("antwerpen_okan")
    assert okan.is_valid_on(dt.date(2025, 6, 1))
    assert okan.is_valid_on(dt.date(2025, 8, 31))
    assert not okan.is_valid_on(dt.date(2025, 9, 1))
    assert not okan.is_valid_on(TODAY)
    assert not okan.is_valid_on(dt.date(2024, 5, 30))  # before signature
    assert okan.validity.renewals == []


def test_a_renewal_added_to_a_copy_makes_antwerpen_okan_valid_again(tmp_path):
    directory = _copy_definitions(tmp_path)

    def renew(data):
        data["validity"]["renewals"] = [
            {"valid_until": "2027-08-31", "reference": "new agreement DOV - Stad Antwerpen (test)"}
        ]

    _edit(directory, "antwerpen_okan", renew)
    renewed = load_registry_from(directory).protocol("antwerpen_okan")
    assert renewed.is_valid_on(TODAY)
    assert renewed.valid_until == dt.date(2027, 8, 31)
    assert not renewed.is_valid_on(dt.date(2027, 9, 1))
    # the project's own registry is untouched
    assert not load_registry().protocol("antwerpen_okan").is_valid_on(TODAY)


def test_a_renewal_that_does_not_extend_the_term_is_rejected(tmp_path):
    directory = _copy_definitions(tmp_path)

    def renew(data):
        data["validity"]["renewals"] = [{"valid_until": "2025-06-30", "reference": "shorter"}]

    _edit(directory, "antwerpen_okan", renew)
    with pytest.raises(RegistryError, match="does not extend"):
        load_registry_from(directory)


def test_indefinite_protocols_are_valid_today(registry):
    for protocol_id in ("zorgthuis", "duo_leerplicht"):
        protocol = registry.protocol(protocol_id)
        assert protocol.valid_until is None
        assert protocol.is_valid_on(TODAY)
        assert not protocol.is_valid_on(protocol.validity.valid_from - dt.timedelta(days=1))


def test_naft_evaluation_ends_with_the_research_assignment(registry):
    naft = registry.protocol("naft_evaluation")
    end = naft.retention.research_assignment_end
    assert naft.retention.research_assignment_end_is_placeholder
    assert naft.valid_until == end
    assert naft.is_valid_on(TODAY)
    assert not naft.is_valid_on(end + dt.timedelta(days=1))
    assert naft.periodicity.kind == "once" and naft.periodicity.once_only


# ------------------------------------------------------------------------------------ columns


def test_every_delivery_file_has_variables_that_quote_the_protocol(registry):
    for protocol, delivery in registry.all_delivery_files():
        assert delivery.variables, (protocol.id, delivery.id)
        for variable in delivery.variables:
            assert variable.protocol_wording.strip(), (protocol.id, delivery.id, variable.name)
            assert variable.description.strip(), (protocol.id, delivery.id, variable.name)


def test_columns_gives_the_name_and_duckdb_type_of_each_column_in_order(registry):
    columns = registry.protocol("antwerpen_okan").columns("first_okan_enrolment")
    assert columns[0] == ("person_code", "varchar")
    assert ("birth_year", "integer") in columns
    assert all(t in COLUMN_TYPES for _, t in columns)


def test_every_delivery_file_can_be_created_as_a_duckdb_table(registry):
    con = duckdb.connect()
    for protocol, delivery in registry.all_delivery_files():
        ddl = ", ".join(f'"{n}" {t}' for n, t in protocol.columns(delivery.id))
        con.execute(f'create table "{protocol.id}__{delivery.id}" ({ddl})')
        described = con.execute(f'describe "{protocol.id}__{delivery.id}"').fetchall()
        assert [row[0] for row in described] == delivery.column_names


def test_no_delivery_of_a_pseudonymised_protocol_has_a_direct_identifier_column(registry):
    pseudonymised = [p for p in registry.protocols.values() if p.is_pseudonymised]
    assert {p.id for p in pseudonymised} == {"naft_evaluation", "antwerpen_okan", "vtc_2015_34"}
    for protocol in pseudonymised:
        for delivery in protocol.delivery_files:
            for variable in delivery.variables:
                assert not PERSONAL_IDENTIFIER.search(variable.name), (
                    protocol.id, delivery.id, variable.name)
                assert not (variable.type == "date" and "birth" in variable.name)


def test_identified_and_request_protocols_keep_names_only_where_allowed(registry):
    """Identification appears only in the identified lists, never in the aggregates."""
    for protocol, delivery in registry.all_delivery_files():
        if delivery.kind == "aggregate":
            for variable in delivery.variables:
                assert not PERSONAL_IDENTIFIER.search(variable.name), (
                    protocol.id, delivery.id, variable.name)
    follow_up = registry.protocol("duo_leerplicht").delivery_file("follow_up_list")
    assert {"insz", "last_name", "birth_date"} <= set(follow_up.column_names)
    verification = registry.protocol("zorgthuis").delivery_file("verification_list")
    assert verification.column_names[0] == "insz"


def test_birth_year_is_an_integer_year_and_never_a_date(registry):
    for protocol, delivery in registry.all_delivery_files():
        for variable in delivery.variables:
            asks_birth_year = re.search(r"geboort?e?jaar", variable.protocol_wording,
                                        re.IGNORECASE)
            if variable.name == "birth_year":
                assert variable.type == "integer"
                assert variable.granularity == "birth_year_only"
            if asks_birth_year and "birth" in variable.name:
                assert variable.name == "birth_year", (protocol.id, delivery.id, variable.name)
        # only the identified DUO follow-up list has a birth date
        if protocol.id != "duo_leerplicht":
            assert "birth_date" not in delivery.column_names, (protocol.id, delivery.id)
    for protocol_id, file_id in [("naft_evaluation", "binc_beneficiaries"),
                                 ("naft_evaluation", "dov_pupils"),
                                 ("antwerpen_okan", "first_okan_enrolment")]:
        assert ("birth_year", "integer") in registry.protocol(protocol_id).columns(file_id)


def test_antwerp_branches_are_delivered_only_when_they_lie_in_the_city(registry):
    okan = registry.protocol("antwerpen_okan")
    assert okan.population.city_nis_code == "11002"
    for file_id in ("first_okan_enrolment", "later_career", "early_school_leaving"):
        delivery = okan.delivery_file(file_id)
        for column in ("institution_number", "branch_number"):
            variable = delivery.variable(column)
            assert variable.granularity == "antwerp_branch_only"
            assert variable.nullable


def test_antwerpen_okan_files_hold_exactly_the_listed_variables(registry):
    okan = registry.protocol("antwerpen_okan")
    assert set(okan.delivery_file("later_career").column_names) == {
        "person_code", "school_year", "nationality", "mother_education_flag",
        "school_allowance_flag", "oki", "institution_number", "branch_number", "main_structure",
        "administrative_group", "enrolled_on_february_1", "enrolled_on_october_1",
        "enrolled_on_june_30", "certificate", "orientation_attest_cluster",
    }
    assert set(okan.delivery_file("early_school_leaving").column_names) == {
        "person_code", "school_year", "early_school_leaver", "nationality", "oki",
        "mother_education_flag", "institution_number", "branch_number", "main_structure",
        "administrative_group",
    }


# ------------------------------------------------------------------------------------ pseudonyms


def test_link_groups_join_exactly_the_files_the_protocols_name(registry):
    naft = registry.protocol("naft_evaluation").pseudonym
    assert naft.scheme == "shared_within_protocol"
    assert set(naft.link_groups[0].files) == {"binc_trajectories", "binc_beneficiaries",
                                              "dov_pupils"}
    okan = registry.protocol("antwerpen_okan").pseudonym
    assert set(okan.link_groups[0].files) == {"first_okan_enrolment", "later_career",
                                              "early_school_leaving"}
    assert registry.protocol("vtc_2015_34").pseudonym.scheme == "per_school_year"
    assert registry.protocol("vtc_2015_34").pseudonym.link_groups[0].key_scope == "school_year"
    for protocol_id in ("vtc_2015_35", "vtc_2015_31"):
        assert registry.protocol(protocol_id).pseudonym.scheme == "request_by_insz"
    for protocol_id in ("zorgthuis", "duo_leerplicht"):
        assert registry.protocol(protocol_id).pseudonym.scheme == "identified"


def test_hashed_schemes_have_a_key_version_and_clear_schemes_have_none(registry):
    for protocol in registry.protocols.values():
        if protocol.is_pseudonymised:
            assert protocol.pseudonym.key_version == 1
        else:
            assert protocol.pseudonym.key_version is None


def test_every_person_level_file_has_an_identifier_in_a_declared_link_group(registry):
    for protocol, delivery in registry.all_delivery_files():
        groups = {g.id for g in protocol.pseudonym.link_groups}
        if delivery.person_level:
            assert delivery.identifier_columns, (protocol.id, delivery.id)
        for variable in delivery.identifier_columns:
            assert variable.link_group in groups


# ------------------------------------------------------------------------------------ rules


def test_article_7_deadlines_follow_the_texts(registry):
    naft = registry.protocol("naft_evaluation").quality
    assert naft.measures_within == "P1M" and naft.report_immediately
    okan = registry.protocol("antwerpen_okan").quality
    assert (okan.investigation_within, okan.measures_within) == ("P1M", "P3M")
    assert okan.follow_up_meeting == "yearly"
    zorg = registry.protocol("zorgthuis").quality
    assert zorg.term_wording == "binnen redelijke termijn"
    assert (zorg.investigation_within, zorg.measures_within) == (None, None)
    assert zorg.steward_reminder_within == "P30D"
    assert zorg.correction_by_new_file
    duo = registry.protocol("duo_leerplicht").quality
    assert (duo.investigation_within, duo.measures_within) == ("P3M", "P6M")


def test_retention_terms_give_the_last_day_to_keep_data(registry):
    zorg = registry.protocol("zorgthuis").retention
    assert zorg.keep_until(received_on=dt.date(2024, 2, 20)) == dt.date(2054, 2, 20)
    duo = registry.protocol("duo_leerplicht").retention
    assert duo.keep_until(birth_date=dt.date(2012, 2, 29)) == dt.date(2042, 2, 28)
    assert duo.landing_wipe_after == "P3M"
    naft = registry.protocol("naft_evaluation").retention
    assert naft.keep_until() == naft.research_assignment_end


def test_add_duration_clamps_to_the_end_of_the_month():
    assert add_duration(dt.date(2024, 1, 31), "P1M") == dt.date(2024, 2, 29)
    assert add_duration(dt.date(2024, 11, 30), "P3M") == dt.date(2025, 2, 28)
    assert add_duration(dt.date(2024, 1, 1), "P30D") == dt.date(2024, 1, 31)


def test_public_and_school_scoped_outputs_are_suppressed_aggregates(registry):
    for protocol, delivery in registry.all_delivery_files():
        if delivery.audience in ("public", "school_scoped"):
            assert delivery.kind == "aggregate" and delivery.suppress_small_counts
            assert not delivery.identifier_columns
            assert protocol.disclosure.publication_allowed or delivery.audience == "school_scoped"
    okan = registry.protocol("antwerpen_okan").disclosure
    assert okan.small_count_threshold == 10
    assert not okan.school_rankings_allowed and not okan.schools_identifiable_in_public
    assert okan.school_scoped_access == "own_schools_only"
    assert okan.source_citation
    assert not registry.protocol("zorgthuis").disclosure.publication_allowed


def test_zorgthuis_exchanges_provisional_and_definitive_lists_in_their_windows(registry):
    periodicity = registry.protocol("zorgthuis").periodicity
    plan = {(e.counting_date, e.list_kind, e.window_month) for e in periodicity.exchanges}
    assert plan == {
        ("first_school_day_of_october", "provisional", 10),
        ("first_school_day_of_october", "definitive", 11),
        ("first_school_day_of_february", "provisional", 2),
        ("first_school_day_of_february", "definitive", 5),
        ("january_15", "single", 9),
        ("may_15", "single", 9),
    }


def _resolve(counting_date, school_year: str, calendar) -> dt.date:
    start = sy.start_year(school_year)
    year = start if counting_date.month >= 9 else start + 1
    if counting_date.rule == "first_school_day_of_month":
        return calendar.first_school_day_of_month(year, counting_date.month)
    day = dt.date(year, counting_date.month, counting_date.day)
    if counting_date.rule == "date_or_next_school_day":
        return calendar.first_school_day_on_or_after(day)
    return day


def test_counting_date_rules_agree_with_the_calendar_module(registry):
    calendar = pytest.importorskip("orchestration.foundations.calendar")
    for school_year in ("2023-24", "2024-25", "2025-26"):
        known = {**calendar.counting_dates(school_year),
                 **calendar.duo_reference_dates(school_year)}
        for protocol in registry.protocols.values():
            for counting_date in protocol.periodicity.counting_dates:
                assert counting_date.name in known, (protocol.id, counting_date.name)
                assert _resolve(counting_date, school_year, calendar) == known[counting_date.name]
        zorg = registry.protocol("zorgthuis")
        resolved = {(e.counting_date, e.list_kind, e.window_start.month)
                    for e in dates.exchange_windows(zorg, school_year)}
        declared = {(_resolve(zorg.periodicity.counting_date(e.counting_date), school_year,
                              calendar), e.list_kind, e.window_month)
                    for e in zorg.periodicity.exchanges}
        assert declared == resolved


def test_every_protocol_draws_on_known_source_file_types(registry):
    for protocol in registry.protocols.values():
        unknown = sorted(set(protocol.file_types) - set(sources.BY_FILE_TYPE))
        assert unknown == [], protocol.id


def test_a_source_file_type_serves_the_protocols_that_draw_on_it(registry):
    for spec in sources.SOURCE_FILES:
        assert spec.protocols == tuple(p.id for p in registry.protocols.values()
                                       if spec.file_type in p.file_types) or \
            set(spec.protocols) == {p.id for p in registry.drawing_on(spec.file_type)}
        assert list(spec.protocols) == sorted(spec.protocols)


def test_the_source_files_name_only_registered_protocols_and_their_systems(registry):
    for spec in sources.SOURCE_FILES:
        for protocol_id in spec.protocols:
            protocol = registry.protocol(protocol_id)
            systems = {s for party in protocol.parties.sources for s in party.systems}
            systems |= set(protocol.parties.recipient.systems)
            assert spec.source in systems, (spec.file_type, protocol_id)


# ------------------------------------------------------------------------------------ the texts


def _shared_dir() -> Path | None:
    for candidate in (ROOT.parent / "shared", ROOT / "shared", Path("/work/shared")):
        if (candidate / "protocols").is_dir():
            return candidate
    return None


def _normalise(text: str) -> str:
    """Compare quotes across PDF line breaks, scan quirks, Markdown and HTML in the originals."""
    text = re.sub(r"<[^>]+>", "", text.replace("\u00ad", ""))
    text = re.sub(r"[\s*#`_\\•]+", "", text)
    text = re.sub(r"[‘’“”\"'´]", "", text).replace("…", "...")
    return text.lower()


def _wordings(node, path=""):
    if isinstance(node, BaseModel):
        for field in type(node).model_fields:
            yield from _wordings(getattr(node, field), f"{path}.{field}")
    elif isinstance(node, (list, tuple)):
        for i, item in enumerate(node):
            yield from _wordings(item, f"{path}[{i}]")
    elif isinstance(node, dict):
        for key, item in node.items():
            yield from _wordings(item, f"{path}.{key}")
    elif isinstance(node, str) and path.endswith("protocol_wording"):
        yield path, node


def test_every_protocol_wording_is_a_verbatim_quote_of_the_original(registry):
    shared = _shared_dir()
    if shared is None:
        pytest.skip("shared/protocols not found beside the repository")
    for protocol in registry.protocols.values():
        original = _normalise((shared / protocol.text_reference.file).read_text(encoding="utf-8"))
        for path, wording in _wordings(protocol, protocol.id):
            for fragment in wording.split("[...]"):
                quoted = _normalise(fragment).strip(".;:,")
                assert not quoted or quoted in original, f"{path}: {fragment.strip()[:120]!r}"


# ------------------------------------------------------------------------------------ validation


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["delivery_files"][0]["variables"][0].update(type="text"), "varchar"),
        (lambda d: d["delivery_files"][0].update(variables=[]), "at least 1"),
        (lambda d: d["delivery_files"][0]["variables"][0].update(identifier=True,
                                                                  link_group="unknown_group"),
         "undeclared link group"),
        (lambda d: d["validity"].update(valid_until="31/08/2025"), "ISO date"),
        (lambda d: d["validity"].update(valid_from="2024-02-30"), "date"),
        (lambda d: d["delivery_files"].append(dict(d["delivery_files"][0])), "duplicate delivery"),
        (lambda d: d["delivery_files"][0]["variables"].append(
            dict(d["delivery_files"][0]["variables"][1])), "duplicate columns"),
        (lambda d: d["delivery_files"][0]["variables"][8].update(type="date"), "birth year"),
        (lambda d: d["delivery_files"][0].update(person_level=False), "not person-level"),
        (lambda d: d["delivery_files"][3].update(suppress_small_counts=False), "suppression"),
        (lambda d: d["pseudonym"].update(key_version=None), "key_version"),
        (lambda d: d.update(unexpected_fact="x"), "Extra inputs"),
    ],
)
def test_a_broken_definition_is_refused_at_load_time(tmp_path, change, message):
    directory = _copy_definitions(tmp_path)
    _edit(directory, "antwerpen_okan", change)
    with pytest.raises(RegistryError, match=message):
        load_registry_from(directory)


def test_a_definition_whose_id_differs_from_its_file_name_is_refused(tmp_path):
    directory = _copy_definitions(tmp_path)
    (directory / "zorgthuis.yaml").rename(directory / "zorgthuis_copy.yaml")
    with pytest.raises(RegistryError, match="must equal the file name"):
        load_registry_from(directory)


def _funding_variable(d: dict, name: str) -> dict:
    (funding,) = [f for f in d["delivery_files"] if f["id"] == "funding_counts"]
    (variable,) = [v for v in funding["variables"] if v["name"] == name]
    return variable


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: _funding_variable(d, "funding_purpose").update(
            allowed_values=["operating_budget"]), "count_purposes declare"),
        (lambda d: [f for f in d["delivery_files"] if f["id"] == "funding_counts"][0][
            "count_purposes"][0].update(coefficient=0), "greater than 0"),
    ],
)
def test_broken_count_purposes_are_refused_at_load_time(tmp_path, change, message):
    directory = _copy_definitions(tmp_path)
    _edit(directory, "zorgthuis", change)
    with pytest.raises(RegistryError, match=message):
        load_registry_from(directory)


def test_zorgthuis_funding_counts_count_each_purpose_of_article_2_separately(registry):
    """Art. 2: the operating budgets (art. 78 §2 decreet basisonderwijs, art. 242 §2 codex SO)
    without a weight, the teaching periods and the integrated support offer with "1,5 i.p.v. 1"."""
    funding = registry.protocol("zorgthuis").delivery_file("funding_counts")
    assert funding.column_names == [
        "school_year", "counting_date_name", "counting_date", "list_kind", "institution_number",
        "branch_number", "funding_purpose", "legal_reference", "pupils_with_care_home",
        "coefficient", "weighted_pupils_with_care_home"]
    by = {(c.purpose, tuple(c.education_levels)): c for c in funding.count_purposes}
    operating = [c for (purpose, _), c in by.items() if purpose == "operating_budget"]
    assert sorted(c.legal_reference[:14] for c in operating) == ["art. 242, §2, ",
                                                                 "art. 78, §2, 2"]
    assert all(c.coefficient is None and "werkingsbudgetten" in c.protocol_wording
               for c in operating)
    teaching = by[("teaching_periods", ("nursery", "primary"))]
    support = by[("integrated_support_offer", ("secondary",))]
    assert teaching.coefficient == support.coefficient == 1.5
    assert "(1,5 i.p.v. 1)" in teaching.protocol_wording
    assert "art. 140, §1, 6°" in teaching.legal_reference
    assert "art. 225, §1, 2°" in support.legal_reference


def _file(d: dict, file_id: str) -> dict:
    (found,) = [f for f in d["delivery_files"] if f["id"] == file_id]
    return found


@pytest.mark.parametrize(
    ("protocol_id", "change", "message"),
    [
        ("duo_leerplicht", lambda d: _file(d, "follow_up_list")["filled_at_delivery"]["fills"][0]
         .update(column="no_such_column"), "not columns of the file"),
        ("duo_leerplicht", lambda d: _file(d, "follow_up_list")["filled_at_delivery"]["fills"][0]
         .update(source="the_internet"), "insz_register"),
        ("duo_leerplicht", lambda d: _file(d, "follow_up_list")["filled_at_delivery"]["links"][0]
         .update(name="last_name"), "are delivered columns"),
        ("antwerpen_okan", lambda d: _file(d, "school_portraits").pop("publication"),
         "needs a publication"),
        ("antwerpen_okan", lambda d: _file(d, "school_portraits")["publication"]["measures"]
         .update(counts=["no_such_count"]), "unknown columns"),
        ("antwerpen_okan", lambda d: _file(d, "school_portraits")["publication"]["microdata"]
         .update(dims=["no_such_dimension"]), "undeclared columns"),
        ("vtc_2015_35", lambda d: d.pop("request_answers"), "request_answers"),
        ("zorgthuis", lambda d: d.update(request_answers={"join": "left"}), "request_answers"),
        ("vtc_2015_35", lambda d: d["request_answers"]["defaults"].update(nothing="x"),
         "unknown columns"),
        ("zorgthuis", lambda d: d.update(draws_on=[]), "at least 1"),
        ("zorgthuis", lambda d: d["draws_on"].append("zorgthuis_lists"), "duplicate source"),
        ("vtc_2015_34", lambda d: d["periodicity"]["counting_dates"].append(
            {"name": "june_30", "rule": "calendar_date", "month": 6, "day": 30,
             "description": "x", "protocol_wording": "x"}), "assumed_counting_date"),
        ("naft_evaluation", lambda d: d["pseudonym"]["link_groups"][0].update(prefix="dom"),
         "pattern"),
    ],
)
def test_a_broken_protocol_fact_is_refused_at_load_time(tmp_path, protocol_id, change, message):
    directory = _copy_definitions(tmp_path)
    _edit(directory, protocol_id, change)
    with pytest.raises(RegistryError, match=message):
        load_registry_from(directory)


def test_source_uses_may_limit_the_school_years_of_a_file_type(registry):
    naft = registry.protocol("naft_evaluation")
    binc = naft.source_use("binc_naft_trajectories")
    assert (binc.school_year_from, binc.school_year_to) == ("2020-21", "2024-25")
    assert naft.source_use("discimus_enrolments").school_year_from is None
