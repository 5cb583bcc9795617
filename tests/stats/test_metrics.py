"""hhnb.stats.metrics: weighted ROC and AUC, significance scans, confusion, KS overtraining tests, weight helpers."""

import numpy as np
import pytest
from scipy.stats import mannwhitneyu

from hhnb.stats import metrics, significance


@pytest.fixture
def toy_scores():
    rng = np.random.default_rng(0)
    sig = rng.beta(5, 2, 4000)
    bkg = rng.beta(2, 5, 40000)
    score = np.concatenate([sig, bkg])
    is_sig = np.r_[np.ones(4000, bool), np.zeros(40000, bool)]
    weight = np.r_[np.full(4000, 0.05), np.full(40000, 2.0)]
    return score, is_sig, weight


def test_roc_weighted_matches_unweighted_when_uniform(toy_scores):
    score, is_sig, _ = toy_scores
    a = metrics.roc(is_sig.astype(int), score).area
    b = metrics.roc(is_sig.astype(int), score, np.full(len(score), 3.0)).area
    assert a == pytest.approx(b, abs=1e-12)
    # AUC = P(score_sig > score_bkg): the Mann-Whitney U statistic over n_sig x n_bkg
    u = mannwhitneyu(score[is_sig], score[~is_sig]).statistic
    assert a == pytest.approx(u / (is_sig.sum() * (~is_sig).sum()), abs=1e-9)


def test_scan_matches_brute_force(toy_scores):
    score, is_sig, w = toy_scores
    scan = metrics.significance_scan(score, is_sig, w, bins=2000, min_bkg=10)
    best = 0.0
    for c in scan.cuts:
        s, b = w[is_sig & (score >= c)].sum(), w[~is_sig & (score >= c)].sum()
        if b >= 10:
            best = max(best, float(significance.asimov_z(s, b)))
    assert scan.best_z == pytest.approx(best, rel=1e-9)
    assert scan.best_nbkg >= 10
    sel = score >= scan.best_cut
    assert scan.best_nsig == pytest.approx(w[is_sig & sel].sum(), rel=1e-9)
    assert scan.best_nbkg_mc == int((~is_sig & sel).sum())


def test_scan_min_bkg_and_simple(toy_scores):
    score, is_sig, w = toy_scores
    strict = metrics.significance_scan(score, is_sig, w, bins=1000, min_bkg=1000)
    assert strict.best_nbkg >= 1000
    mc = metrics.significance_scan(score, is_sig, w, bins=1000, min_bkg_mc=500)
    assert mc.best_nbkg_mc >= 500
    simple = metrics.significance_scan(score, is_sig, w, bins=1000, method="simple")
    assert simple.best_z == pytest.approx(simple.best_nsig / np.sqrt(simple.best_nbkg))
    with pytest.raises(ValueError, match="asimov"):
        metrics.significance_scan(score, is_sig, w, method="bogus")


def test_ks_and_luminosity_weights():
    rng = np.random.default_rng(1)
    assert metrics.ks_overtraining(rng.normal(size=2000), rng.normal(size=2000)) > 0.01
    assert metrics.ks_overtraining(rng.normal(size=2000), rng.normal(0.5, size=2000)) < 1e-6
    w = np.ones(10)
    sample = np.array(["a"] * 5 + ["b"] * 5)
    subset = np.array([True, False, False, False, False, True, True, False, False, False])
    np.testing.assert_allclose(metrics.luminosity_weights(w, sample, subset), [5.0, 2.5, 2.5])


def test_confusion_is_weighted_and_signed():
    y = np.array([0, 0, 1, 1, 1])
    score = np.array([0.1, 0.9, 0.8, 0.2, 0.95])
    w = np.array([2.0, -0.5, 1.5, 3.0, 0.25])
    cm = metrics.confusion(y, score, 0.5, w)
    np.testing.assert_allclose(cm, [[2.0, -0.5], [3.0, 1.75]])
    np.testing.assert_array_equal(metrics.confusion(y, score, 0.5), [[1, 1], [1, 2]])


def test_weighted_ks_equals_scipy_without_weights_and_sees_reweighting():
    rng = np.random.default_rng(5)
    a, b = rng.normal(0, 1, 3000), rng.normal(0.3, 1, 2000)
    d, p = metrics.weighted_ks(a, b)
    from scipy.stats import ks_2samp

    ref = ks_2samp(a, b)
    assert d == pytest.approx(ref.statistic, abs=1e-12)
    assert p == pytest.approx(ref.pvalue, rel=0.2, abs=1e-12)
    # b reweighted to a's density N(0, 1): weighted KS sees no difference, the unweighted test does
    wb = np.exp(-0.5 * b**2) / np.exp(-0.5 * (b - 0.3) ** 2)
    assert metrics.ks_overtraining(a, b) < 1e-6
    assert metrics.weighted_ks(a, b, None, wb)[1] > 0.05
    assert metrics.ks_overtraining(a, b, np.ones(len(a)), wb) == metrics.weighted_ks(a, b, None, wb)[1]


def test_weighted_ks_pvalue_is_uniform_under_the_null():
    rng = np.random.default_rng(6)
    p = [metrics.weighted_ks(rng.random(400), rng.random(300), rng.exponential(1, 400), rng.exponential(1, 300))[1]
         for _ in range(200)]
    assert 0.02 <= np.mean(np.array(p) < 0.05) <= 0.09  # 5 % false alarms, within binomial noise


def test_overtraining_per_class():
    rng = np.random.default_rng(7)
    n = 6000
    label = rng.integers(0, 3, n)
    train = rng.random(n) < 0.7
    score = rng.random(n) + np.where(train & (label == 2), 0.2, 0.0)  # only class 2 differs train vs test
    ot = metrics.overtraining(score, label, np.ones(n), train, ~train, ["sig", "qcd", "top"])
    assert ot["class"].tolist() == ["sig", "qcd", "top"]
    assert ot.loc[2, "ks_pvalue"] < 1e-6 and ot.loc[0, "ks_pvalue"] > 1e-3 and ot.loc[1, "ks_pvalue"] > 1e-3


def test_scan_with_mc_statistics_lowers_z(toy_scores):
    score, is_sig, w = toy_scores
    plain = metrics.significance_scan(score, is_sig, w, bins=500)
    mc = metrics.significance_scan(score, is_sig, w, bins=500, mc_stat=True)
    i = 250
    sumw2 = (w[~is_sig & (score >= mc.cuts[i])] ** 2).sum()
    assert mc.z[i] == pytest.approx(float(significance.asimov_z(mc.nsig[i], mc.nbkg[i], np.sqrt(sumw2))), rel=1e-9)
    assert mc.best_z < plain.best_z


def test_auc_error_is_the_one_score_case_of_the_shared_bootstrap():
    """auc_error and comparison.paired_auc draw the same Poisson replicas from one helper (same seed, same numbers)."""
    from hhnb.studies import comparison

    rng = np.random.default_rng(6)
    y = rng.integers(0, 2, 1500)
    a, w = rng.normal(size=1500) + y, rng.exponential(size=1500)
    b = a + rng.normal(size=1500)
    reps = metrics.bootstrap_aucs(y, [a, b], w, n_boot=30, seed=4)
    assert reps.shape == (30, 2) and np.all((reps > 0.5) & (reps < 1))
    assert metrics.auc_error(y, a, w, n_boot=30, seed=4) == pytest.approx(np.std(reps[:, 0], ddof=1), rel=1e-12)
    paired = comparison.paired_auc(y == 1, a, b, w, n_boot=30, seed=4)
    assert paired.b_error == pytest.approx(np.std(reps[:, 1], ddof=1), rel=1e-12)
    assert paired.diff_error == pytest.approx(np.std(reps[:, 1] - reps[:, 0], ddof=1), rel=1e-12)
    assert np.isnan(metrics.auc_error(np.ones(10, int), a[:10]))


def test_effective_events_and_discriminant():
    assert metrics.effective_events(np.full(40, 0.25)) == pytest.approx(40.0)
    assert metrics.effective_events(np.array([1.0, -1.0])) == 0.0 and metrics.effective_events(np.zeros(3)) == 0.0
    p = np.array([0.1, 0.5, 0.9])
    np.testing.assert_allclose(metrics.discriminant(p), [-np.log(9), 0.0, np.log(9)])
    np.testing.assert_allclose(1 / (1 + np.exp(-metrics.discriminant(p))), p)  # the inverse is the logistic
    assert np.isfinite(metrics.discriminant(np.array([0.0, 1.0]))).all()  # clipped at eps


def test_tpr_at_replicas_equals_the_roc_of_each_replica():
    """Sorted once, each replica's signal efficiency is the one roc() gives on that replica's weights (the same
    Poisson draws; signed weights and tied scores included)."""
    rng = np.random.default_rng(4)
    y = rng.integers(0, 2, 3000)
    s = np.round(rng.normal(y, 1.0), 2)
    w = rng.uniform(0.5, 1.5, 3000) * np.where(rng.random(3000) < 0.1, -1, 1)
    draws = np.random.default_rng(9)
    brute = []
    for _ in range(20):
        c = metrics.roc(y, s, w * draws.poisson(1.0, 3000))
        brute.append(np.interp(0.05, c.x, c.y))
    assert metrics.tpr_at_replicas(y, s, w, 0.05, n_boot=20, seed=9) == pytest.approx(brute, rel=1e-12)
