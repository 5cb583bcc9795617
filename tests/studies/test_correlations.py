"""Score-vs-mass correlations on synthetic data with known answers, and the wrapper on a tiny network."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from hhnb.config import analyses as _config
from hhnb.errors import ConfigError
from hhnb.studies import correlations as corr


@pytest.fixture
def independent():
    """A score drawn independently of the mass, and one built from the mass."""
    rng = np.random.default_rng(11)
    mass = rng.uniform(50, 250, 4000)
    return mass, rng.random(4000), 1 / (1 + np.exp(-(mass - 150) / 20))


def test_independent_score_has_near_zero_correlation(independent):
    mass, score, _ = independent
    assert abs(corr.pearson(mass, score)) < 0.05
    assert corr.distance_correlation(mass, score, seed=2) < 0.05


def test_dependent_score_is_correlated(independent):
    mass, _, dependent = independent
    assert corr.pearson(mass, dependent) > 0.9
    assert corr.distance_correlation(mass, dependent) > 0.9


def test_weighted_pearson_matches_repeated_events():
    x, y = np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.0, 3.0, 2.0, 5.0])
    w = np.array([1, 2, 1, 3])
    assert corr.pearson(x, y, w) == pytest.approx(np.corrcoef(np.repeat(x, w), np.repeat(y, w))[0, 1])


def test_distance_correlation_is_seeded(independent):
    mass, score, _ = independent
    w = np.linspace(0.5, 2.0, len(mass))
    a = corr.distance_correlation(mass, score, w, max_events=500, seed=4)
    assert a == corr.distance_correlation(mass, score, w, max_events=500, seed=4)


def test_profile_mean_per_bin(independent):
    mass, _, dependent = independent
    p = corr.profile(mass, dependent, np.array([50.0, 150.0, 250.0]))
    assert p.mean[0] < 0.2 and p.mean[1] > 0.8
    assert p.sumw.sum() == len(mass)
    assert np.all(p.error > 0)


def test_histogram2d_keeps_the_weights(independent):
    mass, score, _ = independent
    h = corr.histogram2d(mass, score, np.linspace(50, 250, 11), weight=np.full(len(mass), 2.0))
    assert h.values().sum() == pytest.approx(2.0 * len(mass))


def test_sculpting_flat_for_independent_and_not_for_mass_score(independent):
    mass, score, dependent = independent
    edges = np.linspace(50, 250, 5)
    flat = corr.sculpting(mass, score, edges, cut=0.5)
    assert flat.efficiency == pytest.approx(0.5, abs=0.03)
    assert np.all(np.abs(flat.ratio - 1) < 0.15)
    assert (flat.before * np.diff(edges)).sum() == pytest.approx(1.0)
    sculpted = corr.sculpting(mass, dependent, edges, cut=0.75)
    assert sculpted.ratio[0] < 0.1 and sculpted.ratio[-1] > 1.8


def test_coefficients_per_sample_and_all_backgrounds(independent):
    mass, score, dependent = independent
    df = pd.DataFrame({"sample": ["sig"] * 2000 + ["b1"] * 1000 + ["b2"] * 1000,
                       "label": [0] * 2000 + [1] * 2000, "weight": 1.0, "m": mass,
                       "score_sig": np.r_[dependent[:2000], score[2000:]]})
    out = corr.coefficients(df, {"m_hh": "m"})
    by = out.set_index("sample")
    assert list(out["sample"]) == ["sig", "b1", "b2", "all backgrounds"]
    assert by.loc["sig", "pearson"] > 0.9 and abs(by.loc["all backgrounds", "pearson"]) < 0.1


def test_missing_mass_names_variable_and_config():
    ana = _config.load(None).analysis("resolved")
    with pytest.raises(ConfigError, match=r"h2_M.*analyses.yaml"):
        corr.mass_columns(ana, ["m_hh", "h1_M"])
    with pytest.raises(ConfigError, match="has no 'masses'"):
        corr.mass_columns(dataclasses.replace(ana, masses={}))


def test_select_rejects_unknown_subset():
    with pytest.raises(ValueError, match="subset"):
        corr.select(pd.DataFrame({"is_test": [True]}), "val")


def test_dcor_permutation_pvalue_known_answers():
    """Independent score and mass: p > 0.05 in at least 90 % of seeded trials, also with QCD-like weights
    (few events of huge weight, drawn many times); a score built from the mass: p < 0.01."""
    rng = np.random.default_rng(31)
    passed = passed_w = 0
    trials = 100  # under independence 5 % of p-values fall below 0.05: 100 trials keep the binomial noise small
    for k in range(trials):
        mass, score = rng.uniform(50, 250, 300), rng.random(300)
        weight = np.where(rng.random(300) < 0.1, 1e4, 1.0) * rng.uniform(0.5, 1.5, 300)  # QCD-slice-like
        passed += corr.distance_correlation_test(mass, score, n_permutations=200, seed=k).pvalue > 0.05
        r = corr.distance_correlation_test(mass, score, weight, n_permutations=200, max_events=300, seed=k)
        passed_w += r.pvalue > 0.05
        assert r.distinct < r.events  # heavy events were drawn more than once
    assert passed >= 0.9 * trials and passed_w >= 0.9 * trials, (passed, passed_w)
    mass = rng.uniform(50, 250, 600)
    built = 1 / (1 + np.exp(-(mass - 150) / 20)) + rng.normal(0, 0.2, 600)
    r = corr.distance_correlation_test(mass, built, np.ones(600), n_permutations=200, max_events=500, seed=1)
    assert r.pvalue < 0.01 and r.dcor2 > 0.3 and r.n_permutations == 200


def test_dcor2_is_signed_and_unbiased_near_zero():
    rng = np.random.default_rng(32)
    values = [corr.distance_correlation_test(rng.random(300), rng.random(300), n_permutations=1, seed=k).dcor2
              for k in range(40)]
    assert min(values) < 0 < max(values)  # signed: independent pairs scatter around zero
    assert abs(np.mean(values)) < 3 * np.std(values) / np.sqrt(len(values))


def test_coefficients_table_has_the_noise_level(independent):
    mass, score, dependent = independent
    df = pd.DataFrame({"m_hh": mass, "score_sig": np.r_[dependent[:2000], score[2000:]], "label": np.r_[
        np.zeros(2000, int), np.ones(2000, int)], "sample": np.r_[["hh"] * 2000, ["qcd"] * 2000],
        "weight": np.ones(4000)})
    t = corr.coefficients(df, {"m_hh": "m_hh"}, max_events=800, n_permutations=200).set_index("sample")
    assert {"dcor2", "dcor_pvalue", "dcor_events", "n_eff"} <= set(t.columns)
    assert t.loc["hh", "dcor_pvalue"] < 0.01 and t.loc["qcd", "dcor_pvalue"] > 0.01
    assert t.loc["qcd", "n_eff"] == pytest.approx(2000)
