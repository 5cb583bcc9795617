"""kappa_lambda constraints from m_hh histograms after the network selection: chi2 and pyhf scans, intervals.

Per category, ``Templates`` hold the background and the three basis signal
histograms (``hhnb.studies.basis``) after the selection. Two statistics against an
Asimov data set at kl = 1:

* the study's chi2(kl) = sum_bins (N_kl - N_SM)^2 / (N_bkg + (f N_bkg)^2) (arXiv:2004.04240, physics.md section 2);
* a profile likelihood with pyhf: the background with a normalisation uncertainty f
  (normsys) and per-bin MC statistical uncertainties (staterror), the signal as the
  three basis samples scaled by normfactors fixed to the basis coefficients c_i(kl).
  The model is built once; the scan fixes the three normfactors at each kl and
  profiles the rest, on pyhf's jax backend (autodiff gradients for the minimiser).
  The categories share no nuisance parameter, so ``category_scans`` fits only the
  combination at each kl and reads each category's curve off that best fit.

The likelihood with the systematic variations (JES, JER, b-tagging, cross sections, correlated across the
categories) is :mod:`hhnb.studies.systematics`; it reads ``Templates`` and ``interval`` from here.

Intervals are where the curve stays below the chi2 quantile of one degree of
freedom (1.0 for 68.27 %, 3.84 for 95 %); an end still below it at the scan edge is
reported open, never as a number.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace

import jax
import numpy as np
import pandas as pd
import pyhf
from scipy import interpolate
from scipy import stats as _sps
from threadpoolctl import threadpool_limits

from hhnb.config import lambdas as _lambdas
from hhnb.errors import BasisError, EmptyBinError, UserArgumentError
from hhnb.studies import basis as _basis

SIGNAL_REGION = (90.0, 140.0)  # GeV, on both h1_M and h2_M (physics.md section 2)
CUT = 0.75  # p_sig, the study's selection
SYSTEMATICS = (0.0, 0.003, 0.01, 0.02, 0.05)
CLS = (0.6827, 0.95)
#: The study's 68 % CL intervals without background systematic (physics.md section 2): network kl -> category.
PUBLISHED = {
    1.0: {"resolved": (-0.68, 7.1), "intermediate": (-2.7, 9.6), "boosted": (-5.5, 13.3), "combined": (-0.53, 7.0)},
    5.0: {"resolved": (-0.8, 6.4), "intermediate": (-3.0, 10.4), "boosted": (-8.0, 13.2), "combined": (-0.7, 6.3)},
}
PUBLISHED_COMBINED_F003 = (-0.8, 6.6)


@dataclass(frozen=True, eq=False)
class Templates:
    """One category's m_hh histograms after the selection (weighted yields at the luminosity, and MC variances)."""

    category: str
    edges: np.ndarray
    background: np.ndarray
    background_var: np.ndarray
    background_mc: np.ndarray  # unweighted background events per bin
    basis: tuple[float, float, float]
    signal: np.ndarray  # (3, bins): the basis samples
    signal_var: np.ndarray
    merged: tuple[str, ...] = field(default=())  # bins merged because they had no background MC events

    def signal_at(self, kl: float | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Signal histogram and its MC variance at ``kl`` (one row per kl when ``kl`` is an array)."""
        return _basis.combine(self.signal, self.signal_var, self.basis, kl)

    def bin_labels(self) -> list[str]:
        return [f"[{lo:g}, {hi:g})" for lo, hi in zip(self.edges[:-1], self.edges[1:])]


def in_signal_region(frame: pd.DataFrame, window: tuple[float, float] = SIGNAL_REGION) -> np.ndarray:
    """90 < h1_M < 140 and 90 < h2_M < 140 (GeV)."""
    lo, hi = window
    h1, h2 = frame["h1_M"].to_numpy(float), frame["h2_M"].to_numpy(float)
    return (h1 > lo) & (h1 < hi) & (h2 > lo) & (h2 < hi)


def selected(frame: pd.DataFrame, score: str = "score_sig", cut: float = CUT) -> np.ndarray:
    """Events passing the network selection (score >= cut) in the signal region."""
    return (frame[score].to_numpy(float) >= cut) & in_signal_region(frame)


def build_templates(category: str, edges: Sequence[float], background: pd.DataFrame,
                    signal: Sequence[pd.DataFrame], basis: Sequence[float], score: str = "score_sig",
                    cut: float = CUT) -> Templates:
    """Histogram m_hh of the selected background and basis-signal events (frames carry physical weights)."""
    edges = np.asarray(edges, float)
    if len(signal) != 3:
        raise BasisError(f"category {category!r}: expected three basis signal frames, got {len(signal)}")
    sel = selected(background, score, cut)
    m = background["m_hh"].to_numpy(float)[sel]
    b, bv = _basis.histogram(m, background["weight"].to_numpy(float)[sel], edges)
    bmc, _ = np.histogram(m, edges)
    hs, hv = [], []
    for frame in signal:
        s = selected(frame, score, cut)
        h, v = _basis.histogram(frame["m_hh"].to_numpy(float)[s], frame["weight"].to_numpy(float)[s], edges)
        hs.append(h)
        hv.append(v)
    return Templates(category, edges, b, bv, bmc, tuple(float(x) for x in basis), np.array(hs), np.array(hv))


def check_background(t: Templates, empty: str = "refuse") -> Templates:
    """Deal with bins without background MC events: ``refuse`` (one-line error) or ``merge`` into a neighbour.

    Merging joins an empty bin with its lower neighbour (the upper one for the first bin)
    and records which bins were merged in ``Templates.merged``.
    """
    bad = np.flatnonzero(t.background_mc == 0)
    if not len(bad):
        return t
    labels = [t.bin_labels()[i] for i in bad]
    what = f"category {t.category!r}: no background MC events after the selection in m_hh bin(s) {', '.join(labels)} GeV"
    if empty == "refuse":
        raise EmptyBinError(f"{what}; merge them (empty='merge') or loosen the cut")
    if empty != "merge":
        raise UserArgumentError(f"empty={empty!r}: expected 'refuse' or 'merge'")
    if len(bad) == len(t.background_mc):
        raise EmptyBinError(f"{what}: every bin is empty, nothing to merge into")
    edges = list(t.edges)
    arrays = [t.background, t.background_var, t.background_mc.astype(float), *t.signal, *t.signal_var]
    rows = [list(a) for a in arrays]
    mc = list(t.background_mc)
    while 0 in mc:
        i = mc.index(0)
        j = i - 1 if i > 0 else i + 1
        lo, hi = min(i, j), max(i, j)
        for r in rows:
            r[lo] += r[hi]
            del r[hi]
        mc[lo] += mc[hi]
        del mc[hi]
        del edges[hi]
    arr = [np.array(r) for r in rows]
    return replace(t, edges=np.array(edges), background=arr[0], background_var=arr[1],
                   background_mc=arr[2].astype(int), signal=np.array(arr[3:6]), signal_var=np.array(arr[6:9]),
                   merged=t.merged + tuple(labels))


# --- the study's chi2 -------------------------------------------------------------------------------------

def chi2(n_kl: np.ndarray, n_sm: np.ndarray, n_bkg: np.ndarray, f: float = 0.0) -> np.ndarray:
    """chi2 = sum over bins (N_kl - N_SM)^2 / (N_bkg + (f N_bkg)^2) (arXiv:2004.04240), summed over the last axis.

    >>> float(chi2(np.array([120.0]), np.array([100.0]), np.array([400.0]), f=0.05))
    0.5
    """
    n_bkg = np.asarray(n_bkg, float)
    return ((np.asarray(n_kl, float) - np.asarray(n_sm, float)) ** 2 / (n_bkg + (f * n_bkg) ** 2)).sum(-1)


@dataclass(frozen=True, eq=False)
class Scan:
    """A statistic versus kl (chi2 or -2 delta ln L) for one category or a combination."""

    category: str
    method: str  # "chi2" or "pyhf"
    f: float
    kl: np.ndarray
    q: np.ndarray

    def interval(self, cl: float = CLS[0]) -> Interval:
        return interval(self.kl, self.q, cl)


def chi2_scan(templates: Sequence[Templates], kl: np.ndarray, f: float = 0.0, kl_ref: float = 1.0,
              name: str | None = None) -> Scan:
    """The study's chi2 at each ``kl`` summed over the categories in ``templates`` (Asimov data at ``kl_ref``)."""
    kl = np.asarray(kl, float)
    total = np.zeros(len(kl))
    for t in templates:
        _empty_guard(t)
        total += chi2(t.signal_at(kl)[0], t.signal_at(kl_ref)[0], t.background, f)
    return Scan(name or "+".join(t.category for t in templates), "chi2", f, kl, total)


def _empty_guard(t: Templates) -> None:
    if (t.background_mc == 0).any():
        check_background(t, "refuse")


# --- the pyhf likelihood ----------------------------------------------------------------------------------

def _coef_names(basis: Sequence[float]) -> list[str]:
    return [f"c_kl{_lambdas.tag(b)}" for b in basis]


def workspace_spec(templates: Sequence[Templates], f: float = 0.0, mc_stat: bool = True, kl_asimov: float = 1.0
                   ) -> dict:
    """A HistFactory workspace: per category the background (normsys f, staterror) and three basis signal samples.

    The signal samples carry normfactors ``c_kl<tag>`` shared by all categories; the
    observations are the Asimov data at ``kl_asimov`` (nuisance parameters nominal).
    """
    bases = {t.basis for t in templates}
    if len(bases) != 1:
        raise BasisError(f"categories use different bases {sorted(bases)}: expected one basis")
    basis = templates[0].basis
    names = _coef_names(basis)
    channels, observations = [], []
    for t in templates:
        _empty_guard(t)
        bkg_mods: list[dict] = []
        if f > 0:
            bkg_mods.append({"name": f"bkg_norm_{t.category}", "type": "normsys", "data": {"hi": 1 + f, "lo": 1 - f}})
        if mc_stat:
            bkg_mods.append({"name": f"mcstat_{t.category}", "type": "staterror",
                             "data": np.sqrt(t.background_var).tolist()})
        samples = [{"name": "background", "data": t.background.tolist(), "modifiers": bkg_mods}]
        for b, name, h in zip(basis, names, t.signal):
            samples.append({"name": f"hh_kl{_lambdas.tag(b)}", "data": h.tolist(),
                            "modifiers": [{"name": name, "type": "normfactor", "data": None}]})
        channels.append({"name": t.category, "samples": samples})
        observations.append({"name": t.category, "data": (t.background + t.signal_at(kl_asimov)[0]).tolist()})
    c_sm = _basis.coefficients(basis, kl_asimov)
    params = [{"name": n, "bounds": [[-1e4, 1e4]], "inits": [float(c)], "fixed": True} for n, c in zip(names, c_sm)]
    return {"version": "1.0.0", "channels": channels, "observations": observations,
            "measurements": [{"name": "kl_scan", "config": {"poi": names[0], "parameters": params}}]}


#: pyhf backend of the scans: jax gives the minimiser autodiff gradients (numpy: finite differences, 2-4x slower).
BACKEND = "jax"


def _use_backend(name: str) -> None:
    """pyhf's backend is process-wide: switch only when needed (a switch re-prepares every live model)."""

    if pyhf.get_backend()[0].name != name:
        pyhf.set_backend(name)


@dataclass(frozen=True, eq=False)
class Likelihood:
    """A pyhf model built once, with its Asimov data and the indices of the basis normfactors."""

    model: object
    data: object
    basis: tuple[float, float, float]
    coef_index: tuple[int, int, int]
    name: str
    f: float
    backend: str = BACKEND

    @classmethod
    def build(cls, templates: Sequence[Templates], f: float = 0.0, mc_stat: bool = True, kl_asimov: float = 1.0,
              name: str | None = None, backend: str = BACKEND) -> Likelihood:

        # built on numpy (jax would compile each eager operation: 2x slower); fits switch to ``backend``
        _use_backend("numpy")
        ws = pyhf.Workspace(workspace_spec(templates, f, mc_stat, kl_asimov))
        model = ws.model()
        idx = tuple(model.config.par_slice(n).start for n in _coef_names(templates[0].basis))
        return cls(model, np.asarray(ws.data(model), float), templates[0].basis, idx,
                   name or "+".join(t.category for t in templates), f, backend)

    @property
    def parameters(self) -> list[str]:
        """Parameter names, one per entry of the parameter vector (staterror ``mcstat_<cat>[i]``)."""
        cfg = self.model.config
        out = [""] * cfg.npars
        for name in cfg.par_order:
            sl = cfg.par_slice(name)
            n = sl.stop - sl.start
            for i in range(n):
                out[sl.start + i] = name if n == 1 else f"{name}[{i}]"
        return out

    def twice_nll(self, kl: float, init: np.ndarray | None = None) -> tuple[float, np.ndarray]:
        """-2 ln L at ``kl`` with the nuisance parameters profiled (best-fit parameters returned too)."""

        _use_backend(self.backend)
        cfg = self.model.config
        pars = np.array(cfg.suggested_init() if init is None else init, float)
        pars[list(self.coef_index)] = _basis.coefficients(self.basis, kl)
        fixed = list(cfg.suggested_fixed())
        for i in self.coef_index:
            fixed[i] = True
        best, val = pyhf.infer.mle.fit(self.data, self.model, init_pars=pars.tolist(), fixed_params=fixed,
                                       return_fitted_val=True)
        return float(val), np.asarray(best, float)

    def evaluator(self):
        """``pars -> -2 ln L`` without fitting (jit-compiled on the jax backend)."""

        _use_backend(self.backend)
        model, data = self.model, self.data

        def f(pars):
            return pyhf.infer.mle.twice_nll(pars, data, model)[0]

        if self.backend == "jax":
            f = jax.jit(f)
        return lambda pars: float(f(pyhf.tensorlib.astensor(np.asarray(pars, float))))

    def scan(self, kl: np.ndarray, kl_ref: float = 1.0) -> Scan:
        """-2 delta ln L at each ``kl``: fits warm-started from the neighbouring point; minimum from the scan and kl_ref."""
        vals, ref, _ = self._fits(np.asarray(kl, float), kl_ref)
        return Scan(self.name, "pyhf", self.f, np.asarray(kl, float), vals - min(ref, float(vals.min())))

    def _fits(self, kl: np.ndarray, kl_ref: float) -> tuple[np.ndarray, float, dict[float | int, np.ndarray]]:
        """-2 ln L at each kl and at kl_ref, and the best-fit parameters (keys: scan index, and 'ref')."""

        with threadpool_limits(1):
            ref, pars = self.twice_nll(kl_ref)
            order = np.argsort(np.abs(kl - kl_ref), kind="stable")  # walk outwards from the minimum
            vals = np.empty(len(kl))
            best: dict = {"ref": pars}
            for i in order:
                near = [j for j in (i - 1, i + 1) if j in best]
                vals[i], best[i] = self.twice_nll(kl[i], best[near[0]] if near else pars)
        return vals, ref, best


def separable(parts: Sequence[Likelihood], whole: Likelihood) -> bool:
    """True when the parts' free parameters are disjoint and all in ``whole``: then -2 ln L(whole) is the sum of
    the parts' at any fixed kl, and the profiled minimum of the whole is the sum of the parts' minima."""
    seen: set[str] = set()
    names = set(whole.parameters)
    for p in parts:
        free = {n for i, n in enumerate(p.parameters) if i not in p.coef_index}
        if free & seen or not free <= names:
            return False
        seen |= free
    return True


def category_scans(templates: Sequence[Templates], kl: np.ndarray, f: float = 0.0, mc_stat: bool = True,
                   kl_ref: float = 1.0, combined: str = "combined", backend: str = BACKEND) -> list[Scan]:
    """pyhf scans of each category and of their combination (in that order), one profile fit per kl.

    The categories share only the fixed signal coefficients, so the combined -2 ln L is the sum of the
    categories' and its profile fit profiles each category at once: each category's curve is its own
    model (built once) evaluated at the combined best-fit nuisance parameters. Identical to fitting each
    category alone up to the fit tolerance, at a quarter of the fits. Models that share a nuisance
    parameter are fitted one by one instead.
    """
    kl = np.asarray(kl, float)
    whole = Likelihood.build(templates, f=f, mc_stat=mc_stat, name=combined, backend=backend)
    parts = [Likelihood.build([t], f=f, mc_stat=mc_stat, name=t.category, backend=backend) for t in templates]
    if len(templates) == 1:  # the combination is the category itself
        one = parts[0].scan(kl, kl_ref)
        return [one, replace(one, category=combined)]
    if not separable(parts, whole):
        return [p.scan(kl, kl_ref) for p in parts] + [whole.scan(kl, kl_ref)]
    vals, ref, best = whole._fits(kl, kl_ref)
    where = {n: i for i, n in enumerate(whole.parameters)}
    out = []
    for p in parts:
        take = np.array([where[n] for n in p.parameters])
        nll = p.evaluator()
        v = np.array([nll(best[i][take]) for i in range(len(kl))])
        r = nll(best["ref"][take])
        out.append(Scan(p.name, "pyhf", f, kl, v - min(r, float(v.min()))))
    out.append(Scan(whole.name, "pyhf", f, kl, vals - min(ref, float(vals.min()))))
    return out


# --- intervals --------------------------------------------------------------------------------------------

def threshold(cl: float) -> float:
    """-2 delta ln L (or delta chi2) at confidence level ``cl`` for one parameter.

    >>> round(threshold(0.6827), 3), round(threshold(0.95), 2)
    (1.0, 3.84)
    """
    return float(_sps.chi2.ppf(cl, 1))


@dataclass(frozen=True)
class Interval:
    """Where the curve lies below the threshold: pieces (low, high); None marks an end open at the scan edge."""

    cl: float
    segments: tuple[tuple[float | None, float | None], ...]
    scan_range: tuple[float, float]

    @property
    def low(self) -> float | None:
        return self.segments[0][0] if self.segments else None

    @property
    def high(self) -> float | None:
        return self.segments[-1][1] if self.segments else None

    @property
    def closed(self) -> bool:
        return bool(self.segments) and self.low is not None and self.high is not None

    def __str__(self) -> str:
        if not self.segments:
            return "empty"
        lo = f"{self.low:.2f}" if self.low is not None else f"open (< {self.scan_range[0]:g})"
        hi = f"{self.high:.2f}" if self.high is not None else f"open (> {self.scan_range[1]:g})"
        gaps = f" ({len(self.segments)} pieces)" if len(self.segments) > 1 else ""
        return f"[{lo}, {hi}]{gaps}"


def interval(kl: np.ndarray, q: np.ndarray, cl: float = CLS[0]) -> Interval:
    """Interval(s) where ``q`` < threshold(cl), crossings found on a cubic spline through the scan.

    >>> k = np.linspace(-5, 5, 101)
    >>> str(interval(k, (k - 1.0) ** 2 / 4.0))
    '[-1.00, 3.00]'
    >>> str(interval(k, (k - 1.0) ** 2 / 100.0))
    '[open (< -5), open (> 5)]'
    """
    kl, q = np.asarray(kl, float), np.asarray(q, float)
    if len(kl) < 4 or np.any(np.diff(kl) <= 0):
        raise UserArgumentError("interval: expected at least 4 increasing kl points")
    thr = threshold(cl)
    below = q < thr
    spline = interpolate.CubicSpline(kl, q - thr)

    def crossing(i: int) -> float:
        roots = [r for r in spline.roots(extrapolate=False) if kl[i] <= r <= kl[i + 1]]
        if roots:
            return float(roots[0])
        return float(kl[i] + (thr - q[i]) * (kl[i + 1] - kl[i]) / (q[i + 1] - q[i]))  # linear fallback

    segments = []
    i = 0
    while i < len(kl):
        if not below[i]:
            i += 1
            continue
        j = i
        while j + 1 < len(kl) and below[j + 1]:
            j += 1
        lo = None if i == 0 else crossing(i - 1)
        hi = None if j == len(kl) - 1 else crossing(j)
        segments.append((lo, hi))
        i = j + 1
    return Interval(cl, tuple(segments), (float(kl[0]), float(kl[-1])))


def interval_table(intervals: dict[tuple[str, str], Interval], published: dict | None = None) -> pd.DataFrame:
    """Rows = networks, columns = categories, cells = interval text; with the published numbers beside them."""
    rows: dict[str, dict[str, str]] = {}
    for (network, category), iv in intervals.items():
        rows.setdefault(network, {})[category] = str(iv)
    out = pd.DataFrame(rows).T
    if published:
        for network, cats in published.items():
            for category, (lo, hi) in cats.items():
                if category in out.columns and network in out.index:
                    out.loc[network, f"{category} (published)"] = f"[{lo:g}, {hi:g}]"
        cats = [c for c in out.columns if "(published)" not in c]
        out = out[[x for c in cats for x in (c, f"{c} (published)") if x in out.columns]]
    return out


def _scan_one(args: tuple) -> Scan:
    group, kl, f, mc_stat, name, backend = args
    return Likelihood.build(group, f=f, mc_stat=mc_stat, name=name, backend=backend).scan(kl)


def profile_scans(groups: Sequence[Sequence[Templates]], kl: np.ndarray, f: float = 0.0, mc_stat: bool = True,
                  names: Sequence[str] | None = None, workers: int = 1, backend: str = BACKEND) -> list[Scan]:
    """pyhf scans of several category groups (e.g. each category and the combination), in ``workers`` processes.

    Each model is still built once; the largest groups are started first so two workers share the load.
    """
    names = list(names) if names is not None else ["+".join(t.category for t in g) for g in groups]
    jobs = [(list(g), np.asarray(kl, float), f, mc_stat, n, backend) for g, n in zip(groups, names)]
    if workers <= 1:
        return [_scan_one(j) for j in jobs]

    order = sorted(range(len(jobs)), key=lambda i: -sum(len(t.background) for t in jobs[i][0]))
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        done = dict(zip(order, pool.map(_scan_one, [jobs[i] for i in order])))
    return [done[i] for i in range(len(jobs))]
