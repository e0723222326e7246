"""dbt-duckdb plugin: the recipient-pseudonym macros in every dbt connection, no key in SQL.

Registered in ``dbt_project/profiles.yml``::

    plugins:
      - module: orchestration.deliveries.dbt_plugin

dbt-duckdb calls ``configure_connection`` on the parent connection and ``configure_cursor`` on
each cursor (a DuckDB cursor is a separate client context: temporary macros and session
variables do not carry over), so both register the ``pseudonym_<protocol_id>`` macros of
:mod:`orchestration.deliveries.pseudonyms`. The keys derive from the master key in the dbt
process's environment (the Dagster dbt asset runs ``dbt build`` as a subprocess with the same
environment) and live only in session variables. ``dbt parse`` never connects, so it needs no
key. Delivery models call the macros through ``{{ pseudonym('<protocol_id>', 'pupil_key') }}``
(``macros/deliveries/pseudonym.sql``).
"""

from __future__ import annotations

from typing import Any

from dbt.adapters.duckdb.plugins import BasePlugin

from orchestration.deliveries.pseudonyms import register_pseudonym_macros
from orchestration.protocols import load_registry
from orchestration.foundations.pseudonymisation import master_key


class Plugin(BasePlugin):
    def initialize(self, plugin_config: dict[str, Any]) -> None:
        self._registry = load_registry()
        self._master = master_key()  # fails early on a malformed key, before any model runs

    def _register(self, con) -> None:
        register_pseudonym_macros(con, self._registry, self._master)

    def configure_connection(self, conn) -> None:
        self._register(conn)

    def configure_cursor(self, cursor) -> None:
        self._register(cursor)
