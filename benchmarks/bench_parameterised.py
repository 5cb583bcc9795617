"""Issue 15: one parameterised network against the fifteen dedicated ones, at the study's size, on an independent toy.

``hhnb.reports.parameterised.make`` (what ``notebooks/parameterised.ipynb`` calls) with the settings its markdown
documents: the study's 15 lambdas plus 4 held out (-3, 1.5, 4, 15), 2 folds, dedicated networks 10 epochs 200x200
at batch 100 on every toy event, the parameterised network with the morphing head, 500 signal events per lambda,
13 epochs, 300x300, dropout 0.1, last-epoch weights. Those settings were chosen on toy sample A (generator seed 42);
this runs on sample B (generator seed 43), which no choice used, so its numbers are the ones to quote. AUCs are on
the same out-of-fold events for both networks, with paired bootstrap errors.

Rows: training cost (fit wall time, noisy; events x epochs, exact), the grid lambdas where the parameterised
network is at most 0.005 below the dedicated one, the held-out lambdas where it beats the nearest dedicated network.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import RESULTS  # noqa: E402

from hhnb.config import lambdas as hl  # noqa: E402
from hhnb.reports import parameterised as report  # noqa: E402
from hhnb.toy.generate import generate  # noqa: E402

ANALYSIS = "resolved"
HELD_OUT = (-3.0, 1.5, 4.0, 15.0)
SAMPLE_B = 43  # generator seed of the independent toy sample
EVENTS = 5000  # per sample: the toy's default size
TRAIN_SEED = 7
SETTINGS = {"folds": 2, "epochs": 10, "batch_size": 100, "widths": [200, 200], "max_events": None,
            "signal_events": 500, "head": "morphing", "param_epochs": 13, "param_widths": [300, 300],
            "param_dropout": 0.1, "param_restore_best": False, "n_boot": 200}


def rows() -> list[dict]:
    d = RESULTS / f"data_seed{SAMPLE_B}"
    generate(d, analyses=[ANALYSIS], lambdas=[*hl.GRID, *HELD_OUT], events=EVENTS, seed=SAMPLE_B, progress=False,
             skip_existing=True)
    with tempfile.TemporaryDirectory() as models:
        rep = report.make(ANALYSIS, grid="all", held_out=list(HELD_OUT), data_dir=d, models_dir=models, retrain=True,
                          seed=TRAIN_SEED, save=False, log=lambda _: None, **SETTINGS)
    param, ded = rep.cost["parameterised network"], rep.cost["dedicated networks (all lambdas)"]
    t_param, t_ded = float(param["training time [s]"]), float(ded["training time [s]"])
    w_param, w_ded = float(param["training events x epochs"]), float(ded["training events x epochs"])
    setting = (f"{ANALYSIS}, toy sample B (seed {SAMPLE_B}, {EVENTS} events per sample), 2 folds; dedicated 10 epochs "
               "200x200; parameterised: morphing head, 500 signal events per lambda, 13 epochs, 300x300")
    t = rep.table
    grid, held = t[~t["held out"]], t[t["held out"]]
    diff, err = "AUC difference", "AUC difference error"
    worst = grid.loc[grid[diff].idxmin()]
    worst_held = held.loc[held[diff].idxmin()]
    n_grid, n_held = int((grid[diff] >= -0.005).sum()), int((held[diff] > 0).sum())
    return [
        {"benchmark": f"training time: 1 parameterised vs {len(grid)} dedicated sets ({setting}; fit wall time)",
         "hhnb": t_param, "peer": f"{len(grid)} dedicated networks", "reference": t_ded, "unit": "s (fit wall time)",
         "ratio": t_param / t_ded, "goal": "<= 0.2", "met": t_param / t_ded <= 0.2},
        {"benchmark": f"training events x epochs: 1 parameterised vs {len(grid)} dedicated (exact count)",
         "hhnb": w_param, "peer": f"{len(grid)} dedicated networks", "reference": w_ded, "unit": "events x epochs",
         "ratio": w_param / w_ded, "goal": "<= 0.2", "met": w_param / w_ded <= 0.2},
        {"benchmark": f"out-of-fold AUC at the {len(grid)} grid lambdas, parameterised vs dedicated: {n_grid} of "
                      f"{len(grid)} >= -0.005 (mean diff {grid[diff].mean():+.4f}; worst at kl = {worst['lambda']:g}: "
                      f"{worst[diff]:+.4f} +- {worst[err]:.4f})",
         "hhnb": float(worst["AUC parameterised"]), "peer": "dedicated network (worst lambda)",
         "reference": float(worst["AUC dedicated"]), "unit": "weighted AUC",
         "ratio": float(worst["AUC parameterised"] / worst["AUC dedicated"]), "goal": "AUC >= dedicated - 0.005 at all",
         "met": n_grid == len(grid)},
        {"benchmark": f"out-of-fold AUC at the held-out lambdas {', '.join(f'{v:g}' for v in held['lambda'])}, "
                      f"parameterised vs the nearest dedicated network: better at {n_held} of {len(held)} (worst at "
                      f"kl = {worst_held['lambda']:g}: {worst_held[diff]:+.4f} +- {worst_held[err]:.4f})",
         "hhnb": float(worst_held["AUC parameterised"]), "peer": "nearest dedicated network (worst lambda)",
         "reference": float(worst_held["AUC dedicated"]), "unit": "weighted AUC",
         "ratio": float(worst_held["AUC parameterised"] / worst_held["AUC dedicated"]),
         "goal": "better at every held-out lambda", "met": n_held == len(held)},
    ]


if __name__ == "__main__":
    import time

    t0 = time.perf_counter()
    for row in rows():
        print(row)
    print(f"{time.perf_counter() - t0:.0f} s")
