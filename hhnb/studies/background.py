"""The background from control regions as the background of the quoted numbers: Z and kappa_lambda.

A 4b analysis never takes its multijet background from simulation: it estimates it from the data of control
regions (:mod:`hhnb.studies.abcd`, A_est = B x C / D). This module puts that estimate where the analyst's numbers
are made, beside the simulated (MC-based) background, both labelled.


Which backgrounds the regions estimate (``estimated``): by default all of them. Data in the regions hold every
background, so B, C and D measured in data count the multijet and the ttbar events together; ATLAS's resolved
search (arXiv:2301.03212) likewise models both with one data-driven estimate. ``estimated=MULTIJET`` estimates only
the multijet samples and keeps ttbar from simulation with its MC error: at the toy's size that MC error alone
keeps the pyhf interval open (the ttbar simulation has a few hundred events per category), so it is the variant,
not the headline.

* **Significance** (:func:`quote`): at a score cut, in the signal region (SR), s from the signal simulation,
  b = the ABCD estimate + the backgrounds not estimated (from simulation). sigma_b, in quadrature:
  the estimate's error as if B, C, D were data counts at the luminosity (:meth:`abcd.Estimate.data_like_error`),
  the measured non-closure |A_est / A_true - 1| on the simulation times the estimate (a normalisation
  systematic, as the analyses take the non-closure of a validation region, e.g. ATLAS arXiv:1804.06174
  section 6), and the MC error sqrt(sum w^2) of the other backgrounds. Z is the Asimov Z with sigma_b
  (Cowan, Cranmer, Gross, Vitells 2011, :func:`hhnb.stats.significance.asimov_z`); its error is a Poisson
  bootstrap of the simulated events (the estimate, the non-closure and the signal re-made in each replica).
  The MC-based Z of the same events (b = all simulated background in the SR, sigma_b = its MC error) is
  returned beside it.
* **The kappa_lambda likelihood** (:func:`cr_templates`, :func:`chi2_scan`, :func:`pyhf_scan`): one category's
  :class:`~hhnb.studies.constraints.Templates` whose estimated background in m_hh bin i is
  A_i = B x C_i / D: the shape of the control region's *passing* events (C_i), normalised by the SR's failing
  events over the CR's (B / D). The shape comes from the CR's passing events, not from B (the SR's failing
  events) nor from the simulation: the network takes m_hh as an input, so the score cut reshapes the
  m_hh spectrum, and C_i has passed the same cut; and data would give C_i, not the simulation's SR shape. Its
  variance is the data-like one, A_i^2 (1 / B + 1 / C_i + 1 / D) (B and D, the failing events, are large, so the
  bins are nearly independent, as the per-bin staterror of pyhf assumes). The non-closure enters as the
  background normalisation uncertainty ``f`` of :func:`hhnb.studies.constraints.workspace_spec` and of the
  study's chi2, scaled to the whole background of the category (non-closure x estimated share), one per category.

Plain data in, plain data out; nothing here trains or reads files.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import pyhf

from hhnb.errors import InputFileError
from hhnb.stats import significance as _sig
from hhnb.studies import abcd, constraints

MULTIJET = abcd.MULTIJET
#: which backgrounds come from the control regions: ``None`` = every background sample (what data in the regions
#: holds: multijet and ttbar together), or the names of the samples (e.g. :data:`MULTIJET`, ttbar from simulation)
ALL = None
#: lower edge of a normsys' down variation when the non-closure reaches 100 % (pyhf needs lo > 0)
MIN_NORMSYS_LO = 1e-3


def data_like_variance(b: float | np.ndarray, c: float | np.ndarray, d: float | np.ndarray) -> np.ndarray:
    """Variance of B x C / D when B, C and D are independent Poisson counts (first order; 0 where C = 0).

    var = (B C / D)^2 (1 / B + 1 / C + 1 / D) (propagation of errors, e.g. Barlow, Statistics, section 4.3).

    >>> float(data_like_variance(400.0, 100.0, 400.0))  # 100^2 x (1/400 + 1/100 + 1/400)
    150.0
    """
    b, c, d = (np.asarray(x, float) for x in (b, c, d))
    with np.errstate(divide="ignore", invalid="ignore"):
        est = b * c / d
        out = est**2 * (1.0 / b + 1.0 / c + 1.0 / d)
    return np.where(c > 0, out, 0.0)


def _estimated(sample: np.ndarray, estimated: Sequence[str] | None) -> np.ndarray:
    """Which events' background the control regions estimate (every one when ``estimated`` is None)."""
    sample = np.asarray(sample).astype(str)
    return np.ones(len(sample), bool) if estimated is None else np.isin(sample, list(estimated))


# --- the significance -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CRSignificance:
    """Z at a cut with the background from control regions (headline) and from simulation (beside).

    Yields are weighted, at the luminosity, in the signal region and passing the cut. ``*_error`` of Z, s and b
    are Poisson-bootstrap standard deviations of the simulated events.
    """

    cut: float
    region: str
    s: float
    s_error: float
    estimated: float  # ABCD estimate B x C / D
    estimated_data_error: float  # B, C, D as data counts at the luminosity
    closure: float  # estimate / simulated truth
    closure_error: float
    nonclosure: float  # relative systematic on the estimate (measured |closure - 1| unless given)
    other: float  # the other backgrounds (simulation)
    other_mc_error: float
    b: float  # the estimate + the backgrounds not estimated (other)
    sigma_b: float  # data-like, non-closure, other MC, in quadrature
    z: float
    z_error: float
    z_stat: float  # the same without the non-closure: what the control regions' statistics alone allow
    z_stat_error: float
    b_mc: float  # all background from simulation (same events)
    b_mc_error: float  # its sqrt(sum w^2)
    z_mc: float
    z_mc_error: float
    n_estimated_mc: dict[str, int]  # simulated events of the estimated samples in A, B, C, D
    n_boot: int

    @property
    def s_over_sqrt_b(self) -> float:
        return float(_sig.s_over_sqrt_b(self.s, self.b))

    def line(self) -> str:
        """One printable line with both backgrounds, labelled."""
        return (f"Z (background from control regions) = {self.z:.3g} +- {self.z_error:.2g}: s = {self.s:.4g}, "
                f"b = {self.b:.4g} +- {self.sigma_b:.2g} (data-like CR {self.estimated_data_error:.2g}, non-closure "
                f"{100 * self.nonclosure:.0f} %; without it Z = {self.z_stat:.3g}); "
                f"Z (MC background) = {self.z_mc:.3g} +- {self.z_mc_error:.2g}: "
                f"b = {self.b_mc:.4g} +- {self.b_mc_error:.2g} (MC)")


def _z(s: np.ndarray, mj: np.ndarray, mj_var: np.ndarray, f: np.ndarray, other: np.ndarray,
       other_w2: np.ndarray) -> np.ndarray:
    sigma = np.sqrt(np.clip(mj_var, 0.0, None) + (f * mj) ** 2 + np.clip(other_w2, 0.0, None))
    return _sig.asimov_z(np.clip(s, 0.0, None), mj + other, sigma)


def quote(score: np.ndarray, is_signal: np.ndarray, sample: np.ndarray, weight: np.ndarray, m1: np.ndarray,
          m2: np.ndarray, cut: float, region: str = "box", estimated: Sequence[str] | None = ALL,
          nonclosure: float | None = None, n_boot: int = _sig.DEFAULT_N_BOOT, seed: int = 1) -> CRSignificance:
    """Z at ``score >= cut`` in the signal region with the background from the control regions.

    Give it the events the numbers are quoted on, with weights at the luminosity. ``nonclosure``: the relative
    systematic of the estimate; None takes the measured one, |closure - 1| on these simulated events.

    >>> rng = np.random.default_rng(3)
    >>> n = 200_000
    >>> m1, m2 = rng.uniform(60, 180, n), rng.uniform(60, 180, n)
    >>> sig = np.arange(n) < 2000
    >>> m1[sig], m2[sig] = 120.0, 120.0
    >>> score = np.where(sig, 0.9, rng.uniform(size=n))
    >>> q = quote(score, sig, np.where(sig, "hh", "qcd_4b"), np.where(sig, 0.05, 1.0), m1, m2, cut=0.8,
    ...           n_boot=50)
    >>> round(q.s, 1), abs(q.closure - 1) < 3 * q.closure_error, abs(q.b / q.b_mc - 1) < 0.1
    (100.0, True, True)
    """
    score, w = np.asarray(score, float), np.asarray(weight, float)
    sig = np.asarray(is_signal, bool)
    mj = _estimated(sample, estimated) & ~sig
    if not mj.any():
        raise InputFileError(f"no background events of samples {', '.join(estimated or ())} to estimate from "
                             "control regions")
    sr, cr = abcd.regions(m1, m2, region)
    passed = score >= cut
    est = abcd.estimate(score[mj], np.asarray(m1)[mj], np.asarray(m2)[mj], w[mj], cut, region)
    masks = {"s": sig & sr & passed, "A": mj & sr & passed, "B": mj & sr & ~passed, "C": mj & cr & passed,
             "D": mj & cr & ~passed, "other": ~sig & ~mj & sr & passed}
    sums = {k: float(w[m].sum()) for k, m in masks.items()}
    w2 = {k: float((w[m] ** 2).sum()) for k, m in masks.items()}
    boot = {k: _sig.poisson_bootstrap(w[m], n_boot, seed + 7919 * i) for i, (k, m) in enumerate(masks.items())}

    def numbers(y: dict, y2: dict) -> tuple:
        with np.errstate(divide="ignore", invalid="ignore"):
            mjest = y["B"] * y["C"] / y["D"]
            clos = mjest / y["A"]
        f = np.abs(clos - 1.0) if nonclosure is None else np.full_like(np.asarray(mjest, float), nonclosure)
        var = data_like_variance(y["B"], y["C"], y["D"])
        z = _z(np.asarray(y["s"]), np.asarray(mjest), var, f, np.asarray(y["other"]), np.asarray(y2["other"]))
        zstat = _z(np.asarray(y["s"]), np.asarray(mjest), var, 0.0, np.asarray(y["other"]), np.asarray(y2["other"]))
        zmc = _sig.asimov_z(np.clip(y["s"], 0.0, None), y["A"] + y["other"], np.sqrt(y2["A"] + y2["other"]))
        return mjest, var, f, z, zstat, zmc

    mjest, var, f, z, zstat, zmc = numbers(sums, w2)
    _, _, _, zb, zstatb, zmcb = numbers({k: v[0] for k, v in boot.items()}, {k: v[1] for k, v in boot.items()})
    ok = np.isfinite(zb) & np.isfinite(zmcb) & np.isfinite(zstatb)

    def sd(x: np.ndarray) -> float:
        return float(np.std(x[ok], ddof=1)) if ok.sum() > 1 else float("nan")

    b = float(mjest) + sums["other"]
    sigma_b = float(np.sqrt(float(var) + (float(f) * float(mjest)) ** 2 + w2["other"]))
    return CRSignificance(
        cut=float(cut), region=region, s=sums["s"], s_error=sd(boot["s"][0]), estimated=float(mjest),
        estimated_data_error=float(np.sqrt(var)), closure=est.closure, closure_error=est.closure_error,
        nonclosure=float(f), other=sums["other"], other_mc_error=float(np.sqrt(w2["other"])), b=b, sigma_b=sigma_b,
        z=float(z), z_error=sd(zb), z_stat=float(zstat), z_stat_error=sd(zstatb), b_mc=sums["A"] + sums["other"],
        b_mc_error=float(np.sqrt(w2["A"] + w2["other"])),
        z_mc=float(zmc), z_mc_error=sd(zmcb), n_estimated_mc={k: int(masks[k].sum()) for k in "ABCD"},
        n_boot=int(n_boot))


def quote_scores(scores: pd.DataFrame, cut: float, region: str = "box", estimated: Sequence[str] | None = ALL,
                 nonclosure: float | None = None, n_boot: int = _sig.DEFAULT_N_BOOT, seed: int = 1,
                 score: str = "score_sig") -> CRSignificance:
    """:func:`quote` on a scores table's quote-on events, as evaluate quotes its Z: the test events that did not
    choose the cut (``is_test`` and not ``is_val``), weights scaled per sample to the full luminosity."""
    for col in (score, "is_test", "is_val", "label", "weight", "sample", "h1_M", "h2_M"):
        if col not in scores:
            raise InputFileError(f"scores table has no column {col!r}: the control-region estimate needs the masses "
                                 "h1_M and h2_M and the test / validation flags")
    quote_on = scores["is_test"].to_numpy(bool) & ~scores["is_val"].to_numpy(bool)
    sample = scores["sample"].astype(str).to_numpy()
    w = _sig.scaled_weights(scores["weight"].to_numpy(float), sample, quote_on)
    q = scores[quote_on]
    return quote(q[score].to_numpy(float), q["label"].to_numpy() == 0, sample[quote_on], w, q["h1_M"].to_numpy(float),
                 q["h2_M"].to_numpy(float), cut, region, estimated, nonclosure, n_boot, seed)


# --- the kappa_lambda templates ---------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class CRTemplates:
    """One category's templates with the background from control regions, and what went into it.

    ``templates`` is the MC-based ``mc`` with its background replaced (signal untouched); ``f`` is the
    normalisation uncertainty of that whole background that the estimate's non-closure amounts to.
    """

    templates: constraints.Templates
    mc: constraints.Templates
    estimate: abcd.Estimate  # over all m_hh: yields, closure
    estimated: np.ndarray  # A_i = B C_i / D per m_hh bin (before any merging)
    estimated_var: np.ndarray  # data-like
    estimated_true: np.ndarray  # the simulated SR-pass events of the estimated samples per bin (per-bin closure)
    other: np.ndarray  # the other backgrounds (simulation) per bin
    nonclosure: float
    f: float

    @property
    def category(self) -> str:
        return self.templates.category

    def table(self) -> pd.DataFrame:
        """Per m_hh bin: the CR estimate, its data-like error, the simulated truth it estimates, the backgrounds
        not estimated (before any merging of empty bins)."""
        labels = [f"[{lo:g}, {hi:g})" for lo, hi in zip(self.mc.edges[:-1], self.mc.edges[1:])]
        return pd.DataFrame({"category": self.category, "m_hh bin [GeV]": labels,
                             "estimate (CR)": self.estimated, "data-like error": np.sqrt(self.estimated_var),
                             "simulated": self.estimated_true, "not estimated (MC)": self.other})


def cr_templates(mc: constraints.Templates, background: pd.DataFrame, cut: float = constraints.CUT,
                 estimated: Sequence[str] | None = ALL, nonclosure: float | None = None, score: str = "score_sig",
                 empty: str = "merge") -> CRTemplates:
    """``mc`` (built by :func:`hhnb.studies.constraints.build_templates` from ``background`` at ``cut``) with its
    background (``estimated``: every sample by default) taken from the control regions (box regions: the
    templates' signal region).

    ``background``: the background events the MC templates were made of (weights at the luminosity, columns
    ``sample``, ``weight``, the score, ``m_hh``, ``h1_M``, ``h2_M``). ``nonclosure``: None takes the measured
    |closure - 1|. Bins left without simulated events behind them are merged (``empty``, as the constraints'
    :func:`~hhnb.studies.constraints.check_background`).

    >>> rng = np.random.default_rng(2)
    >>> n = 60_000
    >>> bkg = pd.DataFrame({"sample": "qcd_4b", "weight": 1.0, "score_sig": rng.uniform(size=n),
    ...                     "h1_M": rng.uniform(60, 180, n), "h2_M": rng.uniform(60, 180, n),
    ...                     "m_hh": rng.uniform(250, 450, n)})
    >>> sig = [pd.DataFrame({"weight": [1.0], "score_sig": [1.0], "h1_M": [120.0], "h2_M": [120.0],
    ...                      "m_hh": [300.0]})] * 3
    >>> t = constraints.build_templates("resolved", [250, 350, 450], bkg, sig, (0.0, 1.0, 2.45), cut=0.75)
    >>> c = cr_templates(t, bkg, cut=0.75)
    >>> bool(np.allclose(c.templates.background, c.estimated_true, rtol=0.15)), round(c.f, 3) == round(c.nonclosure, 3)
    (True, True)
    """
    edges = np.asarray(mc.edges, float)
    w = background["weight"].to_numpy(float)
    mhh = background["m_hh"].to_numpy(float)
    is_mj = _estimated(background["sample"].to_numpy(), estimated)
    if not is_mj.any():
        raise InputFileError(f"category {mc.category!r}: no background events of samples "
                             f"{', '.join(estimated or ())} to estimate from control regions")
    m1, m2 = background["h1_M"].to_numpy(float), background["h2_M"].to_numpy(float)
    sr, cr = abcd.regions(m1, m2, "box")
    passed = background[score].to_numpy(float) >= cut
    est = abcd.estimate(background[score].to_numpy(float)[is_mj], m1[is_mj], m2[is_mj], w[is_mj], cut, "box")
    y = est.yields
    c_i, _ = np.histogram(mhh[is_mj & cr & passed], edges, weights=w[is_mj & cr & passed])
    c_mc, _ = np.histogram(mhh[is_mj & cr & passed], edges)
    a_i = y["B"] * c_i / y["D"]
    var_i = data_like_variance(y["B"], c_i, y["D"])
    true_i, _ = np.histogram(mhh[is_mj & sr & passed], edges, weights=w[is_mj & sr & passed])
    oth = ~is_mj & sr & passed
    o_i, _ = np.histogram(mhh[oth], edges, weights=w[oth])
    o_var, _ = np.histogram(mhh[oth], edges, weights=w[oth] ** 2)
    o_mc, _ = np.histogram(mhh[oth], edges)
    f_mj = abs(est.closure - 1.0) if nonclosure is None else float(nonclosure)
    total = float((a_i + o_i).sum())
    f = f_mj * float(a_i.sum()) / total if total > 0 else 0.0
    t = replace(mc, background=a_i + o_i, background_var=var_i + o_var,
                background_mc=(c_mc + o_mc).astype(int), merged=())
    t = constraints.check_background(t, empty)
    return CRTemplates(t, mc, est, a_i, var_i, true_i, o_i, float(f_mj), float(f))


def chi2_scan(crs: Sequence[CRTemplates], kl: np.ndarray, kl_ref: float = 1.0, name: str | None = None,
              nonclosure: bool = True) -> constraints.Scan:
    """The study's chi2 summed over the categories, each with its own background normalisation uncertainty f
    (the non-closure; ``nonclosure=False``: f = 0, the statistics alone). ``Scan.f`` is the largest f."""
    kl = np.asarray(kl, float)
    fs = [c.f if nonclosure else 0.0 for c in crs]
    q = sum(constraints.chi2_scan([c.templates], kl, f=f, kl_ref=kl_ref).q for c, f in zip(crs, fs))
    return constraints.Scan(name or "+".join(c.category for c in crs), "chi2", max(fs), kl, np.asarray(q, float))


def workspace_spec(crs: Sequence[CRTemplates], mc_stat: bool = True, nonclosure: bool = True,
                   kl_asimov: float = 1.0) -> dict:
    """:func:`hhnb.studies.constraints.workspace_spec` of the CR templates, each category's background normsys
    set to its own f (1 +- f; the down variation kept above ``MIN_NORMSYS_LO``); staterror: the data-like CR
    variance plus the other backgrounds' MC variance."""
    spec = constraints.workspace_spec([c.templates for c in crs], f=1.0, mc_stat=mc_stat, kl_asimov=kl_asimov)
    fs = {c.category: (c.f if nonclosure else 0.0) for c in crs}
    for channel in spec["channels"]:
        for sample in channel["samples"]:
            if sample["name"] != "background":
                continue
            f = fs[channel["name"]]
            mods = [m for m in sample["modifiers"] if m["type"] != "normsys"]
            if f > 0:
                mods.insert(0, {"name": f"bkg_norm_{channel['name']}", "type": "normsys",
                                "data": {"hi": 1.0 + f, "lo": max(1.0 - f, MIN_NORMSYS_LO)}})
            sample["modifiers"] = mods
    return spec


def likelihood(crs: Sequence[CRTemplates], name: str | None = None, mc_stat: bool = True,
               nonclosure: bool = True, backend: str = constraints.BACKEND) -> constraints.Likelihood:
    """The pyhf model of :func:`workspace_spec`, as a :class:`hhnb.studies.constraints.Likelihood` (its scan)."""
    spec = workspace_spec(crs, mc_stat=mc_stat, nonclosure=nonclosure)
    if pyhf.get_backend()[0].name != "numpy":  # built on numpy, as constraints.Likelihood.build does
        pyhf.set_backend("numpy")
    ws = pyhf.Workspace(spec)
    model = ws.model()
    coefs = [p["name"] for p in spec["measurements"][0]["config"]["parameters"]]
    idx = tuple(model.config.par_slice(n).start for n in coefs)
    f = max((c.f if nonclosure else 0.0) for c in crs)
    return constraints.Likelihood(model, np.asarray(ws.data(model), float), crs[0].templates.basis, idx,
                                  name or "+".join(c.category for c in crs), f, backend)


def pyhf_scan(crs: Sequence[CRTemplates], kl: np.ndarray, kl_ref: float = 1.0, name: str | None = None,
              mc_stat: bool = True, nonclosure: bool = True) -> constraints.Scan:
    """-2 delta ln L of kappa_lambda with the CR background (Asimov data at ``kl_ref``), nuisances profiled."""
    return likelihood(crs, name, mc_stat, nonclosure).scan(np.asarray(kl, float), kl_ref)
