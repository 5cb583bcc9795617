"""hhnb.plots.importance: the ranking bar chart, SHAP beside permutation importance, and the beeswarm."""

from __future__ import annotations

import figures
import numpy as np
import pandas as pd

from hhnb.plots import importance as pimp


def _ranking():
    feats = [f"feature_{i}" for i in range(6)]
    shap_rank = pd.DataFrame({"feature": feats, "mean_abs_shap": np.linspace(0.2, 0.01, 6)})
    perm = pd.DataFrame({"feature": feats[::-1], "auc_drop": np.linspace(0.1, 0.0, 6)})
    return shap_rank, perm


def _beeswarm():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(200, 4))
    return pimp.beeswarm(x * np.array([0.3, 0.1, 0.05, 0.01]), x, ["a [GeV]", "b", "c", "d"], seed=0)


CASES = {
    "importance_bar": lambda: pimp.bar(_ranking()[0], "mean_abs_shap", pimp.SHAP_LABEL),
    "importance_side_by_side": lambda: pimp.side_by_side(*_ranking(), "gradient"),
    "importance_beeswarm": _beeswarm,
}

# what the x or y label of the first panel must contain (the unit, where the quantity has one)
UNITS = {"importance_bar": ("SHAP", "input")}


# labelled axes, at most two panels wide, the baseline image: the checks of every figure (tests/figures.py)
(test_figure_has_labelled_axes_and_no_mathtext_warning, test_figure_is_at_most_two_panels_wide,
 test_image_matches_baseline) = figures.standard_tests(CASES, UNITS)


def _bars_top_down(ax):
    """(feature, value) of the horizontal bars from the top of the panel down."""
    names = [t.get_text() for t in ax.get_yticklabels()]
    bars = sorted(ax.patches, key=lambda p: -p.get_y())
    return [(names[round(p.get_y() + p.get_height() / 2)], round(p.get_width(), 3)) for p in bars]


def test_most_important_at_the_top_each_panel_by_its_own_ranking():
    fig = figures.draw(CASES["importance_side_by_side"])
    shap_ax, perm_ax = fig.axes[:2]
    assert _bars_top_down(shap_ax)[:2] == [("feature_0", 0.2), ("feature_1", 0.162)]
    assert _bars_top_down(perm_ax)[:2] == [("feature_5", 0.1), ("feature_4", 0.08)]
    assert shap_ax.get_legend().get_texts()[0].get_text() == "SHAP (gradient)"
    assert perm_ax.get_xlabel() == "AUC drop when shuffled" and perm_ax.get_ylabel() == ""


def test_beeswarm_orders_the_inputs_by_mean_absolute_shap():
    fig = figures.draw(_beeswarm)
    names = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert names[::-1] == ["a [GeV]", "b", "c", "d"]  # shap draws the first-ranked at the top (largest y)
