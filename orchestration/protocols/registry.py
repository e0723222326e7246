"""Typed loader of the protocol registry: one YAML file per protocol in ``definitions/``.

The YAML files hold the facts (who, what, when, how long, which columns); this module only
loads them into pydantic models and refuses a registry that is inconsistent. Nothing here
decides what a protocol allows: change the YAML, not the code.

Checked at load time, so a bad edit fails every import of the registry, not a delivery run:

- unique protocol ids (the file name is the id) and unique delivery-file and column ids;
- column types are DuckDB types (varchar, integer, bigint, boolean, date, double, decimal);
- every delivery file has at least one variable, and every variable quotes the protocol;
- identifier columns: every person-level file has one, each names a link group the pseudonym
  scheme declares, and each link group lists exactly the files that carry it;
- dates parse (ISO ``YYYY-MM-DD``), periods and school years are ordered, renewals extend;
- a placeholder end of a research assignment goes with ``validity.end_unconfirmed`` (a term
  the text does not give is shown as unconfirmed, never as a date of the protocol);
- birth year is an integer column ``birth_year`` at ``birth_year_only`` granularity;
- public and school-scoped outputs are aggregates with small-count suppression; a school-scoped
  file names its ``school_column`` (the writer sends one package per school);
- a file has a ``publication`` (measures, optionally microdata) exactly when it suppresses small
  counts; ``filled_at_delivery`` fills columns of its file; ``request_answers`` belongs to the
  ``request_by_insz`` scheme; ``draws_on`` names each source file type once.

Everything that differs between protocols is declared here, so no other module names a protocol
(``tests/architecture/test_protocol_ids.py``); code that truly differs per protocol lives in
``orchestration/deliveries/protocols/<protocol_id>.py``.

Usage::

    from orchestration.protocols import load_registry

    registry = load_registry()
    okan = registry.protocol("antwerpen_okan")
    okan.is_valid_on(datetime.date(2025, 6, 1))  # True
    okan.columns("first_okan_enrolment")  # [("person_code", "varchar"), ...]
"""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

import yaml
from pydantic import (AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field,
                      ValidationError, model_validator)

from orchestration.foundations import school_year as sy

DEFINITIONS_DIR = Path(__file__).resolve().parent / "definitions"

# ------------------------------------------------------------------------------------ vocabularies

ColumnType = Literal["varchar", "integer", "bigint", "boolean", "date", "double", "decimal"]
COLUMN_TYPES: tuple[str, ...] = get_args(ColumnType)

Kind = Literal["record", "aggregate"]

# How fine a column may be. birth_year_only: a year, never a date. antwerp_branch_only: filled
# only when the branch lies in the city of Antwerp (the population's city_nis_code), else empty.
Granularity = Literal[
    "birth_year_only",
    "antwerp_branch_only",
    "country",
    "province",
    "municipality",
    "municipality_or_postcode",
    "postcode",
    "neighbourhood_or_postcode",
    "statistical_sector",
    "school",
    "branch",
]

# per_protocol: HMAC with one key per protocol, one link group.
# shared_within_protocol: HMAC with one key per protocol, shared by named files (link groups).
# per_school_year: HMAC with a key that changes every school year: years cannot be linked.
# identified: the protocol allows identification (INSZ, or a source's own number) in clear.
# request_by_insz: the recipient sends a request file of INSZ numbers; the answer is keyed on it.
Scheme = Literal["per_protocol", "shared_within_protocol", "per_school_year", "identified",
                 "request_by_insz"]
KeyScope = Literal["protocol", "school_year", "cleartext", "request"]
SCHEME_KEY_SCOPES: dict[str, frozenset[str]] = {
    "per_protocol": frozenset({"protocol"}),
    "shared_within_protocol": frozenset({"protocol"}),
    "per_school_year": frozenset({"school_year"}),
    "identified": frozenset({"cleartext"}),
    "request_by_insz": frozenset({"request"}),
}
HASHED_KEY_SCOPES = frozenset({"protocol", "school_year"})

# Who receives a delivery file. public and school_scoped outputs must be suppressed aggregates.
# third_party: a party beyond the protocol's recipient and processors (further sharing, which
# a protocol may subject to consent or prior notice: ``disclosure.further_sharing``).
Audience = Literal["recipient", "processor", "requester", "school_scoped", "public",
                   "third_party"]
# Where a column's value comes from: communicated under the protocol by its source, derived by
# the warehouse from communicated data, or the recipient's own data linked to it.
Origin = Literal["communicated", "derived", "recipient_data"]
PeriodicityKind = Literal["once", "periodic", "on_request", "yearly"]
RetentionRule = Literal["end_of_research_assignment", "years_after_receipt", "years_after_birth",
                        "not_stated"]
LegalGround = Literal["public_task", "legal_obligation", "authorisation"]
EducationLevel = Literal["nursery", "primary", "secondary", "higher", "adult"]
CountingRule = Literal["first_school_day_of_month", "calendar_date", "date_or_next_school_day"]
ListKind = Literal["provisional", "definitive", "single"]
OneFilePer = Literal["school_year", "reference_date", "request", "delivery"]
# Where the delivery writer takes a column it fills at delivery time (never held in dbt): the
# vault's INSZ register, the vault's Rijksregister or DUO identities, or the request file.
FillSource = Literal["insz_register", "rijksregister_identity", "duo_identity", "request",
                     "processor_answer"]
# What a processor hand-off sends: the residence address of the school year (Rijksregister).
HandOffSource = Literal["rijksregister_address"]
# dbt exposure type: analysis (research, statistics) or application (operational use).
ExposureType = Literal["analysis", "application"]
RequestJoin = Literal["left", "inner"]

MONTHS: tuple[str, ...] = ("january", "february", "march", "april", "may", "june", "july",
                           "august", "september", "october", "november", "december")

SNAKE_CASE = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")
_DURATION = re.compile(r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?$")
_WINDOW = re.compile(r"^(first|second)_half_of_(" + "|".join(MONTHS) + r")$")


class RegistryError(ValueError):
    """The protocol registry is inconsistent; the message names the file and the rule."""


# ------------------------------------------------------------------------------------ value types


def _parse_date(value: Any) -> dt.date:
    """ISO dates only: a YAML date, or the string ``YYYY-MM-DD``. No timestamps, no datetimes."""
    if isinstance(value, dt.datetime):
        raise ValueError(f"expected a date, got a date-time {value!r}")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError as exc:
            raise ValueError(f"not a valid date {value!r}: {exc}") from None
    raise ValueError(f"expected an ISO date YYYY-MM-DD, got {value!r}")


def _check_duration(value: str) -> str:
    m = _DURATION.match(value)
    if not m or not any(m.groups()):
        raise ValueError(f"expected an ISO 8601 duration like P1M, P30D or P30Y, got {value!r}")
    return value


def _check_school_year(value: str) -> str:
    sy.start_year(value)  # raises ValueError on anything that is not a school year
    if len(value) != 7:
        raise ValueError(f"write school years in the short form 2023-24, got {value!r}")
    return value


def _check_snake_case(value: str) -> str:
    if not SNAKE_CASE.match(value):
        raise ValueError(f"{value!r} is not snake_case")
    return value


IsoDate = Annotated[dt.date, BeforeValidator(_parse_date)]
Duration = Annotated[str, AfterValidator(_check_duration)]
SchoolYear = Annotated[str, AfterValidator(_check_school_year)]
SnakeId = Annotated[str, AfterValidator(_check_snake_case)]
Text = Annotated[str, Field(min_length=1)]


def duration_parts(duration: str) -> tuple[int, int, int]:
    """``P1Y2M3D`` -> (1, 2, 3)."""
    m = _DURATION.match(_check_duration(duration))
    assert m is not None
    return tuple(int(g or 0) for g in m.groups())  # type: ignore[return-value]


def add_duration(day: dt.date, duration: str) -> dt.date:
    """``day`` plus an ISO duration: years and months on the calendar (clamped to the month's end),
    then days. ``add_duration(date(2024, 1, 31), "P1M")`` is 29 February 2024."""
    years, months, days = duration_parts(duration)
    month_index = day.month - 1 + months
    year = day.year + years + month_index // 12
    month = month_index % 12 + 1
    next_month = dt.date(year + (month == 12), month % 12 + 1, 1)
    last_day = (next_month - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last_day)) + dt.timedelta(days=days)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# ------------------------------------------------------------------------------------ the protocol


class TextReference(_Model):
    """Where the facts come from: a file under shared/ and its article numbers by topic."""

    file: Annotated[str, Field(pattern=r"^protocols/[0-9]{3}_[0-9a-f]+\.txt$")]
    section: str | None = None  # for the 2015 overview: which beraadslaging
    articles: dict[SnakeId, Text] = Field(default_factory=dict)
    remarks: str | None = None


class Party(_Model):
    name: Text
    short_name: Text
    systems: list[SnakeId] = Field(default_factory=list)  # source systems (orchestration.foundations.sources)
    acts_for: str | None = None  # processors: whose processor
    role: str | None = None


class Parties(_Model):
    sources: Annotated[list[Party], Field(min_length=1)]
    recipient: Party
    processors: list[Party] = Field(default_factory=list)
    intermediaries: list[Party] = Field(default_factory=list)
    internal_recipients: list[Text] = Field(default_factory=list)


class LegalBasis(_Model):
    ground: LegalGround
    text: Text
    references: list[Text] = Field(default_factory=list)
    special_categories: bool
    special_categories_exception: str | None = None
    protocol_wording: Text

    @model_validator(mode="after")
    def _exception_needed(self) -> LegalBasis:
        if self.special_categories and not self.special_categories_exception:
            raise ValueError("special categories of personal data need the GDPR art. 9 exception")
        return self


class Renewal(_Model):
    """A new agreement that extends the validity; valid_until None = for an indefinite term."""

    valid_until: IsoDate | None
    reference: Text
    signed: IsoDate | None = None


class UnconfirmedEnd(_Model):
    """An end of the term that the protocol text does not give. The term is shown as
    unconfirmed wherever the validity is shown (processing register, dbt exposure, delivery
    asset), never as a date of the protocol; ``valid_until``, when set, is only the working end
    the warehouse acts on until the real term is known."""

    term: Text  # which term the text leaves open, e.g. "end of the research assignment"
    protocol_wording: Text  # what the text does say about it
    remedy: Text  # what confirms it


class CoveredExchange(_Model):
    """A list exchanged before the protocol took effect that an earlier arrangement covered:
    only such a list may be delivered (the text's words quoted)."""

    counting_date: IsoDate
    list_kind: ListKind
    arrangement: Text
    protocol_wording: Text


class Notice(_Model):
    """Notice of termination given by a party (written, as the texts ask): the protocol ends
    when the registry's notice period has run from ``given_on``; from that day no schedule
    starts and no delivery goes out."""

    given_on: IsoDate
    given_by: Text
    reference: Text  # the letter or decision, e.g. a document number


class Validity(_Model):
    valid_from: IsoDate
    valid_until: IsoDate | None  # None: indefinite (as long as the legal ground exists)
    renewals: list[Renewal] = Field(default_factory=list)
    notice_period: Duration | None = None
    ends_when: Text
    protocol_wording: Text
    # the text's words on when it takes effect ("treedt in werking op datum van ondertekening")
    start_wording: str | None = None
    # lists whose exchange fell before valid_from, delivered only because an arrangement that
    # the registry quotes covered them; every other such list is withheld
    covered_before_start: list[CoveredExchange] = Field(default_factory=list)
    notice: Notice | None = None  # termination: notice given, ends after notice_period
    note: str | None = None
    end_unconfirmed: UnconfirmedEnd | None = None  # the text gives no end (see UnconfirmedEnd)

    @model_validator(mode="after")
    def _ordered(self) -> Validity:
        if self.notice is not None:
            if self.notice_period is None:
                raise ValueError("a notice needs the protocol's notice_period")
            if self.notice.given_on < self.valid_from:
                raise ValueError("notice given before the protocol took effect")
        end = self.valid_until
        if end is not None and end < self.valid_from:
            raise ValueError(f"valid_until {end} is before valid_from {self.valid_from}")
        for renewal in self.renewals:
            if end is None:
                raise ValueError(f"renewal {renewal.reference!r} follows an indefinite term")
            if renewal.valid_until is not None and renewal.valid_until <= end:
                raise ValueError(f"renewal {renewal.reference!r} does not extend the validity "
                                 f"beyond {end}")
            end = renewal.valid_until
        return self

    @property
    def ends_by_notice_on(self) -> dt.date | None:
        """The day the protocol ends after a notice (given_on + notice period): no delivery
        from that day; None without a notice."""
        if self.notice is None or self.notice_period is None:
            return None
        return add_duration(self.notice.given_on, self.notice_period)

    @property
    def effective_until(self) -> dt.date | None:
        """The last valid day after all renewals and a notice; None when indefinite."""
        end = self.renewals[-1].valid_until if self.renewals else self.valid_until
        by_notice = self.ends_by_notice_on
        if by_notice is not None:
            last = by_notice - dt.timedelta(days=1)
            end = last if end is None else min(end, last)
        return end

    def is_valid_on(self, day: dt.date) -> bool:
        day = day.date() if isinstance(day, dt.datetime) else day
        end = self.effective_until
        return self.valid_from <= day and (end is None or day <= end)

    @property
    def end_is_confirmed(self) -> bool:
        """Whether the end of the term (or its absence) is the text's."""
        return self.end_unconfirmed is None or self.ends_by_notice_on is not None

    def end_label(self) -> str:
        """The end of the term as it may be shown to people: a date or "indefinite" only when
        the text gives it; otherwise "unconfirmed", with the working end named as an
        assumption."""
        end = self.effective_until
        if self.end_is_confirmed:  # the text's term, or a notice that ends it
            return end.isoformat() if end else "indefinite"
        working = (f"working end {end.isoformat()} is an assumption, not a date of the text"
                   if end else "treated as indefinite meanwhile")
        return (f"UNCONFIRMED ({self.end_unconfirmed.term}: not given by the text; {working})")


class CountingDate(_Model):
    """A named counting or reference date ("teldag", "situatiedatum", "toestand").

    rule: first_school_day_of_month (month), calendar_date (month and day, whatever the
    weekday) or date_or_next_school_day (month and day, or the first school day after).
    The names are those of ``orchestration.foundations.calendar``.
    """

    name: SnakeId
    rule: CountingRule
    month: Annotated[int, Field(ge=1, le=12)]
    day: Annotated[int, Field(ge=1, le=31)] | None = None
    description: Text
    protocol_wording: Text

    @model_validator(mode="after")
    def _day_fits(self) -> CountingDate:
        if self.rule == "first_school_day_of_month":
            if self.day is not None:
                raise ValueError(f"{self.name}: first_school_day_of_month takes no day")
        else:
            if self.day is None:
                raise ValueError(f"{self.name}: {self.rule} needs a day")
            dt.date(2024, self.month, self.day)  # a leap year: any real day of the month passes
        return self


class AssumedCountingDate(_Model):
    """A counting date the text does not state: the project's choice, with its reason (so a
    yearly protocol can be scheduled). Same rules and names as :class:`CountingDate`."""

    name: SnakeId
    rule: CountingRule
    month: Annotated[int, Field(ge=1, le=12)]
    day: Annotated[int, Field(ge=1, le=31)] | None = None
    description: Text
    reason: Text

    def as_counting_date(self) -> CountingDate:
        return CountingDate(name=self.name, rule=self.rule, month=self.month, day=self.day,
                            description=self.description,
                            protocol_wording=f"(not in the text: {self.reason})")


class Exchange(_Model):
    """One exchange of a list for a counting date, in a window such as second_half_of_october."""

    counting_date: SnakeId
    list_kind: ListKind
    window: Annotated[str, Field(pattern=_WINDOW.pattern)]
    protocol_wording: Text
    # the value a delivered file's list_kind column carries for this list (VOORLOPIG, ...)
    list_value: str | None = None
    note: str | None = None

    @property
    def window_month(self) -> int:
        m = _WINDOW.match(self.window)
        assert m is not None
        return MONTHS.index(m.group(2)) + 1


class Periodicity(_Model):
    kind: PeriodicityKind
    once_only: bool  # the protocol allows one single communication: refuse a second delivery
    description: Text
    protocol_wording: Text
    counting_dates: list[CountingDate] = Field(default_factory=list)
    exchanges: list[Exchange] = Field(default_factory=list)
    adjustable: bool = False  # the parties may change the dates by mutual agreement
    # a date the text does not state, chosen by the project so a yearly protocol can be scheduled
    assumed_counting_date: AssumedCountingDate | None = None

    @model_validator(mode="after")
    def _coherent(self) -> Periodicity:
        if self.once_only and self.kind != "once":
            raise ValueError("once_only requires kind: once")
        if self.assumed_counting_date is not None and self.counting_dates:
            raise ValueError("assumed_counting_date is only for a protocol whose text states no "
                             "counting date")
        names = [c.name for c in self.counting_dates]
        if len(names) != len(set(names)):
            raise ValueError(f"duplicate counting date names in {names}")
        for exchange in self.exchanges:
            if exchange.counting_date not in names:
                raise ValueError("exchange for undeclared counting date "
                                 f"{exchange.counting_date!r}")
        return self

    @property
    def scheduled_counting_dates(self) -> list[CountingDate]:
        """The counting dates deliveries are planned for: the text's, else the assumed one."""
        if self.counting_dates or self.assumed_counting_date is None:
            return list(self.counting_dates)
        return [self.assumed_counting_date.as_counting_date()]

    def counting_date(self, name: str) -> CountingDate:
        for c in self.counting_dates:
            if c.name == name:
                return c
        raise KeyError(f"no counting date {name!r}; known: {[c.name for c in self.counting_dates]}")


class Population(_Model):
    description: Text
    protocol_wording: Text
    school_year_from: SchoolYear | None = None
    school_year_to: SchoolYear | None = None  # None: up to the most recent school year
    education_levels: list[EducationLevel] = Field(default_factory=list)
    age_min: int | None = None
    age_max: int | None = None
    residence: str | None = None
    city_nis_code: Annotated[str, Field(pattern=r"^\d{5}$")] | None = None
    conditions: list[Text] = Field(default_factory=list)

    @model_validator(mode="after")
    def _ordered(self) -> Population:
        _check_year_order(self.school_year_from, self.school_year_to)
        if self.age_min is not None and self.age_max is not None and self.age_min > self.age_max:
            raise ValueError("age_min is above age_max")
        return self


class LinkGroup(_Model):
    """Files whose identifier columns share one key, so they can be joined on it."""

    id: SnakeId
    key_scope: KeyScope
    description: Text
    files: Annotated[list[SnakeId], Field(min_length=1)]
    # readable start of a hashed pseudonym (``DOM`` -> ``DOM1-<hex>``); default: the first three
    # letters of the id in capitals
    prefix: Annotated[str, Field(pattern=r"^[A-Z]{2,5}$")] | None = None


class Pseudonym(_Model):
    scheme: Scheme
    key_version: Annotated[int, Field(ge=1)] | None = None
    description: Text
    protocol_wording: Text
    link_groups: list[LinkGroup] = Field(default_factory=list)
    notes: list[Text] = Field(default_factory=list)

    @model_validator(mode="after")
    def _coherent(self) -> Pseudonym:
        allowed = SCHEME_KEY_SCOPES[self.scheme]
        ids = [g.id for g in self.link_groups]
        if len(ids) != len(set(ids)):
            raise ValueError(f"duplicate link group ids in {ids}")
        for group in self.link_groups:
            if group.key_scope not in allowed:
                raise ValueError(f"link group {group.id!r}: key_scope {group.key_scope!r} does not "
                                 f"fit scheme {self.scheme!r} (allowed: {sorted(allowed)})")
        hashed = any(g.key_scope in HASHED_KEY_SCOPES for g in self.link_groups)
        if hashed and self.key_version is None:
            raise ValueError(f"scheme {self.scheme!r} hashes identifiers: set key_version")
        if not hashed and self.key_version is not None:
            raise ValueError(f"scheme {self.scheme!r} uses no key: key_version must be null")
        if self.scheme == "shared_within_protocol" and not any(len(g.files) > 1
                                                               for g in self.link_groups):
            raise ValueError("shared_within_protocol needs a link group shared by two files")
        return self


class Retention(_Model):
    rule: RetentionRule
    term: Duration | None = None
    research_assignment_end: IsoDate | None = None
    research_assignment_end_is_placeholder: bool = False
    landing_wipe_after: Duration | None = None  # source files deleted from the landing area
    after_term: str | None = None
    description: Text
    protocol_wording: Text

    @model_validator(mode="after")
    def _coherent(self) -> Retention:
        if self.rule == "end_of_research_assignment" and self.research_assignment_end is None:
            raise ValueError("end_of_research_assignment needs research_assignment_end")
        if self.rule in ("years_after_receipt", "years_after_birth") and self.term is None:
            raise ValueError(f"{self.rule} needs a term")
        return self

    def keep_until(self, *, received_on: dt.date | None = None,
                   birth_date: dt.date | None = None) -> dt.date | None:
        """The last day data may be kept; None when the protocol states no term."""
        if self.rule == "end_of_research_assignment":
            return self.research_assignment_end
        if self.rule == "years_after_receipt":
            if received_on is None:
                raise ValueError("years_after_receipt needs received_on")
            return add_duration(received_on, self.term or "")
        if self.rule == "years_after_birth":
            if birth_date is None:
                raise ValueError("years_after_birth needs birth_date")
            return add_duration(birth_date, self.term or "")
        return None


class Quality(_Model):
    """Article 7: how errors the recipient finds are reported and corrected."""

    stated: bool
    reporter: str | None = None
    responder: str | None = None
    report_immediately: bool = False
    investigation_within: Duration | None = None
    measures_within: Duration | None = None
    # the text gives no term but words such as "binnen redelijke termijn": those words, quoted;
    # then investigation_within and measures_within stay empty (no date the text does not give)
    term_wording: str | None = None
    # a reminder period the data steward chose for such a text: shown as the steward's, never
    # as the protocol's deadline
    steward_reminder_within: Duration | None = None
    steward_reminder_note: str | None = None
    correction_by_new_file: bool = False
    follow_up_meeting: Literal["yearly"] | None = None
    protocol_wording: str | None = None

    @model_validator(mode="after")
    def _coherent(self) -> Quality:
        if self.stated and not (self.reporter and self.responder and self.protocol_wording):
            raise ValueError("a stated article 7 needs reporter, responder and protocol_wording")
        if self.term_wording is not None:
            if self.investigation_within or self.measures_within:
                raise ValueError("an article 7 whose terms are words (term_wording) has no "
                                 "investigation_within or measures_within: the text gives none")
            if self.protocol_wording and self.term_wording not in self.protocol_wording:
                raise ValueError(f"term_wording {self.term_wording!r} is not in the quoted "
                                 "protocol_wording")
        if self.steward_reminder_within is not None and self.term_wording is None:
            raise ValueError("steward_reminder_within is only for an article 7 that gives no "
                             "term (term_wording)")
        return self

    @property
    def deadline_is_reasonable_term(self) -> bool:
        """The text says "a reasonable term" (or the like) instead of a period."""
        return self.term_wording is not None


class SharingPermission(_Model):
    """A consent or prior notice recorded for one further sharing (one delivery file to a
    third party)."""

    party: Text  # who consented or was notified (a short name of ``further_sharing.of``)
    kind: Literal["consent", "prior_notice"]
    given_on: IsoDate
    file: SnakeId  # the delivery file shared
    reference: Text  # the letter, e-mail or decision


class FurtherSharing(_Model):
    """What a protocol asks before its data go to a third party (NAFT: consent of DOV and
    Opgroeien; zorgthuis: prior notice to Opgroeien regie): a delivery file whose audience is
    ``public`` or ``third_party`` is refused until every party of ``of`` has a permission of
    kind ``requires`` for it, given on or before the delivery day."""

    requires: Literal["consent", "prior_notice"]
    of: Annotated[list[Text], Field(min_length=1)]
    protocol_wording: Text
    permissions: list[SharingPermission] = Field(default_factory=list)

    def missing(self, file_id: str, day: dt.date) -> list[str]:
        """The parties whose permission for ``file_id`` is not recorded by ``day``."""
        given = {x.party for x in self.permissions
                 if x.file == file_id and x.kind == self.requires and x.given_on <= day}
        return [party for party in self.of if party not in given]


class Disclosure(_Model):
    small_count_threshold: Annotated[int, Field(ge=1)] = 10
    threshold_basis: Text
    publication_allowed: bool
    schools_identifiable_in_public: bool = False
    school_rankings_allowed: bool = False
    school_scoped_access: Literal["own_schools_only"] | None = None
    source_citation: str | None = None  # the source to name in publications
    rules: list[Text] = Field(default_factory=list)
    protocol_wording: Text
    further_sharing: FurtherSharing | None = None


class Variable(_Model):
    name: SnakeId
    type: ColumnType
    description: Text
    protocol_wording: Text
    allowed_values: list[str | int | bool] | None = None
    granularity: Granularity | None = None
    identifier: bool = False
    link_group: SnakeId | None = None
    nullable: bool = True
    origin: Origin = "communicated"
    note: str | None = None  # e.g. an OCR slip in the quoted wording

    @model_validator(mode="after")
    def _coherent(self) -> Variable:
        if self.identifier != (self.link_group is not None):
            raise ValueError(f"{self.name}: an identifier needs a link_group and only an "
                             "identifier has one")
        if "birth_year" in self.name or self.granularity == "birth_year_only":
            if self.name != "birth_year" or self.type != "integer" or \
                    self.granularity != "birth_year_only":
                raise ValueError(f"{self.name}: birth year is the integer column birth_year "
                                 "with granularity birth_year_only")
        if self.allowed_values is not None:
            if not self.allowed_values:
                raise ValueError(f"{self.name}: allowed_values is empty")
            python_types = {"varchar": str, "integer": int, "bigint": int, "boolean": bool}
            expected = python_types.get(self.type)
            if expected is None:
                raise ValueError(f"{self.name}: allowed_values on a {self.type} column")
            for value in self.allowed_values:
                if type(value) is not expected:
                    raise ValueError(f"{self.name}: allowed value {value!r} is not {self.type}")
        return self


class Period(_Model):
    school_year_from: SchoolYear | None = None
    school_year_to: SchoolYear | None = None  # None: up to the most recent school year
    reference_dates: list[SnakeId] = Field(default_factory=list)  # counting-date names
    one_file_per: OneFilePer
    note: str | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Period:
        _check_year_order(self.school_year_from, self.school_year_to)
        return self


class LinkColumn(_Model):
    """An internal column a delivery model carries and the writer drops (never delivered): the
    key that finds an identity in the vault, or a figure disclosure control needs."""

    name: SnakeId
    type: ColumnType
    description: Text


class Fill(_Model):
    """A delivered column the writer fills at delivery time from the vault or the request file,
    so it never sits in the warehouse."""

    column: SnakeId
    source: FillSource
    source_column: SnakeId  # column of the vault table or of the request file


class FilledAtDelivery(_Model):
    why: Text
    fills: list[Fill] = Field(default_factory=list)
    links: list[LinkColumn] = Field(default_factory=list)  # besides pupil_key


class ProcessorHandOff(_Model):
    """Part of a file is made by a processor that never sees identities: the writer sends it a
    file keyed only by the file's pseudonym (``key``) with what it needs (``sends``), and fills
    the ``processor_answer`` columns from the answer files it sends back, joined on that key."""

    processor: Text  # short name of a processor of the protocol (parties.processors)
    why: Text
    key: SnakeId  # the identifier column of the file: the only key the processor sees
    source: HandOffSource
    sends: Annotated[list[SnakeId], Field(min_length=1)]  # columns of the hand-off file
    answers: Annotated[list[SnakeId], Field(min_length=1)]  # columns of the answer file
    protocol_wording: Text


class Measures(_Model):
    """For primary suppression of the aggregated model: which columns are counts, and which
    figures rest on which counts (hidden with them)."""

    counts: list[SnakeId] = Field(default_factory=list)
    derived: dict[SnakeId, list[SnakeId]] = Field(default_factory=dict)


class MicrodataColumn(_Model):
    name: SnakeId
    type: ColumnType
    description: Text


class Microdata(_Model):
    """The never-delivered microdata model ``<protocol>__<file>__microdata`` (one row per unit)
    from which disclosure control publishes the file. The protocol's module
    (``orchestration/deliveries/protocols/<protocol>.py``) maps the published table to the
    file's columns with a function named after the file."""

    grain: Text
    columns: Annotated[list[MicrodataColumn], Field(min_length=1)]
    pupil_key: SnakeId  # the column that counts distinct units
    by: list[SnakeId] = Field(default_factory=list)
    dims: list[SnakeId | list[SnakeId]]  # a column, or a hierarchy (coarse to fine)
    rate_outcome: SnakeId | None = None
    school_column: SnakeId | None = None
    policy_overrides: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _columns_declared(self) -> Microdata:
        names = {c.name for c in self.columns}
        used = [self.pupil_key, *self.by, *(self.rate_outcome, self.school_column)]
        for dim in self.dims:
            used += dim if isinstance(dim, list) else [dim]
        unknown = sorted({u for u in used if u is not None} - names)
        if unknown:
            raise ValueError(f"microdata names undeclared columns {unknown}")
        return self


class Publication(_Model):
    """How a file with ``suppress_small_counts`` is published: from microdata through
    disclosure control, or (without microdata) primary suppression of its measures."""

    measures: Measures
    microdata: Microdata | None = None


class CountPurpose(_Model):
    """One purpose a count serves, as the text names it (zorgthuis art. 2: the operating
    budgets, the teaching periods in primary, the integrated support offer in secondary): the
    education levels it applies to, the legal article it points to, and the coefficient the text
    gives (None: the text gives none, the count is delivered unweighted). The file carries one
    row per purpose and article (``funding_purpose``, ``legal_reference``); the dbt seed
    ``count_purposes`` is generated from here."""

    purpose: SnakeId
    education_levels: Annotated[list[EducationLevel], Field(min_length=1)]
    legal_reference: Text
    coefficient: Annotated[float, Field(gt=0)] | None = None
    protocol_wording: Text
    note: str | None = None


class DeliveryFile(_Model):
    id: SnakeId
    description: Text
    protocol_wording: Text  # the heading or row of the protocol that allows this file
    grain: Annotated[str, Field(pattern=r"^one row per ")]
    kind: Kind
    person_level: bool  # rows describe a person or carry a person's key
    audience: Audience
    suppress_small_counts: bool
    period: Period
    variables: Annotated[list[Variable], Field(min_length=1)]
    variables_complete: bool = True  # False: the available text does not enumerate them all
    notes: list[Text] = Field(default_factory=list)
    filled_at_delivery: FilledAtDelivery | None = None
    publication: Publication | None = None
    # school_scoped files: the column naming the school that receives each row; the writer
    # sends one package per school holding only that school's rows
    school_column: SnakeId | None = None
    processor_hand_off: ProcessorHandOff | None = None
    count_purposes: list[CountPurpose] = Field(default_factory=list)

    @model_validator(mode="after")
    def _coherent(self) -> DeliveryFile:
        names = [v.name for v in self.variables]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"file {self.id}: duplicate columns {duplicates}")
        if self.count_purposes:
            purposes = {c.purpose for c in self.count_purposes}
            needed = {"funding_purpose", "legal_reference"}
            if not needed <= set(names):
                raise ValueError(f"file {self.id}: count_purposes need the columns "
                                 f"{sorted(needed)}")
            allowed = set(self.variable("funding_purpose").allowed_values or [])
            if allowed != purposes:
                raise ValueError(f"file {self.id}: funding_purpose allows {sorted(allowed)}, "
                                 f"count_purposes declare {sorted(purposes)}")
            pairs = [(c.purpose, level) for c in self.count_purposes
                     for level in c.education_levels]
            if len(pairs) != len(set(pairs)):
                raise ValueError(f"file {self.id}: a purpose names an education level twice")
        identifiers = [v.name for v in self.variables if v.identifier]
        if self.person_level and not identifiers:
            raise ValueError(f"file {self.id}: person-level file without an identifier column")
        if not self.person_level and identifiers:
            raise ValueError(f"file {self.id}: identifier columns {identifiers} in a file that "
                             "is not person-level")
        if self.audience == "third_party" and (self.kind != "aggregate" or self.person_level):
            raise ValueError(f"file {self.id}: a third_party output must be a non-person-level "
                             "aggregate")
        if self.audience in ("public", "school_scoped"):
            if self.kind != "aggregate" or self.person_level or not self.suppress_small_counts:
                raise ValueError(f"file {self.id}: a {self.audience} output must be a "
                                 "non-person-level aggregate with small-count suppression")
        if (self.audience == "school_scoped") != (self.school_column is not None):
            raise ValueError(f"file {self.id}: a school_scoped file, and only such a file, names "
                             "its school_column (one package per school)")
        if self.school_column is not None and self.school_column not in names:
            raise ValueError(f"file {self.id}: school_column {self.school_column!r} is not a "
                             "column of the file")
        answered = [f for f in (self.filled_at_delivery.fills if self.filled_at_delivery else [])
                    if f.source == "processor_answer"]
        hand_off = self.processor_hand_off
        if bool(answered) != (hand_off is not None):
            raise ValueError(f"file {self.id}: processor_answer fills need a processor_hand_off, "
                             "and a hand-off needs the columns its answer fills")
        if hand_off is not None:
            if hand_off.key not in identifiers:
                raise ValueError(f"file {self.id}: the hand-off key {hand_off.key!r} must be an "
                                 "identifier column of the file (the only key the processor sees)")
            unknown = sorted({f.source_column for f in answered} - set(hand_off.answers))
            if unknown:
                raise ValueError(f"file {self.id}: fills take {unknown}, which the processor "
                                 "does not answer")
        if self.suppress_small_counts != (self.publication is not None):
            raise ValueError(f"file {self.id}: a file with suppress_small_counts needs a "
                             "publication (measures, optionally microdata), and only such a file "
                             "has one")
        if self.publication is not None:
            m = self.publication.measures
            unknown = sorted({*m.counts, *m.derived, *(c for b in m.derived.values() for c in b)}
                             - {*names, *self.link_column_names})
            if unknown:
                raise ValueError(f"file {self.id}: publication measures name unknown columns "
                                 f"{unknown}")
        if self.filled_at_delivery is not None:
            filled = [f.column for f in self.filled_at_delivery.fills]
            unknown = sorted(set(filled) - set(names))
            if unknown:
                raise ValueError(f"file {self.id}: filled_at_delivery fills {unknown}, which are "
                                 "not columns of the file")
            clash = sorted(set(self.link_column_names) & set(names))
            if clash:
                raise ValueError(f"file {self.id}: link columns {clash} are delivered columns")
        return self

    @property
    def filled_columns(self) -> list[str]:
        """Delivered columns the writer fills at delivery time (never held in dbt)."""
        fills = self.filled_at_delivery.fills if self.filled_at_delivery else []
        return [f.column for f in fills]

    @property
    def link_column_names(self) -> list[str]:
        links = self.filled_at_delivery.links if self.filled_at_delivery else []
        return [c.name for c in links]

    @property
    def column_names(self) -> list[str]:
        return [v.name for v in self.variables]

    @property
    def identifier_columns(self) -> list[Variable]:
        return [v for v in self.variables if v.identifier]

    def variable(self, name: str) -> Variable:
        for v in self.variables:
            if v.name == name:
                return v
        raise KeyError(f"file {self.id} has no column {name!r}; columns: {self.column_names}")


class SourceUse(_Model):
    """A source file type a protocol draws on (``orchestration.foundations.sources``), and the
    school years of it the protocol covers when the text limits them. In YAML a bare file type
    stands for an unlimited use."""

    file_type: SnakeId
    school_year_from: SchoolYear | None = None
    school_year_to: SchoolYear | None = None

    @model_validator(mode="before")
    @classmethod
    def _bare_file_type(cls, value: Any) -> Any:
        return {"file_type": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _ordered(self) -> SourceUse:
        _check_year_order(self.school_year_from, self.school_year_to)
        return self


class RequestAnswers(_Model):
    """How a request file meets the answer model (on-request protocols): ``left`` answers every
    request line (a line without a match gets ``defaults``, column -> value), ``inner`` only
    lines with a match."""

    join: RequestJoin
    defaults: dict[SnakeId, str | int | bool] = Field(default_factory=dict)


class BreachNotification(_Model):
    """Art. 9/10 ("Meldingsplichten"): whom a data breach is told to and how fast, in the
    text's words; GDPR art. 33, to which the texts refer, gives the controller 72 hours to
    notify the supervisory authority."""

    notify: Annotated[list[Text], Field(min_length=1)]  # the DPOs the text names
    deadline_wording: Text  # e.g. "zonder onredelijke vertraging"
    condition: str | None = None  # e.g. "met impact op beide partijen"
    authority_within_hours: Annotated[int, Field(gt=0)] = 72
    protocol_wording: Text


class Protocol(_Model):
    id: SnakeId
    title: Text
    title_nl: Text
    text_reference: TextReference
    parties: Parties
    legal_basis: LegalBasis
    purpose: Text
    date_signed: IsoDate
    validity: Validity
    periodicity: Periodicity
    population: Population
    pseudonym: Pseudonym
    retention: Retention
    quality: Quality
    disclosure: Disclosure
    security: list[Text] = Field(default_factory=list)
    delivery_files: Annotated[list[DeliveryFile], Field(min_length=1)]
    # the source file types (orchestration.foundations.sources) whose data the protocol uses
    draws_on: Annotated[list[SourceUse], Field(min_length=1)]
    exposure_type: ExposureType  # the protocol as a dbt exposure
    request_answers: RequestAnswers | None = None
    breach_notification: BreachNotification | None = None
    digest_disagreements: list[Text] = Field(default_factory=list)
    decisions: list[Text] = Field(default_factory=list)

    @model_validator(mode="after")
    def _coherent(self) -> Protocol:
        ids = [f.id for f in self.delivery_files]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"duplicate delivery file ids {duplicates}")
        if self.validity.valid_from < self.date_signed:
            raise ValueError("valid_from is before date_signed")
        if (self.pseudonym.scheme == "request_by_insz") != (self.request_answers is not None):
            raise ValueError("request_answers is required for, and only for, the "
                             "request_by_insz scheme")
        if len(self.file_types) != len(set(self.file_types)):
            raise ValueError(f"duplicate source file types in draws_on {self.file_types}")
        if self.request_answers is not None:
            columns = {v.name for f in self.delivery_files for v in f.variables}
            unknown = sorted(set(self.request_answers.defaults) - columns)
            if unknown:
                raise ValueError(f"request_answers defaults name unknown columns {unknown}")
        if self.retention.research_assignment_end_is_placeholder and \
                self.validity.end_unconfirmed is None:
            raise ValueError("retention.research_assignment_end is a placeholder: mark the "
                             "term as validity.end_unconfirmed")
        sharing = self.disclosure.further_sharing
        if sharing is not None:
            for permission in sharing.permissions:
                if permission.party not in sharing.of:
                    raise ValueError(f"further_sharing permission of {permission.party!r}, who "
                                     f"is not among {sharing.of}")
                if permission.file not in ids:
                    raise ValueError(f"further_sharing permission for unknown file "
                                     f"{permission.file!r}")
        end = self.retention.research_assignment_end
        if end is not None and self.validity.valid_until is not None and \
                self.validity.valid_until > end:
            raise ValueError("the protocol cannot stay valid after the research assignment ends")
        processors = {x.short_name for x in self.parties.processors}
        for f in self.delivery_files:
            if f.processor_hand_off and f.processor_hand_off.processor not in processors:
                raise ValueError(f"file {f.id}: hand-off to {f.processor_hand_off.processor!r}, "
                                 f"not a processor of the protocol {sorted(processors)}")
        counting = {c.name for c in self.periodicity.counting_dates}
        groups = {g.id: g for g in self.pseudonym.link_groups}
        carried: dict[str, set[str]] = {g: set() for g in groups}
        for f in self.delivery_files:
            unknown = sorted(set(f.period.reference_dates) - counting)
            if unknown:
                raise ValueError(f"file {f.id}: reference dates {unknown} are not among the "
                                 f"protocol's counting dates {sorted(counting)}")
            for v in f.identifier_columns:
                if v.link_group not in groups:
                    raise ValueError(f"file {f.id}: column {v.name} names undeclared link group "
                                     f"{v.link_group!r}; declared: {sorted(groups)}")
                carried[v.link_group].add(f.id)
        for gid, group in groups.items():
            if set(group.files) != carried[gid]:
                raise ValueError(f"link group {gid!r} lists files {sorted(group.files)} but its "
                                 f"identifier is carried by {sorted(carried[gid])}")
        return self

    # ---------------------------------------------------------------- API

    def delivery_file(self, file_id: str) -> DeliveryFile:
        for f in self.delivery_files:
            if f.id == file_id:
                return f
        raise KeyError(f"protocol {self.id} has no delivery file {file_id!r}; "
                       f"files: {[f.id for f in self.delivery_files]}")

    def columns(self, file_id: str) -> list[tuple[str, str]]:
        """The (name, DuckDB type) pairs of a delivery file, in order: its contract."""
        return [(v.name, v.type) for v in self.delivery_file(file_id).variables]

    def is_valid_on(self, day: dt.date) -> bool:
        """Whether a delivery may be made on ``day``: within the term, renewals included."""
        return self.validity.is_valid_on(day)

    @property
    def valid_until(self) -> dt.date | None:
        """The last valid day after renewals; None when indefinite."""
        return self.validity.effective_until

    @property
    def file_types(self) -> list[str]:
        """The source file types the protocol draws on (``draws_on``)."""
        return [use.file_type for use in self.draws_on]

    def source_use(self, file_type: str) -> SourceUse:
        for use in self.draws_on:
            if use.file_type == file_type:
                return use
        raise KeyError(f"protocol {self.id} does not draw on {file_type!r}")

    @property
    def answers_with_request_reference(self) -> bool:
        """True when an answer echoes the requester's own line reference (``request_id``), so
        every request line must carry one."""
        return any(fill.source == "request" and fill.source_column == "request_id"
                   for f in self.delivery_files for fill in
                   (f.filled_at_delivery.fills if f.filled_at_delivery else []))

    @property
    def is_pseudonymised(self) -> bool:
        """True when deliveries carry keyed pseudonyms instead of real identifiers."""
        return self.pseudonym.scheme in ("per_protocol", "shared_within_protocol",
                                         "per_school_year")


class Registry(_Model):
    protocols: dict[str, Protocol]

    def protocol(self, protocol_id: str) -> Protocol:
        try:
            return self.protocols[protocol_id]
        except KeyError:
            raise KeyError(f"unknown protocol {protocol_id!r}; known: {sorted(self.protocols)}") \
                from None

    @property
    def ids(self) -> list[str]:
        return sorted(self.protocols)

    def all_delivery_files(self) -> list[tuple[Protocol, DeliveryFile]]:
        return [(p, f) for p in self.protocols.values() for f in p.delivery_files]

    def valid_on(self, day: dt.date) -> list[Protocol]:
        return [p for p in self.protocols.values() if p.is_valid_on(day)]

    def drawing_on(self, file_type: str) -> list[Protocol]:
        """The protocols that use a source file type, in id order."""
        return [self.protocols[pid] for pid in self.ids
                if file_type in self.protocols[pid].file_types]


def _check_year_order(first: str | None, last: str | None) -> None:
    if first is not None and last is not None and sy.start_year(first) > sy.start_year(last):
        raise ValueError(f"school year {first} is after {last}")


# ------------------------------------------------------------------------------------ loading


def load_registry_from(directory: Path | str) -> Registry:
    """Load and validate every ``*.yaml`` in ``directory`` (uncached; tests use copies)."""
    directory = Path(directory)
    paths = sorted(directory.glob("*.yaml"))
    if not paths:
        raise RegistryError(f"no protocol definitions in {directory}")
    protocols: dict[str, Protocol] = {}
    for path in paths:
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise RegistryError(f"{path.name}: not valid YAML: {exc}") from exc
        if not isinstance(raw, dict):
            raise RegistryError(f"{path.name}: expected a mapping at the top level")
        if raw.get("id") != path.stem:
            raise RegistryError(f"{path.name}: id {raw.get('id')!r} must equal the file name "
                                f"{path.stem!r}")
        try:
            protocol = Protocol.model_validate(raw)
        except ValidationError as exc:
            raise RegistryError(f"{path.name}: {exc}") from exc
        if protocol.id in protocols:  # cannot happen with one file per id, kept as a guard
            raise RegistryError(f"{path.name}: duplicate protocol id {protocol.id!r}")
        protocols[protocol.id] = protocol
    return Registry(protocols=protocols)


@lru_cache(maxsize=1)
def load_registry() -> Registry:
    """The project's registry from ``definitions/``, loaded once per process."""
    return load_registry_from(DEFINITIONS_DIR)


def all_delivery_files() -> list[tuple[Protocol, DeliveryFile]]:
    """Every (protocol, delivery file) pair of the project's registry."""
    return load_registry().all_delivery_files()
