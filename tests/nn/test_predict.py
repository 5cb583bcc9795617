"""hhnb.nn.predict: batched, traced once for any number of events, nothing kept in the module."""

from __future__ import annotations

import numpy as np

import hhnb.nn.predict as predict_module
from hhnb.nn import backend
from hhnb.nn.predict import predict


def _tiny():
    k = backend.keras()
    inp = k.Input(shape=(3,))
    return k.Model(inp, k.layers.Dense(2, activation="softmax")(inp))


def test_predict_in_batches_equals_one_call_and_traces_once():
    model = _tiny()
    x = np.random.default_rng(0).normal(size=(160, 3)).astype(np.float32)
    whole = model(x).numpy()
    assert np.allclose(predict(model, x), whole, atol=1e-6)
    assert np.allclose(predict(model, x, batch_size=64), whole, atol=1e-6)  # 64 + 64 + 32
    predict(model, x[:17])
    assert model._hhnb_predict.experimental_get_tracing_count() == 1
    assert not hasattr(predict_module, "_CACHE")  # the compiled function lives on the model


def test_no_events_give_an_empty_table_of_the_right_width():
    assert predict(_tiny(), np.zeros((0, 3))).shape == (0, 2)
