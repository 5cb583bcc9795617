"""hhnb.nn.loop: the training loop, batches cut inside TensorFlow; the same weights for any steps_per_execution."""

from __future__ import annotations

import numpy as np
import pytest

from hhnb.config.training import HyperParameters
from hhnb.nn import backend, loop, network

pytestmark = pytest.mark.slow


def _data():
    rng = np.random.default_rng(3)
    x = rng.normal(0, 1, (101, 3)).astype(np.float32) * 20 + 50
    y = (x[:, 0] > 50).astype(np.int32)
    w = rng.uniform(0.5, 2.0, 101).astype(np.float32)
    return x, y, w


def _train(spe: int, seed: int = 7, epochs: int = 2):
    x, y, w = _data()
    backend.set_seed(seed)
    model = network.build(x, 2, HyperParameters(widths=(8, 8), batch_size=10, steps_per_execution=spe))
    history = loop.train(model, x, y, w, epochs=epochs, batch_size=10, steps_per_execution=spe, seed=seed,
                         callbacks=[])
    return model.get_weights(), history


def test_steps_per_execution_leaves_the_weights_bit_identical():
    """101 events at batch 10: 11 steps per epoch, not a multiple of 4, so the last execution is partial."""
    first, h1 = _train(1)
    batched, h4 = _train(4)
    assert all(np.array_equal(a, b) for a, b in zip(first, batched))
    # the logged loss is summed inside the graph per call: equal to float32 rounding
    assert h1["loss"] == pytest.approx(h4["loss"], rel=1e-6) and len(h1["loss"]) == 2


def test_epoch_loss_is_the_event_weighted_mean_keras_reports():
    """The logged loss of the first epoch is the mean over its batches of (batch loss x batch events) / events."""
    x, y, w = _data()
    backend.set_seed(1)
    model = network.build(x, 2, HyperParameters(widths=(4,), dropout=0.0, batch_size=101, learning_rate=1e-12))
    before = model.compute_loss(x=x, y=y, y_pred=model(x, training=False), sample_weight=w)
    history = loop.train(model, x, y, w, epochs=1, batch_size=101, steps_per_execution=1, seed=1, callbacks=[])
    # one batch of all events, no dropout, a vanishing learning rate: the loss of the untrained network
    assert history["loss"][0] == pytest.approx(float(before), rel=1e-4)


def test_another_seed_draws_other_batches():
    # the last kernel (the first arrays are the scaling's mean and variance, set by the data alone)
    assert not np.array_equal(_train(1, seed=7)[0][-2], _train(1, seed=8)[0][-2])


def test_callbacks_stop_the_loop():
    x, y, w = _data()
    k = backend.keras()
    model = network.build(x, 2, HyperParameters(widths=(4,), batch_size=10))

    class StopAfterOne(k.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            self.model.stop_training = True

    history = loop.train(model, x, y, w, epochs=5, batch_size=10, steps_per_execution=2, seed=1,
                         callbacks=[StopAfterOne()])
    assert len(history["loss"]) == 1
