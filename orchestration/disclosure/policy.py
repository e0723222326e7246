"""What disclosure control one output gets, read from the protocol registry.

Why a separate policy object: the protection code must not know protocols. The registry says,
per protocol, the small-count threshold and whether schools may be identified or ranked, and per
delivery file its audience and whether small counts are suppressed. ``policy_for`` turns those
facts into one frozen value that every function of this package takes.

Fields the registry does not carry (yet) have project defaults here and are read from the
registry's ``disclosure`` section as soon as it gets them (same names): ``zeros_disclosive``,
``extreme_rates_disclosive``, ``min_schools_per_cell``, ``school_protection_ratio`` and
``protect_against_school_subtraction``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Literal

Audience = Literal["recipient", "processor", "requester", "school_scoped", "public"]

# Eurostat/ESSnet output-checking guidance and AI-SDC ACRO's default minimum frequency
# (shared/DOMAIN.md section 8). The registry repeats it per protocol.
DEFAULT_THRESHOLD = 10
# Any published figure covers at least this many schools (antwerpen_okan: schools are never
# identifiable in public reports).
DEFAULT_MIN_SCHOOLS = 3
# A figure built from fewer than min_schools schools is hidden so that it can be estimated no
# closer than max(threshold, ratio * value) on either side (ACRO's p-ratio parameter is 0.10).
DEFAULT_SCHOOL_PROTECTION_RATIO = 0.10


class DisclosureError(ValueError):
    """An output cannot be protected or published as asked; the message says why, no values."""


@dataclass(frozen=True)
class DisclosurePolicy:
    """The disclosure rules for one output (protocol + delivery file).

    ``audience``: ``public`` (anyone: all rules), ``school_scoped`` (one school sees its own
    figures), ``processor``/``recipient``/``requester`` (not published: small counts are still
    suppressed when ``suppress_small_counts`` is set, school rules do not apply).
    """

    protocol_id: str
    output_id: str
    audience: Audience
    suppress_small_counts: bool = True
    threshold: int = DEFAULT_THRESHOLD
    threshold_basis: str = "project default (Eurostat/ACRO minimum frequency)"
    publication_allowed: bool = False
    schools_identifiable: bool = False
    rankings_allowed: bool = False
    school_scoped_access: str | None = None
    source_citation: str | None = None
    rules: tuple[str, ...] = ()
    # A true zero in a count table is shown (it counts nobody). Set True to hide zeros as ACRO
    # does by default; then every suppressed cell may be 0 and the audit assumes so.
    zeros_disclosive: bool = False
    # A rate of 0% or 100% tells every member of the group has (not) the outcome: hidden.
    extreme_rates_disclosive: bool = True
    min_schools_per_cell: int = DEFAULT_MIN_SCHOOLS
    school_protection_ratio: float = DEFAULT_SCHOOL_PROTECTION_RATIO
    # A school that subtracts its own pupils from a published figure must not be left with a
    # small count of other schools' pupils.
    protect_against_school_subtraction: bool = True
    # Columns that identify a school or branch in this output's inputs (from the registry's
    # variables at granularity school/branch); never published in a public output.
    school_columns: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if self.threshold < 2:
            raise DisclosureError(f"{self.output_id}: a threshold below 2 protects nothing")
        if self.min_schools_per_cell < 1:
            raise DisclosureError(f"{self.output_id}: min_schools_per_cell must be at least 1")
        if not 0 <= self.school_protection_ratio < 1:
            raise DisclosureError(f"{self.output_id}: school_protection_ratio must be in [0, 1)")

    @property
    def is_public(self) -> bool:
        return self.audience == "public"

    @property
    def is_school_scoped(self) -> bool:
        return self.audience == "school_scoped"

    @property
    def school_rules_apply(self) -> bool:
        """Schools must stay unidentifiable: public outputs and school-scoped benchmarks."""
        return self.audience in ("public", "school_scoped") and not self.schools_identifiable

    @property
    def small_range(self) -> tuple[int, int]:
        """The counts that may not be shown or derived exactly: 1 .. threshold-1."""
        return 1, self.threshold - 1

    def school_margin(self, value: int) -> int:
        """How far a figure from too few schools must stay uncertain, on either side."""
        return max(self.threshold, math.ceil(self.school_protection_ratio * value))

    def with_overrides(self, **changes) -> DisclosurePolicy:
        """A copy with some fields changed (tests, or a stricter run)."""
        return replace(self, **changes)


_OPTIONAL_REGISTRY_FIELDS = ("zeros_disclosive", "extreme_rates_disclosive",
                             "min_schools_per_cell", "school_protection_ratio",
                             "protect_against_school_subtraction")


def policy_from_registry(protocol, delivery_file) -> DisclosurePolicy:
    """Build the policy from a registry ``Protocol`` and one of its ``DeliveryFile`` objects."""
    d = protocol.disclosure
    extra = {name: getattr(d, name) for name in _OPTIONAL_REGISTRY_FIELDS
             if getattr(d, name, None) is not None}
    school_columns = tuple(v.name for v in delivery_file.variables
                           if v.granularity in ("school", "branch", "antwerp_branch_only"))
    return DisclosurePolicy(
        protocol_id=protocol.id,
        output_id=delivery_file.id,
        audience=delivery_file.audience,
        suppress_small_counts=delivery_file.suppress_small_counts,
        threshold=d.small_count_threshold,
        threshold_basis=" ".join(d.threshold_basis.split()),
        publication_allowed=d.publication_allowed,
        schools_identifiable=d.schools_identifiable_in_public,
        rankings_allowed=d.school_rankings_allowed,
        school_scoped_access=d.school_scoped_access,
        source_citation=d.source_citation,
        rules=tuple(d.rules),
        school_columns=school_columns,
        **extra,
    )


def policy_for(protocol_id: str, output_id: str, registry=None) -> DisclosurePolicy:
    """The policy of delivery file ``output_id`` of protocol ``protocol_id`` (project registry
    unless another is given). Refuses a public output of a protocol that allows no publication.
    """
    if registry is None:
        from orchestration.protocols import load_registry
        registry = load_registry()
    protocol = registry.protocol(protocol_id)
    policy = policy_from_registry(protocol, protocol.delivery_file(output_id))
    if policy.is_public and not policy.publication_allowed:
        raise DisclosureError(f"{protocol_id}/{output_id}: the protocol allows no publication")
    return policy
