"""A processor's answer files (vtc_2015_34: CEVI's statistical sectors) come from outside.

What a real processor, a tired operator or an attacker may send: other encodings, CRLF and CR
line endings, a BOM, quoted cells, a header with columns missing, added, renamed or twice, an
empty file, the wrong delimiter, a key twice, keys never handed off, sector codes of the wrong
form, a huge file, a file that is not CSV at all. The reader (``hand_off.load_answers``) must
name file, row and rule, never a value; count every line it received (accepted + rejected =
received); and never let a worse file replace a good earlier answer. Real files, a real DuckDB
connection, the real geocoder standing in for CEVI; expectations come from the files written
here, never from the reader.
"""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orchestration.deliveries import hand_off
from orchestration.deliveries.pseudonyms import CODE_ALPHABET, CODE_LETTERS, scheme_of
from orchestration.foundations.settings import Paths
from orchestration.protocols import load_registry
from tests.deliveries.conftest import synthetic_insz
from tools import geocoder

PROTOCOL = next(p for p in load_registry().protocols.values()
                if any(f.processor_hand_off for f in p.delivery_files))
FILE = next(f for f in PROTOCOL.delivery_files if f.processor_hand_off)
SPEC = FILE.processor_hand_off
PREFIX = scheme_of(PROTOCOL).prefix
SECTORS = list(csv.DictReader(geocoder.SECTORS.open(encoding="utf-8"), delimiter=";"))


def key(i: int, prefix: str = PREFIX) -> str:
    """A key of the hand-off's form (prefix, key version, 32 code letters), distinct per i."""
    digest = hashlib.sha256(f"pupil {i}".encode()).hexdigest()[:CODE_LETTERS]
    return prefix + digest.translate(str.maketrans("0123456789abcdef", CODE_ALPHABET))


SENT = [key(i) for i in range(40)]


def sector(i: int) -> str:
    return SECTORS[i % len(SECTORS)]["statistical_sector"]


@pytest.fixture
def paths(tmp_path) -> Paths:
    """A data folder whose outbox holds a hand-off file of the keys in ``SENT``."""
    p = Paths(tmp_path / "data")
    folder = hand_off.outbox_folder(p, PROTOCOL, FILE)
    folder.mkdir(parents=True)
    with (folder / f"{FILE.id}_2024-25.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, delimiter=";", lineterminator="\n")
        w.writerow(["key", *SPEC.sends])
        w.writerows([k, SECTORS[i % len(SECTORS)]["postcode"],
                     SECTORS[i % len(SECTORS)]["street"], str(i + 1)]
                    for i, k in enumerate(SENT))
    return p


def answer_file(p: Paths, name: str, content: bytes | str) -> Path:
    folder = hand_off.answer_folder(p, PROTOCOL, FILE)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def load(p: Paths) -> tuple[hand_off.Answers, dict[str, str]]:
    with duckdb.connect() as con:
        answers = hand_off.load_answers(con, PROTOCOL, FILE, p)
        table = dict(con.execute(
            f"select key, statistical_sector from {hand_off.ANSWERS_TABLE}").fetchall())
    return answers, table


def good(rows: list[tuple[str, str]], newline: str = "\n") -> str:
    return newline.join(["key;statistical_sector", *(f"{k};{s}" for k, s in rows)]) + newline


def assert_no_value(answers: hand_off.Answers, p: Paths, values: list[str]) -> None:
    """Neither the messages nor the rejection files hold any key or answer sent."""
    shown = [f.message() for f in answers.files]
    folder = hand_off.outbox_folder(p, PROTOCOL, FILE) / hand_off.REJECTED_FOLDER
    shown += [x.read_text(encoding="utf-8") for x in folder.glob("*")] if folder.exists() else []
    for text in shown:
        for value in values:
            assert value not in text, "a message quotes a value of the answer file"


def test_the_geocoders_answer_is_accepted_whole(paths):
    [handed] = hand_off.outbox_folder(paths, PROTOCOL, FILE).glob("*.csv")
    answered = geocoder.answer(handed, hand_off.answer_folder(paths, PROTOCOL, FILE)
                               / handed.name)
    answers, table = load(paths)
    [read] = answers.files
    assert (read.status, read.received, read.accepted, read.rejected) == (
        hand_off.ACCEPTED, answered, answered, 0)
    assert table == {k: sector(i) for i, k in enumerate(SENT)}


# ------------------------------------------------------------------ property: rows of any kind

ROW_KINDS = {  # kind -> (the line written for key i, the rule expected, its column)
    "good": (lambda i: f"{SENT[i]};{sector(i)}", None, None),
    "quoted": (lambda i: f'"{SENT[i]}" ; "{sector(i)}"', None, None),
    "lower_case_sector": (lambda i: f"{SENT[i]};{sector(i).lower()}", "invalid_answer",
                          "statistical_sector"),
    "short_sector": (lambda i: f"{SENT[i]};{sector(i)[:6]}", "invalid_answer",
                     "statistical_sector"),
    "empty_sector": (lambda i: f"{SENT[i]};", "missing_required", "statistical_sector"),
    "empty_key": (lambda i: f";{sector(i)}", "missing_required", "key"),
    "never_sent": (lambda i: f"{key(1000 + i)};{sector(i)}", "key_not_sent", "key"),
    "other_prefix": (lambda i: f"{key(i, 'DOM1-')};{sector(i)}", "invalid_key", "key"),
    "national_number": (lambda i: f"{85073100000 + i * 97};{sector(i)}", "invalid_key", "key"),
    "one_field": (lambda i: f"{SENT[i]}", "wrong_field_count", None),
    "extra_field": (lambda i: f"{SENT[i]};{sector(i)};x", "wrong_field_count", None),
    "comma": (lambda i: f"{SENT[i]},{sector(i)}", "wrong_field_count", None),
}
KEPT = {"good", "quoted"}


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kinds=st.lists(st.sampled_from([*ROW_KINDS, "blank"]), max_size=len(SENT)),
       newline=st.sampled_from(["\n", "\r\n", "\r"]), bom=st.booleans(),
       final_newline=st.booleans())
def test_every_row_is_accepted_or_rejected_by_row_and_rule_never_quoting_it(
        paths, kinds, newline, bom, final_newline):
    body = [(ROW_KINDS[k][0](i) if k != "blank" else "  ") for i, k in enumerate(kinds)]
    text = newline.join(["key;statistical_sector", *body]) + (newline if final_newline else "")
    answer_file(paths, "answers.csv", ("\ufeff" if bom else "") + text)
    answers, table = load(paths)
    [read] = answers.files
    expected_rows = {i + 1: k for i, k in enumerate(kinds) if k != "blank"}
    assert read.received == len(expected_rows)
    assert read.accepted + read.rejected == read.received
    assert table == {SENT[i]: sector(i) for i, k in enumerate(kinds) if k in KEPT}
    assert read.accepted == len(table)
    assert set(read.errors) == {(row, ROW_KINDS[k][1], ROW_KINDS[k][2])
                                for row, k in expected_rows.items() if k not in KEPT}
    assert_no_value(answers, paths, [*SENT[:len(kinds)], *(sector(i) for i in range(len(kinds)))])


# ------------------------------------------------------------------ files rejected whole

HEADER_OK = "key;statistical_sector\n"
ROWS = "".join(f"{SENT[i]};{sector(i)}\n" for i in range(3))
WHOLE_FILE_CASES = {
    "empty": (b"", "empty_file"),
    "bom_only": (b"\xef\xbb\xbf\r\n", "empty_file"),
    "utf16": ((HEADER_OK + ROWS).encode("utf-16"), "not_utf8"),
    "latin1": ("key;statistical_sector\n" + f"{SENT[0]};Brügge\n").encode("latin-1"),
    "binary": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "not_utf8"),
    "json": ('{"' + SENT[0] + '": "' + sector(0) + '"}\n', "wrong_header"),
    "comma_delimited": (HEADER_OK.replace(";", ",") + ROWS.replace(";", ","), "wrong_header"),
    "tab_delimited": (HEADER_OK.replace(";", "\t") + ROWS.replace(";", "\t"), "wrong_header"),
    "missing_column": ("key\n" + "".join(f"{k}\n" for k in SENT[:3]), "wrong_header"),
    "extra_column": ("key;statistical_sector;note\n"
                     + "".join(f"{SENT[i]};{sector(i)};x\n" for i in range(3)), "wrong_header"),
    "renamed_column": ("sleutel;statistische_sector\n" + ROWS, "wrong_header"),
    "columns_swapped": ("statistical_sector;key\n"
                        + "".join(f"{sector(i)};{SENT[i]}\n" for i in range(3)), "wrong_header"),
    "column_twice": ("key;key\n" + ROWS, "wrong_header"),
    "no_header": (ROWS, "wrong_header"),
}
WHOLE_FILE_CASES["latin1"] = (WHOLE_FILE_CASES["latin1"], "not_utf8")


@pytest.mark.parametrize("case", sorted(WHOLE_FILE_CASES))
def test_a_file_that_cannot_be_read_as_the_answer_is_rejected_whole_and_keeps_the_earlier(
        paths, case):
    content, rule = WHOLE_FILE_CASES[case]
    answer_file(paths, "a_first.csv", good([(SENT[i], sector(i)) for i in range(3)]))
    answer_file(paths, "b_later.csv", content)
    answers, table = load(paths)
    earlier, later = answers.files
    assert (earlier.status, earlier.accepted) == (hand_off.ACCEPTED, 3)
    assert later.status == hand_off.REJECTED and later.errors == [(0, rule, None)]
    assert later.accepted == 0
    assert table == {SENT[i]: sector(i) for i in range(3)}, "the earlier answers are kept"
    message = later.message()
    assert "b_later.csv" in message and rule in message
    assert_no_value(answers, paths, [*SENT[:3], *(sector(i) for i in range(3))])
    rejections = hand_off.rejections_path(paths, PROTOCOL, FILE, "b_later.csv")
    with rejections.open(encoding="utf-8") as fh:
        assert list(csv.reader(fh, delimiter=";")) == [list(hand_off.ERROR_COLUMNS),
                                                       ["b_later.csv", "0", rule, ""]]


def test_a_wrong_header_is_told_by_positions_and_the_delimiter(paths):
    answer_file(paths, "answers.csv", HEADER_OK.replace(";", ",") + ROWS.replace(";", ","))
    answers, _ = load(paths)
    assert "1 column(s), expected 2" in answers.files[0].message()
    assert "the delimiter must be ';'" in answers.files[0].message()
    answer_file(paths, "answers.csv", "key;sector\n" + ROWS)
    answers, _ = load(paths)
    message = answers.files[0].message()
    assert "position(s) 2 differ" in message and "missing statistical_sector" in message
    assert "sector\n" not in message


def test_a_file_larger_than_an_answer_to_the_keys_sent_is_not_read(paths):
    bound = hand_off.MAX_BYTES_PER_KEY * (len(SENT) + 1)
    line = f"{SENT[0]};{sector(0)}\n"
    answer_file(paths, "answers.csv", HEADER_OK + line * (bound // len(line) + 1))
    answers, table = load(paths)
    [read] = answers.files
    assert read.errors == [(0, "too_large", None)] and table == {}
    assert f"at most {bound}" in read.message()


def test_a_file_that_is_not_csv_is_reported_not_ignored(paths):
    answer_file(paths, "answers.xlsx", b"PK\x03\x04" + bytes(64))
    answer_file(paths, ".partial-answers.csv", good([(SENT[0], sector(0))]))  # being written
    answers, table = load(paths)
    assert [(f.file, f.errors) for f in answers.files] == [("answers.xlsx",
                                                            [(0, "not_csv", None)])]
    assert table == {}


def test_a_file_named_like_a_national_number_is_shown_by_its_hash(paths):
    national_number = synthetic_insz(3)
    path = answer_file(paths, f"{national_number}.csv", good([(SENT[0], sector(0))]))
    answers, table = load(paths)
    assert national_number not in answers.files[0].message()
    assert answers.files[0].file == hand_off.shown_name(path) != path.name
    assert table == {SENT[0]: sector(0)}


# ------------------------------------------------------------------ keys twice, later files

def test_a_key_twice_in_a_file_keeps_the_first_identical_answer_and_refuses_a_conflict(paths):
    rows = [(SENT[0], sector(0)), (SENT[1], sector(1)), (SENT[0], sector(0)),
            (SENT[1], sector(2)), (SENT[2], sector(2))]
    answer_file(paths, "answers.csv", good(rows))
    answers, table = load(paths)
    [read] = answers.files
    assert table == {SENT[0]: sector(0), SENT[2]: sector(2)}
    assert set(read.errors) == {(3, "duplicate_key", "key"), (2, "conflicting_answers", "key"),
                                (4, "conflicting_answers", "key")}
    assert (read.received, read.accepted, read.rejected) == (5, 2, 3)


def test_a_later_worse_answer_never_replaces_a_good_one_and_a_later_good_one_corrects(paths):
    answer_file(paths, "answers_2025-01.csv", good([(SENT[i], sector(i)) for i in range(3)]))
    answer_file(paths, "answers_2025-02.csv", good([
        (SENT[0], "not-a-sector"), (SENT[1], ""), (SENT[2], sector(7))], newline="\r\n"))
    answers, table = load(paths)
    assert table == {SENT[0]: sector(0), SENT[1]: sector(1), SENT[2]: sector(7)}
    assert answers.received == answers.accepted + answers.rejected == 6
    assert answers.keys == 3


def test_the_rejections_file_goes_when_the_answer_is_fixed(paths):
    answer_file(paths, "answers.csv", good([(SENT[0], "x")]))
    load(paths)
    rejections = hand_off.rejections_path(paths, PROTOCOL, FILE, "answers.csv")
    with rejections.open(encoding="utf-8") as fh:
        assert list(csv.reader(fh, delimiter=";"))[1:] == [
            ["answers.csv", "1", "invalid_answer", "statistical_sector"]]
    answer_file(paths, "answers.csv", good([(SENT[0], sector(0))]))
    load(paths)
    assert not rejections.exists()


def test_a_link_in_the_answer_folder_is_not_followed(paths, tmp_path):
    elsewhere = tmp_path / "elsewhere.csv"
    elsewhere.write_text(good([(SENT[0], sector(0))]), encoding="utf-8")
    folder = hand_off.answer_folder(paths, PROTOCOL, FILE)
    folder.mkdir(parents=True)
    (folder / "answers.csv").symlink_to(elsewhere)
    answers, table = load(paths)
    assert [(f.file, f.errors) for f in answers.files] == [
        ("answers.csv", [(0, "not_a_regular_file", None)])]
    assert table == {}
