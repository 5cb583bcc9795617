"""Toy ttHH (single lepton) events and the ttbb, ttH, ttZ backgrounds, at jet level.

Every process has a semileptonic top pair (b l nu, b q q'); ttHH adds two H->bb,
ttH one, ttZ a Z->qq (b-rich 22 %), ttbb a soft gluon-splitting b pair. Extra
light jets come from initial-state radiation. The event-level inputs of the older
Keras study (numjet, btag, m_bb, ...) are computed from the smeared, b-tagged jets.
"""

from __future__ import annotations

import numpy as np
import vector

from hhnb.toy.hh import BTAG_EFF, _from_pt_y, smear_jet, two_body

JET_PT, JET_ETA, LEP_PT, LEP_ETA = 30.0, 4.0, 25.0, 2.5
MAX_JETS = 8  # four-vectors written for the leading jets


def _resonance(n, pt_scale, mass, rng):
    return _from_pt_y(rng.gamma(2.0, pt_scale, n), rng.normal(0, 1.0, n), rng.uniform(-np.pi, np.pi, n),
                      np.full(n, float(mass)) if np.isscalar(mass) else mass)


def _pair(parent, m, rng):
    mm = np.full(len(parent), m)
    return two_body(parent, mm, mm, rng.uniform(-1, 1, len(parent)), rng)


# Importance sampling of the backgrounds (issue 12): b-tag probabilities the generator draws with
# (instead of the efficiencies) and the prescale of events outside the signal-like region
# (>= 7 jets, >= 5 b-tags); ``weight_factor`` = p/q restores the physical distributions.
BTAG_BIASED = {"b": 0.80, "c": 0.60, "l": 0.15}
PRESCALE = 0.2


def generate_batch(process: str, n: int, rng: np.random.Generator, bias: bool = True) -> dict[str, np.ndarray]:
    """Generate ``n`` events of ttHH, ttbb, ttH or ttZ; returns branches plus ``category`` (0 = kept).

    With ``bias`` (backgrounds only) mistags and events in the signal-like region are favoured;
    ``weight_factor`` (mean 1 over generated events) keeps every weighted distribution unbiased.
    """
    bias = bias and process != "tthh"
    partons: list[tuple[object, np.ndarray]] = []  # (four-vector, flavour code per event)

    def add(vec, flav):
        partons.append((vec, np.broadcast_to(np.asarray(flav), (n,)).astype("<U1")))

    top_scale = {"tthh": 75.0, "tth": 70.0, "ttz": 70.0, "ttbb": 60.0}.get(process)
    if top_scale is None:
        raise ValueError(f"unknown ttHH toy process {process!r}: expected tthh, ttbb, tth or ttz")
    for leptonic in (True, False):
        top = _resonance(n, top_scale, 172.5, rng)
        b, w = two_body(top, np.full(n, 4.8), np.full(n, 80.4), rng.uniform(-1, 1, n), rng)
        add(b, "b")
        q1, q2 = _pair(w, 0.0, rng)
        if leptonic:
            lep, nu = q1, q2
        else:
            add(q1, np.where(rng.random(n) < 0.5, "c", "l"))
            add(q2, "l")
    if process == "tthh":
        for _ in range(2):
            add_pair = _pair(_resonance(n, 110.0, 125.0, rng), 4.8, rng)
            add(add_pair[0], "b"), add(add_pair[1], "b")
    elif process == "tth":
        h = _pair(_resonance(n, 80.0, 125.0, rng), 4.8, rng)
        add(h[0], "b"), add(h[1], "b")
    elif process == "ttz":
        zflav = np.where(rng.random(n) < 0.22, "b", np.where(rng.random(n) < 0.3, "c", "l"))
        z = _pair(_resonance(n, 80.0, 91.19, rng), 4.8, rng)
        add(z[0], zflav), add(z[1], zflav)
    else:  # ttbb: soft, collinear gluon splitting
        g = _resonance(n, 70.0, 15.0 + rng.gamma(2.0, 20.0, n), rng)
        bb = _pair(g, 4.8, rng)
        add(bb[0], "b"), add(bb[1], "b")
    n_isr = rng.poisson(1.6 if process != "tthh" else 1.2, n)
    for k in range(4):
        isr = _from_pt_y(30.0 + rng.exponential(30.0, n), rng.normal(0, 1.8, n), rng.uniform(-np.pi, np.pi, n),
                         np.zeros(n))
        add(isr, np.where(k < n_isr, "l", "x"))  # "x" = absent

    k = len(partons)
    flav = np.stack([f for _, f in partons])
    sm = [smear_jet(v, f == "b", rng) for (v, _), f in zip(partons, flav)]
    pt = np.stack([j.pt for j in sm])
    eta = np.stack([j.eta for j in sm])
    phi = np.stack([j.phi for j in sm])
    mass = np.stack([j.mass for j in sm])
    present = (flav != "x") & (pt > JET_PT) & (np.abs(eta) < JET_ETA)
    eff = np.select([flav == "b", flav == "c", flav == "l"], [BTAG_EFF["b"], BTAG_EFF["c"] * 0.8, 0.01], 0.0)
    q = np.select([flav == "b", flav == "c", flav == "l"], [BTAG_BIASED[f] for f in "bcl"], 0.0) if bias else eff
    q = np.where(present, q, eff)
    tagged = present & (rng.random((k, n)) < q)
    wfac = np.where(present, np.where(tagged, eff / np.where(q > 0, q, 1.0), (1 - eff) / np.where(q < 1, 1 - q, 1.0)),
                    1.0).prod(axis=0)
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

    lep_s = smear_jet(lep, np.zeros(n, bool), rng)
    lep_ok = (lep_s.pt > LEP_PT) & (np.abs(lep_s.eta) < LEP_ETA)
    metx = nu.px + rng.normal(0, 15.0, n)
    mety = nu.py + rng.normal(0, 15.0, n)
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
    out["weight_factor"] = wfac
    out["category"] = np.where(keep, 0, -1).astype(np.int32)
    return out
