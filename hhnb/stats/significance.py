"""Significance formulas (docs/physics.md section 4)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hhnb.errors import InputFileError, UserArgumentError


def s_over_sqrt_b(s: float | np.ndarray, b: float | np.ndarray) -> np.ndarray:
    """Simple significance s / sqrt(b).

    >>> float(s_over_sqrt_b(50.0, 100.0))
    5.0
    """
    s, b = np.asarray(s, float), np.asarray(b, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b > 0, s / np.sqrt(b), 0.0)


def asimov_z(s: float | np.ndarray, b: float | np.ndarray, sigma_b: float | np.ndarray = 0.0) -> np.ndarray:
    """Median discovery significance of the Asimov data set (Cowan, Cranmer, Gross, Vitells 2011, Eq. 97).

    With ``sigma_b`` (absolute background uncertainty) the profiled form is used.

    >>> round(float(asimov_z(50.0, 100.0, 7.0)), 2)
    3.72
    >>> round(float(asimov_z(50.0, 100.0)), 3)
    4.652
    """
    s, b, sb = (np.asarray(x, float) for x in (s, b, sigma_b))
    s, b, sb = np.broadcast_arrays(s, b, sb)
    out = np.zeros(np.broadcast(s, b).shape)
    ok = (b > 0) & (s >= 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        sb2 = sb**2
        plain = 2 * ((s + b) * np.log1p(s / b) - s)
        with_unc = 2 * (
            (s + b) * np.log((s + b) * (b + sb2) / (b**2 + (s + b) * sb2))
            - (b**2 / sb2) * np.log1p(sb2 * s / (b * (b + sb2)))
        )
        z2 = np.where(sb2 > 0, with_unc, plain)
    out[ok] = np.sqrt(np.clip(z2[ok], 0.0, None))
    return out


# --- Monte Carlo statistics, cut choice on one set of events, quote with a bootstrap on another -------------



DEFAULT_MIN_BKG_MC = 10  # simulated background events required at the cut
DEFAULT_N_CUTS = 50  # coarse threshold grid: few thresholds, so the choice has little room to tune on noise
DEFAULT_N_BOOT = 400


def mc_error(weight: np.ndarray) -> float:
    """Monte Carlo statistical error of a weighted yield, sqrt(sum w^2) (e.g. Barlow & Beeston 1993).

    >>> mc_error(np.array([3.0, 4.0]))
    5.0
    """
    return float(np.sqrt(np.sum(np.square(np.asarray(weight, float)))))


def background_sigma(b: float | np.ndarray, sumw2_b: float | np.ndarray, rel_unc: float = 0.0) -> np.ndarray:
    """Total absolute background uncertainty: MC statistics sqrt(sum w^2) and ``rel_unc`` x b in quadrature.

    This is the sigma_b of the Asimov significance (Cowan et al. 2011, Eq. 20 ff.).

    >>> float(background_sigma(100.0, 24.0, 0.05))
    7.0
    """
    b, s2 = np.asarray(b, float), np.asarray(sumw2_b, float)
    return np.sqrt(np.clip(s2, 0.0, None) + (rel_unc * b) ** 2)


@dataclass(frozen=True)
class Yields:
    """Weighted yields passing ``score >= cut`` for each cut: s, b, sum w^2 of b, simulated event counts."""

    cuts: np.ndarray
    s: np.ndarray
    b: np.ndarray
    sumw2_b: np.ndarray
    n_sig_mc: np.ndarray
    n_bkg_mc: np.ndarray


def yields(score: np.ndarray, is_signal: np.ndarray, weight: np.ndarray, cuts: np.ndarray) -> Yields:
    """Signed weighted yields above each cut (vectorised: one sort, cumulative sums, a search per cut).

    >>> y = yields(np.array([0.1, 0.5, 0.9, 0.7]), np.array([0, 0, 1, 1], bool), np.array([2.0, 3, 1, 1]),
    ...            np.array([0.0, 0.6]))
    >>> y.s.tolist(), y.b.tolist(), y.sumw2_b.tolist(), y.n_bkg_mc.tolist()
    ([2.0, 2.0], [5.0, 0.0], [13.0, 0.0], [2, 0])
    """
    score = np.asarray(score, float)
    sig = np.asarray(is_signal, bool)
    w = np.asarray(weight, float)
    cuts = np.atleast_1d(np.asarray(cuts, float))
    order = np.argsort(score, kind="stable")
    sc, sg, ww = score[order], sig[order], w[order]

    def above(v: np.ndarray) -> np.ndarray:
        tail = np.concatenate([np.cumsum(v[::-1])[::-1], [0]])  # tail[i] = sum over sorted events i..end
        return tail[np.searchsorted(sc, cuts, side="left")]

    return Yields(cuts, above(np.where(sg, ww, 0.0)), above(np.where(sg, 0.0, ww)),
                  above(np.where(sg, 0.0, ww * ww)), above(sg.astype(np.int64)).astype(int),
                  above((~sg).astype(np.int64)).astype(int))


def cut_grid(score: np.ndarray, is_signal: np.ndarray, n: int = DEFAULT_N_CUTS) -> np.ndarray:
    """A coarse grid of thresholds: the signal score's quantiles at efficiencies 0.98 down to 0.02.

    Spacing by signal efficiency puts thresholds where the signal is, whatever the score's scale
    (probability or log-ratio discriminant).

    >>> cut_grid(np.linspace(0, 1, 101), np.ones(101, bool), n=3).round(2).tolist()
    [0.02, 0.5, 0.98]
    """
    s = np.asarray(score, float)[np.asarray(is_signal, bool)]
    if len(s) == 0:
        raise InputFileError("no signal events to build the cut grid from")
    return np.unique(np.quantile(s, 1.0 - np.linspace(0.98, 0.02, n)))


@dataclass(frozen=True)
class CutChoice:
    """The cut chosen on the choose-on events: the grid, Z and simulated background counts per threshold."""

    cut: float
    index: int
    cuts: np.ndarray
    z: np.ndarray  # Asimov Z with MC statistics and rel_unc in sigma_b; 0 where the cut is not allowed
    n_bkg_mc: np.ndarray
    min_bkg_mc: int
    rel_unc: float


def choose_cut(score: np.ndarray, is_signal: np.ndarray, weight: np.ndarray, cuts: np.ndarray | None = None,
               rel_unc: float = 0.0, min_bkg_mc: int = DEFAULT_MIN_BKG_MC, n_cuts: int = DEFAULT_N_CUTS) -> CutChoice:
    """The threshold of maximum Asimov Z (sigma_b = MC statistics + ``rel_unc`` x b) with at least
    ``min_bkg_mc`` simulated background events passing. Give it events the quoted numbers do not use.

    >>> rng = np.random.default_rng(1)
    >>> sc = np.r_[rng.normal(2, 1, 2000), rng.normal(0, 1, 20000)]
    >>> c = choose_cut(sc, np.r_[np.ones(2000, bool), np.zeros(20000, bool)], np.ones(22000), min_bkg_mc=10)
    >>> 1.5 < c.cut < 4.0, int(c.n_bkg_mc[c.index]) >= 10
    (True, True)
    """
    grid = cut_grid(score, is_signal, n_cuts) if cuts is None else np.asarray(cuts, float)
    y = yields(score, is_signal, weight, grid)
    z = asimov_z(np.clip(y.s, 0, None), y.b, background_sigma(y.b, y.sumw2_b, rel_unc))
    allowed = (y.n_bkg_mc >= min_bkg_mc) & (y.b > 0)
    if not allowed.any():
        raise InputFileError(f"no threshold keeps {min_bkg_mc} simulated background events "
                         f"(at most {int(y.n_bkg_mc.max(initial=0))}): lower min_bkg_mc or simulate more background")
    z = np.where(allowed, z, 0.0)
    i = int(np.argmax(z))
    return CutChoice(float(grid[i]), i, grid, z, y.n_bkg_mc, int(min_bkg_mc), float(rel_unc))


@dataclass(frozen=True)
class Significance:
    """Z, s and b at a fixed cut with their bootstrap errors, and the Monte Carlo statistics behind b.

    ``z`` has sigma_b = sqrt(sum w_b^2 (MC statistics) + (rel_unc b)^2); ``z_no_mc`` only rel_unc x b.
    ``*_error`` are bootstrap standard deviations; ``z_interval`` the bootstrap 16-84 % percentiles.
    """

    cut: float
    z: float
    z_error: float
    z_interval: tuple[float, float]
    z_no_mc: float
    z_no_mc_error: float
    s: float
    s_error: float
    b: float
    b_error: float
    b_mc_error: float  # sqrt(sum w^2) of the background passing
    n_sig_mc: int
    n_bkg_mc: int
    s_over_sqrt_b: float
    rel_unc: float
    n_boot: int
    seed: int

    @property
    def b_rel_mc_error(self) -> float:
        """Relative Monte Carlo error of the background estimate, sqrt(sum w^2) / b."""
        return self.b_mc_error / self.b if self.b > 0 else float("inf")

    def line(self) -> str:
        """One printable line: Z +- error (and without MC statistics), s, b, simulated background events."""
        return (f"Z = {self.z:.3g} +- {self.z_error:.2g} (MC stat. in sigma_b; without: {self.z_no_mc:.3g} "
                f"+- {self.z_no_mc_error:.2g}), s = {self.s:.4g} +- {self.s_error:.2g}, b = {self.b:.4g} "
                f"+- {self.b_error:.2g} (MC {100 * self.b_rel_mc_error:.0f} %), simulated background events "
                f"{self.n_bkg_mc}")


def poisson_bootstrap(weight: np.ndarray, n_boot: int, seed: int, chunk: int = 2_000_000) -> tuple[np.ndarray,
                                                                                                      np.ndarray]:
    """Bootstrap replicas of sum w and sum w^2: each event enters Poisson(1) times (Hanley & MacGibbon 2006).

    The Poisson bootstrap is the large-sample form of resampling N events with replacement and lets
    the events failing a cut be ignored. Vectorised over replicas, in chunks of events.

    >>> sw, sw2 = poisson_bootstrap(np.full(2500, 2.0), 1000, seed=1)  # sum w = 5000, error 2 sqrt(2500)
    >>> round(float(sw.mean() / 5000), 2), round(float(sw.std() / 100), 1)
    (1.0, 1.0)
    """
    w = np.asarray(weight, float)
    rng = np.random.default_rng(seed)
    sw, sw2 = np.zeros(n_boot), np.zeros(n_boot)
    step = max(1, chunk // max(n_boot, 1))
    for i in range(0, len(w), step):
        part = w[i:i + step]
        k = rng.poisson(1.0, size=(n_boot, len(part))).astype(float)
        sw += k @ part
        sw2 += k @ (part * part)
    return sw, sw2


def quote(score: np.ndarray, is_signal: np.ndarray, weight: np.ndarray, cut: float, rel_unc: float = 0.0,
          n_boot: int = DEFAULT_N_BOOT, seed: int = 1) -> Significance:
    """Z (Asimov, with MC statistics in sigma_b), s and b for ``score >= cut`` with bootstrap errors.

    Weights must already stand for the full luminosity (``metrics.luminosity_weights``).

    >>> sig = np.r_[np.ones(50, bool), np.zeros(400, bool)]
    >>> q = quote(np.ones(450), sig, np.r_[np.ones(50), np.full(400, 0.25)], 0.5, n_boot=200)
    >>> q.s, q.b, q.b_mc_error, q.n_bkg_mc, round(q.z_no_mc, 2), round(q.z, 2)
    (50.0, 100.0, 5.0, 400, 4.65, 4.1)
    """
    score = np.asarray(score, float)
    sig = np.asarray(is_signal, bool)
    w = np.asarray(weight, float)
    passed = score >= cut
    ws, wb = w[passed & sig], w[passed & ~sig]
    s, b, sumw2 = float(ws.sum()), float(wb.sum()), float(np.sum(wb * wb))
    bs, _ = poisson_bootstrap(ws, n_boot, seed)
    bb, bb2 = poisson_bootstrap(wb, n_boot, seed + 1_000_003)
    bs = np.clip(bs, 0.0, None)
    zb = asimov_z(bs, bb, background_sigma(bb, bb2, rel_unc))
    zb0 = asimov_z(bs, bb, rel_unc * bb)
    lo, hi = np.percentile(zb, [15.865, 84.135])
    return Significance(
        cut=float(cut), z=float(asimov_z(max(s, 0.0), b, background_sigma(b, sumw2, rel_unc))),
        z_error=float(zb.std(ddof=1)) if n_boot > 1 else float("nan"), z_interval=(float(lo), float(hi)),
        z_no_mc=float(asimov_z(max(s, 0.0), b, rel_unc * b)),
        z_no_mc_error=float(zb0.std(ddof=1)) if n_boot > 1 else float("nan"),
        s=s, s_error=float(bs.std(ddof=1)) if n_boot > 1 else float("nan"), b=b,
        b_error=float(bb.std(ddof=1)) if n_boot > 1 else float("nan"), b_mc_error=float(np.sqrt(sumw2)),
        n_sig_mc=int(len(ws)), n_bkg_mc=int(len(wb)), s_over_sqrt_b=float(s_over_sqrt_b(s, b)),
        rel_unc=float(rel_unc), n_boot=int(n_boot), seed=int(seed))


@dataclass(frozen=True)
class SignificanceResult:
    """A cut chosen on one set of events and the numbers quoted at it on another."""

    choice: CutChoice
    quoted: Significance
    chosen_on: int  # events the cut was chosen on
    quoted_on: int  # events the numbers are quoted on


def scaled_weights(weight: np.ndarray, sample: np.ndarray | None, mask: np.ndarray) -> np.ndarray:
    """Weights of the events in ``mask``, scaled per sample so they carry the whole sample's yield.

    >>> scaled_weights(np.ones(4), np.array(["a", "a", "b", "b"]), np.array([True, False, True, True])).tolist()
    [2.0, 1.0, 1.0]
    """
    w = np.asarray(weight, float)
    mask = np.asarray(mask, bool)
    if sample is None:
        tot, part = w.sum(), w[mask].sum()
        return w[mask] * (tot / part if part != 0 else 0.0)
    sample = np.asarray(sample).astype(str)
    out = np.zeros_like(w)
    for name in np.unique(sample):
        m = sample == name
        tot, part = w[m].sum(), w[m & mask].sum()
        out[m & mask] = w[m & mask] * (tot / part if part != 0 else 0.0)
    return out[mask]


def significance(score: np.ndarray, is_signal: np.ndarray, weight: np.ndarray, choose_on: np.ndarray,
                 quote_on: np.ndarray, sample: np.ndarray | None = None, rel_unc: float = 0.0,
                 min_bkg_mc: int = DEFAULT_MIN_BKG_MC, n_cuts: int = DEFAULT_N_CUTS, n_boot: int = DEFAULT_N_BOOT,
                 seed: int = 1) -> SignificanceResult:
    """Choose the cut on the ``choose_on`` events, quote Z, s, b with bootstrap errors on the ``quote_on`` ones.

    Each subset's weights are scaled per ``sample`` to the full yield (so both stand for the full
    luminosity). The two masks must not overlap: a number quoted on the events it was tuned on is biased.
    """
    score = np.asarray(score, float)
    sig = np.asarray(is_signal, bool)
    choose_on, quote_on = np.asarray(choose_on, bool), np.asarray(quote_on, bool)
    if (choose_on & quote_on).any():
        raise UserArgumentError(f"{int((choose_on & quote_on).sum())} events are both in the choose-on and the quote-on "
                         "set: the cut must be chosen on other events than those it is quoted on")
    for name, m in (("choose-on", choose_on), ("quote-on", quote_on)):
        if not (m & sig).any() or not (m & ~sig).any():
            raise InputFileError(f"the {name} events need both signal and background")
    choice = choose_cut(score[choose_on], sig[choose_on], scaled_weights(weight, sample, choose_on),
                        rel_unc=rel_unc, min_bkg_mc=min_bkg_mc, n_cuts=n_cuts)
    q = quote(score[quote_on], sig[quote_on], scaled_weights(weight, sample, quote_on), choice.cut, rel_unc,
              n_boot, seed)
    return SignificanceResult(choice, q, int(choose_on.sum()), int(quote_on.sum()))


def merged_weights(rows: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Signed weights with identical rows merged: the first row of each group carries the group's summed weight,
    the others 0.

    Only the sum of the weights at a point of phase space is physical (docs/physics.md, section 7): a pair
    (x, +w), (x, -w) weighs 0, so a draw by |weight| never picks it and a shuffle never moves it.

    >>> merged_weights(np.array([[1.0, 5], [2, 6], [1, 5], [3, 7], [3, 7]]), np.array([1.0, 2, 0.5, 4, -4])).tolist()
    [1.5, 2.0, 0.0, 0.0, 0.0]
    """
    rows = np.asarray(rows, float).reshape(len(weight), -1)
    _, first, inverse = np.unique(rows, axis=0, return_index=True, return_inverse=True)
    out = np.zeros(len(rows))
    out[first] = np.bincount(inverse.ravel(), weights=np.asarray(weight, float), minlength=len(first))
    return out
