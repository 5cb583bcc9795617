"""Figures for feature importance (beeswarm, bar, SHAP vs permutation); ``hhnb.reports.shap`` calls them."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import shap

from hhnb.plots import style

SHAP_LABEL = r"mean |SHAP value| (change of $p_{sig}$)"


def beeswarm(values: np.ndarray, x: np.ndarray, features: list[str], max_display: int = 20,
             seed: int = 0) -> plt.Figure:
    """shap's beeswarm: each event's SHAP value per feature, coloured by the feature value."""
    np.random.seed(seed)  # noqa: NPY002 - shap jitters the points with NumPy's global generator
    style.use_style()
    fig, ax = plt.subplots(figsize=(8, 0.35 * min(max_display, len(features)) + 1.5))
    expl = shap.Explanation(values=np.asarray(values, float), data=np.asarray(x, float), feature_names=list(features))
    shap.plots.beeswarm(expl, max_display=max_display, ax=ax, show=False, plot_size=None,
                        color_bar_label="feature value (low to high)")
    ax.set_xlabel(r"SHAP value (change of $p_{sig}$, probability)")
    ax.scatter([], [], color="grey", s=10, label="one test event")
    ax.legend(loc="lower right", fontsize=9)
    return fig


def bar(table: pd.DataFrame, column: str, xlabel: str, ax: plt.Axes | None = None, label: str | None = None,
        color: str = "C0") -> plt.Figure:
    """Horizontal bars of ``table[column]`` per feature, most important at the top."""
    if ax is None:
        _, ax = style.figure(figsize=(7, 0.32 * len(table) + 1.5))
    t = table.iloc[::-1]
    ax.barh(t["feature"], t[column], color=color, label=label or column)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("network input")
    ax.tick_params(axis="y", labelsize=10, which="both", left=False, right=False)
    ax.legend(loc="lower right", fontsize=10)
    return ax.figure


def side_by_side(shap_rank: pd.DataFrame, perm_rank: pd.DataFrame, explainer: str) -> plt.Figure:
    """Two bar panels: mean |SHAP| and the permutation AUC drop, each ordered by its own ranking."""
    n = max(len(shap_rank), len(perm_rank))
    fig, (a, b) = style.figure(1, 2, figsize=(13, 0.32 * n + 1.8))
    bar(shap_rank, "mean_abs_shap", SHAP_LABEL, ax=a, label=f"SHAP ({explainer})")
    bar(perm_rank, "auc_drop", "AUC drop when shuffled", ax=b, label="permutation", color="C1")
    b.set_ylabel("")
    fig.tight_layout()
    return fig
