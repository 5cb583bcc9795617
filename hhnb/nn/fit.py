"""One network trained: build it, run the training loop with early stopping on the validation loss, time it."""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from hhnb.config.training import HyperParameters
from hhnb.nn import backend, decorrelation, loop, network
from hhnb.nn import progress as _progress
from hhnb.nn.predict import predict


@dataclass(frozen=True)
class TrainResult:
    """A trained network and how it got there."""

    model: Any
    history: dict[str, list[float]]
    train_time_s: float
    epochs_run: int
    hyper: HyperParameters
    #: seconds from the start of ``fit`` to the end of each epoch: the first holds the one-time graph tracing,
    #: the differences after it are the steady per-epoch cost (benchmarks/bench_train.py)
    epoch_ends_s: tuple[float, ...] = ()

    @property
    def steady_epoch_s(self) -> float:
        """Median seconds per epoch after the first (no tracing); nan with fewer than 2 epochs."""
        return float(np.median(np.diff(self.epoch_ends_s))) if len(self.epoch_ends_s) > 1 else float("nan")


def fit(x: np.ndarray, y: np.ndarray, sample_weight: np.ndarray, x_val: np.ndarray, y_val: np.ndarray,
        w_val: np.ndarray, n_classes: int, hyper: HyperParameters, seed: int = 1,
        progress: bool | str = False, label: str = "", head: str = "dense", restore_best: bool = True,
        penalty: decorrelation.Penalty | None = None) -> TrainResult:
    """Build and train with early stopping on the validation set (best weights restored).

    The loop is :func:`hhnb.nn.loop.train` (Keras layers, loss, optimizer and callbacks; batches cut inside
    TensorFlow); ``hyper.steps_per_execution`` training steps run per TensorFlow call (any value learns the
    same weights, only the host round trips differ).

    ``progress``: one line per epoch (True), none (False), or ``"auto"`` (:func:`hhnb.nn.progress.enabled`:
    only where a person watches, JupyterLab or a terminal); ``label``: a line printed before the epoch lines when they are
    shown (which network of a k-fold set); ``head``: see :func:`hhnb.nn.network.build`;
    ``restore_best=False``: keep the last epoch's weights (the validation loss still stops the training).
    ``penalty``: the DisCo term (:mod:`hhnb.nn.decorrelation`), in the training loss of every batch and in the
    validation loss that early stopping reads.
    """
    k = backend.keras()
    backend.set_seed(seed)
    model = network.build(x, n_classes, hyper, head)
    stop = k.callbacks.EarlyStopping(monitor="val_loss", patience=hyper.patience, restore_best_weights=restore_best)
    # the validation loss comes from the forward pass predict() uses, not from Keras' evaluate: no second
    # training-style graph to trace per fit (about 1 s of each fit's fixed cost, benchmarks/bench_train.py)
    val = validation_callback()(x_val, y_val, w_val, penalty)
    t0 = time.perf_counter()
    ends: list[float] = []
    clock = k.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: ends.append(time.perf_counter() - t0))
    lines = [_progress.callback(hyper.epochs, label=label)] if _progress.enabled(progress) else []
    logged = loop.train(model, np.asarray(x, np.float32), y, np.asarray(sample_weight, np.float32), epochs=hyper.epochs,
                        batch_size=hyper.batch_size, steps_per_execution=hyper.steps_per_execution, seed=seed,
                        callbacks=[val, stop, clock, *lines], penalty=penalty)
    elapsed = time.perf_counter() - t0
    history = {key: [float(v) for v in vals] for key, vals in logged.items()}
    return TrainResult(model, history, elapsed, len(history.get("loss", [])), hyper, tuple(ends))


def validation_loss(probs: np.ndarray, y: np.ndarray, w: np.ndarray, eps: float = 1e-7) -> float:
    """Weighted sparse categorical cross-entropy as Keras reports it: mean over events of w * -log p(true class).

    Probabilities are clipped to [eps, 1 - eps] as Keras does.

    >>> round(validation_loss(np.array([[0.5, 0.5], [0.9, 0.1]]), np.array([0, 0]), np.array([1.0, 2.0])), 4)
    0.4519
    """
    p = np.clip(np.asarray(probs, np.float64)[np.arange(len(y)), np.asarray(y, int)], eps, 1.0 - eps)
    return float(np.mean(np.asarray(w, np.float64) * -np.log(p)))


@functools.cache
def validation_callback() -> type:
    """A Keras callback class writing ``val_loss`` into the epoch's logs before early stopping reads it."""
    k = backend.keras()

    class ValidationLoss(k.callbacks.Callback):
        def __init__(self, x, y, w, penalty=None):
            super().__init__()
            self.x, self.y, self.w = np.asarray(x, np.float32), np.asarray(y), np.asarray(w, np.float64)
            self.penalty = penalty

        def on_epoch_end(self, epoch, logs=None):
            if logs is not None:
                probs = predict(self.model, self.x)
                logs["val_loss"] = validation_loss(probs, self.y, self.w) + (
                    self.penalty.validation_term(probs[:, 0]) if self.penalty is not None else 0.0)

    return ValidationLoss
