"""Signed weights in every metric: a cancelling pair (x, +w), (x, -w) changes nothing that it should not.

The pair has the same features, score and label, so every weighted sum is unchanged; only the Monte Carlo
variance sum w^2 grows by 2 w^2, as it must (the pair is two simulated events that carry no yield).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from hhnb.stats import metrics, significance
from hhnb.studies import correlations


@pytest.fixture
def events():
    rng = np.random.default_rng(5)
    n = 3000
    y = (rng.random(n) < 0.3).astype(int)
    score = np.round(np.clip(rng.normal(0.35 + 0.3 * y, 0.2), 0, 1), 3)  # rounded: ties on purpose
    w = rng.exponential(1.0, n) * np.where(rng.random(n) < 0.2, -1.0, 1.0)  # 20 % negative
    mass = rng.normal(125 + 40 * score, 20)
    return y, score, w, mass


def _with_pairs(y, score, w, mass, k=40, seed=6, at_new_points=False):
    """Append k cancelling pairs (x, +e), (x, -e): copies of existing events, or at new points (new scores)."""
    rng = np.random.default_rng(seed)
    i = rng.choice(len(y), k, replace=False)
    extra = rng.exponential(2.0, k)
    ys, ss, ms = y[i], score[i], mass[i]
    if at_new_points:  # scores and masses no event has (the scores are rounded to 0.001)
        ss, ms = np.clip(ss, 0.01, 0.99) + 0.0004, ms + 0.123
    return np.r_[y, ys, ys], np.r_[score, ss, ss], np.r_[w, extra, -extra], np.r_[mass, ms, ms]


def _pairwise_auc(y, score, w):
    """Brute force: sum_{s,b} w_s w_b ([x_s > x_b] + [x_s = x_b] / 2) / (W_s W_b)."""
    s, b = y == 1, y == 0
    xs, xb, ws, wb = score[s], score[b], w[s], w[b]
    gt = (xs[:, None] > xb[None, :]) + 0.5 * (xs[:, None] == xb[None, :])
    return float(ws @ gt @ wb / (ws.sum() * wb.sum()))


def test_auc_with_negative_weights_is_the_pairwise_sum(events):
    y, score, w, _ = events
    assert metrics.weighted_auc(y, score, w) == pytest.approx(_pairwise_auc(y, score, w), abs=1e-12)
    # scikit-learn refuses these weights (its rates are not monotonic); the area above needs no monotonicity
    assert metrics.roc(y, score, w).area == pytest.approx(_pairwise_auc(y, score, w), abs=1e-12)


def _roc_at(y, score, w, thresholds):
    """(background, signal) efficiency of ``score >= t`` read off the ROC points (before collinear points drop)."""
    fps, tps, thr = metrics._roc_points(y, score, w)
    i = np.array([np.flatnonzero(thr >= t)[-1] for t in thresholds])
    return fps[i] / fps[-1], tps[i] / tps[-1]


@pytest.mark.parametrize("at_new_points", [False, True])
def test_a_cancelling_pair_changes_no_metric(events, at_new_points):
    y, score, w, mass = events
    y2, score2, w2, mass2 = _with_pairs(*events, at_new_points=at_new_points)
    assert (w2 < 0).mean() > (w < 0).mean()  # the pairs add negative weights
    # ROC: the area, the points at fixed thresholds and the curve at fixed background efficiencies
    a, b = metrics.roc(y, score, w), metrics.roc(y2, score2, w2)
    assert a.area == pytest.approx(b.area, abs=1e-12)
    assert metrics.weighted_auc(y, score, w) == pytest.approx(metrics.weighted_auc(y2, score2, w2), abs=1e-12)
    cuts = np.array([0.2, 0.5, 0.7])
    for e1, e2 in zip(_roc_at(y, score, w, cuts), _roc_at(y2, score2, w2, cuts), strict=True):
        np.testing.assert_allclose(e1, e2, rtol=0, atol=1e-12)
    np.testing.assert_allclose(np.interp([0.1, 0.3, 0.5], a.x, a.y), np.interp([0.1, 0.3, 0.5], b.x, b.y), atol=1e-12)
    # precision-recall: average precision
    pa, pb = metrics.precision_recall(y, score, w), metrics.precision_recall(y2, score2, w2)
    assert pa.area == pytest.approx(pb.area, abs=1e-12)
    # confusion matrix (signed yields)
    np.testing.assert_allclose(metrics.confusion(y, score, 0.5, w), metrics.confusion(y2, score2, 0.5, w2),
                               rtol=1e-12, atol=1e-12)
    # weighted KS statistic (its p-value uses Kish's effective events, which the pair lowers, as it must)
    d1, _ = metrics.weighted_ks(score[y == 1], score[y == 0], w[y == 1], w[y == 0])
    d2, _ = metrics.weighted_ks(score2[y2 == 1], score2[y2 == 0], w2[y2 == 1], w2[y2 == 0])
    assert d1 == pytest.approx(d2, abs=1e-12)
    # yields above cuts, Z at a cut, the significance scan
    y_a, y_b = significance.yields(score, y == 1, w, cuts), significance.yields(score2, y2 == 1, w2, cuts)
    np.testing.assert_allclose(y_a.s, y_b.s, rtol=1e-12)
    np.testing.assert_allclose(y_a.b, y_b.b, rtol=1e-12)
    q_a, q_b = (significance.quote(sc, yy == 1, ww, 0.6, n_boot=20) for sc, yy, ww in ((score, y, w), (score2, y2, w2)))
    assert (q_a.s, q_a.b, q_a.z_no_mc) == pytest.approx((q_b.s, q_b.b, q_b.z_no_mc), rel=1e-12)
    assert q_b.b_mc_error > q_a.b_mc_error  # the only change: two more simulated events in sum w^2
    for method in ("asimov", "simple"):
        s_a = metrics.significance_scan(score, y == 1, w, bins=1000, min_bkg=1.0, method=method)
        s_b = metrics.significance_scan(score2, y2 == 1, w2, bins=1000, min_bkg=1.0, method=method)
        assert (s_a.best_cut, s_a.best_z) == pytest.approx((s_b.best_cut, s_b.best_z), rel=1e-12)
        np.testing.assert_allclose(s_a.z, s_b.z, rtol=1e-12, atol=1e-12)
    # correlations of the background's score with the mass: Pearson, the profile, dCor^2 and its p-value
    bkg, bkg2 = y == 0, y2 == 0
    assert correlations.pearson(score[bkg], mass[bkg], w[bkg]) == pytest.approx(
        correlations.pearson(score2[bkg2], mass2[bkg2], w2[bkg2]), abs=1e-12)
    edges = np.array([0.0, 130.0, 145.0, 160.0, 400.0])
    p_a = correlations.profile(mass[bkg], score[bkg], edges, w[bkg])
    p_b = correlations.profile(mass2[bkg2], score2[bkg2], edges, w2[bkg2])
    np.testing.assert_allclose(p_a.mean, p_b.mean, rtol=1e-12)
    c_a = correlations.distance_correlation_test(mass[bkg], score[bkg], w[bkg], max_events=600, n_permutations=40)
    c_b = correlations.distance_correlation_test(mass2[bkg2], score2[bkg2], w2[bkg2], max_events=600,
                                                 n_permutations=40)
    assert c_a.dcor2 == pytest.approx(c_b.dcor2, abs=1e-12) and c_a.pvalue == c_b.pvalue
    assert c_a.distinct == c_b.distinct and c_a.dcor2 > 0.05  # the mass depends on the score


def test_dcor_merges_identical_events_before_the_draw():
    rng = np.random.default_rng(8)
    x = rng.normal(size=400)
    y = x + rng.normal(size=400)
    w = rng.exponential(1.0, 400) * np.where(rng.random(400) < 0.2, -1.0, 1.0)
    # the same events written as two halves of their weight each: the same population, the same number
    one = correlations.distance_correlation_test(x, y, w, n_permutations=20)
    two = correlations.distance_correlation_test(np.r_[x, x], np.r_[y, y], np.r_[w / 2, w / 2], n_permutations=20)
    assert one.dcor2 == pytest.approx(two.dcor2, abs=1e-12) and one.events == two.events == 400


def test_bootstrap_error_of_the_auc_with_signed_weights(events):
    y, score, w, _ = events
    err = metrics.auc_error(y, score, w, n_boot=200)
    # the spread of independent replicas of the same generator: the bootstrap error is its estimate
    aucs = []
    for seed in range(30):
        rng = np.random.default_rng(100 + seed)
        n = len(y)
        yy = (rng.random(n) < 0.3).astype(int)
        ss = np.round(np.clip(rng.normal(0.35 + 0.3 * yy, 0.2), 0, 1), 3)
        ww = rng.exponential(1.0, n) * np.where(rng.random(n) < 0.2, -1.0, 1.0)
        aucs.append(metrics.weighted_auc(yy, ss, ww))
    assert 0.6 < err / np.std(aucs, ddof=1) < 1.6


@pytest.mark.parametrize(("a", "b"), list(itertools.combinations(["keep", "abs", "zero"], 2)))
def test_policies_differ_only_on_negative_events(a, b):
    from hhnb.nn.training import training_weights

    w = np.array([1.0, -2.0, 3.0, -0.5])
    pos = w > 0
    np.testing.assert_array_equal(training_weights(w, a)[pos], training_weights(w, b)[pos])
    assert not np.array_equal(training_weights(w, a)[~pos], training_weights(w, b)[~pos])


def test_training_policies_on_known_weights():
    from hhnb.errors import UserArgumentError
    from hhnb.nn.training import training_weights

    w = np.array([1.5, -2.0, 0.0, -0.25])
    assert training_weights(w, "abs").tolist() == [1.5, 2.0, 0.0, 0.25]
    assert training_weights(w, "zero").tolist() == [1.5, 0.0, 0.0, 0.0]
    assert training_weights(w, "keep").tolist() == w.tolist()
    assert training_weights(w).tolist() == training_weights(w, "abs").tolist()  # the default
    with pytest.raises(UserArgumentError, match="negative_weights 'flip'"):
        training_weights(w, "flip")


def test_a_cancelling_pair_changes_no_permutation_importance():
    from hhnb.studies import importance

    rng = np.random.default_rng(12)
    n = 2000
    label = (rng.random(n) < 0.4).astype(int)  # 0 = signal, as the network's output 0
    x = rng.normal(size=(n, 3)) + np.where(label == 0, 0.8, 0.0)[:, None] * np.array([1.0, 0.4, 0.0])
    w = rng.exponential(1.0, n) * np.where(rng.random(n) < 0.2, -1.0, 1.0)
    i = rng.choice(n, 30, replace=False)
    e = rng.exponential(2.0, 30)
    x2, label2, w2 = np.r_[x, x[i], x[i]], np.r_[label, label[i], label[i]], np.r_[w, e, -e]

    def predict(v):
        return v[:, 0] + 0.5 * v[:, 1]

    features = ["a", "b", "c"]
    full = [importance.permutation_importance(predict, xx, ll == 0, ww, features, seed=4, repeats=2)
            for xx, ll, ww in ((x, label, w), (x2, label2, w2))]
    drawn = [importance.physical_permutation_importance(predict, xx, ll, ww, features, n_events=800, repeats=3, seed=5)
             for xx, ll, ww in ((x, label, w), (x2, label2, w2))]
    for a, b in (full, drawn):
        assert a["feature"].tolist() == b["feature"].tolist() == ["a", "b", "c"]
        np.testing.assert_allclose(a["auc_drop"], b["auc_drop"], rtol=0, atol=1e-12)
        np.testing.assert_allclose(a["auc_base"], b["auc_base"], rtol=0, atol=1e-12)
    assert full[0]["auc_drop"].iloc[0] > 0.05 and abs(full[0]["auc_drop"].iloc[2]) < 1e-12  # c is not used
