"""hhnb.toy.tthh: no flavour in the jet masses, one ISR model growing with the hard scale, the lepton, biased generation."""

import numpy as np
import pytest
import vector
from scipy import stats
from weighted import batches, chi2_p

from hhnb.toy import tthh


def test_jet_mass_does_not_tell_the_flavour():
    """b-tagged and untagged jets have the same mass / pT (the parton mass, 4.8 or 0 GeV, would tell)."""
    out = tthh.generate_batch("ttbb", 6000, np.random.default_rng(5), bias=False)
    ratio, tag = [], []
    for i in range(1, tthh.MAX_JETS + 1):
        ok = out[f"j{i}_Pt"] > 0
        ratio.append(out[f"j{i}_M"][ok] / out[f"j{i}_Pt"][ok])
        tag.append(out[f"j{i}_BTag"][ok] == 1)
    ratio, tag = np.concatenate(ratio), np.concatenate(tag)
    assert tag.sum() > 1000 and (~tag).sum() > 1000
    assert ratio[tag].mean() == pytest.approx(tthh.JET_MASS_FRACTION, rel=0.05)
    assert ratio[~tag].mean() == pytest.approx(ratio[tag].mean(), rel=0.05)


def test_isr_rate_grows_with_the_hard_scale():
    rates = [tthh.isr_rate(p) for p in ("ttbb", "ttz", "tth", "tthh")]
    assert rates[0] == pytest.approx(tthh.ISR_RATE)
    assert all(a < b for a, b in zip(rates, rates[1:]))
    # (ln(900/15) / ln(550/15))^2 = 1.29
    assert rates[-1] / rates[0] == pytest.approx(1.29, abs=0.01)


def test_tthh_has_more_jets_than_ttbb():
    """Two more b quarks and more radiation: more jets above 30 GeV, on average, than ttbb."""
    rng = np.random.default_rng(8)
    nj = {p: tthh.generate_batch(p, 5000, rng, bias=False)["numjet"].mean() for p in ("tthh", "ttbb")}
    assert nj["tthh"] > nj["ttbb"] + 1.5


def test_tau_lepton_momentum_fraction():
    """tau -> l nu nu, collinear and unpolarised: dN/dx = 5/3 - 3x^2 + 4/3 x^3, CDF 5/3 x - x^3 + x^4 / 3."""
    x = tthh.tau_lepton_fraction(20000, np.random.default_rng(2))
    assert x.mean() == pytest.approx(0.35, abs=0.006)  # 7/20
    assert stats.kstest(x, lambda v: 5 / 3 * v - v**3 + v**4 / 3).pvalue > 0.01


def test_charged_lepton_acceptance():
    """Hard central W leptons: e and mu seen with LEPTON_EFF, taus only in their leptonic decays (35.2 %)."""
    n = 100_000
    rng = np.random.default_rng(3)
    lep = vector.array({"pt": np.full(n, 1000.0), "eta": np.zeros(n), "phi": rng.uniform(-3, 3, n), "mass": np.zeros(n)})
    nu = vector.array({"pt": np.full(n, 50.0), "eta": np.zeros(n), "phi": np.zeros(n), "mass": np.zeros(n)})
    vis, ok, nx, ny = tthh.charged_lepton(lep, nu, rng)
    x_min = tthh.LEP_PT / 1000.0  # the tau's lepton must carry at least this fraction
    p_tau = 1 - (5 / 3 * x_min - x_min**3 + x_min**4 / 3)
    expected = tthh.LEPTON_EFF * (2 / 3 + 1 / 3 * tthh.TAU_TO_E_MU * p_tau)
    assert ok.mean() == pytest.approx(expected, abs=0.006)
    # a tau's invisible share goes to the neutrinos: visible + missing px adds up to the W decay's
    soft = ok & (vis.pt < 900)  # leptons from taus (e and mu keep about their full pT)
    assert soft.sum() > 1000
    assert np.allclose((vis.px + nx)[soft], (lep.px + nu.px)[soft], rtol=0.1, atol=30.0)


def test_tthh_lepton_selection_fraction():
    """About half of the semileptonic events have one identified e or mu above 25 GeV (0.76 if every tau counted)."""
    out = tthh.generate_batch("tthh", 20000, np.random.default_rng(9), bias=False)
    assert 0.45 < out["numlep"].mean() < 0.55


def test_ttbb_further_pair_is_drawn_like_the_first(monkeypatch):
    """ttbb's further heavy-flavour pair comes from the first pair's hard/soft mixture (the measured
    ttbb/ttjj and ttcc/ttjj ratios count additional jets above 20 GeV): in every event, it adds about as
    many jets above the threshold as the first pair has (1.5; the earlier soft splitting gave 1.2)."""
    rng = np.random.default_rng(11)
    first = tthh._pair(tthh._gluon_splitting(100_000, rng), 4.8, rng)
    per_pair = sum(((j.pt > tthh.JET_PT) & (np.abs(j.eta) < tthh.JET_ETA)).mean() for j in first)
    monkeypatch.setattr(tthh, "TTBB_EXTRA_B", 1.0)
    numjet = {}
    for rate in (0.001, 0.999):
        monkeypatch.setattr(tthh, "TTBB_EXTRA", rate)
        numjet[rate] = tthh.generate_batch("ttbb", 40_000, np.random.default_rng(6), bias=False)["numjet"].mean()
    assert per_pair == pytest.approx(1.53, abs=0.02)
    assert numjet[0.999] - numjet[0.001] == pytest.approx(per_pair, abs=0.1)


@pytest.mark.parametrize("process", ["ttbb", "tth"])
def test_biased_tthh_backgrounds_are_unbiased(process):
    def gen(n, rng, bias):
        return tthh.generate_batch(process, n, rng, bias=bias, signed=False)

    n = 40_000
    plain = batches(gen, n, 21, bias=False)
    biased = batches(gen, n, 22, bias=True)
    pa, ba = plain["category"] == 0, biased["category"] == 0
    wp, wb = plain["weight_factor"] * pa, biased["weight_factor"] * ba
    for var, edges in {"btag": np.arange(3.5, 9.5), "numjet": np.arange(5.5, 13.5),
                       "m_bb": None, "h_b": None}.items():
        p = chi2_p(plain[var][pa], wp[pa], n, biased[var][ba], wb[ba], n, edges)
        assert p > 0.001, (process, var, p)
    sel_p = pa & (plain["btag"] >= 5) & (plain["numjet"] >= 7)
    sel_b = ba & (biased["btag"] >= 5) & (biased["numjet"] >= 7)
    # the files keep a fixed number of events: with the bias most of them are in the selection, and the
    # selected yield's relative MC error per generated event is no worse (flat weights over tag patterns)
    assert sel_b.sum() / ba.sum() > 3 * sel_p.sum() / pa.sum()
    rel_p = np.sqrt((wp[sel_p] ** 2).sum()) / wp[sel_p].sum()
    rel_b = np.sqrt((wb[sel_b] ** 2).sum()) / wb[sel_b].sum()
    assert rel_b < rel_p
