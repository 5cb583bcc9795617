"""Signed weights in every metric: a cancelling pair (x, +w), (x, -w) changes nothing that it should not.

The pair has the same features, score and label, so every weighted sum is unchanged; only the Monte Carlo
variance sum w^2 grows by 2 w^2, as it must (the pair is two simulated events that carry no yield).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from hhnb.studies import correlations, metrics, stats


@pytest.fixture
def events():
    rng = np.random.default_rng(5)
    n = 3000
    y = (rng.random(n) < 0.3).astype(int)
    score = np.round(np.clip(rng.normal(0.35 + 0.3 * y, 0.2), 0, 1), 3)  # rounded: ties on purpose
    w = rng.exponential(1.0, n) * np.where(rng.random(n) < 0.2, -1.0, 1.0)  # 20 % negative
    mass = rng.normal(125 + 40 * score, 20)
    return y, score, w, mass


def _with_pairs(y, score, w, mass, k=40, seed=6):
    rng = np.random.default_rng(seed)
    i = rng.choice(len(y), k, replace=False)
    extra = rng.exponential(2.0, k)
    return (np.r_[y, y[i], y[i]], np.r_[score, score[i], score[i]], np.r_[w, extra, -extra],
            np.r_[mass, mass[i], mass[i]])


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


def test_a_cancelling_pair_changes_no_metric(events):
    y, score, w, mass = events
    y2, score2, w2, mass2 = _with_pairs(*events)
    assert metrics.roc(y, score, w).area == pytest.approx(metrics.roc(y2, score2, w2).area, abs=1e-12)
    a, b = metrics.roc(y, score, w), metrics.roc(y2, score2, w2)
    np.testing.assert_allclose(np.interp([0.1, 0.3, 0.5], a.x, a.y), np.interp([0.1, 0.3, 0.5], b.x, b.y), atol=1e-12)
    assert metrics.precision_recall(y, score, w).area == pytest.approx(metrics.precision_recall(y2, score2, w2).area,
                                                                      abs=1e-12)
    np.testing.assert_allclose(metrics.confusion(y, score, 0.5, w), metrics.confusion(y2, score2, 0.5, w2), atol=1e-9)
    d1, _ = metrics.weighted_ks(score[y == 1], score[y == 0], w[y == 1], w[y == 0])
    d2, _ = metrics.weighted_ks(score2[y2 == 1], score2[y2 == 0], w2[y2 == 1], w2[y2 == 0])
    assert d1 == pytest.approx(d2, abs=1e-12)
    cuts = np.array([0.2, 0.5, 0.7])
    y_a, y_b = stats.yields(score, y == 1, w, cuts), stats.yields(score2, y2 == 1, w2, cuts)
    np.testing.assert_allclose(y_a.s, y_b.s, atol=1e-9)
    np.testing.assert_allclose(y_a.b, y_b.b, atol=1e-9)
    q_a, q_b = (stats.quote(sc, yy == 1, ww, 0.6, n_boot=20) for sc, yy, ww in ((score, y, w), (score2, y2, w2)))
    assert (q_a.s, q_a.b, q_a.z_no_mc) == pytest.approx((q_b.s, q_b.b, q_b.z_no_mc), abs=1e-9)
    assert q_b.b_mc_error > q_a.b_mc_error  # the only change: two more simulated events in sum w^2
    bkg = y == 0
    assert correlations.pearson(score[bkg], mass[bkg], w[bkg]) == pytest.approx(
        correlations.pearson(score2[y2 == 0], mass2[y2 == 0], w2[y2 == 0]), abs=1e-12)


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
