"""The compliance slice: what the data-protection officer and the steward check, the audit
trail as an asset (with its chain check) and the GDPR art. 30 processing register."""

# What other slices may import from this one.
PUBLIC_MODULES = ("definitions",)
