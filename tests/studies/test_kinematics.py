"""Kinematic histograms: normalisation, weights, branch selection and the multi-lambda m_hh overlay."""

from __future__ import annotations

import numpy as np
import pytest

from hhnb.config import analyses as _config
from hhnb.errors import InputFileError
from hhnb.studies import kinematics as kin


def test_histogram_weighted_and_normalised():
    h = kin.histogram(np.array([0.5, 1.5, 1.5, 5.0]), np.array([0.0, 1.0, 3.0]), weight=np.array([1, 1, 2, 9.0]))
    assert (h.values() * np.array([1.0, 2.0])).sum() == pytest.approx(1.0)
    assert h.values()[0] / h.values()[1] == pytest.approx(1 / 3 * 2)  # densities: 1/1 vs 3/2


def test_mhh_truth_follows_kl():
    hs = kin.mhh_truth((1.0, 10.0), n=50_000)
    centres = hs["1.0"].axes[0].centers
    mean = {t: np.average(centres, weights=h.values()) for t, h in hs.items()}
    assert mean["10.0"] < mean["1.0"]  # large |kl| gives a soft spectrum near threshold
    for h in hs.values():
        assert (h.values() * h.axes[0].widths).sum() == pytest.approx(1.0)


def test_every_grouped_variable_has_a_label_with_binning():
    for groups in (kin.GROUPS_HH, kin.GROUPS_TTHH):
        for names in groups.values():
            for v in names:
                label, edges = kin.VARIABLES[v]
                assert label and len(edges) > 2


def test_read_selects_existing_branches(toy_dir):
    ana = _config.load(None).analysis("resolved")
    frames = kin.read(ana, 1.0, toy_dir, ["h1_j1_Pt", "m_hh", "not_a_branch"])
    assert set(frames) == {"hh", "qcd_4b", "qcd_2b2j", "ttbar"}
    for df in frames.values():
        assert {"h1_j1_Pt", "m_hh", "weight"} <= set(df.columns) and "not_a_branch" not in df.columns
        assert (df["h1_j1_Pt"] >= 40).all()
    with pytest.raises(InputFileError, match="none of the branches"):
        kin.read(ana, 1.0, toy_dir, ["nope"])
