"""The retention slice: the registry's retention rules turned into a plan (``plan``), what the
warehouse holds (``inventory``), erasure (``erasure``), the CLI (``python -m
orchestration.retention``) and the Dagster job and schedule (``jobs``, ``definitions``)."""

# What other slices may import from this one: the retention rules per source and protocol (the processing register shows them).
PUBLIC_MODULES = ("definitions", "plan")
