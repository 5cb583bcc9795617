"""``hhnb roc --file roc.csv``: draw the ROC curve of a saved CSV and print the best significance."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from hhnb.plots import evaluation as evplots
from hhnb.plots.style import save
from hhnb.stats import metrics
from hhnb.studies import evaluation


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--file", required=True, help="ROC CSV written by the evaluate notebook (roc.csv in the network's run folder)")
    p.add_argument("--out", help="folder for roc.png/.pdf (default: beside the CSV)")


def run(args: argparse.Namespace) -> int:
    df = evaluation.read_roc_csv(args.file)
    # threshold order, trapezoid rule: with signed weights the rates need not be monotonic (metrics.weighted_auc)
    order = df.sort_values("score_cut", ascending=False)
    area = float(np.trapezoid(order.sig_eff.to_numpy(), order.bkg_eff.to_numpy()))
    curve = metrics.Curve(order.bkg_eff.to_numpy(), order.sig_eff.to_numpy(), order.score_cut.to_numpy(), area)
    out = Path(args.out) if args.out else Path(args.file).parent
    paths = save(evplots.roc_curve(curve), out, "roc_from_csv")
    print(evaluation.best_line(df))
    print(f"AUC = {area:.4f}")
    print(f"plot: {paths[0]}")
    return 0
