"""Deliveries: one dbt model per delivery file, one Dagster asset per protocol, files in the outbox.

See README.md beside this file. Importing the package imports nothing else, so the dbt-duckdb
plugin (``orchestration.deliveries.dbt_plugin``) stays light.
"""
