"""Data-quality layer: Great Expectations 1.x validations on the DuckDB warehouse, in SQL."""
