"""Biased (importance) generation of the backgrounds: weighted yields and shapes equal an unbiased run."""

import numpy as np
import pytest
from scipy import stats

from hhnb.toy import hh, tthh

N = 80_000


def _window(o):
    return (o["h1_M"] > 90) & (o["h1_M"] < 140) & (o["h2_M"] > 90) & (o["h2_M"] < 140)


def _chi2_p(a, wa, na, b, wb, nb, edges=None):
    """p-value that two weighted histograms (yields per generated event) come from the same distribution.

    Bins are sextiles of the unbiased sample (a) unless given, so every bin holds enough events of
    both for sum w^2 to be a fair variance (the biased sample's weights are heavy-tailed outside the
    signal-like region).
    """
    if edges is None:
        edges = np.unique(np.quantile(a, np.linspace(0, 1, 7)))
        edges[-1] += 1e-6
    ha = np.histogram(a, edges, weights=wa)[0] / na
    hb = np.histogram(b, edges, weights=wb)[0] / nb
    va = np.histogram(a, edges, weights=wa**2)[0] / na**2
    vb = np.histogram(b, edges, weights=wb**2)[0] / nb**2
    ok = (np.histogram(a, edges)[0] >= 5) & (np.histogram(b, edges)[0] >= 5)
    chi2 = float((((ha - hb) ** 2)[ok] / (va + vb)[ok]).sum())
    return stats.chi2.sf(chi2, int(ok.sum()))


def _batches(generate, n, seed, **kw):
    rng = np.random.default_rng(seed)
    parts = [generate(n=n // 4, rng=rng, **kw) for _ in range(4)]
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


HH_VARS = {"m_hh": None, "h1_M": None, "h2_M": None, "pT_hh": None, "met_Et": None, "dEta_hh": None,
           "nBTags": np.arange(1.5, 5.5), "h1_j1_j2_dR": None}


@pytest.mark.parametrize("process,pt_slice,category", [
    ("qcd_2b2j", (20.0, 200.0), 0), ("qcd_4b", (20.0, 200.0), 0), ("ttbar", (0.0, 300.0), 0),
    # candidates above the large-R threshold: the narrower mass window of the merged categories
    ("qcd_2b2j", (200.0, 500.0), 2)])
def test_biased_hh_backgrounds_are_unbiased(process, pt_slice, category):
    def gen(n, rng, bias):
        return hh.generate_batch(process, n, rng, pt_slice=pt_slice, bias=bias, signed=False)

    plain = _batches(gen, N, 11, bias=False)
    biased = _batches(gen, N, 12, bias=True)
    assert np.allclose(plain["weight_factor"], 1.0)
    pa, ba = plain["category"] == category, biased["category"] == category
    wp, wb = plain["weight_factor"] * pa, biased["weight_factor"] * ba
    # total yield of the category per generated event agrees within 3 standard deviations
    yp, yb = wp.sum() / N, wb.sum() / N
    sp, sb = np.sqrt((wp**2).sum()) / N, np.sqrt((wb**2).sum()) / N
    assert abs(yp - yb) < 3 * np.hypot(sp, sb)
    for var, edges in HH_VARS.items():
        p = _chi2_p(plain[var][pa], wp[pa], N, biased[var][ba], wb[ba], N, edges)
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


@pytest.mark.parametrize("process", ["ttbb", "tth"])
def test_biased_tthh_backgrounds_are_unbiased(process):
    def gen(n, rng, bias):
        return tthh.generate_batch(process, n, rng, bias=bias, signed=False)

    n = 40_000
    plain = _batches(gen, n, 21, bias=False)
    biased = _batches(gen, n, 22, bias=True)
    pa, ba = plain["category"] == 0, biased["category"] == 0
    wp, wb = plain["weight_factor"] * pa, biased["weight_factor"] * ba
    for var, edges in {"btag": np.arange(3.5, 9.5), "numjet": np.arange(5.5, 13.5),
                       "m_bb": None, "h_b": None}.items():
        p = _chi2_p(plain[var][pa], wp[pa], n, biased[var][ba], wb[ba], n, edges)
        assert p > 0.001, (process, var, p)
    sel_p = pa & (plain["btag"] >= 5) & (plain["numjet"] >= 7)
    sel_b = ba & (biased["btag"] >= 5) & (biased["numjet"] >= 7)
    # the files keep a fixed number of events: with the bias most of them are in the selection, and the
    # selected yield's relative MC error per generated event is no worse (flat weights over tag patterns)
    assert sel_b.sum() / ba.sum() > 3 * sel_p.sum() / pa.sum()
    rel_p = np.sqrt((wp[sel_p] ** 2).sum()) / wp[sel_p].sum()
    rel_b = np.sqrt((wb[sel_b] ** 2).sum()) / wb[sel_b].sum()
    assert rel_b < rel_p


def test_generate_sample_bias_keeps_yield(tmp_path):
    """Through the file writer: the weighted resolved yields with and without bias agree within 3 sigma."""
    import uproot

    from hhnb.toy.generate import generate_sample

    yields = []
    for name, bias in (("a", False), ("b", True)):
        w = {x.analysis: x for x in generate_sample(tmp_path / name, "qcd_2b2j", events=1200, seed=3,
                                                    progress=False, bias=bias)}["resolved"]
        with uproot.open(w.path) as f:
            weight = f["preselection"]["weight"].array(library="np")
        assert weight.sum() == pytest.approx(w.yield_, rel=1e-6)
        yields.append((weight.sum(), np.sqrt((weight**2).sum())))
    (ya, sa), (yb, sb) = yields
    assert abs(ya - yb) < 3 * np.hypot(sa, sb)
