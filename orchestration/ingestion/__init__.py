"""Governed ingestion: inbox files -> raw warehouse tables, the vault and quarantine."""

# What other slices may import from this one: dropping the bundled sample in the inbox.
PUBLIC_MODULES = ("definitions", "sample")
