"""Data breaches: record one and write the notifications the protocols ask for.

Every protocol with a "Meldingsplichten" article (registry ``breach_notification``) obliges the
parties to tell each other, through their data-protection officers, "zonder onredelijke
vertraging" of a breach of the communicated data, in the light of GDPR art. 33 (the controller
notifies the supervisory authority within 72 hours of becoming aware). :func:`record_breach`

1. resolves what the breach touched: the deliveries named (from the audit trail: protocol,
   recipient) and the protocols named or implied by them;
2. records a ``data_breach`` event in the audit trail (what, when it happened and was
   discovered, protocols, deliveries, recipients, the authority deadline; never a personal
   value: the description is checked like every audit field);
3. writes one notification per protocol to ``data/outbox/breaches/<breach_id>/<protocol>.md``,
   addressed to the officers the registry names, with the text's deadline in its own words and
   the 72-hour GDPR deadline as a date and time, and audits each (``breach_notification``);
4. regenerates the processing register, which lists every recorded breach.

A protocol without such an article (the 2015 authorisations) still gets a notification, to the
recipient's officer, saying that the text names no procedure and only GDPR art. 33 applies.

Command (the same as the Dagster job ``record_data_breach_job``)::

    python -m orchestration.compliance.breach --what "outbox folder readable by all users" \\
        --discovered-at 2026-12-07T09:30 --delivery 20261201T070000Z [--protocol zorgthuis]
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import sys
from dataclasses import dataclass, field
from pathlib import Path

from orchestration.foundations import audit
from orchestration.foundations.settings import Paths, paths
from orchestration.protocols import load_registry
from orchestration.protocols.registry import Protocol, Registry


class BreachError(ValueError):
    """A breach that cannot be recorded as given (unknown protocol or delivery, a description
    holding a personal value); the message says which, never quoting a value."""


@dataclass
class RecordedBreach:
    breach_id: str
    protocols: list[str]
    deliveries: list[str]
    recipients: list[str]
    authority_deadline: dt.datetime
    notifications: list[Path] = field(default_factory=list)


def breaches_folder(p: Paths) -> Path:
    return p.outbox / "breaches"


def _delivered(p: Paths) -> dict[str, tuple[str, str]]:
    """{delivery id: (protocol, recipient)} from the audit trail's delivery events."""
    return {str(e.fields["delivery_id"]): (str(e.fields["protocol"]), str(e.fields["recipient"]))
            for e in audit.entries(audit.log_path(p))
            if e.event == "delivery" and e.fields.get("delivery_id")}


def _addressees(protocol: Protocol) -> list[str]:
    rule = protocol.breach_notification
    if rule is not None:
        return list(rule.notify)
    return [f"functionaris voor gegevensbescherming van {protocol.parties.recipient.short_name}"]


def notification_text(protocol: Protocol, breach_id: str, what: str, discovered_at: dt.datetime,
                      occurred_on: dt.date | None, deliveries: list[str],
                      recipients: list[str], authority_deadline: dt.datetime) -> str:
    """The notification to the officers of one protocol (Markdown, no personal value)."""
    rule = protocol.breach_notification
    articles = protocol.text_reference.articles
    lines = [
        f"# Data breach {breach_id}: notification under {protocol.id}", "",
        f"- To: {'; '.join(_addressees(protocol))}",
        f"- Protocol: {' '.join(protocol.title_nl.split())}",
        f"- What happened: {what}",
        f"- Occurred on: {occurred_on.isoformat() if occurred_on else 'not known yet'}",
        f"- Discovered at: {discovered_at.isoformat(timespec='minutes')}",
        f"- Deliveries concerned: {', '.join(deliveries) if deliveries else 'none named'}",
        f"- Recipients concerned: {', '.join(recipients) if recipients else 'none named'}",
    ]
    if rule is not None:
        article = articles.get("breach_notification", "?")
        lines += [
            f"- Deadline (art. {article}): \"{rule.deadline_wording}\""
            + (f", for a breach \"{rule.condition}\"" if rule.condition else ""),
            f"- GDPR art. 33 (to which the article refers): the supervisory authority within "
            f"{rule.authority_within_hours} hours of discovery, by "
            f"{authority_deadline.isoformat(timespec='minutes')}",
            "", f"> {' '.join(rule.protocol_wording.split())}",
        ]
    else:
        lines += [
            "- Deadline: the text names no breach procedure; GDPR art. 33 applies: the "
            f"supervisory authority within 72 hours of discovery, by "
            f"{authority_deadline.isoformat(timespec='minutes')}",
        ]
    return "\n".join(lines) + "\n"


def record_breach(what: str, discovered_at: dt.datetime, *, protocols: list[str] = (),
                  deliveries: list[str] = (), occurred_on: dt.date | None = None,
                  p: Paths | None = None, registry: Registry | None = None) -> RecordedBreach:
    """Record a breach, notify each protocol's officers, refresh the processing register."""
    from orchestration.compliance import register

    p = p or paths()
    registry = registry or load_registry()
    what = " ".join(what.split())
    if not what:
        raise BreachError("describe what happened (--what)")
    try:
        audit.check_fields({"what": what})
    except audit.AuditRefused as exc:
        raise BreachError(f"the description cannot be recorded: {exc}; describe the breach "
                          "without personal values") from None
    known = _delivered(p)
    unknown = sorted(set(deliveries) - set(known))
    if unknown:
        raise BreachError(f"no delivery {', '.join(unknown)} in the audit trail")
    for pid in protocols:
        if pid not in registry.protocols:
            raise BreachError(f"unknown protocol {pid!r}; known: {registry.ids}")
    concerned = sorted(set(protocols) | {known[d][0] for d in deliveries})
    if not concerned:
        raise BreachError("name the protocols or deliveries the breach concerns")
    recipients = sorted({known[d][1] for d in deliveries}
                        or {registry.protocol(pid).parties.recipient.name for pid in concerned})
    hours = max((registry.protocol(pid).breach_notification.authority_within_hours
                 for pid in concerned if registry.protocol(pid).breach_notification),
                default=72)
    deadline = discovered_at + dt.timedelta(hours=hours)
    digest = hashlib.sha256(f"{what}|{discovered_at.isoformat()}".encode()).hexdigest()[:8]
    breach_id = f"{discovered_at:%Y%m%dT%H%M}-{digest}"
    audit.record("data_breach", path=audit.log_path(p), breach_id=breach_id, what=what,
                 discovered_at=discovered_at.isoformat(timespec="minutes"),
                 occurred_on=occurred_on.isoformat() if occurred_on else None,
                 protocols=concerned, deliveries=sorted(deliveries), recipients=recipients,
                 authority_deadline=deadline.isoformat(timespec="minutes"))
    folder = breaches_folder(p) / breach_id
    folder.mkdir(parents=True, exist_ok=True)
    out = RecordedBreach(breach_id, concerned, sorted(deliveries), recipients, deadline)
    for pid in concerned:
        protocol = registry.protocol(pid)
        mine = sorted(d for d in deliveries if known[d][0] == pid)
        text = notification_text(protocol, breach_id, what, discovered_at, occurred_on, mine,
                                 sorted({known[d][1] for d in mine}), deadline)
        target = folder / f"{pid}.md"
        target.write_text(text, encoding="utf-8")
        rule = protocol.breach_notification
        audit.record("breach_notification", path=audit.log_path(p), breach_id=breach_id,
                     protocol=pid, to=_addressees(protocol),
                     deadline=rule.deadline_wording if rule else "GDPR art. 33 only",
                     authority_deadline=deadline.isoformat(timespec="minutes"),
                     file=str(target.relative_to(p.data)),
                     sha256=hashlib.sha256(text.encode()).hexdigest())
        out.notifications.append(target)
    register.write(p, registry, discovered_at.date())
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m orchestration.compliance.breach",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--what", required=True, help="what happened (no personal values)")
    parser.add_argument("--discovered-at", required=True,
                        help="when the breach was discovered, ISO (2026-12-07T09:30)")
    parser.add_argument("--occurred-on", help="the day it happened, ISO, if known")
    parser.add_argument("--protocol", action="append", default=[], help="a protocol concerned")
    parser.add_argument("--delivery", action="append", default=[],
                        help="a delivery id concerned (its protocol and recipient follow)")
    args = parser.parse_args(argv)
    try:
        recorded = record_breach(
            args.what, dt.datetime.fromisoformat(args.discovered_at), protocols=args.protocol,
            deliveries=args.delivery,
            occurred_on=dt.date.fromisoformat(args.occurred_on) if args.occurred_on else None)
    except BreachError as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 2
    print(f"recorded breach {recorded.breach_id} ({', '.join(recorded.protocols)}); "
          f"notify the officers by "
          f"{recorded.authority_deadline.isoformat(timespec='minutes')} at the latest:")
    for path in recorded.notifications:
        print(f"  {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
