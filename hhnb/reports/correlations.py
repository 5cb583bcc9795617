"""The correlations notebook's report: score versus mass, distance correlation with its p-value, mass sculpting."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from hhnb import layout
from hhnb.config import analyses as _config
from hhnb.config import lambdas as _lambdas
from hhnb.io import artifacts
from hhnb.plots.correlations import score_vs_mass, sculpting
from hhnb.reports._common import save_all
from hhnb.studies import correlations as corr

#: the columns the notebook prints (the CSV keeps them all)
SHOWN = ("sample", "mass", "events", "n_eff", "pearson", "dcor2", "dcor_pvalue")


@dataclass(frozen=True)
class CorrelationReport:
    """Everything the correlations notebook shows: coefficients, sculpting numbers, figures, written files."""

    coefficients: pd.DataFrame  # per sample and mass: pearson, dcor2, dcor_pvalue, n_eff, ...
    sculpting: pd.DataFrame
    figures: dict[str, plt.Figure]
    outdir: Path
    written: list[Path]
    events: int  # events studied
    subset: str

    def shown(self) -> pd.DataFrame:
        """The coefficients the notebook prints, rounded (p-values to 3 decimals, n_eff to integers)."""
        t = self.coefficients[list(SHOWN)].copy()
        t["n_eff"] = t["n_eff"].round(0).astype(int)
        return t.round({"pearson": 3, "dcor2": 4, "dcor_pvalue": 3})


def make(analysis: str, kl: object, config: str | Path | None = None, models_dir: str | Path | None = None,
         outdir: str | Path | None = None, cut: float = corr.DEFAULT_CUT, subset: str = "test", bins: int = 30,
         seed: int = 1, n_permutations: int = corr.N_PERMUTATIONS, save: bool = True) -> CorrelationReport:
    """Read a network's saved scores, compute the correlations and sculpting, draw and save everything.

    ``subset="test"``: events the network never saw (for a k-fold set: every event, out-of-fold).
    """
    ana = _config.load(config).analysis(analysis)
    tag = _lambdas.tag(kl)
    scores = artifacts.read_scores(layout.models_dir(models_dir), analysis, kl)
    masses = corr.mass_columns(ana, scores.columns)
    events = corr.select(scores, subset)
    outdir = Path(outdir) if outdir is not None else corr.output_dir(analysis, tag)
    figures: dict[str, plt.Figure] = {}
    samples = [str(s) for s in events["sample"].drop_duplicates()]
    for label, col in masses.items():
        edges = corr.mass_edges(events[col].to_numpy(float), bins, name=label)
        hists, profiles = {}, {}
        for name in samples:
            g = events[events["sample"].astype(str) == name]
            m, s, w = g[col].to_numpy(float), g["score_sig"].to_numpy(float), g["weight"].to_numpy(float)
            hists[name] = corr.histogram2d(m, s, edges, w, mass_label=label)
            profiles[name] = corr.profile(m, s, edges, w)
        figures[f"score_vs_{label}"] = score_vs_mass(hists, profiles, label)
    bkg = events[events["label"].to_numpy() != 0]
    sculpt = {label: corr.sculpting(bkg[col].to_numpy(float), bkg["score_sig"].to_numpy(float),
                                    corr.mass_edges(bkg[col].to_numpy(float), bins, name=label),
                                    bkg["weight"].to_numpy(float), cut)
              for label, col in masses.items()}
    figures["sculpting"] = sculpting(sculpt, cut)
    coeffs = corr.coefficients(events, masses, seed=seed, n_permutations=n_permutations)
    sculpt_table = pd.DataFrame([{"mass": m, "cut": cut, "bkg_efficiency": s.efficiency,
                                  "bkg_events_after": s.events_after,
                                  "max_abs_ratio_minus_1": float(np.nanmax(np.abs(s.ratio[s.before > 0] - 1)))
                                  if (s.before > 0).any() else float("nan")}
                                 for m, s in sculpt.items()])
    written = (save_all(outdir, figures, {"coefficients": coeffs, "sculpting": sculpt_table}) if save else [])
    return CorrelationReport(coeffs, sculpt_table, figures, outdir, written, len(events), subset)
