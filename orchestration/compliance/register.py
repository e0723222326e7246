"""The processing register (GDPR art. 30), generated from the protocol registry and the audit log.

One readable Markdown page, ``data/outbox/register/processing_register.md``: per protocol the
parties, purpose, legal basis, data subjects, categories of personal data (the delivery files and
their columns, the source files and their identifiers), recipients, transfers, retention, security
measures, article-7 deadlines, and the deliveries and vault uses recorded in the audit trail so far.
Every fact comes from the registry or the audit log; what the registry does not record is shown as
"not recorded in the registry" instead of being made up.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path

from orchestration.foundations import audit
from orchestration.retention.plan import _years, protocol_rule_label, type_rule
from orchestration.protocols.registry import Protocol, Registry
from orchestration.foundations.settings import Paths
from orchestration.foundations.sources import SOURCE_FILES

NOT_RECORDED = "_not recorded in the registry_"
GROUNDS = {
    "public_task": "task carried out in the public interest or in the exercise of official "
                   "authority (GDPR art. 6.1.e)",
    "legal_obligation": "compliance with a legal obligation (GDPR art. 6.1.c)",
    "authorisation": "authorisation of the Vlaamse Toezichtcommissie",
}


def register_path(p: Paths) -> Path:
    return p.outbox / "register" / "processing_register.md"


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _validity(protocol: Protocol, today: dt.date) -> str:
    v = protocol.validity
    until = protocol.valid_until
    span = f"{v.valid_from.isoformat()} to {until.isoformat() if until else 'indefinite'}"
    if v.renewals:
        span += f" (after {len(v.renewals)} renewal(s))"
    state = "valid" if protocol.is_valid_on(today) else (
        "not yet valid" if today < v.valid_from else "expired: no delivery allowed")
    if v.notice is not None and v.ends_by_notice_on is not None:
        span += (f"; terminated by notice of {v.notice.given_on.isoformat()} "
                 f"({v.notice.given_by}, {v.notice.reference}), notice period "
                 f"{v.notice_period}: ends on {v.ends_by_notice_on.isoformat()}, schedules and "
                 "deliveries stop from that day")
        if today >= v.ends_by_notice_on:
            state = "terminated: no delivery allowed"
    return f"{span}; on {today.isoformat()}: **{state}**"


def _further_sharing(protocol: Protocol) -> str:
    sharing = protocol.disclosure.further_sharing
    if sharing is None:
        return NOT_RECORDED
    what = "consent" if sharing.requires == "consent" else "prior notice"
    given = "; ".join(f"{x.kind} of {x.party} for {x.file} on {x.given_on.isoformat()} "
                      f"({x.reference})" for x in sharing.permissions) or "none recorded"
    return (f"{what} of {', '.join(sharing.of)} before any file goes to a third party "
            f"(\"{' '.join(sharing.protocol_wording.split())}\"); recorded: {given}")


def _breach_rule(protocol: Protocol) -> str:
    rule = protocol.breach_notification
    if rule is None:
        return ("the text names no breach procedure; GDPR art. 33 (supervisory authority "
                "within 72 hours)")
    return (f"to {'; '.join(rule.notify)}, \"{rule.deadline_wording}\""
            + (f" (\"{rule.condition}\")" if rule.condition else "")
            + f"; GDPR art. 33: supervisory authority within {rule.authority_within_hours} h")


def _breaches(entries: list[audit.Entry]) -> list[str]:
    """The breaches recorded in the audit trail, one table row each (no personal value)."""
    rows = []
    for e in entries:
        if e.event != "data_breach":
            continue
        f = e.fields
        rows.append(f"| {f.get('breach_id')} | {_cell(f.get('what'))} | "
                    f"{f.get('discovered_at')} | {', '.join(f.get('protocols') or [])} | "
                    f"{', '.join(f.get('deliveries') or []) or '-'} | "
                    f"{_cell(', '.join(f.get('recipients') or []))} | "
                    f"{f.get('authority_deadline')} |")
    return rows


def _deliveries(entries: list[audit.Entry]) -> tuple[dict[str, list[audit.Entry]],
                                                      dict[str, int]]:
    deliveries: dict[str, list[audit.Entry]] = defaultdict(list)
    vault_uses: dict[str, int] = defaultdict(int)
    for e in entries:
        if e.event == "delivery":
            deliveries[str(e.fields.get("protocol"))].append(e)
        elif e.event == "vault_use":
            vault_uses[str(e.fields.get("protocol"))] += 1
    return deliveries, vault_uses


def render_protocol(protocol: Protocol, today: dt.date, deliveries: list[audit.Entry],
                    vault_uses: int) -> str:
    pr, lb, r = protocol.parties, protocol.legal_basis, protocol.retention
    out = [f"## {protocol.id}: {protocol.title}", "", f"*{protocol.title_nl}*", "",
           f"Source text: `shared/{protocol.text_reference.file}`"
           + (f", {protocol.text_reference.section}" if protocol.text_reference.section else "")
           + f"; signed {protocol.date_signed.isoformat()}.", ""]
    out += ["| | |", "|---|---|"]
    rows = [
        ("Controllers / sources", "; ".join(f"{s.name} ({s.short_name})" for s in pr.sources)),
        ("Recipient", f"{pr.recipient.name} ({pr.recipient.short_name})"),
        ("Processors", "; ".join(f"{x.name} for {x.acts_for}" for x in pr.processors) or "none"),
        ("Intermediaries", "; ".join(x.name for x in pr.intermediaries) or "none"),
        ("Controller contact and DPO", NOT_RECORDED),
        ("Purpose", protocol.purpose),
        ("Legal basis", f"{GROUNDS.get(lb.ground, lb.ground)}: {lb.text}"),
        ("Legal references", "; ".join(lb.references) or NOT_RECORDED),
        ("Special categories (art. 9)",
         f"yes, exception {lb.special_categories_exception}" if lb.special_categories else "no"),
        ("Validity", _validity(protocol, today)),
        ("Periodicity", f"{protocol.periodicity.kind}: {protocol.periodicity.description}"),
        ("Data subjects", protocol.population.description),
        ("Recipients inside the recipient", "; ".join(pr.internal_recipients) or NOT_RECORDED),
        ("Publication", "allowed, aggregated, small counts below "
                        f"{protocol.disclosure.small_count_threshold} suppressed"
         if protocol.disclosure.publication_allowed else "not allowed"),
        ("Transfers to third countries", NOT_RECORDED),
        ("Retention", f"{protocol_rule_label(protocol)}. {r.description}"
         + (f" Landing area: source files removed {_years(r.landing_wipe_after)} after receipt."
            if r.landing_wipe_after else "")
         + (f" After the term: {r.after_term}" if r.after_term else "")),
        ("Pseudonymisation", f"{protocol.pseudonym.scheme}"
         + (f", key version {protocol.pseudonym.key_version}"
            if protocol.pseudonym.key_version else "") + f": {protocol.pseudonym.description}"),
        ("Security measures", "; ".join(protocol.security) or NOT_RECORDED),
        ("Data-quality errors (art. 7)", _quality(protocol)),
        ("Further sharing", _further_sharing(protocol)),
        ("Data breaches", _breach_rule(protocol)),
    ]
    out += [f"| {k} | {_cell(v)} |" for k, v in rows]
    out += ["", "**Categories of personal data: delivery files**", "",
            "| file | kind | persons | audience | columns |", "|---|---|---|---|---|"]
    for f in protocol.delivery_files:
        cols = ", ".join(v.name + (" (identifier)" if v.identifier else "") for v in f.variables)
        out.append(f"| {f.id} | {f.kind} | {'yes' if f.person_level else 'no'} | {f.audience} | "
                   f"{_cell(cols)} |")
    sources = [s for s in SOURCE_FILES if s.file_type in protocol.file_types]
    if sources:
        out += ["", "**Source files used**", "", "| file type | source | owner | identifiers |",
                "|---|---|---|---|"]
        for s in sources:
            ids = ", ".join(c.header for c in s.columns if c.sensitivity != "plain") or "none"
            out.append(f"| {s.file_type} | {s.source} | {s.owner} | {_cell(ids)} |")
    out += ["", f"**Deliveries recorded in the audit trail: {len(deliveries)}**", ""]
    if deliveries:
        out += ["| when | recipient | files (SHA-256, first 12) | key version |",
                "|---|---|---|---|"]
        for e in deliveries:
            files = "; ".join(f"{i.get('file', '?')} ({str(i.get('sha256', ''))[:12]})"
                              for i in e.fields.get("files") or [] if isinstance(i, dict))
            out.append(f"| {e.at[:19]} | {_cell(e.fields.get('recipient'))} | {_cell(files)} | "
                       f"{e.fields.get('key_version')} |")
    out += ["", f"Vault uses (re-identification) recorded: {vault_uses}.", ""]
    return "\n".join(out)


def _quality(protocol: Protocol) -> str:
    q = protocol.quality
    if not q.stated:
        return NOT_RECORDED
    parts = [f"{q.reporter} reports to {q.responder}"]
    if q.investigation_within:
        parts.append(f"investigation within {q.investigation_within}")
    if q.measures_within:
        parts.append(f"measures within {q.measures_within}")
    if q.term_wording:
        parts.append(f"investigation and measures \"{q.term_wording}\" (the text sets no date)")
    if q.steward_reminder_within:
        parts.append(f"steward's reminder after {q.steward_reminder_within} (the steward's "
                     "choice, not a protocol deadline)")
    if q.correction_by_new_file:
        parts.append("corrected by a new file")
    return ", ".join(parts)


def render(registry: Registry, entries: list[audit.Entry], today: dt.date,
           chain: audit.Verification | None = None) -> str:
    deliveries, vault_uses = _deliveries(entries)
    kept = [f"| {s.file_type} | {_cell(type_rule(s, registry).label)} |" for s in SOURCE_FILES]
    head = [
        "# Processing register (GDPR art. 30)", "",
        f"Generated on {today.isoformat()} from the protocol registry "
        "(`orchestration/protocols/definitions/`) and the audit trail "
        "(`data/audit/audit_log.jsonl`"
        + (f", {chain}" if chain is not None else "") + "). Do not edit: regenerate.", "",
        "| protocol | recipient | legal basis | valid | deliveries |", "|---|---|---|---|---|"]
    for pid in registry.ids:
        p = registry.protocol(pid)
        head.append(f"| {pid} | {_cell(p.parties.recipient.short_name)} | {p.legal_basis.ground} | "
                    f"{'yes' if p.is_valid_on(today) else 'no'} | {len(deliveries.get(pid, []))} |")
    head += ["", "Retention applied to the warehouse's source files (all protocols a file type "
             "serves must allow the erasure):", "", "| file type | rule |", "|---|---|", *kept, ""]
    breaches = _breaches(entries)
    head += ["## Data breaches recorded", ""]
    head += (["| breach | what | discovered | protocols | deliveries | recipients | "
              "authority by |", "|---|---|---|---|---|---|---|", *breaches] if breaches
             else ["None recorded in the audit trail."])
    head += ["", "Notifications to the officers: `data/outbox/breaches/<breach>/<protocol>.md`.",
             ""]
    body = [render_protocol(registry.protocol(pid), today, deliveries.get(pid, []),
                            vault_uses.get(pid, 0)) for pid in registry.ids]
    return "\n".join(head + body)


def write(p: Paths, registry: Registry, today: dt.date | None = None) -> tuple[Path, int]:
    """Write the page; returns its path and the number of deliveries it lists."""
    today = today or dt.date.today()
    log = audit.log_path(p)
    chain = audit.verify(log)
    entries = audit.trusted_entries(log, chain)
    text = render(registry, entries, today, chain)
    target = register_path(p)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(target)
    return target, sum(e.event == "delivery" for e in entries)
