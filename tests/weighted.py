"""Weighted-histogram comparisons shared by the toy tests (tests/toy/): batches of a generator, a chi2 p-value."""

from __future__ import annotations

import numpy as np
from scipy import stats


def chi2_p(a, wa, na, b, wb, nb, edges=None):
    """p-value that two weighted histograms (yields per generated event) come from the same distribution.

    Bins are sextiles of the unbiased sample (a) unless given, so every bin holds enough events of
    both for sum w^2 to be a fair variance (the biased sample's weights are heavy-tailed outside the
    signal-like region).
    """
    if edges is None:
        edges = np.unique(np.quantile(a, np.linspace(0, 1, 7)))
        edges[-1] += 1e-6
    ha = np.histogram(a, edges, weights=wa)[0] / na
    hb = np.histogram(b, edges, weights=wb)[0] / nb
    va = np.histogram(a, edges, weights=wa**2)[0] / na**2
    vb = np.histogram(b, edges, weights=wb**2)[0] / nb**2
    ok = (np.histogram(a, edges)[0] >= 5) & (np.histogram(b, edges)[0] >= 5)
    chi2 = float((((ha - hb) ** 2)[ok] / (va + vb)[ok]).sum())
    return stats.chi2.sf(chi2, int(ok.sum()))


def batches(generate, n, seed, **kw):
    """``generate(n=n // 4, rng=rng, **kw)`` four times from one seeded generator, the arrays concatenated."""
    rng = np.random.default_rng(seed)
    parts = [generate(n=n // 4, rng=rng, **kw) for _ in range(4)]
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
