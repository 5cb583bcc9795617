"""The training loop: Keras layers, loss, optimizer and callbacks, with the batches cut inside TensorFlow.

Why not ``model.fit``: at hhnb's sizes (20 inputs, 200 x 200, batch 1000) a step is about 1.3 ms of
arithmetic, and Keras' fit adds a ``tf.data`` iterator, an ``Optional`` and a ``tf.cond`` per step and
traces the step again for the last, shorter batch. Here the events stay in three tensors for the whole
training; each TensorFlow call runs ``steps_per_execution`` steps on a slice of the epoch's seeded
permutation (``tf.gather`` of the batch inside the graph, no copy per batch on the host), traced once for
every slice length. The loss is the model's compiled loss (``model.compute_loss``), the update the
compiled optimizer's, and the callbacks (early stopping, validation loss, progress) are Keras' own,
driven through ``keras.callbacks.CallbackList`` as ``fit`` drives them. Measured in
``benchmarks/bench_train.py`` (rows "training throughput" and "FLOP rate").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from hhnb.nn import backend, decorrelation


def _steps_function(model, x, y, w, batch_size: int, penalty: decorrelation.Penalty | None = None,
                    update: Callable[[list, list], Any] | None = None):
    """A graph function: run the training steps over the events ``idx`` (a slice of a permutation), batch by batch.

    Returns the sum over its batches of (mean batch loss x batch events), so that the epoch's loss is the
    event-weighted mean Keras' fit reports. ``penalty``: the DisCo term, strength x dCor^2(p_sig, masses) over the
    batch's background events (at most ``decorrelation.PENALTY_EVENTS``), added to each batch's loss.
    ``update(gradients, variables)``: the step's update (default the compiled optimizer's ``apply``; another is
    measured in benchmarks/fused_update.py).
    """
    tf = backend.tensorflow()
    xs, ys, ws = tf.constant(x, tf.float32), tf.constant(y), tf.constant(w, tf.float32)
    variables = model.trainable_variables
    optimizer = model.optimizer
    optimizer.build(variables)
    update = update or optimizer.apply
    batch = tf.constant(int(batch_size), tf.int64)
    if penalty is not None:
        ms = tf.constant(np.asarray(penalty.mass, np.float32).reshape(len(x), -1))
        pw = tf.constant(np.asarray(penalty.weight, np.float32))
        strength = tf.constant(float(penalty.strength), tf.float32)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.int64)])
    def run(idx):
        total = tf.constant(0.0, tf.float32)
        for start in tf.range(tf.constant(0, tf.int64), tf.size(idx, out_type=tf.int64), batch):
            rows = idx[start:start + batch]
            xb, yb, wb = tf.gather(xs, rows), tf.gather(ys, rows), tf.gather(ws, rows)
            with tf.GradientTape() as tape:
                pred = model(xb, training=True)
                loss = model.compute_loss(x=xb, y=yb, y_pred=pred, sample_weight=wb)
                if penalty is not None:
                    loss = loss + strength * decorrelation.batch_penalty(pred[:, 0], tf.gather(ms, rows),
                                                                         tf.gather(pw, rows))
            update(tape.gradient(loss, variables), variables)
            total += loss * tf.cast(tf.size(rows), tf.float32)
        return total

    return run


def train(model, x: np.ndarray, y: np.ndarray, sample_weight: np.ndarray, *, epochs: int, batch_size: int,
          steps_per_execution: int, seed: int, callbacks: list[Any],
          penalty: decorrelation.Penalty | None = None) -> dict[str, list[float]]:
    """Train ``model`` (compiled) for up to ``epochs`` epochs; returns the history (``loss`` and what callbacks log).

    Every epoch visits the events in a new permutation drawn from ``seed``; the batches are the same for any
    ``steps_per_execution`` (it only sets how many run per TensorFlow call), so the learned weights are too.
    """
    tf = backend.tensorflow()
    k = backend.keras()
    n = len(x)
    run = _steps_function(model, x, y, sample_weight, batch_size, penalty)
    per_call = int(batch_size) * int(steps_per_execution)
    history = k.callbacks.History()
    hooks = k.callbacks.CallbackList([*callbacks, history], model=model, epochs=epochs)
    rng = np.random.default_rng(seed)
    model.stop_training = False
    hooks.on_train_begin()
    for epoch in range(epochs):
        hooks.on_epoch_begin(epoch)
        order = rng.permutation(n).astype(np.int64)
        total = 0.0
        for start in range(0, n, per_call):
            total += float(run(tf.constant(order[start:start + per_call])))
        hooks.on_epoch_end(epoch, {"loss": total / max(n, 1)})
        if model.stop_training:
            break
    hooks.on_train_end()
    return history.history
