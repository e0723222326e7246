"""The source extracts the warehouse receives: one declarative spec per file type.

This module is the contract between the sources (and the synthetic generator that imitates them)
and governed ingestion. Each file type states its inbox folder, how its file names look, its exact
header (Dutch, as the agency sends it), the type rule of every column, which columns are required,
and which columns are personal identifiers that must never reach the warehouse:

- ``insz``: the national number. Validated with python-stdnum, kept only in the vault, and
  replaced in the warehouse by the keyed internal ``pupil_key``.
- ``vault``: names, addresses and foreign identifiers. Kept only in the vault.

Raw warehouse tables keep the source's own column names (lower case) as text; dbt staging types
and renames them. Ingestion only guarantees that every value parses as its declared type.
What a file becomes in raw is ``raw_layout``; the dbt source YAML
(``dbt_project/models/staging/_sources.yml``, ``python -m orchestration.ingestion.dbt_yaml``)
and the Dagster asset descriptions are generated from this contract, never written by hand.

Each column also states what its value *means* (its code list or format, the register it refers
to, the window its dates lie in, the bounds of its counts), and each file its natural key: the
article-7 checks are generated from exactly this (``orchestration.quality.rules``), so a new
column brings its checks with it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

ColumnType = Literal["text", "int", "date", "flag", "school_year", "insz"]
Sensitivity = Literal["plain", "insz", "vault"]
#: Registers a column can refer to: a school or branch of the school register in the row's school
#: year, a NAFT provider of BINC's providers file in that year, a Belgian municipality (NIS code,
#: Statbel list), a trajectory of BINC's trajectory file.
Reference = Literal["school", "branch", "provider", "municipality", "trajectory"]
#: What a date must lie within: the row's school year (1 September - 31 August), or on or before
#: the file's reference date.
DateWindow = Literal["school_year", "reference_date"]
#: Upper bounds the Flemish calendar gives for a count in a school year.
CalendarBound = Literal["school_days", "school_half_days"]

BELGIAN_DATE = "%d/%m/%Y"  # dd/mm/yyyy, as Flemish agencies send dates
DUTCH_DATE = "%d-%m-%Y"  # dd-mm-yyyy, as DUO sends dates


@dataclass(frozen=True)
class SourceSystem:
    """One source system: its inbox folder and, in a line, who sends what."""

    name: str  # inbox folder under data/inbox/, e.g. discimus
    description: str
    # the language the source is written to in (article-7 reports, reply templates): Dutch for
    # the Flemish agencies and DUO, the only senders today
    language: str = "nl"


@dataclass(frozen=True)
class Column:
    """One column of a source file: its header as delivered and its type rule."""

    header: str
    type: ColumnType = "text"
    required: bool = False
    sensitivity: Sensitivity = "plain"
    description: str = ""
    # What the value means, for the article-7 checks generated from the contract
    # (orchestration.quality.rules): a code list (a seed of dbt_project/seeds/codes, or the codes
    # themselves) or a format (regex on the compact upper-case value); a reference to another
    # register; for dates, the window they lie in and the date they may not precede; for counts,
    # the lowest and highest value and the column or calendar quantity they may not exceed.
    codes: str | tuple[str, ...] | None = None
    pattern: str | None = None
    refers_to: Reference | None = None
    within: DateWindow | None = None
    not_before: str | None = None
    minimum: int | None = None
    maximum: int | None = None
    at_most: str | CalendarBound | None = None

    @property
    def name(self) -> str:
        """The raw-table column name: the header in lower case."""
        return self.header.lower()


@dataclass(frozen=True)
class SourceFile:
    """One file type of one source system."""

    file_type: str  # raw table name and dbt source table, e.g. discimus_enrolments
    source: str  # source system (inbox folder), e.g. discimus
    owner: str
    pattern: str  # regex on the file name; named groups school_year or reference_date
    columns: tuple[Column, ...]
    description: str
    date_format: str = BELGIAN_DATE
    key_columns: tuple[str, ...] = ()  # the source's own record key (raw names), for reports
    reference_date_column: str | None = None  # column holding the extract's reference date

    @property
    def protocols(self) -> tuple[str, ...]:
        """The protocols whose data this file type carries: those whose registry entry names it
        in ``draws_on`` (the registry says which sources a protocol uses, not this module)."""
        from orchestration.protocols.registry import load_registry

        return tuple(p.id for p in load_registry().drawing_on(self.file_type))

    @property
    def headers(self) -> list[str]:
        return [c.header for c in self.columns]

    @property
    def table_description(self) -> str:
        """What the raw table holds and who sends it."""
        return f"{self.description} Source: {self.owner} ({self.source})."

    def match(self, file_name: str) -> re.Match[str] | None:
        return re.fullmatch(self.pattern, file_name)


def _c(header: str, type: ColumnType = "text", required: bool = False,
       sensitivity: Sensitivity = "plain", description: str = "", **meaning) -> Column:
    return Column(header, type, required, sensitivity, description, **meaning)


SCHOOL_YEAR_FILE = r"(?P<school_year>\d{4}-\d{4})\.csv"
REFERENCE_DATE_FILE = r"(?P<reference_date>\d{4}-\d{2}-\d{2})"

SOURCE_SYSTEMS: tuple[SourceSystem, ...] = (
    SourceSystem("discimus",
                 "Discimus (AGODI): enrolments, pupil characteristics, absences, attests"),
    SourceSystem("led", "LED (AHOVOKS): certificates and diplomas"),
    SourceSystem("binc", "BINC (Opgroeien): NAFT trajectories, beneficiaries, providers"),
    SourceSystem("zorgthuis", "Opgroeien: lists of pupils with a zorgthuis per counting date"),
    SourceSystem("duo", "DUO (NL): pupils living in Belgium at a Dutch school (no INSZ)"),
    SourceSystem("rijksregister",
                 "Rijksregister: compulsory-school-age children in Flanders and Brussels"),
    SourceSystem("school_register", "School register (AGODI/DOV): schools, branches, capacity"),
)

SOURCE_FILES: tuple[SourceFile, ...] = (
    # ---------------------------------------------------------------- Discimus (AGODI)
    SourceFile(
        file_type="discimus_enrolments",
        source="discimus",
        owner="AGODI",
        pattern=r"discimus_inschrijvingen_" + SCHOOL_YEAR_FILE,
        description="Enrolments in primary and secondary education, one row per enrolment "
        "period in an administratieve groep, with the pupil's characteristics at enrolment.",
        key_columns=("inschrijving_id",),
        columns=(
            _c("Inschrijving_id", "text", True, description="Discimus' own enrolment reference"),
            _c("INSZ", "insz", True, "insz", "national number (NN or BIS)"),
            _c("Geboortedatum", "date", True, description="birth date"),
            _c("Geslacht", "text", True, description="M, V or X",
               codes=("M", "V", "X")),
            _c("Nationaliteit", "text", True, description="ISO 3166-1 alpha-3 code",
               pattern="[A-Z]{3}"),
            _c("Woonplaats_NIS", "text", False, description="NIS code of the municipality of residence",
               refers_to="municipality"),
            _c("Postcode", "text", False, description="postcode of residence"),
            _c("Schooljaar", "school_year", True, description="school year, e.g. 2023-2024"),
            _c("Instellingsnummer", "text", True, description="school number, up to 6 digits",
               refers_to="school"),
            _c("Vestigingsplaats", "int", True, description="branch: intern volgnummer within the school",
               refers_to="branch"),
            _c("Hoofdstructuur", "text", True, description="3-digit code niveau+soort+programma",
               codes="main_structure"),
            _c("Administratieve_groep", "int", True, description="administratieve groep number"),
            _c("Leerjaar", "int", True, description="study year (kleuter 1-3 by age class, lager 1-6, secundair 1-7)",
               minimum=1, maximum=7),
            _c("Graad", "int", False, description="graad in secondary education (1-3)",
               minimum=1, maximum=3),
            _c("Onderwijsvorm", "text", False, description="ASO, TSO, KSO, BSO, A, B, OKAN",
               codes="education_form"),
            _c("Finaliteit", "text", False, description="DO, DU, A, E, 7E",
               codes="finality"),
            _c("Leerweg", "text", False, description="SCHOOL or DUAAL",
               codes=("SCHOOL", "DUAAL")),
            _c("Studierichting", "text", False, description="study direction"),
            _c("Type_buitengewoon", "text", False, description="type of special education"),
            _c("Opleidingsvorm", "text", False, description="OV1-OV4 in BuSO",
               codes=("OV1", "OV2", "OV3", "OV4")),
            _c("AN", "flag", True, description="anderstalige nieuwkomer J/N"),
            _c("GAN", "flag", True, description="gewezen anderstalige nieuwkomer J/N"),
            _c("Begindatum", "date", True, description="start of the enrolment",
               within="school_year"),
            _c("Einddatum", "date", False, description="end of the enrolment, empty while running",
               within="school_year", not_before="Begindatum"),
            _c("Reden_uitschrijving", "text", False, description="X normal end, E pupil/parent, T tucht, S school/CLB advice",
               codes="deregistration_reason"),
            _c("Situatie_na", "text", False, description="10 no info, 12 other Flemish school, 5 working, 1 training, 9 other",
               codes="situation_after"),
        ),
    ),
    SourceFile(
        file_type="discimus_pupil_characteristics",
        source="discimus",
        owner="AGODI",
        pattern=r"discimus_leerlingkenmerken_" + SCHOOL_YEAR_FILE,
        description="The four OKI pupil characteristics, one row per pupil per school year "
        "(state on the first school day of February).",
        key_columns=("insz", "schooljaar"),
        columns=(
            _c("INSZ", "insz", True, "insz"),
            _c("Schooljaar", "school_year", True),
            _c("Thuistaal_niet_Nederlands", "flag", True, description="home language is not Dutch J/N"),
            _c("Moeder_laag_opgeleid", "flag", True, description="mother has no secondary diploma J/N"),
            _c("Schooltoelage", "flag", True, description="received a school allowance J/N"),
            _c("Buurtindicator", "flag", True, description="lives in a neighbourhood with high school delay J/N"),
        ),
    ),
    SourceFile(
        file_type="discimus_absences",
        source="discimus",
        owner="AGODI",
        pattern=r"discimus_afwezigheden_" + SCHOOL_YEAR_FILE,
        description="Absences per pupil per school per school year, in half days.",
        key_columns=("insz", "schooljaar", "instellingsnummer"),
        columns=(
            _c("INSZ", "insz", True, "insz"),
            _c("Schooljaar", "school_year", True),
            _c("Instellingsnummer", "text", True,
               refers_to="school"),
            _c("Halve_dagen_aanwezig_verwacht", "int", True, description="half days the pupil was expected at school",
               minimum=0, at_most="school_half_days"),
            _c("Halve_dagen_afwezig", "int", True, description="all absent half days",
               minimum=0, at_most="Halve_dagen_aanwezig_verwacht"),
            _c("Halve_dagen_problematisch", "int", True, description="unjustified (problematic) absent half days",
               minimum=0, at_most="Halve_dagen_afwezig"),
            _c("Aantal_lange_afwezigheden", "int", True, description="number of absences of 10 or more consecutive days",
               minimum=0),
            _c("Dagen_lange_afwezigheid", "int", True, description="total length of those long absences in days",
               minimum=0, at_most="school_days"),
        ),
    ),
    SourceFile(
        file_type="discimus_attests",
        source="discimus",
        owner="AGODI",
        pattern=r"discimus_attesten_" + SCHOOL_YEAR_FILE,
        description="End-of-year attests (A/B/C) per pupil per school year.",
        key_columns=("insz", "schooljaar", "instellingsnummer"),
        columns=(
            _c("INSZ", "insz", True, "insz"),
            _c("Schooljaar", "school_year", True),
            _c("Instellingsnummer", "text", True,
               refers_to="school"),
            _c("Vestigingsplaats", "int", True,
               refers_to="branch"),
            _c("Leerjaar", "int", True,
               minimum=1, maximum=7),
            _c("Attest", "text", True, description="A, B or C",
               codes="attest"),
            _c("Clausulering", "text", False, description="cluster of excluded directions with a B attest"),
            _c("Datum_attest", "date", True,
               within="school_year"),
        ),
    ),
    # ---------------------------------------------------------------- LED (AHOVOKS)
    SourceFile(
        file_type="led_certificates",
        source="led",
        owner="AHOVOKS",
        pattern=r"led_bewijzen_" + SCHOOL_YEAR_FILE,
        description="Certificates and diplomas registered in LED, one row per certificate.",
        key_columns=("bewijsreferte",),
        columns=(
            _c("Bewijsreferte", "text", True, description="LED's own certificate reference"),
            _c("INSZ", "insz", True, "insz"),
            _c("Leverancier", "text", True, description="supplier of the certificate"),
            _c("Status", "int", True, description="1 Geregistreerd, 10 Geannuleerd",
               codes="led_status"),
            _c("Authenticiteit", "text", True),
            _c("Categorie", "text", True,
               codes="led_category"),
            _c("Graad", "text", False),
            _c("Onderwijsvorm", "text", False),
            _c("Bewijstype", "text", True, description="Diploma, Getuigschrift, Studiegetuigschrift, Attest, Deelcertificaat",
               codes="led_certificate_type"),
            _c("Bewijsstaat", "text", True, description="Eindbewijs or Tussenbewijs",
               codes=("Eindbewijs", "Tussenbewijs")),
            _c("Instantie", "text", True, description="issuing body"),
            _c("Onderwerp_code", "text", True),
            _c("Onderwerp_naam", "text", True),
            _c("Uitreikingsdatum", "date", True),
            _c("Volledige_naam", "text", True, description="full name of the certificate (not of the person)"),
            _c("Land", "text", True, description="ISO 3166-1 alpha-3"),
            _c("Taal", "text", True, description="ISO 639-2"),
            _c("Instelling_naam", "text", True),
            _c("Instelling_nummer", "text", False,
               refers_to="school"),
            _c("Schooltype", "text", True, description="Gewoon or Buitengewoon",
               codes=("Gewoon", "Buitengewoon")),
            _c("Studierichting", "text", False),
            _c("Specialisatie", "text", False),
            _c("Detail_onderwerp", "text", False),
            _c("Vervalperiode", "text", False),
            _c("Uren_volwassenenonderwijs", "int", False,
               minimum=0),
            _c("Alternatieve_instantie", "text", False),
            _c("Bijkomende_informatie", "text", False),
            _c("ISCED_studiegebied", "text", False),
            _c("ISCED_niveau", "text", False),
            _c("VKS_niveau", "text", False),
        ),
    ),
    # ---------------------------------------------------------------- BINC (Opgroeien)
    SourceFile(
        file_type="binc_naft_trajectories",
        source="binc",
        owner="Opgroeien",
        pattern=r"binc_naft_trajecten_" + SCHOOL_YEAR_FILE,
        description="NAFT trajectories (individual, collective, mixed), one row per trajectory.",
        key_columns=("traject_id",),
        columns=(
            _c("Traject_id", "text", True),
            _c("Schooljaar", "school_year", True),
            _c("Type", "text", True, description="PREVENTIEF or HERINTREDING",
               codes="naft_trajectory_type"),
            _c("Vorm", "text", True, description="INDIVIDUEEL, COLLECTIEF or GEMENGD",
               codes="naft_form"),
            _c("Doelgroep", "text", True, description="LEERLING, LEERLINGENGROEP, KLASGROEP, LEERKRACHT, LERARENTEAM, SCHOOL",
               codes="naft_target_group"),
            _c("Begindatum", "date", True),
            _c("Einddatum", "date", False,
               not_before="Begindatum"),
            _c("Resultaat", "text", False, description="result at the end"),
            _c("Doelen", "text", False, description="goals, |-separated"),
            _c("Redenen", "text", False, description="reasons for participation, |-separated"),
            _c("Aantal_sessies", "int", False,
               minimum=0),
            _c("Totale_duur_uren", "int", False,
               minimum=0),
            _c("Frequentie", "text", False),
            _c("Deelname", "text", False, description="participation: VOLLEDIG, GEDEELTELIJK, BEPERKT",
               codes="naft_participation"),
            _c("Aanbieder_id", "text", True,
               refers_to="provider"),
            _c("Instellingsnummer", "text", False, description="school where the trajectory takes place",
               refers_to="school"),
        ),
    ),
    SourceFile(
        file_type="binc_naft_beneficiaries",
        source="binc",
        owner="Opgroeien",
        pattern=r"binc_naft_begunstigden_" + SCHOOL_YEAR_FILE,
        description="Young people with an individual NAFT trajectory, one row per trajectory and pupil, "
        "with their profile and school situation when they enrol in the trajectory.",
        key_columns=("traject_id", "insz"),
        columns=(
            _c("Traject_id", "text", True,
               refers_to="trajectory"),
            _c("INSZ", "insz", True, "insz"),
            _c("Geslacht", "text", True,
               codes=("M", "V", "X")),
            _c("Geboortedatum", "date", True),
            _c("Thuistaal", "text", False, description="ISO 639-2 home language"),
            _c("Nationaliteit", "text", False),
            _c("Woonplaats_NIS", "text", False,
               refers_to="municipality"),
            _c("Gezinssituatie", "text", False),
            # the school situation BINC registers "op het moment dat de leerlingen zich
            # inschrijven voor een NAFT-traject" (protocol naft_evaluation, art. 3): BINC's own
            # record, never filled from Discimus
            _c("Onderwijsvorm", "text", False, description="onderwijsvorm at enrolment in the trajectory",
               codes="education_form"),
            _c("Finaliteit", "text", False, description="finaliteit at enrolment in the trajectory",
               codes="finality"),
            _c("Leerweg", "text", False, description="SCHOOL or DUAAL at enrolment in the trajectory",
               codes=("SCHOOL", "DUAAL")),
            _c("Onderwijsnet", "text", False, description="GO!, vrij gesubsidieerd or officieel gesubsidieerd",
               codes=("GO!", "vrij gesubsidieerd", "officieel gesubsidieerd")),
            _c("Koepel", "text", False, description="umbrella organisation of the school"),
            _c("Instellingsnummer", "text", False, description="the school concerned (betrokken instelling)",
               refers_to="school"),
            _c("Referentie_CLB", "text", False),
        ),
    ),
    SourceFile(
        file_type="binc_naft_providers",
        source="binc",
        owner="Opgroeien",
        pattern=r"binc_naft_aanbieders_" + SCHOOL_YEAR_FILE,
        description="NAFT providers, one row per provider per school year.",
        key_columns=("aanbieder_id",),
        columns=(
            _c("Aanbieder_id", "text", True),
            _c("Schooljaar", "school_year", True),
            _c("Naam", "text", True, description="name of the organisation (not a person)"),
            _c("Type_organisatie", "text", True),
            _c("Regio", "text", True),
            _c("Werkgebied", "text", False),
            _c("Aanbod", "text", False, description="kinds of NAFT services, |-separated"),
        ),
    ),
    # ---------------------------------------------------------------- Opgroeien zorgthuis
    SourceFile(
        file_type="zorgthuis_lists",
        source="zorgthuis",
        owner="Opgroeien regie",
        pattern=r"zorgthuis_" + REFERENCE_DATE_FILE + r"_(?P<list_kind>voorlopig|definitief)\.csv",
        description="Pupils meeting the indicator 'leerling met een zorgthuis' on a counting date.",
        key_columns=("insz", "teldatum"),
        reference_date_column="teldatum",
        columns=(
            _c("INSZ", "insz", True, "insz"),
            _c("Teldatum", "date", True),
            _c("Soort_lijst", "text", True, description="VOORLOPIG or DEFINITIEF",
               codes=("VOORLOPIG", "DEFINITIEF")),
            _c("Verblijf_MFC", "text", True,
               description="residence in a multifunctional centre (art. 3 of the zorgthuis "
               "protocol: 'Voor leerlingen die verblijven in een MFC [...] het gegeven of deze "
               "leerling valt onder de niet-vrijwillige Jeugdhulpverlening'): GEEN_MFC (not in "
               "an MFC), MFC_NIET_VRIJWILLIG (non-voluntary MFC care, counted) or MFC_VRIJWILLIG "
               "(voluntary MFC care: 'moeten uitgesloten worden van de berekeningen', never "
               "counted)", codes=("GEEN_MFC", "MFC_NIET_VRIJWILLIG", "MFC_VRIJWILLIG")),
        ),
    ),
    # ---------------------------------------------------------------- DUO (the Netherlands)
    SourceFile(
        file_type="duo_registrations",
        source="duo",
        owner="DUO",
        pattern=r"duo_onderwijsdeelnemers_" + REFERENCE_DATE_FILE + r"\.csv",
        description="Pupils living in Belgium enrolled in a Dutch school; no INSZ.",
        date_format=DUTCH_DATE,
        key_columns=("fictief_nummer",),
        reference_date_column="peildatum",
        columns=(
            _c("Fictief_nummer", "text", True, "vault", "DUO's fictitious unique number"),
            _c("Achternaam", "text", True, "vault"),
            _c("Voornamen", "text", True, "vault"),
            _c("Geboortedatum", "date", True,
               within="reference_date"),
            _c("Straat", "text", True, "vault"),
            _c("Huisnummer", "text", True, "vault"),
            _c("Postcode", "text", True),
            _c("Woonplaats", "text", True),
            _c("BRIN", "text", True, description="DUO institution code (4 chars, optional 2-digit location)",
               pattern="[0-9]{2}[A-Z]{2}([0-9]{2})?"),
            _c("Instellingsnaam", "text", True),
            _c("Peildatum", "date", True),
        ),
    ),
    # ---------------------------------------------------------------- Rijksregister
    SourceFile(
        file_type="rijksregister_children",
        source="rijksregister",
        owner="Rijksregister",
        pattern=r"rijksregister_leerplichtigen_" + REFERENCE_DATE_FILE + r"\.csv",
        description="All compulsory-school-age children domiciled in Flanders and Brussels.",
        key_columns=("insz", "referentiedatum"),
        reference_date_column="referentiedatum",
        columns=(
            _c("INSZ", "insz", True, "insz"),
            _c("Naam", "text", True, "vault"),
            _c("Voornamen", "text", True, "vault"),
            _c("Geboortedatum", "date", True,
               within="reference_date"),
            _c("Geslacht", "text", True,
               codes=("M", "V", "X")),
            _c("Straat", "text", True, "vault"),
            _c("Huisnummer", "text", True, "vault"),
            _c("Postcode", "text", True),
            _c("NIS_gemeente", "text", True,
               refers_to="municipality"),
            _c("Referentiedatum", "date", True),
        ),
    ),
    # ---------------------------------------------------------------- School register
    SourceFile(
        file_type="school_register_schools",
        source="school_register",
        owner="AGODI / DOV",
        pattern=r"scholen_" + SCHOOL_YEAR_FILE,
        description="Schools (instellingen), one row per school per school year.",
        key_columns=("instellingsnummer", "schooljaar"),
        columns=(
            _c("Instellingsnummer", "text", True),
            _c("Schooljaar", "school_year", True),
            _c("Naam", "text", True, description="school name"),
            _c("Soort_bestuur", "text", True, description="net: 1 GO!, 2 Vrij, 3 Provincie, 4 Gemeente, ...",
               codes="school_network"),
            _c("Koepel", "text", True, description="GO!, OVSG, POV, KOV, OKO, ..."),
            _c("Niveau", "text", True, description="BAO (basis) or SO (secundair)",
               codes=("BAO", "SO")),
        ),
    ),
    SourceFile(
        file_type="school_register_branches",
        source="school_register",
        owner="AGODI / DOV",
        pattern=r"vestigingsplaatsen_" + SCHOOL_YEAR_FILE,
        description="Branches (vestigingsplaatsen), one row per branch per school year.",
        key_columns=("instellingsnummer", "vestigingsplaats", "schooljaar"),
        columns=(
            _c("Instellingsnummer", "text", True),
            _c("Vestigingsplaats", "int", True),
            _c("Schooljaar", "school_year", True),
            _c("Naam", "text", True),
            _c("Straat", "text", True, description="address of the branch (an institution, not a person)"),
            _c("Huisnummer", "text", True),
            _c("Postcode", "text", True),
            _c("NIS_gemeente", "text", True,
               refers_to="municipality"),
            _c("Gemeente", "text", True),
            _c("Provincie", "text", True),
            _c("Verstedelijking", "text", True, description="urbanisation: GROOTSTEDELIJK, CENTRUMSTEDELIJK, KLEINSTEDELIJK, LANDELIJK",
               codes="urbanisation"),
        ),
    ),
    SourceFile(
        file_type="school_register_capacity",
        source="school_register",
        owner="AGODI / DOV",
        pattern=r"capaciteit_" + SCHOOL_YEAR_FILE,
        description="Available places per branch, level and study year.",
        key_columns=("instellingsnummer", "vestigingsplaats", "schooljaar", "hoofdstructuur", "leerjaar",
                     "onderwijsvorm", "finaliteit", "leerweg"),
        columns=(
            _c("Instellingsnummer", "text", True,
               refers_to="school"),
            _c("Vestigingsplaats", "int", True,
               refers_to="branch"),
            _c("Schooljaar", "school_year", True),
            _c("Hoofdstructuur", "text", True,
               codes="main_structure"),
            _c("Leerjaar", "int", True,
               minimum=1, maximum=7),
            _c("Onderwijsvorm", "text", False,
               codes="education_form"),
            _c("Finaliteit", "text", False,
               codes="finality"),
            _c("Leerweg", "text", False,
               codes=("SCHOOL", "DUAAL")),
            _c("Beschikbare_plaatsen", "int", True,
               minimum=0),
        ),
    ),
)

SOURCES: tuple[str, ...] = tuple(s.name for s in SOURCE_SYSTEMS)
BY_SOURCE: dict[str, SourceSystem] = {s.name: s for s in SOURCE_SYSTEMS}
BY_FILE_TYPE: dict[str, SourceFile] = {f.file_type: f for f in SOURCE_FILES}


def _check_systems() -> None:
    """Every file type belongs to a declared system and every system sends a file type."""
    disagree = {f.source for f in SOURCE_FILES} ^ set(SOURCES)
    if disagree:
        raise ValueError(f"source systems and file types disagree: {sorted(disagree)}")


_check_systems()


def file_types_of(source: str) -> list[SourceFile]:
    return [f for f in SOURCE_FILES if f.source == source]


# The source's answer to an article-7 report: one status per finding, dropped in its own inbox
# like an extract (``<source>_antwoord_art7_<yyyy-mm-dd>.csv``). Ingestion leaves it alone; the
# quality slice admits it (orchestration/quality/replies.py).
REPLY_PATTERN = re.compile(r"^(?P<source>[a-z_]+)_antwoord_art7_(?P<date>\d{4}-\d{2}-\d{2})"
                           r"(?:_[A-Za-z0-9-]+)?\.csv$")


def reply_file_name(source: str, day: str) -> str:
    """The name a source gives its reply to the report of ``day`` (ISO date)."""
    return f"{source}_antwoord_art7_{day}.csv"


def is_reply(file_name: str, source: str | None = None) -> bool:
    """Whether ``file_name`` is an article-7 reply (of ``source``, when given)."""
    m = REPLY_PATTERN.match(file_name)
    return bool(m) and (source is None or m["source"] == source)


def identify(file_name: str) -> tuple[SourceFile, re.Match[str]] | None:
    """Which file type a delivered file is, by its name; None for an unknown file."""
    for spec in SOURCE_FILES:
        m = spec.match(file_name)
        if m:
            return spec, m
    return None
