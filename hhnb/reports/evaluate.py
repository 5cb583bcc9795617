"""The evaluate notebook's report: ROC/PR, per-fold ROCs, overtraining, significance with its errors, record row.

``make`` reads only the saved card and scores (no TensorFlow); ``variation_table`` scores every systematic
variation's events with the saved network (Z at the chosen cut per variation). The cut is chosen on the ``is_val`` events and
the numbers are quoted on the other test events (``hhnb.studies.evaluation.evaluate``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from hhnb import layout
from hhnb.config import analyses as _config
from hhnb.config import lambdas as _lambdas
from hhnb.io import artifacts
from hhnb.io import record as run_record
from hhnb.nn import folds as _folds
from hhnb.plots import evaluation as evplots
from hhnb.reports._common import save_all
from hhnb.reports.constraints import NetworkScorer
from hhnb.stats import significance
from hhnb.studies import basis as _basis
from hhnb.studies import constraint_inputs as _inputs
from hhnb.studies import evaluation
from hhnb.toy import ondemand

CLASSES = ("background", "signal")


@dataclass(frozen=True)
class EvaluateReport:
    """What evaluate.ipynb shows, each table rounded for printing."""

    header: str
    evaluation: evaluation.Evaluation
    summary: pd.DataFrame  # evaluation.summary: Z +- bootstrap error, Z without MC stat., simulated bkg events
    quoted_line: str  # Significance.line(): the one line to quote
    confusion: pd.DataFrame  # weighted yields at the fixed cut (true class rows, predicted class columns)
    overtraining: pd.DataFrame | None  # weighted KS per class (None for a k-fold set: no training-set scores)
    fold_aucs: pd.DataFrame | None  # per-fold weighted AUCs with mean, spread and the out-of-fold AUC (k-fold)
    folds: int
    best_line: str  # the fine-scan maximum (labelled: not for quoting)
    figures: dict[str, plt.Figure]
    outdir: Path
    written: list[Path]
    record_id: int | None


def fold_auc_table(metrics_: dict[str, Any]) -> pd.DataFrame:
    """The card's per-fold AUCs as a table: one row per fold, then mean +- std. dev. and the out-of-fold AUC.

    >>> fold_auc_table({"fold_auc": [0.9, 0.92], "fold_events": [10, 12], "fold_auc_mean": 0.91,
    ...                 "fold_auc_std": 0.0141, "oof_auc": 0.905})["auc"].tolist()
    [0.9, 0.92, 0.91, 0.0141, 0.905]
    """
    rows = [{"network": f"fold {i}", "events": n, "auc": a}
            for i, (a, n) in enumerate(zip(metrics_["fold_auc"], metrics_.get("fold_events", [None] * 99)))]
    rows += [{"network": "mean over folds", "events": None, "auc": metrics_["fold_auc_mean"]},
             {"network": "std. dev. over folds", "events": None, "auc": metrics_["fold_auc_std"]},
             {"network": "all events out-of-fold", "events": None, "auc": metrics_["oof_auc"]}]
    out = pd.DataFrame(rows)
    out["events"] = ["" if pd.isna(n) else str(int(n)) for n in out["events"]]
    return out


def confusion_table(matrix: np.ndarray) -> pd.DataFrame:
    """The weighted confusion matrix [[TN, FP], [FN, TP]] as a labelled table (rows: true, columns: predicted)."""
    return pd.DataFrame(np.asarray(matrix, float), index=[f"true {c}" for c in CLASSES],
                        columns=[f"predicted {c}" for c in CLASSES])


def make(analysis: str, kl: object, config: str | Path | None = None, models_dir: str | Path | None = None,
         record_path: str | Path | None = None, cut: float = 0.75, rel_unc: float = 0.0, min_bkg: float = 10.0,
         min_bkg_mc: int = significance.DEFAULT_MIN_BKG_MC, seed: int = 1, record: bool = True,
         save: bool = True) -> EvaluateReport:
    """Evaluate the saved scores of one network (or k-fold set); draw, save, and add a run-record row."""
    kl = _lambdas.parse(kl)
    lumi = _config.analysis(analysis, config).luminosity
    models = layout.models_dir(models_dir)
    card = artifacts.read_card(models, analysis, kl)
    scores = artifacts.read_scores(models, analysis, kl)
    folds = int(card.get("folds", 1))
    ev = evaluation.evaluate(scores, cut=cut, rel_unc=rel_unc, min_bkg=min_bkg, min_bkg_mc=min_bkg_mc, seed=seed,
                             classes=list(card["classes"]))
    n_test = int(scores["is_test"].sum())
    header = (f"{analysis}, lambda {_lambdas.tag(kl)}: {len(card['classes'])}-class network"
              + (f", {folds}-fold set (every event scored out-of-fold)" if folds > 1 else "")
              + f"; events scored by a network that never saw them: {n_test}; luminosity {lumi:g} fb^-1")
    figures: dict[str, plt.Figure] = {"roc": evplots.roc_curve(ev.roc, lumi=lumi)}
    fold_aucs = None
    if folds > 1:
        figures["roc_folds"] = evplots.fold_roc_curves(_folds.fold_rocs(scores), lumi=lumi)
        fold_aucs = fold_auc_table(card["metrics"])
    figures["precision_recall"] = evplots.pr_curve(ev.pr, lumi=lumi)
    ks = (ev.ks_signal, ev.ks_background) if folds == 1 else None
    figures["score_sig"] = evplots.score_distributions(scores, "score_sig", xlabel="Signal probability $p_{sig}$",
                                                       ks_pvalues=ks)
    if len(card["classes"]) > 2:
        figures["discriminant"] = evplots.score_distributions(
            scores, "discriminant", xlabel=r"$\log(p_{sig} / (p_{qcd} + p_{top}))$", ks_pvalues=ks)
    figures["significance"] = evplots.significance_curve(ev.scan, ev.scan_simple, lumi=lumi)
    figures["confusion"] = evplots.confusion_matrix(ev.confusion, cut, lumi=lumi)
    outdir = layout.run_dir(analysis, kl)
    written: list[Path] = []
    if save:
        written = save_all(outdir, figures, {})
        written.append(evaluation.write_roc_csv(ev, outdir / "roc.csv"))
    best = evaluation.best_line(evaluation.roc_table(ev))
    row_id = run_record.add(evaluation.record_row(ev, card), record_path) if record else None
    overtraining = ev.overtraining if folds == 1 and ev.overtraining is not None and len(ev.overtraining) else None
    table = evaluation.summary(ev)
    if folds > 1:  # no training-set scores: the train-vs-test KS rows would only say nan
        table = table[~table.index.str.startswith("KS p-value")]
    return EvaluateReport(header, ev, table, ev.quoted.line(), confusion_table(ev.confusion),
                          overtraining, fold_aucs, folds, best, figures, outdir, written, row_id)


def variation_table(analysis: str, kl: object, cut: float, config: str | Path | None = None,
                    data_dir: str | Path | None = None, models_dir: str | Path | None = None,
                    rel_unc: float = 0.0, basis_events: int = 2000) -> pd.DataFrame:
    """Z at ``cut`` (the chosen one: ``EvaluateReport.evaluation.quoted.cut``) for the nominal and every systematic
    variation of the analysis, and the shift of each: every variation's events scored by the saved network
    (TensorFlow, unlike ``make``), selected as the kappa_lambda study selects them (signal region, score >= cut,
    test events for a single network; ``constraint_inputs.varied_templates``), Z from ``evaluation.variation_z``.
    The signal at ``kl`` is the basis combination: toy basis samples that are missing are generated
    (``basis_events`` each, one line on stdout each)."""
    kl = _lambdas.parse(kl)
    ana = _config.analysis(analysis, config)
    models = layout.models_dir(models_dir)
    for b in _basis.DEFAULT_BASIS:
        ondemand.generate_missing(ana, b, layout.data_dir(data_dir), events=basis_events)
    folds = int(artifacts.read_card(models, analysis, kl).get("folds", 1))
    v = _inputs.varied_templates(ana, NetworkScorer(models, analysis, kl), kl, layout.data_dir(data_dir),
                                 edges=[0.0, 1.0e6], cut=cut, trained_on=[kl], test_only=folds == 1)
    return evaluation.variation_z(v, kl, rel_unc)
