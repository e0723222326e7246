"""Careers of the generator against the article-7 age rule: however weak the pupils, no career
repeats beyond the delay `age_implausible_for_study_year` calls plausible, so a clean population
raises no finding at any scale (1.2 million pupils once gave 58 warnings)."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from tools.synthetic import careers, geography, names, population, schools
from tools.synthetic import programmes as pg

pytestmark = pytest.mark.unit

SEED, PUPILS = 11, 1000


def test_no_career_repeats_beyond_the_longest_plausible_delay(monkeypatch):
    monkeypatch.setattr(careers, "KLEUTER_STAY", 0.9)  # kleuters stay year after year
    geo, streets = geography.load(), population.frame_of_streets(SEED)
    pop = population.generate(PUPILS, SEED, geo, streets, names.build_pools(SEED))
    # the weakest possible cohort: every year the highest chance to fail and to start late
    weakest = dataclasses.replace(pop, ability=np.full(pop.n, -8.0),
                                  will_drop=np.ones(pop.n, dtype=bool))
    enrolments = careers.simulate(weakest, schools.generate(PUPILS, SEED, geo, streets),
                                  SEED).enrolments
    age = enrolments["year"].to_numpy() - weakest.birth_year[enrolments["child"].to_numpy()]
    hs, study_year = enrolments["hs"].to_numpy(), enrolments["leerjaar"].to_numpy()
    normal_age = np.select([hs <= pg.HS_BUKLEUTER, hs <= pg.HS_BULAGER], [2, 5], 11)
    longest = np.select([hs <= pg.HS_BUKLEUTER, hs == pg.HS_LAGER, hs == pg.HS_BULAGER],
                        [2, 4, 6], 7)
    delay = age - normal_age - study_year
    counted = enrolments["kind"].to_numpy() != careers.K_OKAN  # the rule exempts OKAN
    assert (delay[counted & (hs == pg.HS_LAGER)] > 0).any(), "the cohort should repeat years"
    assert (delay[hs == pg.HS_KLEUTER] > 0).any(), "kleuters should stay"
    assert int((counted & (delay > longest)).sum()) == 0
