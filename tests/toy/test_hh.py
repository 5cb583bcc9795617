"""hhnb.toy.hh: one recoil model, met from neutrinos, ttbar with top-quark mass structure, unbiased biased generation."""

import itertools

import numpy as np
import pytest
import vector
from weighted import batches, chi2_p

from hhnb.toy import hh

N = 80_000


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


# Biased (importance) generation of the backgrounds: weighted yields and shapes equal an unbiased run.


def _window(o):
    return (o["h1_M"] > 90) & (o["h1_M"] < 140) & (o["h2_M"] > 90) & (o["h2_M"] < 140)


HH_VARS = {"m_hh": None, "h1_M": None, "h2_M": None, "pT_hh": None, "met_Et": None, "dEta_hh": None,
           "nBTags": np.arange(1.5, 5.5), "h1_j1_j2_dR": None}


@pytest.mark.parametrize("process,pt_slice,category", [
    ("qcd_2b2j", (20.0, 200.0), 0), ("qcd_4b", (20.0, 200.0), 0), ("ttbar", (0.0, 300.0), 0),
    # candidates above the large-R threshold: the narrower mass window of the merged categories
    ("qcd_2b2j", (200.0, 500.0), 2)])
def test_biased_hh_backgrounds_are_unbiased(process, pt_slice, category):
    def gen(n, rng, bias):
        return hh.generate_batch(process, n, rng, pt_slice=pt_slice, bias=bias, signed=False)

    plain = batches(gen, N, 11, bias=False)
    biased = batches(gen, N, 12, bias=True)
    assert np.allclose(plain["weight_factor"], 1.0)
    pa, ba = plain["category"] == category, biased["category"] == category
    wp, wb = plain["weight_factor"] * pa, biased["weight_factor"] * ba
    # total yield of the category per generated event agrees within 3 standard deviations
    yp, yb = wp.sum() / N, wb.sum() / N
    sp, sb = np.sqrt((wp**2).sum()) / N, np.sqrt((wb**2).sum()) / N
    assert abs(yp - yb) < 3 * np.hypot(sp, sb)
    for var, edges in HH_VARS.items():
        p = chi2_p(plain[var][pa], wp[pa], N, biased[var][ba], wb[ba], N, edges)
        assert p > 0.001, (process, var, p)
    # the point of it: many more simulated events in the signal-like region (preselected, window, four b-tags)
    sr_p = pa & _window(plain) & (plain["nBTags"] == 4) & hh.preselected(plain)
    sr_b = ba & _window(biased) & (biased["nBTags"] == 4) & hh.preselected(biased)
    # the files keep a fixed number of events: compare per written event of the category
    assert sr_b.sum() / ba.sum() > 2 * sr_p.sum() / pa.sum()
    rel_p = np.sqrt((wp[sr_p] ** 2).sum()) / wp[sr_p].sum() * np.sqrt(pa.sum())
    rel_b = np.sqrt((wb[sr_b] ** 2).sum()) / wb[sr_b].sum() * np.sqrt(ba.sum())
    assert rel_b < 0.7 * rel_p, (rel_p, rel_b)
    # and most written events pass the analyses' preselection with >= 3 b-tags (events outside are prescaled)
    inside_p = (hh.preselected(plain) & (plain["nBTags"] >= 3))[pa].mean()
    inside_b = (hh.preselected(biased) & (biased["nBTags"] >= 3))[ba].mean()
    assert inside_b > 0.7 and inside_b > inside_p + 0.3, (inside_p, inside_b)


def test_window_weights_are_flat_on_the_plateau():
    """The mass proposal's weight p/q takes one value when both true masses sit on the plateau."""
    rng = np.random.default_rng(4)
    wide = rng.random(40000) < 0.5
    m1, m2, w = hh._qcd_masses(40000, rng, bias=True, wide=wide)
    for window, mask in ((hh.MASS_WINDOW_GEV, ~wide), (hh.MASS_WINDOW_WIDE_GEV, wide)):
        lo, hi = window
        plateau = mask & (m1 > lo + 30) & (m1 < hi - 30) & (m2 > lo + 30) & (m2 < hi - 30)
        assert plateau.sum() > 1000
        assert w[plateau].std() / w[plateau].mean() < 0.01
    # the mean weight over the proposal is 1 (E_q[p/q] = 1)
    assert w.mean() == pytest.approx(1.0, abs=0.03)


# -- systematic variations (issue 25) --------------------------------------------------------------------

@pytest.mark.parametrize("process,kw", [("qcd_2b2j", {"pt_slice": (20.0, 200.0)}), ("ttbar", {}), ("hh", {"kl": 5.0})])
def test_variations_leave_the_nominal_bit_identical(process, kw):
    """The variations draw no random number: the nominal events are those generate_batch gives, bit for bit."""
    plain = hh.generate_batch(process, 3000, np.random.default_rng(11), **kw)
    nominal, varied = hh.generate_batch_varied(process, 3000, np.random.default_rng(11), **kw)
    assert set(plain) == set(nominal)
    for k in plain:
        assert np.array_equal(plain[k], nominal[k]), k
    assert set(varied) == {"JES__1up", "JES__1down", "JER__1up", "JER__1down"}
    for o in varied.values():  # generator-level properties are the event's own
        i = o["_index"]  # the events a variation can accept, every one the nominal accepts among them
        assert set(np.flatnonzero(nominal["category"] >= 0)) <= set(i)
        assert np.array_equal(o["h1_j1_BTag"] + o["h1_j2_BTag"] + o["h2_j1_BTag"] + o["h2_j2_BTag"],
                              nominal["nBTags"][i])
        assert np.array_equal(np.sign(o["weight_factor"]), np.sign(nominal["weight_factor"][i]))


def test_jes_scales_every_jet_by_its_uncertainty():
    """JES up: each jet's pT times 1 + u(pT, eta) (5 % at 20 GeV, 1 % at high pT); down: 1 - u."""
    nominal, varied = hh.generate_batch_varied("hh", 4000, np.random.default_rng(12))
    i = varied["JES__1up"]["_index"]
    nominal = {k: v[i] for k, v in nominal.items()}
    jets = _jets(nominal)
    total = sum(j.pt for j in jets)
    shift = sum(j.pt * hh.jes_uncertainty(j.pt, j.eta) for j in jets)
    for name, sign in (("JES__1up", 1.0), ("JES__1down", -1.0)):
        moved = sum(j.pt for j in _jets(varied[name]))
        np.testing.assert_allclose(moved - total, sign * shift, rtol=1e-9, atol=1e-9)
    mean = float(np.mean(shift / total))
    assert 0.012 < mean < 0.02  # signal jets of 40-150 GeV: about 1.5 %
    # met follows the jets (type-1 propagation): the vector sum of jets + met is unchanged
    for name in ("JES__1up", "JER__1down"):
        o = varied[name]
        for trig in (np.cos, np.sin):
            a = sum(j.pt * trig(j.phi) for j in jets) + nominal["met_Et"] * trig(nominal["met_Phi"])
            b = sum(j.pt * trig(j.phi) for j in _jets(o)) + o["met_Et"] * trig(o["met_Phi"])
            np.testing.assert_allclose(a, b, atol=1e-6)


def test_jer_up_widens_and_down_narrows_the_mass_resolution():
    """JER (scaling method): the Higgs-candidate mass peak widens by about JER_RELATIVE up, narrows down."""
    nominal, varied = hh.generate_batch_varied("hh", 20_000, np.random.default_rng(13))
    nominal = {k: v[varied["JER__1up"]["_index"]] for k, v in nominal.items()}
    ok = (nominal["category"] == 0) & (varied["JER__1up"]["category"] == 0) & (varied["JER__1down"]["category"] == 0)

    def width(o):
        q = np.percentile(o["h1_M"][ok], [16, 84])
        return (q[1] - q[0]) / 2

    w0, up, down = width(nominal), width(varied["JER__1up"]), width(varied["JER__1down"])
    assert 1.03 < up / w0 < 1.09 and 0.91 < down / w0 < 0.97, (w0, up, down)


def test_btag_weights_are_the_scale_factor_uncertainties():
    """Signal jets are b jets: four tags give prod(1 + delta_b(pT)), an untagged b jet (1 - 0.8 SF) / 0.2."""
    o = hh.generate_batch("hh", 5000, np.random.default_rng(14))
    jets = _jets(o)
    tags = [o[f"{c}_{j}_BTag"] for c in ("h1", "h2") for j in ("j1", "j2")]
    for sign, key in ((1.0, "btag_sf_up"), (-1.0, "btag_sf_down")):
        expected = np.ones(5000)
        for j, t in zip(jets, tags):
            d = hh.btag_sf_uncertainty(j.pt, np.full(5000, "b"))
            expected *= np.where(t > 0, 1 + sign * d, (1 - 0.8 * (1 + sign * d)) / 0.2)
        np.testing.assert_allclose(o[key], expected, rtol=1e-12)
    four = (o["nBTags"] == 4) & (o["category"] >= 0)  # jets above 40 GeV
    assert 0.05 < float(np.mean(o["btag_sf_up"][four] - 1)) < 0.1  # four b jets of 1-8 % each
