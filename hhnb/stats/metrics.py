"""Classifier metrics on saved scores: weighted ROC and PR curves, the significance scan, overtraining.

Everything takes plain arrays and returns numbers or small frozen records; no TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats as _sps

from hhnb.errors import UserArgumentError
from hhnb.stats.significance import asimov_z, background_sigma, s_over_sqrt_b, scaled_weights


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
    sigma_b: str = ""  # what enters the background uncertainty: "" (none), "MC stat.", "MC stat. + 10 % syst." ...


def _order(score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The events by descending score (stable sort) and the sorted position of the last event of each distinct
    score: what every ROC of these scores shares, whatever the weights."""
    sc = np.asarray(score, float)
    order = np.argsort(-sc, kind="mergesort")
    last = np.r_[np.flatnonzero(np.diff(sc[order])), len(sc) - 1] if len(sc) else np.zeros(0, int)
    return order, last


def _cumulative(signal: np.ndarray, w: np.ndarray, last: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative background and signal weights above each distinct score (events already in score order)."""
    return (np.r_[0.0, np.cumsum(np.where(signal, 0.0, w))[last]],
            np.r_[0.0, np.cumsum(np.where(signal, w, 0.0))[last]])


def _rates(fps: np.ndarray, tps: np.ndarray, *others: np.ndarray) -> tuple[np.ndarray, ...]:
    """The ROC's (fpr, tpr, *others) without the points collinear with their neighbours (scikit-learn's
    drop_intermediate: they add nothing), the rates normalised to the totals."""
    if len(fps) > 2:
        keep = np.r_[True, np.logical_or(np.diff(fps, 2), np.diff(tps, 2)), True]
        fps, tps, others = fps[keep], tps[keep], tuple(o[keep] for o in others)
    return (fps / fps[-1] if fps[-1] else fps, tps / tps[-1] if tps[-1] else tps, *others)


def _roc_points(y_true: np.ndarray, score: np.ndarray, weight: np.ndarray | None) -> tuple[np.ndarray, ...]:
    """Cumulative background and signal weights above each distinct score, from the top (signed weights)."""
    y = np.asarray(y_true).astype(int) == 1
    sc = np.asarray(score, float)
    w = np.ones(len(sc)) if weight is None else np.asarray(weight, float)
    order, last = _order(sc)
    fps, tps = _cumulative(y[order], w[order], last)
    return fps, tps, np.r_[np.inf, sc[order][last]]


def tpr_at_replicas(y_true: np.ndarray, score: np.ndarray, weight: np.ndarray, fpr: float, n_boot: int = 100,
                    seed: int = 1) -> np.ndarray:
    """The signal efficiency where the ROC's background efficiency is ``fpr`` (linear interpolation, as on
    :func:`roc`'s curve) on ``n_boot`` Poisson-bootstrap replicas of the weights (:func:`bootstrap_aucs`' draws).

    The scores are the same in every replica: they are sorted once and each replica's curve is two cumulative
    sums (a 400k-event, 200-replica bootstrap in seconds instead of minutes).

    >>> y, s = np.array([1, 1, 0, 1, 0, 0]), np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4])
    >>> r = tpr_at_replicas(y, s, np.ones(6), 0.5, n_boot=4)
    >>> r.shape, bool(((r >= 0) & (r <= 1)).all())
    ((4,), True)
    """
    y = np.asarray(y_true).astype(int) == 1
    w = np.asarray(weight, float)
    order, last = _order(score)
    ys, ws = y[order], w[order]
    rng = np.random.default_rng(seed)
    out = np.empty(n_boot)
    for i in range(n_boot):
        fpr_i, tpr_i = _rates(*_cumulative(ys, ws * rng.poisson(1.0, len(w))[order], last))
        out[i] = np.interp(fpr, fpr_i, tpr_i)
    return out


def weighted_auc(y_true: np.ndarray, score: np.ndarray, weight: np.ndarray | None = None) -> float:
    """Area under the weighted ROC curve, signed weights allowed.

    With negative weights the cumulative rates need not be monotonic (scikit-learn's ``auc`` then refuses):
    the trapezoid rule over the points in threshold order needs no monotonicity and equals the weighted
    Mann-Whitney statistic sum_{s,b} w_s w_b ([x_s > x_b] + [x_s = x_b] / 2) / (W_s W_b) (Hanley & McNeil 1982).
    An event pair (x, +w), (x, -w) changes nothing.

    >>> y, x = np.array([1, 0, 1, 0]), np.array([0.9, 0.8, 0.3, 0.1])
    >>> weighted_auc(y, x), weighted_auc(np.r_[y, 1, 1], np.r_[x, 0.5, 0.5], np.r_[np.ones(4), 2.0, -2.0])
    (0.75, 0.75)
    """
    fps, tps, _ = _roc_points(y_true, score, weight)
    if len(fps) < 2 or fps[-1] == 0 or tps[-1] == 0:
        return float("nan")
    return float(np.trapezoid(tps, fps) / (tps[-1] * fps[-1]))


def roc(y_true: np.ndarray, score: np.ndarray, weight: np.ndarray | None = None) -> Curve:
    """Weighted ROC curve (signal = 1) and its area (signed weights allowed: :func:`weighted_auc`).

    >>> round(roc(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8])).area, 2)
    0.75
    """
    fpr, tpr, thr = _rates(*_roc_points(y_true, score, weight))
    return Curve(fpr, tpr, thr, weighted_auc(y_true, score, weight))


def bootstrap_aucs(y_true: np.ndarray, scores: list[np.ndarray], weight: np.ndarray | None = None,
                   n_boot: int = 100, seed: int = 1) -> np.ndarray:
    """Weighted AUC of each score on ``n_boot`` Poisson-bootstrap replicas, shape (n_boot, len(scores)).

    Each replica reweights every event by a Poisson(1) draw, the same draw for all scores, so the
    differences between columns are paired. The Poisson bootstrap resamples the simulated events: the
    spread reflects the Monte Carlo statistics behind the weighted populations (Efron & Tibshirani 1993,
    ch. 6). One loop for :func:`auc_error` and ``comparison.paired_auc``.

    >>> y, s = np.array([0, 0, 1, 1, 0, 1]), np.array([0.1, 0.4, 0.35, 0.8, 0.2, 0.9])
    >>> r = bootstrap_aucs(y, [s, -s], n_boot=3)
    >>> r.shape, bool(np.allclose(r[:, 0] + r[:, 1], 1.0))
    ((3, 2), True)
    """
    y = np.asarray(y_true).astype(int)
    w = np.ones(len(y)) if weight is None else np.asarray(weight, float)
    rng = np.random.default_rng(seed)
    reps = np.zeros((n_boot, len(scores)))
    for i in range(n_boot):
        k = rng.poisson(1.0, len(w)) * w
        reps[i] = [weighted_auc(y, s, k) for s in scores]
    return reps


def auc_error(y_true: np.ndarray, score: np.ndarray, weight: np.ndarray | None = None, n_boot: int = 100,
              seed: int = 1) -> float:
    """Bootstrap standard deviation of the weighted AUC (:func:`bootstrap_aucs` of the one score).

    >>> rng = np.random.default_rng(2)
    >>> y = np.r_[np.ones(2000, int), np.zeros(2000, int)]
    >>> s = np.r_[rng.normal(1, 1, 2000), rng.normal(0, 1, 2000)]
    >>> 0.004 < auc_error(y, s, n_boot=200) < 0.009  # Hanley-McNeil: 0.0066 for AUC 0.76, 2000 + 2000 events
    True
    """
    if n_boot < 2 or len(np.unique(np.asarray(y_true).astype(int))) < 2:
        return float("nan")
    return float(np.std(bootstrap_aucs(y_true, [score], weight, n_boot, seed)[:, 0], ddof=1))


def precision_recall(y_true: np.ndarray, score: np.ndarray, weight: np.ndarray | None = None) -> Curve:
    """Precision-recall curve (x = recall, y = precision) and the average precision, signed weights allowed.

    Weighted (physical population) when ``weight`` is given, else unweighted (simulated events):
    the two differ by orders of magnitude when the signal is rare, so label which one is shown.
    From the signed cumulative sums of :func:`weighted_auc` over the distinct scores: precision
    P_n = TP_n / (TP_n + FP_n), recall R_n = TP_n / TP, AP = sum_n (R_n - R_{n-1}) P_n (the step rule,
    no interpolation: scikit-learn's ``average_precision_score``; Manning, Raghavan & Schuetze 2008, ch. 8.4),
    which needs no monotonic recall. Arrays in scikit-learn's order: recall falling to the point (0, 1),
    thresholds rising. A point whose signed selected weight TP + FP is 0 has precision 0 (scikit-learn's rule).

    >>> y, sc = np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8])
    >>> # weighted: 0.5 x 1 + 0.5 x 2/11 by hand
    >>> round(precision_recall(y, sc).area, 3), round(precision_recall(y, sc, np.array([9.0, 9, 1, 1])).area, 3)
    (0.833, 0.591)
    >>> # a cancelling pair (0.6, +3), (0.6, -3) of background events changes nothing
    >>> w = np.array([9.0, 9, 1, 1, 3, -3])
    >>> round(precision_recall(np.r_[y, 0, 0], np.r_[sc, 0.6, 0.6], w).area, 3)
    0.591
    """
    fps, tps, thr = _roc_points(y_true, score, weight)
    fps, tps, thr = fps[1:], tps[1:], thr[1:]  # the points of the distinct scores, from the top
    ps = tps + fps
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(ps != 0, tps / np.where(ps != 0, ps, 1.0), 0.0)
    recall = tps / tps[-1] if len(tps) and tps[-1] != 0 else np.ones_like(tps)
    ap = float(np.sum(np.diff(np.r_[0.0, recall]) * precision)) if len(tps) and tps[-1] != 0 else float("nan")
    return Curve(np.r_[recall[::-1], 0.0], np.r_[precision[::-1], 1.0], thr[::-1], ap)


def confusion(y_true: np.ndarray, score: np.ndarray, cut: float, weight: np.ndarray | None = None) -> np.ndarray:
    """2x2 confusion matrix [[TN, FP], [FN, TP]] for ``score > cut``: weighted (signed) yields if weights are given.

    >>> confusion(np.array([0, 0, 1]), np.array([0.2, 0.9, 0.8]), 0.5, np.array([10.0, -2.0, 0.5])).tolist()
    [[10.0, -2.0], [0.0, 0.5]]
    """
    pred = (np.asarray(score) > cut).astype(int)
    cell = 2 * (np.asarray(y_true).astype(int) == 1) + pred  # 0 TN, 1 FP, 2 FN, 3 TP
    if weight is None:
        return np.bincount(cell, minlength=4).reshape(2, 2)
    return np.bincount(cell, weights=np.asarray(weight, float), minlength=4).reshape(2, 2)


def significance_scan(score: np.ndarray, is_signal: np.ndarray, weight: np.ndarray, bins: int = 100_000,
                      min_bkg: float = 10.0, rel_unc: float = 0.0, method: str = "asimov",
                      min_bkg_mc: int = 0, mc_stat: bool = False) -> Scan:
    """Maximum significance over a cut ``score > cut``, as the older scripts did it.

    Scores are histogrammed finely (``bins``), s and b cumulated from the top, cuts
    with fewer than ``min_bkg`` weighted background events are not allowed (nor, if
    ``min_bkg_mc`` > 0, with fewer unweighted background events: with large MC weights
    the maximum otherwise sits where one or two simulated events are left).
    ``method`` is ``asimov`` (Cowan et al., with ``rel_unc`` x b as background
    uncertainty) or ``simple`` (s / sqrt(b)). With ``mc_stat`` the background's Monte Carlo error
    sqrt(sum w^2) is added to sigma_b in quadrature (``stats.background_sigma``).
    This fine scan is for curves: to quote a number, choose the cut on other events than those it is
    quoted on (``stats.significance``).
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
    hb2, _ = np.histogram(score[~sig], edges, weights=weight[~sig] ** 2)
    b2 = np.cumsum(hb2[::-1])[::-1]
    nb_mc = np.cumsum(np.histogram(score[~sig], edges)[0][::-1])[::-1]
    s = np.cumsum(hs[::-1])[::-1]
    b = np.cumsum(hb[::-1])[::-1]
    if method == "simple":
        z = s_over_sqrt_b(s, b)
    elif method == "asimov":
        z = asimov_z(np.clip(s, 0, None), b, background_sigma(b, b2 if mc_stat else 0.0, rel_unc))
    else:
        raise UserArgumentError(f"unknown significance method {method!r}: expected 'asimov' or 'simple'")
    z = np.where((b >= min_bkg) & (nb_mc >= min_bkg_mc), z, 0.0)
    i = int(np.argmax(z))
    terms = ([] if method != "asimov" else (["MC stat."] if mc_stat else []) + ([f"{rel_unc:.0%} syst."] if rel_unc else []))
    return Scan(edges[:-1], s, b, z, float(edges[i]), float(z[i]), float(s[i]), float(b[i]), method, int(nb_mc[i]),
                " + ".join(terms))


def ks_overtraining(train: np.ndarray, test: np.ndarray, weight_train: np.ndarray | None = None,
                    weight_test: np.ndarray | None = None) -> float:
    """Kolmogorov-Smirnov p-value of train vs test score distributions (small = overtraining).

    Unweighted (scipy's exact test) unless weights are given; then ``weighted_ks``.
    """
    if weight_train is None and weight_test is None:
        return float(_sps.ks_2samp(np.asarray(train), np.asarray(test)).pvalue)
    return weighted_ks(train, test, weight_train, weight_test)[1]


def effective_events(weight: np.ndarray) -> float:
    """Kish effective number of events (sum w)^2 / sum w^2 (Kish 1965).

    >>> effective_events(np.array([1.0, 1.0, 2.0]))
    2.6666666666666665
    """
    w = np.asarray(weight, float)
    s2 = float(np.sum(w * w))
    return float(np.sum(w) ** 2 / s2) if s2 > 0 else 0.0


def weighted_ks(a: np.ndarray, b: np.ndarray, weight_a: np.ndarray | None = None,
                weight_b: np.ndarray | None = None) -> tuple[float, float]:
    """Weighted two-sample Kolmogorov-Smirnov statistic D and its asymptotic p-value.

    D = max |F_a - F_b| of the weighted (signed) empirical CDFs; the p-value is Kolmogorov's limit
    distribution at sqrt(n n' / (n + n')) D with Kish effective event counts n, n'
    (as ROOT's TH1::KolmogorovTest does for weighted histograms; Monahan 2011, Numerical Methods of
    Statistics, section 13.6). Asymptotic: fine for more than ~50 effective events per sample.

    >>> d, p = weighted_ks(np.array([1.0, 2, 3, 4]), np.array([1.0, 2, 3, 4]), np.array([1.0, 1, 1, 1]))
    >>> d, round(p, 3)
    (0.0, 1.0)
    >>> round(weighted_ks(np.array([0.0, 1]), np.array([0.0, 1]), np.array([3.0, 1]), np.array([1.0, 1]))[0], 3)
    0.25
    """
    a, b = np.asarray(a, float), np.asarray(b, float)
    wa = np.ones_like(a) if weight_a is None else np.asarray(weight_a, float)
    wb = np.ones_like(b) if weight_b is None else np.asarray(weight_b, float)
    if len(a) == 0 or len(b) == 0 or wa.sum() == 0 or wb.sum() == 0:
        return float("nan"), float("nan")
    grid = np.unique(np.concatenate([a, b]))

    def ecdf(x: np.ndarray, w: np.ndarray) -> np.ndarray:
        order = np.argsort(x, kind="stable")
        cw = np.concatenate([[0.0], np.cumsum(w[order])]) / w.sum()
        return cw[np.searchsorted(x[order], grid, side="right")]

    d = float(np.max(np.abs(ecdf(a, wa) - ecdf(b, wb))))
    na, nb = effective_events(wa), effective_events(wb)
    en = na * nb / (na + nb) if na + nb > 0 else 0.0
    return d, float(_sps.kstwobign.sf(np.sqrt(en) * d))


def overtraining(score: np.ndarray, label: np.ndarray, weight: np.ndarray, train: np.ndarray, test: np.ndarray,
                 classes: list[str] | tuple[str, ...] | None = None) -> pd.DataFrame:
    """Weighted KS test of the training against the test score distribution, per class.

    Per class, not signal against everything: mixing samples with different train/test fractions
    would fake a difference. Weights are the physical event weights (signed).
    """
    score, label, weight = np.asarray(score, float), np.asarray(label), np.asarray(weight, float)
    train, test = np.asarray(train, bool), np.asarray(test, bool)
    rows = []
    for k in np.unique(label):
        m = label == k
        d, p = weighted_ks(score[m & train], score[m & test], weight[m & train], weight[m & test])
        name = classes[int(k)] if classes is not None and int(k) < len(classes) else str(k)
        rows.append({"class": name, "label": int(k), "train_events": int((m & train).sum()),
                     "test_events": int((m & test).sum()), "ks_statistic": d, "ks_pvalue": p})
    return pd.DataFrame(rows)


def discriminant(p_sig: np.ndarray, eps: float = 1e-7) -> np.ndarray:
    """log(p_sig / (p_qcd + p_top)) = log(p / (1 - p)) for softmax outputs.

    >>> discriminant(np.array([0.5]))
    array([0.])
    """
    p = np.clip(np.asarray(p_sig, float), eps, 1 - eps)
    return np.log(p / (1 - p))


def luminosity_weights(weight: np.ndarray, sample: np.ndarray, subset: np.ndarray) -> np.ndarray:
    """Weights of a subset (e.g. the test set) scaled per sample to the full sample's yield (``stats.scaled_weights``)."""

    return scaled_weights(weight, sample, subset)
