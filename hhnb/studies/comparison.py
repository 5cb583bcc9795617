"""Two scores on the same events: weighted AUCs with a paired bootstrap error, and the quoted significance of each.

Used by ``notebooks/parameterised.ipynb`` to compare the parameterised network with the
dedicated per-lambda networks on the same out-of-fold events. No TensorFlow here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from hhnb.config.analyses import Analysis
from hhnb.io import ntuples as data
from hhnb.stats import metrics, significance

DEFAULT_N_BOOT = 200


@dataclass(frozen=True)
class PairedAUC:
    """Weighted AUC of scores a and b on the same events; bootstrap errors of each and of b - a (paired)."""

    a: float
    b: float
    a_error: float
    b_error: float
    diff: float  # b - a
    diff_error: float


def paired_auc(is_signal: np.ndarray, score_a: np.ndarray, score_b: np.ndarray, weight: np.ndarray,
               n_boot: int = DEFAULT_N_BOOT, seed: int = 1) -> PairedAUC:
    """AUCs of two scores with Poisson-bootstrap errors; each replica reweights both alike (paired difference).

    >>> rng = np.random.default_rng(1)
    >>> y = np.r_[np.ones(500, bool), np.zeros(500, bool)]
    >>> a = np.r_[rng.normal(1, 1, 500), rng.normal(0, 1, 1000)][:1000]
    >>> p = paired_auc(y, a, a, np.ones(1000), n_boot=50)
    >>> p.diff, p.diff_error, 0.7 < p.a < 0.8, 0.005 < p.a_error < 0.03
    (0.0, 0.0, True, True)
    """
    y = np.asarray(is_signal, bool).astype(int)
    w = np.asarray(weight, float)
    a, b = (np.asarray(s, float) for s in (score_a, score_b))
    reps = metrics.bootstrap_aucs(y, [a, b], w, n_boot, seed)
    auc_a, auc_b = metrics.weighted_auc(y, a, w), metrics.weighted_auc(y, b, w)
    err = reps.std(axis=0, ddof=1) if n_boot > 1 else np.full(2, np.nan)
    d = reps[:, 1] - reps[:, 0]
    return PairedAUC(float(auc_a), float(auc_b), float(err[0]), float(err[1]), float(auc_b - auc_a),
                     float(d.std(ddof=1)) if n_boot > 1 else float("nan"))


def compare(frame: pd.DataFrame, score_a: np.ndarray, score_b: np.ndarray, choose_on: np.ndarray,
            quote_on: np.ndarray, names: tuple[str, str] = ("dedicated", "parameterised"),
            n_boot: int = DEFAULT_N_BOOT, seed: int = 1, min_bkg_mc: int = significance.DEFAULT_MIN_BKG_MC,
            auc_on: np.ndarray | None = None) -> dict:
    """One table row: AUC of each (``auc_on`` events, default the quote-on ones) with errors and the paired
    difference, and each score's maximum significance (cut chosen on ``choose_on``, Z quoted on ``quote_on``
    with its bootstrap error).

    The AUC has no cut to choose, so it may be quoted on every out-of-fold event (``auc_on`` = all):
    twice the events of the quote-on half, a paired error smaller by about sqrt(2).
    ``frame`` needs ``label`` (0 = signal), ``weight`` and ``sample``; weights are scaled per sample
    to the full yield in each subset (``significance.scaled_weights``).
    """
    sig = (frame["label"] == 0).to_numpy()
    weight, sample = frame["weight"].to_numpy(float), frame["sample"].astype(str).to_numpy()
    quote_on = np.asarray(quote_on, bool)
    auc_on = quote_on if auc_on is None else np.asarray(auc_on, bool)
    wq = significance.scaled_weights(weight, sample, auc_on)
    auc = paired_auc(sig[auc_on], np.asarray(score_a)[auc_on], np.asarray(score_b)[auc_on], wq, n_boot, seed)
    row = {f"AUC {names[0]}": auc.a, f"AUC {names[0]} error": auc.a_error,
           f"AUC {names[1]}": auc.b, f"AUC {names[1]} error": auc.b_error,
           "AUC difference": auc.diff, "AUC difference error": auc.diff_error}
    for name, score in zip(names, (score_a, score_b)):
        q = significance.significance(score, sig, weight, choose_on, quote_on, sample, min_bkg_mc=min_bkg_mc,
                               n_boot=n_boot, seed=seed).quoted
        row[f"Z {name}"], row[f"Z {name} error"] = q.z, q.z_error
    row["events (quote-on)"] = int(quote_on.sum())
    row["events (AUC)"] = int(auc_on.sum())
    return row


def with_signal_at(ana: Analysis, kl: float, events: pd.DataFrame, data_dir: str | Path) -> pd.DataFrame:
    """The background rows of ``events`` (e.g. a dedicated network's out-of-fold scores) with the signal at
    ``kl`` read from the ntuples instead of their own: the events of a lambda no network was trained on."""
    sig = data.load(ana, kl, data_dir, signal_only=True)
    background = events[(events["label"] != 0).to_numpy()]
    out = pd.concat([sig.assign(sample=sig["sample"].astype(str)),
                     background.assign(sample=background["sample"].astype(str))], ignore_index=True)
    return out[[c for c in out.columns if c in sig.columns]]
