"""Classifier metrics on saved scores: weighted ROC and PR curves, the significance scan, overtraining.

Everything takes plain arrays and returns numbers or small frozen records; no TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats as _sps
from sklearn import metrics as _skm

from hhnb.studies.stats import asimov_z, s_over_sqrt_b


@dataclass(frozen=True)
class Curve:
    """A ROC (x = background efficiency, y = signal efficiency) or PR curve with its thresholds."""

    x: np.ndarray
    y: np.ndarray
    thresholds: np.ndarray
    area: float


@dataclass(frozen=True)
class Scan:
    """Significance versus cut: the curve and its maximum (cut, Z, nsig, nbkg)."""

    cuts: np.ndarray
    nsig: np.ndarray
    nbkg: np.ndarray
    z: np.ndarray
    best_cut: float
    best_z: float
    best_nsig: float
    best_nbkg: float
    method: str
    best_nbkg_mc: int = 0  # unweighted background events passing the best cut (MC statistics)


def roc(y_true: np.ndarray, score: np.ndarray, weight: np.ndarray | None = None) -> Curve:
    """Weighted ROC curve (signal = 1) and its area.

    >>> round(roc(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8])).area, 2)
    0.75
    """
    fpr, tpr, thr = _skm.roc_curve(y_true, score, sample_weight=weight)
    return Curve(fpr, tpr, thr, float(_skm.auc(fpr, tpr)))


def precision_recall(y_true: np.ndarray, score: np.ndarray, weight: np.ndarray | None = None) -> Curve:
    """Weighted precision-recall curve (x = recall, y = precision) and the average precision."""
    prec, rec, thr = _skm.precision_recall_curve(y_true, score, sample_weight=weight)
    ap = _skm.average_precision_score(y_true, score, sample_weight=weight)
    return Curve(rec, prec, thr, float(ap))


def confusion(y_true: np.ndarray, score: np.ndarray, cut: float, weight: np.ndarray | None = None) -> np.ndarray:
    """2x2 confusion matrix [[TN, FP], [FN, TP]] for ``score > cut`` (weighted if weights are given)."""
    pred = (np.asarray(score) > cut).astype(int)
    return _skm.confusion_matrix(np.asarray(y_true).astype(int), pred, labels=[0, 1], sample_weight=weight)


def significance_scan(score: np.ndarray, is_signal: np.ndarray, weight: np.ndarray, bins: int = 100_000,
                      min_bkg: float = 10.0, rel_unc: float = 0.0, method: str = "asimov",
                      min_bkg_mc: int = 0) -> Scan:
    """Maximum significance over a cut ``score > cut``, as the older scripts did it.

    Scores are histogrammed finely (``bins``), s and b cumulated from the top, cuts
    with fewer than ``min_bkg`` weighted background events are not allowed (nor, if
    ``min_bkg_mc`` > 0, with fewer unweighted background events: with large MC weights
    the maximum otherwise sits where one or two simulated events are left).
    ``method`` is ``asimov`` (Cowan et al., with ``rel_unc`` x b as background
    uncertainty) or ``simple`` (s / sqrt(b)).
    """
    score = np.asarray(score, float)
    sig = np.asarray(is_signal, bool)
    weight = np.asarray(weight, float)
    lo, hi = float(np.min(score)), float(np.max(score))
    if hi <= lo:
        hi = lo + 1e-9
    edges = np.linspace(lo, hi, bins + 1)
    hs, _ = np.histogram(score[sig], edges, weights=weight[sig])
    hb, _ = np.histogram(score[~sig], edges, weights=weight[~sig])
    nb_mc = np.cumsum(np.histogram(score[~sig], edges)[0][::-1])[::-1]
    s = np.cumsum(hs[::-1])[::-1]
    b = np.cumsum(hb[::-1])[::-1]
    if method == "simple":
        z = s_over_sqrt_b(s, b)
    elif method == "asimov":
        z = asimov_z(s, b, rel_unc * b)
    else:
        raise ValueError(f"unknown significance method {method!r}: expected 'asimov' or 'simple'")
    z = np.where((b >= min_bkg) & (nb_mc >= min_bkg_mc), z, 0.0)
    i = int(np.argmax(z))
    return Scan(edges[:-1], s, b, z, float(edges[i]), float(z[i]), float(s[i]), float(b[i]), method, int(nb_mc[i]))


def ks_overtraining(train: np.ndarray, test: np.ndarray) -> float:
    """Kolmogorov-Smirnov p-value of train vs test score distributions (small = overtraining)."""
    return float(_sps.ks_2samp(np.asarray(train), np.asarray(test)).pvalue)


def discriminant(p_sig: np.ndarray, eps: float = 1e-7) -> np.ndarray:
    """log(p_sig / (p_qcd + p_top)) = log(p / (1 - p)) for softmax outputs.

    >>> discriminant(np.array([0.5]))
    array([0.])
    """
    p = np.clip(np.asarray(p_sig, float), eps, 1 - eps)
    return np.log(p / (1 - p))


def luminosity_weights(weight: np.ndarray, sample: np.ndarray, subset: np.ndarray) -> np.ndarray:
    """Weights of a subset (e.g. the test set) scaled per sample to the full sample's yield."""
    weight = np.asarray(weight, float)
    out = np.zeros_like(weight)
    sample = np.asarray(sample)
    for name in np.unique(sample):
        m = sample == name
        tot, part = weight[m].sum(), weight[m & subset].sum()
        out[m & subset] = weight[m & subset] * (tot / part if part > 0 else 0.0)
    return out[subset]
