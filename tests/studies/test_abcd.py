"""hhnb.studies.abcd: the regions, the ABCD estimate, and its closure: known answers on seeded toy backgrounds."""

from __future__ import annotations

import numpy as np
import pytest

from hhnb.errors import InputFileError, UserArgumentError
from hhnb.studies import abcd


def _background(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A falling multijet-like (m_h1, m_h2) spectrum over the control region, with positive weights."""
    m1 = 60 + rng.exponential(60.0, n)
    m2 = 60 + rng.exponential(50.0, n)
    return m1, m2, rng.uniform(0.5, 1.5, n)


def test_a_score_independent_of_the_masses_closes_within_its_error_in_most_trials():
    inside = []
    for seed in range(50):
        rng = np.random.default_rng(seed)
        m1, m2, w = _background(20000, rng)
        e = abcd.estimate(rng.uniform(size=len(m1)), m1, m2, w, cut=0.8)
        inside.append(abs(e.pulls) < 2.0)
    assert np.mean(inside) >= 0.9  # a 2-sigma interval covers 95 % of trials when the errors are right


def test_a_score_made_of_the_masses_fails_closure_by_many_sigma():
    rng = np.random.default_rng(7)
    m1, m2, w = _background(200000, rng)
    score = np.exp(-((m1 - 115) ** 2 + (m2 - 115) ** 2) / (2 * 25.0 ** 2))  # high in the signal region
    e = abcd.estimate(score, m1, m2, w, cut=0.5)
    assert e.closure < 0.5 and e.pulls < -10


def test_yields_and_errors_are_the_weighted_sums():
    m1 = np.array([100.0, 100.0, 150.0, 150.0, 150.0])
    m2 = np.array([100.0, 100.0, 100.0, 100.0, 100.0])
    score = np.array([0.9, 0.1, 0.9, 0.1, 0.1])
    w = np.array([2.0, 4.0, 1.0, 3.0, 1.0])
    e = abcd.estimate(score, m1, m2, w, cut=0.5)
    assert e.yields == {"A": 2.0, "B": 4.0, "C": 1.0, "D": 4.0}
    assert e.estimate == pytest.approx(4.0 * 1.0 / 4.0) and e.closure == pytest.approx(0.5)
    rel = np.sqrt(16 / 16 + 1 / 1 + 10 / 16)  # B, C, D: sum w^2 / yield^2
    assert e.estimate_error == pytest.approx(1.0 * rel)
    assert e.closure_error == pytest.approx(0.5 * np.hypot(rel, 2.0 / 2.0))
    assert e.data_like_error() == pytest.approx(1.0 * np.sqrt(1 / 4 + 1 / 1 + 1 / 4))


def test_elliptical_regions_follow_the_atlas_definition():
    sr, cr = abcd.regions(np.array([120.0, 140.0, 135.0, 200.0]), np.array([110.0, 110.0, 140.0, 200.0]), "ellipse")
    assert sr.tolist() == [True, True, False, False]  # X_hh = 0, 1.43, then 2.41 (outside), far away
    assert cr.tolist() == [False, False, True, False]


def test_empty_regions_and_unknown_kinds_are_user_errors():
    with pytest.raises(InputFileError, match="ABCD regions A, C have no"):
        abcd.estimate(np.zeros(3), np.array([100.0, 150.0, 100.0]), np.array([100.0, 100.0, 100.0]), np.ones(3), 0.5)
    with pytest.raises(UserArgumentError, match="region 'circle'"):
        abcd.regions(np.zeros(1), np.zeros(1), "circle")
