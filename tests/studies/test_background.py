"""Known answers of the background from control regions: its data-like error, Z, the templates and the scans."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hhnb.errors import InputFileError
from hhnb.stats import significance
from hhnb.studies import abcd, background, constraints


def _asimov_with_sigma(s: float, b: float, sigma_b: float) -> float:
    """Cowan, Cranmer, Gross, Vitells (2011), written out again here (physics.md section 4)."""
    v = sigma_b**2
    return float(np.sqrt(2 * ((s + b) * np.log((s + b) * (b + v) / (b**2 + (s + b) * v))
                              - b**2 / v * np.log(1 + v * s / (b * (b + v))))))


def _events(rows: list[tuple[str, float, float, float, float]]) -> dict[str, np.ndarray]:
    """(sample, score, m_h1, m_h2, weight) rows -> arrays; masses 120 = signal region, 70 = control region."""
    sample, score, m1, m2, w = (np.array(x) for x in zip(*rows))
    return {"sample": sample, "score": score.astype(float), "m1": m1.astype(float), "m2": m2.astype(float),
            "weight": w.astype(float), "is_signal": sample == "hh"}


# A hand-made set: B = 400 (SR, fail), C = 100 (CR, pass), D = 400 (CR, fail), A = 80 (SR, pass): the estimate is
# 100 with data-like variance 100^2 (1/400 + 1/100 + 1/400) = 150, closure 1.25, non-closure 0.25 (25 events);
# s = 50; ttbar 2 x 10 in the SR passing (sum w^2 = 200).
HAND = _events([("hh", 0.9, 120, 120, 50.0), ("qcd_4b", 0.9, 120, 120, 80.0), ("qcd_4b", 0.1, 120, 120, 400.0),
                ("qcd_4b", 0.9, 70, 70, 100.0), ("qcd_4b", 0.1, 70, 70, 400.0), ("ttbar", 0.9, 120, 120, 10.0),
                ("ttbar", 0.95, 125, 125, 10.0)])


def _quote(ev: dict, **kw) -> background.CRSignificance:
    return background.quote(ev["score"], ev["is_signal"], ev["sample"], ev["weight"], ev["m1"], ev["m2"], cut=0.5,
                            n_boot=50, **kw)


def test_data_like_variance_is_the_propagation_of_three_poisson_counts():
    assert float(background.data_like_variance(400.0, 100.0, 400.0)) == pytest.approx(150.0, rel=1e-12)
    # the estimate of abcd carries the same number
    ev = HAND
    mj = ev["sample"] == "qcd_4b"
    e = abcd.estimate(ev["score"][mj], ev["m1"][mj], ev["m2"][mj], ev["weight"][mj], 0.5)
    assert e.estimate == pytest.approx(100.0) and e.data_like_error() == pytest.approx(np.sqrt(150.0))
    assert float(background.data_like_variance(400.0, 0.0, 400.0)) == 0.0


def test_z_with_multijet_from_control_regions_is_the_analytic_asimov_z():
    q = _quote(HAND, estimated=background.MULTIJET)
    assert (q.s, q.estimated, q.other) == pytest.approx((50.0, 100.0, 20.0))
    assert q.closure == pytest.approx(1.25) and q.nonclosure == pytest.approx(0.25)
    assert q.estimated_data_error == pytest.approx(np.sqrt(150.0))
    # sigma_b^2 = 150 (data-like) + 25^2 (non-closure) + 200 (ttbar MC) = 975
    assert q.b == pytest.approx(120.0) and q.sigma_b == pytest.approx(np.sqrt(975.0))
    assert q.z == pytest.approx(_asimov_with_sigma(50.0, 120.0, np.sqrt(975.0)), rel=1e-10)
    assert q.z == pytest.approx(1.3486, abs=1e-4)  # by hand: sqrt(2 (170 ln 1.03331 - 14.769 ln 1.37100))
    # the MC-based Z beside it: b = 80 + 20 with sigma_b^2 = 80^2 + 2 x 10^2
    assert q.b_mc == pytest.approx(100.0) and q.b_mc_error == pytest.approx(np.sqrt(6600.0))
    assert q.z_mc == pytest.approx(_asimov_with_sigma(50.0, 100.0, np.sqrt(6600.0)), rel=1e-10)
    assert q.n_estimated_mc == {"A": 1, "B": 1, "C": 1, "D": 1}


def test_the_physics_check_value_with_a_given_nonclosure():
    # B x C / D = 100 with B, C, D so large that the data-like error is 0.1 %: sigma_b = 7 is the non-closure alone
    ev = _events([("hh", 0.9, 120, 120, 50.0), ("qcd_4b", 0.9, 120, 120, 100.0), ("qcd_4b", 0.1, 120, 120, 1e8),
                  ("qcd_4b", 0.9, 70, 70, 1e8), ("qcd_4b", 0.1, 70, 70, 1e14)])
    q = _quote(ev, nonclosure=0.07)
    assert q.sigma_b == pytest.approx(7.0, rel=1e-3)
    assert round(q.z, 2) == 3.72  # physics.md section 4: s = 50, b = 100, sigma_b = 7


def test_every_background_from_the_control_regions_by_default():
    q = _quote(HAND)  # ttbar joins the regions: A = 100, B = 400, C = 100, D = 400
    assert q.other == 0.0 and q.estimated == pytest.approx(100.0) and q.closure == pytest.approx(1.0)
    assert q.sigma_b == pytest.approx(np.sqrt(150.0))
    assert q.z == pytest.approx(float(significance.asimov_z(50.0, 100.0, np.sqrt(150.0))), rel=1e-12)


def test_an_independent_score_gives_the_true_background_within_its_error():
    inside = []
    for seed in range(30):
        rng = np.random.default_rng(seed)
        n = 20_000
        m1, m2 = rng.uniform(60, 180, n), rng.uniform(60, 180, n)
        sig = np.arange(n) < 500
        m1[sig], m2[sig] = 120.0, 120.0
        w = np.where(sig, 0.1, rng.exponential(1.0, n))
        score = np.where(sig, rng.uniform(0.7, 1.0, n), rng.uniform(size=n))
        q = background.quote(score, sig, np.where(sig, "hh", "qcd_2b2j"), w, m1, m2, cut=0.8, n_boot=20, seed=seed)
        truth = q.b_mc
        inside.append(abs(q.estimated - truth) < 2 * q.closure_error * truth)
    assert np.mean(inside) >= 0.9


def test_a_mass_made_score_is_caught_by_the_nonclosure():
    rng = np.random.default_rng(5)
    n = 40_000
    m1, m2 = rng.uniform(60, 180, n), rng.uniform(60, 180, n)
    sig = np.arange(n) < 400
    score = np.exp(-((m1 - 120) ** 2 + (m2 - 120) ** 2) / 800.0) + 0.1 * rng.uniform(size=n)
    q = background.quote(score, sig, np.where(sig, "hh", "qcd_4b"), np.ones(n), m1, m2, cut=0.5, n_boot=20)
    assert q.closure < 0.5 and q.nonclosure > 0.5
    assert q.sigma_b > 0.5 * q.estimated  # the systematic dominates


def test_quote_without_estimated_events_is_one_line_error():
    with pytest.raises(InputFileError, match="no background events"):
        _quote(HAND, estimated=("nonexistent",))


def _frames(seed: int = 2, n: int = 60_000) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    rng = np.random.default_rng(seed)
    bkg = pd.DataFrame({"sample": np.where(np.arange(n) % 10 == 0, "ttbar", "qcd_4b"), "weight": 2.0,
                        "score_sig": rng.uniform(size=n), "h1_M": rng.uniform(60, 180, n),
                        "h2_M": rng.uniform(60, 180, n), "m_hh": rng.uniform(250, 450, n)})
    sig = [pd.DataFrame({"weight": np.full(200, k), "score_sig": 1.0, "h1_M": 120.0, "h2_M": 120.0,
                         "m_hh": np.linspace(260, 440, 200)}) for k in (1.0, 2.0, 3.0)]
    return bkg, sig


def test_cr_templates_are_b_times_c_i_over_d():
    bkg, sig = _frames()
    t = constraints.build_templates("resolved", [250, 350, 450], bkg, sig, (0.0, 1.0, 2.45), cut=0.75)
    c = background.cr_templates(t, bkg, cut=0.75, estimated=background.MULTIJET)
    w, p = bkg["weight"].to_numpy(), bkg["score_sig"].to_numpy() >= 0.75
    sr, cr = abcd.regions(bkg["h1_M"], bkg["h2_M"])
    mj = bkg["sample"].to_numpy() == "qcd_4b"
    b, d = w[mj & sr & ~p].sum(), w[mj & cr & ~p].sum()
    c_i = np.histogram(bkg["m_hh"][mj & cr & p], [250, 350, 450], weights=w[mj & cr & p])[0]
    assert c.estimated == pytest.approx(b * c_i / d, rel=1e-12)
    assert c.estimated_var == pytest.approx((b * c_i / d) ** 2 * (1 / b + 1 / c_i + 1 / d), rel=1e-12)
    # the simulated truth plus what is not estimated is the MC template it replaces
    assert c.estimated_true + c.other == pytest.approx(t.background, rel=1e-12)
    assert c.templates.background == pytest.approx(c.estimated + c.other, rel=1e-12)
    other_var = np.histogram(bkg["m_hh"][~mj & sr & p], [250, 350, 450], weights=w[~mj & sr & p] ** 2)[0]
    assert c.templates.background_var == pytest.approx(c.estimated_var + other_var, rel=1e-12)
    assert c.f == pytest.approx(c.nonclosure * c.estimated.sum() / (c.estimated + c.other).sum(), rel=1e-12)
    assert np.array_equal(c.templates.signal, t.signal)  # the signal is untouched
    # an independent score: the estimate agrees with the truth bin by bin within its simulation error
    mc_err = np.sqrt(np.histogram(bkg["m_hh"][mj & sr & p], [250, 350, 450], weights=w[mj & sr & p] ** 2)[0])
    assert np.all(np.abs(c.estimated - c.estimated_true) < 3 * np.hypot(mc_err, c.estimated * 0.05))


def test_workspace_spec_carries_each_category_nonclosure_and_data_like_staterror():
    bkg, sig = _frames()
    t = constraints.build_templates("resolved", [250, 350, 450], bkg, sig, (0.0, 1.0, 2.45), cut=0.75)
    t2 = constraints.build_templates("boosted", [250, 450], bkg, sig, (0.0, 1.0, 2.45), cut=0.75)
    crs = [background.cr_templates(t, bkg, cut=0.75, nonclosure=0.2),
           background.cr_templates(t2, bkg, cut=0.75, nonclosure=0.0)]
    spec = background.workspace_spec(crs)
    mods = {ch["name"]: {m["type"]: m for m in ch["samples"][0]["modifiers"]} for ch in spec["channels"]}
    assert mods["resolved"]["normsys"]["data"] == pytest.approx({"hi": 1.2, "lo": 0.8})
    assert "normsys" not in mods["boosted"]  # f = 0: no normalisation uncertainty
    assert mods["resolved"]["staterror"]["data"] == pytest.approx(np.sqrt(crs[0].templates.background_var).tolist())
    big = background.cr_templates(t, bkg, cut=0.75, nonclosure=1.5)
    lo = background.workspace_spec([big])["channels"][0]["samples"][0]["modifiers"][0]["data"]["lo"]
    assert lo == background.MIN_NORMSYS_LO


def test_chi2_scan_sums_each_category_with_its_own_f():
    bkg, sig = _frames()
    t = constraints.build_templates("resolved", [250, 350, 450], bkg, sig, (0.0, 1.0, 2.45), cut=0.75)
    t2 = constraints.build_templates("boosted", [250, 450], bkg, sig, (0.0, 1.0, 2.45), cut=0.75)
    crs = [background.cr_templates(t, bkg, cut=0.75, nonclosure=0.1),
           background.cr_templates(t2, bkg, cut=0.75, nonclosure=0.3)]
    kl = np.linspace(-5, 5, 11)
    scan = background.chi2_scan(crs, kl, name="combined")
    expect = sum(constraints.chi2(c.templates.signal_at(kl)[0], c.templates.signal_at(1.0)[0], c.templates.background,
                                  c.f) for c in crs)
    assert scan.q == pytest.approx(expect, rel=1e-12) and scan.f == pytest.approx(max(c.f for c in crs))
    stat = background.chi2_scan(crs, kl, nonclosure=False)
    assert np.all(stat.q >= scan.q) and stat.f == 0.0


def test_pyhf_scan_closes_where_the_control_regions_are_large():
    # background 1e4 per bin with 1 % data-like errors, a signal whose shape changes with kl: the pyhf interval
    # closes and, without systematics, agrees with the study's chi2 (Gaussian limit) to a few per cent
    edges = np.array([250.0, 300, 350, 400])
    basis = (0.0, 1.0, 2.45)
    sig = np.array([[400.0, 300, 200], [200.0, 250, 300], [100.0, 150, 500]])
    t = constraints.Templates("resolved", edges, np.full(3, 1e4), np.full(3, 1e4), np.full(3, 10**4, int), basis,
                              sig, np.zeros_like(sig))
    c = background.CRTemplates(t, t, None, np.full(3, 1e4), np.full(3, 1e4), np.full(3, 1e4), np.zeros(3), 0.0, 0.0)
    kl = np.linspace(-10, 10, 81)
    p = background.pyhf_scan([c], kl, mc_stat=False).interval()
    q = background.chi2_scan([c], kl).interval()
    assert p.closed and q.closed
    assert p.low == pytest.approx(q.low, abs=0.1) and p.high == pytest.approx(q.high, abs=0.1)
