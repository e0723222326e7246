"""The documents of a delivery package, so a recipient can use it without asking.

Beside the data and ``datapackage.json`` every delivery holds:

- ``README.md`` (Dutch, the recipients' language) and ``README.en.md`` (English): purpose, legal
  basis with the protocol's article, recipient, contact for errors (the protocol's quality
  article), retention, the duties on further use, how to cite the source, and the files;
- ``codebook.csv``: one row per column of every delivered file, and one per code value of a
  coded column, with its Dutch and English label and the unit of every quantity
  (``orchestration/protocols/codebook.yaml``);
- ``GEBRUIKSVOORWAARDEN.md``: the terms of use (no open licence: the protocol's purpose only).

Both READMEs are rendered by one function from the wording table of their language
(``README_WORDS``). Every fact comes from the protocol registry and the delivery's own properties; nothing is
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


def _duration(duration: str | None, words: dict[str, str]) -> str:
    if not duration:
        return ""
    return duration.removeprefix("P").replace("Y", words["Y"]).replace("M", words["M"]) \
        .replace("D", words["D"])


def _reference(protocol: Protocol) -> str:
    """The protocol as its reader finds it: the deliberation, else its Dutch title."""
    return protocol.text_reference.section or f"“{_one_line(protocol.title_nl)}”"


def citation(protocol: Protocol) -> str:
    """How a recipient names the source: the registry's citation, else the sources."""
    return protocol.disclosure.source_citation or "; ".join(
        s.name for s in protocol.parties.sources)


def _quote(text: str | None) -> str:
    return f"> {_one_line(text)}"


# The README's wording, one table per language; ``readme`` renders either. Where the two
# versions say different things (the Dutch quotes the protocol, the English explains it), the
# entry is a function of the protocol giving that section's lines.
README_WORDS: dict[str, dict[str, Any]] = {
    "nl": {
        "title": lambda p: p.title_nl,
        "synthetic": SYNTHETIC_NL,
        "intro": ("Levering `{delivery_id}` van {delivery_date} onder protocol `{protocol}`, "
                  "ondertekend op {signed} ({reference}). Een Engelse versie staat in "
                  f"`{README_EN}`."),
        "purpose": "Doel",
        "purpose_text": lambda p: _one_line(p.title_nl) + ".",
        "legal_basis": "Rechtsgrond",
        "legal_basis_text": lambda p: _quote(p.legal_basis.protocol_wording),
        "recipient": "Ontvanger",
        "processed_by": ", met als verwerker {}",
        "contact": "Contact en fouten",
        "errors": ("Bron: {sources}. Fouten, onnauwkeurige of ontbrekende gegevens meldt "
                   "{reporter} aan {responder}"),
        "investigation": "; onderzoek binnen {}",
        "after_errors": lambda p: (["", _quote(p.quality.protocol_wording)]
                                   if p.quality.protocol_wording else []),
        "units": {"Y": " jaar", "M": " maanden", "D": " dagen"},
        "retention": "Bewaring",
        "retention_text": lambda p: [_quote(p.retention.protocol_wording)] + (
            ["", f"Bewaartermijn: {_duration(p.retention.term, README_WORDS['nl']['units'])} "
                 f"({p.retention.rule})."] if p.retention.term else []),
        "further_use": "Verdere verwerking",
        "publication_allowed": ("Publicatie: toegestaan, enkel geaggregeerd; aantallen onder "
                                "{} worden onderdrukt."),
        "publication_refused": "Publicatie: niet toegestaan.",
        "after_publication": lambda p: ["", _quote(p.disclosure.protocol_wording)],
        "attribution": "Bronvermelding",
        "cite": "Vermeld bij elk gebruik: *Bron: {}*.",
        "files": "Bestanden",
        "files_head": "| bestand | rijen | één rij per | inhoud |",
        "files_note": (f"Kolommen, codes met hun betekenis en eenheden: `{CODEBOOK}`. "
                       "Tabelschema's en controlesommen: `datapackage.json` (`frictionless "
                       f"validate datapackage.json`). Gebruiksvoorwaarden: `{TERMS}`. CSV: "
                       "puntkomma, UTF-8, lege waarde = ontbrekend of onderdrukt."),
    },
    "en": {
        "title": lambda p: p.title,
        "synthetic": SYNTHETIC_EN,
        "intro": ("Delivery `{delivery_id}` of {delivery_date} under protocol `{protocol}`, "
                  "signed on {signed} ({reference}). The Dutch version, which prevails, is "
                  f"`{README_NL}`."),
        "purpose": "Purpose",
        "purpose_text": lambda p: _one_line(p.purpose),
        "legal_basis": "Legal basis",
        "legal_basis_text": lambda p: _one_line(p.legal_basis.text),
        "recipient": "Recipient",
        "processed_by": ", processed by {}",
        "contact": "Contact and errors",
        "errors": ("Source: {sources}. Errors, inaccurate or missing data are reported by "
                   "{reporter} to {responder}"),
        "investigation": "; investigation within {}",
        "after_errors": lambda p: [],
        "units": {"Y": " years", "M": " months", "D": " days"},
        "retention": "Retention",
        "retention_text": lambda p: [_one_line(p.retention.description)],
        "further_use": "Further use",
        "publication_allowed": ("Publication: allowed, aggregated only; counts below {} are "
                                "suppressed."),
        "publication_refused": "Publication: not allowed.",
        "after_publication": lambda p: [f"- {_one_line(rule)}" for rule in p.disclosure.rules],
        "attribution": "Source attribution",
        "cite": "Cite with every use: *Source: {}*.",
        "files": "Files",
        "files_head": "| file | rows | grain | content |",
        "files_note": (f"Columns, code labels and units: `{CODEBOOK}`. Table schemas and "
                       "checksums: `datapackage.json` (`frictionless validate "
                       f"datapackage.json`). Terms of use: `{TERMS}`. CSV: semicolon, UTF-8, "
                       "empty value = missing or suppressed."),
    },
}


def _files_table(parts: list[tuple[str, int, DeliveryFile]], head: str) -> list[str]:
    lines = [head, "|---|---|---|---|"]
    for name, rows, delivery in parts:
        lines.append(f"| `{name}.csv` / `.parquet` | {rows} | "
                     f"{_one_line(delivery.grain).removeprefix('one row per ')} | "
                     f"{_one_line(delivery.description)} |")
    return lines


def readme(protocol: Protocol, parts: list[tuple[str, int, DeliveryFile]],
           properties: dict[str, Any], *, nl: bool, synthetic: bool = False) -> str:
    """The README of a delivery, in Dutch (``nl``) or English (``README_WORDS``)."""
    w = README_WORDS["nl" if nl else "en"]
    p, pr, lb, q = protocol, protocol.parties, protocol.legal_basis, protocol.quality
    d = protocol.disclosure
    recipient = f"{pr.recipient.name} ({pr.recipient.short_name})"
    sources = "; ".join(f"{s.name} ({s.short_name})" for s in pr.sources)
    processors = "; ".join(x.name for x in pr.processors if x.acts_for in
                           (pr.recipient.short_name, pr.recipient.name))
    a_legal, a_quality = article(p, "legal_basis"), article(p, "quality")
    a_recipients = article(p, "recipients")
    a_retention = article(p, "retention")
    out = [f"# {_one_line(w['title'](p))}", ""]
    if synthetic:
        out += [w["synthetic"], ""]
    out += [w["intro"].format(delivery_id=properties.get("delivery_id"),
                              delivery_date=properties.get("delivery_date"), protocol=p.id,
                              signed=p.date_signed.isoformat(), reference=_reference(p)), "",
            f"## {w['purpose']}", "", w["purpose_text"](p), "",
            f"## {w['legal_basis']} ({a_legal})", "", w["legal_basis_text"](p), ""]
    out += [f"- {ref}" for ref in lb.references] + [""]
    out += [f"## {w['recipient']} ({a_recipients})", "", recipient
            + (w["processed_by"].format(processors) if processors else "") + ".", "",
            f"## {w['contact']} ({a_quality})", "",
            w["errors"].format(sources=sources, reporter=q.reporter or pr.recipient.short_name,
                               responder=q.responder or pr.sources[0].short_name)
            + (w["investigation"].format(_duration(q.investigation_within, w["units"]))
               if q.investigation_within else "") + "."]
    out += w["after_errors"](p)
    out += ["", f"## {w['retention']} ({a_retention})", "", *w["retention_text"](p)]
    out += ["", f"## {w['further_use']}", "",
            w["publication_allowed"].format(d.small_count_threshold) if d.publication_allowed
            else w["publication_refused"]]
    out += w["after_publication"](p)
    out += ["", f"## {w['attribution']}", "", w["cite"].format(citation(p)), "",
            f"## {w['files']}", "", *_files_table(parts, w["files_head"]), "",
            w["files_note"], ""]
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


