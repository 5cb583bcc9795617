"""Class probabilities of a Keras network for raw ntuple inputs: batched, graph-compiled, silent."""

from __future__ import annotations

from typing import Any

import numpy as np

from hhnb.nn import backend

#: events per forward pass in :func:`predict`: activations of 8192 x 200 floats stay in the CPU caches and
#: the peak memory of apply stays low; as fast as 65536 or faster (benchmarks/bench_apply.py, peak RSS row)
PREDICT_BATCH = 8192


def predict(model: Any, x: np.ndarray, batch_size: int = PREDICT_BATCH) -> np.ndarray:
    """Class probabilities for raw (unscaled) inputs, in batches, without Keras' progress output."""
    x = np.asarray(x, dtype=np.float32)
    if len(x) == 0:
        return np.zeros((0, int(model.output_shape[-1])), np.float32)
    tf = backend.tensorflow()
    fn = compiled(model)
    return np.concatenate([fn(tf.constant(x[start:start + batch_size])).numpy()
                           for start in range(0, len(x), batch_size)])


def compiled(model: Any) -> Any:
    """The model's graph-compiled forward pass, kept on the model itself (it dies with the model).

    Traced once for any number of events (input signature ``[None, n_inputs]``), not once per batch shape.
    """
    fn = getattr(model, "_hhnb_predict", None)
    if fn is None:
        tf = backend.tensorflow()
        spec = tf.TensorSpec([None, int(model.input_shape[-1])], tf.float32)
        fn = tf.function(lambda t: model(t, training=False), input_signature=[spec])
        model._hhnb_predict = fn
    return fn
