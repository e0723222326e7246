"""Schools, branches (vestigingsplaatsen), NAFT providers and Dutch schools, and how pupils pick one.

Why here: every enrolment must point at a branch in the school register of that year, and the
Antwerp protocol needs newcomers in OKAN branches located in Antwerp. Schools are placed in
municipalities by population weight (about one school per 300 children), with a guaranteed
minimum of each kind and at least two basic and two secondary (OKAN) schools in Antwerp.
Pupils pick a branch of the right kind in their municipality, else in their arrondissement, else
their province, else anywhere, so most pupils go to school close to home. All schools exist in all
school years (no openings or closures are simulated).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tools.synthetic import geography

KINDS = ("BAO", "BUBAO", "SO", "DBSO", "BUSO", "OKAN")
K_BAO, K_BUBAO, K_SO, K_DBSO, K_BUSO, K_OKAN = range(6)
NET_KOEPEL = {1: ("GO!",), 2: ("KOV", "KOV", "KOV", "KOV", "OKO"), 3: ("POV",), 4: ("OVSG",)}

_PLACE = ["De Regenboog", "De Klimop", "'t Kompas", "De Sleutelbloem", "Het Palet",
          "De Vlindertuin", "De Linde", "Klavertje Vier", "De Zonnebloem", "Het Anker",
          "De Notelaar", "'t Vlot", "De Horizon", "De Wegwijzer", "Het Speelhof", "De Boomgaard",
          "'t Mozaïek", "De Brug", "Sterrenbos", "De Toverfluit"]
_SAINT = ["Sint-Jozef", "Sint-Jan", "Sint-Lodewijk", "Sint-Victor", "Onze-Lieve-Vrouw",
          "Heilig-Hart", "Sint-Ursula", "Sint-Rita", "Sint-Aloysius", "Sint-Vincentius"]


@dataclass
class Schools:
    """Schools and branches. ``branches`` has one row per branch with the kind flags."""

    schools: pd.DataFrame  # school, inst, name, net, koepel, niveau, kind
    branches: pd.DataFrame  # branch, school, inst, vpl, name, muni, pc, street, number, flags
    geo: geography.Geography

    @functools.cached_property
    def _index(self) -> dict:
        """Per kind: branches sorted by muni/arrondissement/province, with start and count."""
        m = self.geo.municipalities
        arr_code = pd.factorize(m["arrondissement"])[0]
        prov_code = pd.factorize(m["province_code"])[0]
        b_muni = self.branches["muni"].to_numpy()
        out = {}
        for k, kind in enumerate(KINDS):
            ids = np.flatnonzero(self.branches[kind.lower()].to_numpy())
            levels = []
            for code_of_muni, n_codes in ((np.arange(len(m)), len(m)),
                                          (arr_code, arr_code.max() + 1),
                                          (prov_code, prov_code.max() + 1)):
                key = code_of_muni[b_muni[ids]]
                order = ids[np.argsort(key, kind="stable")]
                count = np.bincount(key, minlength=n_codes)
                start = np.concatenate([[0], np.cumsum(count)[:-1]])
                levels.append((code_of_muni, order, start, count))
            out[k] = (ids, levels)
        return out

    def pick(self, kind: np.ndarray, muni: np.ndarray, u: np.ndarray) -> np.ndarray:
        """A branch of ``kind`` near municipality ``muni`` for each pupil (uniforms ``u``)."""
        result = np.full(len(kind), -1, dtype=np.int64)
        for k in np.unique(kind):
            rows = np.flatnonzero(kind == k)
            ids, levels = self._index[int(k)]
            if len(ids) == 0:
                raise ValueError(f"no branch of kind {KINDS[k]}")
            chosen = np.full(len(rows), -1, dtype=np.int64)
            for code_of_muni, order, start, count in levels:
                todo = chosen < 0
                c = code_of_muni[muni[rows[todo]]]
                has = count[c] > 0
                pos = start[c] + np.minimum((u[rows[todo]] * count[c]).astype(np.int64),
                                            np.maximum(count[c] - 1, 0))
                sub = np.where(has, order[np.minimum(pos, len(order) - 1)], -1)
                chosen[todo] = sub
            todo = chosen < 0
            chosen[todo] = ids[np.minimum((u[rows[todo]] * len(ids)).astype(np.int64), len(ids) - 1)]
            result[rows] = chosen
        return result

    def pick_other_school(self, kind: np.ndarray, muni: np.ndarray, u: np.ndarray,
                          current: np.ndarray) -> np.ndarray:
        """Like :meth:`pick`, but a branch of a different school than ``current``'s."""
        school = self.branches["school"].to_numpy()
        chosen = self.pick(kind, muni, u)
        for k in np.unique(kind):
            ids = self._index[int(k)][0]
            pos_of = np.full(len(self.branches), -1, dtype=np.int64)
            pos_of[ids] = np.arange(len(ids))
            rows = np.flatnonzero(kind == k)
            for _ in range(6):
                same = school[chosen[rows]] == school[current[rows]]
                if not same.any():
                    break
                r = rows[same]
                chosen[r] = ids[(pos_of[chosen[r]] + 1) % len(ids)]
        return chosen


def _n_schools(n_children: int) -> dict[str, int]:
    total = max(math.ceil(n_children / 300), 20)
    return {"BAO": max(round(total * 0.58), 7), "BUBAO": max(round(total * 0.05), 2),
            "SO": max(round(total * 0.30), 7), "BUSO": max(round(total * 0.05), 2)}


def _school_name(rng: np.random.Generator, kind: str, net: int, town: str) -> str:
    place = _PLACE[rng.integers(len(_PLACE))]
    saint = _SAINT[rng.integers(len(_SAINT))]
    r = rng.random()
    if kind == "BAO":
        if net == 1:
            return f"GO! basisschool {place}"
        if net == 4:
            return f"Gemeentelijke Basisschool {town}" if r < 0.5 else f"Stedelijke Basisschool {place}"
        return f"Vrije Basisschool {place}" if r < 0.6 else f"{saint}school {town}"
    if kind == "BUBAO":
        return f"Buitengewone Basisschool {place}"
    if kind == "BUSO":
        return f"BuSO {saint}" if net == 2 else f"GO! BuSO {town}"
    if net == 1:
        return f"GO! Atheneum {town}" if r < 0.6 else f"Koninklijk Atheneum {town}"
    if net == 3:
        return f"Provinciaal Technisch Instituut {town}"
    if net == 4:
        return f"Stedelijk Lyceum {town}"
    return f"{saint}college {town}" if r < 0.6 else f"{saint}instituut"


def generate(n_children: int, seed: int, geo: geography.Geography,
             street_pool: np.ndarray) -> Schools:
    """Schools and branches for a population of ``n_children``."""
    rng = np.random.default_rng([seed, 2])
    m = geo.municipalities
    weights = m["weight"].to_numpy()
    antwerp = int(np.flatnonzero(m["nis"].to_numpy() == geography.ANTWERPEN_NIS)[0])
    counts = _n_schools(n_children)
    rows = []
    for kind, count in counts.items():
        w = weights ** (1.3 if kind in ("SO", "BUSO") else 1.0)
        munis = rng.choice(len(m), size=count, p=w / w.sum())
        if kind in ("BAO", "SO"):
            munis[:2] = antwerp
        for i, muni in enumerate(munis):
            if kind == "BAO":
                net = int(rng.choice([1, 2, 4], p=[0.17, 0.6, 0.23]))
            elif kind == "SO":
                net = int(rng.choice([1, 2, 3, 4], p=[0.2, 0.62, 0.06, 0.12]))
            else:
                net = int(rng.choice([1, 2], p=[0.3, 0.7]))
            if kind == "BAO" and i == 2:
                net = 2  # the school whose name holds quotes (below) is a vrije school
            koepels = NET_KOEPEL[net]
            rows.append({"kind": kind, "muni": int(muni), "net": net,
                         "koepel": koepels[rng.integers(len(koepels))],
                         "name": (f'Vrije Basisschool "{_PLACE[i % len(_PLACE)]}"'
                                  if kind == "BAO" and i == 2  # a quote in a value: CSV quoting
                                  else _school_name(rng, kind, net, m["name"].iat[muni])),
                         "okan": kind == "SO" and (i < 2 or i == 4 or rng.random() < 0.2),
                         "cdo": kind == "SO" and (i in (2, 3) or rng.random() < 0.12)})
    schools = pd.DataFrame(rows)
    schools["school"] = np.arange(len(schools))
    schools["inst"] = rng.choice(np.arange(1000, 130000), size=len(schools), replace=False)
    schools["niveau"] = np.where(schools["kind"].isin(["BAO", "BUBAO"]), "BAO", "SO")

    arr = m["arrondissement"].to_numpy()
    branch_rows = []
    for s in schools.itertuples():
        k = int(rng.choice([1, 2, 3], p=[0.6, 0.3, 0.1] if s.kind == "BAO" else [0.5, 0.35, 0.15]))
        if s.kind in ("BUBAO", "BUSO"):
            k = min(k, 2)
        for v in range(1, k + 1):
            muni = s.muni
            if v > 1 and rng.random() < 0.3:
                same_arr = np.flatnonzero(arr == arr[s.muni])
                ww = weights[same_arr]
                muni = int(same_arr[rng.choice(len(same_arr), p=ww / ww.sum())])
            street = street_pool[rng.integers(len(street_pool))]
            branch_rows.append({
                "school": s.school, "inst": s.inst, "vpl": v, "muni": muni,
                "pc": int(geo.pick_postcode(np.array([muni]), rng.random(1))[0]),
                "street": street, "number": str(int(rng.integers(1, 200))),
                "name": s.name if k == 1 else f"{s.name} - campus {street}",
                "bao": s.kind == "BAO", "bubao": s.kind == "BUBAO",
                "so": s.kind == "SO", "buso": s.kind == "BUSO",
                "okan": bool(s.okan and v == 1), "dbso": bool(s.cdo and v == 1),
            })
    branches = pd.DataFrame(branch_rows)
    branches["branch"] = np.arange(len(branches))
    # CLB per arrondissement and net family (GO! / officieel / vrij)
    net = schools["net"].to_numpy()[branches["school"].to_numpy()]
    fam = np.where(net == 1, 1, np.where(net == 2, 3, 2))
    branches["clb"] = ["CLB" + a + str(f) for a, f in zip(arr[branches["muni"].to_numpy()], fam)]
    return Schools(schools, branches, geo)


# ------------------------------------------------------------------ NAFT providers
PROVIDER_WORDS = ["Springplank", "Tandem", "Kompas", "Traject", "Overstap", "Wissel", "Brug",
                  "Koers", "Horizon", "Vertrekpunt", "Anker", "Rugwind"]
PROVIDER_TYPES = ("VZW", "CAW", "OCMW", "Jeugdhulpaanbieder")
PROVIDER_OFFER = ("Individuele begeleiding", "Groepsbegeleiding", "Time-out",
                  "Ondersteuning leerkrachten", "Herintredingstraject", "Klasbegeleiding")


def providers(n_children: int, seed: int, geo: geography.Geography) -> pd.DataFrame:
    """NAFT providers, stable over the years (Opgroeien recognises about 59 locations)."""
    rng = np.random.default_rng([seed, 3])
    n = int(np.clip(round(n_children / 20000), 8, 59))
    m = geo.municipalities
    flemish = m[m["region_code"] == geography.FLANDERS]
    provinces = sorted(flemish["province"].unique())
    rows = []
    for i in range(n):
        prov = provinces[i % len(provinces)]
        towns = flemish[flemish["province"] == prov].sort_values("weight", ascending=False)
        town = towns["name"].iat[int(rng.integers(0, min(6, len(towns))))]
        area = sorted(set(towns["name"].iloc[rng.choice(len(towns), size=3, replace=False)]) | {town})
        offer = sorted(rng.choice(len(PROVIDER_OFFER), size=int(rng.integers(2, 5)), replace=False))
        rows.append({
            "provider": i, "provider_id": f"NAFT{1001 + i * 7:05d}",
            "name": f"vzw {PROVIDER_WORDS[i % len(PROVIDER_WORDS)]} {town}",
            "type": PROVIDER_TYPES[int(rng.integers(len(PROVIDER_TYPES)))], "region": prov,
            "area": "|".join(area), "offer": "|".join(PROVIDER_OFFER[j] for j in offer),
        })
    return pd.DataFrame(rows)


# ------------------------------------------------------------------ Dutch schools (DUO)
NL_TOWNS_WEST = ["Roosendaal", "Bergen op Zoom", "Breda", "Baarle-Nassau", "Essen-Nispen",
                 "Hulst", "Zundert"]
NL_TOWNS_EAST = ["Maastricht", "Weert", "Budel", "Valkenswaard", "Eindhoven", "Eijsden",
                 "Sittard"]
NL_PO = ["Basisschool De Wegwijzer", "OBS De Vlinderboom", "RKBS Sint-Jozef", "CBS De Wingerd",
         "Basisschool 't Startblok", "Kindcentrum De Zeppelin", "OBS Het Kompas"]
NL_VO = ["Markland College", "Gertrudiscollege", "Stedelijk Gymnasium", "Were Di",
         "Sint-Maartenscollege", "Philips van Horne", "Het Rijks", "Scholengemeenschap Het Erasmus"]


def dutch_schools(n_pupils: int, seed: int) -> pd.DataFrame:
    """Dutch schools with valid BRIN codes (2 digits + 2 letters, optional 2-digit location)."""
    rng = np.random.default_rng([seed, 4])
    n = max(8, math.ceil(n_pupils / 25))
    letters = np.array(list("ABCDEFGHJKLMNPRSTUVWXZ"))
    codes: set[str] = set()
    rows = []
    while len(rows) < n:
        code = f"{rng.integers(0, 100):02d}{''.join(rng.choice(letters, 2))}"
        if code in codes:
            continue
        codes.add(code)
        i = len(rows)
        east = i % 2 == 1
        level = "VO" if i % 4 in (2, 3) else "PO"
        towns = NL_TOWNS_EAST if east else NL_TOWNS_WEST
        town = towns[int(rng.integers(len(towns)))]
        base = (NL_VO if level == "VO" else NL_PO)[int(rng.integers(len(NL_VO if level == "VO" else NL_PO)))]
        brin = code + (f"{rng.integers(0, 3):02d}" if level == "VO" or rng.random() < 0.3 else "")
        rows.append({"nl_school": i, "brin": brin, "name": f"{base} {town}", "east": east,
                     "level": level})
    return pd.DataFrame(rows)
