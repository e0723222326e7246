"""Delivery code that truly differs per protocol: one module per protocol, named after its id.

A protocol needs a module here only when its registry entry cannot say everything, e.g. a file
published from microdata through disclosure control: ``<protocol>.py`` then has a function
named after the file that maps the published table to the file's columns. Modules are found by
protocol id (:func:`protocol_module`); nothing outside the registry and these modules keys code
or data by a protocol id.
"""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType


def protocol_module(protocol_id: str) -> ModuleType | None:
    """The protocol's own module ``orchestration.deliveries.protocols.<id>``; None if it has
    none."""
    name = f"{__name__}.{protocol_id}"
    if importlib.util.find_spec(name) is None:
        return None
    return importlib.import_module(name)
