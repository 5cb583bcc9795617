"""Training: throughput against the unmodified fit, Keras' ``model.fit`` and the machine's matmul rate.

All rows are ratios of figures measured side by side in this one process (the machine is shared, so
absolute rates move with the load; the two sides of a ratio are interleaved and the best of the
repeats is kept, each repeat's ratio shown). The throughput reference is the bare Keras fit as hhnb ran it
before issue 17 (batch 100, one step per call, Keras validation). The AUC rows (defaults against that
unmodified fit and against the tuned boosted trees) are in ``bench_quality.py``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import data_dir  # noqa: E402

from hhnb.config import analyses as config  # noqa: E402
from hhnb.config.training import HyperParameters  # noqa: E402
from hhnb.nn import backend  # noqa: E402
from hhnb.nn.backend import keras, set_seed  # noqa: E402
from hhnb.nn.fit import fit  # noqa: E402
from hhnb.nn.network import build  # noqa: E402
from hhnb.nn.training import training_arrays  # noqa: E402
from hhnb.stats import metrics  # noqa: E402

THROUGHPUT_EPOCHS = 8
REPEATS = 2


def _arrays(analysis: str, kl: float, d):
    ana = config.analysis(analysis)
    a = training_arrays(ana, kl, d, folds=1)  # the bench's single split (train / validation / test)
    w_te = metrics.luminosity_weights(a.weight, a.frame["sample"].astype(str).to_numpy(), a.test)
    return ana, a.x, a.y, a.sample_weight, a.train, a.val, a.test, w_te


def n_params(n_in: int, widths: tuple[int, ...], n_out: int) -> int:
    """Trainable parameters of the dense stack (the Normalization layer has none).

    >>> n_params(20, (200, 200), 3)
    45003
    """
    sizes = [n_in, *widths, n_out]
    return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))


def matmul_rate(batch: int, width: int = 200, seconds: float = 0.5) -> tuple[float, str]:
    """Best float32 matmul rate (FLOP/s) over layer-shaped products (n x width) @ (width x width).

    n in (batch, 1000, 4096): the layer's own shape at the training batch and the same layer with
    more events per call; each by numpy (OpenBLAS) and by TensorFlow (oneDNN, what the training runs on).
    The best of them is the machine's limit for this arithmetic: on shared cores numpy's OpenBLAS threads
    wait on each other and its rate alone fell to a tenth of oneDNN's (docs/performance.md, issue 28).
    """
    tf = backend.tensorflow()
    rng = np.random.default_rng(0)
    w = rng.normal(size=(width, width)).astype(np.float32)
    tw = tf.constant(w)
    best, shape = 0.0, ""
    for n in (batch, 1000, 4096):
        a = rng.normal(size=(n, width)).astype(np.float32)
        ta = tf.constant(a)
        for lib, product in (("numpy", lambda a=a: a @ w), ("TensorFlow", lambda ta=ta: tf.linalg.matmul(ta, tw))):
            product()
            reps, t0 = 0, time.perf_counter()
            while time.perf_counter() - t0 < seconds:
                product()
                reps += 1
            rate = 2.0 * n * width * width * reps / (time.perf_counter() - t0)
            if rate > best:
                best, shape = rate, f"{lib} ({n}x{width})@({width}x{width})"
    return best, shape


def _unmodified(ana, **kw) -> HyperParameters:
    """The fit as it was before issue 17: batch 100, the analysis' learning rate, one step per call, raw inputs."""
    return HyperParameters(learning_rate=ana.learning_rate, batch_size=100, steps_per_execution=1, log_inputs=False,
                           **kw)


def bare_fit(x, y, sw, x_val, y_val, w_val, n_classes: int, hyper: HyperParameters, seed: int = 1) -> float:
    """The fit as hhnb ran it before issue 17: Keras ``fit`` with ``validation_data`` (evaluate each epoch); seconds."""
    k = keras()
    set_seed(seed)
    model = build(x, n_classes, hyper)
    stop = k.callbacks.EarlyStopping(monitor="val_loss", patience=hyper.patience, restore_best_weights=True)
    t0 = time.perf_counter()
    model.fit(x, y, sample_weight=sw.astype("float32"), validation_data=(x_val, y_val, w_val.astype("float32")),
              epochs=hyper.epochs, batch_size=hyper.batch_size, shuffle=True, verbose=0, callbacks=[stop],
              validation_batch_size=8192)
    return time.perf_counter() - t0


def keras_fit(x, y, sw, x_val, y_val, w_val, n_classes: int, hyper: HyperParameters, seed: int = 1) -> float:
    """The defaults trained through Keras' own ``model.fit`` (what hhnb.nn.fit.fit did before hhnb.nn.loop): seconds.

    Same network, optimizer, batches per call (``steps_per_execution``), validation loss callback and early stopping
    as :func:`hhnb.nn.fit.fit`; only the loop differs.
    """
    from hhnb.nn.fit import validation_callback as _validation_loss  # noqa: PLC0415

    k = keras()
    set_seed(seed)
    model = build(x, n_classes, hyper)
    stop = k.callbacks.EarlyStopping(monitor="val_loss", patience=hyper.patience, restore_best_weights=True)
    t0 = time.perf_counter()
    model.fit(x.astype("float32"), y, sample_weight=sw.astype("float32"), epochs=hyper.epochs,
              batch_size=hyper.batch_size, shuffle=True, verbose=0, callbacks=[_validation_loss()(x_val, y_val, w_val),
                                                                              stop])
    return time.perf_counter() - t0


def _throughput_rows(d) -> list[dict]:
    ana, x, y, sw, tr, va, te, w_te = _arrays("resolved", 1.0, d)
    n = int(tr.sum())
    fixed = {"epochs": THROUGHPUT_EPOCHS, "patience": 100}  # a fixed number of epochs: no early stop
    new = HyperParameters.scaled(ana.learning_rate, **fixed)
    old = _unmodified(ana, **fixed)
    times = {"new": [], "old": [], "keras": []}
    limit, steady = [], []
    for _ in range(REPEATS):  # interleaved: both sides see the same load
        limit.append(matmul_rate(new.batch_size))
        times["old"].append(bare_fit(x[tr], y[tr], sw[tr], x[va], y[va], sw[va], len(ana.classes), old))
        times["keras"].append(keras_fit(x[tr], y[tr], sw[tr], x[va], y[va], sw[va], len(ana.classes), new))
        res = fit(x[tr], y[tr], sw[tr], x[va], y[va], sw[va], len(ana.classes), new, seed=1)
        times["new"].append(res.train_time_s)
        steady.append(res.steady_epoch_s)
    ratios = [o / nw for o, nw in zip(times["old"], times["new"])]
    t_new, t_old = min(times["new"]), min(times["old"])
    rate_new, rate_old = n * THROUGHPUT_EPOCHS / t_new, n * THROUGHPUT_EPOCHS / t_old
    flops = 6 * n_params(x.shape[1], new.widths, len(ana.classes))
    peak, shape = max(limit)
    spread = f"per-repeat ratios {', '.join(f'{r:.2f}' for r in ratios)}"
    t_epoch = min(steady)
    rate_steady = n / t_epoch
    overhead = t_new - THROUGHPUT_EPOCHS * t_epoch  # graph tracing, optimizer build, first-epoch costs
    setting = f"{n} events x {THROUGHPUT_EPOCHS} epochs, fit wall time incl. graph tracing"
    loop_ratios = [kf / nw for kf, nw in zip(times["keras"], times["new"])]
    t_keras = min(times["keras"])
    return [
        {"benchmark": f"training loop (hhnb.nn.loop) vs Keras model.fit, same network, settings, callbacks ({setting}; "
                      f"per-repeat ratios {', '.join(f'{r:.2f}' for r in loop_ratios)})",
         "hhnb": n * THROUGHPUT_EPOCHS / t_new, "reference": n * THROUGHPUT_EPOCHS / t_keras, "peer": "Keras model.fit",
         "unit": "events x epochs / s", "ratio": t_keras / t_new, "goal": "> 1", "met": t_keras / t_new > 1},
        {"benchmark": f"training throughput, defaults (batch {new.batch_size}, lr {new.learning_rate:.3g}, "
                      f"steps_per_execution {new.steps_per_execution}) vs unmodified fit (batch 100, lr "
                      f"{old.learning_rate:g}, 1 step per call, Keras validation) ({setting}; {spread})",
         "hhnb": rate_new, "reference": rate_old, "peer": "hhnb fit before issue 17",
         "unit": "events x epochs / s", "ratio": rate_new / rate_old, "goal": ">= 2", "met": rate_new / rate_old >= 2},
        {"benchmark": f"training FLOP rate (6 x {flops // 6} params x events) vs the best float32 matmul, {shape}",
         "hhnb": rate_new * flops / 1e9, "reference": peak / 1e9, "peer": "best matmul (same process)",
         "unit": "GFLOP/s", "ratio": rate_new * flops / peak, "goal": ">= 0.25", "met": rate_new * flops / peak >= 0.25},
        {"benchmark": f"training FLOP rate per epoch after the first (no graph tracing; median epoch {t_epoch:.3f} s, "
                      f"fixed cost of a fit {overhead:.1f} s: tracing the train step once, building the optimizer) "
                      f"vs the same matmul",
         "hhnb": rate_steady * flops / 1e9, "reference": peak / 1e9, "peer": "best matmul (same process)",
         "unit": "GFLOP/s", "ratio": rate_steady * flops / peak, "goal": ">= 0.25 (steady state)",
         "met": rate_steady * flops / peak >= 0.25},
        {"benchmark": f"unmodified fit FLOP rate vs the same matmul ({setting})", "hhnb": rate_old * flops / 1e9,
         "reference": peak / 1e9, "peer": "best matmul (same process)", "unit": "GFLOP/s",
         "ratio": rate_old * flops / peak, "goal": "(before)", "met": None},
    ]


def rows() -> list[dict]:
    d = data_dir(lambdas=(1.0, 10.0), analyses=("resolved", "boosted", "tthh"))
    out = _throughput_rows(d)
    print(*out, sep="\n", flush=True)
    return out


if __name__ == "__main__":
    import pandas as pd

    from hhnb.io.tables import text_table

    print(text_table(pd.DataFrame(rows())))
