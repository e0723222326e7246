"""A local geocoder standing in for the processor of a hand-off (vtc_2015_34: CEVI nv).

The warehouse hands the processor one CSV per school year (``key;postcode;street;house_number``,
keyed only by the school-year pseudonym) in ``data/outbox/processors/<processor>/<protocol>/``;
a real processor geo-references the addresses and answers the statistical sector per key. For
the synthetic sample this tool answers instead, from a small shipped table
(``statistical_sectors.csv``: postcode, street, statistical sector; synthetic, made from the
sample's streets by :func:`build_sector_table`), and writes ``key;statistical_sector`` into the
answer folder ``data/inbox/processors/<processor>/<protocol>/``. An address whose street is not
in the table gets no answer. Set-based in DuckDB: one query per hand-off file.

    python -m tools.geocoder                 # answer every hand-off file of the data folder
    python -m tools.geocoder --build-table   # rebuild the table from data/sample/rijksregister

The tool sees keys and addresses only, like the processor it stands for; it is outside the code
location (Dagster never imports it).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

SECTORS = Path(__file__).resolve().parent / "statistical_sectors.csv"
SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample" / "rijksregister"


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def answer(hand_off_file: Path, answer_file: Path, sectors: Path = SECTORS) -> int:
    """Answer one hand-off file: the statistical sector per key, by postcode and street
    (case and surrounding spaces ignored). Returns the number of keys answered."""
    answer_file.parent.mkdir(parents=True, exist_ok=True)
    partial = answer_file.with_name(f".partial-{answer_file.name}")
    with duckdb.connect() as con:
        con.execute(f"""
            copy (
                select a.key, s.statistical_sector
                from read_csv('{_sql_path(hand_off_file)}', delim = ';', header = true,
                              all_varchar = true) as a
                inner join read_csv('{_sql_path(sectors)}', delim = ';', header = true,
                                    all_varchar = true) as s
                    on trim(a.postcode) = s.postcode
                   and lower(trim(a.street)) = lower(s.street)
                order by a.key
            ) to '{_sql_path(partial)}' (format csv, header true, delimiter ';')""")
        rows = con.execute(f"select count(*) from read_csv('{_sql_path(partial)}', "
                           "delim = ';', header = true, all_varchar = true)").fetchone()[0]
    partial.replace(answer_file)
    return rows


def answer_all(outbox: Path, inbox: Path, sectors: Path = SECTORS) -> dict[str, int]:
    """Answer every hand-off file under ``<outbox>/processors`` into the mirrored folder under
    ``<inbox>/processors`` (same relative path and file name); returns keys answered per file."""
    root = outbox / "processors"
    done = {}
    for path in sorted(root.glob("*/*/*.csv")) if root.exists() else []:
        if path.name.startswith("."):
            continue
        relative = path.relative_to(root)
        done[str(relative)] = answer(path, inbox / "processors" / relative, sectors)
    return done


def build_sector_table(sample: Path = SAMPLE, target: Path = SECTORS) -> int:
    """The synthetic table: every (postcode, street) of the sample's Rijksregister extracts with
    a made-up sector code in the Belgian form (NIS code of the municipality, a letter, three
    digits), stable for a street. Returns the number of streets."""
    with duckdb.connect() as con:
        con.execute(f"""
            copy (
                select distinct
                    trim(Postcode) as postcode,
                    trim(Straat) as street,
                    trim(NIS_gemeente)
                    || chr(65 + (('0x' || substr(md5(trim(Postcode) || '|' || lower(trim(Straat))), 1, 2))::integer % 4))
                    || lpad(cast(('0x' || substr(md5(lower(trim(Straat))), 3, 4))::integer % 1000 as varchar), 3, '0')
                        as statistical_sector
                from read_csv('{_sql_path(sample)}/*.csv', delim = ';', header = true,
                              all_varchar = true)
                where Straat is not null and Postcode is not null
                order by postcode, street
            ) to '{_sql_path(target)}' (format csv, header true, delimiter ';')""")
        return con.execute(f"select count(*) from read_csv('{_sql_path(target)}', "
                           "delim = ';', header = true)").fetchone()[0]
