"""Toy HH->bbbb events and their backgrounds (QCD 4b, QCD 2b2j, ttbar) at candidate level.

Each event has two Higgs candidates, each made of two jets. Signal candidates are
real Higgs bosons from a 2->2 system whose m_hh follows the calibrated spectrum of
``hhnb.toy.physics``; QCD is 2->2 scattering in slices of leading-jet pT; ttbar pairs
W and b jets into candidates. Jets are smeared, b-tagged and sorted into the
resolved/intermediate/boosted categories by the number of large-R (merged) candidates.
"""

from __future__ import annotations

import numpy as np
import vector

from hhnb.toy import physics

# Detector: b-jet energy response (neutrinos in b decays) and resolution, b-tagging.
B_RESPONSE = 0.94
BTAG_EFF = {"b": 0.80, "c": 0.35, "l": 0.10}
SMALL_R_PT, SMALL_R_ETA = 40.0, 2.5
LARGE_R_PT, LARGE_R_ETA, LARGE_R_DR = 250.0, 2.0, 1.0
CATEGORIES = ("resolved", "intermediate", "boosted")


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


def _powerlaw(lo, hi, index, n, rng):
    """Draw from x^-index on [lo, hi]."""
    a = 1.0 - index
    u = rng.random(n)
    return (lo**a + u * (hi**a - lo**a)) ** (1.0 / a)


def _system_signal(kl, n, rng):
    mhh, wfac = physics.sample_mhh_biased(kl, n, rng)
    pt = rng.gamma(2.0, 25.0, n)
    system = _from_pt_y(pt, rng.normal(0, 1.1, n), rng.uniform(-np.pi, np.pi, n), mhh)
    m1 = np.full(n, physics.M_H)
    return system, m1, m1.copy(), rng.uniform(-1, 1, n), wfac


def _qcd_masses(n, rng):
    return np.clip(rng.gamma(4.0, 28.0, n), 15.0, 400.0), np.clip(rng.gamma(4.0, 27.0, n), 15.0, 400.0)


def _system_2to2(pt_lo, pt_hi, index, n, rng, m1, m2):
    """2->2 scattering: leading pT from a power law in the slice, independent rapidities."""
    pt = _powerlaw(max(pt_lo, 30.0), pt_hi, index, n, rng)
    y1, y2 = rng.normal(0, 1.3, n), rng.normal(0, 1.3, n)
    phi = rng.uniform(-np.pi, np.pi, n)
    kick = rng.normal(0, 15.0, (2, n))
    h1 = _from_pt_y(pt, y1, phi, m1)
    h2t = _p4(-h1.px + kick[0], -h1.py + kick[1], np.zeros(n), np.zeros(n))
    h2 = _from_pt_y(h2t.pt, y2, h2t.phi, m2)
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
    """Jet flavours of the four jets (h1j1, h1j2, h2j1, h2j2) as arrays of 'b'/'c'/'l'."""
    fl = np.full((4, n), "b", dtype="<U1")
    if process == "qcd_2b2j":
        light = rng.random(n) < 0.5  # which candidate holds the light pair
        for j, cand in ((0, 0), (1, 0), (2, 1), (3, 1)):
            mask = light == (cand == 0)
            fl[j, mask] = np.where(rng.random(mask.sum()) < 0.15, "c", "l")
    elif process == "ttbar":
        # two b jets and a W -> qq' pair (one c in half the decays), shuffled over the slots
        base = np.array([["b"], ["b"], ["c"], ["l"]]).repeat(n, axis=1)
        base[2, rng.random(n) < 0.5] = "l"
        perm = rng.permuted(np.tile(np.arange(4), (n, 1)), axis=1).T
        fl = np.take_along_axis(base, perm, axis=0)
    return fl


def generate_batch(process: str, n: int, rng: np.random.Generator, kl: float = 1.0,
                   pt_slice: tuple[float, float] | None = None) -> dict[str, np.ndarray]:
    """Generate ``n`` events of one process; returns all branches plus ``category`` (-1 = none)."""
    wfac = np.ones(n)
    if process == "hh":
        system, m1, m2, costh, wfac = _system_signal(kl, n, rng)
        h1, h2 = two_body(system, m1, m2, costh, rng)
    elif process in ("qcd_4b", "qcd_2b2j"):
        m1, m2 = _qcd_masses(n, rng)
        lo, hi = pt_slice or (20.0, 2000.0)
        h1, h2 = _system_2to2(lo, hi, 4.0, n, rng, m1, m2)
    elif process == "ttbar":
        w = rng.random(n) < 0.45
        m1 = np.where(w, rng.normal(80.4, 3.0, n), np.clip(rng.gamma(5.0, 26.0, n), 20, 400))
        m2 = np.clip(rng.gamma(5.0, 24.0, n), 20, 400)
        lo, hi = pt_slice or (0.0, 2000.0)
        h1, h2 = _system_2to2(lo, hi, 3.0, n, rng, m1, m2)
    else:
        raise ValueError(f"unknown HH->bbbb toy process {process!r}: expected hh, qcd_4b, qcd_2b2j or ttbar")

    flav = _flavours(process, n, rng)
    true_jets = _decay_candidates(h1, h2, rng)
    jets = [smear_jet(j, flav[i] == "b", rng) for i, j in enumerate(true_jets)]
    # wrong pairing of the four jets into candidates (a fixed fraction, as a chi2 pairing would)
    wrong = rng.random(n) < 0.2
    jets[1], jets[2] = _swap(jets[1], jets[2], wrong)
    true_jets[1], true_jets[2] = _swap(true_jets[1], true_jets[2], wrong)
    flav[[1, 2]] = np.where(wrong, flav[[2, 1]], flav[[1, 2]])
    cands = [jets[0] + jets[1], jets[2] + jets[3]]
    drs = [jets[0].deltaR(jets[1]), jets[2].deltaR(jets[3])]
    merged = [(d < LARGE_R_DR) & (c.pt > LARGE_R_PT) & (np.abs(c.eta) < LARGE_R_ETA) for c, d in zip(cands, drs)]
    ok = [(j.pt >= SMALL_R_PT) & (np.abs(j.eta) < SMALL_R_ETA) for j in jets]
    resolved_ok = [ok[0] & ok[1], ok[2] & ok[3]]
    n_large = merged[0].astype(int) + merged[1].astype(int)
    valid = (merged[0] | resolved_ok[0]) & (merged[1] | resolved_ok[1])
    # large-R jet mass: extra resolution from the merged-jet reconstruction
    masses = [np.where(m, c.mass * rng.normal(1.0, 0.06, n), c.mass) for c, m in zip(cands, merged)]

    btag = (rng.random((4, n)) < np.vectorize(BTAG_EFF.get)(flav)).astype(np.int32)
    nb = btag.sum(axis=0)
    valid &= nb >= 2  # generator-level filter: at least two b-tagged jets

    # order candidates by pT
    swap = cands[1].pt > cands[0].pt
    def pick(a, b):
        return np.where(swap, b, a), np.where(swap, a, b)

    hh = cands[0] + cands[1]
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

    # leptons and missing transverse momentum
    metx = sum(t.px - j.px for t, j in zip(true_jets, jets)) + rng.normal(0, 12.0, n)
    mety = sum(t.py - j.py for t, j in zip(true_jets, jets)) + rng.normal(0, 12.0, n)
    n_el = np.zeros(n, np.int32)
    n_mu = np.zeros(n, np.int32)
    if process == "ttbar":
        leptonic = rng.random(n) < 0.55
        nu_pt = rng.gamma(2.0, 30.0, n) * leptonic
        nu_phi = rng.uniform(-np.pi, np.pi, n)
        metx += nu_pt * np.cos(nu_phi)
        mety += nu_pt * np.sin(nu_phi)
        seen = leptonic & (rng.random(n) < 0.55)
        is_el = rng.random(n) < 0.5
        n_el[seen & is_el] = 1
        n_mu[seen & ~is_el] = 1
    met = vector.array({"px": metx, "py": mety})

    out.update({
        "m_hh": hh.mass, "pT_hh": hh.pt, "dEta_hh": np.abs(out["h1_Eta"] - out["h2_Eta"]),
        "met_Et": met.rho, "met_Phi": met.phi, "nElec": n_el, "nMuon": n_mu,
        "nBTags": nb.astype(np.int32), "nLargeR": n_large.astype(np.int32),
        "nJets": (4 - 2 * n_large).astype(np.int32),
    })
    out["weight_factor"] = wfac
    out["category"] = np.where(valid, n_large, -1).astype(np.int32)
    return out
