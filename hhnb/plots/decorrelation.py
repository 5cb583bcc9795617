"""The decorrelation trade-off: AUC and the closure of the multijet estimate against the DisCo strength."""

from __future__ import annotations

import pandas as pd

from hhnb.plots.style import figure, label


def tradeoff(table: pd.DataFrame, lumi: float | None = None):
    """Two panels against the DisCo strength (plain network at 0; the flattened one as a separate marker):
    weighted AUC and the ABCD closure ratio, each with its error bar; the closure panel marks 1."""
    fig, axes = figure(1, 2, figsize=(13, 5.5))
    disco = table["method"].isin(["none", "disco"]).to_numpy()
    flat = (table["method"] == "flat").to_numpy()
    strength = table["strength"].to_numpy(float)
    # the strengths span decades: a symmetric-log axis keeps the plain network (0) on it
    for ax, (col, err, unit) in zip(axes, (("auc", "auc_error", "Weighted AUC (test events)"),
                                           ("closure", "closure_error", "Multijet closure, ABCD estimate / true"))):
        ax.errorbar(strength[disco], table[col].to_numpy()[disco], yerr=table[err].to_numpy()[disco], marker="o",
                    color="C0", label="DisCo (strength 0: plain)")
        if flat.any():
            for value, error in zip(table[col].to_numpy()[flat], table[err].to_numpy()[flat]):
                ax.axhspan(value - error, value + error, color="C1", alpha=0.25, label="flat mass weights (band: error)")
        ax.set_xscale("symlog", linthresh=1.0)
        ax.set_xlabel(r"DisCo strength $\lambda$")
        ax.set_ylabel(unit)
        ax.margins(y=0.2)
        ax.legend(loc="best", fontsize="small")
    axes[1].axhline(1.0, color="0.4", ls="--", lw=1)
    label(axes[0], lumi)
    fig.tight_layout()
    return fig
