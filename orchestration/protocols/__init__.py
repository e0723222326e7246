"""The protocol registry: the single source of truth of what each protocol allows.

One YAML file per protocol in ``definitions/`` holds the facts; ``registry`` loads and validates
them. See README.md beside this file.
"""

from orchestration.protocols.registry import (
    COLUMN_TYPES,
    DEFINITIONS_DIR,
    DeliveryFile,
    Protocol,
    Registry,
    RegistryError,
    Variable,
    add_duration,
    all_delivery_files,
    load_registry,
    load_registry_from,
)

__all__ = [
    "COLUMN_TYPES",
    "DEFINITIONS_DIR",
    "DeliveryFile",
    "Protocol",
    "Registry",
    "RegistryError",
    "Variable",
    "add_duration",
    "all_delivery_files",
    "load_registry",
    "load_registry_from",
]
