"""Notice and termination: a protocol ended by notice stops its schedules and deliveries.

A party gives written notice ("Partijen kunnen dit protocol schriftelijk opzeggen mits
inachtneming van een opzegtermijn van ..."); the steward records it in the registry as a fact,
``validity.notice`` (given_on, given_by, reference). The registry then ends the protocol on
``given_on`` + ``validity.notice_period``: from that day ``Protocol.is_valid_on`` is false, so
the delivery schedule skips (naming the notice) and the writer refuses (rule ``validity``), as
for any protocol whose term is over.

:func:`record_terminations` puts each notice into the audit trail once
(``protocol_terminated``: protocol, notice day, by whom, end day); the compliance job calls it
every morning, and the processing register shows the end. By hand::

    python -m orchestration.compliance.termination        # record notices not yet audited
"""

from __future__ import annotations

import sys

from orchestration.foundations import audit
from orchestration.foundations.settings import Paths, paths
from orchestration.protocols import load_registry
from orchestration.protocols.registry import Registry


def record_terminations(p: Paths | None = None,
                        registry: Registry | None = None) -> list[str]:
    """Audit every notice of the registry not audited yet; returns the protocol ids recorded."""
    p = p or paths()
    registry = registry or load_registry()
    log = audit.log_path(p)
    done = {(e.fields.get("protocol"), e.fields.get("notice_given_on"))
            for e in audit.entries(log) if e.event == "protocol_terminated"}
    recorded = []
    for pid in registry.ids:
        v = registry.protocol(pid).validity
        if v.notice is None or v.ends_by_notice_on is None:
            continue
        if (pid, v.notice.given_on.isoformat()) in done:
            continue
        audit.record("protocol_terminated", path=log, protocol=pid,
                     notice_given_on=v.notice.given_on.isoformat(), given_by=v.notice.given_by,
                     reference=v.notice.reference, notice_period=v.notice_period,
                     ends_on=v.ends_by_notice_on.isoformat())
        recorded.append(pid)
    return recorded


def main(argv: list[str] | None = None) -> int:
    recorded = record_terminations()
    registry = load_registry()
    for pid in recorded:
        print(f"recorded: {pid} ends on "
              f"{registry.protocol(pid).validity.ends_by_notice_on.isoformat()} by notice")
    if not recorded:
        print("no notice to record")
    return 0


if __name__ == "__main__":
    sys.exit(main())
