"""AUC and maximum significance against kappa_lambda, one line per analysis."""

from __future__ import annotations

import pandas as pd

from hhnb.plots.style import figure, label


def metrics_vs_lambda(evals: pd.DataFrame):
    """Two panels (AUC, maximum significance) vs the kappa_lambda each network was trained at,
    with their bootstrap errors as error bars where the record has them."""
    fig, axes = figure(1, 2, figsize=(13, 5.5))
    for name, grp in evals.sort_values("lambda").groupby("analysis", sort=True):
        for ax, col, err in zip(axes, ("auc", "max_significance"), ("auc_error", "significance_error")):
            yerr = pd.to_numeric(grp[err]).to_numpy(float) if err in grp else None
            ax.errorbar(grp["lambda"], grp[col], yerr=yerr, marker="o", capsize=3, label=name)
    axes[0].set_ylabel("Test AUC (signal vs all backgrounds)")
    axes[1].set_ylabel(r"Maximum significance $Z_{A}$ [$\sigma$]")
    for ax in axes:
        ax.set_xlabel(r"Training $\kappa_\lambda$")
        ax.margins(x=0.06, y=0.12)  # no marker on the frame
        if len(evals):
            ax.legend(loc="best")
    label(axes[0])
    fig.tight_layout()
    return fig
