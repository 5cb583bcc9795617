"""The decorrelation notebook's report: the plain network, DisCo at several strengths and the flattened one,
side by side: AUC, signal efficiency, mass sculpting (dCor^2), closure of the multijet estimate, and the
width of the kappa_lambda interval each buys (chi2 of the constraints study)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from hhnb import layout
from hhnb.config import analyses as _config
from hhnb.config import lambdas as _lambdas
from hhnb.config.training import Decorrelation, HyperParameters
from hhnb.io import artifacts
from hhnb.nn import training
from hhnb.plots import decorrelation as plots
from hhnb.reports import constraints as constraints_report
from hhnb.reports._common import save_all
from hhnb.studies import decorrelation as study
from hhnb.studies.constraints import CUT


@dataclass(frozen=True)
class DecorrelationReport:
    """One row per training setting (the table), the figure, and what was trained."""

    table: pd.DataFrame
    figures: dict[str, plt.Figure]
    trained: tuple[str, ...]
    outdir: Path
    written: list[Path]

    def shown(self, digits: int = 3) -> pd.DataFrame:
        """The table as the notebook prints it: value +- error columns, rounded."""
        t = self.table
        fmt = f"{{:.{digits}f}} +- {{:.{digits}f}}"
        return pd.DataFrame({
            "setting": t["setting"],
            "AUC": [fmt.format(a, e) for a, e in zip(t["auc"], t["auc_error"])],
            "sig. eff. at 1 % bkg": [fmt.format(a, e) for a, e in zip(t["signal_eff_at_1pc_bkg"], t["signal_eff_error"])],
            "dCor2(p_sig, m_h1) multijet": t["dcor2_h1_M"].round(4),
            "p-value": t["dcor2_pvalue"].round(3),
            "closure": [fmt.format(c, e) for c, e in zip(t["closure"], t["closure_error"])],
            "pull": t["closure_pull"].round(1),
            "kl interval 68 % (chi2)": t["interval"],
            "width": [f"{v:.2f} +- {e:.2f}" if np.isfinite(v) else ("open" if iv else "") for v, e, iv in
                      zip(t["interval_width"], t["interval_width_error"], t["interval"])],
        })


def settings(strengths: Sequence[float], flat: bool) -> list[Decorrelation]:
    """The plain network, DisCo at each strength (0 excluded: the plain network), and the flattened one."""
    out = [Decorrelation()]
    out += [Decorrelation("disco", float(s)) for s in strengths if float(s) > 0]
    return out + ([Decorrelation("flat")] if flat else [])


def _trained_with(card_file: Path, hyper: HyperParameters, dec: Decorrelation, seed: int, max_events: int | None) -> bool:
    if not card_file.exists():
        return False
    card = json.loads(card_file.read_text())
    return (card.get("hyperparameters") == hyper.as_dict() and card.get("seed") == seed
            and card.get("decorrelation", {}).get("method") == dec.method
            and card.get("decorrelation", {}).get("strength") == float(dec.strength)
            and card.get("max_events") == max_events)


def make(analysis: str = "resolved", kl: object = 1.0, strengths: Sequence[float] = (1.0, 10.0, 50.0),
         flat: bool = True, epochs: int | None = None, batch_size: int | None = None,
         max_events: int | None = None, seed: int = 1, cut: float = CUT,
         region: str = "box", n_boot: int = 100, interval: bool = True, data_dir: str | Path | None = None,
         models_dir: str | Path | None = None, retrain: bool = False, save: bool = True,
         log: Callable[[str], None] = print) -> DecorrelationReport:
    """Train what is missing (one network per setting, one train/test split, said through ``log``), then the table.

    ``epochs``, ``batch_size``: every network's (None: the training defaults, :mod:`hhnb.config.training`);
    ``max_events``: training events per sample; ``cut``: the p_sig cut of the ABCD estimate and of the
    constraints' templates; ``region``: ``box`` or ``ellipse`` (:mod:`hhnb.studies.abcd`); ``interval``: also the
    chi2 interval of kappa_lambda at 68 % CL from the network's templates (the constraints study, f = 0).
    """
    kl = _lambdas.parse(kl)
    ana = _config.analysis(analysis)
    hyper = HyperParameters.scaled(ana.learning_rate, epochs=epochs, batch_size=batch_size)
    rows, trained = [], []
    for dec in settings(strengths, flat):
        name = layout.decorrelation_setting(dec.method, dec.strength)
        models = layout.decorrelation_models_dir(name, models_dir)
        card_file = layout.card_path(models, analysis, kl)
        if retrain or not _trained_with(card_file, hyper, dec, seed, max_events):
            log(f"training the {name} network ({hyper.epochs} epochs, at most {max_events} events per sample)")
            training.train(analysis, kl, data_dir=data_dir, models_dir=models, hyper=hyper, seed=seed,
                           max_events=max_events, folds=1, generate=True, decorrelation=dec)  # the card has max_events
            trained.append(name)
        scores = artifacts.read_scores(models, analysis, kl)
        row = {"setting": name, "method": dec.method, "strength": float(dec.strength),
               **study.row(scores, cut, region, n_boot=n_boot, seed=seed)}
        row["interval"], row["interval_width"], row["interval_width_error"] = "", float("nan"), float("nan")
        if interval and ana.mhh_bins:
            rep = constraints_report.make([analysis], (kl,), data_dir=data_dir, models_dir=models, cut=cut,
                                          systematics=(0.0,), pyhf_systematics=(), log=lambda _: None)
            iv = rep.chi2[(kl, 0.0, analysis)].interval()
            row["interval"] = str(iv)
            if iv.low is not None and iv.high is not None:
                row["interval_width"] = float(iv.high - iv.low)
                row["interval_width_error"] = study.interval_width_error(
                    rep.templates[(kl, analysis)], rep.chi2[(kl, 0.0, analysis)].kl, n_boot=n_boot, seed=seed)[0]
        rows.append(row)
    table = pd.DataFrame(rows)
    figures = {"decorrelation_tradeoff": plots.tradeoff(table, lumi=ana.luminosity)}
    outdir = layout.decorrelation_dir(analysis, kl)
    written = save_all(outdir, figures, {"decorrelation_tradeoff": table}) if save else []
    return DecorrelationReport(table, figures, tuple(trained), outdir, written)
