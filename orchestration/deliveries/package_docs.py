"""The documents of a delivery package, so a recipient can use it without asking.

Beside the data and ``datapackage.json`` every delivery holds:

- ``README.md`` (Dutch, the recipients' language) and ``README.en.md`` (English): purpose, legal
  basis with the protocol's article, recipient, contact for errors (the protocol's quality
  article), retention, the duties on further use, how to cite the source, and the files;
- ``codebook.csv``: one row per column of every delivered file, and one per code value of a
  coded column, with its Dutch and English label and the unit of every quantity
  (``orchestration/protocols/codebook.yaml``);
- ``GEBRUIKSVOORWAARDEN.md``: the terms of use (no open licence: the protocol's purpose only).

Every fact comes from the protocol registry and the delivery's own properties; nothing is
written per protocol by hand. :func:`package_properties` gives the descriptor's ``licenses``
and ``documentation`` entries, merged into the properties the writer passes to
``datapackage.write`` (other properties stay the writer's).
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from orchestration.protocols.codebook import article, load_codebook
from orchestration.protocols.registry import DeliveryFile, Protocol

README_NL, README_EN = "README.md", "README.en.md"
CODEBOOK, TERMS = "codebook.csv", "GEBRUIKSVOORWAARDEN.md"
DOCUMENTS = (README_NL, README_EN, CODEBOOK, TERMS)
CODEBOOK_COLUMNS = ("file", "column", "type", "required", "code", "label_nl", "label_en",
                    "unit_nl", "unit_en", "description")
SYNTHETIC_NL = ("**SYNTHETISCHE TWEELING - geen echte personen.** Dezelfde bestanden, kolommen, "
                "codes en verdelingen als de echte levering, maar elke rij is verzonnen: elke "
                "kolom is apart getrokken uit haar verdeling, kleine aantallen weggelaten, "
                "pseudoniemen en identificatienummers nieuw gemaakt. Om code te schrijven en te "
                "testen; nooit om cijfers uit te rapporteren.")
SYNTHETIC_EN = ("**SYNTHETIC TWIN - no real person.** The same files, columns, codes and "
                "distributions as the real delivery, but every row is made up: each column drawn "
                "on its own from its distribution, small counts left out, pseudonyms and "
                "identifiers freshly made. For writing and testing code; never for reporting "
                "figures.")


def _one_line(text: str | None) -> str:
    return " ".join((text or "").split())


def _duration_nl(duration: str | None) -> str:
    if not duration:
        return ""
    return duration.removeprefix("P").replace("Y", " jaar").replace("M", " maanden") \
        .replace("D", " dagen")


def _duration_en(duration: str | None) -> str:
    if not duration:
        return ""
    return duration.removeprefix("P").replace("Y", " years").replace("M", " months") \
        .replace("D", " days")


def _reference(protocol: Protocol) -> str:
    """The protocol as its reader finds it: the deliberation, else its Dutch title."""
    return protocol.text_reference.section or f"“{_one_line(protocol.title_nl)}”"


def citation(protocol: Protocol) -> str:
    """How a recipient names the source: the registry's citation, else the sources."""
    return protocol.disclosure.source_citation or "; ".join(
        s.name for s in protocol.parties.sources)


def _files_table(parts: list[tuple[str, int, DeliveryFile]], nl: bool) -> list[str]:
    head = ("| bestand | rijen | één rij per | inhoud |" if nl else
            "| file | rows | grain | content |")
    lines = [head, "|---|---|---|---|"]
    for name, rows, delivery in parts:
        lines.append(f"| `{name}.csv` / `.parquet` | {rows} | "
                     f"{_one_line(delivery.grain).removeprefix('one row per ')} | "
                     f"{_one_line(delivery.description)} |")
    return lines


def readme(protocol: Protocol, parts: list[tuple[str, int, DeliveryFile]],
           properties: dict[str, Any], *, nl: bool, synthetic: bool = False) -> str:
    """The README of a delivery, in Dutch (``nl``) or English."""
    p, pr, lb, q = protocol, protocol.parties, protocol.legal_basis, protocol.quality
    d, r = protocol.disclosure, protocol.retention
    recipient = f"{pr.recipient.name} ({pr.recipient.short_name})"
    sources = "; ".join(f"{s.name} ({s.short_name})" for s in pr.sources)
    processors = "; ".join(x.name for x in pr.processors if x.acts_for in
                           (pr.recipient.short_name, pr.recipient.name))
    a_legal, a_quality = article(p, "legal_basis"), article(p, "quality")
    a_recipients = article(p, "recipients")
    a_retention = article(p, "retention")
    delivery = (properties.get("delivery_id"), properties.get("delivery_date"))
    if nl:
        out = [f"# {_one_line(p.title_nl)}", ""]
        if synthetic:
            out += [SYNTHETIC_NL, ""]
        out += [f"Levering `{delivery[0]}` van {delivery[1]} onder protocol `{p.id}`, "
                f"ondertekend op {p.date_signed.isoformat()} ({_reference(p)}). Een Engelse "
                f"versie staat in `{README_EN}`.", "",
                "## Doel", "", _one_line(p.title_nl) + ".", "",
                f"## Rechtsgrond ({a_legal})", "", f"> {_one_line(lb.protocol_wording)}", ""]
        out += [f"- {ref}" for ref in lb.references] + [""]
        out += [f"## Ontvanger ({a_recipients})", "", recipient
                + (f", met als verwerker {processors}" if processors else "") + ".", "",
                f"## Contact en fouten ({a_quality})", "",
                f"Bron: {sources}. Fouten, onnauwkeurige of ontbrekende gegevens meldt "
                f"{q.reporter or pr.recipient.short_name} aan "
                f"{q.responder or pr.sources[0].short_name}"
                + (f"; onderzoek binnen {_duration_nl(q.investigation_within)}"
                   if q.investigation_within else "") + "."]
        if q.protocol_wording:
            out += ["", f"> {_one_line(q.protocol_wording)}"]
        out += ["", f"## Bewaring ({a_retention})", "", f"> {_one_line(r.protocol_wording)}"]
        if r.term:
            out += ["", f"Bewaartermijn: {_duration_nl(r.term)} ({r.rule})."]
        out += ["", "## Verdere verwerking", "",
                "Publicatie: " + (f"toegestaan, enkel geaggregeerd; aantallen onder "
                                  f"{d.small_count_threshold} worden onderdrukt."
                                  if d.publication_allowed else "niet toegestaan."),
                "", f"> {_one_line(d.protocol_wording)}", "",
                "## Bronvermelding", "", f"Vermeld bij elk gebruik: *Bron: {citation(p)}*.", "",
                "## Bestanden", "", *_files_table(parts, nl=True), "",
                f"Kolommen, codes met hun betekenis en eenheden: `{CODEBOOK}`. Tabelschema's en "
                "controlesommen: `datapackage.json` (`frictionless validate datapackage.json`). "
                f"Gebruiksvoorwaarden: `{TERMS}`. CSV: puntkomma, UTF-8, lege waarde = "
                "ontbrekend of onderdrukt.", ""]
        return "\n".join(out)
    out = [f"# {_one_line(p.title)}", ""]
    if synthetic:
        out += [SYNTHETIC_EN, ""]
    out += [f"Delivery `{delivery[0]}` of {delivery[1]} under protocol `{p.id}`, signed on "
            f"{p.date_signed.isoformat()} ({_reference(p)}). The Dutch version, which prevails, "
            f"is `{README_NL}`.", "",
            "## Purpose", "", _one_line(p.purpose), "",
            f"## Legal basis ({a_legal})", "", _one_line(lb.text), ""]
    out += [f"- {ref}" for ref in lb.references] + [""]
    out += [f"## Recipient ({a_recipients})", "", recipient
            + (f", processed by {processors}" if processors else "") + ".", "",
            f"## Contact and errors ({a_quality})", "",
            f"Source: {sources}. Errors, inaccurate or missing data are reported by "
            f"{q.reporter or pr.recipient.short_name} to "
            f"{q.responder or pr.sources[0].short_name}"
            + (f"; investigation within {_duration_en(q.investigation_within)}"
               if q.investigation_within else "") + ".", "",
            f"## Retention ({a_retention})", "", _one_line(r.description), "",
            "## Further use", "",
            "Publication: " + (f"allowed, aggregated only; counts below "
                               f"{d.small_count_threshold} are suppressed."
                               if d.publication_allowed else "not allowed.")]
    out += [f"- {_one_line(rule)}" for rule in d.rules]
    out += ["", "## Source attribution", "", f"Cite with every use: *Source: {citation(p)}*.",
            "", "## Files", "", *_files_table(parts, nl=False), "",
            f"Columns, code labels and units: `{CODEBOOK}`. Table schemas and checksums: "
            "`datapackage.json` (`frictionless validate datapackage.json`). Terms of use: "
            f"`{TERMS}`. CSV: semicolon, UTF-8, empty value = missing or suppressed.", ""]
    return "\n".join(out)


def codebook_rows(files: list[DeliveryFile]) -> list[dict[str, str]]:
    """One row per column of each file, and one per code value of a coded column."""
    book = load_codebook()
    rows = []
    for delivery in files:
        for v in delivery.variables:
            unit = book.unit(v)
            base = {"file": delivery.id, "column": v.name, "type": v.type,
                    "required": "true" if not v.nullable else "false", "code": "",
                    "label_nl": "", "label_en": "", "unit_nl": unit.nl if unit else "",
                    "unit_en": unit.en if unit else "", "description": _one_line(v.description)}
            rows.append(base)
            for code, label in book.labels(v).items():
                rows.append({**base, "code": code, "label_nl": label.nl, "label_en": label.en,
                             "description": ""})
    return rows


def terms(protocol: Protocol, *, synthetic: bool = False) -> str:
    """The terms of use: no open licence, the protocol's purpose and duties."""
    p, d = protocol, protocol.disclosure
    if synthetic:
        return "\n".join([
            f"# Gebruiksvoorwaarden / Terms of use - synthetische tweeling `{p.id}`", "",
            SYNTHETIC_NL, "", SYNTHETIC_EN, "",
            "Vrij te gebruiken om code te ontwikkelen en te testen, ook buiten de beveiligde "
            "omgeving. Geen cijfers uit rapporteren of publiceren als waren ze echt.", "",
            "Free to use for developing and testing code, also outside the secure environment. "
            "Do not report or publish figures from it as if they were real.", ""])
    return "\n".join([
        f"# Gebruiksvoorwaarden / Terms of use - `{p.id}`", "",
        "Geen open licentie. Deze persoonsgegevens worden meegedeeld onder het protocol "
        f"\"{_one_line(p.title_nl)}\""
        + (f" ({p.text_reference.section})" if p.text_reference.section else "")
        + ", ondertekend op "
        f"{p.date_signed.isoformat()}, en mogen enkel gebruikt worden voor het doel en door de "
        f"diensten die het protocol noemt ({article(p, 'recipients')}), met de "
        f"beveiligingsmaatregelen van {article(p, 'security')}. Elke verdere mededeling vraagt "
        "de toestemming of het protocol die de tekst voorschrijft.", "",
        "No open licence. These personal data are communicated under the protocol "
        f"\"{_one_line(p.title)}\" and may be used only for its purpose "
        f"({_one_line(p.purpose)}) and by the services it names. Duties:", "",
        *[f"- {_one_line(rule)}" for rule in d.rules],
        *[f"- {_one_line(measure)}" for measure in p.security], "",
        f"Bronvermelding / Source attribution: *{citation(p)}*.", ""])


def write(protocol: Protocol, parts: list[tuple[str, int, DeliveryFile]], folder: Path,
          properties: dict[str, Any], *, synthetic: bool = False) -> list[Path]:
    """Write the README (nl, en), the codebook and the terms of use into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, nl in ((README_NL, True), (README_EN, False)):
        path = folder / name
        path.write_text(readme(protocol, parts, properties, nl=nl, synthetic=synthetic),
                        encoding="utf-8")
        written.append(path)
    path = folder / CODEBOOK
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = csv.DictWriter(handle, fieldnames=CODEBOOK_COLUMNS, delimiter=";")
        out.writeheader()
        out.writerows(codebook_rows(protocol.delivery_files))
    written.append(path)
    path = folder / TERMS
    path.write_text(terms(protocol, synthetic=synthetic), encoding="utf-8")
    written.append(path)
    return written


def package_properties(protocol: Protocol, *, synthetic: bool = False) -> dict[str, Any]:
    """The descriptor's ``licenses`` (Data Package standard) and ``documentation`` entries."""
    return {
        "licenses": [{"name": "protocol-terms-of-use", "path": TERMS,
                      "title": ("Synthetic twin: free for development and testing" if synthetic
                                else f"No open licence: protocol {protocol.id} "
                                     f"({protocol.date_signed.isoformat()}) purpose only")}],
        "documentation": {"readme_nl": README_NL, "readme_en": README_EN,
                          "codebook": CODEBOOK, "terms_of_use": TERMS},
        "synthetic": synthetic,
    }


