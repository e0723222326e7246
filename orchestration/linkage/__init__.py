"""Record linkage of sources that carry no INSZ to the Rijksregister (protocol duo_leerplicht).

``duo`` links the DUO register (pupils living in Belgium at a Dutch school) to the Rijksregister
extract of compulsory-school-age children on name, first names, birth date and address, and
writes pseudonymous links and a review queue to the warehouse (schema ``linkage``). Names and
addresses are read from the vault inside the linking process and never leave it.
"""

from orchestration.linkage.duo import (
    DateResult,
    evaluate,
    link_all,
    link_reference_date,
)

__all__ = ["DateResult", "evaluate", "link_all", "link_reference_date"]

# What other slices may import from this one.
PUBLIC_MODULES = ("definitions",)
