"""Privacy scans for quality outputs: no INSZ, no name or street from the vault, no pupil key.

Check results, GX validation results and Data Docs pages, and the reports to the sources are
searched for

- valid INSZ numbers (the token pattern of ``tests.privacy``, python-stdnum): any INSZ of the
  vault is a leak; another checksum-valid 11-digit token is one too, unless it is a value of a
  source's own plain record key (a Discimus ``Inschrijving_id`` can happen to pass the INSZ
  checksum, and the report to Discimus carries it back on purpose);
- every surname, first name and street the vault holds (whole words, case-sensitive), except the
  few that are also words of the project's own generated text (a first name "August" against
  "31 August" in a rule description): such text holds no data, so a match proves nothing;
- the warehouse's pupil and record keys (64-hex pseudonyms).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import dagster as dg
from stdnum.be import ssn

from orchestration.foundations import settings
from orchestration.foundations.warehouse import connect
from tests.privacy import INSZ_TOKEN

HEX_KEY = re.compile(r"(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])")
NAME_COLUMNS = ("achternaam", "voornamen", "naam", "straat")
MIN_NAME_LENGTH = 4  # shorter tokens ("Jan", "Lea") also occur as ordinary words


def static_vocabulary() -> set[str]:
    """Words of the generated suites and rule texts (no data in them)."""
    from orchestration.quality.suites import SUITES_DIR

    text = " ".join(f.read_text(encoding="utf-8") for f in SUITES_DIR.glob("*.json"))
    return set(re.findall(r"[A-Za-z][\w'-]*", text))


def vault_insz(p: settings.Paths) -> set[str]:
    with connect(p, vault=True, read_only=True) as con:
        return {i for (i,) in con.execute("select insz from vault.insz_register").fetchall()}


def own_key_values(p: settings.Paths) -> set[str]:
    """Values of the sources' own plain record keys (digits only), as the reports carry them."""
    from orchestration.foundations.sources import SOURCE_FILES

    values: set[str] = set()
    with connect(p, read_only=True) as con:
        for spec in SOURCE_FILES:
            plain = [c.name for c in spec.columns if c.name in spec.key_columns
                     and c.sensitivity == "plain"]
            for column in plain:
                values.update(re.sub(r"\D", "", v) for (v,) in con.execute(
                    f"select distinct {column} from raw.{spec.file_type} "
                    f"where {column} is not null").fetchall())
    return values


def vault_names(p: settings.Paths) -> set[str]:
    """Every surname, first name and street of the vault's identity tables (minus the words of
    the project's own generated text, see the module docstring)."""
    names: set[str] = set()
    with connect(p, vault=True, read_only=True) as con:
        tables = [t for (t,) in con.execute(
            "select table_name from duckdb_tables() where database_name = 'vault' "
            "and table_name like 'identity_%'").fetchall()]
        for table in tables:
            columns = [c for (c,) in con.execute(
                "select column_name from duckdb_columns() where database_name = 'vault' "
                "and table_name = ?", [table]).fetchall() if c in NAME_COLUMNS]
            for column in columns:
                for (value,) in con.execute(f"select distinct {column} from vault.{table} "
                                            f"where {column} is not null").fetchall():
                    names.update(w for w in re.split(r"[\s,]+", value)
                                 if len(w) >= MIN_NAME_LENGTH)
    return names - static_vocabulary()


def warehouse_keys(p: settings.Paths) -> set[str]:
    """Every pupil key and record key of the raw tables (pseudonyms: never in outputs either)."""
    keys: set[str] = set()
    with connect(p, read_only=True) as con:
        for table, column in con.execute(
                "select table_name, column_name from duckdb_columns() "
                "where database_name = current_database() and schema_name = 'raw' "
                "and column_name in ('pupil_key', 'record_key')").fetchall():
            keys.update(k for (k,) in con.execute(
                f"select distinct {column} from raw.{table} where {column} is not null"
            ).fetchall())
    return keys


def check_results_text(result: dg.ExecuteInProcessResult) -> str:
    """The quality checks' results and the register's materializations of a run, as text."""
    from orchestration.quality.checks import FINDINGS_KEY, REPORTS_KEY, quality_checks

    ours = {key for node in quality_checks for key in node.check_keys}
    parts = []
    for e in result.get_asset_check_evaluations():
        if e.asset_check_key in ours:
            parts.append(json.dumps({k: str(v.value) for k, v in e.metadata.items()}))
            parts.append(e.description or "")
    for m in result.get_asset_materialization_events():
        if m.asset_key in (FINDINGS_KEY, REPORTS_KEY):
            mat = m.step_materialization_data.materialization
            parts.append(json.dumps({k: str(v.value) for k, v in mat.metadata.items()}))
    assert parts, "no quality check ran"
    return "\n".join(parts)


def text_files(*roots: Path) -> dict[str, str]:
    """Text of every result, page and report file below the roots (GX's static assets, the
    vendored fonts and scripts of Data Docs, are not output and are skipped)."""
    out = {}
    for root in roots:
        for path in root.rglob("*"):
            if path.is_file() and "static" not in path.parts and \
                    path.suffix in (".html", ".json", ".md", ".csv", ".yml", ".txt"):
                out[str(path)] = path.read_text(encoding="utf-8", errors="replace")
    return out


def personal_values(texts: dict[str, str], names: set[str], keys: set[str] = frozenset(),
                    insz: set[str] = frozenset(), own_keys: set[str] = frozenset()
                    ) -> dict[str, list[str]]:
    """{where: [what]} for every INSZ, vault name or warehouse pupil/record key found."""
    found: dict[str, list[str]] = {}
    pattern = re.compile(r"\b(" + "|".join(re.escape(n) for n in sorted(names)) + r")\b") \
        if names else None
    for where, text in texts.items():
        tokens = {re.sub(rb"\D", b"", m.group(1)).decode()
                  for m in INSZ_TOKEN.finditer(text.encode())}
        hits = sorted(t for t in tokens
                      if t in insz or (ssn.is_valid(t) and t not in own_keys))
        if pattern:
            hits += sorted({m.group(1) for m in pattern.finditer(text)})
        hits += ["<pupil or record key>"] * any(k in keys for k in HEX_KEY.findall(text))
        if hits:
            found[where] = hits[:10]
    return found
