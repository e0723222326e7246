"""Tiny hand-made source extracts for the quality tests, loaded by the real ingestion.

Every writer takes the rows as {header: value} overrides of a valid default row, so a test names
only the value that makes the defect. INSZ numbers are computed with valid check digits.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

from orchestration.foundations import settings
from orchestration.ingestion.inbox import ingest_source
from orchestration.quality import register
from orchestration.foundations.sources import BY_FILE_TYPE
from orchestration.foundations.warehouse import connect


def insz(birth: dt.date, counter: int = 1) -> str:
    """A valid national number for ``birth`` (check digits as in DOMAIN.md §1)."""
    base9 = int(birth.strftime("%y%m%d")) * 1000 + counter
    base = base9 + (2_000_000_000 if birth.year >= 2000 else 0)
    return f"{base9:09d}{97 - base % 97:02d}"


def _row(defaults: dict[str, str], overrides: dict[str, str]) -> dict[str, str]:
    row = dict(defaults)
    row.update(overrides)
    return row


def write(p: settings.Paths, file_type: str, name: str, rows: list[dict[str, str]]) -> Path:
    spec = BY_FILE_TYPE[file_type]
    assert spec.match(name), name
    defaults = DEFAULTS[file_type]
    lines = [";".join(spec.headers)]
    for overrides in rows:
        row = _row(defaults(), overrides)
        lines.append(";".join(row.get(h, "") for h in spec.headers))
    path = p.inbox_of(spec.source) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def ingest(p: settings.Paths, *sources: str) -> None:
    with connect(p, vault=True) as con:
        for source in sources:
            ingest_source(con, p, source)


def refresh(p: settings.Paths, today: dt.date, **kwargs) -> register.RefreshResult:
    with connect(p) as con:
        return register.refresh(con, today=today, **kwargs)


def report(p: settings.Paths, today: dt.date) -> dict:
    """Write today's reports to the sources (which marks their findings as reported)."""
    from orchestration.quality import reports

    with connect(p) as con:
        return reports.write_all(con, p, today)


def query(p: settings.Paths, sql: str, params=None) -> list[tuple]:
    with connect(p) as con:
        return con.execute(sql, params or []).fetchall()


def warehouse(p: settings.Paths) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(p.warehouse), config=settings.duckdb_config(p))


def _duo() -> dict[str, str]:
    return {"Fictief_nummer": "F1", "Achternaam": "Peeters", "Voornamen": "Jan",
            "Geboortedatum": "01-02-2013", "Straat": "Kerkstraat", "Huisnummer": "1",
            "Postcode": "2990", "Woonplaats": "Wuustwezel", "BRIN": "05KO",
            "Instellingsnaam": "De Linde", "Peildatum": "15-10-2024"}


def _zorgthuis() -> dict[str, str]:
    return {"INSZ": insz(dt.date(2014, 3, 5)), "Teldatum": "01/10/2024",
            "Soort_lijst": "DEFINITIEF", "Verblijf_MFC": "GEEN_MFC"}


def _enrolment() -> dict[str, str]:
    return {"Inschrijving_id": "E1", "INSZ": insz(dt.date(2012, 5, 6)),
            "Geboortedatum": "06/05/2012", "Geslacht": "M", "Nationaliteit": "BEL",
            "Woonplaats_NIS": "11002", "Postcode": "2000", "Schooljaar": "2024-2025",
            "Instellingsnummer": "039107", "Vestigingsplaats": "1", "Hoofdstructuur": "311",
            "Administratieve_groep": "6246", "Leerjaar": "1", "Graad": "1",
            "Onderwijsvorm": "A", "Finaliteit": "E", "Leerweg": "SCHOOL", "AN": "N", "GAN": "N",
            "Begindatum": "02/09/2024"}


def _led() -> dict[str, str]:
    return {"Bewijsreferte": "B1", "INSZ": insz(dt.date(2006, 7, 8)), "Leverancier": "AHOVOKS",
            "Status": "1", "Authenticiteit": "Authentiek", "Categorie": "Secundair onderwijs",
            "Bewijstype": "Diploma", "Bewijsstaat": "Eindbewijs", "Instantie": "School",
            "Onderwerp_code": "X1", "Onderwerp_naam": "Diploma SO",
            "Uitreikingsdatum": "30/06/2025", "Volledige_naam": "Diploma secundair onderwijs",
            "Land": "BEL", "Taal": "dut", "Instelling_naam": "Atheneum", "Schooltype": "Gewoon"}


def _beneficiary() -> dict[str, str]:
    return {"Traject_id": "T1", "INSZ": insz(dt.date(2009, 4, 3)), "Geslacht": "V",
            "Geboortedatum": "03/04/2009"}


DEFAULTS = {"duo_registrations": _duo, "zorgthuis_lists": _zorgthuis,
            "discimus_enrolments": _enrolment, "led_certificates": _led,
            "binc_naft_beneficiaries": _beneficiary}
