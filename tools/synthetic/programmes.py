"""The Flemish education structure as code tables: hoofdstructuur, onderwijsvorm, finaliteit,
leerweg, opleidingsvorm, studierichting and administratieve groep.

Why code tables: careers are simulated as small integers per pupil-year; these tables turn them
into the strings Discimus sends. Studierichtingen are realistic labels grouped in lists; a pupil
keeps one uniform draw per graad, so the richting stays stable within a graad and only changes at
a graad boundary, a reorientation, or the modernisation of secondary education (phased in per
leerjaar: 1st year in 2019-20 ... 6th year in 2024-25; DOMAIN.md §3).
"""

from __future__ import annotations

import numpy as np

HOOFDSTRUCTUUR = ("111", "121", "211", "221", "311", "312", "321")
HS_KLEUTER, HS_BUKLEUTER, HS_LAGER, HS_BULAGER, HS_SO, HS_DBSO, HS_BUSO = range(7)

ONDERWIJSVORM = ("", "A", "B", "ASO", "TSO", "KSO", "BSO", "OKAN")
OV_NONE, OV_A, OV_B, OV_ASO, OV_TSO, OV_KSO, OV_BSO, OV_OKAN = range(8)

FINALITEIT = ("", "E", "DO", "DU", "A", "7E")
FIN_NONE, FIN_E, FIN_DO, FIN_DU, FIN_A, FIN_7E = range(6)

LEERWEG = ("", "SCHOOL", "DUAAL")
OPLEIDINGSVORM = ("", "OV1", "OV2", "OV3", "OV4")

# Tracks (2nd and 3rd graad): 0 none, then the four onderwijsvormen
TRACK_NONE, TRACK_ASO, TRACK_TSO, TRACK_KSO, TRACK_BSO = range(5)
TRACK_OV = np.array([OV_NONE, OV_ASO, OV_TSO, OV_KSO, OV_BSO], dtype=np.int8)

ATTEST = ("", "A", "B", "C")
CLAUSULERING = ("", "ASO", "ASO|KSO", "Doorstroomfinaliteit", "Latijn|Grieks-Latijn",
                "STEM-wetenschappen|Economie-wiskunde", "Dubbele finaliteit")

RICHTING_LISTS: dict[str, list[str]] = {
    "none": [""],
    "1A": ["1A"],
    "1B": ["1B"],
    "2A_old": ["2A Latijn", "2A Moderne wetenschappen", "2A Techniek-wetenschappen", "2A Handel",
               "2A Sociale en technische vorming", "2A Industriële wetenschappen",
               "2A Grieks-Latijn", "2A Artistieke opvoeding"],
    "2A_new": ["2A Latijn", "2A Moderne talen en wetenschappen", "2A STEM-wetenschappen",
               "2A Economie en organisatie", "2A Maatschappij en welzijn", "2A Kunst en creatie",
               "2A Voeding en horeca", "2A STEM-technieken", "2A Klassieke talen"],
    "2B_old": ["Beroepsvoorbereidend leerjaar"],
    "2B_new": ["2B Economie en organisatie", "2B Maatschappij en welzijn", "2B STEM",
               "2B Voeding en horeca", "2B Bouw en hout"],
    "ASO_old": ["Latijn-Wiskunde", "Wetenschappen-Wiskunde", "Economie-Moderne talen",
                "Humane wetenschappen", "Economie-Wiskunde", "Latijn-Moderne talen",
                "Grieks-Latijn", "Moderne talen-Wetenschappen"],
    "TSO_old": ["Handel", "Informaticabeheer", "Industriële wetenschappen", "Elektromechanica",
                "Sociale en technische wetenschappen", "Boekhouden-informatica",
                "Techniek-wetenschappen", "Elektriciteit-elektronica", "Bouw- en houtkunde",
                "Hotel"],
    "KSO_old": ["Beeldende vorming", "Woordkunst-drama", "Muziek", "Dans", "Architecturale vorming"],
    "BSO_old": ["Kantoor", "Verzorging-voeding", "Haarzorg", "Elektrische installaties", "Bouw",
                "Houtbewerking", "Restaurant en keuken", "Verkoop", "Mechanische vormgeving",
                "Logistiek", "Verzorging"],
    "DO_ASO": ["Economische wetenschappen", "Humane wetenschappen", "Latijn", "Moderne talen",
               "Natuurwetenschappen", "Wiskunde", "Grieks-Latijn", "Economie-moderne talen"],
    "DO_TSO": ["Bedrijfswetenschappen", "Biotechnologische en chemische STEM-wetenschappen",
               "Technologische wetenschappen", "Welzijnswetenschappen",
               "Informatica- en communicatiewetenschappen"],
    "DU_TSO": ["Bedrijfsorganisatie", "Elektromechanische technieken", "Elektrotechnieken",
               "Mechanische technieken", "Bouwtechnieken", "Opvoeding en begeleiding",
               "Grafische media", "Organisatie en logistiek", "Biotechnieken"],
    "DO_KSO": ["Beeldende en architecturale kunsten", "Podiumkunsten", "Muziek"],
    "DU_KSO": ["Mode", "Artistieke creatie", "Audiovisuele vormgeving"],
    "A_BSO": ["Zorg en welzijn", "Bouwen en renoveren", "Elektrische installaties",
              "Haarverzorging", "Restaurant en keuken", "Logistiek", "Mechanica", "Hout",
              "Office en retail", "Schilderwerk en decoratie"],
    "7_BSO": ["Kinderzorg", "Thuis- en bejaardenzorg", "Kantooradministratie en gegevensbeheer",
              "Verkoop en vertegenwoordiging", "Restaurant en keuken",
              "Elektrische installatietechnieken", "Koel- en warmtetechnieken", "Grootkeuken"],
    "OKAN": ["Onthaaljaar voor anderstalige nieuwkomers"],
    "OV1": ["Opleidingsvorm 1 - sociale vorming"],
    "OV2": ["Opleidingsvorm 2 - arbeid in beschutte omgeving"],
    "OV3": ["Opleiding logistiek assistent", "Opleiding keukenmedewerker",
            "Opleiding tuinbouwhulp", "Opleiding schoonmaker", "Opleiding winkelmedewerker"],
    "DBSO": ["Leren en werken - Logistiek medewerker", "Leren en werken - Kapper",
             "Leren en werken - Bouwplaatsmedewerker", "Leren en werken - Keukenmedewerker",
             "Leren en werken - Verkoper"],
}
_NAMES = list(RICHTING_LISTS)
LIST_ID = {name: i for i, name in enumerate(_NAMES)}
LIST_OFFSET = np.cumsum([0] + [len(RICHTING_LISTS[k]) for k in _NAMES])[:-1]
LIST_LEN = np.array([len(RICHTING_LISTS[k]) for k in _NAMES])
RICHTING = tuple(s for k in _NAMES for s in RICHTING_LISTS[k])  # global id -> label
RICHTING_LIST_OF = np.repeat(np.arange(len(_NAMES)), LIST_LEN)  # global id -> list id

# ISCED field per track, for LED (label only; codes of ISCED-F 2013 broad fields)
ISCED_FIELD = {TRACK_ASO: "00 Generieke programma's en kwalificaties",
               TRACK_TSO: "07 Ingenieurswetenschappen, industrie en bouwkunde",
               TRACK_KSO: "02 Kunst en geesteswetenschappen",
               TRACK_BSO: "10 Diensten"}


def is_modern(leerjaar: np.ndarray, year: int) -> np.ndarray:
    """Modernised secondary structure: leerjaar L from school year 2018+L (1st year 2019-20)."""
    return year >= 2018 + leerjaar.astype(np.int32)


def richting_id(list_name: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Global richting id from a list id per row and a uniform per row."""
    k = LIST_LEN[list_name]
    return LIST_OFFSET[list_name] + np.minimum((u * k).astype(np.int64), k - 1)


ADMGROEP_PRIME = 899_981  # prime; key -> 100000 + (key * 7919 + 12345) mod prime is a bijection


def admgroep(hs: np.ndarray, leerjaar: np.ndarray, richting: np.ndarray, opl: np.ndarray,
             leerweg: np.ndarray) -> np.ndarray:
    """Administratieve groep number: one stable 6-digit number per programme, for any N."""
    key = (((hs.astype(np.int64) * 8 + leerjaar) * 512 + richting) * 5 + opl) * 3 + leerweg
    return 100_000 + (key * 7919 + 12345) % ADMGROEP_PRIME


assert len(RICHTING) < 512
