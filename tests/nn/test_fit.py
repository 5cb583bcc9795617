"""hhnb.nn.fit: build + loop + early stopping on the validation loss; timing; a learned separation."""

from __future__ import annotations

import numpy as np
import pytest

from hhnb.config.training import HyperParameters
from hhnb.nn import fit as fitting
from hhnb.nn.predict import predict

pytestmark = pytest.mark.slow


def test_fit_separates_two_gaussians_from_raw_inputs():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(1, 1, (400, 2)), rng.normal(-1, 1, (400, 2))]).astype(np.float32) * 50 + 100
    y = np.repeat([0, 1], 400).astype(np.int32)
    w = np.ones(len(y))
    res = fitting.fit(x, y, w, x[::5], y[::5], w[::5], 2, HyperParameters(widths=(8,), epochs=3, batch_size=64,
                                                                          learning_rate=1e-2), seed=1)
    p = predict(res.model, x)
    assert p.shape == (800, 2) and np.allclose(p.sum(axis=1), 1.0, atol=1e-5)
    assert p[y == 0, 0].mean() > p[y == 1, 0].mean() + 0.3  # raw (unscaled) inputs: the scaling is inside
    # one end time per epoch, increasing; the steady epoch time excludes the first (tracing) epoch
    assert len(res.epoch_ends_s) == res.epochs_run == 3 and np.all(np.diff(res.epoch_ends_s) > 0)
    assert 0 < res.steady_epoch_s <= res.train_time_s


def test_same_seed_same_weights_other_seed_other_weights():
    rng = np.random.default_rng(3)
    x = rng.normal(0, 1, (101, 3)).astype(np.float32) * 20 + 50
    y = (x[:, 0] > 50).astype(np.int32)
    w = rng.uniform(0.5, 2.0, 101)

    def weights(seed: int) -> list[np.ndarray]:
        hyper = HyperParameters(widths=(8, 8), epochs=2, batch_size=10, steps_per_execution=4, patience=5)
        return fitting.fit(x, y, w, x[::4], y[::4], w[::4], 2, hyper, seed=seed).model.get_weights()

    first, again = weights(7), weights(7)
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert not np.array_equal(first[-2], weights(8)[-2])


def test_validation_loss_is_what_keras_evaluate_reports():
    """The early-stopping loss (computed from predict) equals Keras' weighted evaluate on the same network."""
    rng = np.random.default_rng(6)
    x = rng.normal(0, 1, (300, 3)).astype(np.float32)
    y = (x[:, 0] + 0.5 * rng.normal(size=300) > 0).astype(np.int32)
    w = rng.uniform(0.5, 2.0, 300)
    res = fitting.fit(x, y, w, x[::3], y[::3], w[::3], 2, HyperParameters(widths=(8,), epochs=2, batch_size=32), seed=2)
    keras_loss = res.model.evaluate(x[::3], y[::3], sample_weight=w[::3].astype(np.float32), batch_size=8192, verbose=0)
    # the network's final weights are those of the best epoch (restored) or of the last
    assert any(v == pytest.approx(keras_loss, rel=1e-5) for v in (min(res.history["val_loss"]), res.history["val_loss"][-1]))
    assert len(res.history["val_loss"]) == len(res.history["loss"]) == res.epochs_run == 2


def test_early_stopping_stops_when_the_validation_loss_stops_falling():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(200, 2)).astype(np.float32)
    y = rng.integers(0, 2, 200).astype(np.int32)  # labels without information: nothing to learn
    w = np.ones(200)
    res = fitting.fit(x, y, w, x[::2], y[::2], w[::2], 2,
                      HyperParameters(widths=(32,), epochs=40, batch_size=20, patience=1, learning_rate=0.05), seed=1)
    assert res.epochs_run < 40
