"""Name pools and per-child name sampling, by background.

Why pools: Faker is far too slow to call per child at 1.2 million children, so each pool is
built once (a few thousand Faker calls plus hand lists of names that Faker lacks) and children
draw from it with numpy. The hand lists make sure the hard cases a record-linkage or vault test
needs are present: apostrophes (D'Hondt), prefixes (Van den Broeck), double-barrelled names
(Peeters-Janssens) and diacritics (Gölçük, Çelik, Zoë).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import numpy as np
import pandas as pd
from faker import Faker

# Backgrounds: index -> code. Shares are for children born here; newcomers have their own mix.
GROUPS = ("BE", "FR", "MA", "TR", "EU_E", "NL", "AF", "REF", "UA")
GROUP_SHARE = np.array([0.74, 0.04, 0.07, 0.04, 0.04, 0.03, 0.02, 0.02, 0.0])
NEWCOMER_SHARE = np.array([0.0, 0.0, 0.05, 0.02, 0.22, 0.01, 0.1, 0.4, 0.2])

# Nationality (ISO 3166-1 alpha-3) and home language (ISO 639-2) per background.
NATIONALITY = {
    "BE": (("BEL", 0.985), ("NLD", 0.01), ("FRA", 0.005)),
    "FR": (("BEL", 0.9), ("FRA", 0.1)),
    "MA": (("BEL", 0.85), ("MAR", 0.15)),
    "TR": (("BEL", 0.8), ("TUR", 0.2)),
    "EU_E": (("POL", 0.4), ("ROU", 0.3), ("BGR", 0.15), ("BEL", 0.15)),
    "NL": (("NLD", 0.6), ("BEL", 0.4)),
    "AF": (("BEL", 0.5), ("COD", 0.3), ("CMR", 0.1), ("GIN", 0.1)),
    "REF": (("SYR", 0.3), ("AFG", 0.25), ("ERI", 0.15), ("IRQ", 0.1), ("SOM", 0.1), ("PSE", 0.1)),
    "UA": (("UKR", 1.0),),
}
LANGUAGE = {
    "BE": (("dut", 0.96), ("fre", 0.03), ("eng", 0.01)),
    "FR": (("fre", 0.8), ("dut", 0.2)),
    "MA": (("ara", 0.55), ("ber", 0.2), ("dut", 0.25)),
    "TR": (("tur", 0.8), ("dut", 0.2)),
    "EU_E": (("pol", 0.4), ("rum", 0.3), ("bul", 0.15), ("dut", 0.15)),
    "NL": (("dut", 1.0),),
    "AF": (("fre", 0.6), ("lin", 0.2), ("dut", 0.2)),
    "REF": (("ara", 0.45), ("prs", 0.2), ("tir", 0.15), ("som", 0.1), ("pus", 0.1)),
    "UA": (("ukr", 0.7), ("rus", 0.3)),
}

FLEMISH_SURNAMES = [
    "Van den Broeck", "Vanden Bossche", "Van de Velde", "Van Damme", "Van Dyck", "Van Hecke",
    "Van der Linden", "Van Hoof", "Van den Bergh", "Vandenberghe", "Van Acker", "Van de Walle",
    "Verstraete", "Vermeulen", "Vermeersch", "Verhaegen", "Vereecken", "De Smet", "De Wilde",
    "De Vos", "De Clercq", "D'Hondt", "D'Haese", "D'hooghe", "D'Haene", "De Saedeleer",
    "Peeters-Janssens", "Claes-Van Gorp", "Wouters", "Goossens", "Willems", "Mertens", "Maes",
    "Jacobs", "Claes", "Peeters", "Janssens", "Michiels", "Lambrechts", "Geerts", "Dubois",
    "Lefèvre", "Noël", "Crèvecoeur",
]
FLEMISH_FIRST_M = ["Lucas", "Noah", "Arthur", "Louis", "Liam", "Jules", "Victor", "Finn", "Mathis",
                   "Rafaël", "Mathéo", "Loïc", "Jérôme", "Noël", "Léon", "Seppe", "Wout", "Lars",
                   "Warre", "Stan", "Senne", "Tuur", "Lowie", "Jef", "Rune"]
FLEMISH_FIRST_F = ["Olivia", "Emma", "Louise", "Mila", "Elena", "Noor", "Marie", "Lina", "Nora",
                   "Zoë", "Chloé", "Anaïs", "Hélène", "Inès", "Maëlle", "Élise", "Célestine",
                   "Fien", "Lotte", "Jana", "Ella", "Lore", "Febe", "Amber", "Julie"]
DUTCH_SURNAMES = ["de Vries", "Jansen", "de Jong", "van Dijk", "Bakker", "Visser", "Smit",
                  "Meijer", "de Boer", "Mulder", "Bos", "Vos", "Hendriks", "van Leeuwen", "Dekker",
                  "Brouwer", "de Wit", "Dijkstra", "de Graaf", "van der Meer", "van den Berg",
                  "van der Heijden", "Kuipers", "Verhoeven", "van Beek", "Koster", "Prins"]
MA_SURNAMES = ["El Amrani", "Benali", "El Idrissi", "Bouzid", "El Khatib", "Ouali", "Aziz",
               "Benhaddou", "El Mokhtari", "Boukhari", "Ait Taleb", "Azzouzi", "Chaouki",
               "El Ouardi", "Haddouchi", "Lamrini", "Tahiri", "Ben Saïd", "Achahbar", "Bakkali"]
MA_FIRST_M = ["Mohamed", "Youssef", "Amine", "Bilal", "Hamza", "Rayan", "Adam", "Ilyas", "Ayoub",
              "Mehdi", "Anas", "Imran", "Zakaria", "Ismaïl", "Nassim"]
MA_FIRST_F = ["Fatima", "Salma", "Aya", "Imane", "Nour", "Yasmina", "Khadija", "Sara", "Malak",
              "Hiba", "Ikram", "Soumaya", "Meryem", "Lina", "Chaïma"]
TR_SURNAMES = ["Çelik", "Gölçük", "Yılmaz", "Öztürk", "Şahin", "Doğan", "Kaya", "Demir", "Aydın",
               "Arslan", "Yıldız", "Koç", "Kurt", "Özdemir", "Erdoğan", "Güneş"]
EU_E_SURNAMES = ["Nowak", "Kowalski", "Wiśniewski", "Kowalczyk", "Wójcik", "Popescu", "Ionescu",
                 "Ştefănescu", "Dumitru", "Georgiev", "Dimitrov", "Ivanova", "Petrov", "Stoica"]
AF_SURNAMES = ["Mbuyi", "Kabongo", "Ilunga", "Tshibangu", "Ngoy", "Kalonji", "Mukendi", "Lukusa",
               "Diallo", "Bah", "Camara", "Nkemdirim", "Mbarga", "Ekane", "Fotso"]
AF_FIRST_M = ["Glody", "Exaucé", "Christ", "Prince", "Junior", "Moïse", "Mamadou", "Ibrahima",
              "Samuel", "Emmanuel", "Patrick", "Joël"]
AF_FIRST_F = ["Grâce", "Divine", "Merveille", "Bénédicte", "Aïssatou", "Mariama", "Esther",
              "Ornella", "Gloria", "Precious", "Fatoumata", "Chancelle"]
REF_SURNAMES = ["Al-Hassan", "Haddad", "Khalil", "Al-Ahmad", "Hashimi", "Rahimi", "Sultani",
                "Ahmadi", "Noori", "Tesfaye", "Haile", "Gebremedhin", "Kidane", "Tekle", "Abdi",
                "Warsame", "Mohamud", "Al-Jabouri", "Hussaini", "Karimi", "Mansour", "Nasser"]
REF_FIRST_M = ["Ahmad", "Mustafa", "Omar", "Ali", "Omid", "Yonas", "Filmon", "Abdullahi",
               "Hassan", "Karim", "Sami", "Jamal", "Murtaza", "Elias", "Yusuf"]
REF_FIRST_F = ["Zahra", "Selam", "Hawa", "Layla", "Maryam", "Fatemeh", "Rahwa", "Hodan", "Rania",
               "Amal", "Shirin", "Nadia", "Samira", "Helen", "Mahsa"]
UA_SURNAMES = ["Kovalenko", "Shevchenko", "Bondarenko", "Tkachenko", "Melnyk", "Kravchenko",
               "Oliinyk", "Shevchuk", "Polishchuk", "Boiko", "Lysenko", "Marchenko", "Rudenko"]
UA_FIRST_M = ["Oleksandr", "Dmytro", "Maksym", "Artem", "Andrii", "Bohdan", "Mykyta", "Denys",
              "Ivan", "Yaroslav"]
UA_FIRST_F = ["Mariia", "Anastasiia", "Sofiia", "Anna", "Viktoriia", "Daryna", "Yuliia",
              "Polina", "Kateryna", "Solomiia"]


@dataclass(frozen=True)
class Pool:
    """Names of one background: surnames with weights, and first names by sex."""

    surnames: np.ndarray
    surname_weights: np.ndarray
    first_m: np.ndarray
    first_f: np.ndarray


def _faker_names(locale: str, seed: int, n: int = 2500) -> tuple[list[str], list[str], list[str]]:
    fake = Faker(locale)
    fake.seed_instance(seed)
    last = sorted({fake.last_name() for _ in range(n)})
    male = sorted({fake.first_name_male() for _ in range(n)})
    female = sorted({fake.first_name_female() for _ in range(n)})
    clean = [s for s in last if "," not in s and len(s) <= 22 and s.count(" ") <= 2]
    return clean, male, female


def _zipf_weights(n: int, rng: np.random.Generator) -> np.ndarray:
    """Common names are more common: a shuffled Zipf-like weight per pool entry."""
    w = 1.0 / (np.arange(n) + 8.0) ** 0.9
    rng.shuffle(w)
    return w / w.sum()


def build_pools(seed: int) -> dict[str, Pool]:
    """One pool per background, built once per run from Faker and the hand lists above."""
    rng = np.random.default_rng([seed, 101])
    nl_last, nl_m, nl_f = _faker_names("nl_BE", seed)
    fr_last, fr_m, fr_f = _faker_names("fr_BE", seed)
    tr_last, tr_m, tr_f = _faker_names("tr_TR", seed, 1500)
    pl_last, pl_m, pl_f = _faker_names("pl_PL", seed, 1500)
    ro_last, ro_m, ro_f = _faker_names("ro_RO", seed, 800)

    def pool(last: list[str], male: list[str], female: list[str], boost: list[str] = ()) -> Pool:
        last = sorted(set(last))
        w = _zipf_weights(len(last), rng)
        if boost:  # the hand-picked hard cases each get at least an average weight
            idx = np.isin(np.array(last, dtype=object), list(boost))
            w[idx] = np.maximum(w[idx], 1.0 / len(last))
            w = w / w.sum()
        return Pool(np.array(last, dtype=object), w, np.array(sorted(set(male)), dtype=object),
                    np.array(sorted(set(female)), dtype=object))

    return {
        "BE": pool(nl_last + FLEMISH_SURNAMES, nl_m + FLEMISH_FIRST_M, nl_f + FLEMISH_FIRST_F,
                   FLEMISH_SURNAMES),
        "FR": pool(fr_last, fr_m, fr_f),
        "MA": pool(MA_SURNAMES, MA_FIRST_M, MA_FIRST_F),
        "TR": pool(tr_last + TR_SURNAMES, tr_m, tr_f, TR_SURNAMES),
        "EU_E": pool(pl_last[:300] + ro_last + EU_E_SURNAMES, pl_m + ro_m, pl_f + ro_f,
                     EU_E_SURNAMES),
        "NL": pool(DUTCH_SURNAMES, nl_m, nl_f),
        "AF": pool(AF_SURNAMES, AF_FIRST_M, AF_FIRST_F),
        "REF": pool(REF_SURNAMES, REF_FIRST_M, REF_FIRST_F),
        "UA": pool(UA_SURNAMES, UA_FIRST_M, UA_FIRST_F),
    }


def _join(parts: list[np.ndarray], count: np.ndarray) -> np.ndarray:
    """Join the first ``count`` of the given name columns with spaces, vectorised."""
    out = pd.Series(parts[0])
    for k in range(1, len(parts)):
        extra = pd.Series(parts[k])
        out = out.where(count <= k, out + " " + extra)
    return out.to_numpy(dtype=object)


def _distinct(idx: np.ndarray, taken: list[np.ndarray], size: int) -> np.ndarray:
    """Move ``idx`` forward in the pool until it differs from every index in ``taken``."""
    for _ in range(len(taken)):
        for t in taken:
            idx = np.where(idx == t, (idx + 1) % size, idx)
    return idx


def sample_names(group: np.ndarray, female: np.ndarray, pools: dict[str, Pool],
                 rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Surname and first names (space-separated, 1-3) for each child."""
    n = len(group)
    surname = np.empty(n, dtype=object)
    firsts = [np.empty(n, dtype=object) for _ in range(3)]
    for g, code in enumerate(GROUPS):
        rows = np.flatnonzero(group == g)
        if len(rows) == 0:
            continue
        p = pools[code]
        surname[rows] = p.surnames[rng.choice(len(p.surnames), size=len(rows), p=p.surname_weights)]
        fem = female[rows]
        picked: list[tuple[np.ndarray, np.ndarray]] = []
        for k in range(3):
            im = _distinct(rng.integers(0, len(p.first_m), len(rows)), [m for m, _ in picked],
                           len(p.first_m))
            jf = _distinct(rng.integers(0, len(p.first_f), len(rows)), [f for _, f in picked],
                           len(p.first_f))
            picked.append((im, jf))
            firsts[k][rows] = np.where(fem, p.first_f[jf], p.first_m[im])
    count = rng.choice([1, 2, 3], size=n, p=[0.62, 0.3, 0.08])
    return surname, _join(firsts, count)


def strip_diacritics(values: pd.Series) -> pd.Series:
    """'Gölçük' -> 'Golcuk'; letters without a decomposition (ı, ł) are mapped by hand."""
    special = str.maketrans({"ı": "i", "ł": "l", "Ł": "L", "ø": "o", "ß": "ss", "đ": "d"})

    def one(s: str) -> str:
        s = unicodedata.normalize("NFKD", s.translate(special))
        return "".join(c for c in s if not unicodedata.combining(c))

    return values.map(one)


def has_diacritics(values: pd.Series) -> np.ndarray:
    return ~values.map(str.isascii).to_numpy(dtype=bool)
