"""Figures of the kappa_lambda scans: chi2 or -2 delta ln L versus kl with the 68 % and 95 % CL lines."""

from __future__ import annotations

from collections.abc import Sequence

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
