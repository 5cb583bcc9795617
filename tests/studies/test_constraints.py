"""kl constraints: chi2 and pyhf intervals against analytic answers, open intervals, empty bins, reproducibility."""

import numpy as np
import pandas as pd
import pytest

from hhnb.errors import BasisError, EmptyBinError
from hhnb.studies import constraints

BASIS = (1.0, 2.5, 5.5)
KL = np.linspace(-20, 20, 201)


def _one_bin(a=10.0, b=-3.0, bkg=1.0e4, mc=1000):
    """One bin whose signal is (a + b kl)^2: N(kl) exactly quadratic."""
    sig = np.array([[(a + b * k) ** 2] for k in BASIS])
    return constraints.Templates("one", np.array([0.0, 1.0]), np.array([bkg]), np.array([bkg**2 / mc]),
                                 np.array([mc]), BASIS, sig, np.zeros_like(sig))


def _analytic(a, b, bkg, f, thr):
    """chi2 = (s(kl) - s(1))^2 / (B + f^2 B^2) = thr  <=>  s(kl) = s(1) +- sqrt(thr var): roots in kl."""
    s1 = (a + b) ** 2
    out = []
    for sign in (+1, -1):
        target = s1 + sign * np.sqrt(thr * (bkg + (f * bkg) ** 2))
        if target >= 0:
            out += [(-a + r) / b for r in (np.sqrt(target), -np.sqrt(target))]
    return sorted(out)


@pytest.mark.parametrize("f", [0.0, 0.01])
def test_chi2_interval_matches_analytic_roots(f):
    t = _one_bin()
    scan = constraints.chi2_scan([t], KL, f=f)
    iv = scan.interval(0.6827)
    roots = _analytic(10.0, -3.0, 1.0e4, f, constraints.threshold(0.6827))
    assert iv.closed
    assert iv.low == pytest.approx(roots[0], abs=2e-3)
    assert iv.high == pytest.approx(roots[-1], abs=2e-3)


def test_pyhf_gaussian_limit_equals_chi2():
    """Large background, no MC stat: the Poisson profile likelihood with normsys f gives the chi2 interval."""
    t = _one_bin(bkg=1.0e6)
    for f in (0.0, 0.001):
        lk = constraints.Likelihood.build([t], f=f, mc_stat=False)
        q = lk.scan(KL).interval()
        c = constraints.chi2_scan([t], KL, f=f).interval()
        assert q.low == pytest.approx(c.low, abs=0.02) and q.high == pytest.approx(c.high, abs=0.02)


def test_pyhf_scan_is_reproducible_and_zero_at_sm():
    t = _one_bin()
    lk = constraints.Likelihood.build([t], f=0.01)
    a, b = lk.scan(KL), lk.scan(KL)
    assert np.array_equal(a.q, b.q)
    assert a.q[np.argmin(abs(KL - 1.0))] == pytest.approx(0.0, abs=1e-6)
    assert str(a.interval()) == str(b.interval())


def test_open_interval_is_reported_open():
    t = _one_bin(a=1.0, b=-0.01)  # almost no kl dependence: nothing excluded in [-20, 20]
    iv = constraints.chi2_scan([t], KL).interval()
    assert iv.low is None and iv.high is None and not iv.closed
    assert "open" in str(iv) and "-20" in str(iv)


def test_empty_background_bins_refused_or_merged():
    edges = np.array([200.0, 250, 300, 350])
    frame = pd.DataFrame({"m_hh": [210.0, 320.0, 330.0], "h1_M": 120.0, "h2_M": 120.0, "score_sig": 0.9,
                          "weight": 1.0})
    sig = [frame.assign(weight=w) for w in (1.0, 2.0, 3.0)]
    t = constraints.build_templates("resolved", edges, frame, sig, BASIS)
    with pytest.raises(EmptyBinError, match=r"'resolved'.*\[250, 300\) GeV.*merge") as e:
        constraints.check_background(t)
    assert "\n" not in str(e.value)
    with pytest.raises(EmptyBinError):
        constraints.chi2_scan([t], KL)
    m = constraints.check_background(t, "merge")
    assert m.edges.tolist() == [200.0, 300.0, 350.0]
    assert m.background_mc.tolist() == [1, 2] and m.merged == ("[250, 300)",)
    assert m.signal[2].tolist() == [3.0, 6.0]


def test_selection_uses_cut_and_signal_region():
    frame = pd.DataFrame({"m_hh": [300.0] * 4, "h1_M": [100.0, 100.0, 150.0, 100.0],
                          "h2_M": [100.0, 100.0, 100.0, 85.0], "score_sig": [0.8, 0.7, 0.9, 0.9]})
    assert constraints.selected(frame).tolist() == [True, False, False, False]


def test_basis_mismatch_refused():
    t1, t2 = _one_bin(), _one_bin()
    t2 = constraints.Templates("two", t2.edges, t2.background, t2.background_var, t2.background_mc,
                               (0.0, 1.0, 5.0), t2.signal, t2.signal_var)
    with pytest.raises(BasisError, match="different bases"):
        constraints.workspace_spec([t1, t2])


def _two_categories():
    a = _one_bin(a=10.0, b=-3.0, bkg=1.0e4, mc=1000)
    b = _one_bin(a=6.0, b=-1.0, bkg=2.0e3, mc=400)
    b = constraints.Templates("two", b.edges, b.background, b.background_var, b.background_mc, BASIS, b.signal,
                              b.signal_var)
    return [a, b]


def test_category_scans_equal_separate_fits():
    """One fit of the combination per kl gives each category's profile curve (disjoint nuisance parameters)."""
    ts = _two_categories()
    kl = np.linspace(-20, 20, 81)
    fast = constraints.category_scans(ts, kl, f=0.01, combined="combined")
    slow = constraints.profile_scans([[ts[0]], [ts[1]], ts], kl, f=0.01, names=["one", "two", "combined"],
                                     backend="numpy")  # each model fitted on its own
    assert [s.category for s in fast] == ["one", "two", "combined"]
    step = kl[1] - kl[0]
    for a, b in zip(fast, slow):
        near = b.q < 20
        assert np.abs(a.q - b.q)[near].max() < 0.01
        ia, ib = a.interval(), b.interval()
        assert ia.closed and abs(ia.low - ib.low) < step and abs(ia.high - ib.high) < step
    # the combination's curve is the sum of the categories' (each with its own minimum at kl = 1 here)
    assert np.allclose(fast[2].q, fast[0].q + fast[1].q, rtol=1e-4, atol=1e-3)


def test_jax_and_numpy_backends_agree():
    t, kl = _one_bin(), np.linspace(-20, 20, 81)
    jx = constraints.Likelihood.build([t], f=0.01, backend="jax").scan(kl)
    npy = constraints.Likelihood.build([t], f=0.01, backend="numpy").scan(kl)
    near = npy.q < 20
    assert np.abs(jx.q - npy.q)[near].max() < 0.01
    assert jx.interval().low == pytest.approx(npy.interval().low, abs=0.01)
    assert jx.interval().high == pytest.approx(npy.interval().high, abs=0.01)


def test_shared_nuisance_parameters_are_not_separable():
    ts = _two_categories()
    whole = constraints.Likelihood.build(ts, f=0.01)
    one = constraints.Likelihood.build(ts[:1], f=0.01)
    two = constraints.Likelihood.build(ts[1:], f=0.01)
    assert constraints.separable([one, two], whole)
    assert not constraints.separable([one, one], whole)
