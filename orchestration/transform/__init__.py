"""The transform slice: the dbt project as Dagster assets (staging -> intermediate -> marts ->
delivery models), split by selector into the school-year partitioned part and the plain part,
and the sensor that keeps the school-year partitions up to date."""

# What other slices may import from this one: the dbt assets (the cross-slice jobs select them).
PUBLIC_MODULES = ("definitions", "assets")
