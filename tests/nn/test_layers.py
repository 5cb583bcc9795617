"""hhnb.nn.layers: which inputs enter as log(1 + x), and the Keras layer that does it inside the network."""

from __future__ import annotations

import numpy as np
from scipy import stats

from hhnb.nn import backend, layers


def test_heavy_tailed_columns_use_scipy_skewness():
    """Columns kept: non-negative, > 50 distinct values, scipy.stats.skew > 1 (a chi2(1)-like column, skew 2.8)."""
    rng = np.random.default_rng(5)
    chi2 = rng.normal(size=4000) ** 2
    mild = rng.gamma(9.0, size=4000)  # skewness 2 / sqrt(9) = 0.67: kept linear
    x = np.c_[mild, chi2, -chi2, np.zeros(4000), rng.integers(0, 4, 4000)]
    assert stats.skew(chi2) > 2 and stats.skew(mild) < 1
    assert layers.heavy_tailed_columns(x) == (1,)
    assert layers.heavy_tailed_columns(x, min_skew=0.5) == (0, 1)
    assert layers.heavy_tailed_columns(x[:2]) == ()


def test_the_layer_computes_what_log_columns_computes():
    rng = np.random.default_rng(1)
    x = np.c_[rng.exponential(50, 100), rng.normal(size=100)].astype(np.float32)
    k = backend.keras()
    inp = k.Input(shape=(2,))
    model = k.Model(inp, layers.log_layer()((0,), 2, name=layers.NAME)(inp))
    assert np.allclose(model(x).numpy(), layers.log_columns(x, (0,)), rtol=1e-6)
    assert np.allclose(layers.log_columns(x, (0,))[:, 0], np.log1p(x[:, 0]), rtol=1e-6)
    assert layers.logged_inputs(model) == [0]


def test_heavy_tailed_columns_column_by_column_as_on_the_whole_matrix():
    """One column at a time in float64 (no float64 copy of the matrix: peak memory of a 5M-event training) picks
    the columns the whole-matrix computation picked: non-negative, > 50 values, skewness > 1."""
    rng = np.random.default_rng(5)
    x = np.c_[rng.exponential(size=3000), rng.normal(size=3000), rng.integers(0, 3, 3000),
              rng.lognormal(size=3000), rng.uniform(size=3000), -rng.exponential(size=3000),
              rng.gamma(2.0, size=3000)].astype(np.float32)  # skew 1.41
    x64 = x.astype(np.float64)
    candidates = [j for j in range(x.shape[1]) if x64[:, j].min() >= 0 and len(np.unique(x64[:5000, j])) > 50]
    whole = tuple(j for j, g in zip(candidates, stats.skew(x64[:, candidates], axis=0)) if g > 1.0)
    assert layers.heavy_tailed_columns(x) == whole == (0, 3, 6)
