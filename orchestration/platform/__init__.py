"""Dagster wiring shared by every slice: school-year partitions, asset keys that cross slices,
the one DbtProject, and the default status of schedules and sensors. It imports only the
foundations, so any slice may use it without importing another slice."""
