"""hhnb.stats.significance: Asimov Z, yields above a cut, the cut choice, bootstrap errors, weight helpers."""

import numpy as np
import pytest

from hhnb.stats import significance


def test_asimov_check_value():
    assert float(significance.asimov_z(50, 100, 7)) == pytest.approx(3.72, abs=0.005)


def test_asimov_limits():
    # small s/b: Z -> s / sqrt(b); large sigma_b lowers Z
    assert float(significance.asimov_z(1.0, 1e4)) == pytest.approx(0.01, rel=1e-3)
    assert float(significance.asimov_z(50, 100, 1e-9)) == pytest.approx(float(significance.asimov_z(50, 100)), rel=1e-6)
    assert float(significance.asimov_z(50, 100, 20)) < float(significance.asimov_z(50, 100, 7))


def test_zero_background_is_zero():
    np.testing.assert_array_equal(significance.asimov_z(np.array([1.0, 2.0]), np.array([0.0, 4.0]))[0], 0.0)
    assert float(significance.s_over_sqrt_b(3.0, 0.0)) == 0.0


def test_mc_error_enters_sigma_b():
    # 400 background events of weight 0.25: b = 100, sqrt(sum w^2) = 5; with rel_unc 0.05 in quadrature 7.07
    sig = np.r_[np.ones(50, bool), np.zeros(400, bool)]
    w = np.r_[np.ones(50), np.full(400, 0.25)]
    q = significance.quote(np.ones(450), sig, w, 0.5, rel_unc=0.05, n_boot=50)
    assert q.b_mc_error == pytest.approx(5.0)
    assert q.z == pytest.approx(float(significance.asimov_z(50, 100, np.hypot(5.0, 5.0))), rel=1e-12)
    assert q.z_no_mc == pytest.approx(float(significance.asimov_z(50, 100, 5.0)), rel=1e-12)
    assert q.z < q.z_no_mc
    # one huge background event: MC error equals b, Z collapses
    q1 = significance.quote(np.ones(51), np.r_[np.ones(50, bool), False], np.r_[np.ones(50), 100.0], 0.5, n_boot=20)
    assert q1.n_bkg_mc == 1 and q1.b_mc_error == pytest.approx(100.0)
    assert q1.z < 0.3 * q1.z_no_mc


def test_yields_match_brute_force():
    rng = np.random.default_rng(3)
    score, sig = rng.random(500), rng.random(500) < 0.3
    w = rng.normal(1.0, 0.8, 500)  # some negative weights: kept signed
    cuts = np.array([0.0, 0.25, 0.5, 0.9, 1.1])
    y = significance.yields(score, sig, w, cuts)
    for i, c in enumerate(cuts):
        p = score >= c
        assert y.s[i] == pytest.approx(w[p & sig].sum())
        assert y.b[i] == pytest.approx(w[p & ~sig].sum())
        assert y.sumw2_b[i] == pytest.approx((w[p & ~sig] ** 2).sum())
        assert y.n_bkg_mc[i] == (p & ~sig).sum() and y.n_sig_mc[i] == (p & sig).sum()


def test_choose_cut_requires_simulated_background():
    # the tightest cuts keep background events of huge weight but few of them; Z without the requirement
    # would pick them
    rng = np.random.default_rng(2)
    score = np.r_[rng.normal(2, 1, 3000), rng.normal(0, 1, 30000)]
    sig = np.r_[np.ones(3000, bool), np.zeros(30000, bool)]
    w = np.r_[np.full(3000, 0.1), np.full(30000, 1.0)]
    for need in (1, 10, 100):
        c = significance.choose_cut(score, sig, w, min_bkg_mc=need)
        assert c.n_bkg_mc[c.index] >= need
        assert (c.z[c.n_bkg_mc < need] == 0).all()
    with pytest.raises(ValueError, match="simulated background"):
        significance.choose_cut(score, sig, w, min_bkg_mc=10**6)


def test_significance_chooses_and_quotes_on_disjoint_events():
    rng = np.random.default_rng(4)
    n = 40000
    sig = rng.random(n) < 0.1
    score = np.where(sig, rng.normal(2, 1, n), rng.normal(0, 1, n))
    w = np.where(sig, 0.01, 1.0)
    sample = np.where(sig, "hh", "qcd")
    choose, quote_on = np.arange(n) % 5 == 1, np.arange(n) % 5 == 0
    r = significance.significance(score, sig, w, choose, quote_on, sample, min_bkg_mc=10, n_boot=100)
    assert r.chosen_on == choose.sum() and r.quoted_on == quote_on.sum()
    assert r.quoted.cut == r.choice.cut
    # quoted yields are scaled to the full sample: s = the full signal yield above the cut, within MC noise
    s_full = w[sig & (score >= r.choice.cut)].sum()
    assert r.quoted.s == pytest.approx(s_full, abs=3 * r.quoted.s_error)
    with pytest.raises(ValueError, match="both in the choose-on and the quote-on"):
        significance.significance(score, sig, w, choose | quote_on, quote_on)


def test_bootstrap_interval_coverage():
    """Known answer: Z_hat +- bootstrap error covers the true Z in 68 % +- 7 % of 200 pseudo-experiments."""
    rng = np.random.default_rng(12)
    mean_ws, mean_wb, ns, nb = 0.5, 0.25, 80, 400  # true s = 40, b = 100 (weights gamma-distributed)
    true_z = float(significance.asimov_z(ns * mean_ws, nb * mean_wb))
    covered = 0
    for k in range(200):
        ws = rng.gamma(4.0, mean_ws / 4.0, rng.poisson(ns))
        wb = rng.gamma(2.0, mean_wb / 2.0, rng.poisson(nb))
        sig = np.r_[np.ones(len(ws), bool), np.zeros(len(wb), bool)]
        q = significance.quote(np.ones(len(sig)), sig, np.r_[ws, wb], 0.5, n_boot=200, seed=k)
        covered += abs(q.z_no_mc - true_z) <= q.z_no_mc_error
    coverage = covered / 200
    assert 0.61 <= coverage <= 0.75, coverage


def test_background_sigma_adds_mc_and_relative_errors_in_quadrature():
    np.testing.assert_allclose(significance.background_sigma(np.array([100.0, 0.0]), np.array([9.0, 4.0]), 0.04),
                               [5.0, 2.0])
    assert float(significance.background_sigma(10.0, -1e-12)) == 0.0  # rounding below zero: clipped
    assert significance.mc_error(np.array([1.0, -2.0, 2.0])) == 3.0  # signed weights: sum w^2


def test_cut_grid_follows_the_signal_efficiency():
    score = np.r_[np.linspace(0.0, 1.0, 1001), np.full(500, -5.0)]
    sig = np.r_[np.ones(1001, bool), np.zeros(500, bool)]
    grid = significance.cut_grid(score, sig, n=5)
    np.testing.assert_allclose(grid, [0.02, 0.26, 0.5, 0.74, 0.98], atol=1e-9)  # background plays no part
    with pytest.raises(ValueError, match="no signal events"):
        significance.cut_grid(score, np.zeros(len(score), bool))


def test_poisson_bootstrap_is_seeded_and_independent_of_the_chunks():
    w = np.random.default_rng(0).gamma(2.0, 0.5, 3000)
    a = significance.poisson_bootstrap(w, 50, seed=3)
    np.testing.assert_array_equal(a[0], significance.poisson_bootstrap(w, 50, seed=3)[0])
    assert not np.array_equal(a[0], significance.poisson_bootstrap(w, 50, seed=4)[0])
    b = significance.poisson_bootstrap(w, 50, seed=3, chunk=50 * 1000)  # three chunks of events
    assert b[0].mean() == pytest.approx(w.sum(), rel=0.01) and b[1].mean() == pytest.approx((w**2).sum(), rel=0.02)
    assert b[0].std() == pytest.approx(np.sqrt((w**2).sum()), rel=0.3)  # the error of sum w is sqrt(sum w^2)


def test_scaled_weights_without_samples_and_merged_weights():
    w = np.array([1.0, 2.0, 3.0, 4.0])
    assert significance.scaled_weights(w, None, np.array([True, False, True, False])).tolist() == [2.5, 7.5]
    assert significance.scaled_weights(w, None, np.zeros(4, bool)).tolist() == []
    rows = np.array([[0.0], [1.0], [0.0], [1.0]])
    assert significance.merged_weights(rows, np.array([2.0, 1.0, -2.0, 1.0])).tolist() == [0.0, 2.0, 0.0, 0.0]
