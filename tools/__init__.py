"""Tools that are not part of the Dagster code location: the synthetic generator
(``python -m tools.synthetic``) and the benchmark (``python -m tools.benchmark``)."""
