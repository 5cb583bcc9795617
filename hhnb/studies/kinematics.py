"""Kinematic distributions of the ntuples (what the older rootroot.py drew): weighted, normalised histograms.

Reads the branches that exist (the toy files have extra jet four-vectors), applies
the analysis selection, fills hist histograms. No TensorFlow.
"""

from __future__ import annotations

from pathlib import Path

import hist
import numpy as np
import pandas as pd
import uproot

from hhnb import layout
from hhnb.config import lambdas as _lambdas
from hhnb.config.analyses import Analysis
from hhnb.errors import InputFileError
from hhnb.io import ntuples as _data
from hhnb.toy import physics

OVERLAY_LAMBDAS = (-5.0, 1.0, 2.4, 5.0, 10.0)

# variable -> (axis label with unit, bin edges)
_PT = np.linspace(0, 600, 31)
_ETA = np.linspace(-3, 3, 31)
_PHI = np.linspace(-np.pi, np.pi, 33)
_JET_M = np.linspace(0, 60, 31)
_DR = np.linspace(0, 4, 41)
_COUNT = np.arange(-0.5, 12.5, 1.0)


def _four_vector(prefix: str, tex: str, mass_edges: np.ndarray = _JET_M, pt_edges: np.ndarray = _PT
                 ) -> dict[str, tuple[str, np.ndarray]]:
    return {f"{prefix}_Pt": (rf"$p_T({tex})$ [GeV]", pt_edges), f"{prefix}_Eta": (rf"$\eta({tex})$", _ETA),
            f"{prefix}_Phi": (rf"$\phi({tex})$ [rad]", _PHI), f"{prefix}_M": (rf"$m({tex})$ [GeV]", mass_edges)}


VARIABLES: dict[str, tuple[str, np.ndarray]] = {
    **{k: v for h in ("h1", "h2") for j in ("j1", "j2") for k, v in _four_vector(f"{h}_{j}", f"{h}\\,{j}").items()},
    **_four_vector("h1", "h_1", np.linspace(0, 250, 26), np.linspace(0, 1000, 41)),
    **_four_vector("h2", "h_2", np.linspace(0, 250, 26), np.linspace(0, 1000, 41)),
    "m_hh": (r"$m_{hh}$ [GeV]", np.linspace(200, 1500, 53)),
    "pT_hh": (r"$p_T^{hh}$ [GeV]", np.linspace(0, 500, 26)),
    "h1_j1_j2_dR": (r"$\Delta R(h_1\ \mathrm{jets})$", _DR),
    "h2_j1_j2_dR": (r"$\Delta R(h_2\ \mathrm{jets})$", _DR),
    "dEta_hh": (r"$|\Delta\eta_{hh}|$", np.linspace(0, 3, 31)),
    "met_Et": (r"$E_T^{miss}$ [GeV]", np.linspace(0, 300, 31)),
    "nJets": ("number of jets", _COUNT), "nBTags": ("number of b-tags", _COUNT),
    "nLargeR": ("number of large-R jets", _COUNT), "nElec": ("number of electrons", _COUNT),
    "nMuon": ("number of muons", _COUNT),
    **{k: v for i in range(1, 9) for k, v in _four_vector(f"j{i}", f"j_{i}").items()},
    **_four_vector("lep", r"\ell", np.linspace(0, 1, 11)),
    "numjet": ("number of jets", np.arange(-0.5, 16.5, 1.0)), "btag": ("number of b-tags", _COUNT),
    "numlep": ("number of leptons", _COUNT),
    "m_bb": (r"$m_{bb}$ [GeV]", np.linspace(0, 500, 51)), "h_b": (r"$H_T^b$ [GeV]", np.linspace(0, 1500, 51)),
    "srap": (r"$\langle\Delta\eta_{bb}\rangle$", np.linspace(0, 5, 26)), "cent": ("centrality", np.linspace(0, 1, 26)),
    "mt1": (r"$m_T$ [GeV]", np.linspace(0, 300, 31)), "dr1": (r"$\Delta R_{bb}^{min}$", _DR),
}

GROUPS_HH = {
    "jets": [f"{h}_{j}_{q}" for h in ("h1", "h2") for j in ("j1", "j2") for q in ("Pt", "Eta", "Phi", "M")],
    "higgs": [f"{h}_{q}" for h in ("h1", "h2") for q in ("Pt", "Eta", "Phi", "M")],
    "event": ["m_hh", "pT_hh", "h1_j1_j2_dR", "h2_j1_j2_dR", "nJets", "nBTags", "nLargeR", "nElec", "nMuon"],
}
GROUPS_TTHH = {
    "jets": [f"j{i}_{q}" for i in range(1, 7) for q in ("Pt", "Eta", "Phi", "M")],
    "lepton": ["lep_Pt", "lep_Eta", "lep_Phi", "met_Et"],
    "event": ["numjet", "btag", "numlep", "m_bb", "h_b", "srap", "cent", "mt1", "dr1"],
}


def groups_for(analysis: Analysis) -> dict[str, list[str]]:
    """Variable groups to draw: the HH->bbbb set, or the ttHH set when the analysis has ``numjet``."""
    return GROUPS_TTHH if "numjet" in analysis.features else GROUPS_HH


def read(analysis: Analysis, kl: object, data_dir: str | Path, variables: list[str]) -> dict[str, pd.DataFrame]:
    """Each sample's selected events: the requested branches that exist in its files, plus weight.

    Variables missing from a file are skipped; a variable missing from every sample is an error.
    """

    kl = _lambdas.parse(kl)
    out: dict[str, pd.DataFrame] = {}
    for sample in analysis.samples_at(kl):
        files = _data.sample_files(sample, data_dir, kl if sample.is_lambda_dependent else None)
        with uproot.open(files[0]) as f:
            keys = set(f[sample.tree].keys())
        cols = [v for v in variables if v in keys]
        out[sample.name] = _data.read_sample(analysis, sample, files, cols)
    found = set().union(*(set(df.columns) for df in out.values()))
    absent = [v for v in variables if v not in found]
    if len(absent) == len(variables):
        raise InputFileError(f"none of the branches {variables} exist in the ntuples of analysis {analysis.name!r} "
                       f"({analysis.source})")
    return out


def histogram(values: np.ndarray, edges: np.ndarray, weight: np.ndarray | None = None, normalise: bool = True,
              label: str = "") -> hist.Hist:
    """Weighted 1D histogram (under/overflow dropped), normalised to unit area if asked.

    >>> h = histogram(np.array([0.5, 1.5, 1.5]), np.array([0.0, 1.0, 2.0]))
    >>> [round(float(v), 3) for v in h.values()]
    [0.333, 0.667]
    >>> [round(float(v), 3) for v in histogram(np.array([0.5, 1.5]), np.array([0.0, 1.0, 3.0])).values()]
    [0.5, 0.25]
    """
    h = hist.Hist(hist.axis.Variable(edges, label=label, underflow=False, overflow=False),
                  storage=hist.storage.Weight())
    h.fill(np.asarray(values, float), weight=weight)
    total = float(h.values().sum())
    if normalise and total > 0:
        scale = 1.0 / (total * np.diff(np.asarray(edges, float)))  # unit area: a density per unit of x
        view = h.view()
        view.value *= scale
        view.variance *= scale**2
    return h


def histograms(frames: dict[str, pd.DataFrame], variable: str, edges: np.ndarray) -> dict[str, hist.Hist]:
    """One normalised, weighted histogram of ``variable`` per sample that has it."""
    return {name: histogram(df[variable].to_numpy(float), edges, df["weight"].to_numpy(float), label=variable)
            for name, df in frames.items() if variable in df.columns}


def mhh_truth(kls: tuple[float, ...] | list[float] = OVERLAY_LAMBDAS, n: int = 200_000, seed: int = 1,
              edges: np.ndarray | None = None) -> dict[str, hist.Hist]:
    """Parton-level m_hh of the toy generator at several kappa_lambda, normalised (the HH-talk overlay)."""
    edges = np.linspace(250, 1000, 76) if edges is None else edges
    out = {}
    for kl in kls:
        rng = np.random.default_rng([seed, int(round(1000 * float(kl))) + 10**6])
        out[_lambdas.tag(kl)] = histogram(physics.sample_mhh(float(kl), n, rng), edges, label="m_hh")
    return out


def mhh_reco(analysis: Analysis, kls: tuple[float, ...] | list[float], data_dir: str | Path,
             edges: np.ndarray | None = None) -> dict[str, hist.Hist]:
    """Reconstructed, selected m_hh of the signal sample at several lambdas (read from ``data_dir``)."""
    edges = VARIABLES["m_hh"][1] if edges is None else edges
    out = {}
    for kl in kls:
        kl = _lambdas.parse(kl)
        signal = [s for s in analysis.samples_at(kl) if s.klass == analysis.signal_class]
        frames = [_data.read_sample(analysis, s, _data.sample_files(s, data_dir, kl), ["m_hh"]) for s in signal]
        df = pd.concat(frames, ignore_index=True)
        out[_lambdas.tag(kl)] = histogram(df["m_hh"].to_numpy(float), edges, df["weight"].to_numpy(float),
                                          label="m_hh")
    return out


def output_dir(analysis: str, tag: str, root: str | Path | None = None) -> Path:
    """The kinematics output folder of one network (``layout.kinematics_dir``)."""

    return layout.kinematics_dir(analysis, tag, root)
