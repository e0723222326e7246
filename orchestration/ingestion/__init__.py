"""Governed ingestion: inbox files -> raw warehouse tables, the vault and quarantine."""
