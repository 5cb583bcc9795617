"""The HH->bbbb toy's physics: one recoil model, met from neutrinos, ttbar with top-quark mass structure."""

import itertools

import numpy as np
import pytest
import vector

from hhnb.toy import hh


@pytest.fixture(scope="module")
def samples():
    out = {}
    for i, p in enumerate(("hh", "qcd_4b", "qcd_2b2j", "ttbar")):
        o = hh.generate_batch(p, 40_000, np.random.default_rng(100 + i), pt_slice=(20.0, 200.0) if "qcd" in p else None,
                              bias=False)
        v = o["category"] == 0  # resolved
        out[p] = {k: a[v] for k, a in o.items()}
    return out


def _jets(o):
    return [vector.array({"pt": o[f"{c}_{j}_Pt"], "eta": o[f"{c}_{j}_Eta"], "phi": o[f"{c}_{j}_Phi"],
                          "mass": o[f"{c}_{j}_M"]}) for c in ("h1", "h2") for j in ("j1", "j2")]


def _top_and_w(o):
    js = _jets(o)
    m3 = np.stack([(js[a] + js[b] + js[c]).mass for a, b, c in itertools.combinations(range(4), 3)])
    m2 = np.stack([(js[a] + js[b]).mass for a, b in itertools.combinations(range(4), 2)])
    return (np.abs(m3 - hh.M_TOP) < 15).any(axis=0), (np.abs(m2 - hh.M_W) < 10).any(axis=0)


def test_ttbar_has_top_and_w_mass_structure(samples):
    top, w = _top_and_w(samples["ttbar"])
    assert top.mean() > 0.3 and w.mean() > 0.3  # a fair fraction
    sig_top, sig_w = _top_and_w(samples["hh"])
    assert (top & w).mean() > 3 * (sig_top & sig_w).mean()
    assert samples["ttbar"]["nElec"].sum() + samples["ttbar"]["nMuon"].sum() > 0  # leptonic W decays


def test_one_recoil_model(samples):
    """Signal and QCD pT_hh come from the same ISR model: medians within 25 %, both tens of GeV."""
    med = {p: np.median(o["pT_hh"]) for p, o in samples.items()}
    for p in ("qcd_4b", "qcd_2b2j", "ttbar"):
        assert med[p] == pytest.approx(med["hh"], rel=0.25), med
    assert 20 < med["hh"] < 100


def test_met_from_semileptonic_b_decays(samples):
    """More b jets, more neutrinos: 4b has more met than 2b2j; the soft term alone sets the floor."""
    met = {p: np.median(o["met_Et"]) for p, o in samples.items()}
    assert met["qcd_4b"] > 1.05 * met["qcd_2b2j"]
    soft_only = np.median(np.hypot(*np.random.default_rng(0).normal(0, hh.SOFT_MET_GEV, (2, 100_000))))
    assert met["qcd_2b2j"] > soft_only


def test_isr_recoil_boost_keeps_masses():
    rng = np.random.default_rng(5)
    h1, h2 = hh._system_2to2(20.0, 200.0, 4.0, 1000, rng, np.full(1000, 100.0), np.full(1000, 125.0))
    assert np.allclose((h1 + h2).pt, 0.0, atol=1e-6)
    b1, b2 = hh._boost_system([h1, h2], np.full(1000, 60.0), np.zeros(1000))
    np.testing.assert_allclose((b1 + b2).pt, 60.0, rtol=1e-6)
    np.testing.assert_allclose((b1 + b2).mass, (h1 + h2).mass, rtol=1e-6)
    np.testing.assert_allclose(b2.mass, 125.0, rtol=1e-6)
