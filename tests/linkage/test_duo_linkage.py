"""DUO <-> Rijksregister linkage: normalisation and scoring on hand-made pairs, then the whole
pipeline on the synthetic sample (real ingestion into a temporary data folder, linkage, precision
and recall against the generator's ground truth, privacy of the outputs, idempotence).

The sample is ``data/sample`` (``make sample``). While it does not exist, a small fixture made
here with Faker nl_BE and the same kinds of noise stands in for it.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import re
import shutil
from pathlib import Path

import duckdb
import pytest
from faker import Faker
from hypothesis import assume, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from orchestration.foundations import pseudonymisation as pseudo
from orchestration.foundations import settings
from orchestration.ingestion.inbox import ingest_source
from orchestration.linkage import duo, model
from orchestration.linkage.duo import Person, evaluate, link_all, normalise, score_pairs, \
    surname_forms
from orchestration.foundations.warehouse import connect

SAMPLE = settings.PROJECT_ROOT / "data" / "sample"
D = dt.date(2014, 3, 7)
BASE = Person("D'Hondt", "Jan Pieter", D, "Kerkstraat", "12", "9000")


# ------------------------------------------------------------------ normalisation

@pytest.mark.parametrize("a, b", [
    ("D'Hondt", "Dhondt"), ("D’Hondt", "DHONDT"), ("Gölçük", "Golcuk"), ("Ayşe", "Ayse"),
    ("Yılmaz", "Yilmaz"), ("Wiśniewski", "Wisniewski"), ("Van Den Broeck", "van den Broeck"),
    ("  Jan   Pieter ", "jan pieter"), ("Peeters-Janssens", "Peeters Janssens"),
])
def test_spelling_variants_normalise_to_the_same_string(a, b):
    assert normalise(a) == normalise(b)


def test_surname_prefixes_are_split_off_but_never_the_whole_name():
    assert surname_forms("Van den Broeck") == ("vandenbroeck", "broeck")
    assert surname_forms("van 't Hof") == ("vanthof", "hof")
    assert surname_forms("D'Hondt") == ("dhondt", "dhondt")
    assert surname_forms("Van de") == ("vande", "vande")
    assert surname_forms("Al-Hassan") == ("alhassan", "hassan")


def test_the_sql_normalisation_equals_the_python_reference():
    names = ["D'Hondt", "Gölçük", "Ştefănescu", "Łódź", "Straße", "Øre", "Æsop", "ﬁnn", "İlker",
             "Van 't Hof", "O’Brien", "Çarşı 12 bus 3", "Nguyễn", "van de", ""]
    for locale in ("nl_BE", "fr_BE", "tr_TR", "pl_PL", "ro_RO", "de_DE", "cs_CZ", "vi_VN"):
        fake = Faker(locale)
        fake.seed_instance(11)
        names += [fake.last_name() for _ in range(150)] + [fake.first_name() for _ in range(150)]
        names += [fake.street_name() for _ in range(50)]
    con = duckdb.connect()
    duo.register_macros(con)
    rows = con.execute("select s, lk_norm(s), lk_surname_core(lk_norm(s)) from "
                       "(select unnest($n::varchar[]) as s)", {"n": names}).fetchall()
    different = [s for s, norm, core in rows
                 if norm != normalise(s) or core != surname_forms(s)[1]]
    assert different == []


# ------------------------------------------------------------------ scoring

def _one(a: Person, b: Person) -> dict:
    return score_pairs([(a, b)])[0]


@pytest.mark.parametrize("duo_side, why", [
    (Person("Dhondt", "Jan Pieter", D, "Kerkstraat", "12", "9000"), "apostrophe dropped"),
    (Person("D'HONDT", "jan pieter", D, "KERKSTRAAT", "12", "9000"), "case"),
])
def test_spelling_only_differences_are_an_exact_match(duo_side, why):
    s = _one(duo_side, BASE)
    assert s["exact"] and s["links"], why


def test_dropped_diacritics_are_an_exact_match():
    s = _one(Person("Golcuk", "Ayse", D, "Carsi", "2A", "2990"),
             Person("Gölçük", "Ayşe", D, "Çarşı", "2a", "2990"))
    assert s["exact"] and s["links"]


@pytest.mark.parametrize("duo_side, why", [
    (Person("D'Hondt", "Pieter Jan", D, "Kerkstraat", "12", "9000"), "first names reordered"),
    (Person("D'Hondr", "Jan Pieter", D, "Kerkstraat", "12", "9000"), "typo in the surname"),
    (Person("D'Hnodr", "Jan Pieter", D, "Kerkstraat", "12", "9000"), "two typos in the surname"),
    (Person("D'Hondt", "Jna Pieter", D, "Kerkstraat", "12", "9000"), "typo in a first name"),
    (Person("D'Hondt", "Jan Pieter", D, "Molenweg", "3", "9000"), "moved in the same postcode"),
    (Person("D'Hondr", "Jan Pieter", D, "Molenweg", "3", "9000"), "typo and moved"),
    (Person("D'Hondt", "Jan Pieter", dt.date(2014, 7, 3), "Kerkstraat", "12", "9000"),
     "day and month swapped"),
    (Person("Jan Pieter", "D'Hondt", D, "Kerkstraat", "12", "9000"), "first and last name swapped"),
])
def test_one_kind_of_noise_still_links_as_fuzzy(duo_side, why):
    s = _one(duo_side, BASE)
    assert not s["exact"], why
    assert s["links"] and s["probability"] >= model.LINK_PROBABILITY, (why, s)


@pytest.mark.parametrize("duo_first_names", ["Jan", "Jan Pieter Karel", "Pieter"])
def test_a_missing_or_extra_first_name_goes_to_review_with_the_child_shown(duo_first_names):
    # "Jan" could be this child or an absent twin "Jan Karel": the reviewer decides
    s = _one(Person("D'Hondt", duo_first_names, D, "Kerkstraat", "12", "9000"), BASE)
    assert not s["links"] and s["veto"].startswith("first_names:duo_")
    assert s["match_weight"] >= model.CANDIDATE_WEIGHT


@pytest.mark.parametrize("duo_surname, rr_surname", [
    ("Vandenbroeck", "Van den Broeck"), ("Vanden Broeck", "Van den Broeck"),
    ("Broeck", "Van den Broeck"), ("van den broeck", "Van Den Broeck"),
    ("Peeters", "Peeters-Janssens"), ("Janssens", "Peeters-Janssens"), ("Desmet", "De Smet"),
])
def test_particles_and_double_surnames_link(duo_surname, rr_surname):
    s = _one(Person(duo_surname, "Lotte", D, "Kerkstraat", "12", "9000"),
             Person(rr_surname, "Lotte", D, "Kerkstraat", "12", "9000"))
    assert s["links"] and s["surname"] != "different", s


@pytest.mark.parametrize("duo_side, why", [
    (Person("D'Hondt", "Jan Pieter", D, "Molenweg", "3", "9050"), "same names elsewhere"),
    (Person("D'Hondt", "Jan", D, "Molenweg", "3", "9050"), "first name missing, elsewhere"),
    (Person("D'Hondt", "Jan Pieter", dt.date(2014, 7, 3), "Molenweg", "3", "9050"),
     "swapped date, elsewhere"),
])
def test_in_another_postcode_nothing_links_but_the_candidate_is_shown(duo_side, why):
    # a namesake born the same day elsewhere looks exactly like this: review, not a link
    s = _one(duo_side, BASE)
    assert not s["links"] and s["veto"] and s["address"] == "other_postcode", why
    assert s["match_weight"] >= model.CANDIDATE_WEIGHT, why


@pytest.mark.parametrize("other, why", [
    (Person("D'Hondt", "Piet", D, "Kerkstraat", "12", "9000"), "twin with another first name"),
    (Person("D'Hondt", "Jan Karel", D, "Kerkstraat", "12", "9000"), "twin sharing a first name"),
    (Person("D'Hondt", "Jana", dt.date(2015, 3, 7), "Kerkstraat", "12", "9000"),
     "sibling born on the same day of another year"),
    (Person("Peeters", "Jan Pieter", D, "Kerkstraat", "12", "9000"), "other surname"),
    (Person("D'Hondt", "Jan", D, "Kerkstraat", "12", "9000"),
     "twin whose only first name is one of the DUO pupil's"),
])
def test_a_sibling_or_another_family_is_never_linked_automatically(other, why):
    duo_side = Person("D'Hondt", "Jan Pieter", D, "Kerkstraat", "12", "9000")
    assert not _one(duo_side, other)["links"], why
    # and the true child always weighs more than the sibling
    assert _one(duo_side, BASE)["match_weight"] > _one(duo_side, other)["match_weight"]


_NAME = st.text(alphabet="abcdeilmnorstu", min_size=3, max_size=8)


@pytest.mark.slow  # 60 real DuckDB linkage runs
@hypothesis_settings(max_examples=60, deadline=None)
@given(shared=st.lists(_NAME, min_size=1, max_size=2, unique=True),
       only_duo=_NAME, only_rr=st.lists(_NAME, max_size=1))
def test_a_shared_first_name_never_outweighs_a_different_one(shared, only_duo, only_rr):
    """Same surname, birth date and address (twins); the DUO pupil has a first name the child
    lacks: never an automatic link, whatever else agrees (unless it is a typo of the child's)."""
    assume(only_duo not in shared and only_duo not in only_rr)
    duo_names = " ".join([*shared, only_duo])
    rr_names = " ".join([*shared, *only_rr])
    assume(duckdb.execute("select damerau_levenshtein(?, ?)", [duo_names, rr_names]
                          ).fetchone()[0] > 2)
    s = _one(Person("Peeters", duo_names, D, "Kerkstraat", "12", "9000"),
             Person("Peeters", rr_names, D, "Kerkstraat", "12", "9000"))
    assert not s["links"] and s["veto"] and s["veto"].startswith("first_names:"), s


def test_the_model_parameters_are_probabilities_for_every_level():
    params = model.load_parameters()
    weights = model.weights(params)
    for c in model.COMPARISONS:
        assert [lv.label for lv in c.levels if not lv.null] == list(params[c.name])
        for level, p in params[c.name].items():
            assert 0 < p["m"] <= 1 and 0 < p["u"] <= 1, (c.name, level)
        # exact agreement is evidence for, complete disagreement evidence against, a match
        assert weights[c.name][c.levels[1].label] > 0 > weights[c.name][c.levels[-1].label]


# ------------------------------------------------------------------ a fixture like the sample

RR_HEADER = "INSZ;Naam;Voornamen;Geboortedatum;Geslacht;Straat;Huisnummer;Postcode;NIS_gemeente;" \
            "Referentiedatum"
DUO_HEADER = "Fictief_nummer;Achternaam;Voornamen;Geboortedatum;Straat;Huisnummer;Postcode;" \
             "Woonplaats;BRIN;Instellingsnaam;Peildatum"
HARD_SURNAMES = ["D'Hondt", "Van den Broeck", "Gölçük", "Çelik", "Yılmaz", "Van der Linden",
                 "De Smet", "Vanden Bossche", "Lefèvre", "Peeters-Janssens", "Şahin", "Noël"]
HARD_FIRST = ["Zoë", "Anaïs", "Loïc", "Mathéo", "Ayşe", "Jérôme", "Inès", "Chloé"]


def _insz(born: dt.date, counter: int) -> str:
    base = f"{born:%y%m%d}{counter:03d}"
    number = int(("2" if born.year >= 2000 else "") + base)
    return base + f"{97 - number % 97:02d}"


def _typo(rng: random.Random, s: str) -> str:
    i = rng.randrange(len(s))
    op = rng.choice("sdi")
    letter = rng.choice("abcdefghijklmnoprstuvwz")
    if op == "s":
        return s[:i] + letter + s[i + 1:]
    if op == "d" and len(s) > 3:
        return s[:i] + s[i + 1:]
    return s[:i] + letter + s[i:]


def _strip(s: str) -> str:
    import unicodedata

    s = s.replace("ı", "i")
    return "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))


EARLY_DUO_DATE = dt.date(2024, 9, 15)  # before the fixture's only Rijksregister extract


def build_fixture(out: Path, children: int = 2500, duo_share: float = 0.12, seed: int = 7) -> None:
    """A Rijksregister extract of 2024-10-15 and DUO files of 2024-10-15 and 2024-12-15 (the
    latter linked against the October extract), with twins, the generator's kinds of noise and
    the cases that must go to review: DUO pupils living outside Flanders (no_candidate), the
    twin of a Rijksregister child who is not in the extract himself (uncertain), a child
    registered twice by DUO (conflict), and a DUO file older than every extract. Ground truth in
    ``_ground_truth/duo_links.csv``."""
    rng = random.Random(seed)
    fake = Faker("nl_BE")
    fake.seed_instance(seed)
    people, counters = [], {}
    while len(people) < children:
        born = dt.date(2008, 1, 1) + dt.timedelta(days=rng.randrange(13 * 365))
        surname = rng.choice(HARD_SURNAMES) if rng.random() < 0.15 else fake.last_name()
        address = (fake.street_name(), str(rng.randint(1, 250)) + rng.choice(["", "", "", "A"]),
                   rng.choice(["9000", "9050", "2000", "2018", "3000", "8000", "2990"]))
        for _twin in range(2 if rng.random() < 0.03 else 1):
            counters[born] = counters.get(born, 0) + 1
            k = rng.choice([1, 1, 2, 3])
            firsts = [rng.choice(HARD_FIRST) if rng.random() < 0.1 else fake.first_name()
                      for _ in range(k)]
            people.append({"insz": _insz(born, counters[born]), "naam": surname,
                           "voornamen": " ".join(firsts), "born": born, "street": address[0],
                           "nr": address[1], "pc": address[2]})
    rr_dir, duo_dir, gt_dir = out / "rijksregister", out / "duo", out / "_ground_truth"
    for d in (rr_dir, duo_dir, gt_dir):
        d.mkdir(parents=True, exist_ok=True)
    rr_day = dt.date(2024, 10, 15)
    with (rr_dir / f"rijksregister_leerplichtigen_{rr_day}.csv").open("w", encoding="utf-8") as f:
        f.write(RR_HEADER + "\n")
        for c in people:
            sex = "M" if int(c["insz"][6:9]) % 2 else "V"
            f.write(f"{c['insz']};{c['naam']};{c['voornamen']};{c['born']:%d/%m/%Y};{sex};"
                    f"{c['street']};{c['nr']};{c['pc']};44021;{rr_day:%d/%m/%Y}\n")
    in_duo = rng.sample(people, int(children * duo_share))
    outsiders = [{"insz": "", "naam": fake.last_name(), "voornamen": fake.first_name(),
                  "born": dt.date(2012, 5, 5) + dt.timedelta(days=rng.randrange(2000)),
                  "street": fake.street_name(), "nr": "1", "pc": "4000"} for _ in range(15)]
    taken = {c["insz"] for c in in_duo}
    absent_twins = [dict(c, insz="", voornamen=name) for c, name in zip(
        [c for c in people if c["insz"] not in taken][:3], ("Wannes", "Gudrun", "Ezekiel"))]
    registered_twice = in_duo[:2]
    truth = []
    files = ((EARLY_DUO_DATE, in_duo[:5]),
             (dt.date(2024, 10, 15), in_duo + outsiders + absent_twins + registered_twice),
             (dt.date(2024, 12, 15), in_duo + outsiders + absent_twins + registered_twice))
    for peil, rows in files:
        with (duo_dir / f"duo_onderwijsdeelnemers_{peil}.csv").open("w", encoding="utf-8") as f:
            f.write(DUO_HEADER + "\n")
            for i, c in enumerate(rows):
                naam, voornamen = c["naam"], c["voornamen"]
                street, nr, pc = c["street"], c["nr"], c["pc"]
                if rng.random() < 0.05:
                    naam, voornamen = _strip(naam), _strip(voornamen)
                if rng.random() < 0.03:
                    if rng.random() < 0.5:
                        naam = _typo(rng, naam)
                    else:
                        voornamen = _typo(rng, voornamen)
                if rng.random() < 0.03:
                    toks = voornamen.split()
                    if len(toks) > 1 and rng.random() < 0.5:
                        toks = toks[1:] + toks[:1] if rng.random() < 0.5 else toks[:-1]
                    else:
                        toks.append(fake.first_name())
                    voornamen = " ".join(toks)
                if rng.random() < 0.03:
                    street, nr = fake.street_name(), str(rng.randint(1, 300))
                if rng.random() < 0.3:
                    naam = naam.title() if naam[:1].isupper() and " " in naam else naam
                    naam = re.sub(r"^(Van|De|Der|Den)\b", lambda m: m.group(1).lower(), naam)
                fictief = f"DUO{seed}{i:06d}"
                f.write(f"{fictief};{naam};{voornamen};{c['born']:%d-%m-%Y};{street};{nr};{pc};"
                        f"Gent;05KO;Sint-Jozefschool Breda;{peil:%d-%m-%Y}\n")
                if c["insz"]:
                    truth.append(f"{peil};{fictief};{c['insz']}")
    (gt_dir / "duo_links.csv").write_text("peildatum;fictief_nummer;insz\n" + "\n".join(truth)
                                          + "\n", encoding="utf-8")


# ------------------------------------------------------------------ the pipeline

@pytest.fixture(scope="module", params=["sample", "fixture"])
def linked(request, tmp_path_factory):
    """Ingest duo and rijksregister (the sample, or the fixture above) into a temporary data
    folder with the real ingestion, then link every reference date."""
    if request.param == "sample":
        if not (SAMPLE / "_ground_truth" / "duo_links.csv").exists():
            pytest.skip("no synthetic sample in data/sample (make sample)")
        source_dir = SAMPLE
    else:
        source_dir = tmp_path_factory.mktemp("fixture")
        build_fixture(source_dir)
    data = tmp_path_factory.mktemp("linkage") / "data"
    data.mkdir()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(settings.ENV_DATA_DIR, str(data))
        mp.setenv(settings.ENV_MEMORY_LIMIT, "2GB")
        mp.setenv(pseudo.ENV_MASTER_KEY, "test-master-key-for-linkage-tests-only-0123456789")
        p = settings.paths()
        for source in ("duo", "rijksregister"):
            p.inbox_of(source).mkdir(parents=True, exist_ok=True)
            for f in sorted((source_dir / source).glob("*.csv")):
                shutil.copy2(f, p.inbox_of(source) / f.name)
        handler = _Capture()
        logging.getLogger("orchestration").addHandler(handler)
        logging.getLogger("orchestration").setLevel(logging.INFO)
        try:
            with connect(p, vault=True) as con:
                for source in ("rijksregister", "duo"):
                    results = ingest_source(con, p, source)
                    assert results and all(r.status == "loaded" for r in results)
                link_results = link_all(con)
        finally:
            logging.getLogger("orchestration").removeHandler(handler)
        yield {"p": p, "results": link_results, "log": handler.lines,
               "truth": source_dir / "_ground_truth" / "duo_links.csv",
               "is_sample": source_dir == SAMPLE, "mp": mp}


class _Capture(logging.Handler):
    def __init__(self):
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(record.getMessage())


def _tables(con) -> dict[str, list[tuple]]:
    return {t: con.execute(f"select * from linkage.{t} order by all").fetchall()
            for t in ("duo_links", "duo_review")}


def test_precision_and_recall_against_the_ground_truth(linked):
    with connect(linked["p"], vault=True, read_only=True) as con:
        m = evaluate(con, linked["truth"])
    print("\nlinkage evaluation:", {k: v for k, v in m.items() if k != "reference_dates"},
          "\nper date:", [r.as_dict() for r in linked["results"]])
    assert m["true_pairs_present"] > 0
    assert m["precision"] == 1.0 and m["wrong_links"] == 0, m
    # the fixture adds a first name to ~1.5 % of its DUO records: those go to review (a first
    # name the child lacks may be an absent twin's), so it meets the hard-case bar of 95 %
    assert m["recall"] >= (0.97 if linked["is_sample"] else 0.95), m


def test_every_duo_record_is_linked_or_queued_exactly_once(linked):
    with connect(linked["p"], read_only=True) as con:
        dup = con.execute("""
            with outcome as (select record_key, peildatum from linkage.duo_links
                             union all select record_key, peildatum from linkage.duo_review)
            select count(*) filter (where n <> 1) from (
                select record_key, peildatum, count(*) as n from outcome group by all)""").fetchone()[0]
        missing = con.execute("""
            select count(*) from (select distinct record_key, strptime(peildatum, '%d-%m-%Y')::date
                                  as peildatum from raw.duo_registrations) d
            anti join (select record_key, peildatum from linkage.duo_links union all
                       select record_key, peildatum from linkage.duo_review) o
            using (record_key, peildatum)""").fetchone()[0]
        one_to_one = con.execute("select count(*) from (select peildatum, pupil_key from "
                                 "linkage.duo_links group by all having count(*) > 1)").fetchone()[0]
        reasons = {r[0] for r in con.execute("select distinct reason from linkage.duo_review").fetchall()}
        methods = {r[0] for r in con.execute("select distinct match_method from linkage.duo_links").fetchall()}
    assert (dup, missing, one_to_one) == (0, 0, 0)
    assert reasons <= {"no_candidate", "uncertain", "conflict"}
    assert methods <= {"exact", "fuzzy"} and "exact" in methods and "fuzzy" in methods
    r = linked["results"]
    assert all(x.duo_records == x.linked + x.to_review for x in r)


def _vault_names(p) -> set[str]:
    """Names, first names, streets and DUO numbers (house numbers alone are digits like counts)."""
    with connect(p, vault=True, read_only=True) as con:
        return {r[0] for r in con.execute("""
            select distinct unnest([naam, voornamen, straat])
            from vault.identity_rijksregister_children
            union select distinct unnest([achternaam, voornamen, straat, fictief_nummer])
            from vault.identity_duo_registrations""").fetchall() if r[0]}


def _name_words(names: set[str]) -> set[str]:
    """Words of at least 4 letters with a letter beyond hex (hex keys could hold 'abba')."""
    return {w for n in names for w in re.split(r"\W+", n.lower())
            if len(w) >= 4 and re.search(r"[g-z]", w)}


def test_no_name_or_address_from_the_vault_reaches_the_linkage_tables_or_the_log(linked):
    names = _vault_names(linked["p"])
    with connect(linked["p"], vault=True, read_only=True) as con:
        columns = con.execute("select table_name, column_name from information_schema.columns "
                              "where table_catalog = current_database() and table_schema = 'linkage'"
                              " and data_type = 'VARCHAR'").fetchall()
        values = set()
        for table, column in columns:
            values |= {str(r[0]) for r in con.execute(
                f'select distinct "{column}" from linkage.{table}').fetchall() if r[0] is not None}
        tables = {r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_catalog = "
            "current_database() and table_schema = 'linkage'").fetchall()}
    assert tables == {"duo_links", "duo_review", "duo_review_candidates", "duo_review_decisions"}
    lowered = {v.lower() for v in values}
    assert not lowered & {n.lower() for n in names}
    words = _name_words(names)  # a name inside a longer value
    assert not [v for v in lowered for w in words if w in v]
    log_text = "\n".join(linked["log"]).lower()
    assert linked["log"] and not [w for w in words if re.search(rf"\b{re.escape(w)}\b", log_text)]


def test_a_rerun_changes_nothing(linked):
    with connect(linked["p"], vault=True) as con:
        before = _tables(con)
        link_all(con)
        after = _tables(con)
    assert before == after and before["duo_links"]


def test_the_dagster_asset_materialises_with_counts_only(linked):
    import dagster as dg

    from orchestration.linkage.assets import DUO_LINKS_KEY, DUO_REVIEW_KEY, duo_linkage, \
        linkage_assets

    assert set(duo_linkage.keys) == {DUO_LINKS_KEY, DUO_REVIEW_KEY}
    for key in duo_linkage.keys:
        assert set(duo_linkage.asset_deps[key]) == {
            dg.AssetKey(["raw", "duo_registrations"]),
            dg.AssetKey(["raw", "rijksregister_children"])}
        assert duo_linkage.group_names_by_key[key] == "linkage"
    with connect(linked["p"], read_only=True) as con:
        before = _tables(con)
    home = linked["p"].data / "dagster_home_linkage_test"
    home.mkdir(exist_ok=True)
    linked["mp"].setenv("DAGSTER_HOME", str(home))
    with dg.DagsterInstance.get() as instance:
        result = dg.materialize(linkage_assets, instance=instance)
    assert result.success
    # the scale benchmark prints the linkage time from this materialisation
    from tools.benchmark import linkage_timing

    timing = linkage_timing(home)
    assert timing["reference_dates"] == len(linked["results"])
    assert timing["duo_records"] == sum(r.duo_records for r in linked["results"])
    assert 0 < timing["slowest_date_seconds"] <= timing["seconds"]
    [mat] = [m for m in result.asset_materializations_for_node("duo_linkage")
             if m.asset_key == DUO_LINKS_KEY]
    md = mat.metadata
    n_duo = sum(r.duo_records for r in linked["results"])
    assert md["duo_records"].value == n_duo
    assert md["linked"].value + md["to_review"].value == n_duo
    assert "per_reference_date" in md
    text = " ".join(str(v.value) for v in md.values()).lower()
    assert not [w for w in _name_words(_vault_names(linked["p"]))
                if re.search(rf"\b{re.escape(w)}\b", text)]
    with connect(linked["p"], read_only=True) as con:
        assert _tables(con) == before


def test_each_duo_date_uses_the_extract_of_that_date_or_the_nearest_earlier_one(linked):
    results = linked["results"]
    with connect(linked["p"], read_only=True) as con:
        extracts = duo.rijksregister_dates(con)
    for r in results:
        assert r.rijksregister_date == max((d for d in extracts if d <= r.peildatum), default=None)
    if not linked["is_sample"]:
        assert [(r.peildatum, r.rijksregister_date) for r in results] == [
            (EARLY_DUO_DATE, None), (dt.date(2024, 10, 15), dt.date(2024, 10, 15)),
            (dt.date(2024, 12, 15), dt.date(2024, 10, 15))]
        early = results[0]
        assert early.duo_records == early.review_no_candidate == 5 and early.linked == 0


@pytest.mark.parametrize("linked", ["fixture"], indirect=True)
def test_outsiders_absent_twins_and_double_registrations_go_to_review(linked):
    """Only the hand-built fixture plants these cases (outsiders, absent twins, a child
    registered twice), so only it is linked here."""
    assert not linked["is_sample"]
    for r in linked["results"][1:]:
        # 15 living outside Flanders (nobody to link to; one may meet a lookalike: uncertain)
        # and 3 whose twin, with other first names, is in the extract but they are not
        assert r.review_no_candidate >= 10 and r.review_uncertain >= 3
        assert r.review_no_candidate + r.review_uncertain >= 18
        assert r.review_conflict == 2  # the same child twice: one link, one conflict
    with connect(linked["p"], read_only=True) as con:
        rows = con.execute("select reason, min(candidate_count), max(best_score) "
                           "from linkage.duo_review where rijksregister_date is not null "
                           "group by all").fetchall()
    by_reason = {r[0]: r[1:] for r in rows}
    # an exact duplicate lost only on the one-to-one rule
    assert by_reason["conflict"][1] >= model.LINK_PROBABILITY
    assert by_reason["uncertain"][0] >= 1 and by_reason["no_candidate"][0] == 0
