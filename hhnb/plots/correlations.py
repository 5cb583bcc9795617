"""Figures for score-versus-mass correlations: histograms / records in, a Figure out.

``hhnb.reports.correlations.make`` knows the config and the saved scores and calls them.
"""

from __future__ import annotations

import hist
import matplotlib.pyplot as plt
import mplhep
import numpy as np

from hhnb.plots import style
from hhnb.studies import correlations as corr

MASS_LABELS = {"m_hh": r"$m_{hh}$", "h1_M": r"$m_{h1}$", "h2_M": r"$m_{h2}$", "m_bb": r"$m_{bb}$",
               "h_b": r"$H_{T}^{b}$"}


def axis_label(mass: str, unit: str = "GeV") -> str:
    """Axis label with unit for a mass variable (``m_hh`` -> ``$m_{hh}$ [GeV]``)."""
    return f"{MASS_LABELS.get(mass, mass)} [{unit}]"


def score_vs_mass(hists: dict[str, hist.Hist], profiles: dict[str, corr.Profile], mass: str,
                  score_label: str = r"signal score $p_{sig}$", lumi: float | None = None) -> plt.Figure:
    """One panel per sample (two a row): normalised 2D histogram of score vs mass, with the profile (mean score)."""
    n = len(hists)
    nrows, ncols = style.grid_shape(n)
    fig, axes = style.figure(nrows, ncols, figsize=(style.PANEL[0] * ncols, style.PANEL[1] * nrows), squeeze=False)
    flat = axes.ravel()
    for ax, (name, h) in zip(flat, hists.items()):
        total = h.values().sum()
        mplhep.hist2dplot(h.values() / total if total > 0 else h.values(), h.axes[0].edges, h.axes[1].edges,
                          ax=ax, cmap="viridis", cbarextend=False, cbar=True, rasterized=True)
        ax.figure.axes[-1].set_ylabel("fraction of events", fontsize=12)  # the colour bar just drawn
        p = profiles[name]
        centres = 0.5 * (p.edges[1:] + p.edges[:-1])
        ok = np.isfinite(p.mean)
        ax.errorbar(centres[ok], p.mean[ok], yerr=np.nan_to_num(p.error[ok]), xerr=0.5 * np.diff(p.edges)[ok],
                    fmt="o", color="red", ms=3, label="mean score")
        ax.set_xlabel(axis_label(mass))
        ax.set_ylabel(score_label)
        ax.set_ylim(0, 1)
        ax.text(0.04, 0.90, name, transform=ax.transAxes, color="white", fontsize=13, va="top")
        ax.legend(loc="upper right", fontsize=10, frameon=True)
    for ax in flat[n:]:
        ax.set_visible(False)
    style.label(flat[0], lumi=lumi)
    fig.tight_layout()
    return fig


def sculpting(results: dict[str, corr.Sculpting], cut: float, what: str = "all backgrounds",
              lumi: float | None = None) -> plt.Figure:
    """Background mass distributions before/after ``score > cut`` (normalised), after/before below; two a row."""
    n = len(results)
    nrows, ncols = style.grid_shape(n)
    style.use_style()
    fig = plt.figure(figsize=(style.PANEL[0] * ncols, 1.25 * style.PANEL[1] * nrows))
    outer = fig.add_gridspec(nrows, ncols, hspace=0.35, wspace=0.3)
    first = None
    for i, (mass, s) in enumerate(results.items()):
        inner = outer[i // ncols, i % ncols].subgridspec(2, 1, height_ratios=[3, 1], hspace=0.05)
        top = fig.add_subplot(inner[0])
        bottom = fig.add_subplot(inner[1], sharex=top)
        first = first or top
        mplhep.histplot(s.before, s.edges, yerr=s.before_error, ax=top, label=f"{what}, before cut")
        mplhep.histplot(s.after, s.edges, yerr=s.after_error, ax=top, ls="--",
                        label=f"after $p_{{sig}} > {cut:g}$ (eff. {s.efficiency:.2g})")
        top.set_ylabel(style.density_label(axis_label(mass)))
        top.set_ylim(0, top.get_ylim()[1] * 1.35)
        top.legend(fontsize=10, loc="upper right")
        top.tick_params(labelbottom=False)
        mplhep.histplot(np.nan_to_num(s.ratio), s.edges, yerr=np.nan_to_num(s.ratio_error), ax=bottom,
                        color="black", histtype="errorbar")
        bottom.axhline(1.0, color="grey", ls="--", lw=1)
        bottom.set_ylim(0, 3)
        bottom.set_ylabel("after / before", fontsize=11)
        bottom.set_xlabel(axis_label(mass))
        bottom.set_xlim(s.edges[0], s.edges[-1])
    if first is not None:
        style.label(first, lumi=lumi)
    return fig
