"""hhnb.nn.morphing: the morphing-aware head of the parameterised network (signal odds a ratio of quadratics in kl)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from hhnb.errors import UserArgumentError
from hhnb.nn import morphing
from hhnb.nn import parameterised as P

KL = np.linspace(-20.0, 20.0, 41)


def test_cholesky_quadratic_is_every_psd_quadratic():
    rng = np.random.default_rng(5)
    l0, l1, l2 = rng.normal(size=(3, 200)) * 3
    a, b, c = morphing.polynomial(l0, l1, l2).T
    assert (a >= 0).all() and (c >= 0).all() and (b ** 2 <= 4 * a * c * (1 + 1e-12)).all()
    k = rng.normal(size=200) * 2
    assert np.allclose(morphing.cholesky_quadratic(l0, l1, l2, k, epsilon=0.0), a + b * k + c * k ** 2)
    # and back: a PSD quadratic (a, b, c) from l0 = sqrt(a), l1 = b / (2 sqrt(a)), l2 = sqrt(c - l1^2)
    a, b, c = 2.0, -3.0, 1.5
    l0 = np.sqrt(a)
    l1 = b / (2 * l0)
    assert morphing.polynomial(l0, l1, np.sqrt(c - l1 ** 2)).tolist() == pytest.approx([a, b, c])
    assert P.check_head(None) == "morphing"
    with pytest.raises(UserArgumentError, match="head 'cubic': expected one of morphing, dense"):
        P.check_head("cubic")


@pytest.fixture(scope="module")
def random_morphing_net():
    """An untrained morphing network (3 classes, 4 features + kappa_lambda) with random non-trivial weights."""
    from hhnb.config.training import HyperParameters
    from hhnb.nn.backend import keras
    from hhnb.nn.network import build

    keras().utils.set_random_seed(3)
    rng = np.random.default_rng(3)
    x = np.c_[rng.exponential(size=(500, 2)), rng.normal(size=(500, 2)), rng.choice([-5.0, 1.0, 10.0], 500)]
    model = build(x.astype(np.float32), 3, HyperParameters(widths=(16, 8), dropout=0.0), head="morphing")
    for layer in model.layers:
        if layer.name in ("morphing_coefficients", "background_logits", "morphing_logits"):
            layer.set_weights([rng.normal(size=w.shape) * (1.5 if layer.name == "morphing_logits" else 0.7)
                               for w in layer.get_weights()])
    return model, x[:6, :-1].astype(np.float32)


def test_signal_odds_are_a_ratio_of_quadratics_in_kl(random_morphing_net):
    from hhnb.nn.predict import predict

    model, x = random_morphing_net
    assert morphing.is_morphing(model)
    n0, n1, n2 = morphing.normalisation(model)
    assert n0 == 1.0 and abs(n1) > 0.1 and abs(n2) > 0.1  # the normalisation is a real quadratic here, not a constant
    norm = morphing.cholesky_quadratic(n0, n1, n2, KL / morphing.SCALE)
    for row in x:
        p = predict(model, np.column_stack([np.repeat(row[None], len(KL), 0), KL]).astype(np.float32))[:, 0]
        p = p.astype(float)
        odds = p / (1 - p)
        # odds x N(kl) is exactly a quadratic in kl: a degree-2 fit leaves nothing but float32 rounding
        quad = odds * norm
        fit = np.polynomial.polynomial.Polynomial.fit(KL, quad, 2)
        assert np.abs(fit(KL) - quad).max() <= 1e-5 * np.abs(quad).max()
        # while the odds alone are no quadratic (N is not constant)
        fit_odds = np.polynomial.polynomial.Polynomial.fit(KL, odds, 2)
        assert np.abs(fit_odds(KL) - odds).max() > 1e-3 * np.abs(odds).max()
        # and the head's parts give the same odds
        parts = morphing.signal_odds(model, np.repeat(row[None], len(KL), 0), KL)
        assert np.allclose(parts, odds, rtol=2e-5)


def test_signal_quadratic_is_never_negative(random_morphing_net):
    from hhnb.nn.predict import predict

    model, x = random_morphing_net
    rows = np.column_stack([np.repeat(x, len(KL), 0), np.tile(KL, len(x))]).astype(np.float32)
    l0, l1, l2 = morphing.cholesky(*morphing.coefficients(model, rows).T)
    a, b, c = morphing.polynomial(l0, l1, l2).T
    assert (a >= 0).all() and (c >= 0).all() and (b ** 2 - 4 * a * c <= 1e-9 * (1 + b ** 2)).all()
    # at each event's minimum of Q (where the amplitude nearly vanishes) the probability stays finite, >= 0
    kmin = -l0 * l1 / (l1 ** 2 + l2 ** 2)
    at_min = predict(model, np.column_stack([rows[:, :-1], kmin * morphing.SCALE]).astype(np.float32))
    assert np.isfinite(at_min).all() and (at_min >= 0).all() and np.allclose(at_min.sum(1), 1, atol=1e-5)
    q_min = morphing.cholesky_quadratic(l0, l1, l2, kmin)
    assert (q_min >= morphing.EPSILON * (1 - 1e-6)).all()


# -- a 1-D toy where the best classifier is known -----------------------------------------------------------
# background p_b(x) = 2 (1 - x) on [0, 1]; signal at kl: dsigma(x, kl) = 2x (1 + kl (x - 0.6))^2 (box + kl triangle)
GRID = np.linspace(0.0, 1.0, 200_001)[1:-1]


def _dsigma(x: np.ndarray, kl: float) -> np.ndarray:
    return 2 * x * (1 + kl * (x - 0.6)) ** 2


def _background(x: np.ndarray) -> np.ndarray:
    return 2 * (1 - x)


def _draw(density: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    cdf = np.cumsum(density)
    return np.interp(rng.uniform(0, cdf[-1], n), cdf, GRID)


def _optimal_auc(kl: float) -> float:
    """Neyman-Pearson AUC on the grid: P(r(x_s) > r(x_b)) with r = p_s / p_b (ties count half)."""
    ps, pb = _dsigma(GRID, kl), _background(GRID)
    ps, pb = ps / ps.sum(), pb / pb.sum()
    order = np.argsort(ps / pb)
    below = np.cumsum(pb[order]) - pb[order] / 2  # background below each ratio
    return float(np.sum(ps[order] * below))


@pytest.mark.slow
def test_morphing_net_on_a_1d_toy_reaches_the_neyman_pearson_auc():
    from hhnb.config.training import HyperParameters
    from hhnb.nn.fit import fit
    from hhnb.nn.predict import predict
    from hhnb.nn.weights import class_balanced_weights

    rng = np.random.default_rng(11)
    train_kl = (-4.0, -1.0, 0.0, 2.0, 5.0)
    n_sig, n_bkg = 3000, 15000
    xs = np.concatenate([_draw(_dsigma(GRID, kl), n_sig, rng) for kl in train_kl])
    ks = np.repeat(train_kl, n_sig)
    xb = _draw(_background(GRID), n_bkg, rng)
    kb = rng.choice(train_kl, n_bkg)
    x = np.column_stack([np.r_[xs, xb], np.r_[ks, kb]]).astype(np.float32)
    y = np.r_[np.zeros(len(xs)), np.ones(n_bkg)].astype(np.int32)
    w = class_balanced_weights(y, P.lambda_balanced(np.ones(len(y)), x[:, 1], y == 0))
    val = rng.uniform(size=len(y)) < 0.1
    hyper = HyperParameters(widths=(32, 32), dropout=0.0, learning_rate=5e-3, epochs=25, batch_size=256, patience=25)
    model = fit(x[~val], y[~val], w[~val], x[val], y[val], w[val], 2, hyper, seed=2, head="morphing").model
    for kl in (-2.0, 1.0, 3.0, 8.0):  # held out of the training lambdas, 8 outside their range
        test_s, test_b = _draw(_dsigma(GRID, kl), 20_000, rng), _draw(_background(GRID), 20_000, rng)
        score = predict(model, np.column_stack([np.r_[test_s, test_b], np.full(40_000, kl)]))[:, 0]
        auc = roc_auc_score(np.r_[np.ones(20_000), np.zeros(20_000)], score)
        best = _optimal_auc(kl)
        assert 0.6 < best < 0.96
        # the test sample's AUC error is about 0.003; the network is within 0.006 of the optimum
        assert best - 0.006 < auc < best + 0.006, (kl, auc, best)


@pytest.mark.slow
def test_restore_best_false_keeps_the_last_epoch():
    """The parameterised network's recipe keeps each network's last epoch (a noisy validation loss picks badly)."""
    from hhnb.config.training import HyperParameters
    from hhnb.nn.fit import fit, validation_loss
    from hhnb.nn.predict import predict

    rng = np.random.default_rng(4)
    x = np.c_[rng.normal(size=(1200, 3)), rng.choice([-5.0, 1.0, 10.0], 1200)].astype(np.float32)
    y = (x[:, 0] + 0.3 * rng.normal(size=1200) > 0).astype(np.int32)
    w = np.ones(1200)
    w[5] = 300.0  # one heavy validation event against the trend, as the toy's qcd_2b2j event: its loss grows
    y[5] = int(x[5, 0] <= 0)
    tr, va = slice(200, None), slice(0, 200)
    hyper = HyperParameters(widths=(8,), epochs=6, batch_size=50, learning_rate=0.02)
    for restore in (True, False):
        r = fit(x[tr], y[tr], w[tr], x[va], y[va], w[va], 2, hyper, seed=1, head="morphing", restore_best=restore)
        got = validation_loss(predict(r.model, x[va]), y[va], w[va])
        hist = r.history["val_loss"]
        assert got == pytest.approx(min(hist) if restore else hist[-1], rel=1e-5)
        assert r.epochs_run == 6 and hist[-1] > min(hist) * 1.001  # the last epoch is not the best: the test can tell
