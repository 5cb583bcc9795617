"""The kappa_lambda likelihood with systematic uncertainties: the pyhf workspace, fast profile scans, impacts.

Inputs are one ``VariedTemplates`` per category (``hhnb.studies.constraint_inputs``): per sample the nominal
m_hh histogram after the selection and, per variation source (``JES``, ``JER``, ``btag``, ...), the up and
down histograms, plus relative normalisation uncertainties per sample (cross sections). The workspace
(HistFactory, pyhf's JSON) has per category the background samples and the three signal basis samples
(``hhnb.studies.basis``), the signal scaled by normfactors ``c_kl<tag>`` fixed to the basis coefficients
c_i(kl) of the hypothesis, and these modifiers:

* per tree or weight variation, split into normalisation and shape (HistFactory's OverallSys + HistoSys,
  cabinetry's ``NormPlusShape``): ``normsys`` with hi/lo = sum(up)/sum(nominal), sum(down)/sum(nominal), and
  ``histosys`` with the up/down histograms scaled to the nominal sum; one parameter per source (same
  modifier name in every sample and category: correlated);
* ``normsys`` ``norm_<sample>`` per sample with its configured relative size (a cross section is the same in
  every category: correlated); the three basis samples share ``norm_signal``;
* ``staterror`` ``mcstat_<category>`` on the background samples: the MC statistical error per bin
  (Barlow-Beeston lite, one gamma per bin).

Three levels give the analyst's three rows: ``LEVELS`` = statistics only, + MC statistics, + all systematics.

The fits do not go through pyhf's minimiser: the categories share nuisance parameters, so each category's
curve needs its own profile fit at each kl, 4 x 201 fits per scan. ``CompiledModel`` evaluates -2 ln L of
the workspace in NumPy with its analytic gradient and Fisher-information Hessian (exact at the Asimov best
fit): the HistFactory expectation with pyhf's default interpolations (normsys code4, histosys code4p: smooth
at alpha = 0, so Newton steps and Hessians are well defined), Gaussian constraints, and Poisson terms
weighted by a per-bin mask, so one model gives any category or the combination. A damped Newton minimiser
runs the fits of all categories at one kl as one batch, walking outwards from kl = 1 with each point started
from its neighbour's best fit. The tests check -2 ln L and its Hessian against pyhf's own
``Model.logpdf`` and the curves against ``constraints.Likelihood`` (pyhf's fit).

Impacts (the ranking of the ATLAS/CMS "impact plot", the method of ``cabinetry.fit.ranking``): the fit with
kl free on the Asimov data at kl = 1 gives each nuisance parameter theta_j its post-fit uncertainty
sigma_j (Hessian of -2 ln L: cov = 2 H^-1); theta_j is then fixed at theta_j +- sigma_j and kl refitted with
the others profiled; the impact is the shift of the fitted kl. cabinetry's ranking needs the parameter of
interest to be a pyhf parameter, which the kl morphing is not, so its method is reproduced here; cabinetry's
fit (iminuit on the pyhf model) is the reference the tests hold the post-fit uncertainties (``postfit``) to.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

import numpy as np
import pandas as pd
from scipy.special import gammaln

from hhnb.config import lambdas as _lambdas
from hhnb.errors import BasisError, UserArgumentError
from hhnb.studies import basis as _basis
from hhnb.studies import constraint_inputs as _inputs
from hhnb.studies import constraints as _c

#: The three rows of the interval table: (name, MC statistics, systematics).
LEVELS: tuple[tuple[str, bool, bool], ...] = (("statistics only", False, False), ("+ MC statistics", True, False),
                                             ("+ all systematics", True, True))
ALL = LEVELS[-1][0]
SIGNAL = "signal"
_LOG_2PI = float(np.log(2 * np.pi))
_FACTOR_FLOOR = 1e-3  # a variation that empties a sample: normsys factor floored (log of the factor is taken)


class Histograms(Protocol):
    yields: np.ndarray
    variances: np.ndarray
    mc_events: np.ndarray


class Varied(Protocol):
    """What the likelihood reads of ``constraint_inputs.VariedTemplates`` (one category)."""

    category: str
    edges: np.ndarray
    basis: tuple[float, float, float]
    nominal: Mapping[str, Histograms]
    variations: Mapping[str, tuple[Mapping[str, Histograms], Mapping[str, Histograms]]]
    norm_uncertainties: Mapping[str, float]


def is_signal(sample: str) -> bool:
    return sample.startswith(f"{SIGNAL}_")


def signal_key(i: int) -> str:
    """The nominal-dict key of the i-th basis sample (interface of ``constraint_inputs``)."""
    return f"{SIGNAL}_{i}"


# --- splitting a variation into normalisation and shape ---------------------------------------------------

def split(nominal: np.ndarray, up: np.ndarray, down: np.ndarray) -> tuple[float, float, np.ndarray, np.ndarray]:
    """(normsys hi, normsys lo, histosys hi_data, lo_data): the rate change and the shape at the nominal rate.

    HistFactory's OverallSys + HistoSys split (cabinetry's ``NormPlusShape``): hi = sum(up) / sum(nominal),
    hi_data = up * sum(nominal) / sum(up); likewise for down. A pure normalisation change has hi_data = nominal.

    >>> hi, lo, h, d = split(np.array([10.0, 30.0]), np.array([12.0, 36.0]), np.array([10.0, 20.0]))
    >>> round(hi, 3), round(lo, 3), h.tolist(), d.tolist()
    (1.2, 0.75, [10.0, 30.0], [13.333333333333334, 26.666666666666668])
    """
    nominal, up, down = (np.asarray(a, float) for a in (nominal, up, down))
    total = nominal.sum()
    out: list[Any] = []
    shapes = []
    for v in (up, down):
        s = v.sum()
        out.append(float(max(s / total, _FACTOR_FLOOR)) if total > 0 else 1.0)
        shapes.append(v * total / s if s > 0 and total > 0 else nominal.copy())
    return out[0], out[1], shapes[0], shapes[1]


# --- empty background bins --------------------------------------------------------------------------------

def _rebin(h: Any, index: np.ndarray, n: int) -> Any:
    def agg(a: np.ndarray) -> np.ndarray:
        return np.bincount(index, weights=np.asarray(a, float), minlength=n)

    return replace(h, yields=agg(h.yields), variances=agg(h.variances),
                   mc_events=agg(h.mc_events).round().astype(int))


def rebin_to(v: Varied, edges: Sequence[float]) -> Varied:
    """``v`` in coarser ``edges`` (each a subset of ``v.edges``: merged neighbours), nominal and variations alike."""
    edges = np.asarray(edges, float)
    old = np.asarray(v.edges, float)
    if len(edges) == len(old) and np.allclose(edges, old):
        return v
    if not np.all(np.isin(np.round(edges, 9), np.round(old, 9))):
        raise BasisError(f"category {v.category!r}: bin edges {edges.tolist()} are not a merge of {old.tolist()}")
    index = np.searchsorted(edges, old[:-1], side="right") - 1
    n = len(edges) - 1

    def rebin_all(d: Mapping[str, Any]) -> dict[str, Any]:
        return {k: _rebin(h, index, n) for k, h in d.items()}

    return replace(v, edges=edges, nominal=rebin_all(v.nominal),
                   variations={s: (rebin_all(u), rebin_all(d)) for s, (u, d) in v.variations.items()})


def merge_empty(v: Varied, empty: str = "refuse") -> Varied:
    """Bins without nominal background MC events: refused, or merged (``constraints.check_background``'s rule)
    in the nominal and in every variation alike."""
    merged = _inputs.to_templates(v, empty)
    return rebin_to(v, merged.edges)


# --- the background from control regions ------------------------------------------------------------------

#: the sample that stands for the backgrounds estimated from control regions (``hhnb.studies.background``)
CR_BACKGROUND = "background_cr"


def with_cr_background(v: Varied, estimate: np.ndarray, variance: np.ndarray, nonclosure: float,
                       estimated: Sequence[str] | None = None) -> Varied:
    """``v`` with its backgrounds (``estimated``; None: all) replaced by one sample estimated from control
    regions: yields ``estimate`` (A_i = B C_i / D, ``hhnb.studies.background.cr_templates``) in ``v``'s bins,
    ``variance`` its data-like variance (the staterror), and the measured ``nonclosure`` as its normalisation
    uncertainty (``norm_background_cr``).

    An estimate from data moves with no detector variation: JES, JER and b-tagging act on the signal (and on
    the backgrounds still simulated) only, and the cross sections of the estimated samples drop out. Its
    ``mc_events`` are the effective counts A_i^2 / var_i, what a data-like error of that size stands for.

    >>> from hhnb.studies.constraint_inputs import SampleHistograms as H, VariedTemplates as V
    >>> one = lambda y: H(np.array(y, float), np.array(y, float), np.array(y, int))
    >>> v = V("c", np.array([0.0, 1.0, 2.0]), (0.0, 1.0, 2.45), {"qcd": one([9, 4]), "signal_0": one([1, 1])},
    ...       {"JES": ({"qcd": one([10, 4]), "signal_0": one([2, 1])}, {"qcd": one([8, 4]), "signal_0": one([1, 1])})},
    ...       {"qcd": 0.3})
    >>> c = with_cr_background(v, np.array([8.0, 5.0]), np.array([16.0, 25.0]), 0.1)
    >>> sorted(c.nominal), c.nominal[CR_BACKGROUND].mc_events.tolist(), c.norm_uncertainties
    (['background_cr', 'signal_0'], [4, 1], {'background_cr': 0.1})
    >>> sorted(c.variations["JES"][0])
    ['signal_0']
    """
    estimate, variance = np.asarray(estimate, float), np.asarray(variance, float)
    if estimate.shape != (len(v.edges) - 1,) or variance.shape != estimate.shape:
        raise BasisError(f"category {v.category!r}: the control-region estimate has {estimate.size} bins, "
                         f"the templates {len(v.edges) - 1}")

    def replaced(key: str) -> bool:
        return not is_signal(key) and (estimated is None or key in estimated)

    first = next(iter(v.nominal.values()))
    with np.errstate(divide="ignore", invalid="ignore"):
        n_eff = np.where(variance > 0, estimate**2 / variance, 0.0)
    cr = replace(first, yields=estimate, variances=variance, mc_events=np.round(n_eff).astype(int))
    nominal = {CR_BACKGROUND: cr, **{k: h for k, h in v.nominal.items() if not replaced(k)}}
    variations = {s: ({k: h for k, h in up.items() if not replaced(k)}, {k: h for k, h in down.items() if not replaced(k)})
                  for s, (up, down) in v.variations.items()}
    norms = {k: f for k, f in v.norm_uncertainties.items() if not replaced(k)}
    if nonclosure > 0:
        norms[CR_BACKGROUND] = float(nonclosure)
    return replace(v, nominal=nominal, variations=variations, norm_uncertainties=norms)


# --- the workspace ----------------------------------------------------------------------------------------

def _coef_names(basis: Sequence[float]) -> list[str]:
    return [f"c_kl{_lambdas.tag(b)}" for b in basis]


def level(name: str) -> tuple[bool, bool]:
    """(MC statistics, systematics) of a level of ``LEVELS``."""
    for n, mc, syst in LEVELS:
        if n == name:
            return mc, syst
    raise UserArgumentError(f"level {name!r}: expected one of {', '.join(n for n, _, _ in LEVELS)}")


def norm_name(sample: str) -> str:
    """The normsys of a sample's normalisation: one per background sample, one for the signal basis."""
    return f"norm_{SIGNAL}" if is_signal(sample) else f"norm_{sample}"


def workspace_spec(varied: Sequence[Varied], level_name: str = ALL, kl_asimov: float = 1.0,
                   sources: Sequence[str] | None = None) -> dict:
    """The HistFactory workspace (pyhf JSON) of the categories at one level of ``LEVELS``.

    ``sources``: the variation sources to include (None: all); the normalisation uncertainties come with the
    systematics level. Observations: the Asimov data at ``kl_asimov`` (nuisance parameters nominal).
    """
    mc_stat, syst = level(level_name)
    bases = {tuple(float(b) for b in v.basis) for v in varied}
    if len(bases) != 1:
        raise BasisError(f"categories use different bases {sorted(bases)}: expected one basis")
    basis = bases.pop()
    names = _coef_names(basis)
    channels, observations = [], []
    for v in varied:
        t = _inputs.to_templates(v, "refuse")  # the nominal, backgrounds summed; an empty background bin refused
        samples = []
        for key, h in v.nominal.items():
            nom = np.asarray(h.yields, float)
            if not is_signal(key) and not np.any(nom != 0):
                continue  # a background absent from this category after the selection
            mods: list[dict] = []
            if is_signal(key):
                i = int(key.split("_")[-1])
                mods.append({"name": names[i], "type": "normfactor", "data": None})
            if syst:
                for src, (up, down) in v.variations.items():
                    if (sources is not None and src not in sources) or key not in up:
                        continue  # not asked for, or a sample no variation moves (estimated from data)
                    hi, lo, hd, ld = split(nom, up[key].yields, down[key].yields)
                    mods.append({"name": src, "type": "normsys", "data": {"hi": hi, "lo": lo}})
                    mods.append({"name": src, "type": "histosys", "data": {"hi_data": hd.tolist(),
                                                                          "lo_data": ld.tolist()}})
                size = v.norm_uncertainties.get(key)
                if size:
                    mods.append({"name": norm_name(key), "type": "normsys",
                                 "data": {"hi": 1.0 + size, "lo": max(1.0 - size, _FACTOR_FLOOR)}})
            if mc_stat and not is_signal(key):
                mods.append({"name": f"mcstat_{v.category}", "type": "staterror",
                             "data": np.sqrt(np.asarray(h.variances, float)).tolist()})
            samples.append({"name": key, "data": nom.tolist(), "modifiers": mods})
        channels.append({"name": v.category, "samples": samples})
        observations.append({"name": v.category, "data": (t.background + t.signal_at(kl_asimov)[0]).tolist()})
    c_sm = _basis.coefficients(basis, kl_asimov)
    params = [{"name": n, "bounds": [[-1e4, 1e4]], "inits": [float(c)], "fixed": True} for n, c in zip(names, c_sm)]
    return {"version": "1.0.0", "channels": channels, "observations": observations,
            "measurements": [{"name": "kl_scan", "config": {"poi": names[0], "parameters": params}}]}


# --- -2 ln L in jax ---------------------------------------------------------------------------------------

#: pyhf's code4 (alpha0 = 1): polynomial coefficients a_1..a_6 from the values, slopes and curvatures at +-1.
_CODE4 = np.array([[15 / 16, -15 / 16, -7 / 16, -7 / 16, 1 / 16, -1 / 16],
                   [3 / 2, 3 / 2, -9 / 16, 9 / 16, 1 / 16, 1 / 16],
                   [-5 / 8, 5 / 8, 5 / 8, 5 / 8, -1 / 8, 1 / 8],
                   [3 / -2, 3 / -2, -7 / -8, 7 / -8, -1 / 8, -1 / 8],
                   [3 / 16, -3 / 16, -3 / 16, -3 / 16, 1 / 16, -1 / 16],
                   [1 / 2, 1 / 2, -5 / 16, 5 / 16, 1 / 16, 1 / 16]])


def code4_coefficients(log_hi: np.ndarray, log_lo: np.ndarray) -> np.ndarray:
    """The six polynomial coefficients of pyhf's normsys interpolation code4 (HistFactory's code 4), per
    (sample, parameter): factor(a) = 1 + sum_k c_k a^k for |a| < 1, matching hi^a and lo^-a in value, slope and
    curvature at a = +-1 (pyhf.interpolators.code4, alpha0 = 1).

    >>> c = code4_coefficients(np.log([[1.1]]), np.log([[0.9]]))
    >>> round(float(1 + c[:, 0, 0].sum()), 6)  # at a = 1: hi
    1.1
    """
    hi, lo = np.exp(log_hi), np.exp(log_lo)
    b = np.stack([hi - 1.0, lo - 1.0, log_hi * hi, -log_lo * lo, log_hi**2 * hi, log_lo**2 * lo])
    return np.einsum("rc,c...->r...", _CODE4, b)


@dataclass(frozen=True, eq=False)
class CompiledModel:
    """-2 ln L(kl, theta) of a workspace spec, with theta = (alphas of normsys/histosys, staterror gammas).

    Arrays over samples s (every (channel, sample) pair) and global bins (channels in pyhf's order, sorted by
    name): nominal N[s, bin]; normsys log-factors LHI, LLO[s, a]; histosys deltas DHI, DLO[a, s, bin];
    staterror membership SE[s] and per-bin relative errors; signal coefficient index of each sample.
    """

    channels: tuple[str, ...]
    channel_slices: dict[str, slice]
    basis: tuple[float, float, float]
    alphas: tuple[str, ...]
    gamma_names: tuple[str, ...]
    gamma_fixed: np.ndarray  # bins without a staterror (or with zero error): gamma fixed at 1
    data: np.ndarray
    nominal: np.ndarray
    lhi: np.ndarray
    llo: np.ndarray
    dhi: np.ndarray
    dlo: np.ndarray
    se: np.ndarray
    relerr: np.ndarray
    coef: np.ndarray  # (s,): basis index of a signal sample, -1 otherwise
    kl_asimov: float
    spec: dict

    @classmethod
    def from_spec(cls, spec: dict) -> CompiledModel:
        chans = sorted(spec["channels"], key=lambda c: c["name"])  # pyhf's channel order
        obs = {o["name"]: o["data"] for o in spec["observations"]}
        params = spec["measurements"][0]["config"]["parameters"]
        coef_names = [p["name"] for p in params if p["name"].startswith("c_kl")]
        basis = tuple(_lambdas.parse(n[len("c_kl"):]) for n in coef_names)
        c_init = np.array([p["inits"][0] for p in params if p["name"].startswith("c_kl")])
        slices, start = {}, 0
        for ch in chans:
            n = len(ch["samples"][0]["data"])
            slices[ch["name"]] = slice(start, start + n)
            start += n
        nbins = start
        alphas = sorted({m["name"] for ch in chans for s in ch["samples"] for m in s["modifiers"]
                         if m["type"] in ("normsys", "histosys")})
        aidx = {a: i for i, a in enumerate(alphas)}
        rows = [(ch, s) for ch in chans for s in ch["samples"]]
        ns, na = len(rows), len(alphas)
        nominal, lhi, llo = np.zeros((ns, nbins)), np.zeros((ns, na)), np.zeros((ns, na))
        dhi, dlo = np.zeros((na, ns, nbins)), np.zeros((na, ns, nbins))
        se, coef = np.zeros(ns), np.full(ns, -1)
        se_var, se_nom = np.zeros(nbins), np.zeros(nbins)
        for k, (ch, s) in enumerate(rows):
            sl = slices[ch["name"]]
            nom = np.asarray(s["data"], float)
            nominal[k, sl] = nom
            for m in s["modifiers"]:
                if m["type"] == "normsys":
                    lhi[k, aidx[m["name"]]] = np.log(m["data"]["hi"])
                    llo[k, aidx[m["name"]]] = np.log(m["data"]["lo"])
                elif m["type"] == "histosys":
                    dhi[aidx[m["name"]], k, sl] = np.asarray(m["data"]["hi_data"]) - nom
                    dlo[aidx[m["name"]], k, sl] = nom - np.asarray(m["data"]["lo_data"])
                elif m["type"] == "staterror":
                    se[k] = 1.0
                    se_var[sl] += np.asarray(m["data"], float) ** 2
                    se_nom[sl] += nom
                elif m["type"] == "normfactor":
                    coef[k] = coef_names.index(m["name"])
                else:
                    raise UserArgumentError(f"modifier type {m['type']!r} of {m['name']!r}: not supported here")
        with np.errstate(divide="ignore", invalid="ignore"):
            relerr = np.where(se_nom > 0, np.sqrt(se_var) / se_nom, 0.0)
        gamma_names = []
        for ch in chans:
            sl = slices[ch["name"]]
            names = [m["name"] for s in ch["samples"] for m in s["modifiers"] if m["type"] == "staterror"]
            for i in range(sl.stop - sl.start):
                gamma_names.append(f"{names[0]}[{i}]" if names else f"(none {ch['name']}[{i}])")
        data = np.concatenate([np.asarray(obs[ch["name"]], float) for ch in chans])
        kl_asimov = float(c_init @ np.asarray(basis))  # Lagrange coefficients reproduce kl itself exactly
        return cls(tuple(ch["name"] for ch in chans), slices, basis, tuple(alphas), tuple(gamma_names),
                   relerr <= 0, data, nominal, lhi, llo, dhi, dlo, se, np.where(relerr > 0, relerr, 1.0), coef,
                   kl_asimov, spec)

    # parameters: x = [alphas..., gammas...]; kl separate
    @property
    def n_alpha(self) -> int:
        return len(self.alphas)

    @property
    def npars(self) -> int:
        return len(self.alphas) + len(self.gamma_names)

    @property
    def parameters(self) -> list[str]:
        return [*self.alphas, *self.gamma_names]

    def nominal_pars(self) -> np.ndarray:
        return np.concatenate([np.zeros(self.n_alpha), np.ones(len(self.gamma_names))])

    def fixed_mask(self) -> np.ndarray:
        """Parameters the fits keep at their nominal value: gammas of bins without an MC statistical error."""
        return np.concatenate([np.zeros(self.n_alpha, bool), self.gamma_fixed])

    def mask(self, channel: str | None = None) -> np.ndarray:
        """Per-bin weights of the Poisson terms: one channel's bins (None: all channels)."""
        if channel is None:
            return np.ones(len(self.data))
        m = np.zeros(len(self.data))
        m[self.channel_slices[channel]] = 1.0
        return m

    def _pieces(self, x: np.ndarray, kl: np.ndarray):
        """Expected events nu (B, bins) and their derivatives: d nu / d alpha (B, A, bins), d nu / d gamma_b
        (B, bins: diagonal), d nu / d kl (B, bins). ``x`` (B, npars), ``kl`` (B,)."""
        x = np.atleast_2d(np.asarray(x, float))
        kl = np.broadcast_to(np.asarray(kl, float), (len(x),))
        na = self.n_alpha
        a, g = x[:, :na], np.where(self.gamma_fixed, 1.0, x[:, na:])
        A = a[:, None, :]  # (B, 1, A) against (S, A)
        # normsys, pyhf's code4: hi^a for a >= 1, lo^-a for a <= -1, a 6th-order polynomial between
        e_hi, e_lo = np.exp(A * self.lhi), np.exp(-A * self.llo)
        pw = np.stack([A**k for k in range(7)])  # a^0 .. a^6, (7, B, 1, A)
        poly = 1.0 + np.einsum("ksa,kbxa->bsa", self._poly4, pw[1:])
        dpoly = np.einsum("ksa,kbxa->bsa", self._poly4 * np.arange(1, 7)[:, None, None], pw[:-1])
        f = np.where(A >= 1.0, e_hi, np.where(A <= -1.0, e_lo, poly))
        df = np.where(A >= 1.0, self.lhi * e_hi, np.where(A <= -1.0, -self.llo * e_lo, dpoly))
        F = f.prod(-1)  # (B, S)
        with np.errstate(divide="ignore", invalid="ignore"):
            dF = np.where(f != 0, F[..., None] * df / f, 0.0)  # (B, S, A)
        # histosys, pyhf's code4p: linear beyond |a| = 1, a polynomial with continuous derivatives within
        a3 = a[:, :, None, None]
        t = a3**2 * (a3**2 * (3.0 * a3**2 - 10.0) + 15.0)
        dt = a3 * (18.0 * a3**4 - 40.0 * a3**2 + 30.0)
        inner, dinner = t * self._asym + a3 * self._sym, dt * self._asym + self._sym
        big = np.abs(a3) > 1.0
        delta_a = np.where(big, np.where(a3 > 1.0, a3 * self.dhi, a3 * self.dlo), inner)  # (B, A, S, bins)
        ddelta = np.where(big, np.where(a3 > 1.0, self.dhi, self.dlo), dinner)
        base = self.nominal + delta_a.sum(1)  # (B, S, bins)
        c, dc = _lagrange(self.basis, kl)  # (B, 3)
        sig = self.coef >= 0
        C = np.where(sig, c[:, np.maximum(self.coef, 0)], 1.0)  # (B, S)
        dC = np.where(sig, dc[:, np.maximum(self.coef, 0)], 0.0)
        G = np.where(self.se[:, None] > 0, g[:, None, :], 1.0)  # (B, S, bins)
        per = base * (F * C)[..., None] * G
        nu = per.sum(1)
        d_alpha = (np.einsum("zasn,zs,zsn->zan", ddelta, F * C, G)
                   + np.einsum("zsn,zsa->zan", base * C[..., None] * G, dF))
        d_gamma = np.where(self.gamma_fixed, 0.0, (base * (F * C)[..., None] * (self.se[:, None] > 0)).sum(1))
        d_kl = (base * (F * dC)[..., None] * G).sum(1)
        return nu, d_alpha, d_gamma, d_kl, a, g

    def __post_init__(self) -> None:
        object.__setattr__(self, "_poly4", code4_coefficients(self.lhi, self.llo))
        object.__setattr__(self, "_sym", 0.5 * (self.dhi + self.dlo))
        object.__setattr__(self, "_asym", 0.0625 * (self.dhi - self.dlo))
        object.__setattr__(self, "_const", gammaln(self.data + 1.0))

    def expected(self, x: np.ndarray, kl: float) -> np.ndarray:
        """Expected events per bin (channels in pyhf's order) at parameters ``x`` and ``kl``."""
        return self._pieces(np.asarray(x, float)[None], np.array([kl]))[0][0]

    def evaluate(self, x: np.ndarray, kl: np.ndarray, w: np.ndarray, joint: bool = False
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Batched -2 ln L, its gradient and its Fisher-information Hessian (exact where nu = data, e.g. at the
        Asimov best fit): over x (or over (kl, x) with ``joint``). ``w`` (B, bins): Poisson-term weights."""
        nu, d_alpha, d_gamma, d_kl, a, g = self._pieces(x, kl)
        n = self.data
        with np.errstate(divide="ignore", invalid="ignore"):
            logs = np.where(n > 0, n * np.log(np.maximum(nu, 1e-300)), 0.0)
            r = np.where(nu > 0, n / nu, np.inf) - 1.0
            fisher = w / np.maximum(nu, 1e-300)
        gfree = ~self.gamma_fixed
        relerr = self.relerr
        value = -2.0 * ((w * (logs - nu - self._const)).sum(-1) - 0.5 * (a**2).sum(-1) - 0.5 * self.n_alpha * _LOG_2PI
                        - np.where(gfree, 0.5 * ((g - 1.0) / relerr) ** 2 + np.log(relerr) + 0.5 * _LOG_2PI,
                                   0.0).sum(-1))
        nb = len(n)
        J = np.concatenate([d_alpha, d_gamma[:, None, :] * np.eye(nb)[None]], axis=1)  # (B, P, bins)
        if joint:
            J = np.concatenate([d_kl[:, None, :], J], axis=1)
        grad = -2.0 * np.einsum("bpn,bn->bp", J, w * r)
        hess = 2.0 * np.einsum("bpn,bn,bqn->bpq", J, fisher, J)
        cons_g = np.concatenate([2.0 * a, np.where(gfree, 2.0 * (g - 1.0) / relerr**2, 0.0)], axis=1)
        cons_h = np.concatenate([np.full(self.n_alpha, 2.0), np.where(gfree, 2.0 / relerr**2, 0.0)])
        if joint:
            cons_g = np.concatenate([np.zeros((len(a), 1)), cons_g], axis=1)
            cons_h = np.concatenate([[0.0], cons_h])
        grad = grad + cons_g
        hess = hess + np.eye(len(cons_h)) * cons_h
        return value, grad, hess

    def nll(self, x: np.ndarray, kl: float, w: np.ndarray | None = None) -> float:
        """-2 ln L at parameters ``x`` and ``kl`` (pyhf's ``-2 Model.logpdf``, constants included)."""
        w = self.mask() if w is None else np.asarray(w, float)
        return float(self.evaluate(np.asarray(x, float)[None], np.array([kl]), w[None])[0][0])


def _lagrange(basis: Sequence[float], kl: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The basis coefficients c_i(kl) and their derivatives, (B, 3) each."""
    b = np.asarray(basis, float)
    kl = np.asarray(kl, float)
    c = _basis.coefficients(b, kl)
    dc = np.zeros_like(c)
    for i in range(3):
        j, k = [m for m in range(3) if m != i]
        dc[:, i] = ((kl - b[j]) + (kl - b[k])) / ((b[i] - b[j]) * (b[i] - b[k]))
    return c, dc


def newton(f, x0: np.ndarray, fixed: np.ndarray, lower: np.ndarray | None = None, max_iter: int = 200,
           tol: float | np.ndarray = 1e-7) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Minimise a batch of functions with a damped Newton (Levenberg-Marquardt) method.

    ``f(x) -> (values (B,), gradients (B, n), Hessians (B, n, n))``; ``fixed`` (B, n) keeps entries at x0.
    A step is kept when it lowers the value, else the damping grows tenfold; a fit has converged when the
    Newton decrement g^T H^-1 g (in -2 ln L units) is below ``tol`` (one per fit, or one for all).
    Returns (minima, values, Hessians).
    """
    x = np.array(x0, float)
    fixed = np.broadcast_to(np.asarray(fixed, bool), x.shape)
    free = ~fixed
    v, g, h = f(x)
    if x.shape[1] == 0 or not free.any():
        return x, v, h
    lam = np.full(len(x), 1e-4)
    eye = np.eye(x.shape[1])
    done = np.zeros(len(x), bool)
    for _ in range(max_iter):
        free = ~fixed
        if lower is not None:  # a parameter at its bound, pushed outwards, is held there (projected Newton)
            free = free & ~((x <= lower + 1e-12) & (g > 0))
        gf = np.where(free, g, 0.0)
        hf = np.where(free[:, :, None] & free[:, None, :], h, 0.0) + eye * ~free[:, :, None]
        newton_step = np.linalg.solve(hf, gf[..., None])[..., 0]
        done |= np.abs(np.einsum("bi,bi->b", gf, newton_step)) < tol
        if done.all():
            break
        scale = np.abs(np.diagonal(hf, axis1=1, axis2=2))
        step = np.linalg.solve(hf + lam[:, None, None] * eye * scale[:, None, :], gf[..., None])[..., 0]
        xn = x - np.where(done[:, None], 0.0, step)
        if lower is not None:
            xn = np.maximum(xn, lower)
        vn, gn, hn = f(xn)
        ok = ~done & np.isfinite(vn) & (vn <= v + 1e-9 * np.maximum(1.0, np.abs(v)) * 1e-3)
        x = np.where(ok[:, None], xn, x)
        v, g, h = np.where(ok, vn, v), np.where(ok[:, None], gn, g), np.where(ok[:, None, None], hn, h)
        lam = np.where(ok, np.maximum(lam / 10, 1e-10), lam * 10)
        done |= lam > 1e8  # no step lowers the value any more: at the minimum within rounding
    return x, v, h


class Fitter:
    """Profile fits of a ``CompiledModel``: scans of every category and the combination, the free-kl fit.

    ``fixed``: parameter names kept at their nominal values (how the lower rows of the interval table are
    made from one model: statistics only = every nuisance parameter fixed)."""

    def __init__(self, model: CompiledModel, fixed: Sequence[str] = ()):
        self.model = model
        n = model.npars
        self.fixed = model.fixed_mask() | np.isin(np.array(model.parameters, dtype=object), list(fixed))
        self.lower = np.concatenate([np.full(model.n_alpha, -10.0), np.full(n - model.n_alpha, 1e-6)])

    def profile(self, kl: np.ndarray, masks: np.ndarray, kl_ref: float = 1.0) -> np.ndarray:
        """Profiled -2 ln L at each kl (increasing) for each mask: shape (masks, kl).

        The fits walk outwards from the point nearest ``kl_ref``, each started from its inner neighbour's best
        fit (a few Newton steps each), every mask and both directions in one batch."""
        kl = np.asarray(kl, float)
        masks = np.asarray(masks, float)
        m, k = len(masks), len(kl)
        out = np.empty((m, k))
        best = np.empty((m, k, self.model.npars))
        fixed1 = self.fixed

        def solve(idx: list[int], x0: np.ndarray, ref: np.ndarray | None = None) -> None:
            kb = np.repeat(kl[idx], m)
            wb = np.tile(masks, (len(idx), 1))
            fixed = np.tile(fixed1, (len(kb), 1))
            tol: float | np.ndarray = 1e-7
            if ref is not None:  # far from the minimum (q >> 1) a coarser fit does: 1e-6 of q
                v0 = self.model.evaluate(x0, kb, wb)[0]
                tol = np.maximum(1e-7, 1e-6 * (v0 - np.tile(ref, len(idx))))
            x, v, _ = newton(lambda x: self.model.evaluate(x, kb, wb), x0, fixed, lower=self.lower, tol=tol,
                             max_iter=50)
            for j, i in enumerate(idx):
                out[:, i] = v[j * m:(j + 1) * m]
                best[:, i] = x[j * m:(j + 1) * m]

        c = int(np.argmin(np.abs(kl - kl_ref)))
        solve([c], np.tile(self.model.nominal_pars(), (m, 1)))
        for t in range(1, k):
            idx = [i for i in (c - t, c + t) if 0 <= i < k]
            if not idx:
                break
            inner = [i + 1 if i < c else i - 1 for i in idx]
            solve(idx, np.concatenate([best[:, j] for j in inner]), out[:, c])
        return out

    def scans(self, kl: np.ndarray, categories: Sequence[str], combined: str = "combined", f: float = 0.0,
              kl_ref: float = 1.0, method: str = "pyhf") -> list[_c.Scan]:
        """-2 delta ln L of each category (its own profile fits) and of the combination, in that order."""
        kl = np.asarray(kl, float)
        masks = np.array([self.model.mask(c) for c in categories] + [self.model.mask()])
        grid = np.union1d(kl, [kl_ref])
        vals = self.profile(grid, masks, kl_ref)
        at, ref = np.searchsorted(grid, kl), int(np.searchsorted(grid, kl_ref))
        names = [*categories, combined]
        return [_c.Scan(n, method, f, kl, v[at] - min(v[ref], float(v[at].min()))) for n, v in zip(names, vals)]

    def fit_free(self, fix: Sequence[tuple[int, float]] = (), kl0: float | None = None,
                 w: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Best fit of (kl, theta) with kl free, then one fit per entry (parameter index, value) of ``fix`` with
        that parameter fixed there, all in one batch. Returns (best (B, 1 + n), Hessians)."""
        model = self.model
        base = np.concatenate([[model.kl_asimov if kl0 is None else kl0], model.nominal_pars()])
        fx0 = np.concatenate([[False], self.fixed])
        x0, fixed = [base], [fx0]
        for j, val in fix:
            x, fm = base.copy(), fx0.copy()
            x[1 + j], fm[1 + j] = val, True
            x0.append(x)
            fixed.append(fm)
        x0a, fixeda = np.array(x0), np.array(fixed)
        wb = np.tile(model.mask() if w is None else w, (len(x0a), 1))
        lower = np.concatenate([[-1e3], self.lower])
        best, _, h = newton(lambda z: model.evaluate(z[:, 1:], z[:, 0], wb, joint=True), x0a, fixeda, lower=lower)
        return best, h


def covariance(hessian: np.ndarray, fixed: np.ndarray) -> np.ndarray:
    """Covariance 2 H^-1 of the free parameters of a -2 ln L Hessian (fixed rows and columns zero)."""
    free = ~np.asarray(fixed, bool)
    cov = np.zeros_like(hessian)
    cov[np.ix_(free, free)] = 2.0 * np.linalg.inv(hessian[np.ix_(free, free)])
    return cov


def postfit(model: CompiledModel, fixed: Sequence[str] = ()) -> pd.DataFrame:
    """Best fit and Hessian uncertainty of every free nuisance parameter with kl fixed at the Asimov value (what
    ``cabinetry.fit.fit`` gives on the same pyhf model; the tests compare the two)."""
    fitter = Fitter(model, fixed)
    kb = np.array([model.kl_asimov])
    w = model.mask()[None]
    x, _, h = newton(lambda x: model.evaluate(x, kb, w), model.nominal_pars()[None], fitter.fixed[None],
                     lower=fitter.lower)
    cov = covariance(h[0], fitter.fixed)
    free = ~fitter.fixed
    names = np.array(model.parameters, dtype=object)
    return pd.DataFrame({"bestfit": x[0][free], "uncertainty": np.sqrt(np.diag(cov))[free]},
                        index=pd.Index(names[free], name="parameter"))


@dataclass(frozen=True)
class Impacts:
    """Per nuisance parameter: post-fit value and uncertainty, and the shift of the fitted kl when it is moved
    up and down by its post-fit uncertainty (others profiled), on the Asimov data."""

    table: pd.DataFrame  # index: parameter; columns: pull, constraint, impact up, impact down, impact
    kl_hat: float
    sigma_kl: float  # Hessian uncertainty of kl, everything profiled
    sigma_kl_stat: float  # with every nuisance parameter fixed (the statistical part)

    @property
    def total_systematic(self) -> float:
        """sqrt(sigma_kl^2 - sigma_kl,stat^2): what the nuisance parameters add in quadrature."""
        return float(np.sqrt(max(self.sigma_kl**2 - self.sigma_kl_stat**2, 0.0)))

    def top(self, n: int = 5) -> pd.DataFrame:
        return self.table.head(n)


def impacts(model: CompiledModel, parameters: Sequence[str] | None = None, fixed: Sequence[str] = ()) -> Impacts:
    """Impacts on kl of the nuisance parameters (default: every free one), ranked by the mean |shift|.

    The method of ``cabinetry.fit.ranking`` with kl as the parameter of interest: post-fit uncertainties from
    the Hessian of the free fit, then two refits per parameter (fixed at its best fit +- its uncertainty)."""
    fitter = Fitter(model, fixed)
    names = model.parameters
    best, h = fitter.fit_free()
    z, hz = best[0], h[0]
    fz = np.concatenate([[False], fitter.fixed])
    cov = covariance(hz, fz)
    sigma_kl = float(np.sqrt(cov[0, 0]))
    stat = float(np.sqrt(2.0 / hz[0, 0]))
    which = [i for i, n in enumerate(names) if not fitter.fixed[i] and (parameters is None or n in parameters)]
    sig = {i: float(np.sqrt(cov[1 + i, 1 + i])) for i in which}
    fix = [(i, z[1 + i] + s * sig[i]) for i in which for s in (+1.0, -1.0)]
    moved, _ = fitter.fit_free(fix)
    rows = []
    for k, i in enumerate(which):
        up, down = moved[1 + 2 * k, 0] - z[0], moved[2 + 2 * k, 0] - z[0]
        nominal = 0.0 if i < model.n_alpha else 1.0
        prefit = 1.0 if i < model.n_alpha else float(model.relerr[i - model.n_alpha])
        rows.append({"parameter": names[i], "pull": (z[1 + i] - nominal) / prefit, "constraint": sig[i] / prefit,
                     "impact up": float(up), "impact down": float(down),
                     "impact": 0.5 * (abs(float(up)) + abs(float(down)))})
    table = pd.DataFrame(rows, columns=["parameter", "pull", "constraint", "impact up", "impact down", "impact"])
    table = table.sort_values("impact", ascending=False, kind="stable").set_index("parameter")
    return Impacts(table, float(z[0]), sigma_kl, stat)


# --- what the analyst reads -------------------------------------------------------------------------------

def level_fixed(model: CompiledModel, level_name: str) -> list[str]:
    """The parameters a level of ``LEVELS`` keeps at their nominal values in the full model."""
    mc_stat, syst = level(level_name)
    return [n for i, n in enumerate(model.parameters)
            if (i < model.n_alpha and not syst) or (i >= model.n_alpha and not mc_stat)]


def level_scans(varied: Sequence[Varied], kl: np.ndarray, level_name: str = ALL, combined: str = "combined",
                kl_asimov: float = 1.0, model: CompiledModel | None = None) -> list[_c.Scan]:
    """Profile-likelihood scans of each category and of the combination at one level of ``LEVELS``: the full
    model with the parameters the level leaves out fixed at their nominal values (the same likelihood as the
    workspace built without them)."""
    model = model or CompiledModel.from_spec(workspace_spec(varied, ALL, kl_asimov))
    fitter = Fitter(model, level_fixed(model, level_name))
    return fitter.scans(kl, [v.category for v in varied], combined, method=f"pyhf, {level_name}")


def interval_rows(scans: Mapping[str, Sequence[_c.Scan]], cl: float = _c.CLS[0],
                  published: tuple[float, float] | None = _c.PUBLISHED_COMBINED_F003) -> pd.DataFrame:
    """One row per level, one column per category and the combination; the paper's combined interval with
    f = 0.3 % beside (arXiv:2004.04240)."""
    rows = {}
    for name, ss in scans.items():
        rows[name] = {s.category: str(s.interval(cl)) for s in ss}
    out = pd.DataFrame(rows).T
    out.index.name = "uncertainties"
    if published is not None:
        out["combined (published, f = 0.3 %)"] = f"[{published[0]:g}, {published[1]:g}]"
    return out


def all_levels(varied: Sequence[Varied], kl: np.ndarray, combined: str = "combined") -> dict[str, list[_c.Scan]]:
    """The scans of the three levels of ``LEVELS`` (one model)."""
    model = CompiledModel.from_spec(workspace_spec(varied, ALL))
    return {name: level_scans(varied, kl, name, combined, model=model) for name, _, _ in LEVELS}
