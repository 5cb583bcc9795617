"""What decorrelating a network costs and buys, from its saved scores: the numbers of one row of the trade-off.

For one network (plain, DisCo at a strength, or flattened) on its test events: the weighted AUC with its
bootstrap error, the signal efficiency at a fixed background efficiency, dCor^2 of the multijet score with the
leading Higgs candidate's mass and its permutation p-value (:func:`hhnb.studies.correlations.
distance_correlation_test`), and the closure of the ABCD multijet estimate with its error
(:mod:`hhnb.studies.abcd`). Nothing here trains: :mod:`hhnb.reports.decorrelation` does, and calls this.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from hhnb.stats import metrics
from hhnb.studies import abcd, correlations

#: background efficiency at which the signal efficiency is quoted (1 %)
BACKGROUND_EFFICIENCY = 0.01
#: the multijet samples of the toy's HH -> 4b categories: their background is the one estimated from data
MULTIJET = abcd.MULTIJET


def signal_efficiency_at(y_true: np.ndarray, score: np.ndarray, weight: np.ndarray,
                         background_efficiency: float = BACKGROUND_EFFICIENCY) -> float:
    """Weighted signal efficiency where the weighted background efficiency is ``background_efficiency``
    (linear interpolation on the ROC curve).

    >>> y = np.r_[np.ones(1000), np.zeros(1000)].astype(int)
    >>> s = np.r_[np.linspace(0.5, 1.0, 1000), np.linspace(0.0, 0.55, 1000)]
    >>> round(signal_efficiency_at(y, s, np.ones(2000), 0.1), 2)
    1.0
    """
    curve = metrics.roc(y_true, score, weight)
    return float(np.interp(background_efficiency, curve.x, curve.y))


def row(scores: pd.DataFrame, cut: float, region: str = "box", n_boot: int = 100, seed: int = 1,
        multijet: Sequence[str] = MULTIJET, mass: str = "h1_M") -> dict[str, float]:
    """The trade-off numbers of one network from its scores table (test events; weights scaled per sample)."""
    test = scores["is_test"].to_numpy(bool)
    s = scores[test]
    w = metrics.luminosity_weights(scores["weight"].to_numpy(float), scores["sample"].astype(str).to_numpy(), test)
    y = (s["label"].to_numpy() == 0).astype(int)
    p = s["score_sig"].to_numpy(float)
    mj = s["sample"].astype(str).isin(list(multijet)).to_numpy()
    dc = correlations.distance_correlation_test(p[mj], s[mass].to_numpy(float)[mj], w[mj], seed=seed)
    est = abcd.estimate(p[mj], s["h1_M"].to_numpy(float)[mj], s["h2_M"].to_numpy(float)[mj], w[mj], cut, region)
    return {"auc": metrics.roc(y, p, w).area, "auc_error": metrics.auc_error(y, p, w, n_boot=n_boot, seed=seed),
            "signal_eff_at_1pc_bkg": signal_efficiency_at(y, p, w), f"dcor2_{mass}": dc.dcor2, "dcor2_pvalue": dc.pvalue,
            "closure": est.closure, "closure_error": est.closure_error, "closure_pull": est.pulls,
            "sr_multijet_true": est.true, "sr_multijet_estimate": est.estimate}
