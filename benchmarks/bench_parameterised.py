"""Issue 15: training cost of one parameterised network against the fifteen dedicated ones, and its AUC at each lambda.

All networks are single networks (k = 1: one fit each, the test events ``event % 5 == 0`` held out), the dedicated
ones with ``HYPER``, the parameterised one (morphing head) with ``PARAM_HYPER``, trained side by side in this
process on the toy ntuples. Cost: fit wall time (noisy on a
shared machine) and training events x epochs (load-free). Both are ratios of the same per-event work, so they
do not depend much on the size: the k = 2 sets at 3000 events per sample (32 fits, before issue 17's budget)
gave 0.055 for the fit times; this smaller set is checked against it in README "Performance".
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import data_dir  # noqa: E402

from hhnb.config import lambdas as hl  # noqa: E402
from hhnb.nn.model import HyperParameters  # noqa: E402
from hhnb.nn.parameterised import train_parameterised  # noqa: E402
from hhnb.nn.training import train  # noqa: E402

ANALYSIS = "resolved"
GRID = hl.GRID
FOLDS = 1
MAX_EVENTS = 3000  # training events per background sample and per dedicated network's signal (as the k = 2 sets had per fold)
SIGNAL_EVENTS = 500  # parameterised: training events of each lambda's signal (15 x 500 = 7500 signal events)
HYPER = HyperParameters(epochs=10, widths=(200, 200), learning_rate=5e-3, batch_size=100)  # small sets: batch 100
# the parameterised network (morphing head, hhnb.nn.morphing): wider, less dropout, 13 epochs, last epoch's weights
# (the study's settings, docs/physics.md section 5); SIGNAL_EVENTS keeps its events x epochs under 1/5
HEAD = "morphing"
PARAM_HYPER = HyperParameters(epochs=13, widths=(300, 300), dropout=0.1, learning_rate=5e-3, batch_size=100)
RESTORE_BEST = False


def _work(card: dict) -> int:
    """Training events x epochs of a card (each fold's own for a k-fold set)."""
    per_fold = card.get("per_fold") or [{"events": card["events"], "epochs_run": card["epochs_run"]}]
    return sum(p["events"]["train"] * p["epochs_run"] for p in per_fold)


def _auc(card: dict) -> float:
    """The dedicated network's AUC on the events it never trained on (out-of-fold for k >= 2, test for k = 1)."""
    return card["metrics"]["oof_auc"] if "oof_auc" in card["metrics"] else card["metrics"]["test_auc"]


def rows() -> list[dict]:
    grid = list(GRID)
    d = data_dir(lambdas=grid, analyses=(ANALYSIS,))
    with tempfile.TemporaryDirectory() as models:
        common = {"data_dir": d, "models_dir": models, "hyper": HYPER, "folds": FOLDS, "max_events": MAX_EVENTS,
                  "seed": 1}
        dedicated = {kl: train(ANALYSIS, kl, **common).card for kl in grid}
        param = train_parameterised(ANALYSIS, lambdas=grid, signal_events=SIGNAL_EVENTS, head=HEAD,
                                    restore_best=RESTORE_BEST, **{**common, "hyper": PARAM_HYPER}).card
    t_ded = sum(c["training_time_s"] for c in dedicated.values())
    w_ded = sum(_work(c) for c in dedicated.values())
    setting = (f"{ANALYSIS}, k={FOLDS}, {MAX_EVENTS} events per sample, <= {HYPER.epochs} epochs; parameterised: "
               f"{HEAD} head, {SIGNAL_EVENTS} per lambda, {PARAM_HYPER.epochs} epochs")
    out = [
        {"benchmark": f"training time: 1 parameterised vs {len(grid)} dedicated ({setting}; fit wall time, "
                      "noise: the machine's load)",
         "hhnb": param["training_time_s"], "peer": f"{len(grid)} dedicated networks", "reference": t_ded,
         "unit": "s (fit wall time)", "ratio": param["training_time_s"] / t_ded, "goal": "<= 0.2",
         "met": param["training_time_s"] / t_ded <= 0.2},
        {"benchmark": f"training events x epochs: 1 parameterised vs {len(grid)} dedicated (exact count)",
         "hhnb": _work(param), "peer": f"{len(grid)} dedicated networks", "reference": w_ded,
         "unit": "events x epochs", "ratio": _work(param) / w_ded, "goal": "<= 0.2", "met": _work(param) / w_ded <= 0.2},
    ]
    diffs = {t: param["test_auc_by_lambda"][t] - _auc(dedicated[hl.parse(t)]) for t in param["test_auc_by_lambda"]}
    worst = min(diffs, key=diffs.get)
    spread = float(np.std(list(diffs.values()), ddof=1))
    kind = "out-of-fold" if FOLDS > 1 else "test"
    ok = sum(d >= -0.005 for d in diffs.values())
    out.append({"benchmark": f"{kind} AUC, worst lambda ({worst}): {HEAD} parameterised vs dedicated (diff "
                             f"{diffs[worst]:+.4f}; the {len(diffs)} lambdas' diffs: mean "
                             f"{np.mean(list(diffs.values())):+.4f}, sd {spread:.4f}; {ok} of {len(diffs)} >= -0.005)",
                "hhnb": param["test_auc_by_lambda"][worst], "peer": "dedicated network",
                "reference": _auc(dedicated[hl.parse(worst)]),
                "unit": "weighted AUC", "ratio": param["test_auc_by_lambda"][worst] / _auc(dedicated[hl.parse(worst)]),
                "goal": "AUC >= dedicated - 0.005", "met": diffs[worst] >= -0.005})
    return out


if __name__ == "__main__":
    import time

    t0 = time.perf_counter()
    for row in rows():
        print(row)
    print(f"{time.perf_counter() - t0:.0f} s")
