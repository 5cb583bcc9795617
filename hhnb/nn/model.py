"""The Keras network: scaling inside the model, build, train, save and load (never unpickled).

TensorFlow is imported only here, and only when a function needs it, so notebooks
that read saved scores start in a second.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hhnb.io.atomic import atomic_path
from hhnb.nn import progress as _progress


@contextlib.contextmanager
def _quiet_stderr():
    """Silence C++ log lines written straight to file descriptor 2 (TensorFlow's start-up chatter).

    They carry timestamps and PIDs, which would make notebook outputs differ between runs.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


@functools.cache
def keras():
    """Import Keras (TensorFlow backend) quietly; TensorFlow uses a GPU if one is visible."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    with _quiet_stderr():
        import keras as _keras  # noqa: PLC0415
        import tensorflow as tf  # noqa: PLC0415

        for var, setter in (("TF_NUM_INTRAOP_THREADS", tf.config.threading.set_intra_op_parallelism_threads),
                            ("TF_NUM_INTEROP_THREADS", tf.config.threading.set_inter_op_parallelism_threads)):
            if os.environ.get(var, "").isdigit():  # e.g. set per Dask worker by hhnb sweep
                setter(int(os.environ[var]))
        tf.config.list_physical_devices()
        tf.get_logger().setLevel("ERROR")
    _keras.utils.disable_interactive_logging()
    return _keras


def devices() -> list[str]:
    """The devices TensorFlow sees (``CPU:0``, ``GPU:0`` ...)."""
    keras()
    import tensorflow as tf  # noqa: PLC0415

    return [d.name.replace("/physical_device:", "") for d in tf.config.list_physical_devices()]


@dataclass(frozen=True)
class HyperParameters:
    """What defines one training: architecture, optimiser and schedule."""

    widths: tuple[int, ...] = (200, 200)
    dropout: float = 0.3
    learning_rate: float = 5e-3
    optimizer: str = "adamax"
    epochs: int = 20
    batch_size: int = 100
    patience: int = 5
    #: training steps run inside one TensorFlow call (Keras ``steps_per_execution``): fewer host round
    #: trips per epoch; the same batches in the same order, so the weights are bit-identical to 1
    #: (tests/test_model.py) and about 1.5-2.5x faster at batch 100 on 2 cores (benchmarks/bench_train.py).
    steps_per_execution: int = 64

    def __post_init__(self) -> None:
        checks = {
            "epochs": (int, 1, None), "batch_size": (int, 1, None), "patience": (int, 0, None),
            "steps_per_execution": (int, 1, None),
            "dropout": (float, 0.0, 0.95), "learning_rate": (float, 1e-12, 10.0),
        }
        for name, (kind, lo, hi) in checks.items():
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or (kind is int and int(v) != v):
                raise ValueError(f"hyper-parameter {name}={v!r}: expected {'an integer' if kind is int else 'a number'}")
            if v < lo or (hi is not None and v > hi):
                raise ValueError(f"hyper-parameter {name}={v!r}: expected a value in [{lo}, {hi if hi else 'inf'}]")
        widths = self.widths
        if not widths or any(isinstance(w, bool) or not isinstance(w, (int, float)) or w < 1 or int(w) != w
                             for w in widths):
            raise ValueError(f"hyper-parameter widths={widths!r}: expected a list of positive integers, e.g. [200, 200]")
        if not isinstance(self.optimizer, str):
            raise ValueError(f"hyper-parameter optimizer={self.optimizer!r}: expected a name such as 'adamax'")

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["widths"] = list(self.widths)
        return d


@dataclass(frozen=True)
class TrainResult:
    """A trained network and how it got there."""

    model: Any
    history: dict[str, list[float]]
    train_time_s: float
    epochs_run: int
    hyper: HyperParameters


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow, and make TensorFlow ops deterministic."""
    k = keras()
    k.utils.set_random_seed(int(seed))
    import tensorflow as tf  # noqa: PLC0415

    try:
        tf.config.experimental.enable_op_determinism()
    except Exception:  # pragma: no cover - older TF
        pass


def build(x_train: np.ndarray, n_classes: int, hyper: HyperParameters):
    """Input -> Normalization (adapted on the training set) -> Dense/Dropout -> softmax."""
    k = keras()
    inputs = k.Input(shape=(x_train.shape[1],), name="features")
    norm = k.layers.Normalization(name="scaling")
    norm.adapt(x_train.astype("float32"))
    x = norm(inputs)
    for i, width in enumerate(hyper.widths):
        x = k.layers.Dense(int(width), activation="relu", name=f"dense_{i}")(x)
        if i == 0 and hyper.dropout > 0:
            x = k.layers.Dropout(hyper.dropout, name="dropout")(x)
    outputs = k.layers.Dense(n_classes, activation="softmax", name="probabilities")(x)
    model = k.Model(inputs, outputs, name="hhnb_classifier")
    optimizers = {"adamax": k.optimizers.Adamax, "adam": k.optimizers.Adam, "sgd": k.optimizers.SGD,
                  "rmsprop": k.optimizers.RMSprop, "nadam": k.optimizers.Nadam}
    if hyper.optimizer.lower() not in optimizers:
        raise ValueError(f"unknown optimizer {hyper.optimizer!r}: expected one of {', '.join(optimizers)}")
    model.compile(optimizer=optimizers[hyper.optimizer.lower()](learning_rate=hyper.learning_rate),
                  loss="sparse_categorical_crossentropy", steps_per_execution=int(hyper.steps_per_execution))
    return model


def class_balanced_weights(labels: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Per-event training weights: every class with the same total, scaled to mean 1.

    (Adam-type optimisers are invariant to the overall scale; mean 1 keeps the loss readable.)

    >>> w = class_balanced_weights(np.array([0, 0, 1]), np.array([1.0, 1.0, 5.0]))
    >>> [round(float(v), 3) for v in w]
    [0.75, 0.75, 1.5]
    """
    labels = np.asarray(labels)
    weights = np.abs(np.asarray(weights, float))
    out = np.zeros_like(weights)
    for c in np.unique(labels):
        m = labels == c
        out[m] = weights[m] / weights[m].sum()
    return out / out.mean()


def fit(x: np.ndarray, y: np.ndarray, sample_weight: np.ndarray, x_val: np.ndarray, y_val: np.ndarray,
        w_val: np.ndarray, n_classes: int, hyper: HyperParameters, seed: int = 1,
        progress: bool | str = "auto", label: str = "") -> TrainResult:
    """Build and train with early stopping on the validation set (best weights restored).

    ``hyper.steps_per_execution`` training steps run per TensorFlow call (1 is Keras' default and
    the earlier behaviour; any value learns the same weights, only the host round trips differ).

    ``progress``: one line per epoch (True), none (False), or ``"auto"``: only in JupyterLab or a
    terminal, never under papermill, nbval or pytest (see :mod:`hhnb.nn.progress`); ``label``: a line
    printed before the epoch lines when they are shown (which network of a k-fold set).
    """
    k = keras()
    set_seed(seed)
    model = build(x, n_classes, hyper)
    stop = k.callbacks.EarlyStopping(monitor="val_loss", patience=hyper.patience, restore_best_weights=True)
    t0 = time.perf_counter()
    hist = model.fit(x.astype("float32"), y, sample_weight=sample_weight.astype("float32"),
                     validation_data=(x_val.astype("float32"), y_val, w_val.astype("float32")),
                     epochs=hyper.epochs, batch_size=hyper.batch_size, shuffle=True, verbose=0,
                     callbacks=[stop, *([_progress.callback(hyper.epochs, label=label)] if _progress.enabled(progress) else [])],
                     validation_batch_size=8192)
    elapsed = time.perf_counter() - t0
    history = {key: [float(v) for v in vals] for key, vals in hist.history.items()}
    return TrainResult(model, history, elapsed, len(history.get("loss", [])), hyper)


def predict(model, x: np.ndarray, batch_size: int = 65536) -> np.ndarray:
    """Class probabilities for raw (unscaled) inputs, in batches, without Keras' progress output."""
    import tensorflow as tf  # noqa: PLC0415

    x = np.asarray(x, dtype=np.float32)
    if len(x) == 0:
        return np.zeros((0, int(model.output_shape[-1])), np.float32)
    out = []
    fn = _compiled(model)
    for start in range(0, len(x), batch_size):
        out.append(fn(tf.constant(x[start:start + batch_size])).numpy())
    return np.concatenate(out)


def _compiled(model):
    """The model's graph-compiled forward pass, kept on the model itself (it dies with the model)."""
    import tensorflow as tf  # noqa: PLC0415

    fn = getattr(model, "_hhnb_predict", None)
    if fn is None:
        fn = tf.function(lambda t: model(t, training=False), reduce_retracing=True)
        model._hhnb_predict = fn
    return fn


def save(model, path: str | Path) -> Path:
    """Save a ``.keras`` file atomically (temporary name, then rename)."""
    path = Path(path)
    with atomic_path(path) as tmp:
        real = tmp.with_name(tmp.name + ".keras")
        model.save(real)
        os.replace(real, tmp)
    return path


def load(path: str | Path):
    """Load a ``.keras`` model with ``safe_mode=True`` (no arbitrary code, nothing unpickled)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"model file {path} does not exist")
    return keras().models.load_model(path, compile=False, safe_mode=True)


def versions() -> dict[str, str]:
    """Versions of the packages a model depends on, for its card."""
    import importlib.metadata as md  # noqa: PLC0415

    out = {}
    for name in ("hhnb", "tensorflow", "keras", "numpy", "uproot"):
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            pass
    return out
