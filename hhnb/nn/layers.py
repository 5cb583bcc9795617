"""The input transformation inside every network: log(1 + x) of the heavy-tailed inputs (a Keras layer).

The layer sits before the feature scaling, so ``hhnb apply``, the ONNX export and C++ users feed raw
ntuple values; :func:`heavy_tailed_columns` picks the columns on the training events.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
from scipy import stats

from hhnb.nn import backend

#: the layer's name in every network (:func:`logged_inputs` finds it by name)
NAME = "log_inputs"


def heavy_tailed_columns(x: np.ndarray, min_skew: float = 1.0, min_distinct: int = 50) -> tuple[int, ...]:
    """Columns of ``x`` that are non-negative, continuous and right-skewed (pT, mass, energy-like).

    Skewness is the third standardised moment, g1 = m3 / m2^1.5 (``scipy.stats.skew``, biased
    estimator; an exponential variable has 2).

    >>> rng = np.random.default_rng(0)
    >>> heavy_tailed_columns(np.c_[rng.exponential(size=500), rng.normal(size=500), rng.integers(0, 3, 500)])
    (0,)
    """
    x = np.asarray(x)
    if len(x) < 3:
        return ()
    # one column at a time in float64: no float64 copy of the whole matrix (peak memory of a 5M-event training,
    # benchmarks/large_train.py); constant columns give nan (never > min_skew), and have too few values anyway
    columns = []
    for j in range(x.shape[1]):
        col = np.asarray(x[:, j], np.float64)
        if col.min() >= 0 and len(np.unique(col[:5000])) > min_distinct and stats.skew(col) > min_skew:
            columns.append(j)
    return tuple(columns)


def log_columns(x: np.ndarray, columns: tuple[int, ...]) -> np.ndarray:
    """``x`` with log(1 + max(x, 0)) in ``columns``, as the ``log_inputs`` layer computes it (float32).

    >>> log_columns(np.array([[0.0, 5.0], [np.e - 1, -1.0]]), (0,)).round(3).tolist()
    [[0.0, 5.0], [1.0, -1.0]]
    """
    x = np.array(x, np.float32)
    if columns:
        cols = list(columns)
        x[:, cols] = np.log(np.maximum(x[:, cols], np.float32(0)) + np.float32(1))
    return x


@functools.cache
def log_layer() -> type:
    """The ``LogColumns`` layer class, registered so that ``load(..., safe_mode=True)`` rebuilds it."""
    k = backend.keras()

    @k.saving.register_keras_serializable(package="hhnb", name="LogColumns")
    class LogColumns(k.layers.Layer):
        """log(1 + max(x, 0)) of the input columns ``columns`` (of ``n_inputs``), the others unchanged."""

        def __init__(self, columns=(), n_inputs: int = 0, **kwargs):
            super().__init__(**kwargs)
            self.columns = [int(c) for c in columns]
            self.n_inputs = int(n_inputs)
            self._mask = np.isin(np.arange(self.n_inputs), self.columns)

        def call(self, x):
            ops = k.ops
            # log(1 + x) rather than log1p: tf2onnx has no Log1p (ONNX export)
            return ops.where(ops.convert_to_tensor(self._mask), ops.log(ops.maximum(x, 0.0) + 1.0), x)

        def compute_output_shape(self, input_shape):
            return input_shape

        def get_config(self):
            return {**super().get_config(), "columns": self.columns, "n_inputs": self.n_inputs}

    return LogColumns


def logged_inputs(model: Any) -> list[int]:
    """Indices of the inputs a network takes as log(1 + x) (empty for networks without the layer)."""
    for layer in model.layers:
        if layer.name == NAME:
            return list(layer.get_config()["columns"])
    return []
