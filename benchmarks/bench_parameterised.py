"""Issue 15: training cost of one parameterised network against the fifteen dedicated ones, and its AUC at each lambda.

All networks are 2-fold sets with the same hyper-parameters, trained side by side in this process on the toy
ntuples (20000 events per sample). Cost: fit wall time (noisy on a shared machine) and training events x epochs.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import data_dir  # noqa: E402

from hhnb.config import lambdas as hl  # noqa: E402
from hhnb.nn.model import HyperParameters  # noqa: E402
from hhnb.nn.parameterised import train_parameterised  # noqa: E402
from hhnb.nn.training import train  # noqa: E402

ANALYSIS = "resolved"
GRID = hl.GRID
FOLDS = 2
MAX_EVENTS = 3000  # training events per background sample and per dedicated network's signal
SIGNAL_EVENTS = 600  # parameterised: training events of each lambda's signal (15 x 600 = 9000 signal events)
HYPER = HyperParameters(epochs=10, widths=(200, 200), learning_rate=5e-3, batch_size=100)  # small sets: batch 100


def _work(card: dict) -> int:
    return sum(p["events"]["train"] * p["epochs_run"] for p in card["per_fold"])


def rows() -> list[dict]:
    grid = list(GRID)
    d = data_dir(lambdas=grid, analyses=(ANALYSIS,))
    with tempfile.TemporaryDirectory() as models:
        common = {"data_dir": d, "models_dir": models, "hyper": HYPER, "folds": FOLDS, "max_events": MAX_EVENTS,
                  "seed": 1}
        dedicated = {kl: train(ANALYSIS, kl, **common).card for kl in grid}
        param = train_parameterised(ANALYSIS, lambdas=grid, signal_events=SIGNAL_EVENTS, **common).card
    t_ded = sum(c["training_time_s"] for c in dedicated.values())
    w_ded = sum(_work(c) for c in dedicated.values())
    out = [
        {"benchmark": f"training time: 1 parameterised vs {len(grid)} dedicated ({ANALYSIS}, {FOLDS} folds)",
         "hhnb": param["training_time_s"], "reference": t_ded, "unit": "s (fit wall time)",
         "ratio": param["training_time_s"] / t_ded, "goal": "<= 0.2"},
        {"benchmark": f"training events x epochs: 1 parameterised vs {len(grid)} dedicated", "hhnb": _work(param),
         "reference": w_ded, "unit": "events x epochs", "ratio": _work(param) / w_ded, "goal": "<= 0.2"},
    ]
    diffs = {t: param["test_auc_by_lambda"][t] - dedicated[hl.parse(t)]["metrics"]["oof_auc"]
             for t in param["test_auc_by_lambda"]}
    worst = min(diffs, key=diffs.get)
    out.append({"benchmark": f"out-of-fold AUC, worst lambda ({worst}): parameterised vs dedicated",
                "hhnb": param["test_auc_by_lambda"][worst], "reference": dedicated[hl.parse(worst)]["metrics"]["oof_auc"],
                "unit": "weighted AUC", "ratio": param["test_auc_by_lambda"][worst]
                / dedicated[hl.parse(worst)]["metrics"]["oof_auc"], "goal": "AUC >= dedicated - 0.005"})
    return out
