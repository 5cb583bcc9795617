"""Toy ttHH (single lepton) events and the ttbb, ttH, ttZ backgrounds, at jet level.

Every process has a semileptonic top pair (b l nu, b q q'); ttHH adds two H->bb,
ttH one, ttZ a Z->qq (b-rich 22 %), ttbb an extra b pair (half soft, collinear gluon splitting; half
a hard emission whose m_bb covers m_H) and, in 3.5 %, a further g->bb/cc pair drawn the same way. Extra
light jets come from initial-state radiation: one falling pT spectrum for every process, with a
rate that grows with the hard scale (``isr_rate``). Jet masses do not depend on the flavour.
The event-level inputs of the older Keras study (numjet, btag, m_bb, ...) are computed from the
smeared, b-tagged jets.
"""

from __future__ import annotations

import numpy as np
import vector

from hhnb.errors import UserArgumentError
from hhnb.toy import nlo
from hhnb.toy.hh import BTAG_EFF, _from_pt_y, smear_jet, two_body

JET_PT, JET_ETA, LEP_PT, LEP_ETA = 30.0, 4.0, 25.0, 2.5
# ttbb events with a further g -> bb or cc splitting, half of each: the rate of an extra heavy-flavour
# pair in a top-pair event, sigma(ttbb)/sigma(ttjj) + sigma(ttcc)/sigma(ttjj), each roughly 1.5-2 % in
# CMS's measurement of both ratios (Phys. Lett. B 820 (2021) 136565); it was 0.08 (40 % bb), which put
# 13 % of the selected ttbb at >= 6 b-tags (ttH, with the same four b quarks, has 2 %). Those ratios
# count additional jets above 20 GeV, pairs like ttbb's first one, so the further pair is drawn from the
# same hard/soft mixture (_gluon_splitting). It was a soft splitting (pT scale 50 GeV, mass 12 + Gamma(2, 15)
# GeV; 1.2 of its jets above 30 GeV, against 1.5 now, and those soft), which left the hard >= 6-tag tail to
# ttHH alone (seed 42: 12 % of the selected ttbb at >= 6 tags now, 9 % before).
TTBB_EXTRA = 0.035
TTBB_EXTRA_B = 0.5
# The rate the biased generation uses (weights restore TTBB_EXTRA). The ttHH networks' tightest cuts keep
# ttbb events with the extra pair (>= 6 tags) beside hard 5-tag events without it; the ratio of their
# weights, (1 - TTBB_EXTRA) / (1 - q) : TTBB_EXTRA / q, sets the MC error there: 9 at 0.25 (27 at 0.5).
TTBB_EXTRA_BIASED = 0.25
TTBB_HARD = 0.5  # ttbb events whose extra b pair comes from a hard emission (the rest: soft, collinear)
MAX_JETS = 8  # four-vectors written for the leading jets
# Transverse-momentum scales (GeV) of the produced particles: pT ~ Gamma(2, scale), mean 2 x scale.
TOP_PT_SCALE = {"tthh": 75.0, "tth": 72.0, "ttz": 70.0, "ttbb": 70.0}
HIGGS_PT_SCALE = {"tthh": 110.0, "tth": 100.0}
Z_PT_SCALE = 80.0
TTBB_PT_SCALE = {"hard": 90.0, "soft": 70.0}  # the g -> bb system of ttbb: hard emission or soft splitting
# Initial-state radiation, the same for every process: Poisson(ISR_RATE) emissions (at most 4) with
# pT = ISR_PT_MIN + Exp(ISR_PT_SLOPE), so 40 % fall below the 30 GeV jet threshold (a falling spectrum:
# for ttbb ~60 % of events with >= 1 extra jet above 30 GeV and ~25 % with >= 2, roughly the t tbar + jets
# fractions measured at the LHC).
ISR_RATE, ISR_PT_MIN, ISR_PT_SLOPE = 1.6, 15.0, 30.0
# The emission rate grows with the hard scale as (ln(M / ISR_PT_MIN))^2 (leading double logarithm of
# soft-collinear emission off the incoming gluons), M the typical mass of the t tbar X system; ISR_RATE is ttbb's.
SYSTEM_MASS_GEV = {"ttbb": 550.0, "ttz": 650.0, "tth": 700.0, "tthh": 900.0}


def isr_rate(process: str) -> float:
    """Mean number of ISR emissions of a process: ISR_RATE scaled by (ln(M / ISR_PT_MIN))^2 relative to ttbb.

    >>> round(isr_rate("ttbb"), 2), round(isr_rate("tthh"), 2)
    (1.6, 2.07)
    """
    ln = np.log(SYSTEM_MASS_GEV[process] / ISR_PT_MIN) / np.log(SYSTEM_MASS_GEV["ttbb"] / ISR_PT_MIN)
    return float(ISR_RATE * ln**2)


JET_MASS_FRACTION = 0.12  # mean jet mass / pT
# The charged lepton of the leptonic W (physics.md section 6): e, mu or tau, a third each (lepton
# universality). A tau yields an isolated e or mu only in its leptonic decays, 35.2 % of them, and that
# lepton carries a fraction x of the tau's momentum (collinear limit, unpolarised tau:
# dN/dx = 5/3 - 3 x^2 + 4/3 x^3); a hadronic tau gives no lepton. Electrons and muons pass
# identification and isolation with LEPTON_EFF; their momentum resolution is LEPTON_RES.
TAU_TO_E_MU = 0.352
LEPTON_EFF = 0.9
LEPTON_RES = 0.02


def tau_lepton_fraction(n: int, rng: np.random.Generator) -> np.ndarray:
    """Momentum fraction of the e or mu in tau -> l nu nu (collinear, unpolarised): 5/3 - 3x^2 + 4/3 x^3.

    >>> round(float(tau_lepton_fraction(200000, np.random.default_rng(1)).mean()), 2)  # exact mean 7/20
    0.35
    """
    out = np.empty(0)
    while len(out) < n:
        x = rng.random(3 * n + 16)
        keep = rng.random(len(x)) * (5.0 / 3.0) < 5.0 / 3.0 - 3.0 * x**2 + 4.0 / 3.0 * x**3
        out = np.concatenate([out, x[keep]])
    return out[:n]


def charged_lepton(lep, nu, rng: np.random.Generator):
    """The reconstructed lepton of a leptonic W decay (lep, nu) and the neutrinos' (px, py); ``ok``: one e/mu seen.

    Returns (lepton four-vector, ok, nu_px, nu_py): for a tau, the e/mu carries x of its momentum and
    the rest goes to neutrinos; hadronic taus and leptons failing LEPTON_EFF are not seen.
    """
    n = len(lep)
    tau = rng.random(n) < 1.0 / 3.0
    leptonic_tau = tau & (rng.random(n) < TAU_TO_E_MU)
    x = np.where(tau, np.where(leptonic_tau, tau_lepton_fraction(n, rng), 0.0), 1.0)
    res = np.clip(rng.normal(1.0, LEPTON_RES, n), 0.5, 1.5)
    vis = vector.array({"pt": lep.pt * x * res, "eta": lep.eta, "phi": lep.phi, "mass": np.zeros(n)})
    nu_px = nu.px + lep.px * (1 - x) * tau
    nu_py = nu.py + lep.py * (1 - x) * tau
    ok = (~tau | leptonic_tau) & (rng.random(n) < LEPTON_EFF) & (vis.pt > LEP_PT) & (np.abs(vis.eta) < LEP_ETA)
    return vis, ok, nu_px, nu_py


def _resonance(n, pt_scale, mass, rng):
    return _from_pt_y(rng.gamma(2.0, pt_scale, n), rng.normal(0, 1.0, n), rng.uniform(-np.pi, np.pi, n),
                      np.full(n, float(mass)) if np.isscalar(mass) else mass)


def _pair(parent, m, rng):
    mm = np.full(len(parent), m)
    return two_body(parent, mm, mm, rng.uniform(-1, 1, len(parent)), rng)


# Importance sampling of the backgrounds (issue 12): the tags of non-b jets are drawn with
# BTAG_BIAS_FACTOR times their physical probability (at most BTAG_Q_MAX) and their flavour given the
# tag (hh._flavour_tag's scheme), so every mistagged jet carries one weight whatever its kind; events
# outside the signal-like region (>= 7 jets, >= 5 b-tags) are prescaled. ``weight_factor`` = p/q.
# The factor is moderate on purpose: each extra mistag divides the weight by it, and the events a
# network keeps mix 5 and 6 tags (a factor 5 gave weights spread 25x there and an MC error of 40 %).
# BTAG_Q_MAX = 0.5 keeps an untagged c jet's weight (1 - 0.28) / (1 - q) at 1.44 (2.4 at 0.7). ttbb's
# extra heavy-flavour pair, which fills the >= 6-tag region where the networks cut hardest, is drawn
# with TTBB_EXTRA_BIASED instead of TTBB_EXTRA (weighted back).
MISTAG = {"c": 0.28, "l": 0.01}  # c and light(-gluon) mistag probabilities
CHARM_FRACTION = {"w": 0.5, "l": 0.0, "c": 1.0, "x": 0.0}  # w: first quark of W -> qq' (c half the time)
BTAG_BIAS_FACTOR = 2.5
BTAG_Q_MAX = 0.5
PRESCALE = 0.1  # events outside the analysis selection (no network sees them; kept, weighted, for other selections)


def _gluon_splitting(n: int, rng: np.random.Generator):
    """A g -> QQbar system of ttbb: a hard emission (TTBB_HARD of them; m a broad continuum that covers m_H)
    or a soft, collinear splitting."""
    hard = rng.random(n) < TTBB_HARD
    pt_scale = np.where(hard, TTBB_PT_SCALE["hard"], TTBB_PT_SCALE["soft"])
    mass = np.where(hard, 20.0 + rng.gamma(2.0, 35.0, n), 15.0 + rng.gamma(2.0, 20.0, n))
    return _resonance(n, pt_scale, mass, rng)


def _flavour_tag(kind, present, rng, bias):
    """Flavours and b-tags of the jets from their kinds ('b', 'w', 'c', 'l'), with weights p/q."""
    pc = np.where(kind == "b", 0.0, np.vectorize(lambda k: CHARM_FRACTION.get(k, 0.0))(kind))
    is_b = kind == "b"
    p_tag = np.where(is_b, BTAG_EFF["b"], pc * MISTAG["c"] + (1 - pc) * MISTAG["l"])
    q_tag = np.where(is_b | ~present, p_tag, np.minimum(BTAG_BIAS_FACTOR * p_tag, BTAG_Q_MAX)) if bias else p_tag
    tag = present & (rng.random(kind.shape) < q_tag)
    p_c = np.where(tag, pc * MISTAG["c"] / p_tag, pc * (1 - MISTAG["c"]) / (1 - p_tag))
    flav = np.where(is_b, "b", np.where(rng.random(kind.shape) < p_c, "c", "l"))
    w = np.where(present, np.where(tag, p_tag / q_tag, (1 - p_tag) / (1 - q_tag)), 1.0).prod(axis=0)
    return flav, tag, w


def generate_batch(process: str, n: int, rng: np.random.Generator, bias: bool = True,
                   signed: bool = True) -> dict[str, np.ndarray]:
    """Generate ``n`` events of ttHH, ttbb, ttH or ttZ; returns branches plus ``category`` (0 = kept).

    With ``bias`` (backgrounds only) mistags and events in the signal-like region are favoured;
    ``weight_factor`` (mean 1 over generated events) keeps every weighted distribution unbiased.
    ``signed``: the NLO-like ``ttz`` carries negative weights (``nlo.NLO_PROCESSES``; ``False``: all positive).
    """
    bias = bias and process != "tthh"
    partons: list[tuple[object, np.ndarray]] = []  # (four-vector, flavour code per event)

    def add(vec, flav):
        partons.append((vec, np.broadcast_to(np.asarray(flav), (n,)).astype("<U1")))

    top_scale = TOP_PT_SCALE.get(process)
    if top_scale is None:
        raise UserArgumentError(f"unknown ttHH toy process {process!r}: expected tthh, ttbb, tth or ttz")
    for leptonic in (True, False):
        top = _resonance(n, top_scale, 172.5, rng)
        b, w = two_body(top, np.full(n, 4.8), np.full(n, 80.4), rng.uniform(-1, 1, n), rng)
        add(b, "b")
        q1, q2 = _pair(w, 0.0, rng)
        if leptonic:
            lep, nu = q1, q2
        else:
            add(q1, "w")
            add(q2, "l")
    if process == "tthh":
        for _ in range(2):
            add_pair = _pair(_resonance(n, HIGGS_PT_SCALE["tthh"], 125.0, rng), 4.8, rng)
            add(add_pair[0], "b"), add(add_pair[1], "b")
    elif process == "tth":
        h = _pair(_resonance(n, HIGGS_PT_SCALE["tth"], 125.0, rng), 4.8, rng)
        add(h[0], "b"), add(h[1], "b")
    elif process == "ttz":
        zflav = np.where(rng.random(n) < 0.22, "b", np.where(rng.random(n) < 0.3, "c", "l"))  # Z -> bb, cc, light
        z = _pair(_resonance(n, Z_PT_SCALE, 91.19, rng), 4.8, rng)
        add(z[0], zflav), add(z[1], zflav)
    else:  # ttbb: the extra b pair (_gluon_splitting) and, in TTBB_EXTRA of the events, a further g -> bb or cc
        # pair from the same mechanism (extra b-like jets)
        bb = _pair(_gluon_splitting(n, rng), 4.8, rng)
        add(bb[0], "b"), add(bb[1], "b")
        # importance-sampled: drawn with TTBB_EXTRA_BIASED (the >= 6-tag ttbb where networks cut), weighted p/q
        q_extra = TTBB_EXTRA_BIASED if bias else TTBB_EXTRA
        extra = rng.random(n) < q_extra
        w_extra = np.where(extra, TTBB_EXTRA / q_extra, (1 - TTBB_EXTRA) / (1 - q_extra))
        xflav = np.where(rng.random(n) < TTBB_EXTRA_B, "b", "c")
        xx = _pair(_gluon_splitting(n, rng), 1.5, rng)
        add(xx[0], np.where(extra, xflav, "x")), add(xx[1], np.where(extra, xflav, "x"))
    n_isr = rng.poisson(isr_rate(process), n)
    for k in range(4):
        isr = _from_pt_y(ISR_PT_MIN + rng.exponential(ISR_PT_SLOPE, n), rng.normal(0, 1.8, n),
                         rng.uniform(-np.pi, np.pi, n), np.zeros(n))
        add(isr, np.where(k < n_isr, "l", "x"))  # "x" = absent

    k = len(partons)
    flav = np.stack([f for _, f in partons])
    sm = [smear_jet(v, f == "b", rng) for (v, _), f in zip(partons, flav)]
    pt = np.stack([j.pt for j in sm])
    eta = np.stack([j.eta for j in sm])
    phi = np.stack([j.phi for j in sm])
    # jet mass from the spread of the shower, the same for every flavour (the parton's mass, 4.8 GeV
    # for b and 0 for light quarks, would tell the flavour)
    mass = pt * rng.gamma(4.0, JET_MASS_FRACTION / 4.0, pt.shape)
    present = (flav != "x") & (pt > JET_PT) & (np.abs(eta) < JET_ETA)
    flav, tagged, wfac = _flavour_tag(flav, present, rng, bias)
    if process == "ttbb":
        wfac = wfac * w_extra
    pt = np.where(present, pt, 0.0)
    order = np.argsort(-pt, axis=0)
    pt, eta, phi, mass, tagged = (np.take_along_axis(a, order, axis=0) for a in (pt, eta, phi, mass, tagged))
    present = pt > 0

    jets = vector.array({"pt": pt, "eta": eta, "phi": phi, "mass": mass})
    numjet = present.sum(axis=0)
    nbtag = tagged.sum(axis=0)
    # closest pair of b-tagged jets: its mass and dR
    best_dr = np.full(n, 9.0)
    best_m = np.zeros(n)
    for i in range(k):
        for j in range(i + 1, k):
            both = tagged[i] & tagged[j]
            d = jets[i].deltaR(jets[j])
            better = both & (d < best_dr)
            best_dr = np.where(better, d, best_dr)
            best_m = np.where(better, (jets[i] + jets[j]).mass, best_m)
    energy = np.where(present, jets.E, 0.0)
    cent = pt.sum(axis=0) / np.maximum(energy.sum(axis=0), 1e-9)
    h_b = np.where(tagged, pt, 0.0).sum(axis=0)
    srap = np.where(tagged, np.abs(eta), 0.0).sum(axis=0) / np.maximum(nbtag, 1)

    lep_s, lep_ok, nu_px, nu_py = charged_lepton(lep, nu, rng)
    metx = nu_px + rng.normal(0, 15.0, n)
    mety = nu_py + rng.normal(0, 15.0, n)
    met = vector.array({"px": metx, "py": mety})
    mt1 = np.sqrt(np.clip(2 * lep_s.pt * met.rho * (1 - np.cos(lep_s.phi - met.phi)), 0, None))

    out: dict[str, np.ndarray] = {
        "numjet": numjet.astype(np.int32), "numlep": lep_ok.astype(np.int32), "btag": nbtag.astype(np.int32),
        "srap": srap, "cent": cent, "m_bb": best_m, "h_b": h_b, "mt1": np.where(lep_ok, mt1, 0.0),
        "dr1": best_dr, "lep_Pt": np.where(lep_ok, lep_s.pt, 0.0), "lep_Eta": np.where(lep_ok, lep_s.eta, 0.0),
        "lep_Phi": np.where(lep_ok, lep_s.phi, 0.0), "met_Et": met.rho, "met_Phi": met.phi,
    }
    for i in range(MAX_JETS):
        for key, arr in (("Pt", pt), ("Eta", eta), ("Phi", phi), ("M", mass)):
            out[f"j{i + 1}_{key}"] = np.where(present[i], arr[i], 0.0)
        out[f"j{i + 1}_BTag"] = tagged[i].astype(np.int32)
    # generator-level filter, looser than the analysis selection
    keep = (numjet >= 6) & (nbtag >= 4) & lep_ok
    if bias:
        inside = (numjet >= 7) & (nbtag >= 5)
        keep &= inside | (rng.random(n) < PRESCALE)
        wfac = np.where(inside, wfac, wfac / PRESCALE)
    if signed and process in nlo.NLO_PROCESSES:
        wfac = wfac * nlo.sign_factors(out["j1_Pt"], rng)
    out["weight_factor"] = wfac
    out["category"] = np.where(keep, 0, -1).astype(np.int32)
    return out
