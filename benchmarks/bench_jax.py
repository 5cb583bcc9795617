"""Training against a near-limit peer: the same network and training as a jitted JAX step (issue 28).

The peer trains what :func:`hhnb.nn.fit.fit` trains on the same events: log(1 + x) of the same heavy-tailed
columns, the same scaling (mean and variance of the training events), Dense 200 - dropout 0.3 - Dense 200 -
softmax, Glorot-uniform kernels and zero biases, the weighted sparse categorical cross-entropy summed over the
batch and divided by its size (Keras' ``sum_over_batch_size``), Adamax (Keras' update, beta 0.9 / 0.999,
epsilon 1e-7) at the same learning rate, batch 1000 in a seeded permutation per epoch (the last batch shorter),
the same class-balanced sample weights, and the same validation loss computed from a forward pass after each
epoch. Written by hand in ``jax.numpy`` (optax is not installed). Two ways to drive it are measured:

* ``scan``: one jitted call per epoch, ``lax.scan`` over the full batches (gathered inside the call), then
  one jitted step for the shorter last batch: the least host work JAX allows (the near-limit peer);
* ``step``: one jitted call per batch from a Python loop (the plain "jitted training step"; the batch is
  gathered inside the call, as in hhnb's loop).

Both sides run interleaved in this one process, best of the repeats (the machine is shared); the ratios are
events x epochs per second, for the whole fit (compilation / graph tracing included) and per epoch after the
first. :func:`profile` times the pieces of hhnb's step (``python benchmarks/bench_jax.py profile``).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_train import matmul_rate, n_params  # noqa: E402
from common import data_dir  # noqa: E402

from hhnb.config import analyses as config  # noqa: E402
from hhnb.config.training import HyperParameters  # noqa: E402
from hhnb.nn import backend, layers, loop, network  # noqa: E402
from hhnb.nn.fit import fit, validation_loss  # noqa: E402
from hhnb.nn.predict import predict  # noqa: E402
from hhnb.nn.training import training_arrays  # noqa: E402
from hhnb.stats import metrics  # noqa: E402

EPOCHS = int(__import__("os").environ.get("HHNB_BENCH_JAX_EPOCHS", 8))
REPEATS = int(__import__("os").environ.get("HHNB_BENCH_JAX_REPEATS", 2))
CASE = ("resolved", 1.0)


def arrays(analysis: str = CASE[0], kl: float = CASE[1]):
    """Training and validation events of the bench's toy split, with luminosity weights for the validation AUC."""
    ana = config.analysis(analysis)
    a = training_arrays(ana, kl, data_dir(lambdas=(1.0, 10.0), analyses=("resolved", "boosted", "tthh")), folds=1)
    w_auc = metrics.luminosity_weights(a.weight, a.frame["sample"].astype(str).to_numpy(), a.val)
    tr, va = a.train, a.val
    return (ana, a.x[tr].astype(np.float32), a.y[tr], a.sample_weight[tr].astype(np.float32),
            a.x[va].astype(np.float32), a.y[va], a.sample_weight[va], w_auc)


class JaxPeer:
    """hhnb's network and training (see the module docstring) as jitted JAX functions."""

    def __init__(self, x: np.ndarray, n_classes: int, hyper: HyperParameters):
        import jax
        import jax.numpy as jnp

        self.jax, self.jnp = jax, jnp
        self.hyper = hyper
        columns = layers.heavy_tailed_columns(x) if hyper.log_inputs else ()
        scaled = layers.log_columns(x, columns)
        self.mask = jnp.asarray(np.isin(np.arange(x.shape[1]), columns))
        self.mean = jnp.asarray(scaled.mean(axis=0, dtype=np.float64), jnp.float32)
        # Keras' Normalization: (x - mean) / max(sqrt(var), epsilon)
        self.std = jnp.asarray(np.maximum(np.sqrt(scaled.var(axis=0, dtype=np.float64)), 1e-7), jnp.float32)
        self.sizes = [x.shape[1], *hyper.widths, n_classes]
        self.rate = float(hyper.dropout)
        lr, b1, b2, eps = float(hyper.learning_rate), 0.9, 0.999, 1e-7

        def forward(params, xb, key, training: bool):
            h = jnp.where(self.mask, jnp.log(jnp.maximum(xb, 0.0) + 1.0), xb)
            h = (h - self.mean) / self.std
            for i, (kern, bias) in enumerate(params[:-1]):
                h = jax.nn.relu(h @ kern + bias)
                if i == 0 and training and self.rate > 0:
                    keep = jax.random.bernoulli(key, 1.0 - self.rate, h.shape)
                    h = jnp.where(keep, h / (1.0 - self.rate), 0.0)
            kern, bias = params[-1]
            return h @ kern + bias

        def loss_fn(params, xb, yb, wb, key):
            logp = jax.nn.log_softmax(forward(params, xb, key, True))
            nll = -jnp.take_along_axis(logp, yb[:, None], axis=1)[:, 0]
            return jnp.sum(wb * nll) / xb.shape[0]

        def step(state, xb, yb, wb):
            params, m, u, t, key = state
            key, sub = jax.random.split(key)
            loss, grads = jax.value_and_grad(loss_fn)(params, xb, yb, wb, sub)
            t = t + 1.0
            m = jax.tree.map(lambda mi, g: mi + (g - mi) * (1 - b1), m, grads)
            u = jax.tree.map(lambda ui, g: jnp.maximum(b2 * ui, jnp.abs(g)), u, grads)
            corr = 1.0 - b1 ** t
            params = jax.tree.map(lambda p, mi, ui: p - lr * mi / (corr * (ui + eps)), params, m, u)
            return (params, m, u, t, key), loss * xb.shape[0]

        def epoch(state, xs, ys, ws, idx):
            def body(carry, rows):
                return step(carry, xs[rows], ys[rows], ws[rows])
            state, losses = jax.lax.scan(body, state, idx)
            return state, jnp.sum(losses)

        self.step = jax.jit(lambda state, xs, ys, ws, rows: step(state, xs[rows], ys[rows], ws[rows]))
        self.epoch = jax.jit(epoch)
        self.probs = jax.jit(lambda params, xb: jax.nn.softmax(forward(params, xb, None, False)))

    def init(self, seed: int):
        """Glorot-uniform kernels, zero biases (Keras' Dense defaults), zero Adamax moments."""
        jnp = self.jnp
        rng = np.random.default_rng(seed)
        params = []
        for a, b in zip(self.sizes[:-1], self.sizes[1:]):
            limit = np.sqrt(6.0 / (a + b))
            params.append((jnp.asarray(rng.uniform(-limit, limit, (a, b)), jnp.float32), jnp.zeros(b, jnp.float32)))
        zeros = self.jax.tree.map(jnp.zeros_like, params)
        return (params, zeros, zeros, jnp.float32(0.0), self.jax.random.PRNGKey(seed))

    def fit(self, x, y, w, x_val, y_val, w_val, *, epochs: int, seed: int, mode: str = "scan") -> dict:
        """Train ``epochs`` epochs (no early stop); seconds of the whole fit, epoch ends, losses, final parameters."""
        jnp = self.jnp
        batch = int(self.hyper.batch_size)
        state = self.init(seed)
        xs, ys, ws = jnp.asarray(x), jnp.asarray(y.astype(np.int32)), jnp.asarray(w)
        xv = jnp.asarray(x_val)
        n = len(x)
        full = n // batch * batch
        rng = np.random.default_rng(seed)
        ends, losses, val = [], [], []
        t0 = time.perf_counter()
        for _ in range(epochs):
            order = rng.permutation(n).astype(np.int32)
            if mode == "scan":
                state, total = self.epoch(state, xs, ys, ws, jnp.asarray(order[:full].reshape(-1, batch)))
                total = float(total)
                if full < n:
                    rows = jnp.asarray(order[full:])
                    state, last = self.step(state, xs, ys, ws, rows)
                    total += float(last)
            else:
                total = 0.0
                for start in range(0, n, batch):
                    rows = jnp.asarray(order[start:start + batch])
                    state, part = self.step(state, xs, ys, ws, rows)
                    total += float(part)
            losses.append(total / n)
            val.append(validation_loss(np.asarray(self.probs(state[0], xv)), y_val, w_val))
            ends.append(time.perf_counter() - t0)
        return {"seconds": ends[-1], "ends": ends, "loss": losses, "val_loss": val, "params": state[0]}


def interleaved_epochs(x, y, sw, xv, yv, wv, n_classes: int, hyper: HyperParameters, epochs: int = 10) -> dict:
    """Seconds of one epoch (training steps + validation loss) of each side, alternating epoch by epoch.

    The finest interleaving the two allow: hhnb's own graph function (:func:`hhnb.nn.loop._steps_function`, the
    epoch's slices of ``steps_per_execution`` batches) and validation (``predict`` + ``validation_loss``), then one
    epoch of the JAX peer (``lax.scan`` + the last batch + its validation), and so on; each side traced / compiled
    before. The per-pair ratios show how much the machine's load moved between neighbouring epochs.
    """
    tf = backend.tensorflow()
    backend.set_seed(1)
    model = network.build(x, n_classes, hyper)
    run = loop._steps_function(model, x, y, sw, hyper.batch_size)
    peer = JaxPeer(x, n_classes, hyper)
    jnp = peer.jnp
    state = peer.init(1)
    xs, ys, ws, xvj = jnp.asarray(x), jnp.asarray(y.astype(np.int32)), jnp.asarray(sw), jnp.asarray(xv)
    n, batch = len(x), int(hyper.batch_size)
    per_call, full = batch * int(hyper.steps_per_execution), n // batch * batch
    rng = np.random.default_rng(1)

    def hhnb_epoch(order):
        total = 0.0
        for start in range(0, n, per_call):
            total += float(run(tf.constant(order[start:start + per_call].astype(np.int64))))
        return validation_loss(predict(model, xv), yv, wv)

    def jax_epoch(order):
        nonlocal state
        state, total = peer.epoch(state, xs, ys, ws, jnp.asarray(order[:full].reshape(-1, batch)))
        float(total)
        if full < n:
            state, last = peer.step(state, xs, ys, ws, jnp.asarray(order[full:]))
            float(last)
        return validation_loss(np.asarray(peer.probs(state[0], xvj)), yv, wv)

    times: dict[str, list[float]] = {"hhnb": [], "jax": []}
    for e in range(epochs + 1):
        order = rng.permutation(n).astype(np.int32)
        for name, one in (("hhnb", hhnb_epoch), ("jax", jax_epoch)):
            t0 = time.perf_counter()
            one(order)
            if e:  # the first epoch traces / compiles
                times[name].append(time.perf_counter() - t0)
    return times


def _steady(ends) -> float:
    return float(np.median(np.diff(ends)))


def _auc(y, probs, w) -> float:
    return metrics.roc((np.asarray(y) == 0).astype(int), np.asarray(probs)[:, 0], w).area


def rows() -> list[dict]:
    ana, x, y, sw, xv, yv, wv, w_auc = arrays()
    n = len(x)
    hyper = HyperParameters.scaled(ana.learning_rate, epochs=EPOCHS, patience=100)  # fixed epochs, no early stop
    flops = 6 * n_params(x.shape[1], hyper.widths, len(ana.classes))
    t = {"hhnb": [], "scan": [], "step": []}
    steady = {"hhnb": [], "scan": [], "step": []}
    first = {"hhnb": [], "scan": [], "step": []}  # the first epoch less a steady one: tracing / compilation
    limit, quality = [], {}
    for r in range(REPEATS):  # interleaved: every side sees the same load
        limit.append(matmul_rate(hyper.batch_size)[0])
        res = fit(x, y, sw, xv, yv, wv, len(ana.classes), hyper, seed=1)
        t["hhnb"].append(res.train_time_s)
        steady["hhnb"].append(res.steady_epoch_s)
        first["hhnb"].append(res.epoch_ends_s[0] - res.steady_epoch_s)
        for mode in ("scan", "step"):
            # a new peer per fit: its functions are compiled in every fit, as hhnb traces its graph in every fit
            peer = JaxPeer(x, len(ana.classes), hyper)
            out = peer.fit(x, y, sw, xv, yv, wv, epochs=EPOCHS, seed=1, mode=mode)
            t[mode].append(out["seconds"])
            steady[mode].append(_steady(out["ends"]))
            first[mode].append(out["ends"][0] - steady[mode][-1])
            if r == 0 and mode == "scan":
                quality["jax"] = (out["val_loss"][-1], min(out["val_loss"]),
                                  _auc(yv, peer.probs(out["params"], xv), w_auc))
        if r == 0:
            quality["hhnb"] = (res.history["val_loss"][-1], min(res.history["val_loss"]),
                               _auc(yv, predict(res.model, xv), w_auc))
        print(f"repeat {r}: " + ", ".join(f"{k} {v[-1]:.2f} s ({steady[k][-1]:.3f} s/epoch)" for k, v in t.items()),
              flush=True)
    peak = max(limit)
    rate = {k: n * EPOCHS / min(v) for k, v in t.items()}
    rate_epoch = {k: n / min(v) for k, v in steady.items()}
    (hl, hb, ha), (jl, jb, ja) = quality["hhnb"], quality["jax"]
    fixed = ", ".join(f"{k} {min(v):.1f} s" for k, v in first.items())
    same = (f"validation after {EPOCHS} epochs (seed 1): loss {hl:.4f} (best {hb:.4f}) vs {jl:.4f} ({jb:.4f}), "
            f"weighted AUC {ha:.4f} vs {ja:.4f}")
    setting = f"{CASE[0]} kl={CASE[1]:g}, {n} events x {EPOCHS} epochs, batch {hyper.batch_size}, Adamax lr " \
              f"{hyper.learning_rate:.4g}, {x.shape[1]}-{'-'.join(map(str, hyper.widths))}" \
              f"-{len(ana.classes)}"

    def reps(a, b, per_epoch=False):
        src = steady if per_epoch else t
        return ", ".join(f"{tb / ta:.2f}" for ta, tb in zip(src[a], src[b]))

    out = []
    for what, r_h, r_p, src in ((f"whole fit (fixed cost of a fit, graph tracing / XLA compilation: {fixed})",
                                 rate["hhnb"], rate["scan"], False),
                                ("per epoch after the first (median)", rate_epoch["hhnb"], rate_epoch["scan"], True)):
        ratio = r_h / r_p
        out.append({"benchmark": f"training {what}: hhnb.nn.loop vs the same network and training as jitted JAX, "
                                 f"lax.scan over the epoch ({setting}; repeats {reps('hhnb', 'scan', src)})",
                    "hhnb": r_h, "peer": "JAX (jit + lax.scan, same process)", "reference": r_p,
                    "unit": "events x epochs / s", "ratio": ratio, "goal": f">= 0.9; same training: {same}",
                    "met": ratio >= 0.9})
    alt = interleaved_epochs(x, y, sw, xv, yv, wv, len(ana.classes), hyper)
    pairs = np.array(alt["jax"]) / np.array(alt["hhnb"])
    ratio = min(alt["jax"]) / min(alt["hhnb"])
    out.append({"benchmark": f"training epoch (steps + validation loss) alternating epoch by epoch, best of "
                             f"{len(pairs)}: hhnb's graph function vs JAX lax.scan (per-pair ratios: median "
                             f"{np.median(pairs):.2f}, range {pairs.min():.2f}-{pairs.max():.2f}; best epochs "
                             f"{min(alt['hhnb']):.3f} s vs {min(alt['jax']):.3f} s)",
                "hhnb": n / min(alt["hhnb"]), "peer": "JAX (jit + lax.scan, same process)",
                "reference": n / min(alt["jax"]), "unit": "events x epochs / s", "ratio": ratio, "goal": ">= 0.9",
                "met": ratio >= 0.9})
    out.append({"benchmark": f"training per epoch: hhnb.nn.loop vs JAX with one jitted call per batch from Python "
                             f"(whole fit {rate['hhnb'] / rate['step']:.2f}; repeats {reps('hhnb', 'step', True)})",
                "hhnb": rate_epoch["hhnb"], "peer": "JAX (jitted step per batch)", "reference": rate_epoch["step"],
                "unit": "events x epochs / s", "ratio": rate_epoch["hhnb"] / rate_epoch["step"],
                "goal": "informational", "met": None})
    for who, key in (("hhnb.nn.loop", "hhnb"), ("JAX lax.scan", "scan"), ("JAX step per batch", "step")):
        frac_fit, frac_epoch = rate[key] * flops / peak, rate_epoch[key] * flops / peak
        out.append({"benchmark": f"{who} FLOP rate (6 x {flops // 6} params x events) vs the best of numpy / TensorFlow float32 "
                                 f"matmul (bench_train.matmul_rate), "
                                 f"same process: per epoch (whole fit {rate[key] * flops / 1e9:.1f} GFLOP/s, "
                                 f"fraction {frac_fit:.3f})",
                    "hhnb": rate_epoch[key] * flops / 1e9, "peer": "best matmul (same process)",
                    "reference": peak / 1e9, "unit": "GFLOP/s", "ratio": frac_epoch,
                    "goal": ">= 0.5 per epoch" if key == "hhnb" else "(peer's own fraction)",
                    "met": frac_epoch >= 0.5 if key == "hhnb" else None})
    return out


# --- where a step of hhnb's loop spends its time ---------------------------------------------------------------


def _variants(model, x, y, w, batch_size: int):
    """Graph functions over a slice of a permutation that stop after each piece of the step (each traced once).

    ``gather``: the batch cut only; ``forward``: + the forward pass and the loss; ``backward``: + the gradients;
    the full step (+ the optimizer update) is :func:`hhnb.nn.loop._steps_function` itself. Every variant feeds
    what it computed into its returned sum, so that TensorFlow cannot prune it.
    """
    tf = backend.tensorflow()
    xs, ys, ws = tf.constant(x, tf.float32), tf.constant(y), tf.constant(w, tf.float32)
    batch = tf.constant(int(batch_size), tf.int64)
    variables = model.trainable_variables

    def make(stage: str):
        @tf.function(input_signature=[tf.TensorSpec([None], tf.int64)])
        def run(idx):
            total = tf.constant(0.0, tf.float32)
            for start in tf.range(tf.constant(0, tf.int64), tf.size(idx, out_type=tf.int64), batch):
                rows = idx[start:start + batch]
                xb, yb, wb = tf.gather(xs, rows), tf.gather(ys, rows), tf.gather(ws, rows)
                if stage == "gather":
                    total += xb[0, 0] + wb[0] + tf.cast(yb[0], tf.float32)
                    continue
                with tf.GradientTape() as tape:
                    pred = model(xb, training=True)
                    loss = model.compute_loss(x=xb, y=yb, y_pred=pred, sample_weight=wb)
                if stage == "forward":
                    total += loss
                    continue
                grads = tape.gradient(loss, variables)
                total += loss + tf.add_n([g[0] if g.shape.rank == 1 else g[0, 0] for g in grads])
            return total
        return run

    return {stage: make(stage) for stage in ("gather", "forward", "backward")}


def profile(epochs: int = 8) -> list[dict]:
    """Seconds per epoch of each piece of hhnb's training (resolved, the bench's events, the defaults).

    Each variant is called over the same slices of an epoch's permutation as :func:`hhnb.nn.loop.train`
    (``steps_per_execution`` batches per call), best of ``epochs`` epochs after a first (tracing) call; the
    difference between consecutive variants is the cost of the piece added.
    """
    tf = backend.tensorflow()
    ana, x, y, sw, xv, yv, wv, _ = arrays()
    hyper = HyperParameters.scaled(ana.learning_rate)
    backend.set_seed(1)
    model = network.build(x, len(ana.classes), hyper)
    n, batch = len(x), hyper.batch_size
    per_call = batch * hyper.steps_per_execution
    steps = -(-n // batch)
    fns = _variants(model, x, y, sw, batch)
    fns["update (full step)"] = loop._steps_function(model, x, y, sw, batch)
    trivial = tf.function(lambda idx: tf.reduce_sum(idx), input_signature=[tf.TensorSpec([None], tf.int64)])
    rng = np.random.default_rng(1)
    orders = [rng.permutation(n).astype(np.int64) for _ in range(epochs + 1)]

    def epoch_time(fn, order):
        t0 = time.perf_counter()
        for start in range(0, n, per_call):
            float(fn(tf.constant(order[start:start + per_call])))
        return time.perf_counter() - t0

    best: dict[str, float] = {}
    for i, order in enumerate(orders):  # interleaved over epochs, the first one traces
        for name, fn in {"host round trips (trivial graph)": trivial, **fns}.items():
            s = epoch_time(fn, order)
            if i:
                best[name] = min(best.get(name, np.inf), s)
    val = []
    for _ in range(epochs):
        t0 = time.perf_counter()
        validation_loss(predict(model, xv), yv, wv)
        val.append(time.perf_counter() - t0)
    perm = []
    for _ in range(epochs):
        t0 = time.perf_counter()
        rng.permutation(n).astype(np.int64)
        perm.append(time.perf_counter() - t0)
    res = fit(x, y, sw, xv, yv, wv, len(ana.classes), HyperParameters.scaled(ana.learning_rate, epochs=epochs + 1,
                                                                              patience=100), seed=1)
    whole = float(np.min(np.diff(res.epoch_ends_s)))
    order_names = ["host round trips (trivial graph)", "gather", "forward", "backward", "update (full step)"]
    rows_, prev = [], 0.0
    for name in order_names:
        rows_.append({"piece": name if name == order_names[0] else f"+ {name}", "s_per_epoch": best[name] - prev,
                      "ms_per_step": 1e3 * (best[name] - prev) / steps})
        prev = best[name]
    rows_.append({"piece": "permutation of the epoch (numpy)", "s_per_epoch": min(perm),
                  "ms_per_step": 1e3 * min(perm) / steps})
    rows_.append({"piece": "validation loss (predict + numpy)", "s_per_epoch": min(val),
                  "ms_per_step": 1e3 * min(val) / steps})
    rest = whole - prev - min(val) - min(perm)
    rows_.append({"piece": "callbacks and the rest of fit's epoch", "s_per_epoch": rest, "ms_per_step": 1e3 * rest / steps})
    rows_.append({"piece": "fit's epoch (hhnb.nn.fit.fit, best)", "s_per_epoch": whole, "ms_per_step": 1e3 * whole / steps})
    flops = 6 * n_params(x.shape[1], hyper.widths, len(ana.classes)) * batch
    peak, _ = matmul_rate(batch)
    rows_.append({"piece": "arithmetic at the best matmul rate (numpy / TensorFlow)", "s_per_epoch": flops * steps / peak,
                  "ms_per_step": 1e3 * flops / peak})
    print(f"{n} events, {steps} steps per epoch, {hyper.steps_per_execution} steps per call")
    return rows_


if __name__ == "__main__":
    import pandas as pd

    from hhnb.io.tables import text_table

    if sys.argv[1:] == ["profile"]:
        print(text_table(pd.DataFrame(profile()), ".4g"))
    else:
        print(text_table(pd.DataFrame(rows()), ".4g"))
