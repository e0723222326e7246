"""Foundations: pure code every slice builds on, with no Dagster in it and no import of anything
above it (a test reads the import graph).

- ``settings``: where the data lives, DuckDB settings, from the environment
- ``school_year``, ``calendar``: school years, the Flemish school calendar, counting dates
- ``sources``: the contract of every source file type; ``raw_layout``: what a file becomes in raw
- ``pseudonymisation``: the keyed pupil key and key derivation
- ``warehouse``: opening the warehouse and the vault, the one concurrency pool
- ``audit``: the append-only, hash-chained audit trail everything writes to
- ``hashing``: a file's SHA-256
- ``generated_files``: writing and drift-checking files generated from a declaration (dbt YAML)
"""
