"""The kinematics notebook's report: jet and Higgs-candidate distributions per sample, m_hh at several lambdas."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt

from hhnb import layout
from hhnb.config import analyses as _config
from hhnb.config import lambdas as _lambdas
from hhnb.errors import UserArgumentError
from hhnb.plots.kinematics import _edges, grid, overlay
from hhnb.reports._common import save_all
from hhnb.studies import kinematics as kin
from hhnb.toy import ondemand

#: what each figure shows, for the notebook's headings
TITLES = {"jets": "Jets (pT, eta, phi, mass)", "higgs": "Higgs candidates", "lepton": "Lepton and missing ET",
          "event": "Event-level quantities (m_hh, pT_hh, dR, multiplicities)",
          "mhh_lambdas": "m_hh at several kappa_lambda"}


@dataclass(frozen=True)
class KinematicsReport:
    """Figures drawn and files written for one analysis and lambda."""

    figures: dict[str, plt.Figure]
    events: dict[str, int]
    outdir: Path
    written: list[Path]

    def title(self, name: str) -> str:
        """A readable heading for a figure name (``kinematics_jets`` -> ``Jets``)."""
        key = name.removeprefix("kinematics_")
        return TITLES.get(key, key.replace("_", " ").capitalize())


def make(analysis: str, kl: object, config: str | Path | None = None, data_dir: str | Path | None = None,
         outdir: str | Path | None = None, overlay_lambdas: tuple[float, ...] | list[float] = kin.OVERLAY_LAMBDAS,
         overlay_source: str = "truth", save: bool = True) -> KinematicsReport:
    """Read the ntuples, draw each variable group and the multi-lambda m_hh overlay, save PNG + PDF.

    ``overlay_source``: ``truth`` (parton-level m_hh from the toy generator's spectrum,
    fast), ``reco`` (selected signal ntuples, generated on demand for toy analyses)
    or ``none``. ttHH analyses have no lambda overlay.
    """
    ana = _config.load(config).analysis(analysis)
    data_dir = layout.resolve(data_dir, "data")
    groups = kin.groups_for(ana)
    variables = [v for vs in groups.values() for v in vs]
    ondemand.generate_missing(ana, _lambdas.parse(kl), data_dir)  # toy analyses: the files that are missing, said
    frames = kin.read(ana, kl, data_dir, variables)
    labels = {v: kin.VARIABLES[v][0] for v in variables}
    figures: dict[str, plt.Figure] = {}
    for group, names in groups.items():
        hs = {v: kin.histograms(frames, v, _edges(frames, v)) for v in names}
        hs = {v: h for v, h in hs.items() if h}
        if hs:
            figures[f"kinematics_{group}"] = grid(hs, labels)
    hh = "m_hh" in ana.masses.values() or "m_hh" in ana.features
    if overlay_source not in ("truth", "reco", "none"):
        raise UserArgumentError(f"overlay_source must be 'truth', 'reco' or 'none', not {overlay_source!r}")
    if hh and overlay_source == "truth":
        figures["mhh_lambdas"] = overlay(kin.mhh_truth(overlay_lambdas), r"$m_{hh}$ [GeV]",
                                         "HH, parton level (toy)")
    elif hh and overlay_source == "reco":
        for k in overlay_lambdas:
            ondemand.generate_missing(ana, _lambdas.parse(k), data_dir)
        figures["mhh_lambdas"] = overlay(kin.mhh_reco(ana, overlay_lambdas, data_dir), r"$m_{hh}$ [GeV]",
                                         f"HH, {analysis}, selected")
    outdir = Path(outdir) if outdir is not None else kin.output_dir(analysis, _lambdas.tag(kl))
    written = save_all(outdir, figures, {}) if save else []
    return KinematicsReport(figures, {k: len(v) for k, v in frames.items()}, outdir, written)
