"""Toy HH->bbbb events and their backgrounds (QCD 4b, QCD 2b2j, ttbar) at candidate level.

Each event has two Higgs candidates, each made of two jets. Signal candidates are
real Higgs bosons from a 2->2 system whose m_hh follows the calibrated spectrum of
``hhnb.toy.physics``; QCD is 2->2 scattering in slices of leading-jet pT; ttbar decays
t -> b W, W -> q q' or l nu and keeps the four leading jets. Every hard system recoils
against the same initial-state-radiation model; met_Et is the neutrinos' (semileptonic b/c
decays, leptonic W) plus a soft term (physics.md section 6). Jets are smeared, b-tagged and
sorted into the resolved/intermediate/boosted categories by the number of large-R (merged)
candidates. Backgrounds are importance-sampled towards the signal-like region, with weights.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import vector
from scipy import integrate
from scipy import stats as _st

from hhnb import layout
from hhnb.errors import UserArgumentError
from hhnb.toy import nlo, physics

# Detector: b-jet energy response (neutrinos in b decays) and resolution, b-tagging.
B_RESPONSE = 0.94
BTAG_EFF = {"b": 0.80, "c": 0.35, "l": 0.10}
SMALL_R_PT, SMALL_R_ETA = 40.0, 2.5
LARGE_R_PT, LARGE_R_ETA, LARGE_R_DR = 250.0, 2.0, 1.0
CATEGORIES = ("resolved", "intermediate", "boosted")

# Systematic variations (docs/physics.md, "Systematic variations"). Jet energy scale: the total ATLAS
# uncertainty for central jets, 5 % at 20 GeV falling to 1 % for 250 GeV - 2 TeV (arXiv:2007.02645),
# as sqrt(JES_CONSTANT^2 + (JES_LOW_PT_GEV / pT)^2); jet energy resolution: ATLAS measures it to
# (24 +- 1.5) % at 20 GeV and (6 +- 0.5) % at 300 GeV, i.e. to 6-8 % of itself: JER_RELATIVE. Both grow
# linearly beyond |eta| = FORWARD_ETA to 1 + FORWARD_GROWTH at |eta| = SMALL_R_ETA (the toy's assumption
# for the eta-intercalibration, which the paper shows as larger forward). b-tagging: the b-jet efficiency
# scale factors are measured to 1-8 % depending on pT (arXiv:1907.05120; BTAG_SF_B per pT bin, largest at
# the lowest and highest pT); c and light mistag scale factors carry the toy's round values BTAG_SF_MISTAG.
TREE_SYSTEMATICS = layout.TOY_TREE_SYSTEMATICS
JES_CONSTANT, JES_LOW_PT_GEV, JES_MIN_PT_GEV = 0.01, 0.98, 20.0
JER_RELATIVE = 0.07
FORWARD_ETA, FORWARD_GROWTH = 1.2, 0.5
BTAG_SF_PT_EDGES_GEV = (30.0, 40.0, 60.0, 85.0, 110.0, 140.0, 175.0, 250.0, 600.0)
BTAG_SF_B = (0.08, 0.04, 0.02, 0.015, 0.01, 0.01, 0.015, 0.03, 0.06, 0.08)
BTAG_SF_MISTAG = {"c": 0.10, "l": 0.20}


def _p4(px, py, pz, E):
    return vector.array({"px": px, "py": py, "pz": pz, "E": E})


def _from_pt_y(pt, y, phi, mass):
    mt = np.sqrt(pt**2 + mass**2)
    return _p4(pt * np.cos(phi), pt * np.sin(phi), mt * np.sinh(y), mt * np.cosh(y))


def two_body(parent, m1, m2, costh, rng):
    """Decay ``parent`` into daughters of masses m1, m2 at polar angle ``costh`` in its rest frame."""
    M = parent.mass
    lam = np.clip((M**2 - (m1 + m2) ** 2) * (M**2 - (m1 - m2) ** 2), 0.0, None)
    p = np.sqrt(lam) / (2 * M)
    phi = rng.uniform(-np.pi, np.pi, len(M))
    sinth = np.sqrt(1 - costh**2)
    px, py, pz = p * sinth * np.cos(phi), p * sinth * np.sin(phi), p * costh
    d1 = _p4(px, py, pz, np.sqrt(p**2 + m1**2)).boost_p4(parent)
    d2 = _p4(-px, -py, -pz, np.sqrt(p**2 + m2**2)).boost_p4(parent)
    return d1, d2


def smear_jet(jet, flavour_is_b, rng):
    """Detector jet: pT response and stochastic + constant resolution, small angular smearing."""
    pt = jet.pt
    sigma = np.sqrt((1.2 / np.sqrt(np.maximum(pt, 1.0))) ** 2 + 0.10**2)
    scale = np.where(flavour_is_b, B_RESPONSE, 0.99) * rng.normal(1.0, sigma)
    scale = np.clip(scale, 0.2, None)
    eta = jet.eta + rng.normal(0.0, 0.02, len(pt))
    phi = jet.phi + rng.normal(0.0, 0.02, len(pt))
    return vector.array({"pt": pt * scale, "eta": eta, "phi": phi, "mass": jet.mass * scale})


def _forward(eta: np.ndarray) -> np.ndarray:
    """1 for |eta| < FORWARD_ETA, rising linearly to 1 + FORWARD_GROWTH at |eta| = SMALL_R_ETA (and beyond)."""
    return 1.0 + FORWARD_GROWTH * np.clip((np.abs(eta) - FORWARD_ETA) / (SMALL_R_ETA - FORWARD_ETA), 0.0, 1.0)


def jes_uncertainty(pt: np.ndarray, eta: np.ndarray) -> np.ndarray:
    """Relative jet-energy-scale uncertainty of a jet (pT in GeV): 5 % at 20 GeV, 1 % at high pT, central.

    >>> jes_uncertainty(np.array([20.0, 100.0, 500.0, 100.0, 1.0]), np.array([0.0, 0.0, 0.0, 2.5, 0.0])).round(4).tolist()
    [0.05, 0.014, 0.0102, 0.021, 0.05]
    """
    pt = np.maximum(np.asarray(pt, float), JES_MIN_PT_GEV)  # below 20 GeV (no calibration there): the 20 GeV value
    return np.sqrt(JES_CONSTANT**2 + (JES_LOW_PT_GEV / pt) ** 2) * _forward(eta)


def jer_uncertainty(pt: np.ndarray, eta: np.ndarray) -> np.ndarray:
    """Relative uncertainty of the jet energy resolution itself (0.07: sigma known to 7 % of sigma), central.

    >>> jer_uncertainty(np.array([50.0, 50.0]), np.array([0.0, 2.5])).round(3).tolist()
    [0.07, 0.105]
    """
    return JER_RELATIVE * _forward(eta) * np.ones_like(np.asarray(pt, float))


def vary_jets(syst: str, sign: float, jets: list, visible: list) -> list:
    """The four detector jets under one variation (``sign`` +1 up, -1 down); no random number is drawn.

    JES: every jet's four-momentum scaled by 1 + sign * u(pT, eta) (a coherent shift, one nuisance
    parameter). JER, the scaling method (CMS, JINST 12 (2017) P02014, for jets matched to a particle-level
    jet): the jet's deviation from its mean response 0.99 x the visible particle-level pT grows by
    1 + sign * d(pT, eta): up widens, down narrows the resolution, event by event.
    """
    return [vector.array({"pt": j.pt * k, "eta": j.eta, "phi": j.phi, "mass": j.mass * k})
            for j, k in ((j, _jet_factor(syst, sign, j.pt, j.eta, v.pt)) for j, v in zip(jets, visible))]


def _jet_factor(syst: str, sign: float, pt: np.ndarray, eta: np.ndarray, visible_pt: np.ndarray) -> np.ndarray:
    """The factor a variation multiplies a jet's four-momentum by (:func:`vary_jets`)."""
    if syst == "JES":
        return 1.0 + sign * jes_uncertainty(pt, eta)
    if syst == "JER":
        ref = 0.99 * visible_pt
        return (ref + (pt - ref) * (1.0 + sign * jer_uncertainty(pt, eta))) / pt
    raise UserArgumentError(f"unknown jet variation {syst!r}: expected one of {', '.join(TREE_SYSTEMATICS)}")


@dataclass(frozen=True)
class _P4:
    """Plain arrays of a four-momentum's pT, eta, phi and mass (what _reconstruct reads)."""

    pt: np.ndarray
    eta: np.ndarray
    phi: np.ndarray
    mass: np.ndarray

    @staticmethod
    def of(px: np.ndarray, py: np.ndarray, pz: np.ndarray, e: np.ndarray) -> _P4:
        pt = np.hypot(px, py)
        return _P4(pt, np.arcsinh(pz / np.maximum(pt, 1e-300)), np.arctan2(py, px),
                   np.sqrt(np.maximum(e**2 - pt**2 - pz**2, 0.0)))


def btag_sf_uncertainty(pt: np.ndarray, flavour: np.ndarray) -> np.ndarray:
    """Relative uncertainty of a jet's b-tagging scale factor: b jets by pT bin (1-8 %), c and light jets flat.

    >>> btag_sf_uncertainty(np.array([25.0, 100.0, 700.0, 100.0, 100.0]), np.array(list("bbbcl"))).tolist()
    [0.08, 0.01, 0.08, 0.1, 0.2]
    """
    b = _BTAG_SF_B[np.searchsorted(_BTAG_SF_EDGES, np.asarray(pt, float), side="right")]
    return np.where(flavour == "b", b, np.where(flavour == "c", BTAG_SF_MISTAG["c"], BTAG_SF_MISTAG["l"]))


_BTAG_SF_B, _BTAG_SF_EDGES = np.asarray(BTAG_SF_B), np.asarray(BTAG_SF_PT_EDGES_GEV)


def btag_sf_weights(jets: list, flavour: np.ndarray, tag: np.ndarray, sign: float) -> np.ndarray:
    """Per-event weight (relative to the nominal) with every scale factor moved by ``sign`` sigma.

    A tagged jet contributes SF = 1 + sign * delta, an untagged one (1 - SF eff) / (1 - eff) with its
    flavour's efficiency (BTAG_EFF): the standard per-jet event weight of b-tagging calibrations, which
    keeps the tagged plus untagged probability at one.
    """
    return _BtagWeights(flavour, tag)(np.stack([j.pt for j in jets]))[0 if sign > 0 else 1]


class _BtagWeights:
    """:func:`btag_sf_weights` up and down for one set of flavours and tags, at any jet pT (4, n)."""

    def __init__(self, flavour: np.ndarray, tag: np.ndarray):
        self.is_b, self.tagged = flavour == "b", tag > 0
        is_c = flavour == "c"
        self.eff = np.where(self.is_b, BTAG_EFF["b"], np.where(is_c, BTAG_EFF["c"], BTAG_EFF["l"]))
        self.mistag = np.where(is_c, BTAG_SF_MISTAG["c"], BTAG_SF_MISTAG["l"])

    def __call__(self, pt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        delta = np.where(self.is_b, _BTAG_SF_B[np.searchsorted(_BTAG_SF_EDGES, pt, side="right")], self.mistag)
        out = []
        for sign in (1.0, -1.0):
            sf = 1.0 + sign * delta
            out.append(np.where(self.tagged, sf, (1.0 - sf * self.eff) / (1.0 - self.eff)).prod(axis=0))
        return out[0], out[1]


def _powerlaw(lo, hi, index, n, rng):
    """Draw from x^-index on [lo, hi]."""
    a = 1.0 - index
    u = rng.random(n)
    return (lo**a + u * (hi**a - lo**a)) ** (1.0 / a)


# Initial-state radiation: the hard system recoils against it. One model for every process,
# pT ~ Gamma(2, scale) (peak at the scale, long tail); gluon-initiated processes radiate alike,
# ttbar (gg and qq) slightly more (physics.md section 6).
ISR_SCALE_GEV = {"hh": 25.0, "qcd_4b": 23.0, "qcd_2b2j": 23.0, "ttbar": 28.0}
# Semileptonic b (and c) decays: the fraction of jets holding a neutrino and its momentum
# fraction x ~ Beta(2, 9) (mean 0.18): the mean b-jet response (1 - 0.33 * 0.18 = 0.94) and the
# genuine missing transverse momentum of an all-hadronic final state (physics.md section 6).
NU_FRACTION = {"b": 0.33, "c": 0.20, "l": 0.0}
SOFT_MET_GEV = 12.0  # soft, unclustered term per transverse component
M_TOP, W_TOP, M_W, W_W = 172.5, 1.4, 80.4, 2.1
BR_W_HAD = 0.676
# Importance sampling of the backgrounds (issue 12): b-tag probabilities the generator uses
# instead of BTAG_EFF, the window the masses are pulled towards, and the prescale of events
# outside the signal-like region. Event weights p/q restore the physical distributions.
# b-tagging is importance-sampled per jet kind (_flavour_tag): a non-b jet is tagged with
# BTAG_BIAS_FACTOR times its physical probability (at most BTAG_Q_MAX), and its flavour is drawn
# given the tag, so every tagged non-b jet of a kind carries one weight whatever its flavour.
# The candidate masses are drawn, for MASS_BIAS_FRACTION of the events, from the
# physical (gamma) density times a smooth window (plateau MASS_WINDOW_GEV): the proposal is then
# the physical density times a constant on the plateau, so events there carry one weight (_qcd_masses);
# candidates too soft to merge (the resolved category) use the wider MASS_WINDOW_WIDE_GEV. Preselected
# events with fewer than three b-tags are kept with probability PRESCALE, events failing the
# selection cuts (preselected()) with PRESCALE_UNSELECTED; the kept ones carry 1 / that probability.
CHARM_FRACTION = {"b": 0.0, "c": 1.0, "l": 0.0, "q": 0.15, "w": 0.5}  # q: QCD light/gluon jet; w: W -> qq'
BTAG_BIAS_FACTOR = 4.0
BTAG_Q_MAX = 0.7
BTAG_BIASED = {"b": BTAG_EFF["b"]} | {k: min(BTAG_BIAS_FACTOR * (pc * BTAG_EFF["c"] + (1 - pc) * BTAG_EFF["l"]),
                                           BTAG_Q_MAX) for k, pc in CHARM_FRACTION.items() if k != "b"}
MASS_WINDOW_GEV = (80.0, 190.0)  # plateau of the true candidate masses the proposal favours
MASS_WINDOW_WIDE_GEV = (60.0, 240.0)  # ... for candidates too soft to merge (pT < LARGE_R_PT)
MASS_WINDOW_EDGE_GEV = 5.0
MASS_BIAS_FRACTION = 0.6
PRESCALE = 0.25  # preselected, fewer than three b-tags (the networks train on them)
PRESCALE_UNSELECTED = 0.1  # failing the selection cuts (no network sees them)


def recoil(process: str, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Transverse momentum (GeV) and azimuth of the initial-state radiation the hard system recoils against."""
    return rng.gamma(2.0, ISR_SCALE_GEV[process], n), rng.uniform(-np.pi, np.pi, n)


def _boost_system(parts, pt, phi):
    """Give the system of ``parts`` the transverse momentum ``pt`` along ``phi`` (mass and rapidity kept)."""
    system = parts[0]
    for p in parts[1:]:
        system = system + p
    target = _from_pt_y(pt, system.rapidity, phi, system.mass)
    return [p.boostCM_of_p4(system).boost_p4(target) for p in parts]


def _system_signal(kl, n, rng):
    mhh, wfac = physics.sample_mhh_biased(kl, n, rng)
    pt, phi = recoil("hh", n, rng)
    system = _from_pt_y(pt, rng.normal(0, 1.1, n), phi, mhh)
    m1 = np.full(n, physics.M_H)
    return system, m1, m1.copy(), rng.uniform(-1, 1, n), wfac


_QCD_MASS = ((4.0, 28.0), (4.0, 27.0))


def _window_shape(m, window=None):
    """Smooth window (0..1) in one true candidate mass: flat inside ``window`` (MASS_WINDOW_GEV), soft edges."""
    lo, hi = window or MASS_WINDOW_GEV
    return 1.0 / ((1.0 + np.exp(-(m - lo) / MASS_WINDOW_EDGE_GEV)) * (1.0 + np.exp(-(hi - m) / MASS_WINDOW_EDGE_GEV)))


@functools.cache
def _window_mean(k: float, theta: float, window: tuple[float, float] | None = None) -> float:
    """E_p[window shape] of one gamma-distributed mass (the proposal's normalisation)."""

    return integrate.quad(lambda m: _st.gamma.pdf(m, k, scale=theta) * _window_shape(m, window), 0.0, 1000.0,
                          limit=200)[0]


def _qcd_masses(n, rng, bias=False, wide=None):
    """True candidate masses of QCD (gamma distributed); biased towards the Higgs window with weights.

    With ``bias``, a fraction f = MASS_BIAS_FRACTION of the events draws each mass from the gamma
    density times the smooth window h (rejection: accept with probability h). The proposal is
    q = p ((1 - f) + f h1 h2 / H), H = E_p[h1 h2], so the weight p/q = 1 / (1 - f + f h1 h2 / H)
    depends on the masses only through the window: one value on its plateau, whatever the masses
    there (flat weights where the analysis cuts). Events marked ``wide`` (candidates too soft to merge:
    the resolved category, whose networks cut mostly on b-tags) use the wider MASS_WINDOW_WIDE_GEV.
    """
    m = [np.clip(rng.gamma(k, t, n), 15.0, 400.0) for k, t in _QCD_MASS]
    if not bias:
        return m[0], m[1], np.ones(n)
    f = MASS_BIAS_FRACTION
    wide = np.zeros(n, bool) if wide is None else np.asarray(wide, bool)
    w = np.ones(n)
    for window, mask in ((MASS_WINDOW_GEV, ~wide), (MASS_WINDOW_WIDE_GEV, wide)):
        pulled = np.flatnonzero(mask & (rng.random(n) < f))
        for i, (k, t) in enumerate(_QCD_MASS):
            need, got = len(pulled), []
            while need > 0:
                x = np.clip(rng.gamma(k, t, 4 * need + 16), 15.0, 400.0)
                x = x[rng.random(len(x)) < _window_shape(x, window)][:need]
                got.append(x)
                need -= len(x)
            if got:
                m[i][pulled] = np.concatenate(got)
        big_h = _window_mean(*_QCD_MASS[0], window) * _window_mean(*_QCD_MASS[1], window)
        w[mask] = 1.0 / (1.0 - f + f * _window_shape(m[0][mask], window) * _window_shape(m[1][mask], window) / big_h)
    return m[0], m[1], w


def _system_2to2(pt_lo, pt_hi, index, n, rng, m1, m2, pt=None):
    """2->2 scattering at zero system pT: leading pT from a power law in the slice (or ``pt``), independent rapidities."""
    pt = _powerlaw(max(pt_lo, 30.0), pt_hi, index, n, rng) if pt is None else pt
    y1, y2 = rng.normal(0, 1.3, n), rng.normal(0, 1.3, n)
    phi = rng.uniform(-np.pi, np.pi, n)
    h1 = _from_pt_y(pt, y1, phi, m1)
    h2 = _from_pt_y(pt, y2, phi + np.pi, m2)
    return h1, h2


def _swap(a, b, mask):
    fields = {k: (np.where(mask, getattr(b, k), getattr(a, k)), np.where(mask, getattr(a, k), getattr(b, k)))
              for k in ("px", "py", "pz", "E")}
    return (_p4(*(fields[k][0] for k in ("px", "py", "pz", "E"))),
            _p4(*(fields[k][1] for k in ("px", "py", "pz", "E"))))


def _decay_candidates(h1, h2, rng):
    jets = []
    for h in (h1, h2):
        mq = np.full(len(h), 4.8)
        jets.extend(two_body(h, mq, mq, rng.uniform(-1, 1, len(h)), rng))
    return jets


def _flavours(process, n, rng):
    """Jet flavours of the four jets (h1j1, h1j2, h2j1, h2j2) as arrays of 'b'/'c'/'l' (HH and QCD)."""
    fl = np.full((4, n), "b", dtype="<U1")
    if process == "qcd_2b2j":
        light = rng.random(n) < 0.5  # which candidate holds the light pair
        for j, cand in ((0, 0), (1, 0), (2, 1), (3, 1)):
            mask = light == (cand == 0)
            fl[j, mask] = "q"  # light quark or gluon jet, charm with probability CHARM_FRACTION["q"]
    return fl


def _breit_wigner(m, width, n, rng):
    return m + 0.5 * width * np.tan(np.pi * (rng.random(n) - 0.5).clip(-0.49, 0.49))


def _stack(vs):
    return _p4(*(np.stack([getattr(v, k) for v in vs]) for k in ("px", "py", "pz", "E")))


def _ttbar(pt_slice, n, rng):
    """ttbar: two tops (Breit-Wigner), t -> b W, W -> q q' (67.6 %) or l nu; the four leading jets.

    Jets: both b quarks, the quarks of hadronic W decays and the ISR jet. The leading jet is paired
    with its nearest neighbour in dR, the other two form the second candidate, so three-jet
    combinations near m_t and two-jet ones near m_W appear as in data. Returns the four true jets,
    their flavours, the W neutrinos' (px, py) and the visible leptons.
    """
    lo, hi = pt_slice or (0.0, 2000.0)
    tops = _system_2to2(lo, hi, 3.0, n, rng, _breit_wigner(M_TOP, W_TOP, n, rng),
                        _breit_wigner(M_TOP, W_TOP, n, rng))
    pt, phi = recoil("ttbar", n, rng)
    tops = _boost_system(list(tops), pt, phi)
    isr = _from_pt_y(pt, rng.normal(0, 1.8, n), phi + np.pi, np.zeros(n))
    pool, flav, present = [], [], []
    nu_x, nu_y = np.zeros(n), np.zeros(n)
    n_el, n_mu = np.zeros(n, np.int32), np.zeros(n, np.int32)
    for top in tops:
        mw = np.clip(_breit_wigner(M_W, W_W, n, rng), 40.0, 160.0)
        b, w = two_body(top, np.full(n, 4.8), mw, rng.uniform(-1, 1, n), rng)
        q1, q2 = two_body(w, np.zeros(n), np.zeros(n), rng.uniform(-1, 1, n), rng)
        had = rng.random(n) < BR_W_HAD
        pool += [b, q1, q2]
        flav += [np.full(n, "b"), np.full(n, "w"), np.full(n, "l")]  # "w": c (W -> cs) half the time
        present += [np.ones(n, bool), had, had]
        # leptonic W: q1 is the charged lepton (e, mu or tau), q2 the neutrino
        nu_x += np.where(had, 0.0, q2.px)
        nu_y += np.where(had, 0.0, q2.py)
        kind = rng.integers(0, 3, n)  # 0 e, 1 mu, 2 tau (not identified)
        seen = ~had & (q1.pt > 10.0) & (np.abs(q1.eta) < 2.5) & (rng.random(n) < 0.9)
        n_el += (seen & (kind == 0)).astype(np.int32)
        n_mu += (seen & (kind == 1)).astype(np.int32)
    pool.append(isr)
    flav.append(np.full(n, "l"))
    present.append(np.ones(n, bool))
    vec = _stack(pool)
    flav = np.stack(flav).astype("<U1")
    present = np.stack(present)
    order = np.argsort(-np.where(present, vec.pt, -1.0), axis=0)[:4]
    four = [_p4(*(np.take_along_axis(getattr(vec, k), order[i:i + 1], axis=0)[0] for k in ("px", "py", "pz", "E")))
            for i in range(4)]
    fl4 = np.take_along_axis(flav, order, axis=0)
    ok4 = np.take_along_axis(present, order, axis=0).all(axis=0)
    # pairing: the leading jet with its nearest neighbour
    dr = np.stack([four[0].deltaR(four[k]) for k in (1, 2, 3)])
    partner = 1 + np.argmin(dr, axis=0)
    rest = np.array([[2, 3], [1, 3], [1, 2]])[partner - 1].T
    idx = np.stack([np.zeros(n, int), partner, rest[0], rest[1]])
    all4 = _stack(four)
    jets = [_p4(*(np.take_along_axis(getattr(all4, k), idx[i:i + 1], axis=0)[0] for k in ("px", "py", "pz", "E")))
            for i in range(4)]
    fl4 = np.take_along_axis(fl4, idx, axis=0)
    return jets, fl4, ok4, nu_x, nu_y, n_el, n_mu


def _semileptonic(jets, flav, rng):
    """Neutrinos in semileptonic b/c decays: the visible jets and the neutrinos' (px, py)."""
    n = len(jets[0])
    vis, nx, ny = [], np.zeros(n), np.zeros(n)
    for j, f in zip(jets, flav):
        frac = np.select([f == "b", f == "c"], [NU_FRACTION["b"], NU_FRACTION["c"]], 0.0)
        x = np.where(rng.random(n) < frac, rng.beta(2.0, 9.0, n), 0.0)
        vis.append(_p4(j.px * (1 - x), j.py * (1 - x), j.pz * (1 - x), j.E * (1 - x)))
        nx += x * j.px
        ny += x * j.py
    return vis, nx, ny


def _flavour_tag(kind, rng, bias):
    """Flavours ('b'/'c'/'l') and b-tags of the four jets from their kinds, with importance weights.

    A kind other than 'b' is charm with probability CHARM_FRACTION[kind]. Flavour and tag are drawn
    jointly: tag with probability Q = min(BTAG_BIAS_FACTOR * P, BTAG_Q_MAX) where P is the physical
    tag probability of the kind (Q = P without ``bias``), then the flavour from its physical
    probability given the tag. The weight is P/Q (tagged) or (1-P)/(1-Q) (untagged), whatever the
    flavour, so tagged c and light jets carry one weight.
    """
    pc = np.vectorize(CHARM_FRACTION.get)(kind)
    is_b = kind == "b"
    p_tag = np.where(is_b, BTAG_EFF["b"], pc * BTAG_EFF["c"] + (1 - pc) * BTAG_EFF["l"])
    q_tag = np.where(is_b, p_tag, np.minimum(BTAG_BIAS_FACTOR * p_tag, BTAG_Q_MAX)) if bias else p_tag
    tag = rng.random(kind.shape) < q_tag
    p_c = np.where(tag, pc * BTAG_EFF["c"] / p_tag, pc * (1 - BTAG_EFF["c"]) / (1 - p_tag))
    flav = np.where(is_b, "b", np.where(rng.random(kind.shape) < p_c, "c", "l")).astype("<U1")
    w = np.where(tag, p_tag / q_tag, (1 - p_tag) / (1 - q_tag)).prod(axis=0)
    return flav, tag.astype(np.int32), w


def generate_batch(process: str, n: int, rng: np.random.Generator, kl: float = 1.0,
                   pt_slice: tuple[float, float] | None = None, bias: bool = True,
                   signed: bool = True) -> dict[str, np.ndarray]:
    """Generate ``n`` events of one process; returns all branches plus ``category`` (-1 = none).

    With ``bias`` (backgrounds only) the events are generated preferentially in the signal-like
    phase space (Higgs-window masses, b-tags, preselected events: BTAG_BIAS_FACTOR, MASS_WINDOW_GEV,
    PRESCALE, PRESCALE_UNSELECTED);
    ``weight_factor`` (p/q, mean 1 over generated events) makes every weighted distribution unbiased.
    ``signed``: the NLO-like processes (``nlo.NLO_PROCESSES``) carry negative weights (``False``: the
    all-positive reference the tests compare with). ``btag_sf_up`` / ``btag_sf_down`` are the event's
    b-tagging scale-factor weights (:func:`btag_sf_weights`) relative to the nominal.
    """
    return _generate(process, n, rng, kl, pt_slice, bias, signed, False)[0]


def generate_batch_varied(process: str, n: int, rng: np.random.Generator, kl: float = 1.0,
                          pt_slice: tuple[float, float] | None = None, bias: bool = True, signed: bool = True
                          ) -> tuple[dict[str, np.ndarray], dict[str, dict[str, np.ndarray]]]:
    """:func:`generate_batch` plus the same events under each jet variation, keyed ``JES__1up``, ... .

    The nominal dict is bit-identical to :func:`generate_batch`'s with the same generator state: the
    variations draw no random number (JES is a coherent shift, JER the scaling method, see
    :func:`vary_jets`). A varied event has its own ``category`` (it may enter or leave a category or the
    selection) and its own ``weight_factor`` (the same generator weight and sign; the prescale of the
    importance sampling re-evaluated on the varied event with the same random number). A variation holds
    only the events it can accept (``_index``: their rows in the nominal dict): every event with at least
    two tags whose prescale draw could keep it.
    """
    return _generate(process, n, rng, kl, pt_slice, bias, signed, True)


def _generate(process, n, rng, kl, pt_slice, bias, signed, variations):
    wfac = np.ones(n)
    bias = bias and process != "hh"
    nu_x, nu_y = np.zeros(n), np.zeros(n)
    n_el, n_mu = np.zeros(n, np.int32), np.zeros(n, np.int32)
    ok4 = np.ones(n, bool)
    if process in ("hh", "qcd_4b", "qcd_2b2j"):
        if process == "hh":
            system, m1, m2, costh, wfac = _system_signal(kl, n, rng)
            h1, h2 = two_body(system, m1, m2, costh, rng)
        else:
            lo, hi = pt_slice or (20.0, 2000.0)
            pt = _powerlaw(max(lo, 30.0), hi, 4.0, n, rng)
            m1, m2, wfac = _qcd_masses(n, rng, bias, wide=pt < LARGE_R_PT)
            h1, h2 = _system_2to2(lo, hi, 4.0, n, rng, m1, m2, pt=pt)
            h1, h2 = _boost_system([h1, h2], *recoil(process, n, rng))
        flav = _flavours(process, n, rng)
        true_jets = _decay_candidates(h1, h2, rng)
        # wrong pairing of the four jets into candidates (a fixed 10 %, as a chi2 or min-dR pairing would)
        wrong = rng.random(n) < 0.1
        true_jets[1], true_jets[2] = _swap(true_jets[1], true_jets[2], wrong)
        flav[[1, 2]] = np.where(wrong, flav[[2, 1]], flav[[1, 2]])
    elif process == "ttbar":
        true_jets, flav, ok4, nu_x, nu_y, n_el, n_mu = _ttbar(pt_slice, n, rng)
    else:
        raise UserArgumentError(f"unknown HH->bbbb toy process {process!r}: expected hh, qcd_4b, qcd_2b2j or ttbar")

    flav, btag, wtag = _flavour_tag(flav, rng, bias)
    visible, bx, by = _semileptonic(true_jets, flav, rng)
    nu_x, nu_y = nu_x + bx, nu_y + by
    jets = [smear_jet(j, np.zeros(n, bool), rng) for j in visible]
    # the remaining random numbers, in the order the generator has always drawn them: the large-R jet mass
    # resolution of each candidate, the soft term of the missing transverse momentum, the prescale
    large_r = [rng.normal(1.0, 0.06, n) for _ in range(2)]
    met_x = nu_x + rng.normal(0, SOFT_MET_GEV, n)
    met_y = nu_y + rng.normal(0, SOFT_MET_GEV, n)
    wfac = wfac * wtag
    cands = [jets[0] + jets[1], jets[2] + jets[3]]
    drs = [jets[0].deltaR(jets[1]), jets[2].deltaR(jets[3])]
    out, valid = _reconstruct(jets, cands, cands[0] + cands[1], drs, btag, ok4, met_x, met_y, n_el, n_mu, large_r)
    u = rng.random(n) if bias else None
    keep_prob = _keep_probability(out, btag) if bias else np.ones(n)
    if bias:
        # prescale the events outside the signal-like region, so that the written events are mostly where
        # the networks select and those carry similar weights: fewer than three b-tags by PRESCALE (the
        # networks train on them), failing the analyses' selection cuts (physics.md section 2; no network
        # sees them) by PRESCALE_UNSELECTED
        valid &= u < keep_prob
    sign = nlo.sign_factors(out["pT_hh"], rng) if signed and process in nlo.NLO_PROCESSES else np.ones(n)
    out["weight_factor"] = wfac / keep_prob * sign  # / 1.0 and * 1.0 are exact: the weights as before
    out["category"] = np.where(valid, out.pop("_n_large"), -1).astype(np.int32)
    btag_weights = _BtagWeights(flav, btag)
    out["btag_sf_up"], out["btag_sf_down"] = btag_weights(np.stack([j.pt for j in jets]))
    if not variations:
        return out, {}
    # only events a variation can accept: the tags, leptons and the prescale's random number do not move
    nb = btag.sum(axis=0)
    idx = np.flatnonzero((nb >= 2) & ok4 & ((nb >= 3) | (u < PRESCALE) if bias else True))
    jets, visible, btag, flav = [j[idx] for j in jets], [v[idx] for v in visible], btag[:, idx], flav[:, idx]
    ok4, met_x, met_y, n_el, n_mu = ok4[idx], met_x[idx], met_y[idx], n_el[idx], n_mu[idx]
    large_r, wfac, sign = [r[idx] for r in large_r], wfac[idx], sign[idx]
    drs = [d[idx] for d in drs]  # the variations scale four-momenta: angles, hence dR, stay
    u = u[idx] if bias else None
    btag_weights = _BtagWeights(flav, btag)
    # the jets as plain arrays (a variation multiplies each four-momentum by a factor k): numpy, not vector,
    # for speed; the nominal above keeps vector's arithmetic, so its values are what they always were
    kin = [(j.pt, j.eta, j.phi, j.mass, v.pt) for j, v in zip(jets, visible)]
    p4 = [np.stack([pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)]) for pt, eta, phi, _, _ in kin]
    p4 = [np.concatenate([p, np.sqrt((p**2).sum(axis=0) + m**2)[None]]) for p, (_, _, _, m, _) in zip(p4, kin)]
    varied = {}
    for syst in TREE_SYSTEMATICS:
        for direction, s in (("up", 1.0), ("down", -1.0)):
            k = [_jet_factor(syst, s, pt, eta, vis) for pt, eta, _, _, vis in kin]
            vj = [_P4(pt * f, eta, phi, m * f) for (pt, eta, phi, m, _), f in zip(kin, k)]
            cands = [_P4.of(*(k[a] * p4[a] + k[b] * p4[b])) for a, b in ((0, 1), (2, 3))]
            hh = _P4.of(*(sum(f * p for f, p in zip(k, p4))))
            dx = sum((f - 1.0) * p[0] for f, p in zip(k, p4))
            dy = sum((f - 1.0) * p[1] for f, p in zip(k, p4))
            o, ok = _reconstruct(vj, cands, hh, drs, btag, ok4, met_x - dx, met_y - dy, n_el, n_mu, large_r)
            kp = _keep_probability(o, btag) if bias else np.ones(len(idx))
            if bias:
                ok &= u < kp
            o["weight_factor"] = wfac / kp * sign
            o["category"] = np.where(ok, o.pop("_n_large"), -1).astype(np.int32)
            o["btag_sf_up"], o["btag_sf_down"] = btag_weights(np.stack([j.pt for j in vj]))
            o["_index"] = idx
            varied[f"{syst}__1{direction}"] = o
    return out, varied


def _keep_probability(out, btag):
    """The importance sampling's prescale of an event (1 in the signal-like region)."""
    return np.where(preselected(out), np.where(btag.sum(axis=0) >= 3, 1.0, PRESCALE), PRESCALE_UNSELECTED)


def _reconstruct(jets, cands, hh, drs, btag, ok4, met_x, met_y, n_el, n_mu, large_r):
    """Every branch derived from the four jets, their two candidates (pT, eta, phi, mass), the di-candidate
    system ``hh`` and the candidates' dR: categories, masses, m_hh, pT_hh, met (no random number).

    Returns the branches (with ``_n_large``, the category before the validity cuts) and the validity mask.
    """
    merged = [(d < LARGE_R_DR) & (c.pt > LARGE_R_PT) & (np.abs(c.eta) < LARGE_R_ETA) for c, d in zip(cands, drs)]
    ok = [(j.pt >= SMALL_R_PT) & (np.abs(j.eta) < SMALL_R_ETA) for j in jets]
    resolved_ok = [ok[0] & ok[1], ok[2] & ok[3]]
    n_large = merged[0].astype(int) + merged[1].astype(int)
    valid = (merged[0] | resolved_ok[0]) & (merged[1] | resolved_ok[1]) & ok4
    # large-R jet mass: extra resolution from the merged-jet reconstruction
    masses = [np.where(m, c.mass * r, c.mass) for c, m, r in zip(cands, merged, large_r)]
    nb = btag.sum(axis=0)
    valid &= nb >= 2  # generator-level filter: at least two b-tagged jets

    # order candidates by pT
    swap = cands[1].pt > cands[0].pt

    def pick(a, b):
        return np.where(swap, b, a), np.where(swap, a, b)

    out: dict[str, np.ndarray] = {}
    for key, (a, b) in {
        "M": (masses[0], masses[1]), "Pt": (cands[0].pt, cands[1].pt),
        "Eta": (cands[0].eta, cands[1].eta), "Phi": (cands[0].phi, cands[1].phi),
        "j1_j2_dR": (drs[0], drs[1]),
    }.items():
        out[f"h1_{key}"], out[f"h2_{key}"] = pick(a, b)
    for idx, (ja, jb) in enumerate(((0, 2), (1, 3)), start=1):
        for key in ("pt", "eta", "phi", "mass"):
            name = {"pt": "Pt", "eta": "Eta", "phi": "Phi", "mass": "M"}[key]
            out[f"h1_j{idx}_{name}"], out[f"h2_j{idx}_{name}"] = pick(getattr(jets[ja], key), getattr(jets[jb], key))
        out[f"h1_j{idx}_BTag"], out[f"h2_j{idx}_BTag"] = pick(btag[ja], btag[jb])

    # missing transverse momentum: neutrinos (semileptonic b/c decays, leptonic W) plus a soft term
    met = vector.array({"px": met_x, "py": met_y})

    out.update({
        "m_hh": hh.mass, "pT_hh": hh.pt, "dEta_hh": np.abs(out["h1_Eta"] - out["h2_Eta"]),
        "met_Et": met.rho, "met_Phi": met.phi, "nElec": n_el, "nMuon": n_mu,
        "nBTags": nb.astype(np.int32), "nLargeR": n_large.astype(np.int32),
        "nJets": (4 - 2 * n_large).astype(np.int32), "_n_large": n_large,
    })
    return out, valid


def preselected(out: dict[str, np.ndarray]) -> np.ndarray:
    """The HH->bbbb cuts before any network (physics.md section 2): met_Et < 150, no lepton, |dEta_hh| < 1.5, masses > 50."""
    return ((out["met_Et"] < 150.0) & (out["nElec"] == 0) & (out["nMuon"] == 0) & (out["dEta_hh"] < 1.5)
            & (out["h1_M"] > 50.0) & (out["h2_M"] > 50.0))
