"""Score-versus-mass correlations: 2D histograms, profiles, linear and distance correlation, mass sculpting.

A network that learnt the mass would sculpt the background mass spectrum after a
score cut into the signal's shape; these numbers say whether it did. Plain arrays
in, plain data out; no TensorFlow (the saved scores hold everything).
"""

from __future__ import annotations

import fcntl
import importlib.util
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import hist
import numpy as np
import pandas as pd

from hhnb import layout
from hhnb.config.analyses import Analysis
from hhnb.errors import ConfigError, InputFileError, UserArgumentError
from hhnb.stats import significance

DEFAULT_CUT = 0.75  # p_sig > 0.75, the selection of arXiv:2004.04240
MAX_DCOR_EVENTS = 2000  # events drawn (by |weight|) for the distance correlation and its permutation test
N_PERMUTATIONS = 200
SCORE_EDGES = np.linspace(0.0, 1.0, 21)
RANGES = {"h1_M": (50.0, 250.0), "h2_M": (50.0, 250.0)}  # GeV; other masses: from quantiles


@dataclass(frozen=True)
class Profile:
    """Mean score (and its error) in each mass bin."""

    edges: np.ndarray
    mean: np.ndarray
    error: np.ndarray
    sumw: np.ndarray


@dataclass(frozen=True)
class Sculpting:
    """A background mass distribution before and after a score cut, each normalised to unit area."""

    edges: np.ndarray
    before: np.ndarray
    before_error: np.ndarray
    after: np.ndarray
    after_error: np.ndarray
    ratio: np.ndarray
    ratio_error: np.ndarray
    efficiency: float  # weighted fraction of the background passing the cut
    events_after: int


def mass_columns(analysis: Analysis, columns: list[str] | pd.Index | None = None) -> dict[str, str]:
    """The analysis' mass variables (label -> column), checked against the score file's columns."""
    if not analysis.masses:
        raise ConfigError(f"analysis {analysis.name!r} has no 'masses' in {analysis.source}: "
                          "add e.g. masses: {m_hh: m_hh} to correlate the score with a mass")
    if columns is not None:
        missing = [f"{k} (column {v!r})" for k, v in analysis.masses.items() if v not in set(columns)]
        if missing:
            raise ConfigError(f"mass variable(s) {', '.join(missing)} of analysis {analysis.name!r} "
                              f"({analysis.source}) are not in the scores file: retrain the network so that they "
                              f"are saved, or fix 'masses' in {analysis.source}")
    return dict(analysis.masses)


def mass_edges(values: np.ndarray, bins: int = 30, quantiles: tuple[float, float] = (0.01, 0.95),
               name: str | None = None) -> np.ndarray:
    """Bin edges: a fixed range for known masses (``RANGES``), else the quantiles (robust to a long tail).

    >>> mass_edges(np.arange(1001.0), bins=2, quantiles=(0.0, 1.0)).tolist()
    [0.0, 500.0, 1000.0]
    """
    if name in RANGES:
        return np.linspace(*RANGES[name], bins + 1)
    lo, hi = np.quantile(np.asarray(values, float), quantiles)
    if hi <= lo:
        hi = lo + 1.0
    return np.linspace(float(lo), float(hi), bins + 1)


def pearson(x: np.ndarray, y: np.ndarray, weight: np.ndarray | None = None) -> float:
    """Weighted Pearson linear correlation coefficient.

    >>> round(pearson(np.array([1.0, 2, 3]), np.array([2.0, 4, 6.5])), 3)
    0.998
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    w = np.ones_like(x) if weight is None else np.asarray(weight, float)  # signed: negative weights subtract
    mx, my = np.average(x, weights=w), np.average(y, weights=w)
    cov = np.average((x - mx) * (y - my), weights=w)
    vx, vy = np.average((x - mx) ** 2, weights=w), np.average((y - my) ** 2, weights=w)
    return float(cov / np.sqrt(vx * vy)) if vx > 0 and vy > 0 else float("nan")


def _dcor():
    """dcor, imported and its numba code compiled (about 10 s) under a machine-wide lock.

    numba writes a gufunc's cache in two files; kernels that compile at once can leave a pair
    that crashes every later import (``LLVM ERROR: Symbol not found: __gufunc__...``, numba issue
    #10128). One process compiles while the others wait, then they read a consistent cache.
    """

    if "dcor" in sys.modules:
        return sys.modules["dcor"]
    spec = importlib.util.find_spec("dcor")
    where = Path(spec.origin).parent if spec and spec.origin else Path(tempfile.gettempdir())
    lock = where / ".hhnb-numba.lock" if os.access(where, os.W_OK) else Path(tempfile.gettempdir()) / ".hhnb-numba.lock"
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        import dcor  # deferred: numba compiles dcor's kernels at import; one process at a time (see above)

        x = np.linspace(0.0, 1.0, 8)
        dcor.u_distance_correlation_sqr(x, x ** 2)  # compile the lazily typed paths while holding the lock
        dcor.u_distance_correlation_sqr(x, x ** 2, method="mergesort")
    finally:
        os.close(fd)
    return dcor


def merge_identical(x: np.ndarray, y: np.ndarray, weight: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Events with the same (x, y) merged into one that carries the sum of their signed weights.

    Only the sum of the weights at a point of phase space is physical (docs/physics.md, section 7): an event
    pair (x, +w), (x, -w) is no event at all, and merging before a draw by |weight| keeps such a pair from
    entering the draw with probability 2|w|. Merged events of weight 0 are dropped; each group keeps the place of its
    first event.

    >>> xm, ym, wm = merge_identical(np.array([1.0, 2, 1, 3, 3]), np.array([5.0, 6, 5, 7, 7]),
    ...                              np.array([1.0, 2, 0.5, 4, -4]))
    >>> xm.tolist(), ym.tolist(), wm.tolist()
    ([1.0, 2.0], [5.0, 6.0], [1.5, 2.0])
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    merged = significance.merged_weights(np.column_stack([x, y]), weight)
    keep = merged != 0
    return x[keep], y[keep], merged[keep]


def distance_correlation(x: np.ndarray, y: np.ndarray, weight: np.ndarray | None = None,
                         max_events: int = MAX_DCOR_EVENTS, seed: int = 1) -> float:
    """sqrt(max(0, unbiased dCor^2)) (Szekely & Rizzo 2014) on a seeded subsample; no noise level.

    Prefer ``distance_correlation_test`` (signed dCor^2 with a permutation p-value). Independent
    variables give ~0 at any sample size. With weights, identical events are merged (:func:`merge_identical`),
    then drawn (with replacement) with probability proportional to |weight|: the |w|-weighted distribution.
    dcor is imported here: its import compiles numba code (about 10 s).
    """
    dcor = _dcor()

    x, y = np.asarray(x, float), np.asarray(y, float)
    if weight is not None:
        x, y, weight = merge_identical(x, y, weight)
    rng = np.random.default_rng(seed)
    n = len(x)
    if weight is not None:
        p = np.abs(np.asarray(weight, float))
        idx = rng.choice(n, size=min(n, max_events), replace=True, p=p / p.sum())
    elif n > max_events:
        idx = rng.choice(n, size=max_events, replace=False)
    else:
        idx = np.arange(n)
    if len(idx) < 4 or np.ptp(x[idx]) == 0 or np.ptp(y[idx]) == 0:
        return float("nan")
    return float(np.sqrt(max(0.0, dcor.u_distance_correlation_sqr(x[idx], y[idx]))))


@dataclass(frozen=True)
class DistanceCorrelation:
    """Signed bias-corrected dCor^2 on a weighted draw, its permutation p-value and what it rests on."""

    dcor2: float  # unbiased estimator of dCor^2 (Szekely & Rizzo 2014): can be < 0, ~0 when independent
    pvalue: float  # permutation p-value of independence, (1 + #{perm >= observed}) / (1 + n_permutations)
    events: int  # draws used
    distinct: int  # distinct simulated events among the draws
    n_permutations: int


def weighted_draw(weight: np.ndarray | None, n: int, max_events: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of ``min(n, max_events)`` draws with probability proportional to |weight| (with replacement).

    Without weights: a subsample without replacement (all events if there are fewer).

    >>> weighted_draw(np.array([0.0, 1.0, 0.0]), 3, 5, np.random.default_rng(1)).tolist()
    [1, 1, 1]
    """
    if weight is None:
        return np.arange(n) if n <= max_events else np.sort(rng.choice(n, max_events, replace=False))
    p = np.abs(np.asarray(weight, float))
    if p.sum() <= 0:
        raise InputFileError("all weights are zero: nothing to draw")
    return np.sort(rng.choice(n, size=min(n, max_events), replace=True, p=p / p.sum()))


def distance_correlation_test(x: np.ndarray, y: np.ndarray, weight: np.ndarray | None = None,
                              max_events: int = MAX_DCOR_EVENTS, n_permutations: int = N_PERMUTATIONS,
                              seed: int = 1) -> DistanceCorrelation:
    """Signed unbiased dCor^2 (``dcor.u_distance_correlation_sqr``, Szekely & Rizzo 2014) and a permutation test.

    dCor^2 is a functional of a probability distribution; a signed-weight sample is no distribution (its
    V-statistic loses the positivity the independence test rests on), so with weights the events with the same
    (x, y) are first merged with their summed signed weight (:func:`merge_identical`: a pair (x, +w), (x, -w)
    drops out exactly), then drawn with probability proportional to |weight| (at most ``max_events`` draws).
    The number describes the |w|-weighted population, which is the physical one where the fraction of
    negative weights does not depend on x and y (docs/physics.md, section 7); Pearson keeps the signs.
    The null distribution permutes y among the *distinct* drawn events, each
    keeping its multiplicity, so that an event drawn many times (a large weight) does not look like
    dependence. dcor's O(n log n) algorithm for one-dimensional data keeps 200 permutations fast.

    >>> rng = np.random.default_rng(3)
    >>> m = rng.uniform(50, 250, 500)
    >>> r = distance_correlation_test(m, rng.random(500), n_permutations=200, seed=1)
    >>> abs(r.dcor2) < 0.02, r.pvalue > 0.05
    (True, True)
    >>> distance_correlation_test(m, np.sin(m / 20), n_permutations=200).pvalue < 0.01
    True
    """
    dcor = _dcor()

    x, y = np.asarray(x, float), np.asarray(y, float)
    if weight is not None:
        x, y, weight = merge_identical(x, y, weight)
        if len(x) == 0:
            return DistanceCorrelation(float("nan"), float("nan"), 0, 0, 0)
    rng = np.random.default_rng(seed)
    idx = weighted_draw(weight, len(x), max_events, rng)
    uniq, inverse = np.unique(idx, return_inverse=True)
    if len(uniq) < 4 or np.ptp(x[idx]) == 0 or np.ptp(y[idx]) == 0:
        return DistanceCorrelation(float("nan"), float("nan"), len(idx), len(uniq), 0)
    xs = x[idx]

    def stat(yv: np.ndarray) -> float:
        return float(dcor.u_distance_correlation_sqr(xs, yv, method="mergesort"))

    observed = stat(y[idx])
    yu = y[uniq]
    null = np.array([stat(yu[rng.permutation(len(uniq))][inverse]) for _ in range(n_permutations)])
    pvalue = (1.0 + float(np.sum(null >= observed))) / (1.0 + n_permutations)
    return DistanceCorrelation(observed, pvalue, len(idx), len(uniq), int(n_permutations))


def histogram2d(mass: np.ndarray, score: np.ndarray, mass_edges_: np.ndarray, weight: np.ndarray | None = None,
                score_edges: np.ndarray = SCORE_EDGES, mass_label: str = "mass") -> hist.Hist:
    """Weighted 2D histogram of score (y) versus mass (x)."""
    h = hist.Hist(hist.axis.Variable(mass_edges_, name="mass", label=mass_label),
                  hist.axis.Variable(score_edges, name="score", label="score"), storage=hist.storage.Weight())
    h.fill(mass=np.asarray(mass, float), score=np.asarray(score, float), weight=weight)
    return h


def profile(mass: np.ndarray, score: np.ndarray, edges: np.ndarray, weight: np.ndarray | None = None) -> Profile:
    """Weighted mean score per mass bin, with the error on the mean (NaN in empty bins).

    >>> p = profile(np.array([1.0, 1.5, 3.0]), np.array([0.2, 0.4, 0.9]), np.array([0.0, 2.0, 4.0]))
    >>> [round(float(v), 2) for v in p.mean]
    [0.3, 0.9]
    """
    mass, score = np.asarray(mass, float), np.asarray(score, float)
    w = np.ones_like(mass) if weight is None else np.asarray(weight, float)
    sumw = np.histogram(mass, edges, weights=w)[0]
    sumw2 = np.histogram(mass, edges, weights=w * w)[0]
    sx = np.histogram(mass, edges, weights=w * score)[0]
    sxx = np.histogram(mass, edges, weights=w * score * score)[0]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = sx / sumw
        var = np.clip(sxx / sumw - mean**2, 0, None)
        n_eff = sumw**2 / sumw2
        error = np.sqrt(var / n_eff)
    return Profile(np.asarray(edges, float), mean, error, sumw)


def _normalised(values: np.ndarray, weight: np.ndarray, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    sumw = np.histogram(values, edges, weights=weight)[0]
    sumw2 = np.histogram(values, edges, weights=weight * weight)[0]
    total = sumw.sum()
    if total <= 0:
        return np.zeros_like(sumw), np.zeros_like(sumw)
    scale = 1.0 / (total * np.diff(edges))  # a density: unit area
    return sumw * scale, np.sqrt(sumw2) * scale


def sculpting(mass: np.ndarray, score: np.ndarray, edges: np.ndarray, weight: np.ndarray | None = None,
              cut: float = DEFAULT_CUT) -> Sculpting:
    """Normalised mass distribution before and after ``score > cut`` and their ratio (1 = no sculpting)."""
    mass, score = np.asarray(mass, float), np.asarray(score, float)
    w = np.ones_like(mass) if weight is None else np.asarray(weight, float)
    passed = score > cut
    before, before_err = _normalised(mass, w, edges)
    after, after_err = _normalised(mass[passed], w[passed], edges)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(before > 0, after / before, np.nan)
        ratio_err = np.where(before > 0, after_err / before, np.nan)
    eff = float(w[passed].sum() / w.sum()) if w.sum() != 0 else float("nan")
    return Sculpting(np.asarray(edges, float), before, before_err, after, after_err, ratio, ratio_err, eff,
                     int(passed.sum()))


def select(scores: pd.DataFrame, subset: str = "test") -> pd.DataFrame:
    """The events to study: ``test`` (never trained on, the default), ``train`` or ``all``."""
    if subset == "all":
        return scores
    if subset not in ("test", "train"):
        raise UserArgumentError(f"subset must be 'test', 'train' or 'all', not {subset!r}")
    mask = scores["is_test"].to_numpy(bool)
    return scores[mask if subset == "test" else ~mask]


def coefficients(scores: pd.DataFrame, masses: dict[str, str], score_column: str = "score_sig",
                 weighted: bool = True, max_events: int = MAX_DCOR_EVENTS, seed: int = 1,
                 n_permutations: int = N_PERMUTATIONS) -> pd.DataFrame:
    """Linear and distance correlation of the score with each mass, per sample and for all backgrounds.

    Columns: ``pearson`` (signed weights), ``dcor2`` (signed unbiased dCor^2 on ``dcor_events``
    draws by |weight|, of which ``dcor_distinct`` distinct events), ``dcor_pvalue`` (permutation test,
    ``n_permutations``), ``distance`` (sqrt(max(0, dcor2)), the older column), ``n_eff`` (Kish
    effective events of the group: how many events the weighted numbers really rest on).
    """
    groups: list[tuple[str, pd.DataFrame]] = [(str(s), g) for s, g in scores.groupby("sample", observed=True,
                                                                                     sort=False)]
    bkg = scores[scores["label"].to_numpy() != 0]
    if len(bkg) and bkg["sample"].nunique() > 1:
        groups.append(("all backgrounds", bkg))
    rows = []
    for name, g in groups:
        w = g["weight"].to_numpy(float) if weighted else None
        for label, col in masses.items():
            x, y = g[col].to_numpy(float), g[score_column].to_numpy(float)
            d = distance_correlation_test(x, y, w, max_events=max_events, n_permutations=n_permutations, seed=seed)
            rows.append({"sample": name, "mass": label, "events": len(g),
                         "n_eff": _n_eff(w) if w is not None else float(len(g)),
                         "pearson": pearson(x, y, w), "dcor2": d.dcor2, "dcor_pvalue": d.pvalue,
                         "dcor_events": d.events, "dcor_distinct": d.distinct,
                         "distance": float(np.sqrt(max(0.0, d.dcor2))) if np.isfinite(d.dcor2) else float("nan")})
    return pd.DataFrame(rows)


def _n_eff(w: np.ndarray) -> float:
    s2 = float(np.sum(w * w))
    return float(np.sum(w) ** 2 / s2) if s2 > 0 else 0.0


def output_dir(analysis: str, tag: str, root: str | Path | None = None) -> Path:
    """The score-vs-mass output folder of one network (``layout.correlations_dir``)."""

    return layout.correlations_dir(analysis, tag, root)
