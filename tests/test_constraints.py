"""kl constraints: chi2 and pyhf intervals against analytic answers, open intervals, empty bins, reproducibility."""

import numpy as np
import pandas as pd
import pytest

from hhnb.studies import basis, constraints

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
    with pytest.raises(constraints.EmptyBinError, match=r"'resolved'.*\[250, 300\) GeV.*merge") as e:
        constraints.check_background(t)
    assert "\n" not in str(e.value)
    with pytest.raises(constraints.EmptyBinError):
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
    with pytest.raises(basis.BasisError, match="different bases"):
        constraints.workspace_spec([t1, t2])
