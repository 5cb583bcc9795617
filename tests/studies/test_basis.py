"""Basis reweighting: the three-sample combination against directly generated signal samples."""

import numpy as np
import pytest

from hhnb.config import analyses
from hhnb.errors import BasisError
from hhnb.io import ntuples as data
from hhnb.studies import basis
from hhnb.toy import physics
from hhnb.toy.generate import generate_sample

EDGES = [250, 300, 350, 400, 500, 700, 1000]


def _hist(data_dir, kl):
    ana = analyses.analysis("resolved")
    sample = ana.samples_of("signal")[0]
    df = data.read_sample(ana, sample, data.sample_files(sample, data_dir, kl), ["m_hh"])
    return basis.histogram(df["m_hh"].to_numpy(), df["weight"].to_numpy(), EDGES)


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    d = tmp_path_factory.mktemp("basis")
    for i, kl in enumerate((*basis.DEFAULT_BASIS, -7.0, 12.0)):
        generate_sample(d, "hh", kl, events=6000, seed=100 + i, progress=False)
    return d


@pytest.mark.parametrize("kl", [-7.0, 12.0])
def test_combination_matches_direct_generation(toy, kl):
    hs = [_hist(toy, b) for b in basis.DEFAULT_BASIS]
    values, variances = basis.combine(np.array([h for h, _ in hs]), np.array([v for _, v in hs]),
                                      basis.DEFAULT_BASIS, kl)
    direct, direct_var = _hist(toy, kl)
    chi2, ndf, p = basis.agreement(values, variances, direct, direct_var)
    assert ndf == len(EDGES) - 1
    assert p > 0.01, (chi2, ndf)
    # the totals agree to the MC error and the combination is not trivially zero
    assert abs(values.sum() - direct.sum()) < 3 * np.sqrt(variances.sum() + direct_var.sum())
    assert values.sum() > 0


def test_coefficients_reproduce_a_quadratic():
    kl = np.linspace(-20, 20, 41)
    f = lambda x: 3.0 - 2.0 * x + 0.5 * x**2  # noqa: E731
    c = basis.coefficients(basis.DEFAULT_BASIS, kl)
    assert np.allclose(c @ np.array([f(b) for b in basis.DEFAULT_BASIS]), f(kl))
    assert np.allclose(c.sum(-1), 1.0)


def test_default_basis_keeps_yield_shares_small_and_beats_cms():
    ours = basis.quality(basis.DEFAULT_BASIS, physics.sigma_hh)
    cms = basis.quality(basis.CMS_BASIS, physics.sigma_hh)
    assert ours.max_abs_share < 1.05
    assert cms.max_abs_share > 3.0
    assert ours.max_error_inflation < cms.max_error_inflation / 3


def test_missing_basis_sample_is_one_line():
    with pytest.raises(BasisError, match=r"missing at kappa_lambda 5.5 .*available: 1.0, 2.5") as e:
        basis.require({1.0: "a", 2.5: "b"}, basis.DEFAULT_BASIS)
    assert "\n" not in str(e.value)
    with pytest.raises(BasisError, match="three different"):
        basis.coefficients((1.0, 1.0, 2.0), 0.0)
