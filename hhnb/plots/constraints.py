"""Figures of the kappa_lambda scans (chi2 or -2 delta ln L versus kl with the 68 % and 95 % CL lines) and of
the impact ranking of the systematic uncertainties."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from hhnb.plots.style import figure, label
from hhnb.studies import constraints


def scan_curves(scans: Sequence[constraints.Scan], title: str = "", ymax: float = 10.0):
    """Curves of several scans (one per category or method) with the CL thresholds."""
    fig, ax = figure()
    for s in scans:
        name = f"{s.category} ({s.method}, f = {100 * s.f:g} %): {s.interval()}"
        ax.plot(s.kl, s.q, label=name)
    for cl, style in zip(constraints.CLS, (":", "--")):
        ax.axhline(constraints.threshold(cl), color="grey", ls=style, lw=1)
        ax.text(s.kl[0], constraints.threshold(cl) + 0.1, f"{100 * cl:.0f} % CL", color="grey", fontsize=10)
    ax.set_xlabel(r"$\kappa_\lambda$")
    ax.set_ylabel(r"$\chi^2$ or $-2\,\Delta\ln L$")
    ax.set_ylim(0, ymax)
    ax.legend(fontsize=9, title=title or None, title_fontsize=10)
    label(ax)
    return fig


def impact_ranking(table, top: int = 15, title: str = ""):
    """The impact ranking: per nuisance parameter (largest first, at most ``top``), the shift of the fitted
    kappa_lambda when the parameter is fixed at its post-fit value +- its post-fit uncertainty (the others
    profiled), as horizontal bars; ``table``: ``hhnb.studies.systematics.Impacts.table``."""
    t = table.head(top)
    fig, ax = figure()
    y = np.arange(len(t))[::-1]
    ax.barh(y, t["impact up"].to_numpy(), height=0.4, align="edge", color="tab:blue",
            label=r"$\theta = \hat\theta + \sigma_\theta$")
    ax.barh(y - 0.4, t["impact down"].to_numpy(), height=0.4, align="edge", color="tab:orange",
            label=r"$\theta = \hat\theta - \sigma_\theta$")
    ax.axvline(0.0, color="black", lw=0.8)
    ax.set_yticks(y)
    ax.set_yticklabels([str(n) for n in t.index], fontsize=10)
    ax.set_xlabel(r"$\Delta\hat{\kappa}_\lambda$ (Asimov data at $\kappa_\lambda = 1$)")
    ax.set_ylabel("nuisance parameter")
    ax.legend(fontsize=9, title=title or None, title_fontsize=10, loc="lower right")
    label(ax)
    return fig
