"""Deliveries: one dbt model per delivery file, one Dagster asset per protocol, files in the outbox.

See README.md beside this file. Importing the package imports nothing else, so the dbt-duckdb
plugin (``orchestration.deliveries.dbt_plugin``) stays light.
"""

# What other slices may import from this one: the per-protocol pseudonyms and file specs (retention erases by them); the request inbox.
PUBLIC_MODULES = ("definitions", "pseudonyms", "spec", "requests")
