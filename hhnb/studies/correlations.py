"""Score-versus-mass correlations: 2D histograms, profiles, linear and distance correlation, mass sculpting.

A network that learnt the mass would sculpt the background mass spectrum after a
score cut into the signal's shape; these numbers say whether it did. Plain arrays
in, plain data out; no TensorFlow (the saved scores hold everything).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import hist
import numpy as np
import pandas as pd

from hhnb.config.analyses import Analysis

DEFAULT_CUT = 0.75  # p_sig > 0.75, the selection of arXiv:2004.04240
MAX_DCOR_EVENTS = 5000  # distance correlation is O(n^2) in memory: subsample
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
        raise KeyError(f"analysis {analysis.name!r} has no 'masses' in {analysis.source}: "
                       "add e.g. masses: {m_hh: m_hh} to correlate the score with a mass")
    if columns is not None:
        missing = [f"{k} (column {v!r})" for k, v in analysis.masses.items() if v not in set(columns)]
        if missing:
            raise KeyError(f"mass variable(s) {', '.join(missing)} of analysis {analysis.name!r} "
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
    w = np.ones_like(x) if weight is None else np.abs(np.asarray(weight, float))
    mx, my = np.average(x, weights=w), np.average(y, weights=w)
    cov = np.average((x - mx) * (y - my), weights=w)
    vx, vy = np.average((x - mx) ** 2, weights=w), np.average((y - my) ** 2, weights=w)
    return float(cov / np.sqrt(vx * vy)) if vx > 0 and vy > 0 else float("nan")


def distance_correlation(x: np.ndarray, y: np.ndarray, weight: np.ndarray | None = None,
                         max_events: int = MAX_DCOR_EVENTS, seed: int = 1) -> float:
    """Bias-corrected distance correlation (Szekely & Rizzo 2014; ~0 iff independent) on a seeded subsample.

    Returns sqrt(max(0, unbiased dCor^2)), so independent variables give ~0 at any
    sample size. With weights, events are drawn (with replacement) with probability
    proportional to |weight|, so the number refers to the weighted distribution.
    dcor is imported here: its import compiles numba code (about 10 s).
    """
    import dcor  # noqa: PLC0415

    x, y = np.asarray(x, float), np.asarray(y, float)
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
        raise ValueError(f"subset must be 'test', 'train' or 'all', not {subset!r}")
    mask = scores["is_test"].to_numpy(bool)
    return scores[mask if subset == "test" else ~mask]


def coefficients(scores: pd.DataFrame, masses: dict[str, str], score_column: str = "score_sig",
                 weighted: bool = True, max_events: int = MAX_DCOR_EVENTS, seed: int = 1) -> pd.DataFrame:
    """Linear and distance correlation of the score with each mass, per sample and for all backgrounds."""
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
            rows.append({"sample": name, "mass": label, "events": len(g),
                         "pearson": pearson(x, y, w),
                         "distance": distance_correlation(x, y, w, max_events=max_events, seed=seed)})
    return pd.DataFrame(rows)


def output_dir(analysis: str, tag: str, root: str | Path | None = None) -> Path:
    """The score-vs-mass output folder of one network (``layout.correlations_dir``)."""
    from hhnb import layout

    return layout.correlations_dir(analysis, tag, root)
