"""What each extract file contains: the simulated world projected onto every SourceFile.

Why one module: the mapping from the simulation to the contract in ``orchestration/foundations/sources.py``
(headers, order, formats) lives in one place. Every file is written by a SQL SELECT whose aliases
are the contract's headers; the writer checks the header against the contract.

Deliberate format quirks, as real feeds have them: the instellingsnummer is zero-padded to six
digits in most files but delivered as a plain number (leading zeros lost) in the absences, the
capacity file and LED's Instelling_nummer; LED and DUO files carry a byte-order mark; DUO dates
are dd-mm-yyyy, all others dd/mm/yyyy.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa

from orchestration.foundations import school_year as sy
from tools.synthetic import careers as cr
from tools.synthetic import programmes as pg
from tools.synthetic.dates import YEARS
from tools.synthetic.output import Writer
from tools.synthetic.population import FAMILY, TYPE_BUITENGEWOON, Population, compulsory

BELGIAN = "%d/%m/%Y"
DUTCH = "%d-%m-%Y"


def _long(y: int) -> str:
    return sy.long_form(sy.key(y))


def lit(values) -> str:
    """A SQL list literal of strings (for code -> label lookups, 1-based)."""
    return "[" + ", ".join("'" + str(v).replace("'", "''") + "'" for v in values) + "]"


def label(values, column: str) -> str:
    """SQL: the label of an integer code column, NULL for the empty label."""
    return f"nullif(({lit(values)})[{column} + 1], '')"


def _text(values) -> pa.Array:
    return pa.array(np.asarray(values, dtype=object), type=pa.string())


# ------------------------------------------------------------------ shared tables
def register_children(w: Writer, pop: Population, geo, street_pool: np.ndarray,
                      seed: int) -> np.ndarray:
    """Register the children table; returns the random pupil order used to sort extracts."""
    pcs = geo.postcodes
    rng = np.random.default_rng([seed, 40])
    order_key = rng.permutation(pop.n).astype(np.int32)
    w.register("children", pa.table({
        "child": np.arange(pop.n, dtype=np.int32),
        "insz": _text(pop.insz),
        "birth": pop.birth_day,
        "sex": _text(np.where(pop.female, "V", "M")),
        "nat": _text(pop.nationality),
        "lang": _text(pop.language),
        "surname": _text(pop.surname),
        "firstnames": _text(pop.firstnames),
        "move": pop.move_day,
        "pc0": _text(pcs["postcode"].to_numpy()[pop.pc0]), "nis0": _text(pcs["nis"].to_numpy()[pop.pc0]),
        "pc1": _text(pcs["postcode"].to_numpy()[pop.pc1]), "nis1": _text(pcs["nis"].to_numpy()[pop.pc1]),
        "street0": _text(street_pool[pop.street0]), "street1": _text(street_pool[pop.street1]),
        "nr0": _text(pop.number0), "nr1": _text(pop.number1),
        "family": _text(np.array(FAMILY, dtype=object)[pop.family]),
        "order_key": order_key,
        "insz_key": pop.insz.astype(np.int64),  # sorts like the INSZ text, but faster
    }), materialize=True)
    return order_key


def register_branches(w: Writer, schools, geo, rng_seed: int) -> pd.DataFrame:
    b = schools.branches.merge(
        schools.schools[["school", "name", "net", "koepel", "niveau"]].rename(
            columns={"name": "school_name"}), on="school")
    b = b.sort_values("branch", ignore_index=True)
    m = geo.municipalities
    from tools.synthetic.geography import URBANISATION

    frame = pa.table({
        "branch": b["branch"].to_numpy(np.int32), "inst": b["inst"].to_numpy(np.int32),
        "vpl": b["vpl"].to_numpy(np.int32), "name": _text(b["name"]),
        "street": _text(b["street"]), "number": _text(b["number"]),
        "postcode": _text(geo.postcodes["postcode"].to_numpy()[b["pc"].to_numpy()]),
        "nis": _text(m["nis"].to_numpy()[b["muni"].to_numpy()]),
        "gemeente": _text(m["name"].to_numpy()[b["muni"].to_numpy()]),
        "provincie": _text(m["province"].to_numpy()[b["muni"].to_numpy()]),
        "verst": _text(np.array(URBANISATION, dtype=object)[m["urbanisation"].to_numpy()[b["muni"].to_numpy()]]),
        "school_name": _text(b["school_name"]), "net": b["net"].to_numpy(np.int32),
        "koepel": _text(b["koepel"]), "niveau": _text(b["niveau"]), "clb": _text(b["clb"]),
    })
    w.register("branches", frame)
    return b


def _residence(alias: str, day_expr: str, which: str) -> str:
    """SQL for a child's residence field (postcode/nis/street/nr) on a day."""
    return (f"CASE WHEN {alias}.move > -100000 AND {day_expr} >= {alias}.move "
            f"THEN {alias}.{which}1 ELSE {alias}.{which}0 END")


# ------------------------------------------------------------------ Discimus
def enrolment_ids(e: pd.DataFrame, branches: pd.DataFrame, order_key: np.ndarray) -> np.ndarray:
    """Inschrijving_id: school year + rank within the year, ranked by school, branch, structure,
    leerjaar and a random pupil order (so ids carry no personal information)."""
    inst = branches["inst"].to_numpy()[e["branch"].to_numpy()]
    vpl = branches["vpl"].to_numpy()[e["branch"].to_numpy()]
    year = e["year"].to_numpy()
    order = np.lexsort((e["seq"].to_numpy(), order_key[e["child"].to_numpy()],
                        e["leerjaar"].to_numpy(), e["hs"].to_numpy(), vpl, inst, year))
    ranks = np.empty(len(e), dtype=np.int64)
    sorted_year = year[order]
    starts = np.flatnonzero(np.r_[True, sorted_year[1:] != sorted_year[:-1]])
    sizes = np.diff(np.r_[starts, len(e)])
    ranks[order] = np.arange(len(e)) - np.repeat(starts, sizes) + 1
    # 12 digits (year + 8-digit rank): never the 11-digit shape of an INSZ
    return year.astype(np.int64) * 100_000_000 + ranks


def write_discimus(w: Writer, pop: Population, careers, branches: pd.DataFrame,
                   order_key: np.ndarray, seed: int) -> None:
    e = careers.enrolments
    e["enrol_id"] = enrolment_ids(e, branches, order_key)
    w.register("enrol", pa.Table.from_pandas(e, preserve_index=False), materialize=True)
    w.register("richting", pa.table({"richting": np.arange(len(pg.RICHTING), dtype=np.int32),
                                     "label": _text(pg.RICHTING)}))
    chars = _characteristics(pop, e, seed)
    w.register("chars", chars, materialize=True)
    w.register("attests", careers.attests, materialize=True)
    for y in YEARS:
        sj = _long(y)
        w.write("discimus_enrolments", f"discimus_inschrijvingen_{sj}.csv", f"""
            SELECT CAST(e.enrol_id AS VARCHAR) AS "Inschrijving_id", c.insz AS "INSZ",
                   fd(c.birth, '{BELGIAN}') AS "Geboortedatum", c.sex AS "Geslacht",
                   c.nat AS "Nationaliteit",
                   {_residence('c', 'e."begin"', 'nis')} AS "Woonplaats_NIS",
                   {_residence('c', 'e."begin"', 'pc')} AS "Postcode",
                   '{sj}' AS "Schooljaar", lpad(CAST(b.inst AS VARCHAR), 6, '0') AS "Instellingsnummer",
                   b.vpl AS "Vestigingsplaats", {label(pg.HOOFDSTRUCTUUR, 'e.hs')} AS "Hoofdstructuur",
                   e.admgroep AS "Administratieve_groep", e.leerjaar AS "Leerjaar",
                   nullif(e.graad, 0) AS "Graad", {label(pg.ONDERWIJSVORM, 'e.ov')} AS "Onderwijsvorm",
                   {label(pg.FINALITEIT, 'e.fin')} AS "Finaliteit",
                   {label(pg.LEERWEG, 'e.leerweg')} AS "Leerweg", nullif(r.label, '') AS "Studierichting",
                   {label(TYPE_BUITENGEWOON, 'e.type_bu')} AS "Type_buitengewoon",
                   {label(pg.OPLEIDINGSVORM, 'e.opl')} AS "Opleidingsvorm",
                   jn(e.an) AS "AN", jn(e.gan) AS "GAN",
                   fd(e."begin", '{BELGIAN}') AS "Begindatum", fd(e."end", '{BELGIAN}') AS "Einddatum",
                   {label(cr.REDEN, 'e.reden')} AS "Reden_uitschrijving",
                   {label(cr.SITUATIE, 'e.situatie')} AS "Situatie_na"
            FROM enrol e JOIN children c USING (child) JOIN branches b USING (branch)
                 JOIN richting r USING (richting)
            WHERE e.year = {y} ORDER BY e.enrol_id""")
        w.write("discimus_pupil_characteristics", f"discimus_leerlingkenmerken_{sj}.csv", f"""
            SELECT c.insz AS "INSZ", '{sj}' AS "Schooljaar", jn(k.thuistaal) AS "Thuistaal_niet_Nederlands",
                   jn(k.moeder) AS "Moeder_laag_opgeleid", jn(k.toelage) AS "Schooltoelage",
                   jn(k.buurt) AS "Buurtindicator"
            FROM chars k JOIN children c USING (child) WHERE k.year = {y} ORDER BY c.insz_key""")
        w.write("discimus_absences", f"discimus_afwezigheden_{sj}.csv", f"""
            SELECT c.insz AS "INSZ", '{sj}' AS "Schooljaar", CAST(a.inst AS VARCHAR) AS "Instellingsnummer",
                   a.expected AS "Halve_dagen_aanwezig_verwacht", a.absent AS "Halve_dagen_afwezig",
                   a.problem AS "Halve_dagen_problematisch", a.n_long AS "Aantal_lange_afwezigheden",
                   a.long_days AS "Dagen_lange_afwezigheid"
            FROM (SELECT e.child, b.inst, sum(e.expected) AS expected, sum(e.absent) AS absent,
                         sum(e.problem) AS problem, sum(e.n_long) AS n_long,
                         sum(e.long_days) AS long_days
                  FROM enrol e JOIN branches b USING (branch) WHERE e.year = {y}
                  GROUP BY e.child, b.inst) a JOIN children c USING (child)
            ORDER BY c.insz_key, a.inst""")
        w.write("discimus_attests", f"discimus_attesten_{sj}.csv", f"""
            SELECT c.insz AS "INSZ", '{sj}' AS "Schooljaar",
                   lpad(CAST(b.inst AS VARCHAR), 6, '0') AS "Instellingsnummer",
                   b.vpl AS "Vestigingsplaats", a.leerjaar AS "Leerjaar",
                   {label(pg.ATTEST, 'a.attest')} AS "Attest",
                   {label(pg.CLAUSULERING, 'a.claus')} AS "Clausulering",
                   fd(a.date, '{BELGIAN}') AS "Datum_attest"
            FROM attests a JOIN children c USING (child) JOIN branches b USING (branch)
            WHERE a.year = {y} ORDER BY b.inst, b.vpl, a.leerjaar, c.insz_key""")


def _characteristics(pop: Population, e: pd.DataFrame, seed: int) -> pd.DataFrame:
    """OKI characteristics per pupil per school year (state on the first school day of February)."""
    rng = np.random.default_rng([seed, 41])
    k = e[["child", "year"]].drop_duplicates().sort_values(["year", "child"], ignore_index=True)
    child = k["child"].to_numpy()
    flip = rng.random(len(k)) < 0.08
    u_buurt = np.random.default_rng([seed, 42]).random(pop.n)
    return pd.DataFrame({
        "child": child, "year": k["year"].to_numpy(),
        "thuistaal": pop.language[child] != "dut", "moeder": pop.mother_low[child],
        "toelage": pop.allowance_base[child] ^ flip,
        "buurt": u_buurt[child] < pop.neighbourhood_p[child],
    })


# ------------------------------------------------------------------ LED
CERT_FIELDS = {
    cr.CERT_DIPLOMA: ("Diploma", "Diploma van secundair onderwijs", "Eindbewijs", "3A", "4"),
    cr.CERT_STUDIEGETUIGSCHRIFT: ("Studiegetuigschrift", "Studiegetuigschrift van het tweede "
                                  "leerjaar van de derde graad van het beroepssecundair onderwijs",
                                  "Eindbewijs", "3C", "3"),
    cr.CERT_OV3: ("Getuigschrift", "Getuigschrift van een opleiding van opleidingsvorm 3 van het "
                  "buitengewoon secundair onderwijs", "Eindbewijs", "3C", "2"),
    cr.CERT_DBSO: ("Getuigschrift", "Eindgetuigschrift van het deeltijds beroepssecundair onderwijs",
                   "Eindbewijs", "3C", "3"),
    cr.CERT_FIRST_GRADE: ("Getuigschrift", "Getuigschrift van de eerste graad van het secundair "
                          "onderwijs", "Tussenbewijs", "2", "2"),
}


def led_rows(careers, seed: int) -> pd.DataFrame:
    """Certificates as LED rows: a few registrations are annulled (status 10) and re-issued."""
    rng = np.random.default_rng([seed, 43])
    c = careers.certificates.sort_values(["year", "branch", "child", "cert"], ignore_index=True)
    annulled = rng.random(len(c)) < 0.005
    dup = c[annulled].copy()
    dup["status"] = 10
    c["status"] = 1
    c = pd.concat([c, dup]).sort_values(["year", "branch", "child", "cert", "status"],
                                        ascending=[True, True, True, True, False], ignore_index=True)
    c["ref"] = [f"BW{y}{i:08d}" for y, i in zip(c["year"], c.groupby("year").cumcount() + 1)]
    fields = pd.DataFrame.from_dict(CERT_FIELDS, orient="index",
                                    columns=["bewijstype", "volledig", "staat", "isced", "vks"])
    c = c.join(fields, on="cert")
    c["graad"] = np.select([c["cert"] == cr.CERT_FIRST_GRADE, c["cert"] == cr.CERT_OV3,
                            c["leerjaar"] == 7], ["1ste graad", "Niet van toepassing",
                                                  "3de graad, 7de leerjaar"], "3de graad")
    c["onderwijsvorm"] = np.array(pg.ONDERWIJSVORM, dtype=object)[c["ov"].to_numpy()]
    c["isced_field"] = c["track"].map(pg.ISCED_FIELD)
    c.loc[c["cert"] == cr.CERT_FIRST_GRADE, "isced_field"] = pg.ISCED_FIELD[pg.TRACK_ASO]
    c["extra"] = np.where(rng.random(len(c)) < 0.01, "Vrijstelling: Frans; Duits", None)
    c["schooltype"] = np.where(c["special"], "Buitengewoon", "Gewoon")
    return c


def write_led(w: Writer, careers, seed: int) -> None:
    w.register("led", pa.Table.from_pandas(led_rows(careers, seed), preserve_index=False),
               materialize=True)
    for y in YEARS:
        sj = _long(y)
        w.write("led_certificates", f"led_bewijzen_{sj}.csv", f"""
            SELECT l.ref AS "Bewijsreferte", c.insz AS "INSZ",
                   'Departement Onderwijs en Vorming' AS "Leverancier", l.status AS "Status",
                   'Authentiek' AS "Authenticiteit", 'Secundair onderwijs' AS "Categorie",
                   l.graad AS "Graad", nullif(l.onderwijsvorm, '') AS "Onderwijsvorm",
                   l.bewijstype AS "Bewijstype", l.staat AS "Bewijsstaat",
                   'Vlaamse Gemeenschap' AS "Instantie",
                   lpad(CAST(1000 + l.richting AS VARCHAR), 5, '0') AS "Onderwerp_code",
                   coalesce(nullif(r.label, ''), l.volledig) AS "Onderwerp_naam",
                   fd(l.date, '{BELGIAN}') AS "Uitreikingsdatum", l.volledig AS "Volledige_naam",
                   'BEL' AS "Land", 'dut' AS "Taal", b.school_name AS "Instelling_naam",
                   CAST(b.inst AS VARCHAR) AS "Instelling_nummer", l.schooltype AS "Schooltype",
                   nullif(r.label, '') AS "Studierichting", NULL AS "Specialisatie",
                   NULL AS "Detail_onderwerp", NULL AS "Vervalperiode",
                   CAST(NULL AS INTEGER) AS "Uren_volwassenenonderwijs", NULL AS "Alternatieve_instantie",
                   l.extra AS "Bijkomende_informatie", l.isced_field AS "ISCED_studiegebied",
                   l.isced AS "ISCED_niveau", l.vks AS "VKS_niveau"
            FROM led l JOIN children c USING (child) JOIN branches b USING (branch)
                 JOIN richting r USING (richting)
            WHERE l.year = {y} ORDER BY l.ref""")


# ------------------------------------------------------------------ BINC
#: The onderwijsnet as BINC registers it, by the school register's Soort_bestuur code (0 unused).
BINC_NETWORK = ("", "GO!", "vrij gesubsidieerd", "officieel gesubsidieerd", "officieel gesubsidieerd",
                "officieel gesubsidieerd", "officieel gesubsidieerd")


def write_binc(w: Writer, naft, providers: pd.DataFrame) -> None:
    t = naft.trajectories
    w.register("naft", t)
    w.register("naft_ben", naft.beneficiaries.merge(t[["traject_id", "year"]], on="traject_id"))
    w.register("providers", providers)
    for y in sorted(t["year"].unique()):
        sj = _long(int(y))
        w.write("binc_naft_trajectories", f"binc_naft_trajecten_{sj}.csv", f"""
            SELECT t.traject_id AS "Traject_id", '{sj}' AS "Schooljaar", t.type AS "Type",
                   t.vorm AS "Vorm", t.target AS "Doelgroep", fd(t."begin", '{BELGIAN}') AS "Begindatum",
                   fd(t."end", '{BELGIAN}') AS "Einddatum", t.result AS "Resultaat", t.goals AS "Doelen",
                   t.reasons AS "Redenen", t.sessions AS "Aantal_sessies", t.hours AS "Totale_duur_uren",
                   t.frequency AS "Frequentie", t.participation AS "Deelname",
                   t.provider_id AS "Aanbieder_id", lpad(CAST(b.inst AS VARCHAR), 6, '0') AS "Instellingsnummer"
            FROM naft t JOIN branches b USING (branch) WHERE t.year = {y} ORDER BY t.traject_id""")
        # the school situation as BINC registers it when the young person enrols in the
        # trajectory (protocol naft_evaluation art. 3): the pupil's own enrolment, not Discimus
        w.write("binc_naft_beneficiaries", f"binc_naft_begunstigden_{sj}.csv", f"""
            SELECT n.traject_id AS "Traject_id", c.insz AS "INSZ", c.sex AS "Geslacht",
                   fd(c.birth, '{BELGIAN}') AS "Geboortedatum", c.lang AS "Thuistaal",
                   c.nat AS "Nationaliteit", {_residence('c', 'n."begin"', 'nis')} AS "Woonplaats_NIS",
                   c.family AS "Gezinssituatie",
                   {label(pg.ONDERWIJSVORM, 'n.ov')} AS "Onderwijsvorm",
                   {label(pg.FINALITEIT, 'n.fin')} AS "Finaliteit",
                   {label(pg.LEERWEG, 'n.leerweg')} AS "Leerweg",
                   {label(BINC_NETWORK, 'b.net')} AS "Onderwijsnet", b.koepel AS "Koepel",
                   lpad(CAST(b.inst AS VARCHAR), 6, '0') AS "Instellingsnummer",
                   b.clb AS "Referentie_CLB"
            FROM naft_ben n JOIN children c USING (child) JOIN branches b ON b.branch = n.school_branch
            WHERE n.year = {y} ORDER BY n.traject_id, c.insz_key""")
        w.write("binc_naft_providers", f"binc_naft_aanbieders_{sj}.csv", f"""
            SELECT provider_id AS "Aanbieder_id", '{sj}' AS "Schooljaar", name AS "Naam",
                   type AS "Type_organisatie", region AS "Regio", area AS "Werkgebied",
                   offer AS "Aanbod"
            FROM providers ORDER BY provider_id""")


# ------------------------------------------------------------------ zorgthuis
def write_zorgthuis(w: Writer, lists) -> None:
    for z in lists:
        w.register("zlist", pa.table({"child": z.children.astype(np.int32),
                                      "residence": _text(z.residence)}))
        w.write("zorgthuis_lists", f"zorgthuis_{z.file_date}_{z.kind}.csv", f"""
            SELECT c.insz AS "INSZ", fd({z.counting_day}, '{BELGIAN}') AS "Teldatum",
                   '{z.kind.upper()}' AS "Soort_lijst", z.residence AS "Verblijf_MFC"
            FROM zlist z JOIN children c USING (child) ORDER BY c.insz_key""")


# ------------------------------------------------------------------ DUO and Rijksregister
def write_duo(w: Writer, rows_by_date: list[tuple[dt.date, pd.DataFrame]]) -> pd.DataFrame:
    links = []
    for when, rows in rows_by_date:
        w.register("duo_rows", rows)
        w.write("duo_registrations", f"duo_onderwijsdeelnemers_{when.isoformat()}.csv", f"""
            SELECT fictief AS "Fictief_nummer", surname AS "Achternaam", firstnames AS "Voornamen",
                   fd(birth, '{DUTCH}') AS "Geboortedatum", street AS "Straat", number AS "Huisnummer",
                   postcode AS "Postcode", town AS "Woonplaats", brin AS "BRIN",
                   school AS "Instellingsnaam", strftime(DATE '{when.isoformat()}', '{DUTCH}') AS "Peildatum"
            FROM duo_rows ORDER BY fictief""")
        links.append(pd.DataFrame({"peildatum": when.isoformat(), "fictief_nummer": rows["fictief"],
                                   "insz": rows["insz"]}))
    return pd.concat(links, ignore_index=True)


def write_rijksregister(w: Writer, pop: Population, reference: list[tuple[dt.date, int]]) -> dict:
    counts = {}
    for when, ref_day in reference:
        domiciled = ~pop.bis & (~pop.newcomer | (pop.arrival_day <= ref_day))
        child = np.flatnonzero(domiciled & compulsory(pop, ref_day)).astype(np.int32)
        counts[when.isoformat()] = child
        w.register("rr", pa.table({"child": child}))
        w.write("rijksregister_children", f"rijksregister_leerplichtigen_{when.isoformat()}.csv", f"""
            SELECT c.insz AS "INSZ", c.surname AS "Naam", c.firstnames AS "Voornamen",
                   fd(c.birth, '{BELGIAN}') AS "Geboortedatum", c.sex AS "Geslacht",
                   {_residence('c', str(ref_day), 'street')} AS "Straat",
                   {_residence('c', str(ref_day), 'nr')} AS "Huisnummer",
                   {_residence('c', str(ref_day), 'pc')} AS "Postcode",
                   {_residence('c', str(ref_day), 'nis')} AS "NIS_gemeente",
                   fd({ref_day}, '{BELGIAN}') AS "Referentiedatum"
            FROM rr JOIN children c USING (child) ORDER BY c.insz_key""")
    return counts


# ------------------------------------------------------------------ school register
def capacity(w: Writer, seed: int) -> pd.DataFrame:
    """Available places per branch/year/programme: enrolled pupils plus 0-30 % spare, in fives."""
    g = w.con.execute("""
        SELECT branch, year, hs, leerjaar, ov, fin, leerweg, count(DISTINCT child) AS pupils
        FROM enrol GROUP BY ALL ORDER BY year, branch, hs, leerjaar, ov, fin, leerweg""").df()
    rng = np.random.default_rng([seed, 44])
    g["places"] = (np.ceil(g["pupils"] * (1.0 + 0.3 * rng.random(len(g))) / 5) * 5).astype(np.int32)
    return g


def write_school_register(w: Writer, seed: int) -> None:
    w.register("capacity", capacity(w, seed), materialize=True)
    for y in YEARS:
        sj = _long(y)
        w.write("school_register_schools", f"scholen_{sj}.csv", f"""
            SELECT DISTINCT lpad(CAST(inst AS VARCHAR), 6, '0') AS "Instellingsnummer",
                   '{sj}' AS "Schooljaar", school_name AS "Naam", CAST(net AS VARCHAR) AS "Soort_bestuur",
                   koepel AS "Koepel", niveau AS "Niveau"
            FROM branches ORDER BY 1""")
        w.write("school_register_branches", f"vestigingsplaatsen_{sj}.csv", f"""
            SELECT lpad(CAST(inst AS VARCHAR), 6, '0') AS "Instellingsnummer", vpl AS "Vestigingsplaats",
                   '{sj}' AS "Schooljaar", name AS "Naam", street AS "Straat", number AS "Huisnummer",
                   postcode AS "Postcode", nis AS "NIS_gemeente", gemeente AS "Gemeente",
                   provincie AS "Provincie", verst AS "Verstedelijking"
            FROM branches ORDER BY inst, vpl""")
        w.write("school_register_capacity", f"capaciteit_{sj}.csv", f"""
            SELECT CAST(b.inst AS VARCHAR) AS "Instellingsnummer", b.vpl AS "Vestigingsplaats",
                   '{sj}' AS "Schooljaar", {label(pg.HOOFDSTRUCTUUR, 'k.hs')} AS "Hoofdstructuur",
                   k.leerjaar AS "Leerjaar", {label(pg.ONDERWIJSVORM, 'k.ov')} AS "Onderwijsvorm",
                   {label(pg.FINALITEIT, 'k.fin')} AS "Finaliteit", {label(pg.LEERWEG, 'k.leerweg')} AS "Leerweg",
                   k.places AS "Beschikbare_plaatsen"
            FROM capacity k JOIN branches b USING (branch) WHERE k.year = {y}
            ORDER BY b.inst, b.vpl, k.hs, k.leerjaar, k.ov, k.fin, k.leerweg""")

