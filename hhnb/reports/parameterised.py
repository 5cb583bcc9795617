"""The parameterised notebook's report: one network parameterised in kappa_lambda against the dedicated
per-lambda networks on the same out-of-fold events (AUC and significance at every lambda), and the training
cost of each. Networks missing (or trained with other settings) are trained on demand."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from hhnb import layout
from hhnb.config import analyses as _config
from hhnb.config import lambdas as _lambdas
from hhnb.config.training import FOLDS, HyperParameters
from hhnb.io import artifacts
from hhnb.nn import apply, training
from hhnb.nn import parameterised as _param
from hhnb.plots import comparison as cmpplots
from hhnb.reports._common import save_all
from hhnb.studies import comparison
from hhnb.toy import ondemand

AUC_GOAL = 0.005  # issue 15: AUC parameterised >= AUC dedicated - 0.005 at every grid lambda (no loss beyond it)


@dataclass(frozen=True)
class ParameterisedReport:
    """Cards per network tag, what was trained here, the cost and comparison tables, the figure."""

    analysis: str
    grid: tuple[float, ...]
    held_out: tuple[float, ...]
    models_dir: Path
    cards: dict[str, dict[str, Any]]  # layout.tag(kl) or layout.PARAM -> model card
    trained: tuple[str, ...]  # tags of the networks trained by this call
    cost: pd.DataFrame  # rows: fit time, events x epochs; columns: dedicated (all), parameterised, ratio
    table: pd.DataFrame  # one row per lambda (comparison.compare), with goal and met
    figures: dict[str, plt.Figure]
    outdir: Path
    written: list[Path]

    def lines(self) -> list[str]:
        """The headline counts against the goals."""
        grid, held = self.table[~self.table["held out"]], self.table[self.table["held out"]]
        within = int((grid["AUC difference"].abs() <= AUC_GOAL).sum())
        return [f"grid lambdas where the parameterised network loses at most {AUC_GOAL:g} AUC: "
                f"{int(grid['met'].sum())} of {len(grid)} ({within} within +-{AUC_GOAL:g}, "
                f"{int((grid['AUC difference'] > AUC_GOAL).sum())} better by more)",
                f"held-out lambdas where the parameterised network is better: {int(held['met'].sum())} of {len(held)}",
                f"training cost ratio, events x epochs (goal <= 0.2): "
                f"{self.cost.loc['training events x epochs', 'ratio (goal <= 0.2)']:.3f}"]


def settings(hyper: HyperParameters, folds: int, seed: int) -> dict[str, Any]:
    """The card fields a network must match to be reused."""
    return {"hyperparameters": hyper.as_dict(), "folds": folds, "seed": seed}


def ensure_networks(analysis: str, grid: Sequence[float], models: Path, hyper: HyperParameters, folds: int,
                    seed: int, max_events: int | None, signal_events: int | None, data_dir: str | Path | None,
                    retrain: bool = False, log: Callable[[str], None] = print, param_hyper: HyperParameters | None = None,
                    head: str | None = None, param_restore_best: bool = True) -> tuple[dict[str, dict], list[str]]:
    """The card of each dedicated network on ``grid`` and of the parameterised one; trained when missing or
    trained with other settings (hyper-parameters, folds, seed, for the parameterised one its lambdas, its
    ``head``, ``param_hyper`` (default ``hyper``) and ``param_restore_best`` (``training.train``'s ``restore_best``))."""
    head = _param.check_head(head)
    cards, trained = {}, []
    for kl in [*grid, layout.PARAM]:
        param = kl == layout.PARAM
        net_hyper = (param_hyper or hyper) if param else hyper
        want = settings(net_hyper, folds, seed)
        path = layout.card_path(models, analysis, kl)
        card = artifacts.read_card(models, analysis, kl) if path.exists() else {}
        same = all(card.get(k) == v for k, v in want.items()) and (
            not param or (card.get("lambdas") == list(grid) and card.get("head", "dense") == head
                          and card.get("restore_best_weights", True) == param_restore_best
                          and card.get("parameterisation", {}).get("signal_events_per_lambda")
                          == (signal_events or max_events)))
        if retrain or not same:
            log(f"training {path.stem} ({folds} folds{f', {head} head' if param else ''}) ...")
            card = training.train(analysis, kl, data_dir=data_dir, models_dir=models,
                                  hyper=net_hyper, seed=seed,
                                  folds=folds, max_events=max_events, generate=True,
                                  lambdas=grid if param else None, signal_events=signal_events,
                                  **({"head": head, "restore_best": param_restore_best} if param else {})).card
            trained.append(layout.tag(kl))
        cards[layout.tag(kl)] = card
    return cards, trained


def events_x_epochs(card: dict[str, Any]) -> int:
    """Training events times epochs run, summed over the folds of a k-fold set.

    >>> events_x_epochs({"per_fold": [{"events": {"train": 10}, "epochs_run": 3}, {"events": {"train": 5},
    ...                                                                             "epochs_run": 2}]})
    40
    """
    return sum(p["events"]["train"] * p["epochs_run"] for p in card.get("per_fold", [card]))


def cost_table(cards: dict[str, dict[str, Any]], grid: Sequence[float]) -> pd.DataFrame:
    """Fit wall time and events x epochs: the dedicated networks of ``grid`` together against the parameterised one."""
    dedicated = [_lambdas.tag(v) for v in grid]
    cost = pd.DataFrame({
        "dedicated networks (all lambdas)": [sum(cards[t]["training_time_s"] for t in dedicated),
                                             sum(events_x_epochs(cards[t]) for t in dedicated)],
        "parameterised network": [cards[layout.PARAM]["training_time_s"], events_x_epochs(cards[layout.PARAM])],
    }, index=["training time [s]", "training events x epochs"])
    cost["ratio (goal <= 0.2)"] = cost["parameterised network"] / cost["dedicated networks (all lambdas)"]
    return cost


def comparison_table(analysis: str, grid: Sequence[float], held_out: Sequence[float], models: Path,
                     data_dir: str | Path | None, folds: int, n_boot: int, seed: int,
                     auc_on_all: bool = True) -> pd.DataFrame:
    """One row per lambda: dedicated (nearest, at a held-out lambda) against parameterised on the same events.

    At a grid lambda the events are the dedicated network's out-of-fold scores table; at a held-out one the
    signal is that lambda's sample and the background the nearest network's out-of-fold background. Half of
    the events (``training.choose_half``) choose the significance cut, the other half quote Z; the AUCs
    (no cut to choose) are quoted on all of them (``auc_on_all``), else on the quote-on half too.
    """

    ana = _config.analysis(analysis)
    net = _param.load(models, analysis)
    rows = []
    for kl in [*grid, *held_out]:
        near = _param.nearest(kl, grid)
        ded = artifacts.read_scores(models, analysis, near)
        events = ded if kl in grid else comparison.with_signal_at(ana, kl, ded, layout.data_dir(data_dir))
        choose = training.choose_half(events["event"].to_numpy(), folds)
        # at a grid lambda the scores table holds the dedicated network's out-of-fold scores already;
        # a held-out lambda's signal events are new to it and are scored here (each by its blind fold)
        dedicated = events["score_sig"] if kl in grid else apply.score_events(
            apply.network(layout.card_path(models, analysis, near)), events)[
            layout.score_branches(analysis, near, ana.classes)[0]]
        row = comparison.compare(events, dedicated, net.score(events, kl), choose, ~choose, n_boot=n_boot, seed=seed,
                                 auc_on=np.ones(len(events), bool) if auc_on_all else None)
        rows.append({"lambda": kl, "held out": kl not in grid, "dedicated network": _lambdas.tag(near), **row})
    table = pd.DataFrame(rows)
    table["goal"] = np.where(table["held out"], "parameterised better", f"AUC difference >= -{AUC_GOAL:g}")
    table["met"] = np.where(table["held out"], table["AUC difference"] > 0, table["AUC difference"] >= -AUC_GOAL)
    return table


def make(analysis: str = "resolved", grid: object = (-5.0, 1.0, 5.0, 10.0), held_out: Sequence[object] = (4.0,),
         folds: int | None = None, epochs: int | None = None, batch_size: int | None = None,
         widths: Sequence[int] | None = None,
         max_events: int | None = 600, signal_events: int | None = 300, data_dir: str | Path | None = None,
         models_dir: str | Path | None = None, retrain: bool = False, seed: int = 1, n_boot: int = 100,
         save: bool = True, log: Callable[[str], None] = print, head: str | None = None,
         param_epochs: int | None = None, param_learning_rate: float | None = None,
         param_widths: Sequence[int] | None = None, param_dropout: float | None = None,
         param_restore_best: bool = True) -> ParameterisedReport:
    """Train what is missing, then compare the parameterised network with the dedicated ones at every lambda.

    ``folds``, ``epochs``, ``batch_size``, ``widths``: every network's settings (None: the training defaults,
    :mod:`hhnb.config.training`; the notebook passes small ones). ``grid``: the training lambdas ("all": the
    study's 15); ``held_out``: lambdas no network trains on;
    ``max_events``: training events per sample (each background sample, each dedicated network's signal);
    ``signal_events``: the parameterised network's training events per lambda (None: ``max_events``).
    ``head``: the parameterised network's head, "morphing" (None: the default, :mod:`hhnb.nn.morphing`) or
    "dense" (Baldi et al.); ``param_epochs``, ``param_learning_rate``, ``param_widths``, ``param_dropout``: its own settings
    where they differ from the dedicated networks' (None: the same); ``param_restore_best=False``: its networks
    keep their last epoch's weights (``training.train``'s ``restore_best``). Outputs (figure, tables) go to the
    parameterised network's run folder.
    """
    ana = _config.analysis(analysis)
    grid = _param.check_lambdas(grid)
    held = tuple(_lambdas.parse(v) for v in held_out)
    models = layout.comparison_models_dir(models_dir)
    folds = FOLDS if folds is None else folds
    hyper = HyperParameters.scaled(ana.learning_rate, widths=None if widths is None else tuple(widths), epochs=epochs,
                                   batch_size=batch_size)
    param_hyper = dataclasses.replace(hyper, **{k: v for k, v in (
        ("epochs", param_epochs), ("learning_rate", param_learning_rate),
        ("widths", None if param_widths is None else tuple(param_widths)), ("dropout", param_dropout))
        if v is not None})
    cards, trained = ensure_networks(analysis, grid, models, hyper, folds, seed, max_events, signal_events, data_dir,
                                     retrain, log, param_hyper=param_hyper, head=head,
                                     param_restore_best=param_restore_best)
    for kl in held:  # the held-out lambdas' signal samples (toy analyses: generated when missing)
        ondemand.generate_missing(ana, kl, layout.data_dir(data_dir))
    cost = cost_table(cards, grid)
    table = comparison_table(analysis, grid, held, models, data_dir, folds, n_boot, seed)
    figures = {"parameterised_vs_dedicated": cmpplots.versus_lambda(table, lumi=ana.luminosity)}
    outdir = training.output_dir(analysis, layout.PARAM)
    written = save_all(outdir, figures, {"parameterised_vs_dedicated": table,
                                         "training_cost": cost.reset_index(names="quantity")}) if save else []
    return ParameterisedReport(analysis, grid, held, models, cards, tuple(trained), cost, table, figures, outdir,
                               written)
