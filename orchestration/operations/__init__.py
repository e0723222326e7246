"""Operations: protocol calendars as schedules, inbox sensors, retention and erasure, audit trail.

Pure logic lives in plain modules with unit tests; the Dagster objects are thin wrappers:

- ``audit``      append-only, hash-chained audit log outside DuckDB (``record``, ``verify``)
- ``exchanges``  which delivery each periodic protocol owes on a given day (from the registry
                 and ``orchestration.calendar``)
- ``admission``  the inbox gatekeeper: new, already seen, unknown or refused files
- ``retention``  retention rules from the registry turned into a plan of erasures
- ``inventory``  what the warehouse, the vault and the data folders hold (read-only)
- ``erasure``    applying a plan: rows deleted, files deleted, DuckDB files rebuilt and verified
- ``register``   the GDPR art. 30 processing register page
- ``jobs``, ``schedules``, ``sensors``, ``assets``: the Dagster wrappers
- ``definitions`` the lists the code location gathers (``operations_jobs`` and so on)

This ``__init__`` imports nothing, so ``orchestration.operations.audit`` can be imported by the
ingestion assets without pulling in Dagster definitions (no import cycle).
"""
