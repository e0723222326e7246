"""Data-quality layer (article 7 of every protocol): Great Expectations 1.x in SQL on DuckDB.

- ``rules``: the article-7 rule catalogue (category, severity, blocking, one SQL per rule).
- ``suites``: the GX file context in ``expectations/gx`` generated from the catalogue, and the
  working copy GX uses at run time (``<data>/quality/gx``, with the Data Docs).
- ``register``: the findings register (``quality.findings`` and records, deadlines per protocol,
  lifecycle open / overdue / resolved, deliveries that carried affected records).
- ``reports``: reports to each source (``<outbox>/quality/<source>/<date>/``) and the yearly
  antwerpen_okan quality summary.
- ``checks``: the Dagster asset checks and asset specs (``quality_checks``, ``quality_assets``).
- ``ground_truth``: recall against the synthetic generator's injected defects.
- ``gx_duckdb`` and ``gx_runner``: the fixed GX engine for DuckDB and the privacy-safe runner.
"""

# What other slices may import from this one.
PUBLIC_MODULES = ("definitions", "holds")
