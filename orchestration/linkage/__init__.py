"""Record linkage of sources that carry no INSZ to the Rijksregister (protocol duo_leerplicht).

``duo`` links the DUO register (pupils living in Belgium at a Dutch school) to the Rijksregister
extract of compulsory-school-age children on name, first names, birth date and address with the
Fellegi-Sunter model of ``model`` (precision first), and writes pseudonymous links, a review
queue with every candidate, and the reviewers' decisions to the warehouse (schema ``linkage``).
Names and addresses are read from the vault inside the linking process and never leave it.
See README.md.
"""

from orchestration.linkage.duo import (
    DateResult,
    evaluate,
    link_all,
    link_reference_date,
    record_decision,
)

__all__ = ["DateResult", "evaluate", "link_all", "link_reference_date", "record_decision"]

# What other slices may import from this one.
PUBLIC_MODULES = ("definitions",)
