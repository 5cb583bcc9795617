"""Figures of kinematic distributions (one panel per variable, samples overlaid) and the multi-lambda m_hh."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import hist
import matplotlib.pyplot as plt
import mplhep

from hhnb.config import analyses as _config
from hhnb.config import lambdas as _lambdas
from hhnb.plots import style
from hhnb.studies import kinematics as kin


def grid(hists: dict[str, dict[str, hist.Hist]], labels: dict[str, str], ncols: int = 4) -> plt.Figure:
    """One panel per variable, every sample overlaid (normalised), HEP label on the first panel."""
    n = len(hists)
    nrows = math.ceil(n / ncols)
    fig, axes = style.figure(nrows, ncols, figsize=(4.6 * ncols, 3.9 * nrows), squeeze=False)
    flat = axes.ravel()
    for ax, (var, by_sample) in zip(flat, hists.items()):
        for i, (name, h) in enumerate(by_sample.items()):
            mplhep.histplot(h, ax=ax, label=name, color=f"C{i}", lw=1.5)
        ax.set_xlabel(labels.get(var, var), fontsize=12)
        ax.set_ylabel("normalised events / unit", fontsize=11)
        ax.tick_params(labelsize=10)
        ax.legend(fontsize=8, loc="upper right")
        ax.set_ylim(0, ax.get_ylim()[1] * 1.35)
    for ax in flat[n:]:
        ax.set_visible(False)
    style.label(flat[0])
    fig.tight_layout()
    return fig


def overlay(hists: dict[str, hist.Hist], xlabel: str, note: str) -> plt.Figure:
    """m_hh (or any variable) at several kappa_lambda on one plot, each normalised to unit area."""
    fig, ax = style.figure()
    for i, (tag, h) in enumerate(hists.items()):
        mplhep.histplot(h, ax=ax, label=rf"$\kappa_\lambda = {_lambdas.parse(tag):g}$", color=f"C{i}", lw=1.8)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("normalised events / GeV")
    ax.legend(title=note, fontsize=11, title_fontsize=11)
    ax.set_ylim(0, ax.get_ylim()[1] * 1.25)
    style.label(ax)
    return fig


@dataclass(frozen=True)
class KinematicsReport:
    """Figures drawn and files written for one analysis and lambda."""

    figures: dict[str, plt.Figure]
    events: dict[str, int]
    outdir: Path
    written: list[Path]


def make(analysis: str, kl: object, config: str | Path | None = None, data_dir: str | Path | None = None,
         outdir: str | Path | None = None, overlay_lambdas: tuple[float, ...] | list[float] = kin.OVERLAY_LAMBDAS,
         overlay_source: str = "truth", save: bool = True) -> KinematicsReport:
    """Read the ntuples, draw each variable group and the multi-lambda m_hh overlay, save PNG + PDF.

    ``overlay_source``: ``truth`` (parton-level m_hh from the toy generator's spectrum,
    fast), ``reco`` (selected signal ntuples, generated on demand for toy analyses)
    or ``none``. ttHH analyses have no lambda overlay.
    """
    from hhnb import layout as paths

    ana = _config.load(config).analysis(analysis)
    data_dir = paths.resolve(data_dir, "data")
    groups = kin.groups_for(ana)
    variables = [v for vs in groups.values() for v in vs]
    frames = kin.read(ana, kl, data_dir, variables)
    labels = {v: kin.VARIABLES[v][0] for v in variables}
    figures: dict[str, plt.Figure] = {}
    for group, names in groups.items():
        hs = {v: kin.histograms(frames, v, kin.VARIABLES[v][1]) for v in names}
        hs = {v: h for v, h in hs.items() if h}
        if hs:
            figures[f"kinematics_{group}"] = grid(hs, labels)
    hh = "m_hh" in ana.masses.values() or "m_hh" in ana.features
    if overlay_source not in ("truth", "reco", "none"):
        raise ValueError(f"overlay_source must be 'truth', 'reco' or 'none', not {overlay_source!r}")
    if hh and overlay_source == "truth":
        figures["mhh_lambdas"] = overlay(kin.mhh_truth(overlay_lambdas), r"$m_{hh}$ [GeV]",
                                         "HH, parton level (toy)")
    elif hh and overlay_source == "reco":
        figures["mhh_lambdas"] = overlay(kin.mhh_reco(ana, overlay_lambdas, data_dir), r"$m_{hh}$ [GeV]",
                                         f"HH, {analysis}, selected")
    outdir = Path(outdir) if outdir is not None else kin.output_dir(analysis, _lambdas.tag(kl))
    written: list[Path] = []
    if save:
        for name, fig in figures.items():
            written += style.save(fig, outdir, name)
    return KinematicsReport(figures, {k: len(v) for k, v in frames.items()}, outdir, written)
