"""hhnb.studies.decorrelation: the trade-off numbers of one network from a scores table (known answers)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hhnb.studies import decorrelation


def _scores(score_of_mass: bool, n: int = 30000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    label = rng.choice([0, 1, 2], n, p=[0.2, 0.6, 0.2])
    sample = np.where(label == 0, "hh", np.where(label == 1, "qcd_4b", "ttbar"))
    m1, m2 = 60 + rng.exponential(60, n), 60 + rng.exponential(50, n)
    sig = label == 0
    m1[sig], m2[sig] = rng.normal(125, 10, sig.sum()), rng.normal(120, 10, sig.sum())
    base = np.where(sig, rng.beta(5, 2, n), rng.beta(2, 5, n))
    if score_of_mass:  # the background's score follows its mass: high inside the signal region
        base = np.where(sig, base, np.exp(-((m1 - 115) ** 2 + (m2 - 115) ** 2) / (2 * 25.0 ** 2)))
    return pd.DataFrame({"score_sig": base, "label": label, "sample": pd.Categorical(sample),
                         "weight": rng.uniform(0.5, 1.5, n), "is_test": np.ones(n, bool), "h1_M": m1, "h2_M": m2})


def test_an_independent_background_score_closes_and_shows_no_dependence():
    r = decorrelation.row(_scores(False), cut=0.5, n_boot=20)
    assert abs(r["closure_pull"]) < 3 and r["dcor2_pvalue"] > 0.01
    assert 0.8 < r["auc"] < 1.0 and 0 < r["auc_error"] < 0.01


def test_a_mass_sculpting_background_score_fails_closure_and_the_independence_test():
    r = decorrelation.row(_scores(True), cut=0.5, n_boot=20)
    assert r["closure_pull"] < -5 and r["dcor2_pvalue"] < 0.01 and r["dcor2_h1_M"] > 0.05


def test_signal_efficiency_at_a_background_efficiency_reads_the_roc_curve():
    y = np.r_[np.ones(1000), np.zeros(1000)].astype(int)
    s = np.r_[np.linspace(0.5, 1.0, 1000), np.linspace(0.0, 1.0, 1000)]
    # background uniform on [0, 1]: 10 % above 0.9, where the signal (uniform on [0.5, 1]) keeps 20 %
    assert decorrelation.signal_efficiency_at(y, s, np.ones(2000), 0.1) == pytest.approx(0.2, abs=0.01)


def test_signal_efficiency_error_is_the_binomial_error_when_the_background_is_large():
    rng = np.random.default_rng(11)
    ns, nb = 2000, 400_000
    y = np.r_[np.ones(ns), np.zeros(nb)].astype(int)
    s = np.r_[rng.normal(2.0, 1.0, ns), rng.normal(0.0, 1.0, nb)]
    eff = decorrelation.signal_efficiency_at(y, s, np.ones(ns + nb), 0.01)
    err = decorrelation.signal_efficiency_error(y, s, np.ones(ns + nb), 0.01, n_boot=200, seed=2)
    binomial = np.sqrt(eff * (1 - eff) / ns)  # the threshold is fixed by 4000 background events: a small addition
    assert binomial < err < 1.35 * binomial


def test_signal_efficiency_error_equals_the_efficiency_of_each_replica():
    """The sort-once bootstrap gives the spread of signal_efficiency_at over the same Poisson replicas
    (signed weights and tied scores included)."""
    rng = np.random.default_rng(4)
    y = rng.integers(0, 2, 3000)
    s = np.round(rng.normal(y, 1.0), 2)  # ties
    w = rng.uniform(0.5, 1.5, 3000) * np.where(rng.random(3000) < 0.1, -1, 1)
    draws = np.random.default_rng(9)
    brute = [decorrelation.signal_efficiency_at(y, s, w * draws.poisson(1.0, 3000), 0.05) for _ in range(30)]
    assert decorrelation.signal_efficiency_error(y, s, w, 0.05, n_boot=30, seed=9) == pytest.approx(
        np.std(brute, ddof=1), rel=1e-9)


def test_interval_width_error_vanishes_without_simulation_errors_and_grows_with_them():
    from hhnb.studies import constraints

    edges, basis = np.array([250.0, 300, 350, 400]), (0.0, 1.0, 2.45)
    sig = np.array([[400.0, 300, 200], [200.0, 250, 300], [100.0, 150, 500]])
    t = constraints.Templates("c", edges, np.full(3, 1e4), np.zeros(3), np.full(3, 100, int), basis, sig,
                              np.zeros_like(sig))
    kl = np.linspace(-10, 10, 201)
    assert decorrelation.interval_width_error(t, kl, n_boot=10) == (0.0, 10)
    noisy = constraints.Templates("c", edges, np.full(3, 1e4), np.full(3, 1e6), np.full(3, 100, int), basis, sig,
                                  np.zeros_like(sig))  # 10 % background errors
    err, closed = decorrelation.interval_width_error(noisy, kl, n_boot=40)
    width = constraints.chi2_scan([t], kl).interval()
    assert closed == 40 and 0.01 * (width.high - width.low) < err < 0.5 * (width.high - width.low)
