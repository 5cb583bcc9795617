"""hhnb.plots.kinematics: the grid of kinematic distributions, the m_hh overlay, their binning and the label."""

from __future__ import annotations

import figures
import hist
import numpy as np
import pandas as pd

from hhnb.plots import kinematics as pkin
from hhnb.studies import kinematics as kin


def _kinematics_hists():
    rng = np.random.default_rng(2)
    frames = {"hh": pd.DataFrame({"h1_j1_M": rng.gamma(4, 2.0, 2000), "h1_j1_Pt": rng.gamma(4, 40, 2000),
                                  "nBTags": rng.integers(2, 6, 2000), "m_hh": rng.normal(420, 60, 2000)}),
              "qcd": pd.DataFrame({"h1_j1_M": rng.gamma(3, 2.5, 2000), "h1_j1_Pt": rng.gamma(3, 40, 2000),
                                   "nBTags": rng.integers(2, 5, 2000), "m_hh": rng.exponential(200, 2000) + 250})}
    for df in frames.values():
        df["weight"] = 1.0
    names = ["h1_j1_M", "h1_j1_Pt", "nBTags", "m_hh"]
    hs = {v: kin.histograms(frames, v, pkin._edges(frames, v)) for v in names}
    return hs, {v: kin.VARIABLES[v][0] for v in names}


def _overlay():
    return {k: v for k, v in kin.mhh_truth((-5.0, 1.0, 10.0), n=5000, seed=1).items()}


CASES = {
    "kinematics_grid": lambda: pkin.grid(*_kinematics_hists(), lumi=300.0),
    "kinematics_overlay": lambda: pkin.overlay(_overlay(), r"$m_{hh}$ [GeV]", "HH, parton level (toy)"),
}

# what the x or y label of the first panel must contain (the unit, where the quantity has one)
UNITS = {"kinematics_grid": ("[GeV]", "/ GeV"), "kinematics_overlay": ("[GeV]", "/ GeV")}


# labelled axes, at most two panels wide, the baseline image: the checks of every figure (tests/figures.py)
(test_figure_has_labelled_axes_and_no_mathtext_warning, test_figure_is_at_most_two_panels_wide,
 test_image_matches_baseline) = figures.standard_tests(CASES, UNITS)


def test_experiment_label_is_one_text_above_the_axes():
    fig = figures.draw(CASES["kinematics_grid"])
    texts = [t for t in fig.axes[0].texts if "hhnb" in t.get_text()]
    assert len(texts) == 1
    assert "300 fb$^{-1}$" in texts[0].get_text() and "14 TeV" in texts[0].get_text()
    fig.canvas.draw()
    bbox = texts[0].get_window_extent()
    assert bbox.y0 >= fig.axes[0].get_window_extent().y1 - 1


def test_kinematics_range_follows_the_data():
    """A b-jet mass of a few GeV is binned over its own range, not in the first bins of 0-60 GeV."""
    hs, _ = _kinematics_hists()
    edges = hs["h1_j1_M"]["hh"].axes[0].edges
    assert 0.0 <= edges[0] < 2.0 and 20 < edges[-1] < 40  # not 0-60 GeV
    assert (hs["h1_j1_M"]["hh"].values() > 0).sum() >= 25
    counts = hs["nBTags"]["hh"].axes[0].edges
    assert counts.tolist() == [1.5, 2.5, 3.5, 4.5, 5.5]


def test_data_edges_for_counts_and_continuous_values():
    e = pkin.data_edges([np.array([3.0, 4.0]), np.array([2.0])], [np.ones(2), np.ones(1)], np.arange(-0.5, 12.5))
    assert e.tolist() == [1.5, 2.5, 3.5, 4.5]
    v = np.random.default_rng(0).normal(100.0, 10.0, 10_000)
    e = pkin.data_edges([v], [np.ones_like(v)], np.linspace(0, 600, 31), bins=10)
    assert len(e) == 11 and 65 < e[0] < 80 and 120 < e[-1] < 135
    assert pkin.data_edges([], [], np.array([0.0, 1.0])).tolist() == [0.0, 1.0]


def test_histogram_hist_inputs_unchanged():
    """grid draws hist.Hist objects as given (normalised by the caller)."""
    h = hist.Hist(hist.axis.Regular(4, 0, 4, label="x"))
    h.fill([0.5, 1.5])
    fig = pkin.grid({"x": {"a": h}}, {"x": "x [GeV]"})
    assert fig.axes[0].get_xlim() == (0.0, 2.0)  # only the filled bins
