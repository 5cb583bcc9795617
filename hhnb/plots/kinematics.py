"""Figures of kinematic distributions (one panel per variable, samples overlaid) and the multi-lambda m_hh."""

from __future__ import annotations

import hist
import matplotlib.pyplot as plt
import mplhep
import numpy as np
from matplotlib.ticker import MaxNLocator

from hhnb.config import lambdas as _lambdas
from hhnb.plots import style
from hhnb.studies import kinematics as kin


def grid(hists: dict[str, dict[str, hist.Hist]], labels: dict[str, str], ncols: int = style.MAX_COLUMNS,
         lumi: float | None = None) -> plt.Figure:
    """One panel per variable (at most ``ncols`` a row), every sample overlaid (unit area), label above the first.

    The x range is where the histograms have content (empty outer bins are cut), the y label
    carries the unit of x (``fraction of events / GeV``).
    """
    n = len(hists)
    nrows, ncols = style.grid_shape(n, ncols)
    fig, axes = style.figure(nrows, ncols, figsize=(style.PANEL[0] * ncols, style.PANEL[1] * nrows), squeeze=False)
    flat = axes.ravel()
    for ax, (var, by_sample) in zip(flat, hists.items()):
        for i, (name, h) in enumerate(by_sample.items()):
            mplhep.histplot(h, ax=ax, label=name, color=f"C{i}", lw=1.8, ls=("-", "--", "-.", ":")[i % 4])
        xlabel = labels.get(var, var)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(style.density_label(xlabel))
        ax.set_xlim(*_filled_range(by_sample.values()))
        if _is_count(next(iter(by_sample.values())).axes[0].edges):  # integer ticks for multiplicities
            ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
        ax.legend(fontsize=12, loc="upper right")
        ax.set_ylim(0, ax.get_ylim()[1] * (1.2 + 0.12 * len(by_sample)))  # headroom for the legend
    for ax in flat[n:]:
        ax.set_visible(False)
    style.label(flat[0], lumi=lumi)
    fig.tight_layout()
    return fig


def _is_count(edges) -> bool:
    """Unit bins centred on integers (a multiplicity such as the number of b-tags)."""
    edges = np.asarray(edges, float)
    return len(edges) > 1 and bool(np.allclose(np.diff(edges), 1.0)) and bool(np.isclose(edges[0] % 1.0, 0.5))


def _filled_range(hs) -> tuple[float, float]:
    """From the first to the last bin with content in any of the histograms (the full axis if all empty)."""
    hs = list(hs)
    edges = np.asarray(hs[0].axes[0].edges, float)
    filled = np.zeros(len(edges) - 1, bool)
    for h in hs:
        filled |= np.asarray(h.values(), float) > 0
    if not filled.any():
        return float(edges[0]), float(edges[-1])
    idx = np.flatnonzero(filled)
    return float(edges[idx[0]]), float(edges[idx[-1] + 1])


def data_edges(values: list[np.ndarray], weights: list[np.ndarray], default: np.ndarray, bins: int = 30) -> np.ndarray:
    """Bin edges from the data: the central 99 % of all samples' weighted entries in ``bins`` bins.

    Counts (default edges on half-integers with unit steps) keep unit bins over the range that has
    entries. Used so that e.g. a b-jet mass of a few GeV is not squeezed into the first bins of 0-60 GeV.

    >>> data_edges([np.array([1.0, 2.0, 2.0])], [np.ones(3)], np.arange(-0.5, 12.5, 1.0)).tolist()
    [0.5, 1.5, 2.5]
    """
    v = np.concatenate([np.asarray(x, float) for x in values]) if values else np.zeros(0)
    w = np.concatenate([np.asarray(x, float) for x in weights]) if weights else np.zeros(0)
    default = np.asarray(default, float)
    if len(v) == 0 or not np.isfinite(v).any():
        return default
    if _is_count(default):
        ok = v[np.isfinite(v)]
        return np.arange(np.floor(ok.min()) - 0.5, np.ceil(ok.max()) + 1.0, 1.0)
    lo, hi = style.data_range(v, w, lo=0.002, hi=0.99, pad=0.02)
    if default[0] >= 0:  # a quantity that cannot be negative (pT, mass, Delta R)
        lo = max(lo, 0.0)
    return np.linspace(lo, hi, bins + 1)


def overlay(hists: dict[str, hist.Hist], xlabel: str, note: str) -> plt.Figure:
    """m_hh (or any variable) at several kappa_lambda on one plot, each normalised to unit area."""
    fig, ax = style.figure()
    for i, (tag, h) in enumerate(hists.items()):
        mplhep.histplot(h, ax=ax, label=rf"$\kappa_\lambda = {_lambdas.parse(tag):g}$", color=f"C{i}", lw=1.8)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(style.density_label(xlabel))
    ax.set_xlim(*_filled_range(hists.values()))
    ax.legend(title=note, fontsize=11, title_fontsize=11)
    ax.set_ylim(0, ax.get_ylim()[1] * 1.25)
    style.label(ax)
    return fig


def _edges(frames: dict, variable: str) -> np.ndarray:
    """Binning of ``variable`` from the selected events of every sample (see :func:`data_edges`)."""
    have = [df for df in frames.values() if variable in df.columns]
    return data_edges([df[variable].to_numpy(float) for df in have], [df["weight"].to_numpy(float) for df in have],
                      kin.VARIABLES[variable][1])
