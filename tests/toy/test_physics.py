"""hhnb.toy.physics: the HH cross section against the NNLO formula, the m_hh amplitude and its sampling."""

import numpy as np
import pytest

from hhnb.toy import physics


@pytest.mark.parametrize("kl", np.linspace(-20, 20, 41))
def test_sigma_ratio_follows_nnlo_formula(kl):
    ref = physics.sigma_hh_nnlo(kl) / physics.sigma_hh_nnlo(1.0)
    assert physics.sigma_ratio_toy(kl) == pytest.approx(ref, rel=0.05)


def test_published_ratios():
    assert physics.sigma_ratio_toy(10) == pytest.approx(21.7, rel=0.01)
    assert physics.sigma_ratio_toy(-5) == pytest.approx(19.3, rel=0.01)
    kls = np.linspace(0, 5, 501)
    assert kls[np.argmin([physics.sigma_ratio_toy(k) for k in kls])] == pytest.approx(2.28, abs=0.02)


def test_amplitude_zero_position():
    for kl, m0 in [(1, 250.0), (5, 500.0), (10, 696.0)]:
        m = np.linspace(251, 1500, 20000)
        me = physics.matrix_element_sq(m, kl) / m**4
        if kl == 1:
            assert me[0] < 1e-3 * me.max()
        else:
            assert m[np.argmin(me)] == pytest.approx(m0, abs=2.0)


def test_mhh_spectrum_softens_away_from_2p4():
    rng = np.random.default_rng(1)
    med = {kl: np.median(physics.sample_mhh(kl, 200_000, rng)) for kl in (-20, -5, 1, 2.4, 5, 10, 20)}
    assert med[2.4] > med[1] > med[-5] > med[-20]
    assert med[2.4] > med[5]
    assert med[10] < med[1] and med[20] < med[1]


def test_biased_sampling_restores_spectrum():
    rng = np.random.default_rng(2)
    m, w = physics.sample_mhh_biased(10.0, 400_000, rng)
    ref = physics.sample_mhh(10.0, 400_000, rng)
    edges = np.array([250, 300, 350, 400, 500, 700, 3000])
    a = np.histogram(m, edges, weights=w)[0] / w.sum()
    b = np.histogram(ref, edges)[0] / len(ref)
    np.testing.assert_allclose(a, b, atol=0.01)
    assert w.mean() == pytest.approx(1.0, rel=0.02)
