"""Disclosure control for aggregated and school-level outputs (see README.md beside this file).

Every figure that leaves the restricted zone as a number, not a record, passes through
``publish`` (or ``school_portrait`` for one school's own output) with the policy the protocol
registry gives for that output.
"""

from orchestration.disclosure.attack import Audit, Finding, audit, feasible_bounds
from orchestration.disclosure.counting import MISSING
from orchestration.disclosure.differencing import ReleaseRecord, small_differences
from orchestration.disclosure.policy import (DisclosureError, DisclosurePolicy, policy_for,
                                             policy_from_registry)
from orchestration.disclosure.primary import Requirements, SchoolStats, primary_requirements
from orchestration.disclosure.public import (check_columns, check_public_frame, is_rank_column,
                                             is_school_column)
from orchestration.disclosure.publish import (ProtectionNote, Publication, PublishedTable,
                                              publish, to_display)
from orchestration.disclosure.school_scoped import (SchoolPortrait, school_portrait,
                                                    school_portraits, validate_school_id)
from orchestration.disclosure.secondary import Protection, protect
from orchestration.disclosure.tables import TOTAL, CellSystem, Dimension, TableSpec, build_system

__all__ = [
    "MISSING", "TOTAL", "Audit", "CellSystem", "Dimension", "DisclosureError", "DisclosurePolicy", "Finding",
    "Protection", "ProtectionNote", "Publication", "PublishedTable", "ReleaseRecord",
    "Requirements", "SchoolPortrait", "SchoolStats", "TableSpec", "audit", "build_system",
    "check_columns", "check_public_frame", "feasible_bounds", "is_rank_column",
    "is_school_column", "policy_for", "policy_from_registry", "primary_requirements", "protect",
    "publish", "school_portrait", "school_portraits", "small_differences", "to_display",
    "validate_school_id",
]

# What other slices may import from this one.
PUBLIC_MODULES = ()
