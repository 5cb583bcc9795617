"""hhnb.nn.network: the layers of every network, the optimiser by name, the morphing head for kappa_lambda."""

from __future__ import annotations

import numpy as np
import pytest

from hhnb.config.training import HyperParameters
from hhnb.errors import UserArgumentError
from hhnb.nn import network


def _x(n=300):
    rng = np.random.default_rng(2)
    return np.c_[rng.exponential(80, n), rng.normal(size=n), rng.uniform(-5, 10, n)].astype(np.float32)


def test_build_has_log_scaling_dense_dropout_softmax_and_compiles_the_optimiser():
    hyper = HyperParameters(widths=(16, 8), dropout=0.2, learning_rate=1e-3, optimizer="adam")
    model = network.build(_x(), 3, hyper)
    names = [layer.name for layer in model.layers]
    assert names == ["features", "log_inputs", "scaling", "dense_0", "dropout", "dense_1", "probabilities"]
    assert model.output_shape == (None, 3)
    assert type(model.optimizer).__name__ == "Adam"
    assert float(model.optimizer.learning_rate) == pytest.approx(1e-3)
    scaling = model.get_layer("scaling")
    assert np.isclose(float(np.ravel(scaling.mean)[1]), _x()[:, 1].mean(), rtol=1e-4)  # adapted on the training set


def test_no_dropout_layer_at_zero_and_no_log_layer_when_off():
    model = network.build(_x(), 2, HyperParameters(widths=(8,), dropout=0.0, log_inputs=False))
    assert [layer.name for layer in model.layers] == ["features", "scaling", "dense_0", "probabilities"]


def test_morphing_head_keeps_kappa_lambda_out_of_the_body():
    model = network.build(_x(), 3, HyperParameters(widths=(8,)), head="morphing")
    names = {layer.name for layer in model.layers}
    assert {"drop_kappa_lambda", "morphing_coefficients", "background_logits", "morphing_logits"} <= names


def test_unknown_optimizer_is_one_user_error():
    with pytest.raises(UserArgumentError, match="unknown optimizer 'adagrad2': expected one of adamax, adam"):
        network.build(_x(), 2, HyperParameters(optimizer="adagrad2"))
