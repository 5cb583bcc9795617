import numpy as np
import pytest

from hhnb.studies import stats


def test_asimov_check_value():
    assert float(stats.asimov_z(50, 100, 7)) == pytest.approx(3.72, abs=0.005)


def test_asimov_limits():
    # small s/b: Z -> s / sqrt(b); large sigma_b lowers Z
    assert float(stats.asimov_z(1.0, 1e4)) == pytest.approx(0.01, rel=1e-3)
    assert float(stats.asimov_z(50, 100, 1e-9)) == pytest.approx(float(stats.asimov_z(50, 100)), rel=1e-6)
    assert float(stats.asimov_z(50, 100, 20)) < float(stats.asimov_z(50, 100, 7))


def test_zero_background_is_zero():
    np.testing.assert_array_equal(stats.asimov_z(np.array([1.0, 2.0]), np.array([0.0, 4.0]))[0], 0.0)
    assert float(stats.s_over_sqrt_b(3.0, 0.0)) == 0.0
