"""The train notebook's report: train one network or a k-fold set, its learning curves and headline numbers."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from hhnb import layout
from hhnb.config import analyses as _config
from hhnb.config import lambdas as _lambdas
from hhnb.config.training import FOLDS, HyperParameters, parse_decorrelation
from hhnb.nn import training
from hhnb.plots import evaluation as evplots
from hhnb.reports._common import save_all


@dataclass(frozen=True)
class TrainReport:
    """What train.ipynb shows: the run, a description, per-fold numbers (k-fold), the learning curves."""

    run: training.TrainingRun
    description: str
    folds_table: pd.DataFrame | None  # one row per fold: epochs, events, weighted AUC on its own fold
    figures: dict[str, plt.Figure]
    outdir: Path
    written: list[Path]

    def lines(self) -> list[str]:
        """The headline lines printed by the notebook (rounded: stable across runs)."""
        card = self.run.card
        m = card["metrics"]
        out = [self.description, f"events: {card['events']}", f"split: {card['test_rule']}"]
        if self.run.folds > 1:
            out += [f"{self.run.folds} networks, {card['fold_rule']}",
                    f"out-of-fold AUC (signal vs all, weighted): {m['oof_auc']:.3f}; per fold "
                    f"{m['fold_auc_mean']:.3f} +- {m['fold_auc_std']:.3f} (mean +- std. dev.)"]
        else:
            out.append(f"test AUC (signal vs all, weighted): {m['test_auc']:.3f}; epochs run {card['epochs_run']}")
        out += [f"wrote {p.name}" for p in (*self.run.model_paths, self.run.card_path, self.run.scores_path)]
        return out


def make(analysis: str, kl: object, config: str | Path | None = None, data_dir: str | Path | None = None,
         models_dir: str | Path | None = None, epochs: int | None = None, batch_size: int | None = None,
         learning_rate: float | None = None, dropout: float | None = None,
         widths: tuple[int, ...] | list[int] | None = None, optimizer: str | None = None, seed: int = 1,
         three_class: bool = True, max_events: int | None = None, generate: bool = False, folds: int | None = None,
         export_onnx: bool = False,
         save: bool = True, parameterised: bool = False, param_lambdas: object = "all",
         decorrelation: str = "none", progress: bool | str = "auto") -> TrainReport:
    """Train (``hhnb.nn.training.train``) with the notebook's parameters and draw the learning curves.

    A setting left None is the training default (:mod:`hhnb.config.training`); ``learning_rate`` None: the
    analysis' (or the default) rate quoted at batch 100, scaled to ``batch_size``; a number is used as it is.

    ``parameterised``: one network for all ``param_lambdas`` ("all": the grid of 15) with kappa_lambda as an
    input (``kl`` is then ignored; files carry the tag ``layout.PARAM``). ``decorrelation``: ``none``, ``flat`` or
    ``disco:STRENGTH`` (:func:`hhnb.config.training.parse_decorrelation`; the card records it).
    ``progress``: per-epoch lines of every network ("auto": in JupyterLab or a terminal only, never under
    papermill or nbval; see ``hhnb.nn.progress``).
    """
    kl = layout.PARAM if parameterised else _lambdas.parse(kl)
    ana = _config.analysis(analysis, config)
    folds = FOLDS if folds is None else folds
    settings = {"widths": None if widths is None else tuple(widths), "dropout": dropout, "optimizer": optimizer,
                "epochs": epochs, "batch_size": batch_size}
    given = {k: v for k, v in settings.items() if v is not None}
    hyper = (HyperParameters(learning_rate=learning_rate, **given) if learning_rate is not None
             else HyperParameters.scaled(ana.learning_rate, **given))
    n_classes = len(ana.classes) if three_class else 2
    description = (f"{ana.name}: {ana.description}; lambda {layout.tag(kl)}; {n_classes} classes; "
                   f"{len(ana.features)} inputs; folds {folds}")
    run = training.train(analysis, kl, config=config, data_dir=data_dir, models_dir=models_dir, n_classes=n_classes,
                         hyper=hyper, seed=seed, max_events=max_events, generate=generate, folds=folds,
                         export_onnx=export_onnx, lambdas=param_lambdas if parameterised else None,
                         decorrelation=parse_decorrelation(decorrelation), progress=progress)
    table = None
    if run.folds > 1:
        table = pd.DataFrame([{"fold": p["fold"], "epochs_run": p["epochs_run"], "train_events": p["events"]["train"],
                               "early_stopping_events": p["events"]["validation"],
                               "scored_events": p["events"]["test"], "auc_own_fold": round(p["test_auc"], 4)}
                              for p in run.card["per_fold"]])
    histories = [r.history for r in (run.results or (run.result,))]
    figures = {"learning_curve": evplots.learning_curves(histories)}
    outdir = training.output_dir(analysis, kl)
    written = save_all(outdir, figures, {}) if save else []
    return TrainReport(run, description, table, figures, outdir, written)
