"""hhnb.toy.nlo: the NLO-like backgrounds' negative weights leave every weighted distribution unbiased."""

import numpy as np
import pytest
from scipy import stats
from weighted import batches, chi2_p

from hhnb.toy import hh, nlo, tthh

N = 80_000


@pytest.mark.parametrize(("module", "process", "kw", "variables"), [
    (hh, "ttbar", {"pt_slice": (0.0, 300.0)}, ("m_hh", "pT_hh", "h1_M", "met_Et")),
    (tthh, "ttz", {}, ("m_bb", "j1_Pt", "srap", "met_Et")),
])
def test_signed_weights_reproduce_the_positive_sample(module, process, kw, variables):
    def gen(n, rng, signed):
        return module.generate_batch(process, n, rng, bias=False, signed=signed, **kw)

    plain = batches(gen, N, 21, signed=False)
    signed = batches(gen, N, 22, signed=True)
    pa, sa = plain["category"] >= 0, signed["category"] >= 0
    wp, ws = plain["weight_factor"] * pa, signed["weight_factor"] * sa
    negative = (ws[sa] < 0).mean()
    assert 0.15 <= negative <= 0.25, negative
    # the yield per generated event agrees within 3 standard deviations (sum w^2 errors)
    yp, ys = wp.sum() / N, ws.sum() / N
    assert abs(yp - ys) < 3 * np.hypot(np.sqrt((wp**2).sum()), np.sqrt((ws**2).sum())) / N
    for var in variables:
        p = chi2_p(plain[var][pa], wp[pa], N, signed[var][sa], ws[sa], N)
        assert p > 0.001, (process, var, p)
    # what negative weights cost: the effective number of events falls by about (1 - 2 f)^2
    kish = ws[sa].sum() ** 2 / (ws[sa] ** 2).sum() / sa.sum()
    assert 0.25 < kish < 0.5, kish


def test_other_processes_stay_positive():
    out = hh.generate_batch("qcd_4b", 5000, np.random.default_rng(3), pt_slice=(20.0, 200.0), bias=False)
    assert (out["weight_factor"] > 0).all() and "qcd_4b" not in nlo.NLO_PROCESSES


@pytest.mark.parametrize(("module", "process", "kw", "recoil", "variables"), [
    (hh, "ttbar", {"pt_slice": (0.0, 300.0)}, "pT_hh", ("m_hh", "pT_hh", "h1_M", "met_Et")),
    (tthh, "ttz", {}, "j1_Pt", ("m_bb", "j1_Pt", "srap", "met_Et")),
])
def test_signs_on_top_of_the_importance_sampling_of_the_toy_files(module, process, kw, recoil, variables):
    """As written into the toy files (``bias=True``): the signs are drawn last, so one seed gives the same events
    signed and unsigned, and sum (w_signed - w_unsigned) in any bin is zero up to the sign noise alone."""
    signed, plain = (module.generate_batch(process, 40_000, np.random.default_rng(31), signed=s, **kw)
                     for s in (True, False))
    np.testing.assert_array_equal(signed[recoil], plain[recoil])  # the same events
    kept = signed["category"] >= 0
    ws, wp = signed["weight_factor"][kept], plain["weight_factor"][kept]
    factor = ws / wp  # +-1 / (1 - 2 f(recoil))
    assert 0.15 <= (factor < 0).mean() <= 0.25
    np.testing.assert_allclose(np.abs(factor), 1.0 / (1.0 - 2.0 * nlo.negative_fraction(signed[recoil][kept])))
    d = ws - wp  # mean 0 given the events; its variance is estimated by d^2
    assert abs(d.sum()) < 3 * np.sqrt((d**2).sum())
    for var in (*variables, recoil):
        x = signed[var][kept]
        edges = np.unique(np.quantile(x, np.linspace(0, 1, 7)))
        edges[-1] += 1e-6
        num, var_d = np.histogram(x, edges, weights=d)[0], np.histogram(x, edges, weights=d**2)[0]
        chi2 = float((num**2 / var_d).sum())
        assert stats.chi2.sf(chi2, len(num)) > 0.001, (process, var, chi2, len(num))
