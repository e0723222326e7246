"""naft_evaluation's two sides stay apart, shown on delivered files (art. 6: "DOV en Opgroeien
krijgen elkaars variabelen niet te zien").

A small synthetic set (``--pupils 600 --seed 11``) goes through the main job three times, each in
a fresh warehouse with a test master key, for the naft_evaluation delivery and what it is made
of (its upstream assets and their checks; the other protocols' models and deliveries play no
part in its files and are left out): as generated, with BINC variables changed (profile, school
situation, trajectory results and intensity, provider areas), and with Discimus variables
changed (OKI characteristics, unjustified absences, attests). Changing BINC must change no DOV
file and changing Discimus no BINC file, byte for byte; each change must change its own side (so
the comparison is not empty), and BINC file 2's school situation must follow BINC's record.
The key list (who is a NAFT pupil, art. 6 step 1) is left as it is: it is the one crossing.
"""

from __future__ import annotations

import csv
import hashlib
import io
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import dagster as dg
import pytest

from orchestration.foundations import pseudonymisation as pseudo
from orchestration.foundations import settings
from orchestration.platform.asset_keys import delivery_asset_key
from orchestration.platform.partitions import school_years_tags

pytestmark = pytest.mark.slow(main_job_runs=3)  # three runs of the main job (part of it)

PUPILS, SEED = 600, 11
PROTOCOL = "naft_evaluation"
CONTROL_GROUP = dg.AssetKey(["marts", "naft_control_group"])
PROJECT_ROOT = Path(__file__).resolve().parents[2]

Edit = Callable[[dict[str, str]], None]


def _swap(value: str, a: str, b: str) -> str:
    return b if value == a else a if value == b else value


BINC_EDITS: dict[str, Edit] = {
    "binc/binc_naft_begunstigden_*.csv": lambda r: r.update(
        Geslacht=_swap(r["Geslacht"], "M", "V"), Thuistaal="fra", Gezinssituatie="ANDERE",
        Onderwijsvorm=_swap(r["Onderwijsvorm"], "ASO", "TSO"), Koepel="KOV",
        Referentie_CLB=r["Referentie_CLB"] + "X"),
    "binc/binc_naft_trajecten_*.csv": lambda r: r.update(
        Resultaat="ANDERE" if r["Resultaat"] else "",
        Aantal_sessies=str(int(r["Aantal_sessies"]) + 1) if r["Aantal_sessies"] else ""),
    "binc/binc_naft_aanbieders_*.csv": lambda r: r.update(Werkgebied="Vlaanderen"),
}
DISCIMUS_EDITS: dict[str, Edit] = {
    "discimus/discimus_leerlingkenmerken_*.csv": lambda r: r.update(
        Thuistaal_niet_Nederlands=_swap(r["Thuistaal_niet_Nederlands"], "J", "N"),
        Schooltoelage=_swap(r["Schooltoelage"], "J", "N")),
    "discimus/discimus_afwezigheden_*.csv": lambda r: r.update(Halve_dagen_problematisch="0"),
    "discimus/discimus_attesten_*.csv": lambda r: r.update(Attest=_swap(r["Attest"], "A", "B")),
}


def _edit(extracts: Path, edits: dict[str, Edit]) -> None:
    """Rewrite the matching source files in place, every other byte kept as the source writes."""
    for pattern, edit in edits.items():
        files = sorted(extracts.glob(pattern))
        assert files, f"no file matches {pattern}"
        for path in files:
            with path.open(encoding="utf-8", newline="") as f:
                reader = csv.DictReader(f, delimiter=";")
                header, rows = reader.fieldnames, list(reader)
            for row in rows:
                edit(row)
            out = io.StringIO()
            writer = csv.DictWriter(out, header, delimiter=";", lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
            path.write_text(out.getvalue(), encoding="utf-8")


def _naft_delivery_run(instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
    """The main job (every school year, as ``run_warehouse_job``) for the naft_evaluation
    delivery and its upstream assets only."""
    from orchestration.definitions import defs

    # with the control group: dbt's relationship test from it to the DOV pupils runs whenever
    # they are built (eager indirect selection), so its model must be built too
    selection = (dg.AssetSelection.assets(delivery_asset_key(PROTOCOL), CONTROL_GROUP).upstream()
                 - dg.AssetSelection.groups("inbox"))
    return defs.resolve_job_def("warehouse_job").execute_in_process(
        instance=instance, tags=school_years_tags(), raise_on_error=False,
        asset_selection=sorted(selection.resolve(defs.resolve_asset_graph())))


def _deliver(extracts: Path, data: Path) -> dict[str, str]:
    """Run the main job for the naft_evaluation delivery on ``extracts`` in a fresh warehouse;
    the SHA-256 of every CSV part of that delivery, by file name."""
    data.mkdir()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(settings.ENV_DATA_DIR, str(data))
        mp.setenv(settings.ENV_MEMORY_LIMIT, "2GB")
        mp.setenv(pseudo.ENV_MASTER_KEY, "test-master-key-for-the-naft-separation-test-0123")
        p = settings.paths()
        for folder in extracts.iterdir():
            if folder.is_dir() and not folder.name.startswith("_"):
                target = p.inbox_of(folder.name)
                target.mkdir(parents=True, exist_ok=True)
                for f in folder.glob("*.csv"):
                    shutil.copy2(f, target / f.name)
        result = _naft_delivery_run(dg.DagsterInstance.ephemeral())
        assert result.success, "the main job failed on the small set"
        deliveries = sorted(x for x in (p.outbox / PROTOCOL).iterdir() if x.is_dir())
        assert len(deliveries) == 1, deliveries
        return {f.name: hashlib.sha256(f.read_bytes()).hexdigest()
                for f in sorted(deliveries[0].glob("*.csv"))}


def _side(hashes: dict[str, str], prefix: str) -> dict[str, str]:
    return {name: digest for name, digest in hashes.items() if name.startswith(prefix)}


class Runs:
    """The three runs, each made once and only when a test asks for it."""

    EDITS = {"base": {}, "binc": BINC_EDITS, "discimus": DISCIMUS_EDITS}

    def __init__(self, root: Path) -> None:
        self.root, self.done = root, {}
        subprocess.run([sys.executable, "-m", "tools.synthetic", "--pupils", str(PUPILS),
                        "--seed", str(SEED), "--out", str(root / "base"), "--quiet"],
                       check=True, cwd=PROJECT_ROOT, timeout=900)

    def __getitem__(self, name: str) -> tuple[Path, dict[str, str]]:
        if name not in self.done:
            extracts = self.root / name
            if name != "base":
                shutil.copytree(self.root / "base", extracts)
                _edit(extracts, self.EDITS[name])
            data = self.root / f"data_{name}"
            self.done[name] = (data, _deliver(extracts, data))
        return self.done[name]


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Runs:
    return Runs(tmp_path_factory.mktemp("naft_apart"))


def test_changing_binc_variables_changes_no_dov_file(runs):
    base, changed = runs["base"][1], runs["binc"][1]
    assert _side(base, "dov_") and _side(changed, "dov_") == _side(base, "dov_")
    differing = {n for n in _side(base, "binc_") if changed.get(n) != base[n]}
    assert any(n.startswith("binc_beneficiaries") for n in differing)
    assert any(n.startswith("binc_trajectories") for n in differing)


def test_changing_discimus_variables_changes_no_binc_file(runs):
    base, changed = runs["base"][1], runs["discimus"][1]
    assert _side(base, "binc_") and _side(changed, "binc_") == _side(base, "binc_")
    assert any(changed.get(n) != d for n, d in _side(base, "dov_pupils").items())


def _column(data: Path, prefix: str, column: str) -> Counter:
    folder = next((data / "outbox" / PROTOCOL).iterdir())
    values: Counter = Counter()
    for path in folder.glob(f"{prefix}*.csv"):
        with path.open(encoding="utf-8", newline="") as f:
            values.update(r[column] for r in csv.DictReader(f, delimiter=";"))
    return values


def test_binc_file_2_school_situation_is_bincs_own_record(runs):
    base = _column(runs["base"][0], "binc_beneficiaries", "education_form")
    changed = _column(runs["binc"][0], "binc_beneficiaries", "education_form")
    assert base["ASO"] + base["TSO"] > 0, "the small set has no ASO/TSO beneficiary"
    assert (changed["ASO"], changed["TSO"]) == (base["TSO"], base["ASO"])
    # every beneficiary has BINC's school situation (an empty onderwijsvorm is a pupil of
    # special or part-time secondary education, which has none)
    for column in ("institution_number", "school_network", "reference_clb", "learning_pathway"):
        values = _column(runs["base"][0], "binc_beneficiaries", column)
        assert values[""] == 0, f"{values['']} beneficiaries without {column}"
