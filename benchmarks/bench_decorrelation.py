"""DisCo training against the plain network: events x epochs per second, same network, events and settings.

The penalty adds, per batch, the n x n distance matrices of the background events (n about 0.8 x batch):
the row measures what that costs at hhnb's default batch (1000). Interleaved repeats, best of each.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import data_dir  # noqa: E402

from hhnb.config import analyses as config  # noqa: E402
from hhnb.config.training import Decorrelation, HyperParameters  # noqa: E402
from hhnb.nn import training  # noqa: E402
from hhnb.nn.fit import fit  # noqa: E402

EPOCHS = 6
REPEATS = 2
STRENGTH = 10.0


def rows() -> list[dict]:
    d = data_dir(lambdas=(1.0,), analyses=("resolved",))
    ana = config.analysis("resolved")
    arrays = training.training_arrays(ana, 1.0, d, folds=1)
    hyper = HyperParameters.scaled(ana.learning_rate, epochs=EPOCHS, patience=100)  # fixed epochs: no early stop
    dec = Decorrelation("disco", STRENGTH)
    _, mass, pw = training.decorrelation_inputs(arrays, dec, ana)
    tr, va = arrays.train, arrays.val
    sw, penalty = training._fold_training(arrays, dec, mass, pw, tr, va)
    x, y = arrays.x, arrays.y
    times: dict[str, list[float]] = {"plain": [], "disco": []}
    for _ in range(REPEATS):
        for name, pen in (("plain", None), ("disco", penalty)):
            res = fit(x[tr], y[tr], sw, x[va], y[va], arrays.sample_weight[va], len(arrays.classes), hyper, seed=1,
                      penalty=pen)
            times[name].append(res.train_time_s)
    n = int(tr.sum())
    rate = {k: n * EPOCHS / min(v) for k, v in times.items()}
    ratio = rate["disco"] / rate["plain"]
    return [{"benchmark": f"DisCo training (strength {STRENGTH:g}, masses {', '.join(ana.decorrelate)}) vs the plain "
                          f"network, same network and settings (resolved, {n} events x {EPOCHS} epochs, batch "
                          f"{hyper.batch_size}; best of {REPEATS} interleaved)",
             "hhnb": rate["disco"], "reference": rate["plain"], "peer": "plain training (same process)",
             "unit": "events x epochs / s", "ratio": ratio, "goal": ">= 0.7", "met": ratio >= 0.7}]


if __name__ == "__main__":
    import pandas as pd

    from hhnb.io.tables import text_table

    print(text_table(pd.DataFrame(rows())))
